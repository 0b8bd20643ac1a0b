"""``{% matter_materials matter %}`` and ``{% matter_map matter %}`` for any page (the guide
uses them too)."""

from __future__ import annotations

from typing import Any

from django import template

from minsheng.catalog.maps import plan_for_matter
from minsheng.catalog.models import ServiceMatter

register = template.Library()


@register.inclusion_tag("catalog/_materials.html")
def matter_materials(matter: ServiceMatter) -> dict[str, Any]:
    return {"matter": matter}


@register.inclusion_tag("catalog/_hall_map.html")
def matter_map(matter: ServiceMatter) -> dict[str, Any]:
    return {"plan": plan_for_matter(matter)}
