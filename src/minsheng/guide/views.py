"""The guide's pages: kiosk (/guide/kiosk/) and phone (/guide/), their htmx fragments,
and the staff report of questions that found nothing or did not help.

Every fragment view also answers a plain form post with the whole page, so the guide
works without JavaScript too.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from minsheng.core import policy
from minsheng.core.forms import client_ip
from minsheng.guide import actions, service, throttle
from minsheng.guide.forms import SynonymForm
from minsheng.guide.models import QuestionLog, Synonym

SALT = "minsheng.guide.log"
# The kiosk goes back to its home screen after this many seconds without a touch.
KIOSK_IDLE_SECONDS = 90
CHANNELS = {"kiosk", "phone"}


def _channel(request: HttpRequest) -> str:
    value = request.POST.get("channel") or request.GET.get("channel") or "phone"
    return value if value in CHANNELS else "phone"


def _template(channel: str) -> str:
    return "guide/kiosk.html" if channel == "kiosk" else "guide/phone.html"


def _log_token(log: QuestionLog | None) -> str:
    return signing.dumps(log.pk, salt=SALT) if log is not None else ""


def _log_id(token: str) -> int | None:
    try:
        return int(signing.loads(token, salt=SALT, max_age=24 * 3600))
    except (signing.BadSignature, TypeError, ValueError):
        return None


def _page_context(channel: str) -> dict[str, Any]:
    return {
        "channel": channel,
        "high_frequency": service.high_frequency(),
        "idle_seconds": KIOSK_IDLE_SECONDS,
        "home_url": reverse("guide:kiosk"),
        "consult_phone": service.consult_phone(),
    }


def _answer_context(
    channel: str, *, asked: service.Asked | None = None, code: str = "", token: str = ""
) -> dict[str, Any]:
    ctx: dict[str, Any] = {"channel": channel, "log_token": token}
    if asked is not None:
        answer = asked.answer
        ctx.update(question=answer.question, kind=answer.kind, log_token=_log_token(asked.log))
        if answer.kind == "match" and answer.best is not None:
            code = answer.best.code
            ctx["explanation"] = service.explain(answer.best)
        elif answer.kind == "clarify":
            ctx["candidates"] = service.matters([r.code for r in answer.candidates])
        else:
            ctx["high_frequency"] = service.high_frequency(8)
            ctx["consult_phone"] = service.consult_phone()
    if code:
        m = service.matter(code)
        if m is None:
            ctx.update(kind="none", high_frequency=service.high_frequency(8))
            ctx["consult_phone"] = service.consult_phone()
        else:
            hall = m.effective_hall()
            ctx.update(
                kind="match",
                matter=m,
                hall=hall,
                spoken=service.spoken(m),
                opening_hours=m.opening_hours or (hall.opening_hours if hall else ""),
                consult_phone=service.consult_phone(m),
            )
    return ctx


def _respond(
    request: HttpRequest, channel: str, ctx: dict[str, Any], status: int = 200
) -> HttpResponse:
    if request.headers.get("HX-Request"):
        return render(request, "guide/_answer.html", ctx, status=status)
    page = _page_context(channel)
    # A rendered template (autoescaped), so safe to insert as is.
    page["answer_html"] = render_to_string("guide/_answer.html", ctx, request=request)
    return render(request, _template(channel), page, status=status)


def _idle_seconds(request: HttpRequest) -> int | None:
    """A kiosk's own idle time, set in its start URL (``/guide/kiosk/?idle=60``)."""
    try:
        value = int(request.GET.get("idle", ""))
    except ValueError:
        return None
    return min(max(value, 1), 3600)


@require_GET
def kiosk(request: HttpRequest) -> HttpResponse:
    ctx = _page_context("kiosk")
    idle = _idle_seconds(request)
    if idle is not None:
        ctx["idle_seconds"] = idle
        ctx["home_url"] = f"{reverse('guide:kiosk')}?idle={idle}"
    return render(request, "guide/kiosk.html", ctx)


@require_GET
def phone(request: HttpRequest) -> HttpResponse:
    return render(request, "guide/phone.html", _page_context("phone"))


@require_http_methods(["GET", "POST"])
def ask(request: HttpRequest) -> HttpResponse:
    channel = _channel(request)
    question = (request.POST.get("q") or request.GET.get("q") or "").strip()
    if not question:
        return _respond(request, channel, {"channel": channel, "kind": "empty"})
    if not throttle.hit(client_ip(request)):
        ctx = {"channel": channel, "kind": "limited", "seconds": throttle.seconds_left()}
        return _respond(request, channel, ctx, status=429)
    asked = service.ask(question, channel=channel)
    return _respond(request, channel, _answer_context(channel, asked=asked))


@require_http_methods(["GET", "POST"])
def show(request: HttpRequest, code: str) -> HttpResponse:
    """One matter's answer: a high-frequency button or a clarifying choice."""
    channel = _channel(request)
    token = request.POST.get("log") or request.GET.get("log") or ""
    log_id = _log_id(token) if token else None
    if log_id is not None and request.method == "POST":
        actions.record_choice(log_id, code)
    return _respond(request, channel, _answer_context(channel, code=code, token=token))


@require_POST
def feedback(request: HttpRequest) -> HttpResponse:
    channel = _channel(request)
    log_id = _log_id(request.POST.get("log", ""))
    recorded = False
    if log_id is not None:
        recorded = actions.record_feedback(log_id, request.POST.get("helpful") == "1")
    ctx = {"recorded": recorded, "helpful": request.POST.get("helpful") == "1"}
    if request.headers.get("HX-Request"):
        return render(request, "guide/_feedback_done.html", ctx)
    messages.success(request, _("谢谢您的评价。") if recorded else _("这个问题已经评价过了。"))
    return redirect("guide:kiosk" if channel == "kiosk" else "guide:phone")


# --------------------------------------------------------------------------- staff


@login_required
@require_GET
def report(request: HttpRequest) -> HttpResponse:
    policy.require(request.user, "guide.report")
    which = request.GET.get("show", "all")
    logs = QuestionLog.objects.all()
    if which == "none":
        logs = logs.filter(kind=QuestionLog.Kind.NONE)
    elif which == "unhelpful":
        logs = logs.filter(feedback=QuestionLog.Feedback.UNHELPFUL)
    else:
        which = "all"
        logs = logs.filter(
            Q(kind=QuestionLog.Kind.NONE) | Q(feedback=QuestionLog.Feedback.UNHELPFUL)
        )
    page = Paginator(logs, 50).get_page(request.GET.get("page"))
    totals = {
        "asked": QuestionLog.objects.count(),
        "none": QuestionLog.objects.filter(kind=QuestionLog.Kind.NONE).count(),
        "unhelpful": QuestionLog.objects.filter(feedback=QuestionLog.Feedback.UNHELPFUL).count(),
        "helpful": QuestionLog.objects.filter(feedback=QuestionLog.Feedback.HELPFUL).count(),
    }
    return render(
        request,
        "guide/report.html",
        {
            "page": page,
            "show": which,
            "totals": totals,
            "can_edit": policy.can(request.user, "guide.synonym_edit"),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def synonyms(request: HttpRequest) -> HttpResponse:
    policy.require(request.user, "guide.synonym_edit")
    if request.method == "POST":
        form = SynonymForm(request.POST)
        if form.is_valid():
            try:
                syn = actions.add_synonym(
                    request.user,  # type: ignore[arg-type]
                    form.cleaned_data["phrase"],
                    form.cleaned_data["official"],
                    form.cleaned_data["note"],
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                messages.success(request, _("已保存同义词：%(syn)s") % {"syn": syn})
                return redirect("guide:synonyms")
    else:
        form = SynonymForm(initial={"phrase": request.GET.get("phrase", "")[:64]})
    query = request.GET.get("q", "").strip()
    rows = Synonym.objects.all()
    if query:
        rows = rows.filter(Q(phrase__contains=query) | Q(official__contains=query))
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "guide/synonyms.html", {"form": form, "page": page, "q": query})


@login_required
@require_POST
def synonym_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    syn = actions.set_synonym_active(
        request.user,  # type: ignore[arg-type]
        pk,
        request.POST.get("active") == "1",
    )
    messages.success(request, _("已更新：%(syn)s") % {"syn": syn})
    return redirect("guide:synonyms")
