"""``{% load minsheng_mask %}``: ``{{ user.mobile|mask_mobile }}``, ``{{ name|mask_name }}``...

The rules are in ``minsheng.core.masking``; these filters only make them usable in templates.
"""

from __future__ import annotations

from collections.abc import Callable

from django import template

from minsheng.core import masking

register = template.Library()


def _text_filter(name: str, mask: Callable[[str | None], str]) -> None:
    # Templates hand over whatever the variable holds (a number, a lazy string); a missing
    # value must show as nothing rather than as a masked "None".
    def apply(value: object) -> str:
        return mask(None if value is None else str(value))

    register.filter(name, apply)


_text_filter("mask_mobile", masking.mask_mobile)
_text_filter("mask_name", masking.mask_name)
_text_filter("mask_id_number", masking.mask_id_number)
_text_filter("mask_email", masking.mask_email)
register.filter("mask_address", masking.mask_address)
