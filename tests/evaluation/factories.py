"""A small hall for the 好差评 tests: one department with a window, its staff and the
people who handle 差评 (handler, head), a supervisor, a 12345 operator."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from minsheng.catalog.models import ServiceMatter
from minsheng.core.models import Department, Role, User, Window
from minsheng.evaluation import actions
from minsheng.evaluation.models import PadDevice, Rating, ServiceEvent
from tests.factories import DepartmentFactory, UserFactory, WindowFactory


@dataclass
class Hall:
    department: Department
    other_department: Department
    window: Window
    other_window: Window
    clerk: User  # window staff
    clerk2: User  # a second person at the same window
    handler: User
    head: User
    other_head: User
    supervisor: User
    operator: User  # 12345
    matter: ServiceMatter


def make_hall() -> Hall:
    department = DepartmentFactory(name="测试人社局", short_name="人社局")
    other = DepartmentFactory(name="测试医保局", short_name="医保局")
    window = WindowFactory(department=department, name="社保窗口")
    other_window = WindowFactory(department=other, name="医保窗口")
    matter = ServiceMatter.objects.create(code="T-001", name="社保卡补办", department=department)
    return Hall(
        department=department,
        other_department=other,
        window=window,
        other_window=other_window,
        clerk=UserFactory(
            role=Role.WINDOW_STAFF,
            department=department,
            window=window,
            name="李晓燕",
            staff_no="S0001",
        ),
        clerk2=UserFactory(
            role=Role.WINDOW_STAFF,
            department=department,
            window=window,
            name="王芳",
            staff_no="S0002",
        ),
        handler=UserFactory(role=Role.HANDLER, department=department),
        head=UserFactory(role=Role.DEPT_HEAD, department=department),
        other_head=UserFactory(role=Role.DEPT_HEAD, department=other),
        supervisor=UserFactory(role=Role.SUPERVISOR, department=None),
        operator=UserFactory(role=Role.DISPATCHER, department=None),
        matter=matter,
    )


def event_at(
    hall: Hall,
    *,
    staff: User | None = None,
    window: Window | None = None,
    started_at: dt.datetime | None = None,
    mobile: str = "",
) -> ServiceEvent:
    window = window or hall.window
    return ServiceEvent.objects.create(
        department_id=window.department_id,
        window=window,
        staff=staff or hall.clerk,
        matter=hall.matter,
        started_at=started_at or timezone.now(),
        mobile=mobile,
    )


def pad_for(hall: Hall, window: Window | None = None) -> tuple[PadDevice, str]:
    return actions.bind_pad(
        (window or hall.window).pk, by=hall.head if window is None else hall.other_head
    )


def rate(
    event: ServiceEvent, level: int, reasons: list[str] | None = None, **kwargs: object
) -> Rating:
    return actions.rate_by_hotline(
        event.pk,
        actions.RatingInput(level, reasons or (["waiting"] if level <= 2 else [])),
        by=kwargs.get("by") or User.objects.filter(role=Role.DISPATCHER).first(),  # type: ignore[arg-type]
    )
