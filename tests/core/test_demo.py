from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from minsheng.core import audit, demo
from minsheng.core.models import AuditEvent, Department, Division, Hall, Role, User, Window

pytestmark = pytest.mark.django_db


def _quiet(_line: str) -> None:
    pass


def test_builds_a_believable_county() -> None:
    demo.load(_quiet)

    county = Division.objects.get(level=Division.Level.COUNTY)
    assert county.code == demo.COUNTY_CODE
    towns = Division.objects.filter(level=Division.Level.TOWN)
    villages = Division.objects.filter(level=Division.Level.VILLAGE)
    assert towns.count() == 10
    assert villages.count() == 60
    assert {"城关镇", "河西街道"} <= set(towns.values_list("name", flat=True))
    # GB/T 2260 style: 9-digit town codes and 12-digit village codes extending their parent's.
    assert all(len(t.code) == 9 and t.code.startswith(county.code) for t in towns)
    assert all(
        len(v.code) == 12 and v.code.startswith(v.parent.code)
        for v in villages.select_related("parent")
    )

    county_departments = Department.objects.filter(kind=Department.Kind.COUNTY)
    assert county_departments.count() >= 12  # core's twelve; the catalogue may add more
    assert "示范县人力资源和社会保障局" in set(county_departments.values_list("name", flat=True))
    assert (
        Department.objects.filter(
            kind=Department.Kind.TOWN, division__level=Division.Level.TOWN
        ).count()
        == 10
    )

    assert Hall.objects.count() == 3
    assert Window.objects.count() >= 40  # core's forty; later steps may add windows
    assert not Window.objects.filter(department=None).exists()

    staff = User.objects.exclude(username__in=[u for u, _r, _n, _d in demo.DEMO_USERS])
    assert 55 <= staff.count() <= 65
    assert not staff.filter(role=Role.WINDOW_STAFF, window=None).exists()


def test_every_person_passes_model_validation() -> None:
    demo.load(_quiet)
    for user in User.objects.all():
        user.full_clean()  # mobile numbers, required departments, unique usernames


def test_one_login_per_role_with_the_printed_password() -> None:
    demo.load(_quiet)
    for username, role, _name, _dept in demo.DEMO_USERS:
        user = User.objects.get(username=username)
        assert user.role == role
        assert user.must_change_password
        assert user.check_password(demo.DEMO_PASSWORD)
    assert {
        u.role for u in User.objects.filter(username__in=[u for u, *_ in demo.DEMO_USERS])
    } == set(Role)
    admin = User.objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser
    assert not User.objects.filter(is_superuser=True).exclude(username="admin").exists()


def test_loading_twice_changes_nothing_and_is_audited() -> None:
    demo.load(_quiet)
    counts = (
        Division.objects.count(),
        Department.objects.count(),
        Window.objects.count(),
        User.objects.count(),
    )
    demo.load(_quiet)
    assert (
        Division.objects.count(),
        Department.objects.count(),
        Window.objects.count(),
        User.objects.count(),
    ) == counts

    events = AuditEvent.objects.filter(action="demo.loaded")
    assert events.count() == 2
    assert events.first().after["steps"][0] == "core"
    assert audit.verify().ok


def test_app_steps_run_after_core_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo, "_steps", dict(demo._steps))
    seen: list[str] = []

    @demo.register("later", "后面的步骤", order=300)
    def later(ctx: demo.DemoContext) -> None:
        seen.append("later")

    @demo.register("appeals", "诉求", order=200)
    def appeals(ctx: demo.DemoContext) -> None:
        assert Window.objects.count() >= 40  # core's county exists by now
        seen.append("appeals")

    lines: list[str] = []
    demo.load(lines.append)
    assert seen == ["appeals", "later"]
    assert any("诉求" in line for line in lines)


def test_a_failing_step_leaves_no_half_written_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo, "_steps", dict(demo._steps))

    @demo.register("broken", "坏步骤", order=100)
    def broken(ctx: demo.DemoContext) -> None:
        Hall.objects.create(code="X", name="半截的厅")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        demo.load(_quiet)
    assert not Hall.objects.filter(code="X").exists()
    assert not AuditEvent.objects.filter(action="demo.loaded").exists()


def test_command_if_empty_loads_once_and_prints_logins() -> None:
    out = io.StringIO()
    call_command("demo", "--if-empty", stdout=out)
    first = out.getvalue()
    assert "演示数据已载入" in first
    assert demo.DEMO_PASSWORD in first
    assert "dispatcher" in first

    out = io.StringIO()
    call_command("demo", "--if-empty", stdout=out)
    second = out.getvalue()
    assert "不再载入" in second
    assert "dispatcher" in second
    assert AuditEvent.objects.filter(action="demo.loaded").count() == 1
