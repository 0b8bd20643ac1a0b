"""The citizens' appeal pages: report a problem, track it, look it up by mobile, rate the reply.

Citizens mostly have no account. What proves an appeal is theirs is kept in the session:
the appeals they submitted or opened with number + query code, and the mobile number they
confirmed with an SMS code (for ``lookup.SESSION_VALID``). Every failure a stranger could use
to probe (a wrong number, a wrong code, a mobile without appeals) looks the same.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from minsheng.appeals import actions, lookup
from minsheng.appeals.errors import AppealError, Conflict
from minsheng.appeals.forms_citizen import (
    LookupCodeForm,
    LookupMobileForm,
    RatingForm,
    SubmitForm,
    TrackForm,
    new_form_key,
)
from minsheng.appeals.lookup import RateLimit
from minsheng.appeals.models import Appeal, AppealEvent, IdempotencyKey
from minsheng.appeals.numbers import check_query_code, hash_query_code
from minsheng.appeals.states import State
from minsheng.core.forms import client_ip
from minsheng.core.models import User
from minsheng.core.ratelimit import Limit
from minsheng.intelligence.similar import for_citizen

# New appeals from one address per hour: a service hall's shared connection stays well
# below it, a script flooding the form does not.
SUBMIT_PER_IP = RateLimit("submit-ip", 30, 3600)
# Wrong number/code pairs: per address, and per number so that one appeal's code cannot be
# guessed from many addresses.
TRACK_FAILURES_PER_IP = RateLimit("track-ip", 20, 900)
TRACK_FAILURES_PER_NUMBER = RateLimit("track-number", 5, 900)
# "Already reported" look-ups while a citizen types: a few per form, so a hall's shared
# address stays below it and a script reading the county's appeals does not.
SIMILAR_PER_IP = Limit("appeals-similar", 300, 600)
# Only the start of a long description is looked at: it names the problem.
SIMILAR_BODY_CHARS = 500

SESSION_CLIENT = "appeals_client"  # this browser's idempotency client id
SESSION_SUBMITTED = "appeals_submitted"  # {"id", "code"} of the last submission
SESSION_TRACKED = "appeals_tracked"  # ids the citizen submitted or opened with the code
SESSION_LOOKUP = "appeals_lookup"  # {"mobile", "until"}: a mobile confirmed by SMS code
SESSION_LOOKUP_PENDING = "appeals_lookup_pending"  # the mobile a code was sent to
MAX_TRACKED = 20

# The fields an action's validation error names, on the form's fields.
ACTION_FIELDS = {"division": "village"}


# ---------------------------------------------------------------- session helpers


def _client(request: HttpRequest) -> str:
    """A stable id for this browser's session, for the submission idempotency keys."""
    client = request.session.get(SESSION_CLIENT)
    if not client:
        client = secrets.token_hex(12)
        request.session[SESSION_CLIENT] = client
    return f"web:{client}"


def _remember(request: HttpRequest, appeal: Appeal) -> None:
    tracked = [pk for pk in request.session.get(SESSION_TRACKED, []) if pk != appeal.pk]
    request.session[SESSION_TRACKED] = [appeal.pk, *tracked][:MAX_TRACKED]


def _lookup_mobile(request: HttpRequest) -> str | None:
    data = request.session.get(SESSION_LOOKUP)
    if not data or data.get("until", 0) <= timezone.now().timestamp():
        return None
    mobile: str = data["mobile"]
    return mobile


def _may_see(request: HttpRequest, appeal: Appeal) -> bool:
    if appeal.pk in request.session.get(SESSION_TRACKED, []):
        return True
    mobile = _lookup_mobile(request)
    if mobile and appeal.citizen_mobile == mobile:
        return True
    user = request.user
    return user.is_authenticated and appeal.citizen_id == user.pk


def _user_or_none(request: HttpRequest) -> User | None:
    user = request.user
    return user if isinstance(user, User) and user.is_authenticated else None


# ---------------------------------------------------------------- submit


def _initial(request: HttpRequest) -> dict[str, Any]:
    initial: dict[str, Any] = {"form_key": new_form_key()}
    user = _user_or_none(request)
    if user is not None and not user.is_staff_member:
        initial.update(citizen_name=user.name, citizen_mobile=user.mobile)
    return initial


def _render_submit(request: HttpRequest, form: SubmitForm, status: int = 200) -> HttpResponse:
    # Browsers cannot put chosen files back into a form shown again: say so.
    files_lost = form.is_bound and bool(request.FILES) and "uploads" not in form.errors
    context = {"form": form, "files_lost": files_lost}
    return render(request, "appeals/citizen/submit.html", context, status=status)


def _renew_key(form: SubmitForm, request: HttpRequest) -> None:
    """Show the form again with a fresh key, so that the next click is a new submission."""
    data = request.POST.copy()
    data["form_key"] = new_form_key()
    form.data = data


def submit(request: HttpRequest) -> HttpResponse:
    client = _client(request)
    if request.method != "POST":
        return _render_submit(request, SubmitForm(initial=_initial(request)))

    ip = client_ip(request)
    key = request.POST.get("form_key", "")
    if (
        SUBMIT_PER_IP.exceeded(ip)
        and not IdempotencyKey.objects.filter(client=client, key=key).exists()
    ):
        form = SubmitForm(request.POST)
        form.is_valid()
        form.add_error(None, _("提交过于频繁，请过一会儿再试。如情况紧急，请拨打12345热线。"))
        return _render_submit(request, form, status=429)

    form = SubmitForm(request.POST, request.FILES)
    if not form.is_valid():
        if "form_key" in form.errors:  # a page from before, or a broken one
            _renew_key(form, request)
        return _render_submit(request, form)
    try:
        result = actions.submit(
            form.appeal_input(), by=_user_or_none(request), idempotency=(client, key)
        )
    except AppealError as error:
        if error.code == "idempotency_mismatch":
            # The page was submitted before and then changed (back button): the next click
            # is a new appeal, which is what the citizen now means.
            _renew_key(form, request)
            form.add_error(
                None,
                _("这张表已经提交过一次。如果要反映新的问题，请核对内容后再次点击“提交”。"),
            )
            return _render_submit(request, form)
        for name, field_messages in error.fields.items():
            field = ACTION_FIELDS.get(name, name)
            form.add_error(field if field in form.fields else None, field_messages)
        if not error.fields:
            form.add_error(None, error.message)
        return _render_submit(request, form)

    appeal = result.appeal
    previous = request.session.get(SESSION_SUBMITTED) or {}
    if result.replayed:
        # A double click or a resubmitted page: show the first submission again.
        code = previous.get("code") if previous.get("id") == appeal.pk else None
    else:
        SUBMIT_PER_IP.hit(ip)
        code = result.query_code
    request.session[SESSION_SUBMITTED] = {"id": appeal.pk, "code": code}
    _remember(request, appeal)
    return redirect("appeals:submitted")


@require_GET
def submitted(request: HttpRequest) -> HttpResponse:
    data = request.session.get(SESSION_SUBMITTED)
    appeal = Appeal.objects.filter(pk=data["id"]).first() if data else None
    if appeal is None:
        return redirect("appeals:submit")
    return render(
        request,
        "appeals/citizen/submitted.html",
        {"appeal": appeal, "code": data.get("code") if data else None},
    )


@require_GET
def villages(request: HttpRequest) -> HttpResponse:
    """The village select for the chosen town (htmx swaps it in when the town changes)."""
    form = SubmitForm(initial={"town": request.GET.get("town")})
    return render(request, "appeals/citizen/_village_field.html", {"form": form})


def _id_param(request: HttpRequest, name: str) -> int | None:
    value = request.GET.get(name, "")
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 12 else None


@require_GET
def similar(request: HttpRequest) -> HttpResponse:
    """The fragment "以下问题已有群众反映" that htmx puts under the form as it is filled in."""
    if not SIMILAR_PER_IP.hit(client_ip(request)):
        return HttpResponse(status=429)
    title = request.GET.get("title", "").strip()[:100]
    body = request.GET.get("body", "").strip()[:SIMILAR_BODY_CHARS]
    items = (
        for_citizen(title, body, _id_param(request, "town"), _id_param(request, "village"))
        if len(title) + len(body) >= 4
        else []
    )
    return render(request, "appeals/citizen/_similar.html", {"items": items})


# ---------------------------------------------------------------- track


def _track_refused(form: TrackForm, request: HttpRequest, status: int) -> HttpResponse:
    return render(request, "appeals/citizen/track.html", {"form": form}, status=status)


def track(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return render(request, "appeals/citizen/track.html", {"form": TrackForm()})
    form = TrackForm(request.POST)
    if not form.is_valid():
        return _track_refused(form, request, 200)
    ip = client_ip(request)
    number = form.cleaned_data["number"]
    if TRACK_FAILURES_PER_IP.exceeded(ip) or TRACK_FAILURES_PER_NUMBER.exceeded(number):
        form.add_error(None, _("查询失败次数过多，请15分钟后再试"))
        return _track_refused(form, request, 429)
    appeal = Appeal.objects.filter(number=number).first()
    code = form.cleaned_data["code"]
    # The hash is computed either way, so a wrong number answers as slowly as a wrong code.
    code_hash = appeal.query_code_hash if appeal is not None else hash_query_code("")
    if appeal is None or not check_query_code(code, code_hash):
        TRACK_FAILURES_PER_IP.hit(ip)
        TRACK_FAILURES_PER_NUMBER.hit(number)
        form.add_error(None, _("受理编号或查询码不正确，请核对后重新输入"))
        return _track_refused(form, request, 200)
    _remember(request, appeal)
    return redirect("appeals:status", number=appeal.number)


def _can_rate(appeal: Appeal) -> bool:
    return (
        appeal.state == State.REPLIED
        and not appeal.ratings.filter(round=appeal.rehandle_count).exists()
    )


@require_GET
def status(request: HttpRequest, number: str) -> HttpResponse:
    appeal = (
        Appeal.objects.filter(number=number)
        .select_related("category", "town", "division", "lead_department", "merged_into")
        .first()
    )
    if appeal is None or not _may_see(request, appeal):
        # The same for an unknown number and for someone else's appeal.
        messages.info(request, _("请输入受理编号和查询码查看办理进度"))
        return redirect("appeals:track")
    events: QuerySet[AppealEvent] = appeal.events.filter(public=True).select_related("department")
    can_rate = _can_rate(appeal)
    return render(
        request,
        "appeals/citizen/status.html",
        {
            "appeal": appeal,
            "events": events,
            "can_rate": can_rate,
            "rating_url": actions.rating_url(appeal) if can_rate else "",
            "rating": appeal.ratings.order_by("-round").first(),
            "show_reply": appeal.state in (State.REPLIED, State.CLOSED) and appeal.reply,
        },
    )


# ---------------------------------------------------------------- lookup by mobile


def lookup_start(request: HttpRequest) -> HttpResponse:
    mobile = _lookup_mobile(request)
    if mobile is not None and request.method != "POST":
        return render(
            request,
            "appeals/citizen/lookup_list.html",
            {"mobile": mobile, "appeals": lookup.appeals_for(mobile)},
        )
    form = LookupMobileForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        mobile = form.cleaned_data["mobile"]
        try:
            lookup.request_code(mobile, ip=client_ip(request))
        except lookup.LookupRefused as refused:
            if request.session.get(SESSION_LOOKUP_PENDING) == mobile:
                messages.error(request, refused.message)
                return redirect("appeals:lookup_verify")
            form.add_error(None, refused.message)
            return render(request, "appeals/citizen/lookup.html", {"form": form}, status=429)
        request.session[SESSION_LOOKUP_PENDING] = mobile
        return redirect("appeals:lookup_verify")
    return render(request, "appeals/citizen/lookup.html", {"form": form})


def lookup_verify(request: HttpRequest) -> HttpResponse:
    mobile = request.session.get(SESSION_LOOKUP_PENDING)
    if not mobile:
        return redirect("appeals:lookup")
    if request.method == "POST" and "resend" in request.POST:
        try:
            lookup.request_code(mobile, ip=client_ip(request))
        except lookup.LookupRefused as refused:
            messages.error(request, refused.message)
        else:
            messages.success(request, _("验证码已重新发送"))
        return redirect("appeals:lookup_verify")
    form = LookupCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            lookup.verify_code(mobile, form.cleaned_data["code"], ip=client_ip(request))
        except lookup.LookupRefused as refused:
            form.add_error("code", refused.message)
        else:
            until = timezone.now() + lookup.SESSION_VALID
            request.session[SESSION_LOOKUP] = {"mobile": mobile, "until": until.timestamp()}
            del request.session[SESSION_LOOKUP_PENDING]
            return redirect("appeals:lookup")
    return render(request, "appeals/citizen/lookup_verify.html", {"form": form, "mobile": mobile})


@require_POST
def lookup_end(request: HttpRequest) -> HttpResponse:
    request.session.pop(SESSION_LOOKUP, None)
    request.session.pop(SESSION_LOOKUP_PENDING, None)
    return redirect("appeals:lookup")


# ---------------------------------------------------------------- rate


def rate(request: HttpRequest, token: str) -> HttpResponse:
    try:
        appeal = actions.appeal_for_rating_token(token)
    except AppealError as error:
        return render(
            request,
            "appeals/citizen/rate_unavailable.html",
            {"expired": error.code == "link_expired"},
        )
    # Whoever holds the link may follow the appeal's progress afterwards.
    _remember(request, appeal)
    if not _can_rate(appeal):
        return _rated(request, appeal)
    form = RatingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.rate(
                token,
                resolved=form.cleaned_data["resolved"],
                level=form.cleaned_data["level"],
                comment=form.cleaned_data["comment"],
            )
        except Conflict:
            return _rated(request, appeal)
        except AppealError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("感谢您的评价！"))
            return redirect(reverse("appeals:rate", args=[token]))
    return render(request, "appeals/citizen/rate.html", {"appeal": appeal, "form": form})


def _rated(request: HttpRequest, appeal: Appeal) -> HttpResponse:
    appeal.refresh_from_db()
    return render(
        request,
        "appeals/citizen/rate_done.html",
        {"appeal": appeal, "rating": appeal.ratings.order_by("-round").first()},
    )


# ---------------------------------------------------------------- my appeals


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    appeals = Appeal.objects.filter(citizen_id=request.user.pk).select_related("category", "town")
    return render(request, "appeals/citizen/mine.html", {"appeals": appeals})
