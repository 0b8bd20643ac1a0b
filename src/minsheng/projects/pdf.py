"""PDF documents of the practical projects: 书面督办 and 通报批评 notices, and the weekly
bulletin for the media column.

The notices follow the layout of Chinese official documents (GB/T 9704-2012): the issuing
office in red across the top, the document number (文号) under it, a red rule, the title, the
addressee, the body, the issuing office and the date (in the standard's Arabic-numeral
form, ``2026年3月5日``), page numbers as ``— 1 —``.

Chinese text needs an embedded font, and reportlab embeds only TrueType outlines: the Noto
CJK fonts Debian installs for the browser are CFF (PostScript) outlines and cannot be used.
``find_font`` tries ``settings.PDF_FONTS`` or else ``DEFAULT_FONTS`` (Debian packages
fonts-arphic-uming, fonts-wqy-zenhei, ...) and takes the first TrueType font that has the
Chinese characters; a ``.ttc`` collection takes ``path#index`` (default 0).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from django.conf import settings
from django.db.models import Count
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from minsheng.projects.errors import ProjectError
from minsheng.projects.models import (
    Batch,
    Escalation,
    Milestone,
    ProgressReport,
    Project,
    ProjectSettings,
    ReportState,
)
from minsheng.projects.states import (
    LADDER,
    NUMBERED_STEPS,
    EscalationStep,
    LedgerStatus,
    ProjectState,
)

# Searched in this order when settings.PDF_FONTS is not set. Serif (Ming/Song) first: it is
# the face official documents are printed in.
DEFAULT_FONTS: tuple[str, ...] = (
    "/usr/share/fonts/truetype/arphic/uming.ttc#0",  # fonts-arphic-uming (AR PL UMing CN)
    "/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf",  # fonts-arphic-gbsn00lp
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc#0",  # fonts-wqy-zenhei
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc#0",  # fonts-wqy-microhei
    "/usr/share/fonts/truetype/arphic/ukai.ttc#0",  # fonts-arphic-ukai
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",  # fonts-droid-fallback
)
FONT_PACKAGES = "fonts-arphic-uming、fonts-wqy-zenhei"
# A font without these cannot print a notice.
PROBE = "督办通报批评关于项目县局镇年月日号〔〕"

RED = (0.86, 0.0, 0.0)
MM = 72 / 25.4
BODY_SIZE = 16.0  # 三号
TITLE_SIZE = 22.0  # 二号
BODY_LEADING = 28.0  # 22 lines on a page, as the standard asks
MAX_HEADER_SIZE = 40.0


class DocumentError(ProjectError):
    """A document that cannot be made; ``message`` says why in Chinese."""

    code = "document_error"


class FontMissing(DocumentError):
    code = "font_missing"


@dataclass(frozen=True)
class FontChoice:
    name: str  # as registered with reportlab
    path: str
    index: int


def _candidates() -> list[str]:
    configured = getattr(settings, "PDF_FONTS", None)
    return list(configured) if configured else list(DEFAULT_FONTS)


def _split(entry: str) -> tuple[str, int]:
    path, _sep, index = entry.partition("#")
    return path, int(index) if index.isdigit() else 0


def find_font() -> FontChoice:
    """The first usable font of the search list, registered with reportlab."""
    return _find_font(tuple(_candidates()))


@lru_cache(maxsize=8)
def _find_font(entries: tuple[str, ...]) -> FontChoice:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFError, TTFont

    tried: list[str] = []
    for entry in entries:
        path, index = _split(entry)
        if not Path(path).is_file():
            tried.append(_("%(path)s（不存在）") % {"path": path})
            continue
        name = f"MinshengCJK-{Path(path).stem}-{index}"
        try:
            font = TTFont(name, path, subfontIndex=index)
        except (TTFError, OSError) as exc:
            # CFF/OpenType outlines (Noto CJK) end up here: reportlab cannot embed them.
            tried.append(_("%(path)s（无法嵌入：%(reason)s）") % {"path": path, "reason": exc})
            continue
        if any(ord(ch) not in font.face.charToGlyph for ch in PROBE):
            tried.append(_("%(path)s（缺少汉字）") % {"path": path})
            continue
        pdfmetrics.registerFont(font)
        return FontChoice(name=name, path=path, index=index)
    raise FontMissing(
        _(
            "未找到可嵌入PDF的中文TrueType字体，无法生成文书。请安装 %(packages)s 字体包"
            "（例如 apt-get install fonts-arphic-uming），或在设置 PDF_FONTS 中指定字体文件。"
            "已查找：%(tried)s"
        )
        % {"packages": FONT_PACKAGES, "tried": "；".join(tried) or _("（空列表）")}
    )


# --- helpers ---------------------------------------------------------------------------------


def chinese_date(day: dt.date | dt.datetime) -> str:
    if isinstance(day, dt.datetime):
        day = timezone.localdate(day)
    return f"{day.year}年{day.month}月{day.day}日"


def office_name() -> str:
    """The issuing office; a leading 县 stands for the county (县委县政府督查室)."""
    name = ProjectSettings.current().issuer_name.strip()
    county = settings.COUNTY_NAME
    if name.startswith("县") and not name.startswith(county):
        return county + name[1:]
    return name


def _month_day(day: dt.date) -> str:
    return f"{day.month}月{day.day}日"


def _p(text: str) -> str:
    """Plain text for a reportlab Paragraph: markup escaped, line breaks kept."""
    return escape(text).replace("\n", "<br/>")


def _number(value: Decimal | None) -> str:
    if value is None:
        return ""
    normal = value.normalize()
    return f"{normal:f}" if normal != normal.to_integral() else str(int(normal))


class _Styles:
    def __init__(self, font: str) -> None:
        from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT, TA_RIGHT
        from reportlab.lib.styles import ParagraphStyle

        base = ParagraphStyle(
            "base",
            fontName=font,
            fontSize=BODY_SIZE,
            leading=BODY_LEADING,
            wordWrap="CJK",
            alignment=TA_JUSTIFY,
        )
        self.font = font
        self.body = ParagraphStyle("body", parent=base, firstLineIndent=2 * BODY_SIZE)
        self.plain = ParagraphStyle("plain", parent=base, alignment=TA_LEFT)
        self.center = ParagraphStyle("center", parent=base, alignment=TA_CENTER)
        self.right = ParagraphStyle("right", parent=base, alignment=TA_RIGHT)
        self.title = ParagraphStyle(
            "title",
            parent=base,
            fontSize=TITLE_SIZE,
            leading=TITLE_SIZE * 1.5,
            alignment=TA_CENTER,
            spaceBefore=BODY_LEADING,
            spaceAfter=BODY_LEADING,
        )
        self.heading = ParagraphStyle(
            "heading", parent=base, alignment=TA_LEFT, spaceBefore=BODY_LEADING / 2
        )
        self.small = ParagraphStyle("small", parent=base, fontSize=11, leading=16)
        self.cell = ParagraphStyle("cell", parent=base, fontSize=10.5, leading=14)


def _page_number(font: str) -> Callable[[Any, Any], None]:
    def draw(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(font, 14)
        canvas.drawCentredString(doc.pagesize[0] / 2, 20 * MM, f"— {doc.page} —")
        canvas.restoreState()

    return draw


def _build(flowables: list[Any], *, title: str, author: str, font: str) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import SimpleDocTemplate

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        # GB/T 9704: type area 156 × 225 mm, 37 mm from the top and 28 mm from the left.
        topMargin=37 * MM,
        bottomMargin=35 * MM,
        leftMargin=28 * MM,
        rightMargin=26 * MM,
        title=title,
        author=author,
        creator="minsheng",
        lang="zh-CN",
    )
    draw = _page_number(font)
    doc.build(flowables, onFirstPage=draw, onLaterPages=draw)
    return buffer.getvalue()


# --- 书面督办 / 通报批评 ------------------------------------------------------------------------


def _escalation_title(escalation: Escalation) -> str:
    project = escalation.project
    if escalation.step == EscalationStep.NOTICE:
        return _("关于对%(unit)s推进“%(title)s”项目不力的通报批评") % {
            "unit": project.lead_unit.name,
            "title": project.title,
        }
    return _("关于对“%(title)s”项目进行书面督办的通知") % {"title": project.title}


def _escalation_facts(escalation: Escalation) -> str:
    project = escalation.project
    facts = _(
        "%(batch)s中，由%(unit)s牵头实施的“%(title)s”项目（编号%(code)s），"
        "完成时限为%(deadline)s，目前完成进度为%(percent)d%%，台账状态为“%(status)s”。"
    ) % {
        "batch": project.batch.title,
        "unit": _("你单位") if escalation.step != EscalationStep.NOTICE else project.lead_unit.name,
        "title": project.title,
        "code": project.code,
        "deadline": chinese_date(project.deadline),
        "percent": project.percent_complete,
        "status": project.get_status_display(),
    }
    milestone = escalation.milestone
    if milestone is not None:
        if milestone.done_at is not None:
            state = _("已于%(day)s完成") % {"day": chinese_date(milestone.done_at)}
        elif milestone.due < timezone.localdate(escalation.issued_at):
            state = _("未按期完成")
        else:
            state = _("进度滞后，尚未完成")
        facts += _("其中，计划于%(due)s前完成的“%(milestone)s”节点%(state)s。") % {
            "due": chinese_date(milestone.due),
            "milestone": milestone.title,
            "state": state,
        }
    return facts


def _escalation_demand(escalation: Escalation, office: str) -> str:
    if escalation.step == EscalationStep.NOTICE:
        return _(
            "希望%(unit)s认真反思，切实扛起牵头责任，倒排工期、挂图作战，确保项目尽快见效。"
            "各单位要引以为戒，对照配档表逐项抓好落实。特此通报。"
        ) % {"unit": escalation.project.lead_unit.name}
    if escalation.due is not None:
        return _("请于%(due)s前将整改落实情况书面报送%(office)s。") % {
            "due": chinese_date(escalation.due),
            "office": office,
        }
    return _(
        "请立即整改，并在%(deadline)s前全面完成项目任务，整改落实情况及时书面报送%(office)s。"
    ) % {
        "deadline": chinese_date(escalation.project.deadline),
        "office": office,
    }


# Official documents are in Simplified Chinese whatever language the page is shown in.
@translation.override("zh-hans")
def render_escalation_pdf(escalation: Escalation) -> bytes:
    """The numbered 书面督办 or 通报批评 document of an escalation."""
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.platypus import HRFlowable, Paragraph, Spacer

    if escalation.step not in NUMBERED_STEPS:
        raise DocumentError(
            _("“%(step)s”不制发文书，只有书面督办和通报批评有文书。")
            % {"step": escalation.get_step_display()}
        )
    if not escalation.doc_number:
        raise DocumentError(_("这条督办记录还没有文号，无法制发文书。"))
    font = find_font().name
    styles = _Styles(font)
    office = office_name()
    project = escalation.project
    issued = timezone.localdate(escalation.issued_at)
    body_width = (210 - 28 - 26) * MM

    header_size = min(MAX_HEADER_SIZE, body_width / max(len(office), 1) * 0.95)
    header = Paragraph(
        _p(office),
        _style(styles.center, fontSize=header_size, leading=header_size * 1.3, textColor=RED),
    )
    flow: list[Any] = [
        header,
        Spacer(1, BODY_LEADING),
        Paragraph(_p(escalation.doc_number), styles.center),
        HRFlowable(width="100%", thickness=2, color=RED, spaceBefore=4 * MM, spaceAfter=0),
        Paragraph(_p(_escalation_title(escalation)), styles.title),
    ]
    if escalation.step == EscalationStep.NOTICE:
        addressee = _("各乡镇人民政府，县直各部门：")
    else:
        addressee = f"{project.lead_unit.name}："
    flow.append(Paragraph(_p(addressee), styles.plain))
    flow.append(Paragraph(_p(_escalation_facts(escalation)), styles.body))
    for line in escalation.text.splitlines():
        if line.strip():
            flow.append(Paragraph(_p(line.strip()), styles.body))
    flow.append(Paragraph(_p(_escalation_demand(escalation, office)), styles.body))

    # 署名 centred over the date, the date four characters from the right margin.
    date_text = chinese_date(issued)
    date_indent = 4 * BODY_SIZE
    offset = (stringWidth(date_text, font, BODY_SIZE) - stringWidth(office, font, BODY_SIZE)) / 2
    flow += [
        Spacer(1, BODY_LEADING * 2),
        Paragraph(_p(office), _style(styles.right, rightIndent=max(0, date_indent + offset))),
        Paragraph(_p(date_text), _style(styles.right, rightIndent=date_indent)),
        Spacer(1, BODY_LEADING),
    ]
    # 版记: copies to the co-operating units, then who printed it and when.
    rule = {"width": "100%", "thickness": 0.8, "color": (0, 0, 0)}
    flow.append(HRFlowable(spaceBefore=BODY_LEADING, spaceAfter=2 * MM, **rule))
    co_units = [unit.name for unit in project.co_units.all()]
    if co_units:
        flow.append(Paragraph(_p(_("抄送：") + "，".join(co_units) + "。"), styles.small))
        flow.append(HRFlowable(spaceBefore=2 * MM, spaceAfter=2 * MM, thickness=0.4, width="100%"))
    flow.append(
        Paragraph(
            _p(_("%(office)s　　%(date)s印发") % {"office": office, "date": date_text}),
            styles.small,
        )
    )
    flow.append(HRFlowable(spaceBefore=2 * MM, **rule))
    return _build(
        flow,
        title=f"{escalation.doc_number} {_escalation_title(escalation)}",
        author=office,
        font=font,
    )


def _style(parent: Any, **overrides: Any) -> Any:
    from reportlab.lib.styles import ParagraphStyle

    return ParagraphStyle(f"{parent.name}-x", parent=parent, **overrides)


# --- the weekly bulletin -----------------------------------------------------------------------


@dataclass(frozen=True)
class BulletinReport:
    code: str
    title: str
    unit: str
    period: dt.date
    percent: int
    targets: str  # "铺设管网 8/14.5公里；…"


@dataclass(frozen=True)
class BulletinMilestone:
    code: str
    title: str
    unit: str
    milestone: str
    done_on: dt.date


@dataclass(frozen=True)
class BulletinEscalation:
    code: str
    title: str
    unit: str
    step: str
    step_label: str
    issued_on: dt.date
    doc_number: str


@dataclass(frozen=True)
class BulletinClosed:
    code: str
    title: str
    unit: str
    closed_on: dt.date


@dataclass
class Bulletin:
    """What changed in a batch during one week; nothing in it names a person."""

    batch: Batch
    week_start: dt.date
    week_end: dt.date  # the last day of the week, inclusive
    total: int = 0
    totals: list[tuple[str, int]] = field(default_factory=list)
    reports: list[BulletinReport] = field(default_factory=list)
    milestones_done: list[BulletinMilestone] = field(default_factory=list)
    escalations: list[BulletinEscalation] = field(default_factory=list)
    escalation_counts: list[tuple[str, int]] = field(default_factory=list)
    closed: list[BulletinClosed] = field(default_factory=list)

    @property
    def title(self) -> str:
        return _("%(batch)s推进情况周报") % {"batch": self.batch.title}

    @property
    def period_label(self) -> str:
        return f"{chinese_date(self.week_start)}—{chinese_date(self.week_end)}"

    @property
    def is_empty(self) -> bool:
        return not (self.reports or self.milestones_done or self.escalations or self.closed)


def _week_bounds(week_start: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = timezone.make_aware(dt.datetime.combine(week_start, dt.time.min))
    return start, timezone.make_aware(
        dt.datetime.combine(week_start + dt.timedelta(days=7), dt.time.min)
    )


def bulletin_changes(batch: Batch, week_start: dt.date) -> Bulletin:
    """The data of the weekly bulletin (PDF and printable page) for the week starting on
    ``week_start`` (local time). Only projects that left the draft are counted; the ledger
    totals are today's."""
    start, end = _week_bounds(week_start)
    projects = Project.objects.filter(batch=batch).exclude(state=ProjectState.DRAFT)
    bulletin = Bulletin(batch=batch, week_start=week_start, week_end=week_start + dt.timedelta(6))
    by_status: dict[str, int] = {
        row["status"]: row["n"]
        for row in projects.order_by().values("status").annotate(n=Count("pk"))
    }
    bulletin.total = sum(by_status.values())
    bulletin.totals = [(str(s.label), by_status.get(s.value, 0)) for s in LedgerStatus]

    reports = (
        ProgressReport.objects.filter(
            project__in=projects,
            state=ReportState.SUBMITTED,
            submitted_at__gte=start,
            submitted_at__lt=end,
        )
        .select_related("project__lead_unit")
        .prefetch_related("values__target")
        .order_by("project__code", "-period", "-submitted_at")
    )
    seen: set[int] = set()
    for report in reports:
        if report.project_id in seen:  # the newest report of each project is enough
            continue
        seen.add(report.project_id)
        targets = "；".join(
            f"{v.target.name} {_number(v.value)}/{_number(v.target.planned)}{v.target.unit}"
            for v in sorted(report.values.all(), key=lambda v: (v.target.order, v.target.pk))
        )
        bulletin.reports.append(
            BulletinReport(
                code=report.project.code,
                title=report.project.title,
                unit=report.project.lead_unit.label,
                period=report.period,
                percent=report.percent_complete,
                targets=targets,
            )
        )
    for milestone in (
        Milestone.objects.filter(project__in=projects, done_at__gte=start, done_at__lt=end)
        .select_related("project__lead_unit")
        .order_by("project__code", "month", "order")
    ):
        assert milestone.done_at is not None
        bulletin.milestones_done.append(
            BulletinMilestone(
                code=milestone.project.code,
                title=milestone.project.title,
                unit=milestone.project.lead_unit.label,
                milestone=milestone.title,
                done_on=timezone.localdate(milestone.done_at),
            )
        )
    escalations = list(
        Escalation.objects.filter(project__in=projects, issued_at__gte=start, issued_at__lt=end)
        .select_related("project__lead_unit")
        .order_by("issued_at", "pk")
    )
    counts: dict[str, int] = {}
    for escalation in escalations:
        counts[escalation.step] = counts.get(escalation.step, 0) + 1
        # 提醒 and 催办 are routine and only counted; the formal steps are listed.
        if LADDER[escalation.step] >= LADDER[EscalationStep.WRITTEN]:
            bulletin.escalations.append(
                BulletinEscalation(
                    code=escalation.project.code,
                    title=escalation.project.title,
                    unit=escalation.project.lead_unit.label,
                    step=escalation.step,
                    step_label=escalation.get_step_display(),
                    issued_on=timezone.localdate(escalation.issued_at),
                    doc_number=escalation.doc_number,
                )
            )
    bulletin.escalation_counts = [
        (str(step.label), counts[step.value]) for step in EscalationStep if step.value in counts
    ]
    for project in (
        projects.filter(state=ProjectState.CLOSED, closed_at__gte=start, closed_at__lt=end)
        .select_related("lead_unit")
        .order_by("code")
    ):
        assert project.closed_at is not None
        bulletin.closed.append(
            BulletinClosed(
                code=project.code,
                title=project.title,
                unit=project.lead_unit.label,
                closed_on=timezone.localdate(project.closed_at),
            )
        )
    return bulletin


def _table(
    styles: _Styles, header: Sequence[str], rows: Iterable[Sequence[str]], widths: Sequence[float]
) -> Any:
    from reportlab.lib import colors
    from reportlab.platypus import Paragraph, Table, TableStyle

    head_style = _style(styles.cell, alignment=1)
    data = [[Paragraph(_p(h), head_style) for h in header]]
    data += [[Paragraph(_p(cell), styles.cell) for cell in row] for row in rows]
    table = Table(data, colWidths=[w * MM for w in widths], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.93, 0.93, 0.93)),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    return table


@translation.override("zh-hans")
def render_bulletin_pdf(batch: Batch, week_start: dt.date) -> bytes:
    """The weekly bulletin of a batch as a PDF for the media column."""
    from reportlab.platypus import HRFlowable, Paragraph, Spacer

    font = find_font().name
    styles = _Styles(font)
    office = office_name()
    data = bulletin_changes(batch, week_start)
    none = Paragraph(_p(_("本周无。")), styles.body)
    flow: list[Any] = [
        # The batch's name on one line and 推进情况周报 under it, not broken anywhere.
        Paragraph(
            _p(f"{data.batch.title}\n{_('推进情况周报')}"),
            _style(styles.title, textColor=RED, spaceBefore=0),
        ),
        Paragraph(_p(f"（{data.period_label}）"), styles.center),
        Paragraph(_p(office), styles.center),
        HRFlowable(width="100%", thickness=2, color=RED, spaceBefore=3 * MM, spaceAfter=3 * MM),
        Paragraph(_p(_("一、总体情况")), styles.heading),
    ]
    parts = "，".join(f"{label}{n}个" for label, n in data.totals if n)
    overview = _("本批共有实事项目%(total)d个") % {"total": data.total}
    overview += (_("，其中%(parts)s。") % {"parts": parts}) if parts else "。"
    flow.append(Paragraph(_p(overview), styles.body))

    flow.append(Paragraph(_p(_("二、本周报送进展")), styles.heading))
    if data.reports:
        flow.append(
            _table(
                styles,
                [_("编号"), _("项目"), _("牵头单位"), _("报送期"), _("进度"), _("量化指标完成")],
                (
                    [
                        r.code,
                        r.title,
                        r.unit,
                        f"{r.period.year}年{r.period.month}月",
                        f"{r.percent}%",
                        r.targets,
                    ]
                    for r in data.reports
                ),
                [23, 38, 22, 22, 12, 39],
            )
        )
    else:
        flow.append(none)

    flow.append(Paragraph(_p(_("三、本周完成的计划节点")), styles.heading))
    if data.milestones_done:
        flow.append(
            _table(
                styles,
                [_("编号"), _("项目"), _("牵头单位"), _("节点"), _("完成日期")],
                (
                    [m.code, m.title, m.unit, m.milestone, _month_day(m.done_on)]
                    for m in data.milestones_done
                ),
                [23, 40, 24, 49, 20],
            )
        )
    else:
        flow.append(none)

    flow.append(Paragraph(_p(_("四、督办情况")), styles.heading))
    if data.escalation_counts:
        counts = "，".join(f"{label}{n}次" for label, n in data.escalation_counts)
        flow.append(Paragraph(_p(_("本周督办：%(counts)s。") % {"counts": counts}), styles.body))
    if data.escalations:
        flow.append(
            _table(
                styles,
                [_("编号"), _("项目"), _("牵头单位"), _("措施"), _("日期"), _("文号")],
                (
                    [e.code, e.title, e.unit, e.step_label, _month_day(e.issued_on), e.doc_number]
                    for e in data.escalations
                ),
                [23, 34, 24, 20, 18, 37],
            )
        )
    elif not data.escalation_counts:
        flow.append(none)

    flow.append(Paragraph(_p(_("五、本周销号项目")), styles.heading))
    if data.closed:
        flow.append(
            _table(
                styles,
                [_("编号"), _("项目"), _("牵头单位"), _("销号日期")],
                ([c.code, c.title, c.unit, _month_day(c.closed_on)] for c in data.closed),
                [23, 75, 34, 24],
            )
        )
    else:
        flow.append(none)
    flow.append(Spacer(1, BODY_LEADING))
    flow.append(Paragraph(_p(chinese_date(timezone.localdate())), styles.right))
    return _build(flow, title=data.title, author=office, font=font)
