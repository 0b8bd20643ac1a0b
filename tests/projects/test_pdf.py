"""书面督办/通报批评 documents and the weekly bulletin: Chinese text embedded and extractable."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone
from pypdf import PdfReader

from minsheng.projects import pdf
from minsheng.projects.models import (
    Batch,
    Escalation,
    Milestone,
    ProgressReport,
    Project,
    ProjectCategory,
    ProjectSettings,
    ReportValue,
    Target,
)
from minsheng.projects.states import EscalationStep, LedgerStatus, ProjectState
from tests.factories import DepartmentFactory, UserFactory

pytestmark = pytest.mark.django_db

CONTACT_NAME = "欧阳娜娜"
CONTACT_PHONE = "13912345678"
LEADER = "司马光明"


def _text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "".join(page.extract_text() or "" for page in reader.pages)


def _plain(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _embedded_font_files(data: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(data))
    kinds: list[str] = []
    for page in reader.pages:
        fonts = page["/Resources"]["/Font"]
        for ref in fonts.values():
            font = ref.get_object()
            descendants = font.get("/DescendantFonts")
            descriptor = (
                descendants[0].get_object()["/FontDescriptor"]
                if descendants
                else font.get("/FontDescriptor")
            )
            if descriptor is None:
                continue
            descriptor = descriptor.get_object()
            kinds += [key for key in ("/FontFile", "/FontFile2", "/FontFile3") if key in descriptor]
    return kinds


@pytest.fixture
def project(db):
    batch = Batch.objects.create(year=2026, number=1, title="2026年第一批我为群众办实事项目")
    unit = DepartmentFactory(name="示范县水利局", short_name="县水利局")
    project = Project.objects.create(
        batch=batch,
        code="2026-1-03",
        title="城乡供水管网互联互通工程",
        category=ProjectCategory.objects.get(name="城乡建设"),
        lead_unit=unit,
        leader_name=LEADER,
        contact_name=CONTACT_NAME,
        contact_phone=CONTACT_PHONE,
        deadline=dt.date(2026, 6, 30),
        state=ProjectState.ACTIVE,
        status=LedgerStatus.BEHIND,
        percent_complete=40,
    )
    project.co_units.add(DepartmentFactory(name="示范县住房和城乡建设局"))
    return project


def _escalation(project: Project, step: str, seq: int, **extra: object) -> Escalation:
    prefix = "督办字" if step == EscalationStep.WRITTEN else "督通字"
    return Escalation.objects.create(
        project=project,
        step=step,
        issued_at=timezone.make_aware(dt.datetime(2026, 3, 5, 10, 0)),
        text="该项目3月份管网铺设进度明显滞后于配档表。",
        doc_year=2026,
        doc_seq=seq,
        doc_number=f"{prefix}〔2026〕{seq}号",
        **extra,
    )


def test_written_notice_has_chinese_text_and_embedded_truetype_font(project):
    milestone = Milestone.objects.create(
        project=project,
        month=dt.date(2026, 3, 1),
        title="完成东段管网铺设",
        due=dt.date(2026, 3, 31),
    )
    escalation = _escalation(
        project, EscalationStep.WRITTEN, 12, milestone=milestone, due=dt.date(2026, 3, 20)
    )

    data = pdf.render_escalation_pdf(escalation)

    assert data.startswith(b"%PDF")
    text = _plain(_text(data))
    assert "示范县委县政府督查室" in text
    assert "督办字〔2026〕12号" in text
    assert "关于对“城乡供水管网互联互通工程”项目进行书面督办的通知" in text
    assert "示范县水利局：" in text
    assert "管网铺设进度明显滞后于配档表" in text
    assert "完成东段管网铺设" in text
    assert "请于2026年3月20日前将整改落实情况书面报送示范县委县政府督查室" in text
    assert "2026年3月5日" in text
    assert "抄送：示范县住房和城乡建设局" in text
    assert "—1—" in text
    assert "/FontFile2" in _embedded_font_files(data)
    for personal in (CONTACT_NAME, CONTACT_PHONE):
        assert personal not in text


def test_notice_is_addressed_to_all_units(project):
    ProjectSettings.objects.filter(pk=1).update(issuer_name="示范县人民政府督查室")
    escalation = _escalation(project, EscalationStep.NOTICE, 3)

    text = _plain(_text(pdf.render_escalation_pdf(escalation)))

    assert "示范县人民政府督查室督通字〔2026〕3号" in text
    assert "督通字〔2026〕3号" in text
    assert "通报批评" in text
    assert "各乡镇人民政府，县直各部门：" in text
    assert "特此通报。" in text


def test_steps_without_a_document_are_refused(project):
    escalation = Escalation.objects.create(
        project=project, step=EscalationStep.URGE, text="请加快进度"
    )
    with pytest.raises(pdf.DocumentError) as info:
        pdf.render_escalation_pdf(escalation)
    assert "催办" in info.value.message


def test_missing_font_gives_a_chinese_error(project, settings, tmp_path):
    cff = "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"
    settings.PDF_FONTS = [str(tmp_path / "none.ttf"), cff]
    escalation = _escalation(project, EscalationStep.WRITTEN, 1)
    with pytest.raises(pdf.FontMissing) as info:
        pdf.render_escalation_pdf(escalation)
    assert info.value.code == "font_missing"
    assert "未找到可嵌入PDF的中文TrueType字体" in info.value.message
    assert "none.ttf（不存在）" in info.value.message
    assert "fonts-arphic-uming" in info.value.message
    if Path(cff).is_file():  # fonts-noto-cjk (CFF outlines) is refused, not half-embedded
        assert "NotoSerifCJK-Regular.ttc（无法嵌入" in info.value.message


def test_configured_font_is_used(project, settings):
    settings.PDF_FONTS = ["/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"]
    if not Path(settings.PDF_FONTS[0]).is_file():
        pytest.skip("fonts-wqy-zenhei is not installed")
    assert pdf.find_font().path == settings.PDF_FONTS[0]
    data = pdf.render_escalation_pdf(_escalation(project, EscalationStep.WRITTEN, 2))
    assert b"WenQuanYi" in data


def test_bulletin_lists_the_weeks_changes_without_personal_data(project):
    supervisor = UserFactory(name="诸葛亮亮", role="supervisor", department=None)
    target = Target.objects.create(
        project=project, name="铺设管网", unit="公里", planned=Decimal("14.5")
    )
    week = dt.date(2026, 3, 2)  # a Monday
    inside = timezone.make_aware(dt.datetime(2026, 3, 4, 9, 0))
    before = timezone.make_aware(dt.datetime(2026, 3, 1, 23, 0))
    report = ProgressReport.objects.create(
        project=project,
        period=dt.date(2026, 2, 1),
        submitted_by=supervisor,
        submitted_at=inside,
        text=f"联系人{CONTACT_NAME}，电话{CONTACT_PHONE}",
        percent_complete=40,
    )
    ReportValue.objects.create(report=report, target=target, value=Decimal("6"))
    Milestone.objects.create(
        project=project,
        month=dt.date(2026, 2, 1),
        title="完成管材招标采购",
        due=dt.date(2026, 2, 27),
        done_at=inside,
    )
    Milestone.objects.create(
        project=project,
        month=dt.date(2026, 1, 1),
        title="完成施工图设计",
        due=dt.date(2026, 1, 30),
        done_at=before,
    )
    escalation = _escalation(project, EscalationStep.WRITTEN, 7)
    escalation.issued_by = supervisor
    escalation.save()
    Escalation.objects.create(
        project=project, step=EscalationStep.REMIND, text="提醒", issued_at=inside
    )
    closed_unit = DepartmentFactory(name="示范县民政局", short_name="县民政局")
    Project.objects.create(
        batch=project.batch,
        code="2026-1-01",
        title="困难妇女儿童救助基金",
        category=ProjectCategory.objects.get(name="社会保障"),
        lead_unit=closed_unit,
        deadline=dt.date(2026, 5, 31),
        state=ProjectState.CLOSED,
        status=LedgerStatus.CLOSED,
        closed_at=inside,
        closed_by=supervisor,
    )
    Project.objects.create(
        batch=project.batch,
        code="2026-1-09",
        title="还在草稿里的项目",
        category=ProjectCategory.objects.get(name="其他"),
        lead_unit=closed_unit,
        deadline=dt.date(2026, 5, 31),
    )

    data = pdf.bulletin_changes(project.batch, week)
    assert data.total == 2
    assert dict(data.totals)["滞后"] == 1
    assert [r.targets for r in data.reports] == ["铺设管网 6/14.5公里"]
    assert [m.milestone for m in data.milestones_done] == ["完成管材招标采购"]
    assert [(e.step_label, e.doc_number) for e in data.escalations] == [
        ("书面督办", "督办字〔2026〕7号")
    ]
    assert dict(data.escalation_counts) == {"提醒": 1, "书面督办": 1}
    assert [c.code for c in data.closed] == ["2026-1-01"]

    with time_machine.travel(dt.datetime(2026, 3, 9, 8, 0, tzinfo=dt.UTC)):
        text = _plain(_text(pdf.render_bulletin_pdf(project.batch, week)))
    assert "2026年第一批我为群众办实事项目推进情况周报" in text
    assert "2026年3月2日—2026年3月8日" in text
    assert "城乡供水管网互联互通工程" in text
    assert "完成管材招标采购" in text
    assert "完成施工图设计" not in text
    assert "督办字〔2026〕7号" in text
    assert "困难妇女儿童救助基金" in text
    assert "还在草稿里的项目" not in text
    for personal in (CONTACT_NAME, CONTACT_PHONE, LEADER, "诸葛"):
        assert personal not in text


def test_empty_week(project):
    data = pdf.bulletin_changes(project.batch, dt.date(2026, 8, 3))
    assert data.is_empty
    text = _plain(_text(pdf.render_bulletin_pdf(project.batch, dt.date(2026, 8, 3))))
    assert text.count("本周无。") == 4


def test_documents_of_escalations_issued_through_the_actions():
    from minsheng.projects import actions
    from tests.projects.factories import make_cast, make_project

    with time_machine.travel(dt.datetime(2026, 4, 8, 2, 0, tzinfo=dt.UTC), tick=False):
        cast = make_cast()
        project = make_project(cast)
        target = project.targets.get()
        actions.submit_report(
            project.pk,
            by=cast.handler,
            period=dt.date(2026, 3, 1),
            text="设计和招标已完成，开始铺设。",
            percent=20,
            values={target.pk: Decimal("1.5")},
        )
        written = actions.escalate(
            project.pk,
            by=cast.supervisor,
            step=EscalationStep.WRITTEN,
            text="4月份节点推进缓慢，请加派施工力量。",
            milestone_id=project.milestones.get(title="铺设管网7公里").pk,
            due=dt.date(2026, 4, 20),
        )
        text = _plain(_text(pdf.render_escalation_pdf(written)))
        bulletin = pdf.bulletin_changes(project.batch, dt.date(2026, 4, 6))

    assert written.doc_number and written.doc_number in text
    assert "请于2026年4月20日前将整改落实情况书面报送" in text
    assert "计划于2026年4月30日前完成的“铺设管网7公里”节点进度滞后，尚未完成" in text
    assert [(r.code, r.percent, r.targets) for r in bulletin.reports] == [
        (project.code, 20, "铺设管网 1.5/14.5公里")
    ]
    assert [e.doc_number for e in bulletin.escalations] == [written.doc_number]
