"""Where the shell links to: the staff menu and the citizens' service tiles.

Apps add their entries with ``register`` (staff) and ``register_public`` (citizens), usually
from their ``AppConfig.ready``. A staff entry names the policy action that decides whether a
role sees it, so the menu shows only what the user may use. An entry whose URL does not
resolve is left out, so a tile never links to a page that does not exist.
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


@dataclass(frozen=True)
class PublicEntry:
    """A service tile on the citizens' home page (我要反映问题, 办事指南, 服务评价...)."""

    label: Any
    url_name: str
    description: Any = ""
    order: int = 100


_entries: list[NavEntry] = []
_public: list[PublicEntry] = []


def register(*entries: NavEntry) -> None:
    for entry in entries:
        if entry not in _entries:
            _entries.append(entry)
    _entries.sort(key=lambda e: e.order)


def register_public(*entries: PublicEntry) -> None:
    for entry in entries:
        if entry not in _public:
            _public.append(entry)
    _public.sort(key=lambda e: e.order)


def _url(url_name: str) -> str | None:
    try:
        return reverse(url_name)
    except NoReverseMatch:
        return None


def menu_for(user: Any, current_path: str = "") -> list[dict[str, Any]]:
    if user is None or not user.is_authenticated:
        return []
    items = []
    for entry in _entries:
        if not policy.can(user, entry.action):
            continue
        url = _url(entry.url_name)
        if url is None:
            continue
        items.append({"label": entry.label, "url": url, "active": False})
    # Only the entry with the longest matching URL is current: /work/appeals/kpi/ is the
    # statistics entry, not also the workbench at /work/appeals/.
    matching = [i for i in items if i["url"] != "/" and current_path.startswith(i["url"])]
    if matching:
        max(matching, key=lambda i: len(i["url"]))["active"] = True
    return items


def public_tiles() -> list[dict[str, Any]]:
    tiles = []
    for entry in _public:
        url = _url(entry.url_name)
        if url is not None:
            tiles.append({"label": entry.label, "url": url, "description": entry.description})
    return tiles
