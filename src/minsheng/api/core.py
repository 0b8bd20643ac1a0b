"""Core endpoints: who am I, the organisation chart, staff, my notifications.

Every query goes through ``policy``: lists come from ``policy.visible`` and single objects
from ``policy.get_object``, so another department's ids answer 404 exactly like ids that
do not exist. Changes go through ``core.actions``.
"""

from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Query, Router
from ninja.pagination import paginate

from minsheng.api.errors import INVALID, NON_FIELD, ApiError
from minsheng.api.pagination import PageNumberPagination
from minsheng.api.schemas import (
    DepartmentOut,
    DivisionOut,
    HallOut,
    MeOut,
    NotificationOut,
    StaffMobileOut,
    StaffOut,
    StaffPatch,
    WindowOut,
)
from minsheng.core import access, actions, policy
from minsheng.core.models import Department, Division, Hall, Notification, Role, User, Window

router = Router(tags=["core"])


def _user(request: HttpRequest) -> User:
    # Authentication ran first (the API's default), so this is a real user.
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)
    return user


@router.get("/me", response=MeOut, summary="当前用户")
def me(request: HttpRequest) -> dict[str, Any]:
    user = _user(request)
    department = user.department
    return {
        "id": user.pk,
        "username": user.username,
        "name": user.name,
        "role": user.role,
        "role_display": user.get_role_display(),
        "department": {"id": department.pk, "name": department.name} if department else None,
        "window_id": user.window_id,
        "actions": sorted(a for a in policy.actions() if policy.can(user, a)),
    }


# The organisation chart is not personal: every staff role sees all of it (``org.view``
# is checked without an object, so department roles are not narrowed to their own).


@router.get("/departments", response=list[DepartmentOut], summary="部门")
@paginate(PageNumberPagination)
def departments(
    request: HttpRequest,
    kind: Department.Kind | None = None,
    active: bool = Query(True, description="true（默认）列启用的，false 列停用的"),
) -> QuerySet[Department]:
    policy.require(_user(request), "org.view")
    queryset = Department.objects.all()
    if kind is not None:
        queryset = queryset.filter(kind=kind)
    return queryset.filter(active=active)


@router.get("/divisions", response=list[DivisionOut], summary="行政区划")
@paginate(PageNumberPagination)
def divisions(
    request: HttpRequest,
    parent: int | None = Query(None, description="上级区划的 id"),
    level: Division.Level | None = None,
    active: bool = Query(True, description="true（默认）列启用的，false 列停用的"),
) -> QuerySet[Division]:
    policy.require(_user(request), "org.view")
    queryset = Division.objects.all()
    if parent is not None:
        queryset = queryset.filter(parent_id=parent)
    if level is not None:
        queryset = queryset.filter(level=level)
    return queryset.filter(active=active)


@router.get("/halls", response=list[HallOut], summary="服务大厅")
@paginate(PageNumberPagination)
def halls(request: HttpRequest) -> QuerySet[Hall]:
    policy.require(_user(request), "org.view")
    return Hall.objects.all()


@router.get("/halls/{hall_id}/windows", response=list[WindowOut], summary="大厅的窗口")
@paginate(PageNumberPagination)
def hall_windows(
    request: HttpRequest,
    hall_id: int,
    active: bool = Query(True, description="true（默认）列启用的，false 列停用的"),
) -> QuerySet[Window]:
    policy.require(_user(request), "org.view")
    hall = get_object_or_404(Hall, pk=hall_id)
    queryset = hall.windows.select_related("department")
    return queryset.filter(active=active)


def _staff() -> QuerySet[User]:
    return User.objects.exclude(role=Role.CITIZEN).select_related("department")


@router.get("/staff", response=list[StaffOut], summary="工作人员")
@paginate(PageNumberPagination)
def staff_list(
    request: HttpRequest,
    department: int | None = Query(None, description="部门 id"),
    role: Role | None = None,
    q: str = Query("", max_length=64, description="姓名、登录名或工号"),
    is_active: bool = True,
) -> QuerySet[User]:
    user = _user(request)
    policy.require(user, "staff.view")
    queryset = policy.visible(user, _staff(), "staff.view").filter(is_active=is_active)
    if department is not None:
        queryset = queryset.filter(department_id=department)
    if role is not None:
        queryset = queryset.filter(role=role)
    if q.strip():
        text = q.strip()
        queryset = queryset.filter(
            Q(name__icontains=text) | Q(username__icontains=text) | Q(staff_no=text)
        )
    return queryset.order_by("department__sort_order", "department__code", "username")


@router.get("/staff/{staff_id}", response=StaffOut, summary="工作人员详情")
def staff_detail(request: HttpRequest, staff_id: int) -> User:
    return policy.get_object(_user(request), _staff(), "staff.view", pk=staff_id)


@router.post(
    "/staff/{staff_id}/mobile", response=StaffMobileOut, summary="查看完整手机号（记入审计）"
)
def staff_mobile(request: HttpRequest, staff_id: int) -> User:
    """A POST, not a GET: showing personal data is an act that is recorded."""
    user = _user(request)
    staff = policy.get_object(user, _staff(), "staff.view", pk=staff_id)
    return access.view_personal(user, "staff.view", staff, fields=["mobile"])


@router.patch("/staff/{staff_id}", response=StaffOut, summary="修改工作人员的姓名或手机号")
def staff_update(request: HttpRequest, staff_id: int, payload: StaffPatch) -> User:
    user = _user(request)
    changes = payload.model_dump(exclude_unset=True)
    if not changes:
        raise ApiError(
            INVALID, _("请至少提供一个要修改的字段"), 422, {NON_FIELD: [_("可修改：name、mobile")]}
        )
    # The action replaces every editable field, so the fields not sent are read under the
    # same row lock: a concurrent edit of another field is not silently undone.
    with transaction.atomic():
        # 404 for another department's account (guessing ids learns nothing), 403 for an
        # account of one's own department that one may not manage.
        locked = _staff().select_for_update(of=("self",))
        staff = policy.get_object(user, locked, "staff.manage", pk=staff_id)
        data = actions.StaffData(
            username=staff.username,
            name=changes.get("name", staff.name),
            role=staff.role,
            department=staff.department,
            window=staff.window,
            staff_no=staff.staff_no,
            mobile=changes.get("mobile", staff.mobile),
        )
        actions.update_staff(staff.pk, data, by=user)
    return _staff().get(pk=staff.pk)


@router.get("/notifications", response=list[NotificationOut], summary="我的站内消息")
@paginate(PageNumberPagination)
def notifications(
    request: HttpRequest,
    unread: bool = Query(False, description="只列未读的"),
) -> QuerySet[Notification]:
    user = _user(request)
    policy.require(user, "notification.view")
    queryset = Notification.objects.filter(user=user)
    if unread:
        queryset = queryset.filter(read_at__isnull=True)
    return queryset


@router.post("/notifications/{notification_id}/read", response=NotificationOut, summary="标为已读")
def notification_read(request: HttpRequest, notification_id: int) -> Notification:
    # Someone else's notification raises DoesNotExist → 404, like one that does not exist.
    return actions.mark_notification_read(notification_id, by=_user(request))
