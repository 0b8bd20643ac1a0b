"""The one permission policy: role × action × object scope.

Every app registers the actions it has and which roles may take them. A role that belongs
to a department (window staff, handler, department head) may act on an object only when
the object belongs to that department: models say how with ``scope_fields``, the names of
their fields (foreign keys or many-to-many) that point at a ``Department``. Lists come from
``visible()`` so that pages, exports and API calls can never show more than ``can()`` allows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db import models

from minsheng.core.models.org import DEPARTMENT_ROLES, Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from minsheng.core.models.org import User

    AnyUser = User | AnonymousUser

M = TypeVar("M", bound=models.Model)

_rules: dict[str, frozenset[str]] = {}

STAFF_ROLES = frozenset(r for r in Role if r != Role.CITIZEN)
EVERY_ROLE = frozenset(Role)


def register(rules: dict[str, Iterable[str]]) -> None:
    """Declare actions and the roles allowed to take them (called from each app's ready())."""
    for action, roles in rules.items():
        if action in _rules and _rules[action] != frozenset(roles):
            raise ImproperlyConfigured(f"action {action!r} registered twice with different roles")
        _rules[action] = frozenset(roles)


def roles_for(action: str) -> frozenset[str]:
    try:
        return _rules[action]
    except KeyError:
        raise ImproperlyConfigured(
            f"unknown action {action!r}: register it in the app's rules"
        ) from None


def actions() -> dict[str, frozenset[str]]:
    return dict(_rules)


def _active(user: AnyUser | None) -> User | None:
    """The user, if logged in and active (an AnonymousUser is never)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    return user


def _role(user: AnyUser | None) -> str | None:
    active = _active(user)
    return active.role if active is not None else None


def scope_fields(model: type[models.Model]) -> tuple[str, ...]:
    return tuple(getattr(model, "scope_fields", ()))


def department_ids(obj: models.Model) -> set[int]:
    """The departments an object belongs to, read through its model's ``scope_fields``."""
    ids: set[int] = set()
    for field_name in scope_fields(type(obj)):
        if field_name == "pk":  # the object is a department itself
            ids.add(obj.pk)
            continue
        field = obj._meta.get_field(field_name)
        if field.many_to_many:
            ids.update(getattr(obj, field_name).values_list("pk", flat=True))
        else:
            value = getattr(obj, f"{field_name}_id", None)
            if value is not None:
                ids.add(value)
    return ids


def can(user: AnyUser | None, action: str, obj: models.Model | None = None) -> bool:
    allowed = roles_for(action)
    active = _active(user)
    if active is None or active.role not in allowed:
        return False
    if obj is not None and active.role in DEPARTMENT_ROLES and scope_fields(type(obj)):
        return active.department_id in department_ids(obj)
    return True


def require(user: AnyUser | None, action: str, obj: models.Model | None = None) -> None:
    """Raise PermissionDenied unless ``user`` may take ``action`` (on ``obj``)."""
    if not can(user, action, obj):
        raise PermissionDenied(action)


def visible(user: AnyUser | None, queryset: models.QuerySet[M], action: str) -> models.QuerySet[M]:
    """The part of ``queryset`` that ``user`` may take ``action`` on."""
    active = _active(user)
    if active is None or active.role not in roles_for(action):
        return queryset.none()
    fields = scope_fields(queryset.model)
    if active.role not in DEPARTMENT_ROLES or not fields:
        return queryset
    department_id = active.department_id
    condition = models.Q()
    for name in fields:
        field = queryset.model._meta.get_field(name) if name != "pk" else None
        if field is not None and field.many_to_many:
            # A subquery on the link table alone, not a join: a join would need DISTINCT,
            # which makes the database read every row before it can sort and cut the first
            # page, and going through the model table again costs a second scan of it.
            links = field.remote_field.through._default_manager.filter(  # type: ignore[union-attr]
                **{field.m2m_reverse_field_name(): department_id}  # type: ignore[union-attr]
            )
            condition |= models.Q(pk__in=links.values(field.m2m_field_name()))  # type: ignore[union-attr]
        else:
            condition |= models.Q(**{name: department_id})
    return queryset.filter(condition)


def get_object(user: AnyUser | None, queryset: models.QuerySet[M], action: str, **lookup: Any) -> M:
    """Fetch one object the user may act on; anything else is a 404, so that guessing
    another department's ids learns nothing (not even that the id exists)."""
    from django.shortcuts import get_object_or_404

    if _role(user) is None or _role(user) not in roles_for(action):
        raise PermissionDenied(action)
    return get_object_or_404(visible(user, queryset, action), **lookup)
