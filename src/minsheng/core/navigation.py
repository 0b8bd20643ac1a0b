"""The staff navigation: each entry names the action that decides whether the role sees it.

Apps add their entries with ``register``; the menu shows only those the user may use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, reverse

from minsheng.core import policy


@dataclass(frozen=True)
class NavEntry:
    label: Any  # a lazy translation string
    url_name: str
    action: str
    order: int = 100


_entries: list[NavEntry] = []


def register(*entries: NavEntry) -> None:
    for entry in entries:
        if entry not in _entries:
            _entries.append(entry)
    _entries.sort(key=lambda e: e.order)


def menu_for(user: Any, current_path: str = "") -> list[dict[str, Any]]:
    if user is None or not user.is_authenticated:
        return []
    items = []
    for entry in _entries:
        if not policy.can(user, entry.action):
            continue
        try:
            url = reverse(entry.url_name)
        except NoReverseMatch:
            continue
        items.append({"label": entry.label, "url": url, "active": current_path.startswith(url) and url != "/"})
    return items
