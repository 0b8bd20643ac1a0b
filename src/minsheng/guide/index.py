"""The process's search index over the catalogue, rebuilt when matters or synonyms change.

Building takes a second or two (jieba's dictionary, then the catalogue), so each process
keeps one index. It is stale when the version token in the shared cache changes (bumped on
commit by any save or delete of a matter, its materials/steps/FAQs, or a synonym) or when
the database's own signature of the catalogue changes (counts and last update times,
checked every ``VERSION_CHECK_SECONDS``; this also catches bulk imports that send no
signals and a cache that was cleared).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Max
from django.db.models.signals import post_delete, post_save

from minsheng.catalog.models import FAQ, Material, ServiceMatter, Step
from minsheng.core.commit import on_commit_once
from minsheng.guide.engine import Document, Index, Synonym
from minsheng.guide.models import Synonym as SynonymRow

logger = logging.getLogger(__name__)

VERSION_KEY = "minsheng:guide:version"
VERSION_CHECK_SECONDS = 5.0


class _State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.index: Index | None = None
        self.signature: tuple[Any, ...] | None = None
        self.checked_at = float("-inf")


_state = _State()


def document_for(matter: ServiceMatter) -> Document:
    """A matter as the engine sees it (expects ``with_details()`` prefetches)."""
    extra = " ".join([s.text for s in matter.steps.all()] + [f.question for f in matter.faqs.all()])
    promised = matter.promised_days
    return Document(
        code=matter.code,
        name=matter.name,
        department=matter.department.name,
        matter_type=matter.get_matter_type_display(),
        window=matter.window_label(),
        location=matter.location,
        conditions=matter.conditions,
        materials=tuple(m.name for m in matter.materials.all()),
        aliases=tuple(matter.alias_list) + ((matter.short_name,) if matter.short_name else ()),
        extra=extra,
        time_limit=("即办" if promised == 0 else f"{promised}个工作日")
        if promised is not None
        else "",
        fee=matter.fee,
        high_frequency=matter.high_frequency,
        hf_order=matter.hf_order,
    )


def load_documents() -> list[Document]:
    matters = ServiceMatter.objects.active().with_details().order_by("code")
    return [document_for(m) for m in matters]


def load_synonyms() -> list[Synonym]:
    rows = SynonymRow.objects.filter(active=True).values_list("phrase", "official")
    return [Synonym(phrase, official) for phrase, official in rows]


def _signature() -> tuple[Any, ...]:
    matters = ServiceMatter.objects.aggregate(n=Count("id"), t=Max("updated_at"))
    synonyms = SynonymRow.objects.aggregate(n=Count("id"), t=Max("updated_at"))
    try:
        token = cache.get(VERSION_KEY)
    except Exception:  # a cache outage must not stop the guide; the DB signature still works
        logger.warning("could not read the guide version from the cache", exc_info=True)
        token = None
    return (matters["n"], matters["t"], synonyms["n"], synonyms["t"], token)


def get_index() -> Index:
    """The current index (built on first use, rebuilt when the catalogue changed)."""
    now = time.monotonic()
    with _state.lock:
        if _state.index is not None and now - _state.checked_at < VERSION_CHECK_SECONDS:
            return _state.index
        signature = _signature()
        _state.checked_at = now
        if _state.index is None or signature != _state.signature:
            _state.index = Index(load_documents(), load_synonyms())
            _state.signature = signature
        return _state.index


def clear_cache() -> None:
    """Forget the index of this process (tests call it between cases)."""
    with _state.lock:
        _state.index = None
        _state.signature = None
        _state.checked_at = float("-inf")


def _publish_change() -> None:
    try:
        cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)
    except Exception:  # the DB signature catches up within VERSION_CHECK_SECONDS
        logger.warning("could not publish the guide version to the cache", exc_info=True)
    with _state.lock:
        _state.checked_at = float("-inf")


def _changed(sender: type, **kwargs: Any) -> None:
    on_commit_once(_publish_change)  # an import saving thousands of rows publishes once


for _model in (ServiceMatter, Material, Step, FAQ, SynonymRow):
    post_save.connect(_changed, sender=_model, dispatch_uid=f"guide-{_model.__name__}-save")
    post_delete.connect(_changed, sender=_model, dispatch_uid=f"guide-{_model.__name__}-delete")
