"""Chinese full-text search over appeals' titles and bodies.

Chinese has no spaces between words, and PostgreSQL has no Chinese text parser, so jieba cuts
the text into words when the appeal is received and ``Appeal.search_tokens`` keeps them
space-separated. On PostgreSQL the query is ``to_tsvector('simple', search_tokens) @@
plainto_tsquery('simple', <the query cut the same way>)``, answered by a GIN index on that
expression (migration 0003). On SQLite (embedded installs, tests) each word of the query must
appear in the title or the body (``icontains``): slower, but the same answers for a county's
few thousand appeals.
"""

from __future__ import annotations

import logging
import re

import jieba
from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import Q, QuerySet

from minsheng.appeals.models import Appeal

# A word is a run of letters, digits or CJK characters; jieba also returns punctuation and
# spaces, which must not become search terms.
_WORD = re.compile(r"\w", re.UNICODE)
MAX_QUERY_WORDS = 12

jieba.setLogLevel(logging.WARNING)  # jieba logs its dictionary loading at DEBUG by default


def warm_up() -> None:
    """Load jieba's dictionary now (3–5 s) rather than during some citizen's request; called
    by the WSGI entry point, so gunicorn's --preload does it once before forking."""
    jieba.initialize()


# The expression the GIN index is built on; the query must use exactly this one.
SEARCH_VECTOR = SearchVector("search_tokens", config="simple")


def _clean(words: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for word in words:
        word = word.strip().lower()
        if word and _WORD.search(word):
            seen.setdefault(word, None)
    return list(seen)


def document_tokens(*texts: str) -> str:
    """The words of an appeal's texts for the index: jieba's search mode, which also gives
    the shorter words inside long ones (中华人民共和国 → 中华, 华人, 人民, 共和, 共和国...)."""
    words: list[str] = []
    for text in texts:
        words.extend(jieba.cut_for_search(text))
    return " ".join(_clean(words))


def store_words(appeals: list[Appeal]) -> None:
    """Cut and store the words of appeals written without them (received through the API,
    whose words are stored with the receipt), one statement for all."""
    if not appeals:
        return
    rows: list[int | str] = []
    for appeal in appeals:
        appeal.search_tokens = document_tokens(appeal.title, appeal.body)
        rows.extend([appeal.pk, appeal.search_tokens])
    table = connection.ops.quote_name(Appeal._meta.db_table)
    values = ", ".join(["(%s, %s)"] * len(appeals))
    # UPDATE … FROM (VALUES …): PostgreSQL and SQLite ≥ 3.33 both name the columns column1…
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET search_tokens = v.column2 FROM (VALUES {values}) AS v"  # noqa: S608
            f" WHERE {table}.id = v.column1",
            rows,
        )


def query_words(query: str) -> list[str]:
    """The words a search asks for (all must match), cut precisely."""
    return _clean(list(jieba.cut(query)))[:MAX_QUERY_WORDS]


def filter_appeals(queryset: QuerySet[Appeal], query: str) -> QuerySet[Appeal]:
    """The appeals whose title or body contain every word of ``query``."""
    words = query_words(query)
    if not words:
        return queryset
    if connection.vendor == "postgresql":
        return queryset.alias(_search=SEARCH_VECTOR).filter(
            _search=SearchQuery(" ".join(words), config="simple", search_type="plain")
        )
    condition = Q()
    for word in words:
        condition &= Q(title__icontains=word) | Q(body__icontains=word)
    return queryset.filter(condition)
