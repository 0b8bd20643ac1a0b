"""Two people acting on the same project at once: one succeeds, the other gets Conflict;
documents drawn at once get different numbers.

The thread tests need a database that locks rows (PostgreSQL): the first action is held
inside its transaction, holding its locks, until the second is seen waiting for one; then
the first commits and the second must find the project moved on.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.db import close_old_connections, connection, connections, transaction
from django.utils import timezone

from minsheng.core.models import AuditEvent, OutboxMessage, Role
from minsheng.projects import actions, sweep
from minsheng.projects.errors import Conflict
from minsheng.projects.models import CloseOut, CloseOutState, ProgressReport, Project, ReportDue
from minsheng.projects.states import ProjectState
from tests.factories import UserFactory
from tests.projects.factories import Cast, make_cast, make_project

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite has no row locks: one writer at a time, so there is no race to test",
)
# Real commits, so that the other thread sees them; serialized_rollback restores the rows
# the migrations wrote (categories, rules) for the tests after these.
racing = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _waiting_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        row = cursor.fetchone()
    return bool(row and row[0])


def _race(first: Callable[[], Any], second: Callable[[], Any]) -> list[str]:
    """Run ``first`` in a thread and hold its transaction open until ``second`` (in another
    thread) waits for a lock; then let ``first`` commit. Returns both outcomes."""
    outcomes: dict[str, str] = {}
    holding = threading.Event()
    release = threading.Event()

    def outcome(name: str, fn: Callable[[], Any], hold: bool) -> None:
        close_old_connections()
        try:
            with transaction.atomic():
                fn()
                if hold:
                    holding.set()
                    assert release.wait(10), "the second action never waited for the lock"
            outcomes[name] = "ok"
        except Conflict:
            outcomes[name] = "conflict"
        except Exception as error:  # reported by the assertion of the caller
            outcomes[name] = f"{type(error).__name__}: {error}"
        finally:
            holding.set()
            connections.close_all()

    one = threading.Thread(target=outcome, args=("first", first, True))
    one.start()
    assert holding.wait(10)
    two = threading.Thread(target=outcome, args=("second", second, False))
    two.start()
    deadline = time.monotonic() + 10
    while not _waiting_for_a_lock():
        assert time.monotonic() < deadline, "the second action did not wait for a lock"
        assert two.is_alive(), f"the second action did not wait: {outcomes}"
        time.sleep(0.01)  # polling the server, not waiting for time to pass
    release.set()
    one.join(10)
    two.join(10)
    return [outcomes["first"], outcomes["second"]]


@pytest.fixture
def cast() -> Cast:
    return make_cast()


@postgres_only
@racing
def test_accept_and_reject_closeout_at_once(cast: Cast) -> None:
    project = make_project(cast)
    closeout = actions.apply_closeout(project.pk, by=cast.head, evidence="管网全线贯通")
    other_supervisor = UserFactory(role=Role.SUPERVISOR)
    outcomes = _race(
        lambda: actions.decide_closeout(closeout.pk, by=cast.supervisor, accept=True),
        lambda: actions.decide_closeout(
            closeout.pk, by=other_supervisor, accept=False, reason="缺少通水验收记录"
        ),
    )
    assert outcomes == ["ok", "conflict"]
    project = Project.objects.get(pk=project.pk)
    closeout = CloseOut.objects.get(pk=closeout.pk)
    assert project.state == ProjectState.CLOSED and project.closed_by == cast.supervisor
    assert closeout.state == CloseOutState.ACCEPTED and closeout.reason == ""
    assert AuditEvent.objects.filter(action="projects.closeout.decided").count() == 1


@postgres_only
@racing
def test_two_people_report_the_same_period_at_once(cast: Cast) -> None:
    project = make_project(cast)
    period = timezone.localdate().replace(day=1)
    outcomes = _race(
        lambda: actions.submit_report(
            project.pk, by=cast.handler, period=period, text="第一份报告内容", percent=30
        ),
        lambda: actions.submit_report(
            project.pk, by=cast.co_handler, period=period, text="第二份报告内容", percent=40
        ),
    )
    assert outcomes == ["ok", "conflict"]
    (report,) = ProgressReport.objects.all()
    assert report.submitted_by == cast.handler
    assert Project.objects.get(pk=project.pk).percent_complete == 30


@postgres_only
@racing
def test_documents_drawn_at_once_get_different_numbers(cast: Cast) -> None:
    one = make_project(cast)
    two = make_project(cast, title="残疾人意外伤害保险")
    actions.escalate(one.pk, by=cast.supervisor, step="written", text="第一份书面督办")
    actions.resolve_escalation(
        one.escalations.get().pk, by=cast.supervisor, resolution="已整改到位"
    )
    outcomes = _race(
        lambda: actions.escalate(one.pk, by=cast.supervisor, step="written", text="再次书面督办"),
        lambda: actions.escalate(two.pk, by=cast.supervisor, step="written", text="书面督办"),
    )
    assert outcomes == ["ok", "ok"]
    numbers = sorted(
        e.doc_seq for e in [*one.escalations.all(), *two.escalations.all()] if e.doc_seq
    )
    assert numbers == [1, 2, 3]


@postgres_only
@racing
def test_two_sweeps_at_once_issue_each_escalation_once(cast: Cast) -> None:
    with time_machine.travel(dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC), tick=False):
        project = make_project(cast)
    then = dt.datetime(2026, 4, 8, 10, tzinfo=dt.UTC)  # 提醒 and 催办 are due
    outcomes = _race(lambda: sweep.sweep(now=then), lambda: sweep.sweep(now=then))
    assert outcomes == ["ok", "ok"]
    assert sorted(project.escalations.values_list("step", flat=True)) == ["remind", "urge"]
    assert ReportDue.objects.filter(project=project).count() == 1
    assert OutboxMessage.objects.filter(kind="projects.report.remind").count() == 2  # 2 people
