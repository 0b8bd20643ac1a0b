from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections
from django.test import override_settings
from django.urls import reverse

from minsheng.__main__ import main
from minsheng.core import audit, context
from minsheng.core.models import AuditEvent, AuditHead, Role
from minsheng.core.models.audit import AuditEventImmutable
from tests.factories import DepartmentFactory, UserFactory

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def _record_many(n: int, actor=None) -> list[AuditEvent]:
    """n events, sealed into the chain (as they are after their commit)."""
    department = DepartmentFactory()
    events = [
        audit.record(
            actor,
            "department.renamed",
            department,
            before={"name": f"旧{i}"},
            after={"name": f"新{i}"},
        )
        for i in range(n)
    ]
    audit.seal_pending()
    return [AuditEvent.objects.get(pk=event.pk) for event in events]


def _raw_delete(seq: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE seq = %s", [seq])


@pytest.mark.django_db
class TestRecord:
    def test_chains_events_from_genesis(self):
        user = UserFactory(role=Role.DISPATCHER, name="李四")
        first, second = _record_many(2, actor=user)

        assert (first.seq, second.seq) == (1, 2)
        assert first.prev_hash == audit.GENESIS
        assert second.prev_hash == first.hash
        assert first.actor_id == user.pk
        assert (first.actor_label, first.role) == ("李四", "dispatcher")
        assert first.object_type == "core.department"
        head = AuditHead.objects.get()
        assert (head.last_seq, head.last_hash) == (2, second.hash)

    def test_system_actor_and_request_context(self):
        token = context.begin("req-12345678", "2001:DB8::1")
        try:
            event = audit.record(
                None, "holiday.imported", object_type="core.holidayday", object_id="2026"
            )
        finally:
            context.end(token)

        assert (event.actor_id, event.actor_label, event.role) == (None, "", "")
        assert event.request_id == "req-12345678"
        # Stored the way PostgreSQL's inet prints it back, so the hash survives a reload.
        assert event.ip == "2001:db8::1"

    def test_ip_that_is_not_an_address_is_dropped(self):
        token = context.begin("req-12345678", "unix:/run/gunicorn.sock")
        try:
            event = audit.record(None, "x.happened")
        finally:
            context.end(token)
        assert event.ip is None

    @pytest.mark.parametrize(
        "ip", ["10.0.0.7", "2001:DB8:0:0:1:0:0:1", "::FFFF:10.0.0.1", "fe80::1"]
    )
    def test_stored_event_hashes_the_same_after_reload(self, ip):
        when = dt.datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=SHANGHAI)
        token = context.begin("req-12345678", ip)
        try:
            with time_machine.travel(when, tick=False):
                written = audit.record(
                    None,
                    "project.updated",
                    object_type="projects.project",
                    object_id="7",
                    before={
                        "budget": Decimal("12.50"),
                        "due": dt.date(2026, 5, 1),
                        "b": 1,
                        "a": "县",
                    },
                    after={"share": 0.1, "big": 1e20, "whole": 3.0, "tags": ["民生", None, True]},
                )
        finally:
            context.end(token)
        audit.seal_pending()
        reloaded = AuditEvent.objects.get(pk=written.pk)

        assert reloaded.created_at == when
        assert reloaded.before == {"a": "县", "b": 1, "budget": "12.50", "due": "2026-05-01"}
        assert reloaded.hash and audit.compute_hash(reloaded) == reloaded.hash
        assert audit.verify().ok

    def test_not_a_number_is_refused(self):
        with pytest.raises(ValueError):
            audit.record(None, "x.happened", after={"ratio": float("nan")})
        assert not AuditEvent.objects.exists()

    def test_rolled_back_change_leaves_no_event_and_no_gap(self):
        from django.db import transaction

        _record_many(1)
        with pytest.raises(RuntimeError), transaction.atomic():
            audit.record(None, "x.happened")
            raise RuntimeError("the change failed")
        event = audit.record(None, "y.happened")
        audit.seal_pending()

        assert AuditEvent.objects.get(pk=event.pk).seq == 2
        assert audit.verify().ok

    def test_events_wait_unsealed_until_sealed(self):
        (first,) = _record_many(1)
        event = audit.record(None, "x.happened")

        assert (event.seq, event.hash) == (None, "")
        result = audit.verify()
        assert (result.ok, result.checked, result.pending) == (True, 1, 1)
        assert result.oldest_pending == event.created_at

        assert audit.seal_pending() == 1
        sealed = AuditEvent.objects.get(pk=event.pk)
        assert (sealed.seq, sealed.prev_hash) == (2, first.hash)
        assert audit.verify().pending == 0
        assert audit.seal_pending() == 0

    def test_sealing_works_in_batches(self):
        for i in range(5):
            audit.record(None, "x.happened", object_id=str(i))

        assert audit.seal_pending(batch=2) == 5
        assert list(AuditEvent.objects.order_by("seq").values_list("object_id", flat=True)) == [
            "0",
            "1",
            "2",
            "3",
            "4",
        ]
        assert audit.verify().checked == 5

    def test_snapshot(self):
        user = UserFactory(role=Role.HANDLER, mobile="13812341234")

        data = audit.snapshot(user, ["mobile", "department", "role", "photo", "groups"])

        assert data == {
            "mobile": "13812341234",
            "department": user.department_id,
            "role": "handler",
            "photo": "",
            "groups": [],
        }


@pytest.mark.django_db
class TestImmutable:
    def test_save_of_an_existing_event_is_refused(self):
        (event,) = _record_many(1)
        event.action = "something.else"
        with pytest.raises(AuditEventImmutable):
            event.save()
        assert AuditEvent.objects.get().action == "department.renamed"

    def test_new_instance_reusing_an_id_does_not_overwrite(self):
        from django.db import IntegrityError, transaction

        (event,) = _record_many(1)
        copy = AuditEvent(
            pk=event.pk, seq=99, created_at=event.created_at, action="fake", prev_hash="", hash=""
        )
        with pytest.raises(IntegrityError), transaction.atomic():
            copy.save()
        assert AuditEvent.objects.get().action == "department.renamed"

    def test_delete_is_refused(self):
        (event,) = _record_many(1)
        with pytest.raises(AuditEventImmutable):
            event.delete()
        with pytest.raises(AuditEventImmutable):
            AuditEvent.objects.all().delete()
        assert AuditEvent.objects.count() == 1


@pytest.mark.django_db
class TestVerify:
    def test_empty_and_intact_chains(self):
        assert audit.verify().ok
        assert audit.verify().checked == 0
        events = _record_many(5)

        result = audit.verify()

        assert result.ok
        assert (result.checked, result.last_hash) == (5, events[-1].hash)

    def test_edited_event(self):
        _record_many(5)
        AuditEvent.objects.filter(seq=3).update(after={"name": "改过的"})

        result = audit.verify()

        assert (result.ok, result.broken_seq, result.checked) == (False, 3, 2)
        assert "第 3 条事件写入后被改动过" in result.reason

    def test_edited_event_with_recomputed_hash_breaks_the_next_link(self):
        _record_many(5)
        AuditEvent.objects.filter(seq=3).update(actor_label="别人")
        forged = AuditEvent.objects.get(seq=3)
        AuditEvent.objects.filter(seq=3).update(hash=audit.compute_hash(forged))

        result = audit.verify()

        assert result.broken_seq == 4
        assert "第 4 条事件与第 3 条接不上" in result.reason

    def test_rewritten_last_event_disagrees_with_the_head(self):
        _record_many(3)
        AuditEvent.objects.filter(seq=3).update(action="forged.action")
        forged = AuditEvent.objects.get(seq=3)
        AuditEvent.objects.filter(seq=3).update(hash=audit.compute_hash(forged))

        assert audit.verify().broken_seq == 3

    def test_deleted_middle_event(self):
        _record_many(5)
        _raw_delete(3)

        result = audit.verify()

        assert (result.broken_seq, result.checked) == (3, 2)
        assert "第 3 条事件缺失" in result.reason

    def test_deleted_middle_event_with_renumbering(self):
        _record_many(5)
        _raw_delete(3)
        for seq in (4, 5):
            AuditEvent.objects.filter(seq=seq).update(seq=seq - 1)
        AuditHead.objects.update(last_seq=4)

        assert audit.verify().broken_seq == 3

    def test_deleted_last_event(self):
        _record_many(5)
        _raw_delete(5)

        result = audit.verify()

        assert (result.broken_seq, result.checked) == (5, 4)
        assert "第 5 至第 5 条事件缺失" in result.reason

    def test_deleted_head(self):
        _record_many(2)
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM core_audithead")

        result = audit.verify()

        assert (result.ok, result.broken_seq) == (False, 1)
        assert "链头记录缺失" in result.reason

    def test_events_appended_after_the_check_started_are_left_for_later(self):
        _record_many(3)
        seen: list[int] = []

        def append_meanwhile(checked: int) -> None:
            seen.append(checked)
            if checked == 1:
                audit.record(None, "x.happened")

        result = audit.verify(progress=append_meanwhile)

        assert result.ok
        assert result.checked == 3
        assert seen == [1, 2, 3]
        audit.seal_pending()
        assert audit.verify().checked == 4

    def test_given_sequence(self):
        events = _record_many(3)
        assert audit.verify(events).ok
        assert audit.verify(events[1:]).broken_seq == 1


@pytest.mark.django_db
class TestCommand:
    def test_verify_ok(self):
        events = _record_many(3)
        out = StringIO()

        call_command("audit", "verify", stdout=out)

        assert f"审计链完整：共 3 条事件，末条哈希 {events[-1].hash}" in out.getvalue()

    def test_verify_shows_progress(self):
        _record_many(5)
        out, err = StringIO(), StringIO()

        call_command("audit", "verify", "--every", "2", stdout=out, stderr=err)

        assert err.getvalue().splitlines() == ["已校验 2 / 5 条", "已校验 4 / 5 条"]

    def test_verify_progress_on_a_terminal_rewrites_one_line(self):
        class Terminal(StringIO):
            def isatty(self) -> bool:
                return True

        _record_many(4)
        err = Terminal()

        call_command("audit", "verify", "--every", "2", stdout=StringIO(), stderr=err)

        assert err.getvalue() == "\r已校验 2 / 4 条\r已校验 4 / 4 条\n"

    def test_verify_progress_silenced(self):
        _record_many(5)
        err = StringIO()
        call_command("audit", "verify", "--every", "2", verbosity=0, stdout=StringIO(), stderr=err)
        assert err.getvalue() == ""

    def test_verify_broken_chain_fails(self):
        _record_many(4)
        _raw_delete(2)

        with pytest.raises(CommandError, match=r"审计链断裂：第 2 条事件缺失.*之前的 1 条事件完好"):
            call_command("audit", "verify", stdout=StringIO())

    def test_verify_exit_code(self, capsys):
        _record_many(2)
        AuditEvent.objects.filter(seq=1).update(role="admin")

        with pytest.raises(SystemExit) as exit_info:
            main(["audit", "verify"])

        assert exit_info.value.code == 1
        assert "第 1 条事件写入后被改动过" in capsys.readouterr().err

    def test_verify_rejects_bad_interval(self):
        with pytest.raises(CommandError, match="--every"):
            call_command("audit", "verify", "--every", "0")

    def test_tail(self):
        user = UserFactory(role=Role.ADMIN, name="王五")
        department = DepartmentFactory(name="县民政局")
        with time_machine.travel(dt.datetime(2026, 3, 1, 9, 0, tzinfo=SHANGHAI), tick=False):
            for _ in range(4):
                audit.record(user, "department.renamed", department)
            token = context.begin("abcdef12345678")
            try:
                audit.record(None, "holiday.imported")
            finally:
                context.end(token)
            audit.seal_pending()
            audit.record(None, "x.happened")
        out = StringIO()

        call_command("audit", "tail", "-n", "3", stdout=out)

        assert out.getvalue().splitlines() == [
            f"#4 2026-03-01 09:00:00 王五(admin) department.renamed "
            f"core.department:{department.pk} 县民政局",
            "#5 2026-03-01 09:00:00 系统 holiday.imported 请求 abcdef12345678",
            "#(待封存) 2026-03-01 09:00:00 系统 x.happened",
        ]

    def test_seal_and_pending_events(self):
        _record_many(2)
        with time_machine.travel(dt.datetime(2026, 3, 1, 9, 0, tzinfo=SHANGHAI), tick=False):
            audit.record(None, "x.happened")
        out = StringIO()

        with time_machine.travel(dt.datetime(2026, 3, 1, 9, 2, tzinfo=SHANGHAI), tick=False):
            call_command("audit", "verify", stdout=out)
        assert "另有 1 条新事件待封存（最早一条已等待 2 分钟）" in out.getvalue()
        assert "封存任务可能没有运行" not in out.getvalue()

        with time_machine.travel(dt.datetime(2026, 3, 1, 9, 30, tzinfo=SHANGHAI), tick=False):
            call_command("audit", "verify", stdout=out)
        assert "封存任务可能没有运行" in out.getvalue()

        call_command("audit", "seal", stdout=out)
        assert "已封存 1 条事件" in out.getvalue()
        assert audit.verify().checked == 3

    def test_tail_verbose_shows_before_and_after(self):
        _record_many(1)
        out = StringIO()
        call_command("audit", "tail", verbosity=2, stdout=out)
        assert '变更前: {"name": "旧0"}' in out.getvalue()
        assert '变更后: {"name": "新0"}' in out.getvalue()

    def test_tail_empty(self):
        out = StringIO()
        call_command("audit", "tail", stdout=out)
        assert out.getvalue().strip() == "还没有审计事件"


@pytest.mark.django_db
class TestAdmin:
    @pytest.fixture
    def superuser(self, client):
        user = UserFactory(role=Role.CITIZEN, is_staff=True, is_superuser=True)
        client.force_login(user)
        return user

    def test_superuser_cannot_add_change_or_delete(self, client, superuser):
        (event,) = _record_many(1)

        assert client.get(reverse("admin:core_auditevent_add")).status_code == 403
        assert (
            client.post(reverse("admin:core_auditevent_delete", args=[event.pk])).status_code == 403
        )
        change_url = reverse("admin:core_auditevent_change", args=[event.pk])
        page = client.get(change_url)
        assert page.status_code == 200
        assert b'name="action"' not in page.content  # no form fields, only read-only values
        client.post(change_url, {"action": "forged"})
        assert AuditEvent.objects.get(pk=event.pk).action == "department.renamed"

        changelist = client.get(reverse("admin:core_auditevent_changelist"))
        assert changelist.status_code == 200
        assert b"delete_selected" not in changelist.content
        assert reverse("admin:core_auditevent_add").encode() not in changelist.content

    def test_opening_an_event_is_recorded(self, client, superuser):
        (event,) = _record_many(1)

        client.get(reverse("admin:core_auditevent_change", args=[event.pk]))

        viewed = AuditEvent.objects.get(action="audit.view")
        assert (viewed.action, viewed.actor_id, viewed.object_id) == (
            "audit.view",
            superuser.pk,
            str(event.pk),
        )
        assert audit.verify().ok

    @time_machine.travel(dt.datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI), tick=False)
    def test_filters_and_search(self, client, superuser):
        department = DepartmentFactory()
        token = context.begin("needle-request-1")
        try:
            audit.record(None, "department.created", department)
        finally:
            context.end(token)
        audit.record(UserFactory(role=Role.ADMIN), "department.renamed", department)
        audit.seal_pending()
        url = reverse("admin:core_auditevent_changelist")

        def seqs(params: dict[str, str]) -> list[int]:
            response = client.get(url, params)
            assert response.status_code == 200
            return [event.seq for event in response.context["cl"].result_list]

        assert seqs({"action": "department.renamed"}) == [2]
        assert seqs({"role": "admin"}) == [2]
        assert seqs({"q": "needle-request-1"}) == [1]
        assert seqs({"q": str(department.pk)}) == [2, 1]
        assert seqs({"q": "needle"}) == []  # exact matches only
        midnight = dt.datetime(2026, 3, 2, tzinfo=SHANGHAI)
        assert seqs({"created_at__gte": str(midnight)}) == [2, 1]
        assert seqs({"created_at__lt": str(midnight)}) == []

    @pytest.mark.parametrize(
        ("role", "status"), [(Role.SUPERVISOR, 200), (Role.ADMIN, 200), (Role.LEADER, 403)]
    )
    def test_view_follows_the_policy(self, client, role, status):
        client.force_login(UserFactory(role=role, is_staff=True))
        assert client.get(reverse("admin:core_auditevent_changelist")).status_code == status


@pytest.mark.postgres
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks (SELECT ... FOR UPDATE) need PostgreSQL"
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_make_a_gap_free_chain():
    """Requests committing at once, each trying to seal after its commit: every event ends
    up in one gap-free chain, in whatever order the sealers took them."""
    per_thread = 40
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def append(label: str) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                audit.record(None, f"{label}.step", object_type="test", object_id=str(i))
        except BaseException as exc:  # reported to the main thread below
            errors.append(exc)
        finally:
            connections.close_all()

    with override_settings(AUDIT_SEAL_INTERVAL=0):
        threads = [threading.Thread(target=append, args=(label,)) for label in ("a", "b")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert errors == []
    audit.seal_pending()  # the last ones, if their sealer found the head busy
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, 2 * per_thread + 1))
    assert set(AuditEvent.objects.values_list("action", flat=True)) == {"a.step", "b.step"}
    result = audit.verify()
    assert (result.ok, result.checked, result.pending) == (True, 2 * per_thread, 0)


@pytest.mark.django_db(transaction=True)
def test_an_event_is_sealed_when_its_transaction_commits():
    from django.db import transaction

    with override_settings(AUDIT_SEAL_INTERVAL=0):
        with transaction.atomic():
            event = audit.record(None, "x.happened")
            assert AuditEvent.objects.get(pk=event.pk).seq is None
        assert AuditEvent.objects.get(pk=event.pk).seq == 1
