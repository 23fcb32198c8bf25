"""Chinese script handling: Hong Kong Traditional for display, one folded form for search.

Whisper writes Chinese in whatever script its training data suggested, often mixing Simplified
and Traditional within one sentence. :func:`to_hk` normalises text to Hong Kong Traditional with
OpenCC's ``s2hk`` configuration (phrase-aware: 头发 → 頭髮, 发展 → 發展); characters that are
already Traditional and Latin text pass through unchanged.

:func:`fold` is for search (the indexer imports it): every script variant of a character maps to
one form, so a query typed in Simplified finds a Traditional transcript and vice versa. It works
character by character on purpose, so that ``fold(a + b) == fold(a) + fold(b)`` and
``len(fold(s)) == len(s)``: an n-gram index and the highlighter can use the offsets of the
folded text directly on the original. Phrase-aware conversion would break both properties.

All functions are pure. OpenCC converters are created once per process and shared; their
``convert`` holds no mutable state, so sharing them between threads is safe.
"""

from __future__ import annotations

import re
import threading
import unicodedata

import opencc

__all__ = [
    "fold",
    "han_count",
    "han_share",
    "has_han",
    "hk_punctuation",
    "is_chinese_text",
    "strip_punctuation",
    "to_hk",
    "to_simplified",
]

_converters: dict[str, opencc.OpenCC] = {}
_converters_lock = threading.Lock()


def _converter(config: str) -> opencc.OpenCC:
    """One OpenCC instance per configuration (loading the dictionaries takes ~10 ms each)."""
    found = _converters.get(config)
    if found is None:
        with _converters_lock:
            found = _converters.get(config)
            if found is None:
                found = opencc.OpenCC(config)
                _converters[config] = found
    return found


# CJK Unified Ideographs with extensions A-H, compatibility ideographs, and 〇 (U+3007).
_HAN_RANGES = (
    "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f\U00030000-\U000323af"
)
_HAN = re.compile(f"[{_HAN_RANGES}]")
# A run of letters that are not Han: one Latin (or other alphabetic) word.
_WORD = re.compile(rf"[^\W\d_{_HAN_RANGES}]+")
_PUNCT_OR_SPACE = re.compile(r"[\s\W_]+", re.UNICODE)

# Pairs OpenCC keeps apart because Simplified keeps them apart, though Hong Kong writing uses one
# for the other: 看著/看着 (zhe), 甚麼/什么. Merging them only on the search side costs nothing:
# both the index and the query are folded.
_FOLD_EXTRA = {"著": "着", "甚": "什"}


def to_hk(text: str) -> str:
    """Hong Kong Traditional Chinese (OpenCC ``s2hk``): 码头工人罢工 → 碼頭工人罷工."""
    if not text or not has_han(text):
        return text
    return _converter("s2hk").convert(text)


_FULL_WIDTH = {",": "，", "!": "！", "?": "？", ";": "；", ":": "：", ".": "。"}
# ASCII punctuation right after a Chinese character ("." only when no digit follows: 9.5).
_ASCII_AFTER_HAN = re.compile(rf"(?<=[{_HAN_RANGES}])(?:[,!?;:]|\.(?!\d))")


def hk_punctuation(text: str) -> str:
    """Full-width punctuation after Chinese characters, as Hong Kong text is written.

    Whisper often ends a Chinese clause with an ASCII comma ("早上9點,至下午5點"). One character
    replaces one, so offsets into the text stay valid.
    """
    return _ASCII_AFTER_HAN.sub(lambda m: _FULL_WIDTH[m.group(0)], text)


def to_simplified(text: str) -> str:
    """Simplified Chinese, phrase-aware (OpenCC ``hk2s``), e.g. for exports to mainland readers."""
    if not text or not has_han(text):
        return text
    return _converter("hk2s").convert(text)


class _FoldTable(dict[int, str]):
    """A ``str.translate`` table that computes each character's folded form on first sight."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        folded = unicodedata.normalize(
            "NFKC", char
        )  # full-width Ａ１ → A1, compatibility ideographs
        if len(folded) != 1:  # e.g. ﬁ → fi, ㈱ → (株): keep one character per character
            folded = char
        if _HAN.match(folded):
            # hk2s handles Hong Kong variants (裏, 綫, 着), t2s what is left (Taiwan forms like 裡).
            simple = _converter("t2s").convert(_converter("hk2s").convert(folded))
            folded = simple if len(simple) == 1 else folded
            folded = _FOLD_EXTRA.get(folded, folded)
        else:
            lower = folded.lower()
            folded = lower if len(lower) == 1 else folded  # İ.lower() has two code points
        self[code] = folded  # a racing thread computes the same value: harmless
        return folded


_FOLD_TABLE = _FoldTable()


def fold(text: str) -> str:
    """The canonical search form: Simplified Chinese, lower-case, half-width; same length.

    ``fold("碼頭 ＤＯＣＫ")`` == ``fold("码头 dock")`` == ``"码头 dock"``.
    """
    return text.translate(_FOLD_TABLE)


def has_han(text: str) -> bool:
    """Whether the text contains at least one Chinese character."""
    return _HAN.search(text) is not None


def han_count(text: str) -> int:
    return len(_HAN.findall(text))


def han_share(text: str) -> float:
    """The share of Chinese among the text's words: Han characters / (Han characters + words).

    A Han character counts as one unit and so does a whole Latin word, because a Chinese
    character carries about as much as an English word; counting Latin letters instead would
    call "我今日去 Central Station" mostly English. Digits and punctuation are ignored.
    """
    han = han_count(text)
    words = len(_WORD.findall(text))
    total = han + words
    return han / total if total else 0.0


def is_chinese_text(text: str, threshold: float = 0.5) -> bool:
    """True when at least ``threshold`` of the text's words are Chinese characters."""
    return han_share(text) >= threshold


def strip_punctuation(text: str) -> str:
    """Letters and digits only (for comparing texts, e.g. character error rates)."""
    return _PUNCT_OR_SPACE.sub("", text)
