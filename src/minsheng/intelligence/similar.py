"""Similar appeals: the same problem in the same place, reported more than once.

Nothing is trained. An appeal's words are the ones the full-text search already keeps
(``Appeal.search_tokens``, jieba's search mode), in Simplified Chinese, minus stop words
and the phrases every appeal uses (希望、尽快、反映...). Each word weighs its inverse
document frequency from jieba's own table (a large general corpus, shipped with jieba), so
路灯 or 噪音 count far more than 问题 or 晚上; the text similarity is the cosine of these
weighted word sets. It does not depend on the candidate set, so a village with three appeals
scores the same way as a county with thousands.

The text similarity is then scaled by place (same village > same town > place unknown >
another town) and by how recent the candidate is, into one score in [0, 1].

Candidates are narrowed in SQL: open appeals (any age), appeals answered and waiting for
the rating, and those closed or turned into a project within ``RECENT_DAYS``; never merged
or refused ones. Of these, all in the same town are read, and elsewhere only those sharing at
least one of the query's rarest words (the GIN full-text index on PostgreSQL, ``LIKE`` on
SQLite). Only the few best are then loaded as full rows.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from django.contrib.postgres.search import SearchQuery
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from minsheng.appeals.models import Appeal
from minsheng.appeals.search import SEARCH_VECTOR, document_tokens
from minsheng.appeals.states import OPEN_STATES, State
from minsheng.core.models import Division
from minsheng.guide.normalise import to_simplified

# Closed appeals older than this are history, not "the same problem reported again".
RECENT_DAYS = 60
# The candidate's age at which its recency counts half.
RECENCY_HALF_LIFE_DAYS = 14

# Below this text similarity a candidate is not about the same issue, whatever its place.
MIN_TEXT_SIMILARITY = 0.2
# Matches below this combined score are not shown at all (dispatcher or citizen).
MIN_SCORE = 0.25
# The citizen form shows only clearer matches: a citizen should not be told "already
# reported" about a loosely related problem.
CITIZEN_SCORE = 0.35
# Merge suggestions: the same issue nearly word for word, in the same town or village.
MERGE_SCORE = 0.5

# The combined score: text similarity × (BASE + PLACE × place closeness + TIME × recency).
BASE_WEIGHT = 0.55
PLACE_WEIGHT = 0.3
TIME_WEIGHT = 0.15

SAME_VILLAGE = 1.0
SAME_TOWN = 0.6
PLACE_UNKNOWN = 0.3
OTHER_TOWN = 0.0

# How many of the query's rarest words the SQL prefilter looks for (outside the same town).
PREFILTER_WORDS = 6
_PLAIN_WORD = re.compile(r"\w+")
# How many of the shared words the reason names.
REASON_WORDS = 4
# Words of one character are mostly particles (的、了、在); they may count for similarity
# but are never named in a reason.
MIN_REASON_WORD_LENGTH = 2

# Function words and the phrases of every appeal ("希望相关部门尽快处理"), which say
# nothing about which problem it is.
_STOP_WORD_TEXT = """
    的 了 在 是 我 你 他 她 它 们 我们 你们 他们 这 那 这个 那个 这些 那些 有 没 没有 不 也 都 就
    和 与 及 或 还 又 很 太 非常 特别 十分 比较 一直 已经 还是 但是 可是 因为 所以 如果 而且 并且
    以及 对于 关于 由于 为了 一个 一些 什么 怎么 怎么办 为什么 如何 哪里 这里 那里 现在 目前
    今天 昨天 最近 多次 一下 一样 之前 之后 以来 时候 时间 一年 个月 多月 多年 每天 每次 经常
    一个多 一个多月 几天 好几天 多天 几个 几个月 好久 很久 半年 一年多
    问题 情况 反映 反应 投诉 举报 建议 咨询 求助 希望 恳请 请求 要求 请问 请 尽快 及时 早日
    解决 处理 落实 帮助 帮忙 协调 督促 重视 关注 相关 有关 部门 领导 政府 单位 工作人员 人员
    您好 你好 谢谢 感谢 麻烦 给予 予以 进行 存在 出现 造成 导致 影响 严重 不便 方便 很多 许多
    能否 能够 可以 是否 应该 需要 不能 不会 无法 本人 市民 群众 居民 老百姓 大家
    的话 一点 得到 看到 发现 知道 觉得 认为 表示 说 讲 问 给 把 被 让 从 到 对 向 于 以 为 等
    啊 吗 呢 吧 呀 哦 嗯
"""
STOP_WORDS = frozenset(_STOP_WORD_TEXT.split())


@dataclass(frozen=True)
class Match:
    """An appeal like the one asked about, with why (for the dispatcher, in Chinese)."""

    appeal: Appeal
    score: float
    reason: str
    text_similarity: float
    shared_words: tuple[str, ...]
    same_village: bool
    same_town: bool


@dataclass(frozen=True)
class MergeSuggestion:
    """Merge ``duplicate`` into ``master`` (the older one): ``actions.merge(master.pk,
    [duplicate.pk], by=...)``."""

    master: Appeal
    duplicate: Appeal
    score: float
    reason: str


@dataclass(frozen=True)
class _Query:
    words: frozenset[str]
    town_id: int | None
    village_id: int | None
    exclude_id: int | None


# ---------------------------------------------------------------- words and weights


@lru_cache(maxsize=1)
def _idf_table() -> tuple[dict[str, float], float]:
    # Imported here: jieba.analyse reads its IDF file (about half a second) on import, which
    # only the processes that look for similar appeals should pay, once.
    import jieba.analyse

    loader = jieba.analyse.default_tfidf.idf_loader
    return loader.idf_freq, float(loader.median_idf)


@lru_cache(maxsize=65536)
def weight(word: str) -> float:
    """A word's inverse document frequency in jieba's corpus; a word jieba has never seen
    (a compound such as 不亮, a place name) weighs as much as its median word."""
    table, median = _idf_table()
    return float(table.get(word, median))


def _keep(word: str) -> bool:
    return word not in STOP_WORDS and not word.isdigit()


def words_of(*texts: str) -> frozenset[str]:
    """The weighed words of a text: normalised, cut as the search index cuts, no stop words."""
    text = " ".join(to_simplified(unicodedata.normalize("NFKC", t or "")) for t in texts)
    return frozenset(w for w in document_tokens(text).split() if _keep(w))


def _stored_words(search_tokens: str) -> frozenset[str]:
    # Stored tokens were cut from the text as typed, which may be Traditional.
    return frozenset(w for w in to_simplified(search_tokens).split() if _keep(w))


def _norm(words: frozenset[str]) -> float:
    return math.sqrt(sum(weight(w) ** 2 for w in words))


def text_similarity(query: frozenset[str], other: frozenset[str]) -> float:
    """Cosine of the two IDF-weighted word sets (0: nothing shared, 1: the same words)."""
    shared = query & other
    if not shared:
        return 0.0
    denominator = _norm(query) * _norm(other)
    return sum(weight(w) ** 2 for w in shared) / denominator if denominator else 0.0


def _prefilter_words(words: frozenset[str]) -> list[str]:
    # Letters and digits only: anything else may mean an operator to the tsquery parser.
    # One character (路、灯) is in too many appeals to narrow anything.
    plain = frozenset(w for w in words if len(w) >= 2 and _PLAIN_WORD.fullmatch(w))
    return _rarest(plain, PREFILTER_WORDS)


def _rarest(words: frozenset[str], count: int) -> list[str]:
    return sorted(words, key=lambda w: (-weight(w), w))[:count]


# ---------------------------------------------------------------- candidates in SQL


def candidates(since: dt.datetime | None = None) -> QuerySet[Appeal]:
    """Appeals a new one may repeat: open, answered, or closed/promoted lately; never merged
    (their master stands for them) nor refused (not a problem the county handles)."""
    since = since or timezone.now() - dt.timedelta(days=RECENT_DAYS)
    # An appeal merged once follows its master into 已答复/已办结: still not a candidate.
    return Appeal.objects.filter(
        Q(state__in=OPEN_STATES)
        | Q(state=State.REPLIED)
        | Q(state=State.CLOSED, closed_at__gte=since)
        | Q(state=State.PROMOTED, received_at__gte=since),
        merged_into__isnull=True,
    )


def _text_prefilter(words: list[str]) -> Q:
    if not words:
        return Q(pk__in=[])
    if connection.vendor == "postgresql":
        # Answered by the GIN index on the same expression (appeals migration 0003).
        return Q(_search=SearchQuery(" or ".join(words), config="simple", search_type="websearch"))
    condition = Q()
    for word in words:
        condition |= Q(search_tokens__contains=word)
    return condition


def _narrowed(query: _Query) -> QuerySet[Appeal]:
    rows = candidates()
    if connection.vendor == "postgresql":
        rows = rows.alias(_search=SEARCH_VECTOR)
    if query.exclude_id is not None:
        rows = rows.exclude(pk=query.exclude_id)
    condition = _text_prefilter(_prefilter_words(query.words))
    if query.town_id is not None:
        condition |= Q(town_id=query.town_id)
    return rows.filter(condition)


# ---------------------------------------------------------------- scoring


def _place_closeness(query: _Query, town_id: int | None, division_id: int | None) -> float:
    if query.village_id is not None and division_id == query.village_id:
        return SAME_VILLAGE
    if query.town_id is None or town_id is None:
        return PLACE_UNKNOWN
    return SAME_TOWN if town_id == query.town_id else OTHER_TOWN


def _recency(received_at: dt.datetime, now: dt.datetime) -> float:
    age_days = max((now - received_at).total_seconds() / 86400, 0.0)
    return 0.5 ** (age_days / RECENCY_HALF_LIFE_DAYS)


def combined_score(text: float, place: float, recency: float) -> float:
    return text * (BASE_WEIGHT + PLACE_WEIGHT * place + TIME_WEIGHT * recency)


def _search(query: _Query, limit: int) -> list[Match]:
    if not query.words or limit <= 0:
        return []
    now = timezone.now()
    rows = _narrowed(query).values_list(
        "pk", "search_tokens", "town_id", "division_id", "received_at"
    )
    scored: list[tuple[float, float, float, int]] = []
    for pk, tokens, town_id, division_id, received_at in rows:
        text = text_similarity(query.words, _stored_words(tokens))
        if text < MIN_TEXT_SIMILARITY:
            continue
        place = _place_closeness(query, town_id, division_id)
        score = combined_score(text, place, _recency(received_at, now))
        if score >= MIN_SCORE:
            scored.append((score, text, place, pk))
    # Ties go to the older appeal: the one the others would be merged into.
    scored.sort(key=lambda s: (-s[0], s[3]))
    best = scored[:limit]
    appeals = Appeal.objects.select_related(
        "town", "division", "category", "lead_department"
    ).in_bulk([pk for *_ignored, pk in best])
    return [
        _match(query, appeals[pk], score, text, place, now)
        for score, text, place, pk in best
        if pk in appeals
    ]


def _match(
    query: _Query, appeal: Appeal, score: float, text: float, place: float, now: dt.datetime
) -> Match:
    shared = _reason_words(query.words & _stored_words(appeal.search_tokens))
    return Match(
        appeal=appeal,
        score=round(score, 3),
        reason=_reason(appeal, place, shared, now),
        text_similarity=round(text, 3),
        shared_words=shared,
        same_village=place == SAME_VILLAGE,
        same_town=place in (SAME_VILLAGE, SAME_TOWN),
    )


def _reason_words(shared: frozenset[str]) -> tuple[str, ...]:
    """The rarest shared words worth naming: jieba's search mode also gives the pieces of a
    long word (黑灯瞎火 → 瞎火), which would only repeat it."""
    named = [
        w
        for w in shared
        if len(w) >= MIN_REASON_WORD_LENGTH and not any(w != o and w in o for o in shared)
    ]
    return tuple(_rarest(frozenset(named), REASON_WORDS))


def _place_phrase(appeal: Appeal, place: float) -> str:
    if place == SAME_VILLAGE and appeal.division is not None:
        return _("同一村（%(name)s）") % {"name": appeal.division.name}
    if place == SAME_TOWN and appeal.town is not None:
        return _("同一乡镇（%(name)s）") % {"name": appeal.town.name}
    if place == OTHER_TOWN and appeal.town is not None:
        return _("不同乡镇（%(name)s）") % {"name": appeal.town.name}
    return _("地点不详")


def _age_phrase(received_at: dt.datetime, now: dt.datetime) -> str:
    days = (timezone.localdate(now) - timezone.localdate(received_at)).days
    return _("今天提交") if days <= 0 else _("%(n)d天前提交") % {"n": days}


def _reason(appeal: Appeal, place: float, shared: tuple[str, ...], now: dt.datetime) -> str:
    content = _("内容相近：%(words)s") % {"words": "、".join(shared)} if shared else _("内容相近")
    return "；".join(
        [
            f"{_place_phrase(appeal, place)}，{content}",
            f"{_age_phrase(appeal.received_at, now)}，{appeal.get_state_display()}",
        ]
    )


# ---------------------------------------------------------------- public functions


def _town_of(village_id: int | None) -> int | None:
    if village_id is None:
        return None
    division = Division.objects.filter(pk=village_id).first()
    town = division.town if division is not None else None
    return town.pk if town is not None else None


def similar_to_text(
    title: str,
    body: str,
    town_id: int | None = None,
    village_id: int | None = None,
    limit: int = 5,
) -> list[Match]:
    """Open or recent appeals about what ``title``/``body`` describe, best first."""
    if village_id is not None and town_id is None:
        town_id = _town_of(village_id)
    query = _Query(words_of(title, body), town_id, village_id, exclude_id=None)
    return _search(query, limit)


def similar_to_appeal(appeal: Appeal, limit: int = 5) -> list[Match]:
    """Other open or recent appeals about the same problem as ``appeal``, best first."""
    query = _Query(
        words_of(appeal.title, appeal.body), appeal.town_id, _village_id(appeal), appeal.pk
    )
    return _search(query, limit)


def _village_id(appeal: Appeal) -> int | None:
    division = appeal.division
    return (
        division.pk if division is not None and division.level == Division.Level.VILLAGE else None
    )


def _same_place(appeal: Appeal, other: Appeal) -> bool:
    """Whether the places they name agree as far as both are known: the same words in two
    villages (路灯不亮) are two broken lamps."""
    villages = (_village_id(appeal), _village_id(other))
    if None not in villages:
        return villages[0] == villages[1]
    if appeal.town_id is not None and other.town_id is not None:
        return appeal.town_id == other.town_id
    return True


def _mergeable(appeal: Appeal, other: Appeal, match: Match) -> bool:
    # Both must still be open: ``actions.merge`` takes only open masters and duplicates.
    return (
        appeal.is_open
        and other.is_open
        and match.score >= MERGE_SCORE
        and _same_place(appeal, other)
    )


def merge_suggestions(appeal: Appeal, limit: int = 5) -> list[MergeSuggestion]:
    """Appeals the dispatcher may merge with ``appeal``, the older of each pair as master."""
    if not appeal.is_open:
        return []
    suggestions = []
    for match in similar_to_appeal(appeal, limit=limit):
        other = match.appeal
        if not _mergeable(appeal, other, match):
            continue
        older_first = sorted([appeal, other], key=lambda a: (a.received_at, a.pk))
        suggestions.append(
            MergeSuggestion(
                master=older_first[0],
                duplicate=older_first[1],
                score=match.score,
                reason=match.reason,
            )
        )
    return suggestions


# ---------------------------------------------------------------- for the citizen form


@dataclass(frozen=True)
class CitizenView:
    """What a citizen filling the form may see of another citizen's appeal: its state, day
    and town, and its title only if that citizen agreed to publication (scrubbed of names,
    numbers and the village as on the public page); otherwise the category or type."""

    status: str
    received_on: dt.date
    town: str
    title: str
    subject: str

    @classmethod
    def of(cls, appeal: Appeal) -> CitizenView:
        # Imported here: the public page's scrubbing lives with the appeals views.
        from minsheng.appeals.views.public import PublicAppeal

        return cls(
            status=appeal.get_state_display(),
            received_on=timezone.localdate(appeal.received_at),
            town=appeal.town.name if appeal.town is not None else "",
            title=PublicAppeal.of(appeal).title if appeal.consent_publish else "",
            subject=appeal.category.name if appeal.category else appeal.get_appeal_type_display(),
        )


def for_citizen(
    title: str, body: str, town_id: int | None, village_id: int | None, limit: int = 3
) -> list[CitizenView]:
    """The clearest matches for what a citizen is about to submit, safe to show them."""
    matches = similar_to_text(title, body, town_id, village_id, limit=limit)
    return [CitizenView.of(m.appeal) for m in matches if m.score >= CITIZEN_SCORE]
