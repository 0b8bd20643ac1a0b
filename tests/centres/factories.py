"""Towns with their town government, villages, and centres brought to a status through the
actions (so their history and audit trail are real)."""

from __future__ import annotations

import datetime as dt
import io
import itertools

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from minsheng.centres import actions
from minsheng.centres.models import Batch, Centre, Status
from minsheng.core.models import Department, Division
from tests.factories import DepartmentFactory, DivisionFactory

_serial = itertools.count(1)
PATH = [Status.BUILDING, Status.BASIC, Status.IN_USE]


def make_town(name: str = "石桥镇") -> tuple[Division, Department]:
    n = next(_serial)
    town = DivisionFactory(code=f"99010{n:04d}", name=name, level=Division.Level.TOWN)
    department = DepartmentFactory(
        code=town.code, name=f"{name}人民政府{n}", kind=Department.Kind.TOWN, division=town
    )
    return town, department


def make_village(town: Division, name: str = "石桥村") -> Division:
    return DivisionFactory(
        code=f"{town.code}{next(_serial):03d}", name=name, level=Division.Level.VILLAGE, parent=town
    )


def make_centre(
    town: Division | None = None,
    *,
    status: str = Status.IN_USE,
    name: str = "石桥村",
    batch: Batch | None = None,
) -> Centre:
    """A centre that reached ``status`` step by step over the last 100 days."""
    town = town or make_town()[0]
    today = timezone.localdate()
    centre = actions.create_centre(
        make_village(town, name).pk,
        batch_id=batch.pk if batch else None,
        on=today - dt.timedelta(days=100),
        by=None,
    )
    for step, target in enumerate(PATH, start=1):
        if Status.values.index(centre.status) >= Status.values.index(status):
            break
        centre = actions.change_status(
            centre.pk, to=target, on=today - dt.timedelta(days=100 - 10 * step), by=None
        )
    return centre


def pdf(name: str = "调解协议书.pdf") -> SimpleUploadedFile:
    """A tiny PDF: its type is read from its first bytes, as the check does."""
    return SimpleUploadedFile(name, b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")


def png() -> SimpleUploadedFile:
    from PIL import Image

    data = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(data, format="PNG")
    return SimpleUploadedFile("scan.png", data.getvalue())
