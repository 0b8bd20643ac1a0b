"""The one way to show personal data unmasked: check the policy, then leave a trace.

Lists, exports and dashboards show masked values (``core.masking``). A page or endpoint
that shows a person's full mobile number, name or identity number calls ``view_personal``
first; it raises ``PermissionDenied`` for anyone the policy does not allow, and otherwise
records which fields of which object were shown to whom.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeVar

from django.db import models

from minsheng.core import audit, policy

if TYPE_CHECKING:
    from minsheng.core.policy import AnyUser

M = TypeVar("M", bound=models.Model)


def can_see_unmasked(user: AnyUser | None, action: str, obj: models.Model) -> bool:
    """Whether a page should offer the unmasked values (it still goes through ``view_personal``)."""
    return policy.can(user, action, obj)


def view_personal(user: AnyUser | None, action: str, obj: M, *, fields: Sequence[str]) -> M:
    """Allow ``user`` to see ``fields`` of ``obj`` unmasked, and record that they did."""
    if isinstance(fields, str) or not fields:
        # A bare string would be recorded letter by letter; nothing at all records nothing.
        raise ValueError("fields must name the personal fields shown")
    policy.require(user, action, obj)
    audit.record(user, action, obj, after={"fields": list(dict.fromkeys(fields))})
    return obj
