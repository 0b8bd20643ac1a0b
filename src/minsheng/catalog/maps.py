"""Hall floor plans as data the templates draw as server-side SVG.

SVG geometry goes into attributes (x, y, width, height), which the strict CSP allows;
colours and fonts come from classes in ``catalog/catalog.css``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from minsheng.catalog.models import HallMap, MapItem, ServiceMatter
from minsheng.core.models import Hall, Window

CELL = 40  # SVG units per grid cell


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    width: int
    height: int
    label: str
    css: str
    title: str = ""

    @property
    def cx(self) -> int:
        return self.x + self.width // 2

    @property
    def cy(self) -> int:
        return self.y + self.height // 2


@dataclass
class MapPlan:
    hall: Hall
    width: int
    height: int
    boxes: list[Box]
    entrance: Box
    targets: list[Box] = field(default_factory=list)
    route: str = ""  # SVG polyline points from the entrance to the first target
    hint: str = ""

    @property
    def grid_lines(self) -> list[tuple[int, int, int, int]]:
        lines = [(x, 0, x, self.height) for x in range(0, self.width + 1, CELL)]
        lines += [(0, y, self.width, y) for y in range(0, self.height + 1, CELL)]
        return lines


def _box(item: MapItem, highlight: set[int]) -> Box:
    on = item.window_id is not None and item.window_id in highlight
    css = f"cat-item cat-kind-{item.kind}" + (" cat-on" if on else "")
    title = item.display_label
    if item.window is not None:
        title = _("%(number)s号 %(name)s") % {
            "number": item.window.number,
            "name": item.window.name,
        }
    return Box(
        x=item.col * CELL,
        y=item.row * CELL,
        width=item.width * CELL,
        height=item.height * CELL,
        label=item.display_label,
        css=css,
        title=title,
    )


def _direction(entrance: Box, target: Box, hall_map: HallMap) -> str:
    dx = target.cx - entrance.cx
    if abs(dx) < CELL:
        return _("正后方") if target.cy > entrance.cy else _("正前方")
    if target.cy < entrance.cy:
        return _("左前方") if dx < 0 else _("右前方")
    if target.cy > entrance.cy:
        return _("左后方") if dx < 0 else _("右后方")
    return _("左手边") if dx < 0 else _("右手边")


def build_plan(hall_map: HallMap, highlight: list[Window] | None = None) -> MapPlan:
    highlight_ids = {w.pk for w in highlight or []}
    items = list(hall_map.items.select_related("window"))
    boxes = [_box(item, highlight_ids) for item in items]
    entrance = Box(
        x=hall_map.entrance_col * CELL,
        y=hall_map.entrance_row * CELL,
        width=CELL,
        height=CELL,
        label=_("入口"),
        css="cat-item cat-entrance",
        title=_("入口"),
    )
    targets = [b for b, item in zip(boxes, items, strict=True) if item.window_id in highlight_ids]
    plan = MapPlan(
        hall=hall_map.hall,
        width=hall_map.cols * CELL,
        height=hall_map.rows * CELL,
        boxes=boxes,
        entrance=entrance,
        targets=targets,
    )
    if targets:
        target = targets[0]
        # An L-shaped walk: straight into the hall to the target's row, then sideways.
        # Stop in front of the window (on the side facing the entrance).
        front_y = target.y + target.height if target.cy < entrance.cy else target.y
        plan.route = f"{entrance.cx},{entrance.cy} {entrance.cx},{front_y} {target.cx},{front_y}"
        window = next(i.window for i in items if i.window_id in highlight_ids)
        assert window is not None
        plan.hint = _(
            "从%(hall)s入口进门后往%(direction)s走，到高亮的%(number)s号窗口（%(name)s）办理。"
        ) % {
            "hall": hall_map.hall.name,
            "direction": _direction(entrance, target, hall_map),
            "number": window.number,
            "name": window.name,
        }
    return plan


def plan_for_hall(hall: Hall, highlight: list[Window] | None = None) -> MapPlan | None:
    hall_map = HallMap.objects.filter(hall=hall).select_related("hall").first()
    return build_plan(hall_map, highlight) if hall_map is not None else None


def plan_for_matter(matter: ServiceMatter) -> MapPlan | None:
    """The map of the hall where the matter is handled, its windows highlighted."""
    hall = matter.effective_hall()
    if hall is None:
        return None
    windows = [w for w in matter.windows.all() if w.active and w.hall_id == hall.pk]
    return plan_for_hall(hall, windows)
