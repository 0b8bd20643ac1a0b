"""One project's whole life, the way the county runs it: created by the 督查室, its 配档表
imported from Excel, 下达 to the unit, reported on, chased up the ladder by the sweep as the
working-day calendar goes by (time travel through the Qingming and Labour Day holidays of
2026), brought back on track, applied for 销号, rejected once, accepted, and published."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from minsheng.core import calendar
from minsheng.projects import actions, pdf, plan_io, sweep
from minsheng.projects.models import Batch, ProjectCategory
from minsheng.projects.plan_io import MILESTONES, TARGETS
from minsheng.projects.states import LedgerStatus, ProjectState
from tests.projects.factories import make_cast

pytestmark = pytest.mark.django_db

CONTACT, PHONE = "周丽娟", "13800000003"


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=calendar.CALENDAR_TZ)


def append(sheet, columns, values: dict[str, object]) -> None:  # type: ignore[no-untyped-def]
    header = [c.value for c in sheet[1]]
    row = [None] * len(header)
    for column in columns:
        if column.key in values:
            row[header.index(column.label)] = values[column.key]
    sheet.append(row)


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", "", "".join(page.extract_text() or "" for page in reader.pages))


def test_from_creation_to_the_public_page() -> None:
    cast = make_cast()
    supervisor, head, handler = cast.supervisor, cast.head, cast.handler

    # 2 March: the 督查室 creates the batch and the project (a draft, no plan yet).
    with time_machine.travel(at(dt.date(2026, 3, 2)), tick=False):
        batch = actions.create_batch(
            by=supervisor, year=2026, number=1, title="2026年第一批我为群众办实事项目"
        )
        project = actions.create_project(
            by=supervisor,
            batch=batch,
            title="两水厂连通管网工程",
            category=ProjectCategory.objects.get(name="城乡建设"),
            lead_unit=cast.unit,
            co_units=[cast.co_unit],
            deadline=dt.date(2026, 6, 30),
            leader_name="李副县长",
            contact_name=CONTACT,
            contact_phone=PHONE,
            measures="新建连通管网14.5公里，实现两水厂互联互通",
            start=False,
        )
        assert project.state == ProjectState.DRAFT and not project.milestones.exists()

        # The unit fills in the 配档表 in the exported workbook; the import adds the plan.
        book = load_workbook(io.BytesIO(plan_io.export_plan(batch.projects.all())))
        append(
            book[TARGETS.name],
            TARGETS.columns,
            {"project": project.code, "name": "铺设管网", "unit": "公里", "planned": 14.5},
        )
        plan = [
            ("2026年3月", "完成设计和招标", 20, None),
            ("2026年4月", "铺设管网7公里", 50, 7),
            ("2026年6月", "全线贯通并通水", 100, 14.5),
        ]
        for month, title, percent, value in plan:
            append(
                book[MILESTONES.name],
                MILESTONES.columns,
                {
                    "project": project.code,
                    "month": month,
                    "title": title,
                    "planned_percent": percent,
                    "target": "铺设管网" if value else None,
                    "target_value": value,
                },
            )
        filled = io.BytesIO()
        book.save(filled)
        result = plan_io.import_plan(filled.getvalue(), supervisor)
        assert result.ok and result.updated == [project.code], result.as_dict()
        milestones = list(project.milestones.order_by("month"))
        assert [m.title for m in milestones] == [p[1] for p in plan]
        assert milestones[0].due == dt.date(2026, 3, 31)  # the month's last working day

        actions.start_project(project.pk, by=supervisor)  # 下达

    # 1 April: March's report is on time and the March milestone is done.
    with time_machine.travel(at(dt.date(2026, 4, 1)), tick=False):
        actions.submit_report(
            project.pk,
            by=handler,
            period=dt.date(2026, 3, 1),
            text="设计和招标已完成，施工单位已进场。",
            percent=20,
            done_milestones=[milestones[0].pk],
        )
        sweep.sweep()
    project.refresh_from_db()
    assert project.status == LedgerStatus.NORMAL
    assert not project.escalations.exists()

    # April: the unit falls silent. The sweep runs every day, holidays included.
    day = dt.date(2026, 4, 2)
    while day <= dt.date(2026, 5, 20):
        with time_machine.travel(at(day), tick=False):
            sweep.sweep()
        day += dt.timedelta(days=1)
    april = milestones[1]
    ladder = {e.step: e for e in project.escalations.filter(milestone=april).order_by("issued_at")}
    assert {"remind", "urge", "written"} <= set(ladder)
    remind_day = timezone.localdate(ladder["remind"].issued_at)
    urge_day = timezone.localdate(ladder["urge"].issued_at)
    # 提醒 the first day after the milestone's month; 催办 when it is 5 working days late
    # (1–5 May are the Labour Day holidays, Saturday 9 May is worked).
    assert remind_day == dt.date(2026, 5, 1)
    assert urge_day == timezone.localdate(calendar.add_working_days(april.due, 5).due_at)
    assert urge_day == dt.date(2026, 5, 11)
    written = ladder["written"]
    assert calendar.is_working_day(timezone.localdate(written.issued_at))
    assert written.doc_number.startswith("督办字〔2026〕")
    text = pdf_text(pdf.render_escalation_pdf(written))
    assert written.doc_number in text and "两水厂连通管网工程" in text and "铺设管网7公里" in text
    project.refresh_from_db()
    assert project.status == LedgerStatus.BEHIND

    # 21 May: the unit catches up; the report answers the open escalations.
    with time_machine.travel(at(dt.date(2026, 5, 21)), tick=False):
        actions.submit_report(
            project.pk,
            by=handler,
            period=dt.date(2026, 4, 1),
            text="东段7公里管网已铺设完成，正在试压。",
            percent=50,
            values={project.targets.get().pk: 7},
            done_milestones=[april.pk],
        )
        sweep.sweep()
    assert not project.escalations.filter(milestone=april, resolved_at__isnull=True).exists()

    # June: everything done; 销号 applied, sent back once, then accepted.
    with time_machine.travel(at(dt.date(2026, 6, 26)), tick=False):
        actions.submit_report(
            project.pk,
            by=handler,
            period=dt.date(2026, 6, 1),
            text="全线贯通，两水厂已互联互通并正式通水。",
            percent=100,
            values={project.targets.get().pk: 14.5},
            done_milestones=[milestones[2].pk],
        )
        first = actions.apply_closeout(project.pk, by=head, evidence="管网全线贯通，附通水记录")
        actions.decide_closeout(first.pk, by=supervisor, accept=False, reason="缺少第三方验收报告")
        project.refresh_from_db()
        assert project.state == ProjectState.ACTIVE
        second = actions.apply_closeout(
            project.pk, by=head, evidence="补充第三方验收报告，管网全线贯通"
        )
        accepted = actions.decide_closeout(second.pk, by=supervisor, accept=True)
        actions.publish_batch(batch.pk, by=supervisor)
    project.refresh_from_db()
    assert project.state == ProjectState.CLOSED
    assert accepted.decided_by == supervisor and accepted.decided_at is not None
    assert Batch.objects.get(pk=batch.pk).published_at is not None

    # The public page: closed, at 100%, the plan and the reports, no one's name or phone.
    html = Client().get(reverse("projects:public_project", args=[project.code])).content.decode()
    assert "两水厂连通管网工程" in html and "验收销号" in html
    assert 'value="100"' in html and "全线贯通并通水" in html and "正式通水" in html
    for personal in (CONTACT, PHONE, "李副县长", handler.name, head.name, supervisor.name):
        assert personal not in html, personal
    batch_page = Client().get(reverse("projects:public_batch", args=[2026, 1])).content.decode()
    assert project.code in batch_page
