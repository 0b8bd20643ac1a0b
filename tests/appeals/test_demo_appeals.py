"""`minsheng demo` adds categories, the routing catalogue and a year of appeals made through
the actions: every state shows up, every KPI grouping has figures, the audit chain holds."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from minsheng.appeals import demo as appeals_demo
from minsheng.appeals import kpis
from minsheng.appeals.models import (
    Appeal,
    AppealEvent,
    Category,
    Channel,
    ExtensionRequest,
    Rating,
    ReturnRecord,
    RoutingRule,
    Supervision,
)
from minsheng.appeals.states import State
from minsheng.core import audit, demo
from minsheng.core.models import AuditEvent, Department, OutboxMessage

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
# A fixed moment (a Friday morning) so that the year and its holidays are always the same.
LOADED_AT = dt.datetime(2026, 11, 20, 10, 30, tzinfo=TZ)


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker):
    """One load for the module (it simulates a year): 400 appeals, rolled back at the end
    so that the next modules find the database as the migrations left it."""
    lines: list[str] = []
    with (
        django_db_blocker.unblock(),
        override_settings(DEMO_APPEALS=400),
        transaction.atomic(),
    ):
        with time_machine.travel(LOADED_AT, tick=False):
            demo.load(lines.append)
        yield lines
        transaction.set_rollback(True)


def test_categories_and_routing_catalogue(loaded: list[str]) -> None:
    tops = Category.objects.filter(parent=None)
    assert tops.count() >= 12
    assert {"城乡建设", "环境保护", "交通运输", "劳动和社会保障", "民政", "自然资源"} <= set(
        tops.values_list("name", flat=True)
    )
    assert all(top.children.exists() for top in tops)
    # Every category is routed to a department, or left to the town government (属地).
    routed = RoutingRule.objects.select_related("category", "department")
    assert routed.get(category__code="ldsb-yb").department.code == "ybj"
    assert routed.get(category__code="cxjs-sz").department.code == "zjj"
    assert not routed.filter(category__code="nync-hj").exists()
    assert set(
        routed.get(category__code="hjbh-yy").co_departments.values_list("code", flat=True)
    ) == {"scjgj"}


def test_a_year_of_appeals_in_every_state(loaded: list[str]) -> None:
    appeals = Appeal.objects.all()
    assert 350 <= appeals.count() <= 450
    assert set(appeals.values_list("state", flat=True)) == set(State.values)
    first, last = appeals.order_by("received_at")[0], appeals.order_by("-received_at")[0]
    assert LOADED_AT - first.received_at > dt.timedelta(days=330)
    assert last.received_at < LOADED_AT
    assert first.number.startswith(f"YT-{timezone.localdate(first.received_at):%Y%m%d}-")
    # The situations a demo has to show.
    assert ReturnRecord.objects.filter(disputed=True).exists()
    assert ReturnRecord.objects.filter(disputed=False).exists()
    assert ExtensionRequest.objects.filter(status=ExtensionRequest.Status.APPROVED).exists()
    assert appeals.filter(rehandle_count__gt=0).exists()
    assert Supervision.objects.filter(reason=Supervision.Reason.OVERDUE).exists()
    assert appeals.overdue(LOADED_AT).exists()
    assert appeals.filter(merged_into__isnull=False, state=State.CLOSED).exists()
    levels = set(Rating.objects.values_list("level", flat=True))
    assert {"satisfied", "basic", "unsatisfied", ""} <= levels
    assert set(appeals.values_list("channel", flat=True)) >= {Channel.HOTLINE, Channel.WECHAT}
    assert appeals.filter(anonymous=True).exists() and appeals.filter(citizen__isnull=False)
    # Made through the actions: each appeal has its timeline, received first.
    received = AppealEvent.objects.filter(kind="received").values_list("appeal", flat=True)
    assert set(received) == set(appeals.values_list("pk", flat=True))
    assert (
        AuditEvent.objects.filter(action="appeal.closed").count()
        == appeals.filter(state=State.CLOSED).count()
    )


def test_kpis_have_figures_for_every_grouping(loaded: list[str]) -> None:
    start, end = LOADED_AT - dt.timedelta(days=366), LOADED_AT
    for group in kpis.GROUPS:
        rows = kpis.compute(start, end, group=group, now=LOADED_AT)
        assert rows, group
        assert all(row.received for row in rows), group
        assert any(row.rates["satisfaction_rate"] is not None for row in rows), group
    (total,) = kpis.compute(start, end, group=None, now=LOADED_AT)
    for name, value in total.rates.items():
        assert value is not None and 0 <= value <= 100, name
    assert 0 < total.rates["return_rate"] < 20 and total.rates["satisfaction_rate"] > 60
    assert total.avg_days is not None and total.p90_days is not None
    departments = kpis.compute(start, end, group="department", now=LOADED_AT)
    assert len(departments) >= 12
    assert Department.objects.filter(pk__in=[r.key for r in departments], kind="town").exists()


def test_the_audit_chain_verifies_and_old_notifications_are_history(loaded: list[str]) -> None:
    assert audit.verify().ok
    recent = LOADED_AT - appeals_demo.FRESH_NOTIFICATIONS
    assert not OutboxMessage.objects.filter(
        status=OutboxMessage.Status.PENDING, created_at__lt=recent
    ).exists()
    assert OutboxMessage.objects.filter(kind="appeal.received", channel="sms").exists()
    assert any("演示诉求" in line and "完成" in line for line in loaded)


def test_loading_again_adds_no_appeals(loaded: list[str]) -> None:
    count = Appeal.objects.count()
    with time_machine.travel(LOADED_AT + dt.timedelta(hours=1), tick=False):
        demo.load(lambda line: None)
    assert Appeal.objects.count() == count
