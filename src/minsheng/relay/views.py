"""Pages of the proxy service: the staff list with its figures and Excel export, opening a
case, the case page (relay timeline, materials checklist, the steps the user may take), and
the citizens' progress query by case number and the mobile's last four digits."""

from __future__ import annotations

import hmac
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from minsheng.appeals import exports
from minsheng.catalog.models import ServiceMatter
from minsheng.core import access, audit, masking, policy
from minsheng.core.forms import client_ip
from minsheng.core.models import Department, Division, User
from minsheng.core.models.org import DEPARTMENT_ROLES
from minsheng.core.ratelimit import Limit
from minsheng.evaluation.models import Rating
from minsheng.relay import actions, figures
from minsheng.relay.forms import CaseForm, FilterForm, TrackForm
from minsheng.relay.models import CaseQuerySet, Handover, RelayCase

PAGE_SIZE = 50
# Wrong number/digits pairs: per address, and per number so that four digits cannot be
# tried from many addresses (10 000 possibilities, 5 tries per quarter of an hour).
TRACK_FAILURES_PER_IP = Limit("relay-track-ip", 20, 900)
TRACK_FAILURES_PER_NUMBER = Limit("relay-track-number", 5, 900)


def _user(request: HttpRequest, action: str) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required ran first
    if not policy.can(user, action):
        raise PermissionDenied(action)
    return user


def _visible(user: User) -> QuerySet[RelayCase]:
    return policy.visible(user, RelayCase.objects.all(), "relay.view")


def _filtered(request: HttpRequest, user: User) -> tuple[QuerySet[RelayCase], FilterForm]:
    cases = _visible(user).select_related(
        "matter", "origin_department", "holder_department", "event__rating"
    )
    form = FilterForm(request.GET)
    if form.is_valid():
        data = form.cleaned_data
        if data["state"]:
            cases = cases.filter(state=data["state"])
        if data["level"]:
            cases = cases.filter(holder_level=data["level"])
        if data["overdue"]:
            cases = cast(CaseQuerySet, cases).overdue()
        if data["number"]:
            cases = cases.filter(number__icontains=data["number"].strip())
    return cases, form


def _can_open(user: User) -> bool:
    """Proxy workers belong to a town government (street office); admins may open for any."""
    if not policy.can(user, "relay.operate"):
        return False
    if user.role not in DEPARTMENT_ROLES:
        return True
    return user.department is not None and user.department.kind == Department.Kind.TOWN


@login_required
def index(request: HttpRequest) -> HttpResponse:
    user = _user(request, "relay.view")
    cases, form = _filtered(request, user)
    visible = _visible(user)
    now = timezone.now()
    towns = figures.by_town(visible, now)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "relay/index.html",
        {
            "form": form,
            "page": Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page")),
            "query": query.urlencode(),
            "states": figures.by_state(visible),
            "total": figures.total(towns),
            "towns": towns,
            "matters": figures.by_matter(visible, now)[:10],
            "now": now,
            "can_open": _can_open(user),
        },
    )


def _rating_label(case: RelayCase) -> str:
    rating = getattr(case.event, "rating", None) if case.event is not None else None
    return rating.get_level_display() if rating is not None else ""


@login_required
def export(request: HttpRequest) -> HttpResponse:
    """The filtered list as Excel (audited). Citizens appear masked, whoever exports."""
    user = _user(request, "relay.view")
    cases, _form = _filtered(request, user)
    now = timezone.now()

    def local(value: Any) -> Any:
        return timezone.localtime(value).replace(tzinfo=None) if value is not None else None

    table = exports.Table(
        name=_("代办件台账"),
        columns=[
            exports.Column(_("代办编号"), 20, lambda c: c.number),
            exports.Column(_("办理事项"), 30, lambda c: c.matter.name),
            exports.Column(_("群众"), 10, lambda c: masking.mask_name(c.citizen_name)),
            exports.Column(_("手机号"), 14, lambda c: masking.mask_mobile(c.mobile)),
            exports.Column(_("代办乡镇"), 16, lambda c: c.origin_department.label),
            exports.Column(_("状态"), 18, lambda c: c.get_state_display()),
            exports.Column(_("当前环节"), 12, lambda c: c.get_holder_level_display()),
            exports.Column(_("当前经办单位"), 20, lambda c: c.holder_department.label),
            exports.Column(_("受理时间"), 17, lambda c: local(c.opened_at)),
            exports.Column(_("本环节期限"), 17, lambda c: local(c.due_at)),
            exports.Column(_("超期"), 6, lambda c: _("是") if c.is_overdue(now) else ""),
            exports.Column(_("办结时间"), 17, lambda c: local(c.completed_at)),
            exports.Column(_("评价"), 10, _rating_label),
        ],
        rows=cases.iterator(chunk_size=500),
        personal=False,
    )
    content = exports.to_xlsx(table)
    audit.record(
        user,
        "relay.exported",
        object_type=RelayCase._meta.label_lower,
        object_repr=str(table.name),
        after={"rows": table.count, "filters": request.GET.dict()},
    )
    response = HttpResponse(content, content_type=exports.XLSX_TYPE)
    filename = f"{table.name}-{timezone.localdate():%Y%m%d}.xlsx"
    response["Content-Disposition"] = content_disposition_header(True, filename) or "attachment"
    return response


def _villages(user: User) -> QuerySet[Division]:
    villages = Division.objects.filter(level=Division.Level.VILLAGE, active=True).select_related(
        "parent"
    )
    department = user.department if user.role in DEPARTMENT_ROLES else None
    if department is not None and department.division_id is not None:
        villages = villages.filter(parent_id=department.division_id)
    return villages.order_by("code")


def _matter(value: object) -> ServiceMatter | None:
    try:
        pk = int(str(value))
    except ValueError:
        return None
    return ServiceMatter.objects.active().filter(pk=pk).prefetch_related("materials").first()


def _ids(request: HttpRequest, name: str) -> set[int]:
    try:
        return {int(value) for value in request.POST.getlist(name)}
    except ValueError:
        raise actions.RelayError(_("请刷新页面后重试"), "conflict") from None


@login_required
def new(request: HttpRequest) -> HttpResponse:
    user = _user(request, "relay.operate")
    if not _can_open(user):
        raise PermissionDenied("relay.operate")
    data = request.POST if request.method == "POST" else None
    form = CaseForm(data, initial={"matter": request.GET.get("matter")})
    matter = _matter(request.POST.get("matter") or request.GET.get("matter") or "")
    if request.method == "POST" and form.is_valid():
        try:
            case = actions.open_case(
                matter_id=form.cleaned_data["matter"],
                citizen_name=form.cleaned_data["citizen_name"],
                mobile=form.cleaned_data["mobile"],
                id_number=form.cleaned_data["id_number"],
                village_id=form.cleaned_data["village"],
                received=_ids(request, "received"),
                extra_materials=form.cleaned_data["extra_materials"].splitlines(),
                by=user,
            )
        except actions.RelayError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("已受理，代办编号 %(number)s") % {"number": case.number})
            return redirect("relay:detail", number=case.number)
    return render(
        request,
        "relay/new.html",
        {
            "form": form,
            "matters": ServiceMatter.objects.active()
            .select_related("department")
            .order_by("department__sort_order", "department__code", "code"),
            "matter": matter,
            "received": {str(v) for v in request.POST.getlist("received")},
            "villages": _villages(user),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
def materials(request: HttpRequest) -> HttpResponse:
    """The chosen matter's materials list (htmx, when the matter picker changes)."""
    _user(request, "relay.operate")
    return render(
        request,
        "relay/_materials.html",
        {"matter": _matter(request.GET.get("matter", "")), "received": set()},
    )


def _case(user: User, number: str) -> RelayCase:
    return policy.get_object(
        user,
        RelayCase.objects.select_related(
            "matter__department",
            "village__parent",
            "origin_department",
            "holder_department",
            "opened_by",
            "event",
        ),
        "relay.view",
        number=number,
    )


def _render_detail(
    request: HttpRequest, user: User, case: RelayCase, *, contact_shown: bool = False
) -> HttpResponse:
    rating = Rating.objects.filter(event_id=case.event_id).first() if case.event_id else None
    return render(
        request,
        "relay/detail.html",
        {
            "case": case,
            "materials": case.materials.all(),
            "handovers": case.handovers.select_related(
                "from_department", "to_department", "from_user", "received_by"
            ),
            "steps": actions.allowed_steps(case, user),
            "missing": actions.missing_materials(case),
            "overdue": case.is_overdue(),
            "rating": rating,
            "can_unmask": access.can_see_unmasked(user, "relay.view_personal", case),
            "contact_shown": contact_shown,
        },
    )


@login_required
def detail(request: HttpRequest, number: str) -> HttpResponse:
    user = _user(request, "relay.view")
    return _render_detail(request, user, _case(user, number))


@login_required
@require_POST
def contact(request: HttpRequest, number: str) -> HttpResponse:
    """The citizen's full name and mobile; ``view_personal`` checks the right and audits it."""
    user = _user(request, "relay.view")
    case = _case(user, number)
    access.view_personal(user, "relay.view_personal", case, fields=["citizen_name", "mobile"])
    if request.headers.get("HX-Request"):
        return render(
            request,
            "relay/_contact.html",
            {"case": case, "contact_shown": True, "can_unmask": True},
        )
    return _render_detail(request, user, case, contact_shown=True)


def _version(request: HttpRequest) -> int:
    try:
        return int(request.POST.get("version", ""))
    except ValueError:
        raise actions.RelayError(_("请刷新页面后重试"), "conflict") from None


def _step(request: HttpRequest, step: str, case: RelayCase, user: User) -> str:
    """Run one step of the case page; the message to show when it went through."""
    post = request.POST
    if step == "materials":
        actions.record_materials(case.pk, received=_ids(request, "received"), by=user)
        return _("材料登记已保存")
    version = _version(request)
    if step == "hand_over":
        moved = actions.hand_over(
            case.pk, by=user, note=post.get("note", ""), expected_version=version
        )
        return _("已移交%(dept)s") % {"dept": moved.holder_department.label}
    if step == "sign":
        actions.sign(case.pk, by=user, expected_version=version)
        return _("已签收")
    if step == "send_back":
        actions.send_back(
            case.pk,
            by=user,
            reason=post.get("reason", ""),
            missing=_ids(request, "missing"),
            expected_version=version,
        )
        return _("已退回村（社区）补正")
    if step == "complete":
        actions.complete(case.pk, by=user, result=post.get("result", ""), expected_version=version)
        return _("已办结，结果回传代办员，评价短信已发送")
    if step == "deliver":
        actions.deliver(case.pk, by=user, expected_version=version)
        return _("已交付群众")
    actions.cancel(case.pk, by=user, reason=post.get("reason", ""), expected_version=version)
    return _("已撤销")


@login_required
@require_POST
def act(request: HttpRequest, number: str, step: str) -> HttpResponse:
    if step not in actions.STEPS:
        raise Http404(step)
    user = _user(request, "relay.operate")
    case = _case(user, number)
    try:
        done = _step(request, step, case, user)
    except actions.RelayError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("relay:detail", number=case.number)


def public(request: HttpRequest) -> HttpResponse:
    """进度查询: the stages of one case, with departments and dates only (no person)."""
    form = TrackForm(request.POST if request.method == "POST" else None)
    case: RelayCase | None = None
    status = 200
    if request.method == "POST" and form.is_valid():
        ip = client_ip(request)
        number = form.cleaned_data["number"]
        if TRACK_FAILURES_PER_IP.exceeded(ip) or TRACK_FAILURES_PER_NUMBER.exceeded(number):
            form.add_error(None, _("查询失败次数过多，请15分钟后再试"))
            status = 429
        else:
            found = (
                RelayCase.objects.select_related("matter__department", "holder_department")
                .filter(number=number)
                .first()
            )
            tail = found.mobile[-4:] if found is not None else "----"
            if found is None or not hmac.compare_digest(tail, form.cleaned_data["mobile_tail"]):
                TRACK_FAILURES_PER_IP.hit(ip)
                TRACK_FAILURES_PER_NUMBER.hit(number)
                form.add_error(None, _("代办编号或手机号后四位不正确，请核对后重新输入"))
            else:
                case = found
    handovers: QuerySet[Handover] | None = None
    if case is not None:
        handovers = case.handovers.select_related("from_department", "to_department")
    return render(
        request,
        "relay/public.html",
        {"form": form, "case": case, "handovers": handovers},
        status=status,
    )
