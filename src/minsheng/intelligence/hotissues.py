"""Hot issues (热点问题): recent appeals grouped by issue and place, ranked by heat.

Works on plain ``Record``s so that appeals from the database and rows of a CSV file go
through the same code (``hotissues_db`` builds records from appeals).

The steps, and why:

1. Text: Traditional → Simplified (OpenCC), cut by jieba, stop words and one-character or
   pure Latin/digit tokens dropped (the masked "A市", "A2区" codes say little on their own).
   The title is counted twice: citizens put the gist of the problem there.
2. TF-IDF vectors (sublinear tf, L2-normalised), so that cosine similarity is a dot product.
3. Average-linkage agglomerative clustering on cosine distance, cut at ``1 - threshold``:
   unlike connected components over a similarity graph, average linkage does not chain
   "noise in road A" → "road A repairs" → "road B repairs" into one group. It needs the
   n×n distance matrix, so at most ``MAX_RECORDS`` (the newest) are clustered: 5,000
   records take about 100 MB and a few seconds.
4. Place: the records' own place (town/village) when they have one, else place names found
   in the text (``extract_places``); the group's place is the most frequent.
5. Label: the group's top terms (largest weights in the mean vector).
6. Score (``score``): size × growth factor × vote factor, see there.
7. Representatives: the members closest to the group's mean vector (the most central).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import jieba
import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage  # type: ignore[import-untyped]
from scipy.spatial.distance import squareform  # type: ignore[import-untyped]
from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]

from minsheng.appeals.models import Appeal
from minsheng.core import policy
from minsheng.core.models import User
from minsheng.guide.normalise import to_simplified

jieba.setLogLevel(logging.WARNING)

MAX_RECORDS = 6000
DEFAULT_THRESHOLD = 0.2  # mean cosine similarity for two groups to join
DEFAULT_MIN_SIZE = 2  # a single message is not yet an "issue", however many votes it has
LABEL_TERMS = 5
# Only the start of a body is cut into words: the problem is stated first, and jieba's time
# grows with the text (the whole of the 4,326 real messages takes 8 s, their starts 2 s).
BODY_CHARS = 300
REPRESENTATIVES = 3
PLACE_SHARE = 0.2

# Function words and the boilerplate of appeals ("尊敬的领导您好，反映一个问题，希望解决"),
# which every message shares and which would otherwise pull unrelated messages together.
_STOP_TEXT = """
    的 了 是 在 和 与 及 或 也 都 就 而 但 并 又 还 被 把 对 从 向 给 为 以 于 到 由 让 使 将
    我 我们 你 你们 您 他 他们 她 它 这 那 这个 那个 这些 那些 这样 那样 这里 那里 这种 什么
    怎么 怎么办 怎样 如何 为什么 哪里 哪些 多少 是否 能否 可否 有没有 没有 不是 不能 不会 不要
    一个 一些 一下 一直 一样 已经 现在 目前 今年 去年 今天 时候 时间 之前 之后 以后 以前 以来
    可以 能够 应该 需要 希望 要求 请求 恳请 请问 请 麻烦 谢谢 感谢 您好 你好 领导 尊敬 市长 书记
    局长 政府 相关 部门 有关 单位 问题 情况 反映 投诉 咨询 举报 建议 关于 市民 群众 百姓 老百姓
    本人 大家 自己 他人 其他 其中 以及 因为 所以 如果 虽然 但是 而且 然后 还是 或者 只是 只有 由于
    非常 十分 特别 严重 很多 很大 很 太 更 最 多 少 大 小 好 没 有 无 不 能 会 要 想 让 做 说 看
    进行 解决 处理 落实 回复 答复 给予 得到 导致 造成 存在 出现 发生 开始 继续 实在 真的 确实
    如下 以下 上述 以上 等等 这是 也是 就是 还有 所有 每天 每年 各位 一起 之间 之中 方面 工作
    """
STOP_WORDS = frozenset(_STOP_TEXT.split())

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff"
_KEEP_TOKEN = re.compile(rf"^[{_CJK}a-zA-Z0-9]{{2,}}$")
_LATIN_DIGITS = re.compile(r"^[a-zA-Z0-9]+$")

# Places in the text. A chain starts at a (masked) city/district/county code such as
# "A市A2区" or at a named town and continues with town, village, community or estate
# names; a bare estate or village name ("魅力之城小区") is found by the second pattern.
#
# Characters that belong to the words around a place name, not to the name: a name is a
# run of other CJK characters ("反映A7县春华镇" → "春华镇", not "映A7县春华镇").
_NOT_NAME = (
    "的了是在和与及到从向给对为有我们你他她它这那该此其映诉问请求反关于住位"
    "要能会就都也还把被让使将已附近旁边周边里内外前后建修整个不甚民所等每各"
)
_NAME_CHAR = rf"(?:(?![{_NOT_NAME}])[{_CJK}])"
_UNIT = (
    rf"{_NAME_CHAR}{{2,8}}?(?:街道|镇|乡|村|社区|小区|花园|家园|新村|新城|苑|园|广场|大道|路|街)"
)
_CHAIN = re.compile(rf"(?:[A-Z][0-9]*[市区县])+(?:{_UNIT})*")
_BARE = re.compile(rf"{_NAME_CHAR}{{2,6}}(?:小区|社区|花园|家园|新村|新城|苑|村|镇)")
# Endings that look like places but are not ("水泥路", "该小区", "农村").
_NOT_PLACES = frozenset(
    ["水泥路", "道路", "马路", "公路", "街道", "小区", "社区", "农村", "乡村", "城镇", "乡镇"]
)
_GENERIC_ENDINGS = ("水泥路", "道路", "马路", "公路")
# The masked district codes ("A2区") are cut off from the name that follows, so that jieba
# does not read "A2区丽发新城" as "A2" + "区丽发" + "新城".
_DISTRICT_CODE = re.compile(r"[A-Z][0-9]*[市区县]")


class Progress(Protocol):
    """What is reported while working (``core.jobs.Progress`` on the terminal)."""

    def set_total(self, total: int) -> None: ...
    def advance(self, n: int = 1, *, message: str | None = None) -> None: ...
    def note(self, message: str) -> None: ...


class _Silent:
    def set_total(self, total: int) -> None:
        pass

    def advance(self, n: int = 1, *, message: str | None = None) -> None:
        pass

    def note(self, message: str) -> None:
        pass


@dataclass(frozen=True)
class Record:
    """One message: an appeal from the database or a row of a file."""

    id: str
    title: str
    body: str
    created_at: dt.datetime
    place: str = ""  # town/village when known, else ''
    likes: int = 0
    dislikes: int = 0
    number: str = ""
    state: str = ""
    # Words of the text cut earlier (an appeal's ``search_tokens``); cut here when empty.
    words: tuple[str, ...] = ()


@dataclass
class HotGroup:
    terms: list[str]
    place: str
    places: list[tuple[str, int]]
    size: int
    recent: int  # members in the later half of the window
    earlier: int  # members in the earlier half
    likes: int
    dislikes: int
    score: float
    representatives: list[Record]
    members: list[Record] = field(repr=False)

    @property
    def label(self) -> str:
        return " / ".join(self.terms)

    @property
    def growth(self) -> float:
        return growth_ratio(self.recent, self.earlier)


@dataclass
class HotReport:
    since: dt.datetime
    until: dt.datetime
    records: int  # records in the window (before the MAX_RECORDS cut)
    clustered: int
    groups: list[HotGroup]


def growth_ratio(recent: int, earlier: int) -> float:
    """Later half over earlier half of the window, add-one smoothed so 1→0 is not infinite."""
    return (recent + 1) / (earlier + 1)


def score(size: int, recent: int, earlier: int, likes: int) -> float:
    """How hot a group is: ``size × growth factor × vote factor``.

    - growth factor = sqrt(growth ratio), clipped to [0.5, 2]: a group that doubles counts
      about 1.4 times as much, one that is fading half as much, never more than twice;
    - vote factor = 1 + log10(1 + likes): ten likes add one size-worth per message, a
      thousand likes three — votes are cheap to cast, so they count on a log scale.
    """
    growth_factor = min(2.0, max(0.5, math.sqrt(growth_ratio(recent, earlier))))
    vote_factor = 1.0 + math.log10(1 + max(likes, 0))
    return size * growth_factor * vote_factor


def tokens(text: str) -> list[str]:
    return _kept(jieba.lcut(_DISTRICT_CODE.sub(" ", to_simplified(text[:BODY_CHARS]))))


def _kept(words: Iterable[str]) -> list[str]:
    return [
        w
        for w in words
        if _KEEP_TOKEN.match(w) and not _LATIN_DIGITS.match(w) and w not in STOP_WORDS
    ]


def document(record: Record) -> str:
    """The words TF-IDF sees: the title's twice, then the body's (cut earlier if they were:
    cutting is most of the time, and appeals keep theirs from intake)."""
    body = _kept(record.words) if record.words else tokens(record.body)
    return " ".join(tokens(record.title) * 2 + body)


def extract_places(text: str) -> list[str]:
    """Place names in ``text``: chains from a district code first, then bare names that
    are not part of a chain, each in the order they appear."""
    text = to_simplified(text)
    found: list[str] = [m.group(0) for m in _CHAIN.finditer(text) if _has_unit(m.group(0))]
    for match in _BARE.finditer(text):
        name = match.group(0)
        if len(name) >= 3 and name not in _NOT_PLACES and not any(name in f for f in found):
            found.append(name)
    return [_trim_generic(p) for p in found if _trim_generic(p)]


def _has_unit(chain: str) -> bool:
    # A bare "A市" or "A2区" is a whole district: too wide to be where an issue is.
    return bool(re.search(rf"[{_CJK}]{{2,}}", chain))


def _trim_generic(place: str) -> str:
    for word in _GENERIC_ENDINGS:
        if place.endswith(word):
            place = place[: -len(word)]
            break
    return place if _has_unit(place) and place not in _NOT_PLACES else ""


def record_places(record: Record) -> list[str]:
    if record.place:
        return [record.place]
    return extract_places(record.title) or extract_places(record.body)[:2]


def in_window(
    records: Iterable[Record], until: dt.datetime, window_days: int
) -> tuple[dt.datetime, list[Record]]:
    since = until - dt.timedelta(days=window_days)
    return since, [r for r in records if since < r.created_at <= until]


def find_hot_issues(
    records: Sequence[Record],
    *,
    until: dt.datetime | None = None,
    window_days: int = 30,
    top: int = 10,
    threshold: float = DEFAULT_THRESHOLD,
    min_size: int = DEFAULT_MIN_SIZE,
    progress: Progress | None = None,
) -> HotReport:
    """The ``top`` hottest groups among ``records`` in the ``window_days`` up to ``until``
    (default: the newest record)."""
    progress = progress or _Silent()
    if until is None:
        until = max((r.created_at for r in records), default=dt.datetime.now(dt.UTC))
    since, window = in_window(records, until, window_days)
    window.sort(key=lambda r: r.created_at, reverse=True)
    clustered = window[:MAX_RECORDS]
    report = HotReport(since, until, len(window), len(clustered), [])
    if len(clustered) < max(min_size, 2):
        return report
    progress.set_total(len(clustered))
    progress.note("分词")
    documents = []
    for record in clustered:
        documents.append(document(record))
        progress.advance()
    progress.note("计算 TF-IDF")
    vectorizer = TfidfVectorizer(
        tokenizer=str.split, token_pattern=None, lowercase=False, sublinear_tf=True, min_df=1
    )
    try:
        matrix = vectorizer.fit_transform(documents)
    except ValueError:  # no token at all
        return report
    progress.note("聚类")
    labels = cluster(matrix, threshold)
    progress.note("排序")
    vocabulary = np.array(vectorizer.get_feature_names_out())
    midpoint = since + (until - since) / 2
    groups = []
    for label in np.unique(labels):
        indices = np.flatnonzero(labels == label)
        if len(indices) >= min_size:
            groups.append(_group(clustered, matrix, indices, vocabulary, midpoint))
    groups.sort(key=lambda g: (-g.score, -g.size, -g.likes))
    report.groups = groups[:top]
    return report


def cluster(matrix: Any, threshold: float) -> np.ndarray:
    """Cluster labels of the rows of an L2-normalised sparse matrix (see the module doc)."""
    distance = (matrix @ matrix.T).toarray()  # similarity, turned into distance in place
    np.subtract(1.0, distance, out=distance)
    np.clip(distance, 0.0, 2.0, out=distance)
    np.fill_diagonal(distance, 0.0)
    condensed = squareform(distance, checks=False)
    del distance
    tree = linkage(condensed, method="average")
    return np.asarray(fcluster(tree, t=1.0 - threshold, criterion="distance"))


def _place_quorum(size: int) -> int:
    """How many members must name a place for it to be the group's: a place named once in
    a group of thirty is an aside, and the group is about the whole city."""
    return max(2, math.ceil(PLACE_SHARE * size))


def _group(
    records: Sequence[Record],
    matrix: Any,
    indices: np.ndarray,
    vocabulary: np.ndarray,
    midpoint: dt.datetime,
) -> HotGroup:
    rows = matrix[indices]
    centroid = np.asarray(rows.mean(axis=0)).ravel()
    terms = [str(t) for t in vocabulary[np.argsort(-centroid)[:LABEL_TERMS]]]
    closeness = np.asarray(rows @ centroid).ravel()
    members = [records[i] for i in indices]
    central = [members[i] for i in np.argsort(-closeness)[:REPRESENTATIVES]]
    recent = sum(1 for r in members if r.created_at >= midpoint)
    places = Counter(p for r in members for p in dict.fromkeys(record_places(r)))
    place, seen = places.most_common(1)[0] if places else ("", 0)
    likes = sum(r.likes for r in members)
    return HotGroup(
        terms=terms,
        place=place if seen >= _place_quorum(len(members)) else "",
        places=places.most_common(5),
        size=len(members),
        recent=recent,
        earlier=len(members) - recent,
        likes=likes,
        dislikes=sum(r.dislikes for r in members),
        score=score(len(members), recent, len(members) - recent, likes),
        representatives=central,
        members=members,
    )


def appeal_records(user: User, since: dt.datetime, until: dt.datetime) -> list[Record]:
    """Records of the appeals received in ``(since, until]`` that ``user`` may view.

    The place is the appeal's town, with its village or community only for viewers who may
    see personal data (``core.masking``: an address shown to others never goes below the
    town). Appeals carry no public votes. Their words come from ``search_tokens``, cut
    at intake, so that only the titles are cut here.
    """
    appeals = policy.visible(user, Appeal.objects.all(), "appeal.view")
    with_village = policy.can(user, "appeal.view_personal")
    rows = (
        appeals.filter(received_at__gt=since, received_at__lte=until)
        .order_by("-received_at")
        .values_list(
            "pk",
            "number",
            "title",
            "body",
            "received_at",
            "state",
            "town__name",
            "division__name",
            "search_tokens",
        )
    )[:MAX_RECORDS]
    return [
        Record(
            id=str(pk),
            title=title,
            body=body,
            created_at=received_at,
            place=_appeal_place(town, village if with_village else None),
            number=number,
            state=state,
            words=tuple(to_simplified(words).split()),
        )
        for pk, number, title, body, received_at, state, town, village, words in rows
    ]


def _appeal_place(town: str | None, village: str | None) -> str:
    if village and town and village != town:
        return town + village
    return town or village or ""
