"""Pages of the neighbourhood centres: the public overview (statuses, functions and counts,
never a person), the staff overview with figures by town and batch, and the centre's own
page where its workers change the status and the 7+X checklist and record opinions,
matters, disputes and follow-up visits. Lists show persons masked."""

from __future__ import annotations

import itertools
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from minsheng.appeals.models import Appeal
from minsheng.centres import actions, figures
from minsheng.centres.forms import (
    DisputeForm,
    FilterForm,
    FollowUpForm,
    FunctionsForm,
    MatterForm,
    OpinionForm,
    StatusForm,
)
from minsheng.centres.models import (
    Centre,
    CentreFunction,
    Dispute,
    FunctionKind,
    Matter,
    Opinion,
    StatusChange,
)
from minsheng.core import audit, policy
from minsheng.core.models import Division, User
from minsheng.core.models.org import Role

RECENT = 30
MANAGE_STEPS = {"status", "functions"}


def public_index(request: HttpRequest) -> HttpResponse:
    """Every centre by town: status, functions in service and counts. No person at all."""
    centres = Centre.objects.select_related("village__parent", "batch").order_by("village__code")
    in_service: dict[int, list[str]] = {}
    for function in (
        CentreFunction.objects.filter(in_service=True, kind__active=True)
        .select_related("kind")
        .order_by("-kind__basic", "kind__order")
    ):
        in_service.setdefault(function.centre_id, []).append(function.kind.name)
    counts = figures.by_centre(centres)
    towns = [
        (town, [(c, in_service.get(c.pk, []), counts.get(c.pk, figures.Counts())) for c in group])
        for town, group in itertools.groupby(centres, key=lambda c: c.village.parent)
    ]
    return render(
        request,
        "centres/public.html",
        {"towns": towns, "county": figures.county_figures()},
    )


def staff_user(request: HttpRequest, action: str) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required ran first
    if not policy.can(user, action):
        raise PermissionDenied(action)
    return user


def _visible(user: User) -> QuerySet[Centre]:
    return policy.visible(
        user, Centre.objects.select_related("village__parent", "batch"), "centre.view"
    )


def filtered_centres(request: HttpRequest, user: User) -> tuple[FilterForm, QuerySet[Centre]]:
    visible = _visible(user)
    towns = Division.objects.filter(pk__in=visible.values("village__parent")).order_by("code")
    form = FilterForm(request.GET or None, towns=towns)
    centres = visible
    if form.is_valid():
        data = form.cleaned_data
        if data["town"]:
            centres = centres.filter(village__parent=data["town"])
        if data["status"]:
            centres = centres.filter(status=data["status"])
        if data["batch"]:
            centres = centres.filter(batch=data["batch"])
    return form, centres.order_by("village__code")


def list_rows(centres: QuerySet[Centre]) -> list[tuple[Centre, figures.Counts, figures.Functions]]:
    counts = figures.by_centre(centres)
    functions = figures.functions_by_centre(centres)
    return [
        (c, counts.get(c.pk, figures.Counts()), functions.get(c.pk, figures.Functions()))
        for c in centres
    ]


@login_required
def index(request: HttpRequest) -> HttpResponse:
    user = staff_user(request, "centre.view")
    form, centres = filtered_centres(request, user)
    visible = _visible(user)
    towns = figures.by_town(visible)
    return render(
        request,
        "centres/index.html",
        {
            "form": form,
            "towns": towns,
            "total": figures.total(towns),
            "batches": figures.by_batch(visible),
            "rows": list_rows(centres),
            "basic_kinds": FunctionKind.objects.filter(active=True, basic=True).count(),
            "query": request.GET.urlencode(),
        },
    )


# ---------------------------------------------------------------- one centre


def centre_or_404(user: User, code: str) -> Centre:
    """The centre of the village ``code``; another town's is a 404."""
    return policy.get_object(
        user,
        Centre.objects.select_related("village__parent", "batch", "department"),
        "centre.view",
        village__code=code,
    )


def _mediators(centre: Centre, user: User) -> QuerySet[User]:
    staff = Q(department=centre.department_id, role__in=[Role.WINDOW_STAFF, Role.HANDLER,
                                                           Role.DEPT_HEAD])  # fmt: skip
    return User.objects.filter(staff | Q(pk=user.pk), is_active=True).order_by("name", "pk")


def _kinds() -> list[FunctionKind]:
    return list(FunctionKind.objects.filter(active=True))


def _functions_initial(centre: Centre) -> dict[str, Any]:
    initial: dict[str, Any] = {}
    for row in CentreFunction.objects.filter(centre=centre):
        initial[f"kind_{row.kind_id}"] = row.state.value
        initial[f"note_{row.kind_id}"] = row.note
    return initial


def _forms(centre: Centre, user: User) -> dict[str, forms.Form]:
    return {
        "status": StatusForm(
            prefix="status", offer=centre.next_statuses, initial={"expected": centre.status}
        ),
        "functions": FunctionsForm(
            prefix="functions", kinds=_kinds(), initial=_functions_initial(centre)
        ),
        "opinion": OpinionForm(prefix="opinion"),
        "matter": MatterForm(prefix="matter"),
        "dispute": DisputeForm(
            prefix="dispute", mediators=_mediators(centre, user), initial={"mediator": user.pk}
        ),
    }


def _page(
    request: HttpRequest,
    user: User,
    centre: Centre,
    *,
    bound: dict[str, forms.Form] | None = None,
    extra: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    page_forms = _forms(centre, user) | (bound or {})
    opinions = list(
        Opinion.objects.filter(centre=centre).select_related("appeal", "recorded_by")[:RECENT]
    )
    viewable = set(
        policy.visible(
            user, Appeal.objects.filter(pk__in=[o.appeal_id for o in opinions]), "appeal.view"
        ).values_list("pk", flat=True)
    )
    disputes = Dispute.objects.filter(centre=centre).select_related("mediator")
    bound_visit = (extra or {}).get("follow_up")
    visits = [
        (
            d,
            bound_visit
            if isinstance(bound_visit, FollowUpForm) and bound_visit.dispute.pk == d.pk
            else FollowUpForm(prefix=f"follow-up-{d.pk}", dispute=d),
        )
        for d in disputes.follow_up_open().order_by("follow_up_due_at", "pk")
    ]
    one = Centre.objects.filter(pk=centre.pk)
    context = {
        "centre": centre,
        "history": StatusChange.objects.filter(centre=centre).select_related("by"),
        "counts": figures.by_centre(one).get(centre.pk, figures.Counts()),
        "functions": figures.functions_by_centre(one).get(centre.pk, figures.Functions()),
        "forms": page_forms,
        "basic_kinds": FunctionKind.objects.filter(active=True, basic=True).count(),
        "function_list": CentreFunction.objects.filter(centre=centre, kind__active=True)
        .select_related("kind")
        .order_by("-kind__basic", "kind__order"),
        "opinions": [(o, o.appeal_id in viewable) for o in opinions],
        "matters": Matter.objects.filter(centre=centre).select_related("handled_by")[:RECENT],
        "disputes": disputes[:RECENT],
        "visits": visits,
        "can_record": policy.can(user, "centre.record", centre),
        "can_manage": policy.can(user, "centre.manage", centre),
        "now": timezone.now(),
    } | (extra or {})
    return render(request, "centres/centre.html", context, status=status)


@login_required
def centre(request: HttpRequest, code: str) -> HttpResponse:
    user = staff_user(request, "centre.view")
    return _page(request, user, centre_or_404(user, code))


def _bind(request: HttpRequest, user: User, place: Centre, step: str) -> forms.Form:
    """The step's form, bound to what was posted."""
    data, files = request.POST, request.FILES
    if step == "status":
        return StatusForm(data, prefix="status")
    if step == "functions":
        return FunctionsForm(data, prefix="functions", kinds=_kinds())
    if step == "opinion":
        return OpinionForm(data, prefix="opinion")
    if step == "matter":
        return MatterForm(data, prefix="matter")
    if step == "dispute":
        return DisputeForm(data, files, prefix="dispute", mediators=_mediators(place, user))
    if step == "follow_up":
        dispute = get_object_or_404(Dispute, pk=_int(data.get("dispute")), centre=place)
        return FollowUpForm(data, prefix=f"follow-up-{dispute.pk}", dispute=dispute)
    raise Http404(step)


def _int(value: str | None) -> int:
    try:
        return int(value or "")
    except ValueError:
        return 0


def _run(form: forms.Form, user: User, place: Centre) -> tuple[str, dict[str, Any]]:
    """Take the step's action; the message for the next page and what it shows."""
    data = form.cleaned_data
    if isinstance(form, StatusForm):
        moved = actions.change_status(
            place.pk,
            to=data["status"],
            on=data["on"],
            note=data["note"],
            expected=data["expected"],
            by=user,
        )
        return _("建设状态已改为“%(s)s”") % {"s": moved.get_status_display()}, {}
    if isinstance(form, FunctionsForm):
        actions.set_functions(place.pk, states=form.states(), notes=form.notes(), by=user)
        return _("功能清单已保存"), {}
    if isinstance(form, OpinionForm):
        recorded = actions.record_opinion(place.pk, **data, by=user)
        appeal = recorded.opinion.appeal
        return _("已登记为诉求 %(number)s") % {"number": appeal.number}, {
            "recorded": recorded,
            "recorded_viewable": policy.can(user, "appeal.view", appeal),
        }
    if isinstance(form, MatterForm):
        actions.record_matter(place.pk, **data, by=user)
        return _("办理事项已登记"), {}
    if isinstance(form, DisputeForm):
        dispute = actions.record_dispute(
            place.pk,
            parties=data["parties"],
            type=data["type"],
            description=data["description"],
            outcome=data["outcome"],
            mediated_on=data["mediated_on"],
            mediator_id=data["mediator"].pk,
            agreement=data["agreement"],
            by=user,
        )
        return _("调解记录已登记，请在 %(day)s 前回访") % {"day": dispute.follow_up_due_on}, {}
    assert isinstance(form, FollowUpForm)
    actions.record_follow_up(form.dispute.pk, **data, by=user)
    return _("回访已登记"), {}


@login_required
@require_POST
def act(request: HttpRequest, code: str, step: str) -> HttpResponse:
    """One form of the centre page. Done: back to the page with a message (an opinion's
    number and query code are shown once, on the page itself). Refused: the page again with
    the reason on the form (409 when someone else changed it first), nothing written."""
    user = staff_user(request, "centre.view")
    place = centre_or_404(user, code)
    # Before reading the form: a leader's empty post is a 403, not a list of missing fields.
    policy.require(user, "centre.manage" if step in MANAGE_STEPS else "centre.record", place)
    form = _bind(request, user, place, step)
    status = 400
    if form.is_valid():
        try:
            done, extra = _run(form, user, place)
        except actions.CentreError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            status = 409 if exc.code == "conflict" else 400
        else:
            messages.success(request, done)
            if isinstance(form, OpinionForm):
                return _page(request, user, place, extra=extra, status=201)
            return redirect("centres:centre", code=place.code)
    if isinstance(form, FollowUpForm):
        return _page(request, user, place, extra={"follow_up": form}, status=status)
    return _page(request, user, place, bound={step: form}, status=status)


@login_required
def agreement(request: HttpRequest, code: str, dispute_id: int) -> FileResponse:
    """The agreement document, only through here and only for the centre's own workers
    (it names the parties), each opening audited."""
    user = staff_user(request, "centre.record")
    place = policy.get_object(user, Centre.objects.all(), "centre.record", village__code=code)
    dispute = get_object_or_404(Dispute, pk=dispute_id, centre=place)
    if not dispute.agreement:
        raise Http404(_("没有上传调解协议书"))
    try:
        handle = dispute.agreement.open("rb")
    except FileNotFoundError:
        raise Http404(_("文件不存在")) from None
    audit.record(user, "centre.agreement_opened", dispute)
    response = FileResponse(
        handle,
        content_type=dispute.agreement_type,
        as_attachment=not dispute.agreement_type.startswith("image/"),
        filename=dispute.agreement_name or f"agreement-{dispute.pk}",
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
