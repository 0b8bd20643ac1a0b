"""The smart guide's matching engine: plain data in, ranked matters out, no ORM.

Pipeline for a question (the catalogue text goes through the same normalisation):

1. ``normalise``: Traditional → Simplified, full-width → half-width, punctuation → space.
2. Synonyms: every colloquial phrase found in the question adds its official wording
   (开饭馆 → 食品经营许可) as extra query words.
3. Segmentation with jieba plus a domain dictionary built from the catalogue (matter names,
   their parts, aliases) and the synonym table, so 社会保障卡 or 营业执照 stay one word.
4. Homophones: windows of 2–5 characters whose (fuzzy) pinyin equals a catalogue word's
   pinyin add that word (公基金 → 公积金, 身分证 → 身份证); runs of Latin letters are read
   as pinyin initials or full pinyin (yyzz → 营业执照, shebaoka → 社保卡).
5. BM25F over the fields name > aliases > conditions > materials > the rest, with
   character bigrams (and, weakly, single characters) as a fallback for typos.

Every result carries an explanation: which question word matched which field and how
(as typed, synonym, homophone, initials, characters). Close scores within a family of
matters (公积金提取 购房/租房/离退休) make the answer a clarifying question instead.
"""

from __future__ import annotations

import heapq
import math
import re
import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import jieba

from minsheng.guide.normalise import (
    ascii_words,
    char_pinyin,
    full_pinyin,
    han_runs,
    initials,
    normalise,
    pinyin_key,
    syllables,
)

# Field weights of BM25F: a word in the matter's name counts most.
FIELD_WEIGHTS: dict[str, float] = {
    "name": 4.0,
    "aliases": 2.5,
    "conditions": 1.0,
    "materials": 0.6,
    "department": 0.6,
    "extra": 0.5,
}
FIELD_LABELS: dict[str, str] = {
    "name": "名称",
    "aliases": "别名",
    "conditions": "申请条件",
    "materials": "材料",
    "department": "部门",
    "extra": "流程和问答",
}
K1 = 1.2
B = 0.75

# Weights of the kinds of query terms.
W_WORD = 1.0
W_SYNONYM = 0.8
W_HOMOPHONE = 0.9
W_INITIALS = 1.0
W_BIGRAM = 0.3
W_CHAR = 0.08

# Clarify when the runner-up of the same family scores at least this share of the best.
CLARIFY_RATIO = 0.8
# Below this score nothing matched in a useful way (only a character or two in common).
MIN_SCORE = 2.0
MAX_RESULTS = 5
# Terms whose best possible contribution is below this are not looked up.
MIN_TERM_WEIGHT = 0.12
# Character terms found in more than this share of matters (and FALLBACK_MIN_DF) are
# skipped: in a large catalogue they are slow and say little.
FALLBACK_SHARE = 0.05
FALLBACK_MIN_DF = 50
# The best RERANK by BM25F get a bonus for the share of their name the question covers.
RERANK = 30
COVER_WEIGHT = 3.0

BIGRAM = "\x01"
CHAR = "\x02"

# Function words and the colloquial filler of questions; they carry no matter.
_STOPWORD_TEXT = """
的 了 吗 呢 吧 啊 呀 么 嘛 哦 哈 啥 咋 怎 怎么 怎么办 怎样 如何 什么 哪 哪里 哪儿
哪个 那 这 这个 那个 我 你 他 她 它 我们 你们 他们 俺 俺们 咱 咱们 恁 您 自己 人家
家里 想 要 要不要 能 能不能 可以 可不可以 不能 能否 可否 需要 需 得 该 应该 会 去
来 到 在 是 不是 有 没有 没 不 也 都 还 就 才 又 和 跟 与 及 或 或者 但 但是 可是
因为 所以 如果 那么 就是 还是 还有 一下 一个 个 一 些 点 多少 几 几张 问 问问 请问
请 一直 现在 今天 明天 昨天 前 后 上 下 里 听说 说 让 给 把 被 对 从 为 为了 办
办理 手续 带 带啥 材料 什么样 好 行 不行 呗 啦 嗯 喂 谢谢 麻烦 知道 告诉 一 二 三
年 月 日 天 多 少 大 小 新 老 已经 刚 刚刚 快 再 先 得了 咱家 俺家 我家 他家 当天
东西 事 这事 事情 时候
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())

_FILLERS = re.compile(r"一个|一家|一间|什么|哪些|[个了着过啥]")
_PAREN = re.compile(r"[（(]([^）)]*)[）)]")
_LIST_SPLIT = re.compile(r"[、，,；;/\s]+")


@dataclass(frozen=True)
class Document:
    """One matter as the engine sees it (built from the ORM, a CSV row or a test)."""

    code: str
    name: str
    department: str = ""
    matter_type: str = ""
    window: str = ""
    location: str = ""
    conditions: str = ""
    materials: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    extra: str = ""
    time_limit: str = ""
    fee: str = ""
    high_frequency: bool = False
    hf_order: int = 0

    @property
    def family(self) -> str:
        return _PAREN.sub("", self.name).strip()


@dataclass(frozen=True)
class Synonym:
    phrase: str  # what people say
    official: str  # the catalogue's words, space separated


@dataclass(frozen=True)
class Match:
    term: str  # the catalogue word
    source: str  # 原词 / 同义词 / 同音字 / 拼音首字母 / 全拼 / 字
    said: str  # what in the question led to it
    fields: tuple[str, ...]


@dataclass
class Result:
    document: Document
    score: float
    matches: list[Match] = field(default_factory=list)

    @property
    def code(self) -> str:
        return self.document.code

    @property
    def name(self) -> str:
        return self.document.name

    def explanation(self) -> str:
        parts = []
        for m in self.matches:
            where = "、".join(FIELD_LABELS[f] for f in m.fields)
            if m.source == "原词":
                parts.append(f"“{m.term}”见于{where}")
            else:
                parts.append(f"“{m.said}”（{m.source}）→“{m.term}”见于{where}")
        return "；".join(parts)


@dataclass
class Answer:
    question: str
    normalised: str
    results: list[Result]
    kind: str  # "match" | "clarify" | "none"
    candidates: list[Result] = field(default_factory=list)  # for "clarify"

    @property
    def best(self) -> Result | None:
        return self.results[0] if self.results and self.kind == "match" else None


@dataclass(frozen=True)
class _Term:
    weight: float
    source: str
    said: str


# --------------------------------------------------------------------------- tokenizer

_tokenizer_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None
_added_words: set[str] = set()


def _base_tokenizer() -> jieba.Tokenizer:
    """One jieba tokenizer per process (loading its dictionary takes a second or two)."""
    global _tokenizer
    with _tokenizer_lock:
        if _tokenizer is None:
            tokenizer = jieba.Tokenizer()
            tokenizer.initialize()
            _tokenizer = tokenizer
        return _tokenizer


def _add_words(words: Iterable[str]) -> None:
    tokenizer = _base_tokenizer()
    with _tokenizer_lock:
        for word in words:
            if len(word) >= 2 and word not in _added_words:
                # A high frequency so that the catalogue's words win over the general split.
                tokenizer.add_word(word, freq=50_000)
                _added_words.add(word)


def _cut(text: str) -> list[str]:
    tokenizer = _base_tokenizer()
    words: list[str] = []
    for run in text.split():
        words.extend(w for w in tokenizer.cut_for_search(run, HMM=False) if w.strip())
    return words


def _content_words(text: str) -> list[str]:
    return [w for w in _cut(text) if w not in STOPWORDS]


def _query_words(text: str) -> list[str]:
    """Words of a question: the accurate cut, so 社保卡 stays whole and does not also
    match every name containing 社保 (catalogue text is cut for search, with its parts)."""
    tokenizer = _base_tokenizer()
    words: list[str] = []
    for run in text.split():
        words.extend(w for w in tokenizer.cut(run, HMM=False) if w.strip())
    return [w for w in words if w not in STOPWORDS]


def _bigrams(text: str) -> list[str]:
    grams: list[str] = []
    for run in han_runs(text):
        grams.extend(BIGRAM + run[i : i + 2] for i in range(len(run) - 1))
    return grams


def _chars(text: str) -> list[str]:
    return [CHAR + c for run in han_runs(text) for c in run if c not in STOPWORDS]


def _field_terms(text: str) -> list[str]:
    return _content_words(text) + _bigrams(text) + _chars(text)


# --------------------------------------------------------------------------- the index


def _name_parts(name: str) -> list[str]:
    """The name, the name without its parenthesis, and what is inside it."""
    parts = [name, _PAREN.sub("", name)]
    for inner in _PAREN.findall(name):
        parts.extend(p for p in _LIST_SPLIT.split(inner.replace("/", " ")) if p)
    return [normalise(p).replace(" ", "") for p in parts if p]


class Index:
    """An immutable search index over a list of documents and synonyms."""

    def __init__(self, documents: Sequence[Document], synonyms: Sequence[Synonym] = ()) -> None:
        self.documents = list(documents)
        self.synonyms = [
            Synonym(normalise(s.phrase).replace(" ", ""), normalise(s.official))
            for s in synonyms
            if normalise(s.phrase)
        ]
        # Longest phrases first, so that 第一次办房产证 is tried before 房产证.
        self.synonyms.sort(key=lambda s: -len(s.phrase))
        self._build_dictionary()
        self._build_postings()

    # -- the domain dictionary -------------------------------------------------------
    def _build_dictionary(self) -> None:
        # Words for jieba: what is inside a name's parenthesis, aliases, synonyms. Whole
        # names are not added: 社会保障卡申领 as one word would hide 社会保障卡.
        words: set[str] = set()
        for doc in self.documents:
            words.update(_name_parts(doc.name)[2:])
            for alias in doc.aliases:
                words.add(normalise(alias).replace(" ", ""))
        for syn in self.synonyms:
            words.add(syn.phrase)
            words.update(syn.official.split())
        words = {w for w in words if 2 <= len(w) <= 16 and " " not in w}
        _add_words(sorted(words))
        # The catalogue's vocabulary: those words and the parts of names as jieba cuts them
        # (公积金, 身份证, 营业执照 …), for homophones, initials and substring matching.
        vocabulary: set[str] = set(words)
        for doc in self.documents:
            for part in _name_parts(doc.name)[1:]:
                vocabulary.update(w for w in _cut(part) if len(w) >= 2 and w not in STOPWORDS)
        self.vocabulary = frozenset(vocabulary)
        self._max_word = min(10, max((len(w) for w in vocabulary), default=2))
        by_pinyin: dict[str, set[str]] = defaultdict(set)
        by_initials: dict[str, set[str]] = defaultdict(set)
        by_full: dict[str, set[str]] = defaultdict(set)
        for word in vocabulary:
            if not all("\u3400" <= c <= "\u9fff" for c in word):
                continue
            by_pinyin[_pinyin_key(word)].add(word)
            by_initials[initials(word)].add(word)
            by_full[full_pinyin(word)].add(word)
        self._by_pinyin = dict(by_pinyin)
        self._by_initials = dict(by_initials)
        self._by_full = dict(by_full)

    def _vocabulary_in(self, text: str) -> list[str]:
        """Every catalogue word that occurs in the text (whatever jieba made of it)."""
        found = []
        vocabulary = self.vocabulary
        for run in han_runs(text):
            for size in range(2, min(self._max_word, len(run)) + 1):
                for start in range(len(run) - size + 1):
                    piece = run[start : start + size]
                    if piece in vocabulary:
                        found.append(piece)
        return found

    # -- postings ------------------------------------------------------------------
    def _fields(self, doc: Document) -> dict[str, str]:
        return {
            "name": " ".join(_name_parts(doc.name)[1:]) or normalise(doc.name),
            "aliases": normalise(" ".join(doc.aliases)),
            "conditions": normalise(doc.conditions),
            "materials": normalise(" ".join(doc.materials)),
            "department": normalise(doc.department),
            "extra": normalise(doc.extra),
        }

    def _build_postings(self) -> None:
        n = len(self.documents)
        per_doc: list[dict[str, dict[str, int]]] = []
        lengths: dict[str, list[int]] = {f: [] for f in FIELD_WEIGHTS}
        for doc in self.documents:
            fields: dict[str, dict[str, int]] = {}
            for name, text in self._fields(doc).items():
                counts: dict[str, int] = defaultdict(int)
                terms = _field_terms(text)
                seen = set(terms)
                terms += [w for w in self._vocabulary_in(text) if w not in seen]
                for term in terms:
                    counts[term] += 1
                fields[name] = dict(counts)
                lengths[name].append(len(terms))
            per_doc.append(fields)
        average = {f: (sum(v) / len(v) if v and sum(v) else 1.0) for f, v in lengths.items()}
        postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        self._doc_fields: list[dict[str, frozenset[str]]] = []
        self._doc_terms: list[frozenset[str]] = []
        for i, fields in enumerate(per_doc):
            weighted: dict[str, float] = defaultdict(float)
            for name, counts in fields.items():
                norm = 1 - B + B * lengths[name][i] / average[name]
                for term, tf in counts.items():
                    weighted[term] += FIELD_WEIGHTS[name] * tf / norm
            for term, wtf in weighted.items():
                postings[term].append((i, wtf / (K1 + wtf)))
            self._doc_fields.append({name: frozenset(c) for name, c in fields.items()})
            self._doc_terms.append(frozenset(weighted))
        self._postings: dict[str, tuple[float, list[tuple[int, float]]]] = {}
        for term, plist in postings.items():
            df = len(plist)
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            self._postings[term] = (idf, plist)
        self._fallback_df = max(FALLBACK_MIN_DF, int(n * FALLBACK_SHARE))
        self._family_names = [normalise(d.family).replace(" ", "") for d in self.documents]
        self._hf = sorted(
            (d for d in self.documents if d.high_frequency), key=lambda d: (d.hf_order, d.code)
        )

    # -- the query ---------------------------------------------------------------------
    def _query_terms(self, text: str) -> dict[str, _Term]:
        terms: dict[str, _Term] = {}

        def add(term: str, weight: float, source: str, said: str) -> None:
            old = terms.get(term)
            if old is None or old.weight < weight:
                terms[term] = _Term(weight, source, said)

        compact = text.replace(" ", "")
        for word in _query_words(text):
            add(word, W_WORD, "原词", word)
        # Synonyms, longest first; a phrase inside a longer one already used does not count
        # again (直接报销 means direct settlement, not the 报销 of paid bills).
        # Also without measure words and particles: 开个饭馆 says 开饭馆, 交什么税 交税.
        for variant in {compact, _FILLERS.sub("", compact)}:
            covered = bytearray(len(variant))
            for syn in self.synonyms:
                start = variant.find(syn.phrase)
                while start >= 0:
                    end = start + len(syn.phrase)
                    if not all(covered[start:end]):
                        covered[start:end] = b"\x01" * (end - start)
                        for word in _query_words(syn.official):
                            add(word, W_SYNONYM, "同义词", syn.phrase)
                        break
                    start = variant.find(syn.phrase, start + 1)
        # Homophones: windows of the question read as pinyin.
        for run in han_runs(text):
            exact = [char_pinyin(c) for c in run]
            fuzzy = [pinyin_key(c) for c in run]
            for size in range(2, min(self._max_word, 6) + 1):
                keys = exact if size == 2 else fuzzy
                for start in range(len(run) - size + 1):
                    key = " ".join(keys[start : start + size])
                    found = self._by_pinyin.get(("" if size == 2 else "~") + key)
                    if not found:
                        continue
                    said = run[start : start + size]
                    if said in self.vocabulary or _is_common_word(said):
                        continue  # a real word, not a slip of the keyboard
                    for word in found:
                        if word != said:
                            for part in self._expand(word):
                                add(part, W_HOMOPHONE, "同音字", said)
        # Latin letters: pinyin initials or full pinyin.
        for letters in ascii_words(text):
            if len(letters) < 2:
                continue
            for table, source in ((self._by_initials, "拼音首字母"), (self._by_full, "全拼")):
                for word in table.get(letters, ()):
                    for part in self._expand(word):
                        add(part, W_INITIALS, source, letters)
        for gram in _bigrams(text):
            add(gram, W_BIGRAM, "字", gram[1:])
        for char in _chars(text):
            add(char, W_CHAR, "字", char[1:])
        return terms

    def _expand(self, word: str) -> list[str]:
        """A vocabulary word as query terms, with its synonyms' official words."""
        out = _query_words(word)
        for syn in self.synonyms:
            if syn.phrase == word:
                out.extend(_query_words(syn.official))
        return out or [word]

    def search(self, question: str, limit: int = MAX_RESULTS) -> Answer:
        text = normalise(question)
        if not text or not self.documents:
            return Answer(question, text, [], "none")
        terms = self._query_terms(text)
        scores: dict[int, float] = defaultdict(float)
        for term, info in terms.items():
            entry = self._postings.get(term)
            if entry is None:
                continue
            idf, plist = entry
            weight = idf * info.weight
            if weight < MIN_TERM_WEIGHT:
                continue  # a common character: long posting list, next to no information
            if term[0] in (BIGRAM, CHAR) and len(plist) > self._fallback_df:
                continue  # the typo fallback only needs the rarer characters
            for doc, tf in plist:
                scores[doc] += weight * tf
        top = heapq.nlargest(RERANK, scores.items(), key=lambda kv: kv[1])
        # Which terms each of the best matched, for the coverage bonus and the explanation
        # (found afterwards: recording it while adding up would cost more than the sums).
        wanted = terms.keys()
        matched = {doc: list(self._doc_terms[doc] & wanted) for doc, _ in top}
        # How much of the matter's name the question accounts for: 社保卡+第一次办 cover
        # all of 社会保障卡申领 but only 首次申领 of 居民身份证首次申领.
        ranked = [
            (doc, score + COVER_WEIGHT * self._coverage(doc, matched[doc])) for doc, score in top
        ]
        ranked.sort(key=lambda kv: (-kv[1], self.documents[kv[0]].code))
        results = []
        for doc_index, score in ranked[:limit]:
            results.append(
                Result(
                    self.documents[doc_index],
                    round(score, 4),
                    self._explain(doc_index, matched[doc_index], terms),
                )
            )
        return self._decide(question, text, results)

    def _coverage(self, doc_index: int, matched: list[str]) -> float:
        name = self._family_names[doc_index]
        if not name:
            return 0.0
        covered = bytearray(len(name))
        for term in matched:
            if term[0] in (BIGRAM, CHAR):
                continue
            start = name.find(term)
            while start >= 0:
                covered[start : start + len(term)] = b"\x01" * len(term)
                start = name.find(term, start + 1)
        return sum(covered) / len(name)

    def _explain(self, doc_index: int, matched: list[str], terms: dict[str, _Term]) -> list[Match]:
        fields = self._doc_fields[doc_index]
        out = []
        for term in matched:
            if term.startswith(CHAR):
                continue
            info = terms[term]
            where = tuple(f for f in FIELD_WEIGHTS if term in fields[f])
            shown = term.lstrip(BIGRAM)
            out.append(Match(shown, info.source, info.said, where))
        out.sort(key=lambda m: (m.source == "字", -len(m.term), m.term))
        return out[:8]

    def _decide(self, question: str, text: str, results: list[Result]) -> Answer:
        if not results or results[0].score < MIN_SCORE:
            return Answer(question, text, results, "none")
        best = results[0]
        family = [
            r
            for r in results[1:4]
            if r.score >= CLARIFY_RATIO * best.score and _same_family(best.document, r.document)
        ]
        if family:
            return Answer(question, text, results, "clarify", [best, *family])
        return Answer(question, text, results, "match")

    def high_frequency(self, limit: int = 28) -> list[Document]:
        if self._hf:
            return self._hf[:limit]
        return self.documents[:limit]

    def find(self, code: str) -> Document | None:
        for doc in self.documents:
            if doc.code == code:
                return doc
        return None


def _pinyin_key(word: str) -> str:
    """Exact pinyin for two-character words, fuzzy (zh=z, ang=an …) for longer ones: two
    syllables alone are too easily another real word with a neighbouring sound."""
    if len(word) == 2:
        return " ".join(syllables(word))
    return "~" + pinyin_key(word)


def _is_common_word(text: str) -> bool:
    return _base_tokenizer().FREQ.get(text, 0) > 0


# Words every family shares with unrelated matters; two names are of one family when they
# still have three characters in a row in common without them.
_GENERIC = re.compile(
    r"登记|申请|申领|办理|变更|注销|设立|审批|许可|认定|核发|补贴|补领|换领|备案|服务|证明|手续"
)


def _core(name: str) -> str:
    return _GENERIC.sub("|", _PAREN.sub("", name))


def _longest_common(a: str, b: str) -> int:
    best = 0
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0] * (len(b) + 1)
        for j, y in enumerate(b, 1):
            if x == y and x != "|":
                current[j] = previous[j - 1] + 1
                best = max(best, current[j])
        previous = current
    return best


def _same_family(a: Document, b: Document) -> bool:
    """住房公积金提取（购房）and （租房）; 社会保障卡申领 and 补换; 购买自住住房提取住房公积金
    and 租赁住房提取住房公积金 — but not 个体工商户变更登记 and 不动产变更登记."""
    if a.family == b.family:
        return True
    return _longest_common(_core(a.name), _core(b.name)) >= 3
