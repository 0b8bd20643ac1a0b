"""Every change to the catalogue: admin edits, imports and hall maps.

An import is one action and one audit event (with the counts and codes it touched), not one
event per row: a 5,000-row import would otherwise flood the audit chain.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Model

from minsheng.catalog.models import HallMap, ServiceMatter
from minsheng.core import audit, policy

MATTER_FIELDS = (
    "code",
    "name",
    "department_id",
    "matter_type",
    "promised_days",
    "statutory_days",
    "fee",
    "hall_id",
    "visits_required",
    "online",
    "high_frequency",
    "hf_order",
    "active",
)


def require(user: Any, action: str, obj: Model | None = None) -> None:
    # Django superusers (created with createsuperuser) may lack the admin role.
    if getattr(user, "is_superuser", False) and getattr(user, "is_active", False):
        return
    policy.require(user, action, obj)


def snapshot(matter: ServiceMatter) -> dict[str, Any]:
    return audit.snapshot(matter, MATTER_FIELDS)


@transaction.atomic
def save_matter(
    user: Any, matter: ServiceMatter, *, before: dict[str, Any] | None = None
) -> ServiceMatter:
    """Save a matter edited in the admin (its inlines are saved by the admin afterwards,
    inside the same request transaction)."""
    require(user, "catalog.edit", matter)
    created = matter.pk is None
    if not created:
        # Lock the row so two admins saving at once do not interleave.
        ServiceMatter.objects.select_for_update().filter(pk=matter.pk).first()
    matter.save()
    audit.record(
        user,
        "catalog.matter_created" if created else "catalog.matter_changed",
        matter,
        before=before,
        after=snapshot(matter),
    )
    return matter


@transaction.atomic
def delete_matter(user: Any, matter: ServiceMatter) -> None:
    require(user, "catalog.edit", matter)
    before = snapshot(matter)
    audit.record(user, "catalog.matter_deleted", matter, before=before)
    matter.delete()


@transaction.atomic
def save_object(user: Any, obj: Model, event: str) -> Model:
    """Save a hall map, a map item or another catalogue row edited in the admin."""
    require(user, "catalog.edit")
    created = obj.pk is None
    obj.save()
    audit.record(user, f"catalog.{event}_{'created' if created else 'changed'}", obj)
    return obj


@transaction.atomic
def delete_object(user: Any, obj: Model, event: str) -> None:
    require(user, "catalog.edit")
    audit.record(user, f"catalog.{event}_deleted", obj)
    obj.delete()


@transaction.atomic
def set_high_frequency(user: Any, codes: list[str]) -> int:
    """Make exactly ``codes`` the kiosk's high-frequency buttons, in that order."""
    require(user, "catalog.edit")
    before = list(ServiceMatter.objects.high_frequency().values_list("code", flat=True))
    ServiceMatter.objects.select_for_update().filter(high_frequency=True).update(
        high_frequency=False, hf_order=0
    )
    for order, code in enumerate(codes, start=1):
        ServiceMatter.objects.filter(code=code).update(high_frequency=True, hf_order=order)
    audit.record(
        user,
        "catalog.high_frequency_set",
        object_type="catalog.servicematter",
        object_repr="高频事项",
        before={"codes": before},
        after={"codes": codes},
    )
    return len(codes)


def hall_map_for(hall_id: int) -> HallMap | None:
    return HallMap.objects.filter(hall_id=hall_id).first()
