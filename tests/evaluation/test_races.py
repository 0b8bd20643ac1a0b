"""Two people (or two channels) acting at once: one wins, the other is told.

Needs row locks (PostgreSQL): the first action holds its transaction open until the second
is seen waiting for the row lock; then the first commits and the second must see it.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.db import close_old_connections, connection, connections, transaction

from minsheng.evaluation import actions
from minsheng.evaluation.errors import Conflict
from minsheng.evaluation.models import Case, Rating
from minsheng.evaluation.states import CaseState
from tests.evaluation.factories import Hall, event_at, make_hall, pad_for

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite has no row locks: one writer at a time, so there is no race to test",
)
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
        except Exception as error:
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
        assert time.monotonic() < deadline, "the second action did not wait for the row lock"
        assert two.is_alive(), f"the second action did not wait: {outcomes}"
        time.sleep(0.01)  # polling the server, not waiting for time to pass
    release.set()
    one.join(10)
    two.join(10)
    return [outcomes["first"], outcomes["second"]]


@pytest.fixture
def hall() -> Hall:
    return make_hall()


@postgres_only
@racing
def test_two_people_call_the_citizen_back_at_once(hall: Hall) -> None:
    event = event_at(hall)
    rating = actions.rate_by_hotline(
        event.pk, actions.RatingInput(1, ["attitude"]), by=hall.operator
    )
    case = Case.objects.get(rating=rating)
    outcomes = _race(
        lambda: actions.verify_case(case.pk, by=hall.handler, note="承办人已回访"),
        lambda: actions.verify_case(case.pk, by=hall.head, note="科长也回访了"),
    )
    assert outcomes == ["ok", "conflict"]
    case.refresh_from_db()
    assert case.state == CaseState.CLASSIFYING and case.verify_note == "承办人已回访"


@postgres_only
@racing
def test_the_pad_and_the_kiosk_rate_the_same_event_at_once(hall: Hall) -> None:
    event = event_at(hall)
    pad, _token = pad_for(hall)
    outcomes = _race(
        lambda: actions.rate_from_pad(pad, uuid.uuid4(), actions.RatingInput(5), event_id=event.pk),
        lambda: actions.rate_from_kiosk(hall.clerk.pk, actions.RatingInput(1, ["waiting"])),
    )
    assert outcomes == ["ok", "conflict"]
    assert Rating.objects.filter(event=event).count() == 1
    assert not Case.objects.exists()


@postgres_only
@racing
def test_a_pad_resends_while_its_first_send_is_still_in_flight(hall: Hall) -> None:
    event = event_at(hall)
    pad, _token = pad_for(hall)
    key = uuid.uuid4()
    results: list[Any] = []

    def send() -> None:
        results.append(actions.rate_from_pad(pad, key, actions.RatingInput(4), event_id=event.pk))

    assert _race(send, send) == ["ok", "ok"]
    assert [r.replayed for r in results] == [False, True]
    assert Rating.objects.count() == 1


@postgres_only
@racing
def test_a_rating_committed_during_the_rollup_is_not_lost(hall: Hall) -> None:
    from minsheng.evaluation import stats
    from minsheng.evaluation.models import DirtyMonth

    first, second = event_at(hall), event_at(hall)
    actions.rate_by_hotline(first.pk, actions.RatingInput(5), by=hall.operator)
    month = actions.month_of(first.started_at)
    assert DirtyMonth.objects.filter(month=month).exists()
    rated = threading.Event()
    release = threading.Event()
    failure: list[str] = []

    def rate_slowly() -> None:
        close_old_connections()
        try:
            with transaction.atomic():
                actions.rate_by_hotline(second.pk, actions.RatingInput(4), by=hall.operator)
                rated.set()
                assert release.wait(10)
        except Exception as error:
            failure.append(repr(error))
        finally:
            rated.set()
            connections.close_all()

    thread = threading.Thread(target=rate_slowly)
    thread.start()
    assert rated.wait(10)
    # The rollup runs while the second rating is written but not yet committed.
    assert stats.refresh_dirty() == [month]
    release.set()
    thread.join(10)
    assert not failure, failure

    assert DirtyMonth.objects.filter(month=month).exists()  # marked again by the commit
    assert stats.refresh_dirty() == [month]
    _rows, total = stats.compute(stats.Query("staff", month, month))
    assert total.rated == 2
