"""Changes of state in the core: staff accounts, passwords, notifications.

Each action runs in one transaction, checks the policy itself (views may have checked
already; the action is the last word) and writes the audit trail with before/after.
Invalid input raises ``ValidationError`` with field names so forms can show it; nothing
is written then.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import password_validation
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from minsheng.core import audit, policy
from minsheng.core.models import Department, Notification, Role, User, Window
from minsheng.core.models.org import DEPARTMENT_ROLES

# What the audit trail keeps of a staff account (never the password hash).
STAFF_AUDIT_FIELDS = (
    "username",
    "name",
    "role",
    "department",
    "window",
    "staff_no",
    "mobile",
    "is_active",
    "must_change_password",
)

# A department head manages the people of their own department, and may give them no
# role above their own.
DEPT_HEAD_GRANTABLE = frozenset({Role.HANDLER, Role.WINDOW_STAFF, Role.DEPT_HEAD})


@dataclass(frozen=True)
class StaffData:
    """The editable fields of a staff account, as a form or the API cleans them."""

    username: str
    name: str
    role: str
    department: Department | None
    window: Window | None = None
    staff_no: str = ""
    mobile: str = ""


def grantable_roles(by: User) -> list[str]:
    """The roles ``by`` may give, in the order of ``Role``."""
    if by.role == Role.ADMIN:
        return [r for r in Role if r != Role.CITIZEN]
    if by.role == Role.DEPT_HEAD:
        return [r for r in Role if r in DEPT_HEAD_GRANTABLE]
    return []


def _check_grant(by: User, data: StaffData) -> None:
    """Field errors for a role/department/window that ``by`` may not give or that do not fit."""
    errors: dict[str, str] = {}
    if data.role not in grantable_roles(by):
        errors["role"] = _("您不能授予该角色。")
    if data.role in DEPARTMENT_ROLES and data.department is None:
        errors["department"] = _("该角色必须选择所属部门。")
    elif by.role == Role.DEPT_HEAD and (
        data.department is None or data.department.pk != by.department_id
    ):
        errors["department"] = _("只能管理本部门的工作人员。")
    if data.window is not None and (
        data.department is None or data.window.department_id != data.department.pk
    ):
        errors["window"] = _("所选窗口不属于该部门。")
    if errors:
        raise ValidationError(errors)


def _check_manages(by: User, target: User) -> None:
    """A department head may not touch accounts whose role is above theirs (e.g. a leader
    who happens to be filed under the department)."""
    policy.require(by, "staff.manage", target)
    if by.role == Role.DEPT_HEAD and target.role not in DEPT_HEAD_GRANTABLE:
        raise PermissionDenied("staff.manage")


def may_manage(by: User, target: User) -> bool:
    """Whether pages should offer ``by`` the edit/deactivate/reset buttons for ``target``."""
    try:
        _check_manages(by, target)
    except PermissionDenied:
        return False
    return True


def _validate_password(password: str, user: User) -> None:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as error:
        raise ValidationError({"password1": error.messages}) from None


def _apply(user: User, data: StaffData) -> None:
    user.username = data.username
    user.name = data.name
    user.role = data.role
    user.department = data.department
    user.window = data.window
    user.staff_no = data.staff_no
    user.mobile = data.mobile


def _snapshot(user: User) -> dict[str, Any]:
    return audit.snapshot(user, STAFF_AUDIT_FIELDS)


@transaction.atomic
def create_staff(data: StaffData, password: str, *, by: User) -> User:
    """A new staff account that must change its initial password at first login."""
    policy.require(by, "staff.manage")
    _check_grant(by, data)
    user = User(must_change_password=True)
    _apply(user, data)
    policy.require(by, "staff.manage", user)
    _validate_password(password, user)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    audit.record(by, "staff.created", user, after=_snapshot(user))
    return user


@transaction.atomic
def update_staff(user_id: int, data: StaffData, *, by: User) -> User:
    user = User.objects.select_for_update().get(pk=user_id)
    _check_manages(by, user)
    _check_grant(by, data)
    if user.pk == by.pk and data.role != user.role:
        # Nobody demotes or promotes themselves: the last admin could lock everyone out.
        raise ValidationError({"role": _("不能修改自己的角色。")})
    before = _snapshot(user)
    _apply(user, data)
    user.full_clean(exclude=["password"])
    user.save()
    audit.record(by, "staff.updated", user, before=before, after=_snapshot(user))
    return user


@transaction.atomic
def set_staff_active(user_id: int, active: bool, *, by: User) -> User:
    """Deactivate (or reactivate) an account. Deactivated users are logged out at their
    next request, since Django refuses sessions of inactive users."""
    user = User.objects.select_for_update().get(pk=user_id)
    _check_manages(by, user)
    if user.pk == by.pk:
        raise ValidationError(_("不能停用自己的账号。"))
    if user.is_active == active:
        return user
    before = _snapshot(user)
    user.is_active = active
    user.save(update_fields=["is_active"])
    audit.record(
        by,
        "staff.activated" if active else "staff.deactivated",
        user,
        before=before,
        after=_snapshot(user),
    )
    return user


@transaction.atomic
def reset_password(user_id: int, password: str, *, by: User) -> User:
    """Give an account a temporary password that must be changed at the next login."""
    user = User.objects.select_for_update().get(pk=user_id)
    _check_manages(by, user)
    _validate_password(password, user)
    before = _snapshot(user)
    user.set_password(password)
    user.must_change_password = True
    user.save(update_fields=["password", "must_change_password"])
    audit.record(by, "staff.password_reset", user, before=before, after=_snapshot(user))
    return user


@transaction.atomic
def change_own_password(user: User, password: str) -> User:
    """The user's own new password (already validated by the form); lifts the forced change."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    before = {"must_change_password": locked.must_change_password}
    locked.set_password(password)
    locked.must_change_password = False
    locked.save(update_fields=["password", "must_change_password"])
    audit.record(
        locked, "password.changed", locked, before=before, after={"must_change_password": False}
    )
    # The caller's instance is the one in the session: keep it in step with the database.
    user.password = locked.password
    user.must_change_password = False
    return locked


def mark_notification_read(notification_id: int, *, by: User) -> Notification:
    """Mark one of the user's own notifications read. Not audited: it is the reader's own
    inbox, not government work. Raises ``Notification.DoesNotExist`` for anyone else's."""
    policy.require(by, "notification.view")
    notification = Notification.objects.get(pk=notification_id, user=by)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def mark_all_notifications_read(*, by: User) -> int:
    policy.require(by, "notification.view")
    return Notification.objects.filter(user=by, read_at__isnull=True).update(read_at=timezone.now())
