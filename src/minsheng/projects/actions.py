"""Every change of a practical project, its plan, reports, escalations and 销号 happens here.

Each action locks the project row (the one lock all of a project's changes take, so that a
report, a 销号 decision and the sweep never interleave), checks the role, then the state
(``Conflict``: someone else got there first), then the department scope, writes the change,
refreshes the ledger status, records the audit event and queues notifications that leave
only when the transaction commits. Files arrive already checked by
``appeals.attachments.clean`` (type from the content, image metadata stripped).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from django.conf import settings as django_settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from minsheng.appeals.attachments import MAX_FILES, CleanFile
from minsheng.core import audit, outbox, policy
from minsheng.core.models import Department, Role, User
from minsheng.core.models.org import mobile_validator
from minsheng.projects import ledger
from minsheng.projects.errors import Conflict, ProjectError
from minsheng.projects.models import (
    AttachmentKind,
    Batch,
    CloseOut,
    CloseOutAttachment,
    CloseOutState,
    DocCounter,
    Escalation,
    EscalationRule,
    Milestone,
    ProgressReport,
    Project,
    ProjectCategory,
    ProjectRating,
    ProjectSettings,
    ProjectSource,
    ReportAttachment,
    ReportDue,
    ReportState,
    ReportValue,
    ResultLevel,
    StoredFile,
    Target,
)
from minsheng.projects.states import (
    NUMBERED_STEPS,
    OPEN_STATES,
    STEPS,
    EscalationStep,
    InvalidStep,
    ProjectState,
    ProjectStep,
)

# What update_project may change (co_units is a list of departments or their ids).
EDITABLE = frozenset(
    {
        "title",
        "category",
        "lead_unit",
        "co_units",
        "leader_name",
        "contact_name",
        "contact_phone",
        "measures",
        "budget",
        "source",
        "deadline",
    }
)
AUDITED = (
    "title",
    "category_id",
    "lead_unit_id",
    "leader_name",
    "measures",
    "budget",
    "source",
    "deadline",
    "state",
)


# ---------------------------------------------------------------- helpers


def _invalid(field: str, message: str) -> ProjectError:
    return ProjectError(message, code="validation_error", fields={field: [message]})


def lock(project_id: int, expected_version: int | None = None) -> Project:
    try:
        project = Project.objects.select_for_update().get(pk=project_id)
    except Project.DoesNotExist:
        raise ProjectError(_("项目不存在"), code="not_found") from None
    if expected_version is not None and project.version != expected_version:
        raise Conflict(_("该项目刚刚已被他人修改，请刷新页面查看最新情况后再操作"))
    return project


def _expect(project: Project, states: Iterable[str], doing: str) -> None:
    if project.state not in states:
        raise Conflict(
            _("该项目当前状态为“%(state)s”，不能%(doing)s，请刷新页面查看最新情况")
            % {"state": project.get_state_display(), "doing": doing}
        )


def _move(project: Project, step: str) -> str:
    sources, _target = STEPS[step]
    _expect(project, sources, str(ProjectStep(step).label))
    try:
        return project.move(step)
    except InvalidStep:  # checked just above; never a 500 all the same
        raise Conflict(_("该项目当前状态不能执行此操作，请刷新页面")) from None


def _allow(
    by: User | None, action: str, project: Project, states: Iterable[str], doing: str
) -> None:
    """Role, then state, then scope: a unit whose page is stale learns that the project
    moved on, not that it lacks a right it had a minute ago."""
    policy.require(by, action)
    _expect(project, states, doing)
    policy.require(by, action, project)


def project_url(project: Project) -> str:
    return reverse("projects:detail", args=[project.pk])


def notify_unit(project: Project, title: str, kind: str, *, heads_only: bool = False) -> None:
    """In-app message to the lead unit's handlers and head."""
    roles = [Role.DEPT_HEAD] if heads_only else [Role.HANDLER, Role.DEPT_HEAD]
    members = User.objects.filter(
        department_id=project.lead_unit_id, role__in=roles, is_active=True
    ).only("pk")
    url = project_url(project)
    for member in members:
        outbox.enqueue(
            "inapp", str(member.pk), title, subject=title, user=member, url=url, kind=kind
        )


def _notify_role(role: str, project: Project, title: str, kind: str) -> None:
    url = project_url(project)
    for member in User.objects.filter(role=role, is_active=True).only("pk"):
        outbox.enqueue(
            "inapp", str(member.pk), title, subject=title, user=member, url=url, kind=kind
        )


def _notify_user(user: User, project: Project, title: str, kind: str) -> None:
    outbox.enqueue(
        "inapp", str(user.pk), title, subject=title, user=user, url=project_url(project), kind=kind
    )


def _store_files(
    model: type[StoredFile], files: Sequence[CleanFile], by: User | None, **parent: Any
) -> None:
    if len(files) > MAX_FILES:
        raise _invalid("files", _("附件最多%(n)s个") % {"n": MAX_FILES})
    for clean_file in files:
        kind = (
            AttachmentKind.PHOTO
            if clean_file.content_type.startswith("image/")
            else AttachmentKind.DOCUMENT
        )
        stored = model(
            kind=kind,
            original_name=clean_file.original_name,
            content_type=clean_file.content_type,
            extension=clean_file.extension,
            size=clean_file.size,
            sha256=clean_file.sha256,
            uploaded_by=by,
            **parent,
        )
        stored.file.save("upload", clean_file.content, save=False)
        stored.save()


def _save(project: Project, today: dt.date | None = None) -> None:
    """Save a changed project with its ledger status brought up to date."""
    ledger.update(project, today)
    project.save()


def _text(value: str, field: str, label: str, minimum: int = 2) -> str:
    value = (value or "").strip()
    if len(value) < minimum:
        raise _invalid(field, _("请填写%(label)s") % {"label": label})
    return value


def _decimal(value: Any, field: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise _invalid(field, _("请输入数字")) from None
    if not number.is_finite() or number < 0:
        raise _invalid(field, _("请输入不小于0的数字"))
    if number >= Decimal("1e12"):
        raise _invalid(field, _("数值过大"))
    return number.quantize(Decimal("0.01"))


def _percent(value: Any, field: str = "percent") -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise _invalid(field, _("进度应为0到100之间的整数")) from None
    if not 0 <= number <= 100:
        raise _invalid(field, _("进度应为0到100之间的整数"))
    return number


def _resolve_open(escalations: Iterable[Escalation], by: User | None, resolution: str) -> list[int]:
    now = timezone.now()
    ids: list[int] = []
    for escalation in escalations:
        escalation.resolved_at = now
        escalation.resolved_by = by
        escalation.resolution = resolution
        escalation.save(update_fields=["resolved_at", "resolved_by", "resolution"])
        ids.append(escalation.pk)
    return ids


# ---------------------------------------------------------------- batches and projects


@transaction.atomic
def create_batch(*, by: User, year: int, number: int, title: str) -> Batch:
    policy.require(by, "projects.manage")
    if not 2000 <= int(year) <= 2100:
        raise _invalid("year", _("年度不正确"))
    if int(number) < 1:
        raise _invalid("number", _("批次应为正整数"))
    title = _text(title, "title", _("批次名称"))
    if Batch.objects.filter(year=year, number=number).exists():
        raise _invalid("number", _("该年度已有此批次"))
    try:
        with transaction.atomic():
            batch = Batch.objects.create(year=year, number=number, title=title)
    except IntegrityError:
        raise Conflict(_("该年度已有此批次")) from None
    audit.record(by, "projects.batch.created", batch, after={"title": title})
    return batch


def _clean_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Check and normalise project fields (any subset of ``EDITABLE``)."""
    unknown = set(fields) - EDITABLE
    if unknown:
        raise ProjectError(_("不能修改的字段：%(f)s") % {"f": ", ".join(sorted(unknown))})
    clean: dict[str, Any] = {}
    for name, value in fields.items():
        if name == "title":
            clean[name] = _text(value, name, _("项目名称"))
            if len(clean[name]) > 200:
                raise _invalid(name, _("项目名称不能超过200字"))
        elif name == "category":
            category = value if isinstance(value, ProjectCategory) else None
            if category is None:
                category = ProjectCategory.objects.filter(pk=value).first()
            if category is None or not category.active:
                raise _invalid(name, _("请选择有效的项目类别"))
            clean[name] = category
        elif name == "lead_unit":
            unit = value if isinstance(value, Department) else None
            if unit is None:
                unit = Department.objects.filter(pk=value).first()
            if unit is None or not unit.active:
                raise _invalid(name, _("请选择牵头单位"))
            clean[name] = unit
        elif name == "co_units":
            ids = [v.pk if isinstance(v, Department) else int(v) for v in value or ()]
            units = list(Department.objects.filter(pk__in=ids, active=True))
            if len(units) != len(set(ids)):
                raise _invalid(name, _("配合单位不存在"))
            clean[name] = units
        elif name == "contact_phone":
            phone = (value or "").strip()
            if phone:
                try:
                    mobile_validator(phone)
                except ValidationError:
                    raise _invalid(name, _("请输入11位手机号码")) from None
            clean[name] = phone
        elif name == "budget":
            clean[name] = None if value in (None, "") else _decimal(value, name)
        elif name == "source":
            if value not in ProjectSource.values:
                raise _invalid(name, _("项目来源不正确"))
            clean[name] = value
        elif name == "deadline":
            if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
                raise _invalid(name, _("请填写完成时限"))
            clean[name] = value
        else:  # leader_name, contact_name, measures
            limit = 32 if name.endswith("_name") else 10_000
            text = (value or "").strip()
            if len(text) > limit:
                raise _invalid(name, _("内容过长"))
            clean[name] = text
    if "lead_unit" in clean and "co_units" in clean:
        clean["co_units"] = [u for u in clean["co_units"] if u.pk != clean["lead_unit"].pk]
    return clean


def _next_code(batch: Batch) -> str:
    """The batch's next free code (called with the batch row locked)."""
    prefix = f"{batch.year}-{batch.number}-"
    taken = set(Project.objects.filter(code__startswith=prefix).values_list("code", flat=True))
    seq = len(taken) + 1
    while f"{prefix}{seq:02d}" in taken:
        seq += 1
    return f"{prefix}{seq:02d}"


@transaction.atomic
def create_project(
    *,
    by: User,
    batch: Batch | int,
    title: str,
    category: ProjectCategory | int,
    lead_unit: Department | int,
    deadline: dt.date,
    co_units: Sequence[Department | int] = (),
    leader_name: str = "",
    contact_name: str = "",
    contact_phone: str = "",
    measures: str = "",
    budget: Decimal | None = None,
    source: str = ProjectSource.DEPARTMENT,
    code: str = "",
    start: bool = False,
) -> Project:
    """A new project (草稿, or 推进中 with ``start``); ``code`` is generated unless given."""
    policy.require(by, "projects.manage")
    batch_id = batch.pk if isinstance(batch, Batch) else batch
    try:
        locked_batch = Batch.objects.select_for_update().get(pk=batch_id)
    except Batch.DoesNotExist:
        raise _invalid("batch", _("批次不存在")) from None
    fields = _clean_fields(
        {
            "title": title,
            "category": category,
            "lead_unit": lead_unit,
            "deadline": deadline,
            "co_units": co_units,
            "leader_name": leader_name,
            "contact_name": contact_name,
            "contact_phone": contact_phone,
            "measures": measures,
            "budget": budget,
            "source": source,
        }
    )
    code = (code or "").strip()
    if code:
        if len(code) > 16:
            raise _invalid("code", _("项目编号不能超过16个字符"))
        if Project.objects.filter(code=code).exists():
            raise _invalid("code", _("项目编号已存在"))
    else:
        code = _next_code(locked_batch)
    units = fields.pop("co_units")
    project = Project(batch=locked_batch, code=code, **fields)
    if start:
        project.move(ProjectStep.START)
    try:
        with transaction.atomic():
            project.save()
    except IntegrityError:
        raise Conflict(_("项目编号已存在")) from None
    ledger.refresh(project)
    project.co_units.set(units)
    audit.record(
        by,
        "projects.project.created",
        project,
        after={**audit.snapshot(project, AUDITED), "co_units": [u.pk for u in units]},
    )
    if start:
        notify_unit(project, _("新下达实事项目：%(t)s") % {"t": project.title}, "projects.started")
    return project


@transaction.atomic
def update_project(
    project_id: int, *, by: User, expected_version: int | None, **fields: Any
) -> Project:
    project = lock(project_id, expected_version)
    policy.require(by, "projects.manage")
    _expect(project, {ProjectState.DRAFT, *OPEN_STATES}, _("修改"))
    clean = _clean_fields(fields)
    if "co_units" in clean:
        lead_id = clean["lead_unit"].pk if "lead_unit" in clean else project.lead_unit_id
        clean["co_units"] = [u for u in clean["co_units"] if u.pk != lead_id]
    before = audit.snapshot(project, AUDITED)
    units = clean.pop("co_units", None)
    for name, value in clean.items():
        setattr(project, name, value)
    project.version += 1
    _save(project)
    if units is not None:
        project.co_units.set(units)
    audit.record(
        by,
        "projects.project.updated",
        project,
        before=before,
        after={
            **audit.snapshot(project, AUDITED),
            **({"co_units": [u.pk for u in units]} if units is not None else {}),
        },
    )
    return project


@transaction.atomic
def start_project(project_id: int, *, by: User) -> Project:
    """下达: the draft goes to the unit, which starts reporting."""
    project = lock(project_id)
    policy.require(by, "projects.manage")
    before = _move(project, ProjectStep.START)
    _save(project)
    audit.record(by, "projects.project.started", project, before={"state": before})
    notify_unit(project, _("新下达实事项目：%(t)s") % {"t": project.title}, "projects.started")
    return project


# ---------------------------------------------------------------- the plan (配档表)


@dataclass(frozen=True)
class TargetIn:
    name: str
    unit: str
    planned: Decimal
    key: str = ""  # what milestones refer to; the name when empty

    @property
    def ref(self) -> str:
        return self.key or self.name


@dataclass(frozen=True)
class MilestoneIn:
    month: dt.date
    title: str
    expected: str = ""
    due: dt.date | None = None
    target: str | None = None  # a TargetIn's key (or name)
    target_value: Decimal | None = None
    planned_percent: int | None = None


def _check_targets(targets: Sequence[TargetIn]) -> None:
    seen: set[str] = set()
    for index, t in enumerate(targets):
        field = f"targets.{index}"
        name = (t.name or "").strip()
        if not name or len(name) > 64:
            raise _invalid(field, _("指标名称不能为空且不超过64字"))
        if not (t.unit or "").strip() or len(t.unit.strip()) > 16:
            raise _invalid(field, _("指标“%(n)s”缺少单位") % {"n": name})
        if name in seen or (t.key and t.key in seen):
            raise _invalid(field, _("指标“%(n)s”重复") % {"n": name})
        seen.update({name, t.ref})
        _decimal(t.planned, field)


def _check_milestones(milestones: Sequence[MilestoneIn], refs: set[str], deadline: dt.date) -> None:
    seen: set[tuple[dt.date, str]] = set()
    for index, m in enumerate(milestones):
        field = f"milestones.{index}"
        title = (m.title or "").strip()
        if not title or len(title) > 200:
            raise _invalid(field, _("第%(i)s个节点缺少节点任务") % {"i": index + 1})
        key = (ledger.month_start(m.month), title)
        if key in seen:
            raise _invalid(field, _("节点“%(t)s”重复") % {"t": title})
        seen.add(key)
        if m.due is not None and m.due < key[0]:
            raise _invalid(field, _("节点“%(t)s”的完成期限早于所在月份") % {"t": title})
        if key[0] > deadline:
            raise _invalid(field, _("节点“%(t)s”晚于项目完成时限") % {"t": title})
        if m.target is not None and m.target not in refs:
            raise _invalid(field, _("节点“%(t)s”对应的指标不存在") % {"t": title})
        if m.target_value is not None:
            if m.target is None:
                raise _invalid(field, _("节点“%(t)s”填写了指标值但未指定指标") % {"t": title})
            _decimal(m.target_value, field)
        if m.planned_percent is not None:
            _percent(m.planned_percent, field)


@transaction.atomic
def set_plan(
    project_id: int,
    *,
    by: User,
    milestones: Sequence[MilestoneIn],
    targets: Sequence[TargetIn],
) -> Project:
    """Replace the plan. Targets are matched by name and milestones by (month, title), so
    that reports, completion dates and escalations stay with what did not change."""
    project = lock(project_id)
    policy.require(by, "projects.manage")
    _expect(project, {ProjectState.DRAFT, *OPEN_STATES}, _("调整计划"))
    _check_targets(targets)
    _check_milestones(
        milestones, {t.ref for t in targets} | {t.name for t in targets}, project.deadline
    )

    existing = {t.name: t for t in project.targets.all()}
    by_ref: dict[str, Target] = {}
    for order, t in enumerate(targets):
        name = t.name.strip()
        target = existing.pop(name, None) or Target(project=project, name=name)
        target.unit = t.unit.strip()
        target.planned = _decimal(t.planned, "targets")
        target.order = order
        target.save()
        by_ref[t.ref] = by_ref[name] = target
    for gone in existing.values():
        if gone.report_values.exists():
            raise _invalid("targets", _("指标“%(n)s”已有报送数据，不能删除") % {"n": gone.name})
        gone.delete()

    kept = {(m.month, m.title): m for m in project.milestones.all()}
    for order, m in enumerate(milestones):
        month = ledger.month_start(m.month)
        title = m.title.strip()
        milestone = kept.pop((month, title), None) or Milestone(
            project=project, month=month, title=title
        )
        milestone.expected = (m.expected or "").strip()
        milestone.due = m.due or ledger.last_working_day(month)
        milestone.target = by_ref[m.target] if m.target is not None else None
        milestone.target_value = (
            _decimal(m.target_value, "milestones") if m.target_value is not None else None
        )
        milestone.planned_percent = m.planned_percent
        milestone.order = order
        milestone.save()
    dropped = list(kept.values())
    # Their escalations lose the milestone (SET NULL): close them first, or two open ones of
    # the same step would collide on the project-level uniqueness.
    _resolve_open(
        Escalation.objects.open().filter(milestone__in=dropped), by, _("计划调整，该节点已取消")
    )
    for milestone in dropped:
        milestone.delete()
    _mark_reached(project)
    project.version += 1
    _save(project)
    audit.record(
        by,
        "projects.plan.set",
        project,
        after={"targets": len(targets), "milestones": len(milestones), "dropped": len(dropped)},
    )
    return project


def _mark_reached(project: Project) -> list[Milestone]:
    """Milestones whose target value is reached are done; returns those just marked."""
    done: list[Milestone] = []
    now = timezone.now()
    for milestone in project.milestones.filter(
        done_at__isnull=True, target__isnull=False, target_value__isnull=False
    ).select_related("target"):
        assert milestone.target is not None and milestone.target_value is not None
        if milestone.target.reached >= milestone.target_value:
            milestone.done_at = now
            milestone.save(update_fields=["done_at"])
            done.append(milestone)
    return done


# ---------------------------------------------------------------- reports


def _due_row(project: Project, period: dt.date) -> ReportDue:
    settings = ProjectSettings.current()
    row, _created = ReportDue.objects.get_or_create(
        project=project,
        period=period,
        defaults={
            "due": ledger.report_due(
                period, settings.report_frequency, settings.report_due_working_days
            )
        },
    )
    return row


def _apply_latest(project: Project) -> None:
    """Progress and target values come from the standing report of the latest period."""
    latest = project.reports.filter(state=ReportState.SUBMITTED).order_by("-period", "-pk").first()
    project.percent_complete = latest.percent_complete if latest else 0
    values = {v.target_id: v.value for v in latest.values.all()} if latest else {}
    for target in project.targets.all():
        reached = values.get(target.pk)
        if reached is None:
            # A target the latest report left out keeps the last value reported for it.
            last = (
                ReportValue.objects.filter(target=target, report__state=ReportState.SUBMITTED)
                .order_by("-report__period", "-report_id")
                .first()
            )
            reached = last.value if last else Decimal(0)
        if target.reached != reached:
            target.reached = reached
            target.save(update_fields=["reached"])


@transaction.atomic
def submit_report(
    project_id: int,
    *,
    by: User,
    period: dt.date,
    text: str,
    percent: int,
    values: Mapping[int, Decimal] | None = None,
    files: Sequence[CleanFile] = (),
    done_milestones: Sequence[int] = (),
) -> ProgressReport:
    """The unit reports one period's progress (cumulative % and target values)."""
    project = lock(project_id)
    _allow(by, "projects.report", project, OPEN_STATES, _("报送进展"))
    frequency = ProjectSettings.current().report_frequency
    period = ledger.period_start(period, frequency)
    today = timezone.localdate()
    if period > ledger.period_start(today, frequency):
        raise _invalid("period", _("不能报送未来期间的进展"))
    text = _text(text, "text", _("进展情况"), minimum=4)
    percent = _percent(percent)
    targets = {t.pk: t for t in project.targets.all()}
    clean_values: dict[int, Decimal] = {}
    for target_id, value in (values or {}).items():
        if int(target_id) not in targets:
            raise _invalid("values", _("指标不属于该项目"))
        clean_values[int(target_id)] = _decimal(value, f"values.{target_id}")
    milestones = {m.pk: m for m in project.milestones.filter(pk__in=list(done_milestones))}
    if len(milestones) != len(set(done_milestones)):
        raise _invalid("done_milestones", _("节点不属于该项目"))
    if project.reports.filter(period=period, state=ReportState.SUBMITTED).exists():
        raise Conflict(
            _("%(p)s的进展已报送，如需更正请联系督查室退回") % {"p": f"{period:%Y年%m月}"}
        )

    report = ProgressReport.objects.create(
        project=project, period=period, submitted_by=by, text=text, percent_complete=percent
    )
    ReportValue.objects.bulk_create(
        ReportValue(report=report, target_id=target_id, value=value)
        for target_id, value in clean_values.items()
    )
    _store_files(ReportAttachment, files, by, report=report)
    due = _due_row(project, period)
    due.submitted_report = report
    due.save(update_fields=["submitted_report"])

    _apply_latest(project)
    now = timezone.now()
    newly_done = []
    for milestone in milestones.values():
        if milestone.done_at is None:
            milestone.done_at = now
            milestone.save(update_fields=["done_at"])
            newly_done.append(milestone)
    newly_done += _mark_reached(project)
    _resolve_open(
        Escalation.objects.open().filter(project=project, period=period),
        by,
        _("已报送进展"),
    )
    _resolve_open(Escalation.objects.open().filter(milestone__in=newly_done), by, _("节点已完成"))
    project.version += 1
    _save(project, today)
    audit.record(
        by,
        "projects.report.submitted",
        report,
        after={
            "project": project.pk,
            "period": period,
            "percent": percent,
            "values": {str(k): v for k, v in clean_values.items()},
            "files": len(files),
            "done_milestones": [m.pk for m in newly_done],
        },
    )
    return report


@transaction.atomic
def return_report(report_id: int, *, by: User, reason: str) -> ProgressReport:
    """The supervisor sends a report back for correction; the period counts as unreported."""
    project_id = (
        ProgressReport.objects.filter(pk=report_id).values_list("project_id", flat=True).first()
    )
    if project_id is None:
        raise ProjectError(_("进展报告不存在"), code="not_found")
    project = lock(project_id)
    policy.require(by, "projects.report.return", project)
    report = ProgressReport.objects.select_for_update().get(pk=report_id)
    if report.state != ReportState.SUBMITTED:
        raise Conflict(_("该报告已被退回"))
    reason = _text(reason, "reason", _("退回原因"))
    report.state = ReportState.RETURNED
    report.returned_reason = reason
    report.returned_by = by
    report.returned_at = timezone.now()
    report.save(update_fields=["state", "returned_reason", "returned_by", "returned_at"])
    ReportDue.objects.filter(submitted_report=report).update(submitted_report=None)
    _apply_latest(project)
    project.version += 1
    _save(project)
    audit.record(by, "projects.report.returned", report, after={"reason": reason})
    _notify_user(
        report.submitted_by,
        project,
        _("%(c)s %(p)s的进展报告被退回：%(r)s")
        % {"c": project.code, "p": f"{report.period:%Y年%m月}", "r": reason[:60]},
        "projects.report.returned",
    )
    return report


# ---------------------------------------------------------------- escalation


def _draw_doc_number(step: str, year: int) -> tuple[int, str]:
    """The next document number of the year and step. The counter row stays locked until the
    transaction ends, so numbers are unique and a rolled-back document leaves no gap."""
    DocCounter.objects.get_or_create(year=year, step=step)
    counter = DocCounter.objects.select_for_update().get(year=year, step=step)
    counter.value += 1
    counter.save(update_fields=["value"])
    settings = ProjectSettings.current()
    prefix = settings.written_prefix if step == EscalationStep.WRITTEN else settings.notice_prefix
    return counter.value, f"{prefix}〔{year}〕{counter.value}号"


def open_step_exists(project: Project, step: str, milestone: Milestone | None) -> bool:
    return (
        Escalation.objects.open().filter(project=project, step=step, milestone=milestone).exists()
    )


def issue(
    project: Project,
    *,
    step: str,
    text: str,
    by: User | None,
    milestone: Milestone | None = None,
    period: dt.date | None = None,
    rule: EscalationRule | None = None,
    rule_key: str = "",
    due: dt.date | None = None,
    issued_at: dt.datetime | None = None,
) -> Escalation:
    """Write one escalation of a locked project (the escalate action and the sweep, which
    passes the moment it sweeps for)."""
    escalation = Escalation(
        issued_at=issued_at or timezone.now(),
        project=project,
        milestone=milestone,
        period=period,
        step=step,
        rule=rule,
        rule_key=rule_key,
        issued_by=by,
        text=text,
        due=due,
    )
    if step in NUMBERED_STEPS:
        year = timezone.localdate(escalation.issued_at).year
        escalation.doc_year = year
        escalation.doc_seq, escalation.doc_number = _draw_doc_number(step, year)
    escalation.save()
    audit.record(
        by,
        "projects.escalation.issued",
        escalation,
        after={
            "project": project.pk,
            "step": step,
            "milestone": milestone.pk if milestone else None,
            "rule": rule.pk if rule else None,
            "doc_number": escalation.doc_number,
        },
    )
    label = EscalationStep(step).label
    title = _("%(step)s：%(code)s %(title)s") % {
        "step": label,
        "code": project.code,
        "title": project.title,
    }
    if escalation.doc_number:
        title = f"{title}（{escalation.doc_number}）"
    notify_unit(project, title, f"projects.escalation.{step}")
    return escalation


@transaction.atomic
def escalate(
    project_id: int,
    *,
    by: User,
    step: str,
    text: str,
    milestone_id: int | None = None,
    due: dt.date | None = None,
) -> Escalation:
    """The supervisor takes a step of the ladder by hand."""
    project = lock(project_id)
    _allow(by, "projects.escalate", project, OPEN_STATES, _("督办"))
    if step not in EscalationStep.values:
        raise _invalid("step", _("督办措施不正确"))
    text = _text(text, "text", _("督办内容"), minimum=4)
    milestone = None
    if milestone_id is not None:
        milestone = project.milestones.filter(pk=milestone_id).first()
        if milestone is None:
            raise _invalid("milestone", _("节点不属于该项目"))
    if step == EscalationStep.TIME_LIMIT:
        if due is None:
            raise _invalid("due", _("限期办结须填写整改期限"))
        if due < timezone.localdate():
            raise _invalid("due", _("整改期限不能早于今天"))
    elif due is not None and due < timezone.localdate():
        raise _invalid("due", _("整改期限不能早于今天"))
    if open_step_exists(project, step, milestone):
        raise Conflict(
            _("该项目已有未办结的“%(s)s”，请先办结后再发") % {"s": EscalationStep(step).label}
        )
    try:
        with transaction.atomic():
            return issue(project, step=step, text=text, by=by, milestone=milestone, due=due)
    except IntegrityError:
        raise Conflict(_("该督办刚刚已由他人发出，请刷新页面")) from None


@transaction.atomic
def record_interview(
    escalation_id: int, *, by: User, held_on: dt.date, attendees: str, agreed: str
) -> Escalation:
    """约谈: who attended and what was agreed."""
    escalation = _lock_escalation(escalation_id, by)
    if escalation.step != EscalationStep.INTERVIEW:
        raise Conflict(_("只有约谈可以记录约谈情况"))
    if not isinstance(held_on, dt.date) or held_on > timezone.localdate():
        raise _invalid("held_on", _("约谈日期不能晚于今天"))
    if held_on < timezone.localdate(escalation.issued_at):
        raise _invalid("held_on", _("约谈日期不能早于约谈决定日期"))
    escalation.attendees = _text(attendees, "attendees", _("参加人员"))
    escalation.agreed = _text(agreed, "agreed", _("约谈议定事项"), minimum=4)
    escalation.held_on = held_on
    escalation.save(update_fields=["attendees", "agreed", "held_on"])
    audit.record(
        by,
        "projects.interview.recorded",
        escalation,
        after={"held_on": held_on, "attendees": escalation.attendees, "agreed": escalation.agreed},
    )
    project = escalation.project
    notify_unit(
        project,
        _("约谈议定事项：%(c)s %(t)s") % {"c": project.code, "t": project.title},
        "projects.interview.recorded",
    )
    return escalation


def _lock_escalation(escalation_id: int, by: User) -> Escalation:
    project_id = (
        Escalation.objects.filter(pk=escalation_id).values_list("project_id", flat=True).first()
    )
    if project_id is None:
        raise ProjectError(_("督办记录不存在"), code="not_found")
    project = lock(project_id)
    policy.require(by, "projects.escalate", project)
    escalation = Escalation.objects.select_for_update().get(pk=escalation_id)
    escalation.project = project
    return escalation


@transaction.atomic
def resolve_escalation(escalation_id: int, *, by: User, resolution: str) -> Escalation:
    escalation = _lock_escalation(escalation_id, by)
    if not escalation.is_open:
        raise Conflict(_("该督办已办结"))
    resolution = _text(resolution, "resolution", _("整改情况"))
    _resolve_open([escalation], by, resolution)
    audit.record(by, "projects.escalation.resolved", escalation, after={"resolution": resolution})
    return escalation


# ---------------------------------------------------------------- 销号


@transaction.atomic
def apply_closeout(
    project_id: int, *, by: User, evidence: str, files: Sequence[CleanFile] = ()
) -> CloseOut:
    """The lead unit applies for 销号 with its evidence."""
    project = lock(project_id)
    _allow(by, "projects.closeout.apply", project, {ProjectState.ACTIVE}, _("申请销号"))
    if by.department_id != project.lead_unit_id:
        raise PermissionDenied("projects.closeout.apply")
    evidence = _text(evidence, "evidence", _("完成情况及佐证"), minimum=4)
    before = _move(project, ProjectStep.APPLY)
    try:
        with transaction.atomic():
            closeout = CloseOut.objects.create(project=project, applied_by=by, evidence=evidence)
    except IntegrityError:
        raise Conflict(_("该项目已有待验收的销号申请")) from None
    _store_files(CloseOutAttachment, files, by, closeout=closeout)
    _save(project)
    audit.record(
        by,
        "projects.closeout.applied",
        closeout,
        before={"state": before},
        after={"state": project.state, "files": len(files)},
    )
    _notify_role(
        Role.SUPERVISOR,
        project,
        _("销号申请待验收：%(c)s %(t)s") % {"c": project.code, "t": project.title},
        "projects.closeout.applied",
    )
    return closeout


@transaction.atomic
def decide_closeout(closeout_id: int, *, by: User, accept: bool, reason: str = "") -> CloseOut:
    """Accept (已销号, signed by whom and when) or reject with reasons (back to 推进中)."""
    project_id = (
        CloseOut.objects.filter(pk=closeout_id).values_list("project_id", flat=True).first()
    )
    if project_id is None:
        raise ProjectError(_("销号申请不存在"), code="not_found")
    project = lock(project_id)
    policy.require(by, "projects.closeout.decide")
    closeout = CloseOut.objects.select_for_update().get(pk=closeout_id)
    if closeout.state != CloseOutState.PENDING:
        raise Conflict(_("该销号申请已处理，请刷新页面查看结果"))
    policy.require(by, "projects.closeout.decide", project)
    reason = (reason or "").strip()
    if not accept and len(reason) < 4:
        raise _invalid("reason", _("退回须写明原因"))
    now = timezone.now()
    before = _move(project, ProjectStep.ACCEPT if accept else ProjectStep.REJECT)
    closeout.state = CloseOutState.ACCEPTED if accept else CloseOutState.REJECTED
    closeout.decided_by = by
    closeout.decided_at = now
    closeout.reason = reason
    closeout.save(update_fields=["state", "decided_by", "decided_at", "reason"])
    if accept:
        project.closed_at = now
        project.closed_by = by
        project.percent_complete = 100
        _resolve_open(Escalation.objects.open().filter(project=project), by, _("项目已销号"))
    _save(project)
    audit.record(
        by,
        "projects.closeout.decided",
        closeout,
        before={"state": before},
        after={"state": project.state, "accept": accept, "reason": reason},
    )
    if accept:
        _ask_citizens(project)
        title = _("项目已销号：%(c)s %(t)s") % {"c": project.code, "t": project.title}
    else:
        title = _("销号申请被退回：%(c)s %(t)s，原因：%(r)s") % {
            "c": project.code,
            "t": project.title,
            "r": reason[:60],
        }
    notify_unit(project, title, "projects.closeout.decided")
    return closeout


# ---------------------------------------------------------------- citizens rate the result

RATING_SALT = "minsheng.projects.rating"


def rating_token(project: Project, appeal_id: int) -> str:
    return signing.dumps({"p": project.pk, "a": appeal_id}, salt=RATING_SALT, compress=True)


def rating_url(project: Project, appeal_id: int) -> str:
    """The project's public page with the rating form: a citizen who does not rate still
    lands on what was done."""
    page = reverse("projects:public_project", args=[project.code])
    return f"{page}?{urlencode({'rate': rating_token(project, appeal_id)})}"


def _ask_citizens(project: Project) -> None:
    """Text the citizens whose appeals became the project a link to rate its result."""
    if not ProjectSettings.current().ask_citizens:
        return
    for appeal_id, mobile in project.source_appeals.exclude(citizen_mobile="").values_list(
        "pk", "citizen_mobile"
    ):
        link = django_settings.SITE_URL + rating_url(project, appeal_id)
        outbox.enqueue(
            "sms",
            mobile,
            _("您反映的问题已纳入的实事项目“%(t)s”已完成验收，请对实施效果评价：%(link)s")
            % {"t": project.title, "link": link},
            kind="projects.rating.invite",
        )


def read_rating_token(token: str) -> tuple[Project, int]:
    """The closed project and source appeal a rating link is for; ProjectError when the
    link is bad, expired, or the project is not closed (any more)."""
    max_age = dt.timedelta(days=ProjectSettings.current().rating_valid_days)
    try:
        data = signing.loads(token, salt=RATING_SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise ProjectError(_("评价链接已过期"), code="link_expired") from None
    except signing.BadSignature:
        raise ProjectError(_("评价链接无效"), code="link_invalid") from None
    project = Project.objects.filter(pk=data["p"], state=ProjectState.CLOSED).first()
    if project is None or not project.source_appeals.filter(pk=data["a"]).exists():
        raise ProjectError(_("评价链接无效"), code="link_invalid")
    return project, int(data["a"])


@transaction.atomic
def rate_result(token: str, *, level: int, comment: str = "") -> ProjectRating:
    """The citizen's rating of a closed project (once per source appeal, no login: the
    signed link is the proof)."""
    project, appeal_id = read_rating_token(token)
    if level not in ResultLevel.values:
        raise _invalid("level", _("请选择评价等级"))
    comment = (comment or "").strip()
    if len(comment) > 500:
        raise _invalid("comment", _("意见建议不能超过500字"))
    try:
        with transaction.atomic():
            rating = ProjectRating.objects.create(
                project=project, appeal_id=appeal_id, level=level, comment=comment
            )
    except IntegrityError:
        raise Conflict(_("您已评价过，感谢您的参与")) from None
    # No actor: the citizen is anonymous here; the appeal links the rating to them.
    audit.record(None, "projects.rating.given", rating, after={"level": level})
    return rating


# ---------------------------------------------------------------- disclosure and appeals


@transaction.atomic
def publish_batch(batch_id: int, *, by: User) -> Batch:
    policy.require(by, "projects.publish")
    batch = Batch.objects.select_for_update().filter(pk=batch_id).first()
    if batch is None:
        raise ProjectError(_("批次不存在"), code="not_found")
    if batch.published:
        raise Conflict(_("该批次已公开"))
    if not batch.projects.exclude(state=ProjectState.DRAFT).exists():
        raise ProjectError(_("该批次还没有已下达的项目，不能公开"), code="validation_error")
    batch.published = True
    batch.published_at = timezone.now()
    batch.save(update_fields=["published", "published_at"])
    audit.record(by, "projects.batch.published", batch)
    return batch


def link_appeals(project: Project, appeal_ids: Sequence[int], by: User | None) -> list[int]:
    """Link promoted appeals to a locked project; the ids newly linked."""
    from minsheng.appeals.models import Appeal
    from minsheng.appeals.states import State as AppealState

    if project.state == ProjectState.CLOSED:
        raise Conflict(_("项目已销号，不能再关联诉求"))
    appeals = list(Appeal.objects.filter(pk__in=appeal_ids))
    if len(appeals) != len(set(appeal_ids)):
        raise ProjectError(_("诉求不存在"), code="not_found")
    if any(a.state != AppealState.PROMOTED for a in appeals):
        raise _invalid("appeal", _("只有已转为实事项目的诉求才能关联"))
    linked = set(project.source_appeals.filter(pk__in=appeal_ids).values_list("pk", flat=True))
    new = [a for a in appeals if a.pk not in linked]
    if not new:
        return []
    project.source_appeals.add(*new)
    audit.record(by, "projects.appeals.linked", project, after={"appeals": [a.pk for a in new]})
    return [a.pk for a in new]


@transaction.atomic
def link_appeal(project_id: int, appeal_id: int, *, by: User) -> Project:
    """Link a promoted appeal to the project that solves it (shown on both pages)."""
    project = lock(project_id)
    if not (policy.can(by, "projects.manage") or policy.can(by, "appeal.promote")):
        raise PermissionDenied("projects.manage")
    link_appeals(project, [appeal_id], by)
    return project


# ---------------------------------------------------------------- rule texts


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def render_text(template: str, values: Mapping[str, str], default: str) -> str:
    """An admin-written template with ``{project}``-style fields; the default when it is
    broken, so a typo in the admin never stops the sweep."""
    if not template.strip():
        return default
    try:
        return template.format_map(_Blank(values))
    except (ValueError, IndexError, AttributeError):
        return default
