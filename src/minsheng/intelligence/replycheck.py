"""Reply check: does a handler's reply answer the citizen's appeal?

A pure function of three texts (no database, no model file, offline). Four scores in [0, 1]:

relevance     Whether the reply talks about what the appeal is about. The appeal's key words
              (jieba words minus stop words, weighted by jieba's own IDF table so that 路灯 or
              噪音 count far more than 问题 or 晚上, title words doubled) and the places and
              objects it names (桂花坪街道, 景蓉华苑, A2区...) are looked up in the reply.
              Synonyms are folded to one spelling first (噪声 → 噪音, 物管 → 物业...), and
              Traditional characters to Simplified. A word of three or more characters found
              only in part (景蓉花苑 for 景蓉华苑) earns half. A template that could answer any
              appeal shares none of them and scores low.
completeness  Four parts an answer should have: what was found (经调查/核实, or the rule that
              decides a question: 根据《…》规定), what was or will be done (已安排/将/整改),
              by when (a date, 月底, 日前, N个工作日 — the date that merely signs the reply off
              does not count), and whom to ask (联系电话, 联系人, a phone number, a window).
politeness    A greeting or form of address, thanks or a courteous closing; rude or dismissive
              wording (不归我们管, 别再反映...) sets it to zero.
length        Too short to be an answer ("留言已收悉") scores low, rising to 1 at
              ``FULL_LENGTH`` characters.

Each shortfall is a :class:`Warning` with a stable ``code`` (for statistics, audit and tests)
and a Chinese message for the handler. ``overall`` is a weighted mean; ``ok`` is true when it
reaches ``OK_SCORE`` and none of the blocking warnings (irrelevant, too short, rude) is raised.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import jieba
import jieba.analyse
import jieba.posseg
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from minsheng.guide.normalise import to_simplified

# ---------------------------------------------------------------- thresholds and weights

# Share of the appeal's key-word weight a reply must cover to count as fully relevant: an
# answer rarely repeats more than half of a long complaint's words.
FULL_COVERAGE = 0.45
# Below this relevance the reply is flagged as not addressing the appeal.
RELEVANCE_WARN = 0.3
# Characters (Chinese characters, letters, digits) of a reply below which it is no answer,
# and the length at which the length score is full.
MIN_LENGTH = 30
FULL_LENGTH = 120
# The overall score and the one ``ok`` needs.
WEIGHTS = {"relevance": 0.35, "completeness": 0.35, "politeness": 0.15, "length": 0.15}
OK_SCORE = 0.6
# Warnings that make a reply not ok whatever its overall score.
BLOCKING = frozenset({"irrelevant", "too_short", "rude"})

# How many of the appeal's words count as its key words.
KEY_WORDS = 15
TITLE_WEIGHT = 2.0
# Within relevance: key words vs. named places and objects (when the appeal names any).
PLACE_SHARE = 0.3

COMPLETENESS_PARTS = {"findings": 0.3, "action": 0.3, "timeframe": 0.2, "contact": 0.2}


# ---------------------------------------------------------------- the result


@dataclass(frozen=True)
class Warning:
    code: str
    message: str


@dataclass(frozen=True)
class ReplyCheck:
    relevance: float
    completeness: float
    politeness: float
    length: float
    overall: float
    ok: bool
    warnings: tuple[Warning, ...] = ()
    # What was looked for and found, for the handler and for tuning by eye.
    key_words: tuple[str, ...] = field(default=(), compare=False)
    places: tuple[str, ...] = field(default=(), compare=False)

    @property
    def codes(self) -> list[str]:
        return [w.code for w in self.warnings]

    def scores(self) -> dict[str, float]:
        return {
            "relevance": self.relevance,
            "completeness": self.completeness,
            "politeness": self.politeness,
            "length": self.length,
            "overall": self.overall,
        }

    def as_record(self, overridden: bool = False) -> dict[str, Any]:
        """What the audit keeps of a check: the scores rounded, and the warning codes that
        the handler chose to send anyway."""
        return {
            **{name: round(value, 3) for name, value in self.scores().items()},
            "warnings": self.codes,
            "overridden": self.codes if overridden else [],
        }


# ---------------------------------------------------------------- words

# Function words and the phrases nearly every appeal or reply uses: they say nothing about
# which problem a reply answers.
_STOP_WORD_TEXT = """
问题 反映 反应 希望 尽快 请问 相关 部门 有关 政府 领导 书记 市长 县长 区长 网友 留言 平台 来信
我们 你们 他们 她们 它们 自己 大家 本人 我家 没有 现在 目前 已经 还是 就是 什么 怎么 怎样
为什么 为何 如何 可以 能否 是否 能够 一个 这个 那个 这样 那样 这些 那些 这里 那里 情况 要求
解决 处理 谢谢 感谢 您好 你好 工作 进行 时候 一直 非常 特别 严重 不能 不是 知道 但是 因为 所以
如果 以及 还有 而且 并且 同时 其中 出现 存在 导致 造成 影响 关于 建议 呼吁 恳请 请求 市民 群众
老百姓 居民 今年 去年 明年 每天 每次 多次 很多 许多 一些 一下 一样 不会 不要 需要 应该 必须
得到 受到 进入 成为 作为 还要 以后 之后 以前 之前 然后 而是 或者 以上 以下 不了 这么 那么 多少
直到 根本 已经 仍然 依然 还没 没能 一定 真的 确实 其他 其它 任何 所有 全部 一次 两次 几个
时间 地方 有人 他人 别人 对此 此事 此外 针对 根据 按照 通过 由于 对于 对于 并未 未能 不断
相应 工作人员 情况 回复 答复 如下 收悉 现将 调查 核实 了解 经过 单位 方面 有限公司
"""
STOP_WORDS = frozenset(_STOP_WORD_TEXT.split())

# Different spellings of one thing, folded to the first before any matching.
_SYNONYM_GROUPS = (
    ("噪音", "噪声", "扰民"),
    ("物业", "物管", "物业公司", "物业管理公司"),
    ("路灯", "街灯"),
    ("垃圾", "废弃物"),
    ("停车位", "车位"),
    ("拖欠工资", "欠薪", "拖欠薪资", "欠发工资"),
    ("污水", "废水", "排污"),
    ("拆迁", "征收", "征拆"),
    ("学位", "入学"),
    ("施工", "工地"),
    ("投诉", "举报"),
    ("业委会", "业主委员会"),
    ("违建", "违章建筑", "违法建筑", "违章搭建"),
    ("公交", "公交车", "公共汽车"),
    ("医保", "医疗保险"),
    ("社保", "社会保险"),
    ("公积金", "住房公积金"),
    ("开发商", "开发公司"),
    ("油烟", "烟雾"),
    ("积水", "内涝"),
    ("出租车", "的士", "出租汽车"),
    ("司机", "驾驶员"),
    ("电动车", "电瓶车", "电单车"),
    ("农民工", "务工人员"),
)
_SYNONYMS = {
    variant: group[0]
    for group in _SYNONYM_GROUPS
    for variant in sorted(group[1:], key=len, reverse=True)
}
_SYNONYM_PATTERN = re.compile("|".join(map(re.escape, sorted(_SYNONYMS, key=len, reverse=True))))

# A word that is the kind of a place or object; the word before it is its name.
_PLACE_SUFFIX_TEXT = """
小区 社区 街道 大道 路 南路 北路 东路 西路 中路 街 巷 村 镇 乡 县 区 苑 园 城 湾 桥 广场 公园
学校 中学 小学 幼儿园 大学 学院 医院 卫生院 市场 大厦 商场 花园 公寓 新村 家园 酒店 宾馆 车站
"""
PLACE_SUFFIXES = frozenset(_PLACE_SUFFIX_TEXT.split())
# Masked or coded places of the data (A2区, K7县, A市): kept as places, and cut off before
# segmenting, or jieba glues their last character to the next word (A3区望岳路 → 区望).
_CODED_PLACE = re.compile(r"[a-z]\d*[省市区县镇乡村]")
# Places every appeal of a county shares: naming them proves nothing.
_BROAD_PLACE = re.compile(r"^[a-z]?\d*[省市]$")

_WORD_CHARS = re.compile(r"[0-9a-z\u3400-\u4dbf\u4e00-\u9fff]")
_HAN_WORD = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff]{2,}$")


def _normalise(text: str) -> str:
    text = to_simplified(unicodedata.normalize("NFKC", text or "")).lower()
    return _SYNONYM_PATTERN.sub(lambda match: _SYNONYMS[match.group(0)], text)


@lru_cache(maxsize=1)
def _idf_table() -> tuple[dict[str, float], float]:
    loader = jieba.analyse.default_tfidf.idf_loader
    return loader.idf_freq, float(loader.median_idf)


def _is_content_word(word: str) -> bool:
    return bool(_HAN_WORD.match(word)) and word not in STOP_WORDS


@lru_cache(maxsize=1)
def _word_tags() -> dict[str, str]:
    tags: dict[str, str] = jieba.posseg.dt.word_tag_tab
    return tags


# jieba's part-of-speech tags of words that are never the name of a place: verbs, adverbs,
# pronouns, numerals, conjunctions... (幸福小区: adjectives and nouns can be).
_NOT_NAME_TAGS = ("v", "d", "r", "m", "q", "c", "p", "u", "f", "t", "e", "y", "o")


def _may_be_name(word: str) -> bool:
    """A word of jieba's dictionary that can name a place, or one it does not know (most
    proper names)."""
    return _is_content_word(word) and not _word_tags().get(word, "n").startswith(_NOT_NAME_TAGS)


def _cut(text: str) -> list[str]:
    return [word for part in _CODED_PLACE.split(text) for word in jieba.cut(part)]


def _key_words(title: list[str], body: list[str]) -> dict[str, float]:
    """The appeal's most telling words and their weights (frequency × IDF)."""
    table, median = _idf_table()
    weights: dict[str, float] = {}
    for words, factor in ((title, TITLE_WEIGHT), (body, 1.0)):
        for word in words:
            if _is_content_word(word):
                weights[word] = weights.get(word, 0.0) + factor * table.get(word, median)
    best = sorted(weights.items(), key=lambda item: item[1], reverse=True)[:KEY_WORDS]
    return dict(best)


def _places(texts: tuple[str, str], cuts: tuple[list[str], list[str]]) -> list[str]:
    """The names of the places and objects the appeal names (the name without its kind)."""
    found: dict[str, None] = {}
    for text, words in zip(texts, cuts, strict=True):
        for code in _CODED_PLACE.findall(text):
            found[code] = None
        for word, after in itertools.pairwise(words):
            if after in PLACE_SUFFIXES and _may_be_name(word):
                found[word] = None
            elif len(word) >= 4 and _is_content_word(word) and word[-2:] in PLACE_SUFFIXES:
                found[word[:-2]] = None
            elif len(word) >= 3 and _is_content_word(word) and word[-1] in PLACE_SUFFIXES:
                found[word[:-1]] = None
    return [
        p for p in found if len(p) >= 2 and p not in PLACE_SUFFIXES and not _BROAD_PLACE.match(p)
    ]


def _found(term: str, reply: str) -> float:
    """1 when the reply contains the term, ½ when it contains a two-character part of a
    longer term (a near spelling of a name), else 0."""
    if term in reply:
        return 1.0
    if len(term) >= 3 and any(term[i : i + 2] in reply for i in range(len(term) - 1)):
        return 0.5
    return 0.0


def _relevance(
    key_words: dict[str, float], places: list[str], reply: str
) -> tuple[float, list[str]]:
    """The relevance score, and the named places the reply does not mention."""
    total = sum(key_words.values())
    coverage = (
        sum(weight * _found(word, reply) for word, weight in key_words.items()) / total
        if total
        else 1.0  # nothing to look for: not the reply's fault
    )
    word_score = min(1.0, coverage / FULL_COVERAGE)
    if not places:
        return word_score, []
    place_hits = {place: _found(place, reply) for place in places}
    place_score = sum(place_hits.values()) / len(places)
    missing = [place for place, hit in place_hits.items() if hit == 0.0]
    return (1 - PLACE_SHARE) * word_score + PLACE_SHARE * place_score, missing


# ---------------------------------------------------------------- completeness

_FINDINGS = re.compile(
    r"经(?:调查|核实|核查|查|了解|排查|研究|现场|走访|实地)|调查(?:了解|核实|发现|情况)?|核实|核查|"
    r"查明|现场(?:查看|勘查|察看|核查|检查)|实地|走访|了解到|发现|"
    r"根据《|按照《|依据《|《[^》]{2,40}》|规定|政策"
)
_ACTION = re.compile(
    r"(?:已|已经|将|正在|现已|立即|及时|下一步|拟|计划|责成|责令|要求|督促)"
    r"[^，。；！]{0,12}?"
    r"(?:整改|安排|处理|清理|清运|拆除|维修|修复|更换|疏通|铺设|安装|查处|处罚|立案|约谈|"
    r"协调|落实|解决|完成|完工|恢复|纳入|启动|开展|办理|发放|补发|退还|制止|关停|取缔|规范|"
    r"加强|整治|改造|建设|跟进|回访|联系|告知|送达|增加|增设|设置|调整|改善|优化|推进|实施|"
    r"到位|审核|检查|巡查|排查|督查|通报|公示|上报|部署|组织|培训)"
    r"|(?:开展|进行|组织|召开|安排|实施|完成|制定|出台|下发|发放|增加|设置|清理|拆除|维修|更换|"
    r"修复|约谈|处罚|督促|协调)了"
    r"|整改|责令|查处|立案|取缔|下一步"
)
_TIMEFRAME = re.compile(
    r"\d{4}年\d{1,2}月|\d{1,2}月\d{1,2}日|\d{1,2}月(?:底|中旬|上旬|下旬|初|份)|"
    r"年底|年内|月底|月内|周内|日前|近日|近期|本周|下周|(?:本|下|次)月|[上中下]旬|预计|工作日|\d+(?:个)?(?:天|日|月|周)内|"
    r"[一二三四五六七八九十两]+(?:个)?(?:天|日|月|周|工作日)内|\d{4}-\d{1,2}-\d{1,2}|"
    r"当天|次日"
)
# A date at the very end only signs the reply off; it says nothing about when.
_SIGN_OFF_DATE = re.compile(r"(?:\d{4}年\d{1,2}月\d{1,2}日|\d{4}[-/.]\d{1,2}[-/.]\d{1,2})[\s。.]*$")
_CONTACT = re.compile(
    r"联系电话|联系人|联系方式|咨询电话|服务电话|热线|致电|拨打|来电|电话|"
    r"(?:可|请|欢迎)[^，。]{0,8}(?:联系|咨询|前往|到)|窗口|办公室|"
    r"(?<!\d)(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8}|\d{4}-\d{7,8}|12345)(?!\d)"
)


def _completeness_parts(reply: str) -> dict[str, bool]:
    body = _SIGN_OFF_DATE.sub("", reply.strip())
    return {
        "findings": bool(_FINDINGS.search(body)),
        "action": bool(_ACTION.search(body)),
        "timeframe": bool(_TIMEFRAME.search(body)),
        "contact": bool(_CONTACT.search(body)),
    }


# ---------------------------------------------------------------- politeness

_GREETING = re.compile(r"您好|你好|尊敬的|同志|先生|女士|网友")
_THANKS = re.compile(r"感谢|谢谢|致谢|辛苦")
_CLOSING = re.compile(
    r"此复|特此回复|特此答复|欢迎|祝您|敬请|望您|请您谅解|(?:的|和|与)(?:支持|关心|关注|监督|理解)"
)
# Wording that dismisses or insults the citizen; one match is enough.
_RUDE = re.compile(
    r"不归我们管|不关我们的事|与我们无关|与本单位无关|不是我们的事|管不了|管不着|(?:不要|别)再(?:反映|投诉|打电话|来|闹|找)|"
    r"少管闲事|无理取闹|胡搅蛮缠|胡说八道|瞎说|闭嘴|刁民|你(?:是)?神经病|神经病吧|爱咋咋|自己看着办|自己想办法|"
    r"你懂不懂|懂不懂|没空|烦不烦|找别人去|爱找谁找谁|随便你|关你什么事|关你屁事"
)


def _politeness(reply: str) -> tuple[float, str | None, bool]:
    """The score, the rude wording found (if any), and whether any courtesy was found."""
    rude = _RUDE.search(reply)
    greeting = bool(_GREETING.search(reply))
    thanks = bool(_THANKS.search(reply))
    closing = bool(_CLOSING.search(reply))
    courteous = greeting or thanks or closing
    if rude:
        return 0.0, rude.group(0), courteous
    return 0.4 * greeting + 0.4 * thanks + 0.2 * closing, None, courteous


# ---------------------------------------------------------------- the check


def _length(reply: str) -> tuple[float, int]:
    chars = len(_WORD_CHARS.findall(reply))
    score = (chars - MIN_LENGTH / 2) / (FULL_LENGTH - MIN_LENGTH / 2)
    return max(0.0, min(1.0, score)), chars


_PART_MESSAGES = {
    "findings": (
        "no_findings",
        gettext_lazy("未说明调查核实的情况或依据的政策规定（如“经调查核实…”）"),
    ),
    "action": ("no_action", gettext_lazy("未说明已采取或将要采取的措施（如“已安排…”“将于…整改”）")),
    "timeframe": (
        "no_timeframe",
        gettext_lazy("未说明办理时限或完成时间（如“于6月底前”“5个工作日内”）"),
    ),
    "contact": ("no_contact", gettext_lazy("未提供联系人或联系电话，群众有疑问时无从联系")),
}


def check_reply(appeal_title: str, appeal_body: str, reply: str) -> ReplyCheck:
    """Check a reply against its appeal; see the module docstring for what is scored."""
    title, body, text = _normalise(appeal_title), _normalise(appeal_body), _normalise(reply)
    cuts = (_cut(title), _cut(body))
    key_words = _key_words(*cuts)
    places = _places((title, body), cuts)
    relevance, missing_places = _relevance(key_words, places, text)
    parts = _completeness_parts(text)
    completeness = sum(COMPLETENESS_PARTS[name] for name, present in parts.items() if present)
    politeness, rude, courteous = _politeness(text)
    length, chars = _length(text)

    warnings: list[Warning] = []
    if chars < MIN_LENGTH:
        warnings.append(
            Warning("too_short", _("答复过短（%(n)s字），不足以说明办理结果") % {"n": chars})
        )
    if relevance < RELEVANCE_WARN:
        warnings.append(
            Warning("irrelevant", _("答复与诉求内容关联度低，可能未针对群众反映的具体问题"))
        )
    elif missing_places and len(missing_places) == len(places):
        warnings.append(
            Warning(
                "no_place",
                _("答复未提及诉求中的地点或对象：%(places)s")
                % {"places": "、".join(missing_places[:3])},
            )
        )
    for name, present in parts.items():
        if not present:
            code, message = _PART_MESSAGES[name]
            warnings.append(Warning(code, str(message)))
    if rude is not None:
        warnings.append(Warning("rude", _("答复含有不文明或推诿的用语：“%(w)s”") % {"w": rude}))
    elif not courteous:
        warnings.append(Warning("no_courtesy", _("答复缺少称呼、问候或致谢等礼貌用语")))

    scores = {
        "relevance": relevance,
        "completeness": completeness,
        "politeness": politeness,
        "length": length,
    }
    overall = sum(WEIGHTS[name] * value for name, value in scores.items())
    ok = overall >= OK_SCORE and not any(w.code in BLOCKING for w in warnings)
    return ReplyCheck(
        relevance=relevance,
        completeness=completeness,
        politeness=politeness,
        length=length,
        overall=overall,
        ok=ok,
        warnings=tuple(warnings),
        key_words=tuple(key_words),
        places=tuple(places),
    )
