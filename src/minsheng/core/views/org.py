"""Organisation pages for staff: departments, halls and windows, divisions, the staff directory.

Every query goes through ``policy``: a department head sees and manages only their own
department's people, and another department's ids give 404 (see ``policy.get_object``).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from minsheng.core import access, actions, policy
from minsheng.core.forms import PasswordFieldsForm, StaffCreateForm, StaffForm, add_action_errors
from minsheng.core.models import Department, Division, Hall, Role, User, Window


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required ran first
    return user


@login_required
def department_list(request: HttpRequest) -> HttpResponse:
    policy.require(_user(request), "org.view")
    departments = Department.objects.filter(active=True).select_related("division", "parent")
    return render(request, "core/org/departments.html", {"departments": departments})


@login_required
def hall_list(request: HttpRequest) -> HttpResponse:
    policy.require(_user(request), "org.view")
    windows = Window.objects.filter(active=True).select_related("department").order_by("number")
    halls = Hall.objects.prefetch_related(Prefetch("windows", windows, to_attr="open_windows"))
    return render(request, "core/org/halls.html", {"halls": halls})


@login_required
def division_tree(request: HttpRequest) -> HttpResponse:
    policy.require(_user(request), "org.view")
    children: dict[int | None, list[Division]] = defaultdict(list)
    for division in Division.objects.filter(active=True).order_by("code"):
        children[division.parent_id].append(division)

    def node(division: Division) -> dict[str, Any]:
        return {"division": division, "children": [node(c) for c in children.get(division.pk, [])]}

    # Roots: divisions without a parent, and orphans whose parent is inactive.
    active_ids = {d.pk for group in children.values() for d in group}
    roots = [
        d
        for parent, group in children.items()
        if parent is None or parent not in active_ids
        for d in group
    ]
    return render(request, "core/org/divisions.html", {"tree": [node(d) for d in roots]})


def _posted(request: HttpRequest) -> Any:
    # Not ``request.POST or None``: an empty POST must still be validated (and rejected).
    return request.POST if request.method == "POST" else None


def _staff() -> QuerySet[User]:
    return User.objects.exclude(role=Role.CITIZEN).select_related("department", "window__hall")


@login_required
def staff_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    policy.require(user, "staff.view")
    staff = policy.visible(user, _staff(), "staff.view").order_by(
        "department__sort_order", "department__code", "username"
    )
    query = request.GET.get("q", "").strip()
    if query:
        staff = staff.filter(
            Q(name__icontains=query) | Q(username__icontains=query) | Q(staff_no=query)
        )
    role = request.GET.get("role", "")
    if role in Role.values:
        staff = staff.filter(role=role)
    if request.GET.get("inactive") != "1":
        staff = staff.filter(is_active=True)
    page = Paginator(staff, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "core/org/staff_list.html",
        {
            "page": page,
            "q": query,
            "role": role,
            "roles": [(r, label) for r, label in Role.choices if r != Role.CITIZEN],
            "show_inactive": request.GET.get("inactive") == "1",
            "can_create": policy.can(user, "staff.manage"),
        },
    )


def _detail_context(by: User, staff: User, *, mobile_shown: bool = False) -> dict[str, Any]:
    return {
        "staff": staff,
        "can_manage": actions.may_manage(by, staff),
        "mobile_shown": mobile_shown,
    }


@login_required
def staff_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    staff = policy.get_object(user, _staff(), "staff.view", pk=pk)
    return render(request, "core/org/staff_detail.html", _detail_context(user, staff))


@login_required
@require_POST
def staff_mobile(request: HttpRequest, pk: int) -> HttpResponse:
    """Show the full mobile number on request; ``view_personal`` leaves the audit trace."""
    user = _user(request)
    staff = policy.get_object(user, _staff(), "staff.view", pk=pk)
    access.view_personal(user, "staff.view", staff, fields=["mobile"])
    if request.headers.get("HX-Request"):
        return render(request, "core/org/_mobile.html", {"staff": staff, "mobile_shown": True})
    return render(
        request, "core/org/staff_detail.html", _detail_context(user, staff, mobile_shown=True)
    )


def _managed(request: HttpRequest, pk: int) -> tuple[User, User]:
    """The acting user and the account they may manage: 403 without the right, 404 for
    another department's account."""
    user = _user(request)
    staff = policy.get_object(user, _staff(), "staff.manage", pk=pk)
    if not actions.may_manage(user, staff):
        raise PermissionDenied("staff.manage")
    return user, staff


@login_required
def staff_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    policy.require(user, "staff.manage")
    form = StaffCreateForm(_posted(request), by=user)
    if request.method == "POST" and form.is_valid():
        try:
            staff = actions.create_staff(form.staff_data(), form.cleaned_data["password1"], by=user)
        except ValidationError as error:
            add_action_errors(form, error)
        else:
            messages.success(request, _("已创建账号，首次登录时须修改密码。"))
            return redirect("core:staff_detail", pk=staff.pk)
    return render(request, "core/org/staff_form.html", {"form": form, "creating": True})


@login_required
def staff_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user, staff = _managed(request, pk)
    form = StaffForm(_posted(request), by=user, instance=staff)
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_staff(staff.pk, form.staff_data(), by=user)
        except ValidationError as error:
            add_action_errors(form, error)
        else:
            messages.success(request, _("已保存。"))
            return redirect("core:staff_detail", pk=staff.pk)
    return render(
        request, "core/org/staff_form.html", {"form": form, "staff": staff, "creating": False}
    )


@login_required
def staff_active(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks to confirm, POST deactivates (or reactivates) the account."""
    user, staff = _managed(request, pk)
    activate = not staff.is_active
    error = ""
    if request.method == "POST":
        try:
            actions.set_staff_active(staff.pk, activate, by=user)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, _("账号已启用。") if activate else _("账号已停用。"))
            return redirect("core:staff_detail", pk=staff.pk)
    return render(
        request,
        "core/org/staff_active.html",
        {"staff": staff, "activate": activate, "error": error},
    )


@login_required
def staff_password(request: HttpRequest, pk: int) -> HttpResponse:
    user, staff = _managed(request, pk)
    form = PasswordFieldsForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            actions.reset_password(staff.pk, form.cleaned_data["password1"], by=user)
        except ValidationError as error:
            add_action_errors(form, error)
        else:
            messages.success(request, _("已重置密码，该用户下次登录时须修改密码。"))
            return redirect("core:staff_detail", pk=staff.pk)
    return render(request, "core/org/staff_password.html", {"form": form, "staff": staff})
