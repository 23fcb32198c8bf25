"""Bilingual text analysis: one function turns any text (Chinese, English or both mixed) into tokens.

The same :func:`analyze` is used when indexing, when parsing a query and when highlighting, so the
three can never disagree about what a "word" is.

Folding (:func:`fold`) maps every character to one canonical character, *one character at a time*:

* Han characters: Hong Kong / Taiwan / OpenCC-standard Traditional and Simplified forms all fold to
  Simplified (``transcripts.chinese.fold``: OpenCC ``hk2s`` then ``t2s`` per character, so
  ``碼``/``码``, ``裏``/``裡``/``里``, ``綫``/``線``, ``著``/``着`` meet). Simplified is the target because Traditional→Simplified is many-to-one: it
  merges variants, the other direction would have to guess.
* Latin: NFKC (full-width ``ＨＫＣＴＵ`` → ``hkctu``), lower case, accents stripped (``café`` → ``cafe``).

Folding per character (instead of handing OpenCC a whole sentence) keeps the folded string exactly
as long as the original, so every token's ``start``/``end`` are offsets into the *original* text:
highlights land on the Traditional text the speaker's transcript shows, never on the folded form.
OpenCC's phrase tables (which can change a phrase's length) are deliberately not used; what matters
for search is that index and query fold the same way, which per-character folding guarantees.
All of it lives in :func:`fold_char`. Changing the folding changes the indexed terms: run
``archive index rebuild`` after such a change.

Tokens:

* A run of Han characters becomes overlapping **character bigrams** (``码头 头工 工人 人罢 罢工``), one
  position each, so a two-character word is one term and a longer word or phrase is a phrase query
  over consecutive bigrams. The run's last character is also emitted as a unigram *at the same
  position* as the last bigram: a one-character query can then be answered (prefix ``c*`` over the
  bigrams finds ``c`` everywhere but at the end of a run, the unigram finds that), and because it
  shares a position it never breaks a phrase. A one-character run is just that unigram.
* A run of other letters/digits is a word: folded, then Porter-stemmed when ``stem`` is true
  (``strike``/``strikes``/``striking`` → ``strike``). Hyphens and apostrophes split words, so
  ``Cheuk-yan`` is ``cheuk yan`` at consecutive positions: ``Lee Cheuk-yan`` = ``Lee Cheuk Yan``.

Bigrams versus the alternatives, measured on the labelled set in ``tests/test_search_analysis.py``
(``MEASURE_QUERIES``: 30 Chinese queries in Traditional, Simplified and HK variant forms over the 21
transcript segments of the test corpus; a segment is an expected hit when it contains the query
word in any script: 68 expected (query, segment) pairs; positional phrase matching as Whoosh does)::

    how Chinese text is cut into terms           expected hits found   false hits
    Whoosh default (a whole Han run is one term)          0 / 68            0
    jieba 0.42.1 word segmentation                       58 / 68            0
    character unigrams, phrase query                     68 / 68            0
    character bigrams, phrase query (this module)        68 / 68            0

The default only matches a query equal to a whole run between punctuation, which in speech
transcripts is almost never. jieba cuts the same characters differently in a short query and in a
sentence (``罷工工人`` alone vs inside ``支援罷工工人``) and then misses. Unigrams find what bigrams
find, but every term is a single character whose posting list covers a large share of all segments,
so each phrase query intersects much longer lists; bigram terms are far more selective.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from whoosh.analysis import Token, Tokenizer
from whoosh.lang.porter import stem as _porter_stem

from transcripts.chinese import fold as _transcripts_fold

__all__ = [
    "POSITION_GAP",
    "TRACK_SEPARATOR",
    "BilingualAnalyzer",
    "Tok",
    "analyze",
    "fold",
    "fold_char",
    "is_han",
    "stem_word",
]

# CJK Unified Ideographs, Extension A, Compatibility Ideographs, Extensions B-F (HKSCS lives there).
_HAN_RANGES = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_TOKEN_RE = re.compile(rf"(?P<han>[{_HAN_RANGES}]+)|(?P<word>[^\W_{_HAN_RANGES}]+)")
_HAN_RE = re.compile(rf"[{_HAN_RANGES}]")
TRACK_SEPARATOR = "\u2029"  # PARAGRAPH SEPARATOR: joins texts indexed in one field
POSITION_GAP = 100


def is_han(ch: str) -> bool:
    return bool(_HAN_RE.match(ch))


def fold_char(ch: str) -> str:
    """The canonical form of one character; always exactly one character long.

    The transcript side's :func:`transcripts.chinese.fold` (per character, length-preserving:
    Traditional/HK/Taiwan → Simplified, NFKC, lower case) is the base, so search and the rest of
    the archive agree on what "the same character" means; accents are stripped on top of it,
    because a search for ``cafe`` should find ``café``.
    """
    if ch.isascii():
        return ch.lower()
    out = _transcripts_fold(ch)
    if len(out) != 1:
        out = ch
    if not is_han(out):
        # Strip accents: é → e, but keep letters whose decomposition is not base + marks.
        decomposed = unicodedata.normalize("NFKD", out)
        if len(decomposed) > 1 and all(unicodedata.combining(c) for c in decomposed[1:]):
            out = decomposed[0]
        lowered = out.lower()
        out = lowered if len(lowered) == 1 else out
    return out


class _FoldTable(dict[int, str]):
    """``str.translate`` table that computes and remembers each character's folded form."""

    def __missing__(self, code: int) -> str:
        folded = fold_char(chr(code))
        self[code] = folded
        return folded


_FOLD_TABLE = _FoldTable()


def fold(text: str) -> str:
    """Fold Traditional/HK/Simplified Chinese to one form, Latin to lower case without accents.

    ``len(fold(text)) == len(text)`` always, so offsets found in the folded text are offsets in
    the original.
    """
    return text.translate(_FOLD_TABLE)


@lru_cache(maxsize=100_000)
def stem_word(word: str) -> str:
    # Only stem alphabetic words: "2019" or "hk2020" are identifiers, not English.
    return _porter_stem(word) if word.isalpha() and word.isascii() else word


@dataclass(frozen=True, slots=True)
class Tok:
    """One token: its (folded, maybe stemmed) text, its position and its span in the original text."""

    text: str
    pos: int
    start: int
    end: int
    han: bool  # a Chinese bigram/unigram (True) or a word (False)


def analyze(text: str, *, stem: bool = True, tail_unigrams: bool = True) -> list[Tok]:
    """Tokens of ``text``; see the module docstring. Positions start at 0 and are consecutive.

    ``tail_unigrams=False`` is for queries: the extra unigram at the end of a Han run is only
    needed in the index (a query run of two or more characters is matched by its bigrams alone).
    """
    if TRACK_SEPARATOR in text:
        # Several texts in one field (a segment's two tracks): a position gap between them, so
        # no phrase runs from the end of one into the start of the next.
        out: list[Tok] = []
        offset = 0
        next_pos = 0
        for part in text.split(TRACK_SEPARATOR):
            toks = analyze(part, stem=stem, tail_unigrams=tail_unigrams)
            out.extend(
                Tok(t.text, t.pos + next_pos, t.start + offset, t.end + offset, t.han) for t in toks
            )
            if toks:
                next_pos = out[-1].pos + 1 + POSITION_GAP
            offset += len(part) + 1
        return out
    folded = fold(text)
    out = []
    pos = 0
    for match in _TOKEN_RE.finditer(folded):
        start, end = match.span()
        run = match.group()
        if match.lastgroup == "han":
            if len(run) == 1:
                out.append(Tok(run, pos, start, end, True))
                pos += 1
                continue
            for i in range(len(run) - 1):
                out.append(Tok(run[i : i + 2], pos, start + i, start + i + 2, True))
                pos += 1
            if tail_unigrams:
                out.append(Tok(run[-1], pos - 1, end - 1, end, True))
        else:
            out.append(Tok(stem_word(run) if stem else run, pos, start, end, False))
            pos += 1
    return out


def han_runs_and_words(text: str) -> Iterator[tuple[str, str, int, int]]:
    """``(kind, folded_run, start, end)`` for each Han run (kind ``han``) or word (kind ``word``)."""
    folded = fold(text)
    for match in _TOKEN_RE.finditer(folded):
        yield (match.lastgroup or "word", match.group(), match.start(), match.end())


class BilingualTokenizer(Tokenizer):
    """Whoosh adapter around :func:`analyze` (index time only; queries call :func:`analyze`)."""

    def __init__(self, stem: bool = True) -> None:
        self.stem = stem

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BilingualTokenizer) and other.stem == self.stem

    def __hash__(self) -> int:
        return hash(("BilingualTokenizer", self.stem))

    def __call__(  # type: ignore[override]
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: object,
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for tok in analyze(value, stem=self.stem):
            token.text = tok.text
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = value[tok.start : tok.end]
            if positions:
                token.pos = start_pos + tok.pos
            if chars:
                token.startchar = start_char + tok.start
                token.endchar = start_char + tok.end
            yield token


def BilingualAnalyzer(stem: bool = True) -> BilingualTokenizer:  # noqa: N802 - whoosh naming style
    """The analyzer of every text field: Chinese bigrams + folded (stemmed) words."""
    return BilingualTokenizer(stem=stem)
