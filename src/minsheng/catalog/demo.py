"""The demo catalogue: the matters of ``demo_matters`` assigned to the demo county's
departments and windows, and a floor plan for each hall of the service centre.

Runs after the core step (which builds the hall and its windows). Idempotent: departments,
windows and maps are looked up by their codes, matters are upserted by code through the
import action (one audit event), and each map's items are redrawn.
"""

from __future__ import annotations

from django.conf import settings

from minsheng.catalog import demo_matters, importer
from minsheng.catalog.demo_matters import DemoMatter
from minsheng.catalog.models import HallMap, MapItem, Material
from minsheng.catalog.tabular import FaqSpec, MaterialSpec
from minsheng.core import demo
from minsheng.core.models import Department, Hall, Window

KIND_FLAGS = {"c": Material.Kind.COPY, "b": Material.Kind.BOTH, "e": Material.Kind.ELECTRONIC}
COMPLAINT_PHONE = "0000-12345"


def parse_materials(text: str) -> list[MaterialSpec]:
    out: list[MaterialSpec] = []
    for item in text.split("；"):
        head, _sep, note = item.partition("#")
        name, _sep, flags = head.partition("|")
        spec = MaterialSpec(name=name.strip(), notes=note.strip().strip("（）"))
        for flag in flags:
            if flag in KIND_FLAGS:
                spec.kind = KIND_FLAGS[flag]
            elif flag == "o":
                spec.required = False
            elif flag.isdigit():
                spec.copies = int(flag)
        out.append(spec)
    return out


def _extra_departments() -> None:
    county = settings.COUNTY_NAME
    for order, (code, name, short, windows) in enumerate(demo_matters.EXTRA_DEPARTMENTS, start=50):
        dept, _ = Department.objects.update_or_create(
            code=code,
            defaults={
                "name": f"{county}{name}",
                "short_name": short,
                "kind": Department.Kind.COUNTY,
                "phone": f"0000-86{order:02d}0000",
                "sort_order": order,
            },
        )
        for hall_code, number, window_name in windows:
            hall = Hall.objects.filter(code=hall_code).first()
            if hall is None:
                continue
            Window.objects.update_or_create(
                hall=hall, number=number, defaults={"name": window_name, "department": dept}
            )


def _windows_for(matter: DemoMatter) -> list[Window]:
    return list(
        Window.objects.filter(
            department__code=matter.dept, name=f"{matter.window}窗口", active=True
        ).select_related("hall")
    )


def _row(matter: DemoMatter, line: int) -> importer.ParsedRow | None:
    dept = Department.objects.filter(code=matter.dept).first()
    if dept is None:
        return None
    windows = _windows_for(matter)
    hall = windows[0].hall if windows else None
    location = ""
    if hall is not None:
        location = f"{hall.building}{hall.name}{hall.floor}"
    return importer.ParsedRow(
        line=line,
        code=matter.code,
        fields={
            "name": matter.name,
            "aliases": matter.aliases,
            "matter_type": matter.type,
            "audience": matter.audience,
            "conditions": matter.conditions,
            "legal_basis": matter.legal,
            "statutory_days": matter.statutory,
            "promised_days": matter.promised,
            "fee": matter.fee,
            "location": location,
            "opening_hours": hall.opening_hours if hall is not None else "",
            "consult_phone": dept.phone,
            "complaint_phone": COMPLAINT_PHONE,
            "visits_required": matter.visits,
            "online": matter.online,
            "high_frequency": matter.hf > 0,
            "hf_order": matter.hf,
            "active": True,
        },
        department=dept.name,
        hall=hall.code if hall is not None else "",
        windows=[(w.hall.code, w.number) for w in windows],
        materials=parse_materials(matter.materials),
        steps=matter.step_list,
        faqs=[FaqSpec(q, a) for q, a in matter.faqs],
    )


def build_hall_map(hall: Hall) -> HallMap:
    """A plan every service centre looks like: windows along the back and side walls,
    the entrance in the middle of the front wall, the desk and waiting seats between."""
    rows, cols = 9, 14
    hall_map, _ = HallMap.objects.update_or_create(
        hall=hall,
        defaults={
            "rows": rows,
            "cols": cols,
            "entrance_row": rows - 1,
            "entrance_col": cols // 2,
            "notes": "演示平面图",
        },
    )
    hall_map.items.all().delete()
    slots = [(0, c) for c in range(cols)]
    slots += [(r, 0) for r in range(1, 6)] + [(r, cols - 1) for r in range(1, 6)]
    windows = list(hall.windows.filter(active=True).order_by("number"))
    items = [
        MapItem(hall_map=hall_map, kind=MapItem.Kind.WINDOW, window=w, row=r, col=c)
        for w, (r, c) in zip(windows, slots, strict=False)
    ]
    items += [
        MapItem(
            hall_map=hall_map,
            kind=MapItem.Kind.WAITING,
            label="等候区",
            row=2,
            col=3,
            width=8,
            height=3,
        ),
        MapItem(hall_map=hall_map, kind=MapItem.Kind.DESK, label="咨询台", row=6, col=8, width=3),
        MapItem(
            hall_map=hall_map,
            kind=MapItem.Kind.SELF_SERVICE,
            label="自助区",
            row=6,
            col=2,
            width=3,
        ),
        MapItem(hall_map=hall_map, kind=MapItem.Kind.TOILET, label="卫生间", row=8, col=0, width=2),
        MapItem(
            hall_map=hall_map, kind=MapItem.Kind.STAIRS, label="电梯", row=8, col=cols - 2, width=2
        ),
    ]
    MapItem.objects.bulk_create(items)
    return hall_map


@demo.register("catalog", "办事指南（服务事项和大厅平面图）", order=50)
def build(ctx: demo.DemoContext) -> None:
    _extra_departments()
    rows = [
        row
        for line, matter in enumerate(demo_matters.MATTERS, start=1)
        if (row := _row(matter, line)) is not None
    ]
    report = importer.ImportReport(filename="演示办事指南", total_rows=len(rows))
    report.valid_rows = len(rows)
    importer.write(None, rows, report)
    ctx.progress("服务事项", len(rows), len(demo_matters.MATTERS))
    halls = list(Hall.objects.all())
    for hall in halls:
        build_hall_map(hall)
    ctx.progress("大厅平面图", len(halls), len(halls))
