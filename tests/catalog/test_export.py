"""Export → import gives back exactly the same catalogue (Excel and CSV)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from minsheng.catalog import exporter, importer
from minsheng.catalog.models import FAQ, Material, ServiceMatter, Step
from minsheng.core.models import Department, Window

pytestmark = pytest.mark.django_db


def snapshot() -> list[dict[str, Any]]:
    out = []
    for m in ServiceMatter.objects.with_details().order_by("code"):
        row = {
            f.name: getattr(m, f.attname)
            for f in ServiceMatter._meta.concrete_fields
            if f.name not in {"id", "created_at", "updated_at"}
        }
        row["windows"] = sorted(w.pk for w in m.windows.all())
        row["materials"] = [
            (x.name, x.kind, x.copies, x.required, x.notes, x.order) for x in m.materials.all()
        ]
        row["steps"] = [(s.order, s.text) for s in m.steps.all()]
        row["faqs"] = [(f.order, f.question, f.answer) for f in m.faqs.all()]
        out.append(row)
    return out


@pytest.fixture
def rich_catalogue(matter: ServiceMatter, department: Department, window: Window) -> None:
    """Awkward values: separators inside names, empty lists, None time limits, a code that
    looks like a number, line breaks in conditions and answers."""
    odd = ServiceMatter.objects.create(
        code="0012",
        name="含；分号、顿号的事项",
        department=department,
        matter_type="other",
        audience="organisation",
        conditions="第一行\n第二行，含“引号”和,逗号",
        statutory_days=None,
        promised_days=None,
        fee="",
        visits_required=0,
        online=False,
        high_frequency=False,
        active=False,
        aliases="甲\n乙",
    )
    Material.objects.create(matter=odd, name="材料；带分号", kind="electronic", copies=3, order=1)
    ServiceMatter.objects.create(code="EMPTY", name="什么都没有", department=department)
    Step.objects.create(matter=odd, order=1, text="只有一步")
    FAQ.objects.create(matter=odd, order=1, question="问题一？", answer="答：含冒号\n问题样的行？")
    FAQ.objects.create(matter=odd, order=2, question="问题二", answer="")


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_round_trip_is_lossless(rich_catalogue, tmp_path: Path, fmt: str) -> None:
    before = snapshot()
    path = tmp_path / f"catalog.{fmt}"
    assert exporter.export_file(path) == 3
    # Wipe the nested rows and scramble the fields; the import must restore everything.
    Material.objects.all().delete()
    Step.objects.all().delete()
    FAQ.objects.all().delete()
    ServiceMatter.objects.update(name="x", fee="x", promised_days=99, active=True)
    for m in ServiceMatter.objects.all():
        m.windows.clear()
    report = importer.import_file(path)
    assert report.ok, report.errors
    assert report.updated == 3
    assert snapshot() == before


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_round_trip_into_an_empty_database(rich_catalogue, tmp_path: Path, fmt: str) -> None:
    before = snapshot()
    path = tmp_path / f"catalog.{fmt}"
    exporter.export_file(path)
    ServiceMatter.objects.all().delete()
    report = importer.import_file(path)
    assert report.created == 3 and not report.departments_created and not report.windows_created
    assert snapshot() == before


def test_export_command(rich_catalogue, tmp_path: Path) -> None:
    out = io.StringIO()
    call_command("catalog", "export", str(tmp_path / "x.xlsx"), stdout=out)
    assert "已导出 3 项" in out.getvalue()
    data = (tmp_path / "x.xlsx").read_bytes()
    assert data[:2] == b"PK"
    call_command("catalog", "export", str(tmp_path / "x.csv"), stdout=out)
    text = (tmp_path / "x.csv").read_text(encoding="utf-8-sig")
    assert text.startswith("事项编码,事项名称")
    assert "居民身份证〔原件和复印件｜1份｜必需〕" in text
