"""Factories for practical projects: the people involved and projects with a plan.

``make_cast()`` gives a lead unit with its handler and head, a co-unit, an unrelated unit and
the supervisor/leader/admin; ``make_project(cast, ...)`` creates a project through the actions
(so its code, ledger status and audit trail are real), with a plan unless told otherwise.
The model factories are for tests that need rows fast and in any state.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from factory.django import DjangoModelFactory
from PIL import Image

from minsheng.appeals import attachments
from minsheng.core.models import Department, Role, User
from minsheng.projects import actions
from minsheng.projects.actions import MilestoneIn, TargetIn
from minsheng.projects.models import Batch, Milestone, Project, ProjectCategory, Target
from minsheng.projects.states import ProjectState
from tests.factories import DepartmentFactory, UserFactory


class BatchFactory(DjangoModelFactory):
    class Meta:
        model = Batch
        django_get_or_create = ("year", "number")

    year = 2026
    number = factory.Sequence(lambda n: n + 1)
    title = factory.LazyAttribute(lambda o: f"{o.year}年第{o.number}批我为群众办实事项目")


class ProjectFactory(DjangoModelFactory):
    """A bare project row (no plan, no audit): for lists and pages, not for workflows."""

    class Meta:
        model = Project
        skip_postgeneration_save = True

    batch = factory.SubFactory(BatchFactory)
    code = factory.Sequence(lambda n: f"T-{n:04d}")
    title = factory.Sequence(lambda n: f"实事项目{n}")
    category = factory.LazyFunction(lambda: ProjectCategory.objects.order_by("order").first())
    lead_unit = factory.SubFactory(DepartmentFactory)
    deadline = dt.date(2026, 12, 31)
    state = ProjectState.ACTIVE


class TargetFactory(DjangoModelFactory):
    class Meta:
        model = Target

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"指标{n}")
    unit = "公里"
    planned = Decimal("14.5")


class MilestoneFactory(DjangoModelFactory):
    class Meta:
        model = Milestone

    project = factory.SubFactory(ProjectFactory)
    month = dt.date(2026, 3, 1)
    title = factory.Sequence(lambda n: f"节点{n}")
    due = dt.date(2026, 3, 31)


@dataclass
class Cast:
    unit: Department
    co_unit: Department
    other_unit: Department
    handler: User
    head: User
    co_handler: User
    other_handler: User
    supervisor: User
    leader: User
    admin: User


def make_cast() -> Cast:
    unit = DepartmentFactory(name="县水利局")
    co_unit = DepartmentFactory(name="县财政局")
    other_unit = DepartmentFactory(name="县民政局")
    return Cast(
        unit=unit,
        co_unit=co_unit,
        other_unit=other_unit,
        handler=UserFactory(role=Role.HANDLER, department=unit),
        head=UserFactory(role=Role.DEPT_HEAD, department=unit),
        co_handler=UserFactory(role=Role.HANDLER, department=co_unit),
        other_handler=UserFactory(role=Role.HANDLER, department=other_unit),
        supervisor=UserFactory(role=Role.SUPERVISOR),
        leader=UserFactory(role=Role.LEADER),
        admin=UserFactory(role=Role.ADMIN),
    )


# The pipeline project of the issue: 14.5 km laid in three months.
PIPE_TARGETS = [TargetIn(name="铺设管网", unit="公里", planned=Decimal("14.5"))]
PIPE_PLAN = [
    MilestoneIn(
        month=dt.date(2026, 3, 1),
        title="完成设计和招标",
        planned_percent=20,
    ),
    MilestoneIn(
        month=dt.date(2026, 4, 1),
        title="铺设管网7公里",
        target="铺设管网",
        target_value=Decimal("7"),
        planned_percent=60,
    ),
    MilestoneIn(
        month=dt.date(2026, 5, 1),
        title="全线贯通",
        target="铺设管网",
        target_value=Decimal("14.5"),
        planned_percent=100,
    ),
]


def make_project(
    cast: Cast,
    *,
    batch: Batch | None = None,
    deadline: dt.date = dt.date(2026, 6, 30),
    milestones: Sequence[MilestoneIn] | None = PIPE_PLAN,
    targets: Sequence[TargetIn] = PIPE_TARGETS,
    start: bool = True,
    **fields: object,
) -> Project:
    batch = batch or BatchFactory(year=deadline.year, number=1)
    project = actions.create_project(
        by=cast.supervisor,
        batch=batch,
        title=str(fields.pop("title", "两水厂连通管网工程")),
        category=ProjectCategory.objects.get(name="城乡建设"),
        lead_unit=cast.unit,
        co_units=[cast.co_unit],
        deadline=deadline,
        leader_name="李副县长",
        contact_name="王五",
        contact_phone="13800001111",
        measures="新建连通管网14.5公里，实现两水厂互联互通",
        start=start,
        **fields,  # type: ignore[arg-type]
    )
    if milestones is not None:
        actions.set_plan(project.pk, by=cast.supervisor, milestones=milestones, targets=targets)
    project.refresh_from_db()
    return project


def photo(name: str = "现场.jpg") -> attachments.CleanFile:
    """A checked JPEG, as the report form hands it to the actions."""
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, format="JPEG")
    return attachments.clean(SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg"))


def pdf_file(name: str = "验收报告.pdf") -> attachments.CleanFile:
    data = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    return attachments.clean(SimpleUploadedFile(name, data, content_type="application/pdf"))
