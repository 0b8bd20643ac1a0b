"""The web shell: layouts, navigation by role, home pages, notifications, long jobs,
organisation pages, forms, error pages and security headers."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory, override_settings
from django.urls import reverse
from django.utils import timezone

from minsheng.core import navigation
from minsheng.core.models import AuditEvent, Division, LongJob, Notification, Role, User
from minsheng.core.views import errors
from tests.factories import DepartmentFactory, UserFactory, WindowFactory

pytestmark = pytest.mark.django_db


def nav_urls(response) -> set[str]:
    return {item["url"] for item in response.context["nav_items"]}


def test_citizen_home_uses_the_phone_layout_and_links_only_to_existing_pages(client, monkeypatch):
    monkeypatch.setattr(navigation, "_public", [])
    navigation.register_public(
        navigation.PublicEntry("我要反映问题", "appeals:new", order=1),  # no such page (yet)
        navigation.PublicEntry("办事指南", "core:login", "查找要办的事", order=2),
    )
    response = client.get("/")
    html = response.content.decode()
    assert 'class="layout-citizen"' in html
    assert "办事指南" in html
    assert "查找要办的事" in html
    assert "我要反映问题" not in html
    assert "工作人员登录" in html


def test_staff_home_shows_role_department_unread_notifications_and_jobs(client):
    department = DepartmentFactory(name="县民政局")
    user = UserFactory(role=Role.HANDLER, department=department)
    Notification.objects.create(user=user, title="有新的诉求待签收")
    Notification.objects.create(user=user, title="早已读过", read_at=timezone.now())
    LongJob.objects.create(
        kind="export", title="导出台账", started_by=user, total=10, done=4, status="running"
    )
    LongJob.objects.create(
        kind="export", title="别人的作业", started_by=UserFactory(role=Role.ADMIN)
    )
    client.force_login(user)
    html = client.get("/").content.decode()
    assert 'class="layout-staff"' in html
    for text in ("部门承办人", "县民政局", "有新的诉求待签收", "导出台账", 'value="40"'):
        assert text in html
    assert "早已读过" not in html
    assert "别人的作业" not in html
    assert re.search(r'id="unread-count" class="badge">1<', html)


@pytest.mark.parametrize(
    ("role", "sees", "hidden"),
    [
        ("handler", {"core:notifications", "core:departments", "core:jobs"}, {"core:staff"}),
        ("window_staff", {"core:halls"}, {"core:staff"}),
        ("leader", {"core:staff", "core:departments", "core:divisions"}, set()),
        ("dept_head", {"core:staff"}, set()),
        ("admin", {"core:staff", "core:halls", "core:jobs"}, set()),
    ],
)
def test_staff_menu_shows_only_what_the_role_may_use(client, role, sees, hidden):
    client.force_login(UserFactory(role=role))
    urls = nav_urls(client.get("/"))
    assert {reverse(n) for n in sees} <= urls
    assert not {reverse(n) for n in hidden} & urls


def test_leader_staff_directory_is_read_only(client):
    client.force_login(UserFactory(role=Role.LEADER))
    html = client.get(reverse("core:staff")).content.decode()
    assert reverse("core:staff_create") not in html
    admin = UserFactory(role=Role.ADMIN)
    client.force_login(admin)
    assert reverse("core:staff_create") in client.get(reverse("core:staff")).content.decode()


def test_citizens_get_a_403_page_for_staff_pages(client):
    client.force_login(UserFactory(role=Role.CITIZEN))
    for name in ("core:departments", "core:halls", "core:divisions", "core:jobs", "core:staff"):
        response = client.get(reverse(name))
        assert response.status_code == 403
        assert "无权访问" in response.content.decode()


def test_anonymous_users_are_sent_to_login(client):
    response = client.get(reverse("core:staff"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("core:login"))


def test_unknown_url_gives_the_404_page_in_the_layout(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "页面不存在" in html
    assert 'class="layout-citizen"' in html


def test_500_page_renders_without_request_context():
    response = errors.server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    assert "系统出错" in response.content.decode()


def test_security_headers_and_no_inline_script_or_style(client):
    client.force_login(UserFactory(role=Role.ADMIN))
    response = client.get("/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "style-src 'self'" in csp
    assert "'unsafe-inline'" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    html = response.content.decode()
    assert "<style" not in html
    assert " style=" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert not re.search(r"\son[a-z]+=", html)


def test_pages_render_without_the_vendor_files(client, tmp_path):
    client.force_login(UserFactory(role=Role.ADMIN))
    with override_settings(STATICFILES_DIRS=[tmp_path]):
        html = client.get("/").content.decode()
    assert "htmx.min.js" not in html
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "htmx.min.js").write_text("")
    with override_settings(STATICFILES_DIRS=[tmp_path]):
        html = client.get("/").content.decode()
    assert '<script src="/static/vendor/htmx.min.js" defer></script>' in html


def test_large_font_toggle_sets_a_cookie_and_a_class_on_html(client):
    response = client.post(reverse("core:set_large_font"), {"large": "1", "next": "/login/"})
    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert response.cookies["minsheng_large"].value == "1"
    html = client.get("/").content.decode()
    assert re.search(r'<html lang="zh-hans" class="[^"]*\blarge-font\b', html)
    client.post(reverse("core:set_large_font"), {"large": "0"})
    assert not re.search(r"<html[^>]*\blarge-font\b", client.get("/").content.decode())


def test_notifications_are_marked_read_with_htmx(client):
    user = UserFactory()
    first = Notification.objects.create(user=user, title="第一条")
    Notification.objects.create(user=user, title="第二条")
    client.force_login(user)
    assert "第一条" in client.get(reverse("core:notifications")).content.decode()
    response = client.post(
        reverse("core:notification_read", args=[first.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="notification-{first.pk}"' in html
    assert 'id="unread-count" class="badge" hx-swap-oob="true">1<' in html
    first.refresh_from_db()
    assert first.read_at is not None

    response = client.post(reverse("core:notifications_read_all"))
    assert response.status_code == 302
    assert not Notification.objects.filter(user=user, read_at__isnull=True).exists()


def test_notification_read_without_javascript_redirects_back(client):
    user = UserFactory()
    note = Notification.objects.create(user=user, title="消息")
    client.force_login(user)
    response = client.post(reverse("core:notification_read", args=[note.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("core:notifications")


def test_job_progress_polls_while_running_and_stops_when_done(client):
    user = UserFactory()
    job = LongJob.objects.create(
        kind="import", title="导入事项", started_by=user, total=200, done=50, status="running"
    )
    client.force_login(user)
    html = client.get(reverse("core:job_detail", args=[job.pk])).content.decode()
    assert f'hx-get="{reverse("core:job_progress", args=[job.pk])}"' in html
    assert 'hx-trigger="every 2s"' in html
    assert "50 / 200" in html

    job.done, job.status, job.finished_at = 200, LongJob.Status.DONE, timezone.now()
    job.save()
    html = client.get(reverse("core:job_progress", args=[job.pk])).content.decode()
    assert "hx-trigger" not in html
    assert 'value="100"' in html
    assert "已完成" in html


def test_jobs_of_other_users_are_404_except_for_admins(client):
    owner = UserFactory()
    job = LongJob.objects.create(kind="export", title="导出", started_by=owner)
    client.force_login(UserFactory())
    assert client.get(reverse("core:job_detail", args=[job.pk])).status_code == 404
    assert client.get(reverse("core:job_progress", args=[job.pk])).status_code == 404
    assert "导出" not in client.get(reverse("core:jobs")).content.decode()
    client.force_login(UserFactory(role=Role.ADMIN))
    assert client.get(reverse("core:job_detail", args=[job.pk])).status_code == 200


def test_organisation_pages(client):
    county = Division.objects.create(code="330000", name="示范县", level="county")
    town = Division.objects.create(code="330001", name="城关镇", level="town", parent=county)
    Division.objects.create(code="330001001", name="东门社区", level="village", parent=town)
    window = WindowFactory(name="社保窗口", department=DepartmentFactory(name="人社局"))
    client.force_login(UserFactory(role=Role.HANDLER))
    assert "人社局" in client.get(reverse("core:departments")).content.decode()
    halls = client.get(reverse("core:halls")).content.decode()
    assert window.hall.name in halls
    assert "社保窗口" in halls
    tree = client.get(reverse("core:divisions"))
    assert [n["division"].name for n in tree.context["tree"]] == ["示范县"]
    assert "东门社区" in tree.content.decode()


def test_staff_mobile_is_masked_until_asked_for_and_the_view_is_audited(client):
    admin = UserFactory(role=Role.ADMIN)
    target = UserFactory(mobile="13812345678")
    client.force_login(admin)
    html = client.get(reverse("core:staff_detail", args=[target.pk])).content.decode()
    assert "13812345678" not in html
    assert "138****5678" in html
    response = client.post(reverse("core:staff_mobile", args=[target.pk]), HTTP_HX_REQUEST="true")
    assert "13812345678" in response.content.decode()
    event = AuditEvent.objects.get(action="staff.view")
    assert event.object_id == str(target.pk)
    assert event.after == {"fields": ["mobile"]}


def test_invalid_staff_form_shows_field_errors_and_writes_nothing(client):
    client.force_login(UserFactory(role=Role.ADMIN))
    users = User.objects.count()
    response = client.post(
        reverse("core:staff_create"),
        {
            "username": "bad name!",
            "name": "",
            "role": "handler",
            "mobile": "12345",
            "password1": "a",
            "password2": "b",
        },
    )
    assert response.status_code == 200
    errors_ = response.context["form"].errors
    assert {"username", "name", "mobile", "password2"} <= set(errors_)
    html = response.content.decode()
    assert "登录名只能包含字母" in html
    assert "请输入11位手机号码" in html
    assert "请修改下面标出的错误" in html
    assert User.objects.count() == users
    assert not AuditEvent.objects.exists()


def test_empty_post_is_rejected_not_ignored(client):
    client.force_login(UserFactory(role=Role.ADMIN))
    response = client.post(reverse("core:staff_create"), {})
    assert response.status_code == 200
    assert response.context["form"].errors["username"]


def test_department_roles_need_a_department_and_windows_must_match(client):
    client.force_login(UserFactory(role=Role.ADMIN))
    other_window = WindowFactory()
    department = DepartmentFactory()
    base = {
        "username": "newbie",
        "name": "新人",
        "password1": "Initial-Pass-2026",
        "password2": "Initial-Pass-2026",
    }
    response = client.post(reverse("core:staff_create"), {**base, "role": "handler"})
    assert "该角色必须选择所属部门" in response.content.decode()
    response = client.post(
        reverse("core:staff_create"),
        {**base, "role": "window_staff", "department": department.pk, "window": other_window.pk},
    )
    assert "所选窗口不属于该部门" in response.content.decode()
    response = client.post(
        reverse("core:staff_create"),
        {
            **base,
            "role": "handler",
            "department": department.pk,
            "password1": "12345678",
            "password2": "12345678",
        },
    )
    assert response.context["form"].errors["password1"]
    assert not User.objects.filter(username="newbie").exists()


def test_duplicate_username_is_a_field_error(client):
    UserFactory(username="Taken")
    client.force_login(UserFactory(role=Role.ADMIN))
    response = client.post(
        reverse("core:staff_create"),
        {
            "username": "taken",
            "name": "重名",
            "role": "leader",
            "password1": "Initial-Pass-2026",
            "password2": "Initial-Pass-2026",
        },
    )
    assert "该登录名已被使用" in response.content.decode()


def test_admin_deactivates_reactivates_and_resets_password(client):
    admin = UserFactory(role=Role.ADMIN)
    target = UserFactory()
    client.force_login(admin)
    page = client.get(reverse("core:staff_active", args=[target.pk]))
    assert "确定要停用" in page.content.decode()
    assert client.post(reverse("core:staff_active", args=[target.pk])).status_code == 302
    target.refresh_from_db()
    assert not target.is_active
    assert client.post(reverse("core:staff_active", args=[target.pk])).status_code == 302
    target.refresh_from_db()
    assert target.is_active

    response = client.post(
        reverse("core:staff_password", args=[target.pk]),
        {"password1": "Temporary-Pass-2026", "password2": "Temporary-Pass-2026"},
    )
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.check_password("Temporary-Pass-2026")
    assert target.must_change_password
    assert list(AuditEvent.objects.order_by("id").values_list("action", flat=True)) == [
        "staff.deactivated",
        "staff.activated",
        "staff.password_reset",
    ]


def test_nobody_deactivates_themselves_or_changes_their_own_role(client):
    admin = UserFactory(role=Role.ADMIN)
    client.force_login(admin)
    response = client.post(reverse("core:staff_active", args=[admin.pk]))
    assert response.status_code == 200
    assert "不能停用自己的账号" in response.content.decode()
    response = client.post(
        reverse("core:staff_edit", args=[admin.pk]),
        {
            "username": admin.username,
            "name": admin.name,
            "role": "handler",
            "department": DepartmentFactory().pk,
        },
    )
    assert response.status_code == 200
    assert "不能修改自己的角色" in response.content.decode()
    admin.refresh_from_db()
    assert admin.is_active
    assert admin.role == Role.ADMIN


def test_menu_is_empty_for_anonymous_users():
    assert navigation.menu_for(AnonymousUser()) == []


def test_only_the_longest_matching_menu_entry_is_current(rf, make_user):
    from minsheng.core.navigation import menu_for

    leader = make_user(role="leader", department=None)
    items = menu_for(leader, "/work/appeals/kpi/")
    current = [str(item["label"]) for item in items if item["active"]]
    assert current == ["诉求统计"]
