"""销号: the lead unit applies with evidence and files; the supervisor accepts (the project is
closed, with who signed when) or rejects with reasons (back to 推进中)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from minsheng.core import policy
from minsheng.core.models import User
from minsheng.projects import actions
from minsheng.projects.errors import ProjectError
from minsheng.projects.forms import CloseOutApplyForm, CloseOutDecideForm
from minsheng.projects.models import CloseOutState, Project
from minsheng.projects.states import ProjectState
from minsheng.projects.views.common import add_errors, project_or_404, staff_user

APPLY = "apply"
DECIDE = "decide"


def _may(user: User, project: Project) -> tuple[bool, bool]:
    may_apply = (
        project.state == ProjectState.ACTIVE
        and project.lead_unit_id == user.department_id
        and policy.can(user, "projects.closeout.apply", project)
    )
    may_decide = project.state == ProjectState.APPLIED and policy.can(
        user, "projects.closeout.decide", project
    )
    return may_apply, may_decide


@login_required
def closeout(request: HttpRequest, pk: int) -> HttpResponse:
    user = staff_user(request)
    project = project_or_404(user, pk)
    if not (
        policy.can(user, "projects.closeout.apply", project)
        or policy.can(user, "projects.closeout.decide", project)
    ):
        raise PermissionDenied("projects.closeout")
    may_apply, may_decide = _may(user, project)
    pending = project.closeouts.filter(state=CloseOutState.PENDING).first()
    apply_form = CloseOutApplyForm() if may_apply else None
    decide_form = CloseOutDecideForm() if may_decide and pending else None
    status = 200
    if request.method == "POST":
        step = request.POST.get("step")
        if step == APPLY and may_apply:
            apply_form = CloseOutApplyForm(request.POST, request.FILES)
            if apply_form.is_valid():
                try:
                    actions.apply_closeout(
                        project.pk,
                        by=user,
                        evidence=apply_form.cleaned_data["evidence"],
                        files=apply_form.cleaned_data["uploads"],
                    )
                except ProjectError as error:
                    add_errors(apply_form, error)
                else:
                    messages.success(request, _("已申请销号，等待督查室验收"))
                    return redirect("projects:detail", pk=project.pk)
        elif step == DECIDE and may_decide and pending is not None:
            decide_form = CloseOutDecideForm(request.POST)
            if decide_form.is_valid():
                accept = decide_form.cleaned_data["decision"] == CloseOutDecideForm.ACCEPT
                try:
                    actions.decide_closeout(
                        pending.pk,
                        by=user,
                        accept=accept,
                        reason=decide_form.cleaned_data["reason"],
                    )
                except ProjectError as error:
                    add_errors(decide_form, error)
                else:
                    messages.success(
                        request, _("已验收通过，项目销号") if accept else _("已退回，项目继续推进")
                    )
                    return redirect("projects:detail", pk=project.pk)
        else:
            messages.error(request, _("项目状态已变化，请刷新后重试"))
            return redirect("projects:closeout", pk=project.pk)
        status = 400
    return render(
        request,
        "projects/staff/closeout.html",
        {
            "project": project,
            "pending": pending,
            "apply_form": apply_form,
            "decide_form": decide_form,
            "closeouts": project.closeouts.select_related(
                "applied_by", "decided_by"
            ).prefetch_related("attachments"),
            "apply_step": APPLY,
            "decide_step": DECIDE,
        },
        status=status,
    )
