"""Masking of personal data for lists, exports, dashboards and public pages.

Each function takes what the database holds (or None) and returns a string safe to show to
anyone who may see the record but not the person behind it. The rules, and why:

- Mobile numbers keep the first 3 and last 4 digits (``138****1234``): enough to tell two
  callers apart on the phone, the convention citizens recognise from banks and 12306.
- Names keep the first character and replace every other one with ``*`` (``张*``, ``张**``).
  Compound surnames (欧阳, 司马, 诸葛...) are *not* kept whole: ``欧阳娜娜`` becomes
  ``欧***``, because a rare surname in a county narrows a person down more than a common
  one does. A one-character name becomes ``*``.
- Identity card numbers (GB 11643, 18 characters) keep the 6-digit area code and the last
  4 (``110101********1234``), hiding the date of birth; old 15-digit numbers keep 6 and 3.
- Addresses never leave the town: ``mask_address`` takes a ``Division`` and gives the
  county and town names; the village and any free-text address are never shown.
- E-mail addresses keep the first character of the name and the domain (``z***@qq.com``),
  with a fixed number of stars so the length of the name does not show (a one-character
  name is hidden whole: ``***@qq.com``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from minsheng.core.models.org import Division

STAR = "*"


def mask_mobile(value: str | None) -> str:
    text = (value or "").strip()
    if len(text) >= 11:  # mobile numbers, also with +86 or an area code in front
        return text[:3] + STAR * (len(text) - 7) + text[-4:]
    if len(text) > 4:  # short landline or extension numbers: only the end is shown
        return STAR * (len(text) - 4) + text[-4:]
    return STAR * len(text)


def mask_name(value: str | None) -> str:
    text = (value or "").strip()
    if len(text) <= 1:
        return STAR * len(text)
    return text[0] + STAR * (len(text) - 1)


def mask_id_number(value: str | None) -> str:
    text = (value or "").strip().upper()
    if len(text) == 18:
        return text[:6] + STAR * 8 + text[-4:]
    if len(text) == 15:
        return text[:6] + STAR * 6 + text[-3:]
    # Passports and other documents: only the last 4, and only if something stays hidden.
    if len(text) > 8:
        return STAR * (len(text) - 4) + text[-4:]
    return STAR * len(text)


def mask_email(value: str | None) -> str:
    text = (value or "").strip()
    if not text:
        return ""
    local, at, domain = text.rpartition("@")
    if not at:  # not an address at all: hide it like the name part of one
        return _first_and_stars(text)
    return _first_and_stars(local) + "@" + domain


def _first_and_stars(text: str) -> str:
    # A one-character name would be shown whole, so it is hidden entirely.
    return (text[0] if len(text) > 1 else "") + STAR * 3


def mask_address(division: Division | None) -> str:
    """The county and town of ``division`` (``某县城关镇``), never anything below the town."""
    if division is None:
        return ""
    town = division.town
    node: Division | None = town or division
    names = [town.name] if town is not None else []
    while node is not None and node.level != node.Level.COUNTY:
        node = node.parent
    if node is not None:
        names.insert(0, node.name)
    return "".join(names)
