"""Staff pages of 好差评: my window (办件, pad binding, my ratings, 申诉), the receipt with
its QR code, the 差评 board and case pages, appeals, the 12345 rating form."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from minsheng.core import policy
from minsheng.core.masking import mask_mobile
from minsheng.core.models import User
from minsheng.evaluation import actions, qr
from minsheng.evaluation.errors import EvaluationError
from minsheng.evaluation.forms import (
    AppealForm,
    ClassifyForm,
    FeedbackForm,
    HotlineForm,
    NoteForm,
    RectifyForm,
    StartEventForm,
)
from minsheng.evaluation.models import Case, PadDevice, Rating, ServiceEvent, StaffAppeal, overdue_q
from minsheng.evaluation.states import OPEN_STATES, CaseState

PAGE_SIZE = 30


def staff_user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    if not user.is_staff_member:
        raise PermissionDenied("staff only")
    return user


def _say(request: HttpRequest, error: EvaluationError) -> None:
    messages.error(request, error.message)


def _matters(user: User) -> list[tuple[int, str]]:
    from minsheng.catalog.models import ServiceMatter

    qs = ServiceMatter.objects.filter(active=True)
    if user.window_id:
        by_window = qs.filter(windows=user.window_id)
        if by_window.exists():
            qs = by_window
        elif user.department_id:
            qs = qs.filter(department_id=user.department_id)
    elif user.department_id:
        qs = qs.filter(department_id=user.department_id)
    return list(qs.order_by("code").values_list("pk", "name")[:200])


# ---------------------------------------------------------------- my window


@login_required
def window(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    policy.require(user, "evaluation.event.create")
    form = StartEventForm(matters=_matters(user))
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    events = (
        ServiceEvent.objects.filter(staff=user, started_at__gte=today)
        .select_related("matter", "rating")
        .order_by("-started_at")[:50]
    )
    # The staff member sees the ratings of their own services, never who gave them.
    ratings = (
        Rating.objects.filter(staff=user)
        .select_related("event__matter")
        .prefetch_related("appeals")
        .order_by("-created_at")[:30]
    )
    pads = PadDevice.objects.filter(window=user.window, active=True) if user.window_id else []
    new_pad = request.session.pop("evaluation_new_pad", None)
    pad_url = ""
    pad_qr = ""
    if new_pad and user.window_id:
        pad_url = (
            settings.SITE_URL
            + reverse("evaluation:pad", args=[user.window_id])
            + "#token="
            + new_pad
        )
        pad_qr = qr.svg(pad_url)
    return render(
        request,
        "evaluation/staff/window.html",
        {
            "form": form,
            "events": events,
            "ratings": ratings,
            "pads": pads,
            "pad_url": pad_url,
            "pad_qr": pad_qr,
            "can_appeal": policy.can(user, "evaluation.appeal.file"),
            "appeal_form": AppealForm(),
        },
    )


@login_required
@require_POST
def start(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    form = StartEventForm(request.POST, matters=_matters(user))
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(str(e) for e in errors))
        return redirect("evaluation:window")
    try:
        event = actions.start_event(
            by=user, matter_id=form.cleaned_data["matter"], mobile=form.cleaned_data["mobile"] or ""
        )
    except EvaluationError as error:
        _say(request, error)
    else:
        messages.success(
            request, _("已开始办件 %(n)s，请办事群众在评价器上评价") % {"n": event.number}
        )
    return redirect("evaluation:window")


@login_required
@require_POST
def finish(request: HttpRequest, pk: int) -> HttpResponse:
    user = staff_user(request)
    try:
        event = actions.finish_event(pk, by=user)
    except EvaluationError as error:
        _say(request, error)
        return redirect("evaluation:window")
    messages.success(request, _("已办结 %(n)s") % {"n": event.number})
    return redirect("evaluation:receipt", pk=event.pk)


@login_required
@require_POST
def bind_pad(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    if not user.window_id:
        messages.error(request, _("您还没有分配窗口，请联系管理员"))
        return redirect("evaluation:window")
    try:
        _pad, raw = actions.bind_pad(user.window_id, by=user, name=request.POST.get("name", ""))
    except EvaluationError as error:
        _say(request, error)
    else:
        # Shown once on the next page (as a link and QR code to open on the tablet).
        request.session["evaluation_new_pad"] = raw
    return redirect("evaluation:window")


@login_required
def receipt(request: HttpRequest, pk: int) -> HttpResponse:
    user = staff_user(request)
    event = policy.get_object(
        user,
        ServiceEvent.objects.select_related("department", "window__hall", "matter", "staff"),
        "evaluation.event.view",
        pk=pk,
    )
    link = settings.SITE_URL + actions.link_url(event)
    return render(
        request,
        "evaluation/staff/receipt.html",
        {"event": event, "link": link, "qr": qr.svg(link), "mobile": mask_mobile(event.mobile)},
    )


@login_required
@require_POST
def file_appeal(request: HttpRequest, rating_id: int) -> HttpResponse:
    user = staff_user(request)
    form = AppealForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请写明申诉理由"))
        return redirect("evaluation:window")
    try:
        actions.file_appeal(rating_id, by=user, reason=form.cleaned_data["reason"])
    except EvaluationError as error:
        _say(request, error)
    else:
        messages.success(request, _("申诉已提交，等待督查室审核"))
    return redirect("evaluation:window")


# ---------------------------------------------------------------- 差评 cases


@login_required
def cases(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    qs = policy.visible(
        user,
        Case.objects.select_related("department", "rating__event__matter"),
        "evaluation.case.view",
    )
    if not policy.can(user, "evaluation.case.view"):
        raise PermissionDenied("evaluation.case.view")
    show = request.GET.get("show", "open")
    now = timezone.now()
    if show == "overdue":
        qs = qs.filter(overdue_q(now))
    elif show == "open":
        qs = qs.filter(state__in=OPEN_STATES)
    elif show in CaseState.values:
        qs = qs.filter(state=show)
    page = Paginator(qs.order_by("rectify_due_at", "pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    overdue = (
        policy.visible(user, Case.objects.all(), "evaluation.case.view")
        .filter(overdue_q(now))
        .count()
    )
    return render(
        request,
        "evaluation/staff/cases.html",
        {
            "page": page,
            "show": show,
            "states": CaseState.choices,
            "overdue_count": overdue,
            "now": now,
        },
    )


CASE_FORMS: dict[str, Any] = {
    "verify": NoteForm,
    "classify": ClassifyForm,
    "rectify": RectifyForm,
    "feedback": FeedbackForm,
    "review": NoteForm,
}
CASE_ACTIONS = {
    "verify": ("evaluation.case.verify", CaseState.VERIFYING),
    "classify": ("evaluation.case.classify", CaseState.CLASSIFYING),
    "rectify": ("evaluation.case.rectify", CaseState.RECTIFYING),
    "feedback": ("evaluation.case.feedback", CaseState.FEEDBACK),
    "review": ("evaluation.case.review", CaseState.REVIEWING),
}


@login_required
def case(request: HttpRequest, pk: int) -> HttpResponse:
    user = staff_user(request)
    obj = policy.get_object(
        user,
        Case.objects.select_related(
            "department", "rating__event__matter", "rating__event__window__hall"
        ),
        "evaluation.case.view",
        pk=pk,
    )
    available = [
        (name, CASE_FORMS[name]())
        for name, (action, state) in CASE_ACTIONS.items()
        if obj.state == state and policy.can(user, action, obj)
    ]
    rating = obj.rating
    return render(
        request,
        "evaluation/staff/case.html",
        {
            "case": obj,
            "rating": rating,
            "event": rating.event,
            "mobile": mask_mobile(rating.event.mobile),
            "available": available,
            "overdue": obj.is_overdue(),
            "audit": _case_history(obj),
        },
    )


def _case_history(obj: Case) -> list[Any]:
    from minsheng.core.models import AuditEvent

    return list(
        AuditEvent.objects.filter(object_type="evaluation.case", object_id=str(obj.pk)).order_by(
            "seq"
        )
    )


@login_required
@require_POST
def case_act(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    user = staff_user(request)
    if name not in CASE_FORMS:
        raise PermissionDenied(name)
    form = CASE_FORMS[name](request.POST)
    version = request.POST.get("version")
    expected = int(version) if version and version.isdigit() else None
    if not form.is_valid():
        messages.error(request, _("请检查填写的内容"))
        return redirect("evaluation:case", pk=pk)
    data = form.cleaned_data
    try:
        if name == "verify":
            actions.verify_case(pk, by=user, note=data["note"], expected_version=expected)
        elif name == "classify":
            actions.classify_case(
                pk, by=user, finding=data["finding"], note=data["note"], expected_version=expected
            )
        elif name == "rectify":
            actions.rectify_case(
                pk,
                by=user,
                measures=data["measures"],
                evidence=data["evidence"],
                expected_version=expected,
            )
        elif name == "feedback":
            actions.feedback_case(
                pk, by=user, note=data["note"], level=data["level"], expected_version=expected
            )
        else:
            actions.review_case(
                pk,
                by=user,
                approve="approve" in request.POST,
                note=data["note"],
                expected_version=expected,
            )
    except EvaluationError as error:
        _say(request, error)
    else:
        messages.success(request, _("已保存"))
    return redirect("evaluation:case", pk=pk)


# ---------------------------------------------------------------- staff appeals


@login_required
def appeals(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    policy.require(user, "evaluation.appeal.decide")
    pending = StaffAppeal.objects.filter(decision=StaffAppeal.Decision.PENDING).select_related(
        "rating__event__matter", "filed_by", "department"
    )
    decided = StaffAppeal.objects.exclude(decision=StaffAppeal.Decision.PENDING).select_related(
        "rating__event", "filed_by", "department"
    )[:30]
    return render(
        request,
        "evaluation/staff/appeals.html",
        {"pending": pending, "decided": decided, "form": NoteForm()},
    )


@login_required
@require_POST
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    user = staff_user(request)
    try:
        actions.decide_appeal(
            pk, by=user, upheld="uphold" in request.POST, note=request.POST.get("note", "")
        )
    except EvaluationError as error:
        _say(request, error)
    else:
        messages.success(request, _("已审核"))
    return redirect("evaluation:appeals")


# ---------------------------------------------------------------- 12345 hotline


@login_required
def hotline(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    policy.require(user, "evaluation.hotline")
    form = HotlineForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        event = actions.event_by_number(form.cleaned_data["number"])
        if event is None:
            form.add_error("number", _("找不到该办件，请核对编号"))
        else:
            try:
                actions.rate_by_hotline(event.pk, form.rating_input(), by=user)
            except EvaluationError as error:
                for field, errors in error.fields.items():
                    form.add_error(field if field in form.fields else None, errors)
                if not error.fields:
                    form.add_error(None, error.message)
            else:
                messages.success(request, _("已记录办件 %(n)s 的电话评价") % {"n": event.number})
                return redirect("evaluation:hotline")
    return render(request, "evaluation/staff/hotline.html", {"form": form})
