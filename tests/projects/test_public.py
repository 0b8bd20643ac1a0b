"""The public disclosure: batch and project pages, the Atom feed and the weekly bulletin,
without login, in three languages, and never a person's name, phone or address."""

from __future__ import annotations

import datetime as dt
import io
import re
import xml.etree.ElementTree as ET
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pypdf import PdfReader

from minsheng.appeals.states import State as AppealState
from minsheng.core.navigation import public_tiles
from minsheng.projects import actions
from minsheng.projects.models import Batch, Milestone, Project
from minsheng.projects.states import LedgerStatus, ProjectState
from tests.appeals.factories import appeal_in
from tests.appeals.factories import make_cast as make_appeals_cast
from tests.projects.factories import Cast, make_cast, make_project

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
CITIZEN = "赵铁柱"
CITIZEN_ADDRESS = "幸福路88号院"
REPORT = (
    "设计和招标已完成，正在进场施工。联系人王五，电话13800001111；"
    f"{CITIZEN}反映的{CITIZEN_ADDRESS}停水问题已纳入本工程。"
)


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=TZ)


class World:
    def __init__(self, cast: Cast, batch: Batch, pipe: Project, closed: Project, draft: Project):
        self.cast = cast
        self.batch = batch
        self.pipe = pipe
        self.closed = closed
        self.draft = draft


@pytest.fixture
def world() -> World:
    cast = make_cast()
    with time_machine.travel(at(dt.date(2026, 3, 2)), tick=False):
        pipe = make_project(cast)
        closed = make_project(cast, title="困难妇女儿童救助基金", milestones=None)
        draft = make_project(cast, title="尚未下达的草稿项目", start=False, milestones=None)
        appeal = appeal_in(
            AppealState.PROMOTED,
            make_appeals_cast(),
            citizen_name=CITIZEN,
            address=CITIZEN_ADDRESS,
        )
        actions.link_appeal(pipe.pk, appeal.pk, by=cast.supervisor)
    with time_machine.travel(at(dt.date(2026, 4, 2)), tick=False):
        first = pipe.milestones.order_by("month").first()
        assert first is not None
        actions.submit_report(
            pipe.pk,
            by=cast.handler,
            period=dt.date(2026, 3, 1),
            text=REPORT,
            percent=20,
            done_milestones=[first.pk],
        )
        closeout = actions.apply_closeout(closed.pk, by=cast.head, evidence="基金已设立并发放到位")
        actions.decide_closeout(closeout.pk, by=cast.supervisor, accept=True)
        batch = actions.publish_batch(pipe.batch_id, by=cast.supervisor)
    pipe.refresh_from_db()
    closed.refresh_from_db()
    return World(cast, batch, pipe, closed, draft)


def personal(world: World) -> list[str]:
    handler = world.cast.handler
    return [
        "王五",
        "13800001111",
        "李副县长",
        CITIZEN,
        CITIZEN_ADDRESS,
        "路灯",  # the appeal's own title and body stay with the appeals
        handler.name,
        handler.mobile,
        world.cast.head.name,
        world.cast.supervisor.name,
    ]


def assert_no_personal_data(text: str, world: World) -> None:
    for value in personal(world):
        assert value not in text, value


def test_the_batch_page_shows_each_project_with_unit_deadline_progress_and_result(client, world):
    response = client.get(reverse("projects:public_batch", args=[2026, 1]))

    assert response.status_code == 200
    html = response.content.decode()
    assert world.batch.title in html
    assert "两水厂连通管网工程" in html
    assert world.cast.unit.label in html
    assert "2026-06-30" in html
    assert 'progress max="100" value="20"' in html
    assert "设计和招标已完成" in html  # the latest report
    assert "完成设计和招标" in html  # a milestone
    # The closed one: 销号 date and full progress.
    assert "困难妇女儿童救助基金" in html
    assert "2026-04-02 验收销号" in html
    assert 'progress max="100" value="100"' in html
    # A draft is not public.
    assert "尚未下达的草稿项目" not in html
    assert_no_personal_data(html, world)


def test_the_report_text_is_scrubbed_not_dropped(client, world):
    html = client.get(reverse("projects:public_project", args=[world.pipe.code])).content.decode()

    assert "设计和招标已完成，正在进场施工" in html
    assert "138****1111" in html
    assert "***反映的***停水问题" in html
    assert_no_personal_data(html, world)


def test_the_project_page_has_plan_targets_reports_and_source(client, world):
    response = client.get(reverse("projects:public_project", args=[world.pipe.code]))

    assert response.status_code == 200
    html = response.content.decode()
    assert "铺设管网" in html and "14.5" in html
    assert "全线贯通" in html
    assert "源自群众诉求1件" in html
    assert 'id="report-' in html
    assert "2026-04-02 报送" in html
    assert_no_personal_data(html, world)


def test_status_filter_on_the_batch_page(client, world):
    url = reverse("projects:public_batch", args=[2026, 1])

    html = client.get(url, {"status": LedgerStatus.CLOSED}).content.decode()

    assert "困难妇女儿童救助基金" in html
    assert "两水厂连通管网工程" not in html


def test_unpublished_batches_and_drafts_are_not_found(client, world):
    hidden = Batch.objects.create(year=2026, number=9, title="未公开批次")
    make_project(world.cast, batch=hidden, title="未公开批次的项目", milestones=None)

    assert client.get(reverse("projects:public_batch", args=[2026, 9])).status_code == 404
    assert client.get(reverse("projects:public_feed", args=[2026, 9])).status_code == 404
    assert client.get(reverse("projects:public_bulletin", args=[2026, 9])).status_code == 404
    project = Project.objects.get(title="未公开批次的项目")
    assert client.get(reverse("projects:public_project", args=[project.code])).status_code == 404
    draft_url = reverse("projects:public_project", args=[world.draft.code])
    assert client.get(draft_url).status_code == 404
    index = client.get(reverse("projects:public")).content.decode()
    assert world.batch.title in index
    assert "未公开批次" not in index


def test_the_index_counts_projects_per_batch(client, world):
    html = client.get(reverse("projects:public")).content.decode()

    assert "共2个项目" in html  # the draft does not count
    assert "已销号1个" in html


def test_the_public_tile_links_to_the_index():
    assert reverse("projects:public") in [tile["url"] for tile in public_tiles()]


@pytest.mark.parametrize(
    ("language", "marker"),
    [("zh-hans", "工作人员登录"), ("zh-hant", "工作人員登錄"), ("en", "Staff login")],
)
def test_public_pages_in_three_languages(client, world, language, marker):
    client.cookies["minsheng_lang"] = language
    for url in [
        reverse("projects:public"),
        reverse("projects:public_batch", args=[2026, 1]),
        reverse("projects:public_project", args=[world.pipe.code]),
        reverse("projects:public_bulletin", args=[2026, 1]) + "?week=2026-03-30",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert f'<html lang="{language}"' in html
        assert marker in html


def test_pages_are_phone_first_and_keep_to_the_csp(client, world):
    html = client.get(reverse("projects:public_batch", args=[2026, 1])).content.decode()

    assert 'name="viewport"' in html
    assert "style=" not in html
    for attributes, body in re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S):
        assert "src=" in attributes or 'type="application/json"' in attributes
        assert "src=" not in attributes or not body.strip()


def test_the_batch_page_costs_the_same_queries_for_more_projects(client, world):
    url = reverse("projects:public_batch", args=[2026, 1])
    client.get(url)  # warm the per-process caches (calendar, translations)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    with time_machine.travel(at(dt.date(2026, 3, 3)), tick=False):
        for n in range(4):
            make_project(world.cast, batch=world.batch, title=f"追加项目{n}")
    with CaptureQueriesContext(connection) as more:
        html = client.get(url).content.decode()
    assert "追加项目3" in html
    assert len(more) == len(few)


def _feed(client, world) -> ET.Element:
    response = client.get(reverse("projects:public_feed", args=[2026, 1]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    assert_no_personal_data(response.content.decode(), world)
    return ET.fromstring(response.content)  # noqa: S314 (our own feed, not untrusted input)


def test_the_atom_feed_lists_reports_milestones_and_closings(client, world):
    root = _feed(client, world)

    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert root.find("a:title", ns).text == world.batch.title
    titles = [e.find("a:title", ns).text for e in root.findall("a:entry", ns)]
    assert any("2026-03进展，完成20%" in t for t in titles)
    assert any("完成节点“完成设计和招标”" in t for t in titles)
    assert any("困难妇女儿童救助基金：已验收销号" in t for t in titles)
    ids = [e.find("a:id", ns).text for e in root.findall("a:entry", ns)]
    assert len(ids) == len(set(ids))
    assert all(i.startswith("http://testserver/projects/p/") for i in ids)
    # Newest first.
    updated = [e.find("a:updated", ns).text for e in root.findall("a:entry", ns)]
    assert updated == sorted(updated, reverse=True)


def test_the_bulletin_page_shows_what_changed_that_week(client, world):
    url = reverse("projects:public_bulletin", args=[2026, 1])

    html = client.get(url, {"week": "2026-04-01"}).content.decode()  # any day of the week

    assert "2026-03-30 至 2026-04-05" in html
    assert "两水厂连通管网工程" in html
    assert "铺设管网" in html or "20%" in html
    assert "困难妇女儿童救助基金" in html  # closed that week
    assert_no_personal_data(html, world)
    quiet = client.get(url, {"week": "2026-05-11"}).content.decode()
    assert "本周无。" in quiet
    # Nonsense falls back to last week instead of failing.
    assert client.get(url, {"week": "banana"}).status_code == 200


def test_the_bulletin_pdf_has_the_weeks_changes_in_chinese(client, world):
    url = reverse("projects:public_bulletin_pdf", args=[2026, 1])

    response = client.get(url, {"week": "2026-03-30"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = re.sub(r"\s+", "", "".join(page.extract_text() or "" for page in reader.pages))
    assert "推进情况周报" in text
    assert "困难妇女儿童救助基金" in text
    for value in personal(world):
        assert value not in text, value


def test_the_bulletin_pdf_without_a_font_explains_instead_of_failing(client, world, settings):
    settings.PDF_FONTS = ["/nonexistent/font.ttf"]
    url = reverse("projects:public_bulletin_pdf", args=[2026, 1])

    response = client.get(url, {"week": "2026-03-30"}, follow=True)

    assert response.status_code == 200
    assert response.redirect_chain[-1][0].startswith(
        reverse("projects:public_bulletin", args=[2026, 1])
    )
    html = response.content.decode()
    assert "message-error" in html


def test_milestone_status_is_shown_as_of_today(client, world):
    Milestone.objects.filter(project=world.pipe, done_at__isnull=True).update(
        due=dt.date(2020, 1, 31)
    )
    html = client.get(reverse("projects:public_project", args=[world.pipe.code])).content.decode()

    assert "pub-status-late" in html
    assert "pub-status-done" in html
    assert world.pipe.state == ProjectState.ACTIVE
    assert Decimal(world.pipe.percent_complete) == 20


def test_a_citizen_rates_the_result_from_the_link_in_the_sms(client, world):
    from minsheng.core.models import OutboxMessage
    from minsheng.projects.models import ProjectRating

    cast = world.cast
    people = make_appeals_cast()
    appeal = appeal_in(AppealState.HANDLING, people)
    project = make_project(cast, batch=world.batch, title="农村饮水安全巩固提升")
    from minsheng.appeals import actions as appeal_actions

    appeal_actions.promote(
        appeal.pk, reason="需要新建管网统筹解决", by=people.dispatcher, project_id=project.pk
    )
    closeout = actions.apply_closeout(project.pk, by=cast.head, evidence="管网全线贯通")
    actions.decide_closeout(closeout.pk, by=cast.supervisor, accept=True)
    (invite,) = OutboxMessage.objects.filter(kind="projects.rating.invite")
    link = re.search(r"(/projects/p/\S+)", invite.body)
    assert link is not None
    url = link.group(1)

    html = client.get(url).content.decode()
    assert 'id="rate"' in html and "非常满意" in html

    refused = client.post(url, {"comment": "还行"})
    assert refused.status_code == 200
    assert "请选择满意程度" in refused.content.decode()
    assert not ProjectRating.objects.exists()

    response = client.post(url, {"level": "4", "comment": "通水了"}, follow=True)
    page = response.content.decode()
    assert "感谢您的评价" in page
    assert "满意率 100%" in page
    rating = ProjectRating.objects.get()
    assert (rating.project, rating.appeal_id, rating.level) == (project, appeal.pk, 4)
    assert "通水了" not in page  # comments stay with the staff

    again = client.get(url).content.decode()
    assert 'id="rate"' not in again and "您已评价过" in again
    client.post(url, {"level": "1"})
    assert ProjectRating.objects.get().level == 4

    elsewhere = reverse("projects:public_project", args=[world.closed.code])
    token = url.split("?rate=")[1]
    assert "评价链接无效" in client.get(elsewhere, {"rate": token}).content.decode()
    assert "评价链接无效" in client.get(url + "xx").content.decode()

    client.force_login(cast.supervisor)
    staff = client.get(reverse("projects:detail", args=[project.pk])).content.decode()
    assert 'id="ratings"' in staff and "通水了" in staff
