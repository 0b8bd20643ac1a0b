"""Two people acting on the same appeal at once: one succeeds, the other gets Conflict.

The thread tests need a database that locks rows (PostgreSQL): the first action is held
inside its transaction, holding the appeal's row lock, until the second is seen waiting
for that lock; then the first commits and the second must find the appeal moved on.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import close_old_connections, connection, connections, transaction

from minsheng.appeals import actions
from minsheng.appeals.errors import Conflict
from minsheng.appeals.models import Appeal
from minsheng.appeals.states import State
from minsheng.core.models import AuditEvent, OutboxMessage
from tests.appeals.factories import REPLY, Cast, appeal_in, make_cast

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite has no row locks: one writer at a time, so there is no race to test",
)


# -- stale pages (both databases) ------------------------------------------------------------


@pytest.mark.django_db
def test_an_action_from_a_stale_page_is_a_conflict() -> None:
    cast = make_cast()
    appeal = appeal_in(State.DISPATCHED, cast)
    seen = appeal.version  # both the handler and the dispatcher opened the page now
    actions.sign(appeal.pk, by=cast.handler, expected_version=seen)
    with pytest.raises(Conflict) as error:
        actions.dispatch(
            appeal.pk,
            department_id=cast.other_department.pk,
            by=cast.dispatcher,
            expected_version=seen,
        )
    assert "刷新" in error.value.message
    appeal.refresh_from_db()
    assert appeal.state == State.HANDLING and appeal.lead_department == cast.department
    assert appeal.version == seen + 1
    # Signing on the fresh page works; so does any action without a version.
    actions.add_note(appeal.pk, text="已到现场查看", by=cast.handler)
    actions.reply(appeal.pk, text=REPLY, by=cast.handler, expected_version=appeal.version)


# -- real races (PostgreSQL) -----------------------------------------------------------------


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
    thread) waits for the row lock; then let ``first`` commit. Returns both outcomes."""
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
        except Exception as error:  # reported by the assertion below
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


# Real commits, so that the other thread sees them; serialized_rollback restores the rows
# the migrations wrote, for these tests and for the transactional tests after them.
racing = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def race_cast() -> Cast:
    return make_cast()


@postgres_only
@racing
def test_sign_and_return_at_once(race_cast: Cast) -> None:
    cast = race_cast
    appeal = appeal_in(State.DISPATCHED, cast)
    outcomes = _race(
        lambda: actions.sign(appeal.pk, by=cast.handler),
        lambda: actions.return_appeal(appeal.pk, reason="不属于本部门职责", by=cast.second_handler),
    )
    assert outcomes == ["ok", "conflict"]
    appeal.refresh_from_db()
    assert appeal.state == State.HANDLING and appeal.return_count == 0
    assert not appeal.returns.exists()
    mine = AuditEvent.objects.filter(object_id=str(appeal.pk), object_type="appeals.appeal")
    assert not mine.filter(action="appeal.returned").exists()

    # And the other way round: the return wins, the signature is refused.
    other = appeal_in(State.DISPATCHED, cast)
    outcomes = _race(
        lambda: actions.return_appeal(other.pk, reason="不属于本部门职责", by=cast.second_handler),
        lambda: actions.sign(other.pk, by=cast.handler),
    )
    assert outcomes == ["ok", "conflict"]
    other.refresh_from_db()
    assert other.state == State.RETURNED and other.signed_at is None


@postgres_only
@racing
def test_two_handlers_reply_at_once(race_cast: Cast) -> None:
    cast = race_cast
    appeal = appeal_in(State.HANDLING, cast)
    outcomes = _race(
        lambda: actions.reply(appeal.pk, text=REPLY, by=cast.handler),
        lambda: actions.reply(
            appeal.pk, text="另一位同事写的答复，内容不同。", by=cast.second_handler
        ),
    )
    assert outcomes == ["ok", "conflict"]
    appeal = Appeal.objects.get(pk=appeal.pk)
    assert appeal.state == State.REPLIED and appeal.reply == REPLY
    assert AuditEvent.objects.filter(action="appeal.replied", object_id=str(appeal.pk)).count() == 1
    assert OutboxMessage.objects.filter(kind="appeal.replied").count() == 1
    assert appeal.events.filter(kind="replied").count() == 1
