"""Staff pages for appeals: the workbench, the appeal page, intake, attachments, exports.

Views are thin: lists come from ``staff_queries`` (scoped by the policy), every change from
``appeals.actions``. Another department's appeal is a 404 everywhere, ids guessed or not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from minsheng.appeals import actions, exports
from minsheng.appeals.errors import AppealError, Conflict
from minsheng.appeals.forms_staff import BulkForm, IntakeForm, WorkbenchFilterForm
from minsheng.appeals.models import Appeal, Attachment
from minsheng.appeals.states import State
from minsheng.appeals.views import staff_actions
from minsheng.appeals.views import staff_queries as queries
from minsheng.core import access, audit, policy
from minsheng.core.models import User
from minsheng.intelligence import routing

PAGE_SIZE = 25

# The timeline's step names (``AppealEvent.kind``, written by the actions).
EVENT_LABELS = {
    "received": gettext_lazy("受理"),
    "refused": gettext_lazy("不予受理/转办"),
    "dispatched": gettext_lazy("派单"),
    "redispatched": gettext_lazy("改派"),
    "signed": gettext_lazy("签收"),
    "returned": gettext_lazy("退单"),
    "return_disputed": gettext_lazy("退单争议"),
    "note": gettext_lazy("办理过程"),
    "extension_requested": gettext_lazy("申请延期"),
    "extension_decided": gettext_lazy("延期审批"),
    "replied": gettext_lazy("答复"),
    "rated": gettext_lazy("群众评价"),
    "callback": gettext_lazy("电话回访"),
    "rehandle": gettext_lazy("重办"),
    "closed": gettext_lazy("办结"),
    "merged": gettext_lazy("合并"),
    "merge_master": gettext_lazy("合并"),
    "promoted": gettext_lazy("转实事项目"),
    "supervised": gettext_lazy("督办"),
}


def staff_user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required ran first
    if not user.is_staff_member:
        raise PermissionDenied("staff only")
    return user


def appeal_or_404(user: User, pk: int) -> Appeal:
    return policy.get_object(
        user,
        Appeal.objects.select_related(
            "lead_department", "category", "division", "town", "entered_by", "merged_into"
        ),
        "appeal.view",
        pk=pk,
    )


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


# ---------------------------------------------------------------- the workbench


@dataclass(frozen=True)
class Row:
    appeal: Appeal
    deadline: str
    selectable: bool


def _selectable(user: User, appeal: Appeal, can_sign: bool, can_dispatch: bool) -> bool:
    """Whether a bulk action applies to the row (the action still checks it)."""
    if can_sign and appeal.state == State.DISPATCHED:
        return appeal.lead_department_id == user.department_id
    return can_dispatch and appeal.state in (State.RECEIVED, State.RETURNED)


@login_required
def workbench(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    policy.require(user, "appeal.view")
    form = WorkbenchFilterForm(request.GET or None, initial={"state": queries.OPEN})
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    page = Paginator(queries.workbench(user, filters), PAGE_SIZE).get_page(request.GET.get("page"))
    can_sign = policy.can(user, "appeal.sign")
    can_dispatch = policy.can(user, "appeal.dispatch")
    rows = [
        Row(a, queries.deadline_status(a), _selectable(user, a, can_sign, can_dispatch))
        for a in page.object_list
    ]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "appeals/staff/workbench.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "bulk_sign": can_sign,
            "bulk_dispatch": can_dispatch,
            "bulk_form": BulkForm(),
            "query": query.urlencode(),
            "export_table": "workbench",
        },
    )


def _back(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("appeals:workbench")


@login_required
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    """Bulk 签收 (a department's dispatched items) or 派单 (the dispatcher's new ones): each
    item through its action on its own, and each failure reported with its number."""
    user = staff_user(request)
    form = BulkForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect(_back(request))
    action = form.cleaned_data["action"]
    policy.require(user, "appeal.sign" if action == BulkForm.SIGN else "appeal.dispatch")
    pairs: list[tuple[int, int]] = form.cleaned_data["items"]
    found = {a.pk: a for a in queries.visible_appeals(user).filter(pk__in=[pk for pk, _v in pairs])}
    done = 0
    failures: list[str] = []
    conflicts = 0
    for pk, version in pairs:
        appeal = found.get(pk)
        if appeal is None:
            failures.append(_("有一件诉求不存在或无权处理"))
            continue
        try:
            if action == BulkForm.SIGN:
                actions.sign(pk, by=user, expected_version=version)
            else:
                actions.dispatch(
                    pk,
                    department_id=form.cleaned_data["department"].pk,
                    by=user,
                    expected_version=version,
                )
        except Conflict as error:
            conflicts += 1
            failures.append(f"{appeal.number}：{error.message}")
        except AppealError as error:
            failures.append(f"{appeal.number}：{error.message}")
        except PermissionDenied:
            failures.append(_("%(n)s：无权办理（不是主办部门）") % {"n": appeal.number})
        else:
            done += 1
    verb = _("签收") if action == BulkForm.SIGN else _("派单")
    if done:
        messages.success(request, _("已%(verb)s%(n)s件") % {"verb": verb, "n": done})
    for failure in failures:
        messages.error(request, failure)
    if is_htmx(request):
        response = HttpResponse(status=409 if conflicts else 204)
        response["HX-Redirect"] = _back(request)
        return response
    return redirect(_back(request))


# ---------------------------------------------------------------- the appeal page


def render_detail(
    request: HttpRequest,
    user: User,
    appeal: Appeal,
    *,
    bound: dict[str, forms.Form] | None = None,
    error: str = "",
    status: int = 200,
    contact_shown: bool = False,
) -> HttpResponse:
    if error and is_htmx(request):
        # htmx callers get the reason alone, put where the page shows alerts.
        response = render(
            request, "appeals/staff/_alert.html", {"error": error, "appeal": appeal}, status=status
        )
        response["HX-Retarget"] = "#appeal-alert"
        response["HX-Reswap"] = "innerHTML"
        return response
    events = appeal.events.select_related("actor", "department").prefetch_related("attachments")
    context: dict[str, Any] = {
        "appeal": appeal,
        "deadline": queries.deadline_status(appeal),
        "timeline": [(e, EVENT_LABELS.get(e.kind, e.kind)) for e in events],
        "intake_attachments": appeal.attachments.filter(event__isnull=True),
        "co_departments": appeal.co_departments.all(),
        "returns": appeal.returns.select_related("department", "returned_by"),
        "extensions": appeal.extensions.select_related("department", "requested_by"),
        "ratings": appeal.ratings.select_related("recorded_by").order_by("round"),
        "supervisions": appeal.supervisions.select_related("raised_by"),
        "merged_appeals": queries.visible_appeals(user).filter(merged_into=appeal),
        "action_forms": staff_actions.forms_for(user, appeal, bound),
        "advice": routing.advice_for(user, appeal),
        "can_unmask": access.can_see_unmasked(user, "appeal.view_personal", appeal),
        "contact_shown": contact_shown,
        "error": error,
    }
    return render(request, "appeals/staff/detail.html", context, status=status)


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = staff_user(request)
    return render_detail(request, user, appeal_or_404(user, pk))


@login_required
@require_POST
def act(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    """Run one action of the appeal page: 404 for an appeal the user may not see; on a
    conflict 409 with the reason, on bad input 400 with the form's errors; nothing changes."""
    user = staff_user(request)
    appeal = appeal_or_404(user, pk)
    spec = staff_actions.ACTIONS.get(name)
    if spec is None:
        raise Http404(name)
    form = spec.form(request.POST, request.FILES, auto_id=f"{name}_%s")
    if not form.is_valid():
        return render_detail(
            request, user, appeal, bound={name: form}, error=_("请修改标出的错误"), status=400
        )
    try:
        message = spec.run(user, appeal, form.cleaned_data)
    except AppealError as error:
        staff_actions.add_errors(form, error)
        status = {"conflict": 409, "not_found": 404}.get(error.code, 400)
        appeal = appeal_or_404(user, pk)  # show what the other person did
        if error.code == "conflict":
            # The form was for the old state; a fresh one (if any) fits the new one.
            return render_detail(request, user, appeal, error=error.message, status=status)
        return render_detail(
            request, user, appeal, bound={name: form}, error=error.message, status=status
        )
    messages.success(request, message)
    # After a return the department no longer sees the appeal: back to its queue then.
    if request.POST.get("next"):
        target = _back(request)  # a board's quick action goes back to the board
    elif queries.visible_appeals(user).filter(pk=appeal.pk).exists():
        target = reverse("appeals:detail", args=[appeal.pk])
    else:
        target = reverse("appeals:workbench")
    if is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = target
        return response
    return redirect(target)


@login_required
@require_POST
def contact(request: HttpRequest, pk: int) -> HttpResponse:
    """Show the citizen's full name, mobile and address; ``view_personal`` audits it."""
    user = staff_user(request)
    appeal = appeal_or_404(user, pk)
    access.view_personal(
        user, "appeal.view_personal", appeal, fields=["citizen_name", "citizen_mobile", "address"]
    )
    if is_htmx(request):
        return render(
            request,
            "appeals/staff/_contact.html",
            {"appeal": appeal, "contact_shown": True, "can_unmask": True},
        )
    return render_detail(request, user, appeal, contact_shown=True)


@login_required
def attachment(request: HttpRequest, pk: int, attachment_pk: int) -> FileResponse:
    """Attachments only through here (never a /media/ URL): the same 404 as the appeal page,
    and a trace of who opened which file."""
    user = staff_user(request)
    appeal = appeal_or_404(user, pk)
    item = get_object_or_404(Attachment, pk=attachment_pk, appeal=appeal)
    try:
        handle = item.file.open("rb")
    except FileNotFoundError:
        raise Http404(_("附件文件不存在")) from None
    audit.record(user, "appeal.attachment_opened", appeal, after={"attachment": item.pk})
    response = FileResponse(
        handle,
        content_type=item.content_type,
        # Images open in the browser; anything else is saved, never rendered by it.
        as_attachment=not item.content_type.startswith("image/"),
        filename=item.original_name,
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# ---------------------------------------------------------------- intake


@login_required
def intake(request: HttpRequest) -> HttpResponse:
    """Staff intake; the page after it shows the number and query code to read out."""
    user = staff_user(request)
    policy.require(user, "appeal.intake")
    if request.method != "POST":
        return render(request, "appeals/staff/intake.html", {"form": IntakeForm()})
    form = IntakeForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        category, division = data["category"], data["division"]
        submission = actions.AppealInput(
            title=data["title"],
            body=data["body"],
            appeal_type=data["appeal_type"],
            urgency=data["urgency"],
            category_id=category.pk if category else None,
            division_id=division.pk if division else None,
            address=data["address"],
            anonymous=data["anonymous"],
            citizen_name=data["citizen_name"],
            citizen_mobile=data["citizen_mobile"].strip(),
            consent_publish=data["consent_publish"],
            channel=data["channel"],
            files=data["uploads"],
        )
        try:
            submitted = actions.submit(
                submission, by=user, idempotency=(f"staff:{user.pk}", data["idempotency_key"])
            )
        except AppealError as error:
            staff_actions.add_errors(form, error)
            if not error.fields:
                form.add_error(None, error.message)
        else:
            return render(
                request,
                "appeals/staff/intake_done.html",
                {
                    "appeal": submitted.appeal,
                    "query_code": submitted.query_code,
                    "replayed": submitted.replayed,
                    "can_view": policy.can(user, "appeal.view", submitted.appeal),
                },
                status=200 if submitted.replayed else 201,
            )
    return render(request, "appeals/staff/intake.html", {"form": form}, status=400)


# ---------------------------------------------------------------- exports


@login_required
def export(request: HttpRequest, table: str, fmt: str) -> HttpResponse:
    user = staff_user(request)
    spec = exports.TABLES.get(table)
    if spec is None or fmt not in exports.FORMATS:
        raise Http404(table)
    policy.require(user, spec.action)
    return exports.response(user, table, fmt, request.GET)
