"""Text normalisation for the guide: the same steps for questions and for catalogue text.

Traditional → Simplified (OpenCC, pure Python, offline), full-width → half-width (NFKC),
lower case, punctuation → space. Pinyin comes from pypinyin's character table, one reading
per character (the first, without tone), so that a question and a catalogue word are spelt
the same way whatever their context: 公基金 and 公积金 both read "gong ji jin".
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from opencc import OpenCC
from pypinyin import pinyin_dict

_t2s = OpenCC("t2s")

# Anything that is not a letter, digit or CJK ideograph separates words.
_SEPARATORS = re.compile(r"[^0-9a-z\u3400-\u4dbf\u4e00-\u9fff]+")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
_ASCII_WORD = re.compile(r"[a-z]+")

# Readings that dialect speakers and typists confuse; mapped to one spelling so that a
# homophone typed with the neighbouring sound still meets the catalogue's word.
_FUZZY_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"))
_FUZZY_FINALS = (("ang", "an"), ("eng", "en"), ("ing", "in"))


def _traditional_chars() -> frozenset[str] | None:
    """Every character the t2s character table converts; None if the table's layout is
    not what this version of the package had (then every text is converted)."""
    try:
        _t2s.convert("測")  # loads the dictionaries
        chars: set[str] = set()
        for group in _t2s._dict_chain_data:
            for _longest, _shortest, table in group:
                chars.update(key for key in table if len(key) == 1)
        return frozenset(chars) or None
    except (AttributeError, TypeError, ValueError):
        return None


_TRADITIONAL = _traditional_chars()


def to_simplified(text: str) -> str:
    # The pure-Python converter is slow; most text (the whole catalogue, most questions)
    # has no Traditional character at all, so it is only run when one is present.
    if _TRADITIONAL is not None and _TRADITIONAL.isdisjoint(text):
        return text
    return str(_t2s.convert(text))


def normalise(text: str) -> str:
    """Simplified, half-width, lower-case text with punctuation replaced by single spaces."""
    text = unicodedata.normalize("NFKC", text or "")
    text = to_simplified(text).lower()
    return _SEPARATORS.sub(" ", text).strip()


def han_runs(text: str) -> list[str]:
    """The runs of Chinese characters of a normalised text."""
    return _HAN.findall(text)


def ascii_words(text: str) -> list[str]:
    return _ASCII_WORD.findall(text)


_TONES = str.maketrans(
    "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ",
    "aaaaeeeeiiiioooouuuuvvvvvnnnm",
)


@lru_cache(maxsize=65536)
def char_pinyin(char: str) -> str:
    """The first toneless reading of one character ("" when it has none)."""
    readings = pinyin_dict.pinyin_dict.get(ord(char))
    if not readings:
        return ""
    return str(readings.split(",", 1)[0]).translate(_TONES)


@lru_cache(maxsize=65536)
def fuzzy_syllable(syllable: str) -> str:
    for long, short in _FUZZY_INITIALS:
        if syllable.startswith(long):
            syllable = short + syllable[len(long) :]
            break
    for long, short in _FUZZY_FINALS:
        if syllable.endswith(long):
            syllable = syllable[: -len(long)] + short
            break
    return syllable.replace("l", "n") if syllable.startswith("l") else syllable


def syllables(word: str) -> list[str]:
    return [char_pinyin(c) for c in word]


@lru_cache(maxsize=65536)
def pinyin_key(word: str) -> str:
    """Fuzzy pinyin of a word, one syllable per character, joined by spaces."""
    return " ".join(fuzzy_syllable(s) for s in syllables(word))


def full_pinyin(word: str) -> str:
    return "".join(syllables(word))


def initials(word: str) -> str:
    return "".join(s[0] for s in syllables(word) if s)
