"""The bilingual glossary of labour-movement terms used to expand queries across languages.

The data is a plain tab-separated file that staff edit by hand: ``indexer/glossary.tsv`` ships with
the software, and ``<home>/glossary.tsv`` in the data folder (optional) adds local entries. Format::

    # comment lines start with '#'; blank lines are ignored
    category<TAB>zh forms<TAB>en forms<TAB>note
    union	香港職工會聯盟|職工盟|职工盟	Hong Kong Confederation of Trade Unions|HKCTU|CTU	…

``zh`` and ``en`` are ``|``-separated lists of forms, the first being the canonical one. A line that
cannot be used (too few columns, no form at all) is skipped with a warning that names the file and
line, never an exception: one typo must not switch the search off. A line typed with runs of spaces
instead of tabs is accepted, with a warning.

Matching works on analysed tokens (see :mod:`indexer.analysis`), so ``碼頭工人罷工``, ``码头工人罢工``
and ``dock strikes`` all find the entry written ``碼頭工人罷工 / dock strike``. In a form of two
words or more, an English agent noun is also matched by its verb (:func:`match_key`): the entry
``bar-benders`` is found by ``bar-bender``, ``bar-benders'``, ``bar benders`` and ``bar-bending``
alike. The glossary is applied to the query before any engine sees it, so it behaves the same on
every search engine.

What a matched term expands to (:meth:`Glossary.expansion_forms`, issue 19 point 4: a query finds
in the other language whatever the glossary says is the same thing as what it finds in its own):

* every form of each entry that has the term as a form, exactly or by word family (the
  ``bar bending`` query expands through both ``紮鐵 / bar bending`` and ``紮鐵工人 / bar-benders``,
  so it finds the English text ``bar-benders'`` as well as ``bar bending``);
* for a Chinese term, also the English forms of each entry whose first (canonical) Chinese form
  *contains* one of those entries' Chinese forms: ``紮鐵`` finds Chinese text saying ``紮鐵工人`` (a
  substring), so it searches ``bar-benders`` too. Only a term that is itself a glossary form
  does this: a fragment such as ``鐵工`` expands to nothing (no guessing beyond the glossary);
* at most :data:`MAX_ENTRIES_PER_TERM` entries per term: its own, then its family's, then the
  entries with the shortest containing forms, in file order (``香港`` is inside 40-odd entries).

All of it happens to the query: what the index holds (the analysis) is unchanged, so no index
needs rebuilding for it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from .analysis import analyze, is_han

__all__ = [
    "BUILTIN_GLOSSARY",
    "MAX_ENTRIES_PER_TERM",
    "Glossary",
    "GlossaryEntry",
    "GlossaryMatch",
    "form_key",
    "load_glossary",
    "match_key",
]

log = logging.getLogger(__name__)

BUILTIN_GLOSSARY = Path(__file__).with_name("glossary.tsv")
_SPACES_RE = re.compile(r" {2,}|\t")
# Entries one matched term may expand through (its own, its word family's, the ones containing it):
# with MAX_GLOSSARY_FORMS in indexer.query, what keeps a query's expansion small.
MAX_ENTRIES_PER_TERM = 8

Key = tuple[str, ...]


@lru_cache(maxsize=65_536)
def form_key(form: str) -> tuple[str, ...]:
    """The token sequence that identifies a form (folded, stemmed; no tail unigrams). Cached:
    the same glossary forms are keyed again by every search that expands to them."""
    return tuple(t.text for t in analyze(form, tail_unigrams=False))


def match_key(key: Sequence[str]) -> tuple[str, ...]:
    """How a token sequence is looked up in the glossary: in a key of two tokens or more, an
    English token ending in ``er`` (after stemming, which already folds -s, -ing and -ed but keeps
    -er) loses it, so the agent noun meets its verb: ``bar bender`` and ``bar bend`` (from
    ``bar-bending``) are one key. Single words are left alone (``leader`` is not ``lead``)."""
    if len(key) < 2:
        return tuple(key)
    return tuple(
        t[:-2] if len(t) >= 5 and t.endswith("er") and t.isascii() and t.isalpha() else t
        for t in key
    )


@dataclass(frozen=True)
class GlossaryEntry:
    category: str
    zh: tuple[str, ...]
    en: tuple[str, ...]
    note: str = ""
    source: str = ""  # "file:line", for warnings and for staff tracing an odd expansion

    @property
    def forms(self) -> tuple[str, ...]:
        return self.zh + self.en


def _is_han_key(key: Key) -> bool:
    """Whether a form key is Chinese: every token a bigram or unigram of Han characters."""
    return bool(key) and all(is_han(c) for token in key for c in token)


@dataclass(frozen=True)
class GlossaryMatch:
    """An entry found in a token sequence at ``[start, end)``; ``forms`` is what it expands to
    (:meth:`Glossary.expansion_forms`)."""

    start: int
    end: int
    entry: GlossaryEntry
    matched_form: str
    forms: tuple[str, ...] = ()


@dataclass(frozen=True)
class Glossary:
    entries: tuple[GlossaryEntry, ...] = ()
    warnings: tuple[str, ...] = ()
    _index: dict[tuple[str, ...], list[tuple[GlossaryEntry, str]]] = field(
        default_factory=dict, repr=False, compare=False
    )
    _max_len: int = 0
    # The same forms by :func:`match_key`: asked only when no form has the exact key, so
    # "bar-benders" finds the entry written "bar-benders" before one written "bar bending".
    _loose: dict[tuple[str, ...], list[tuple[GlossaryEntry, str]]] = field(
        default_factory=dict, repr=False, compare=False
    )
    # Chinese form key -> the entries with a longer Chinese form containing it, best first; made
    # on first use (:meth:`_containing_index`), so a glossary made per query and never asked for
    # expansions costs nothing more.
    _containing: dict[Key, list[GlossaryEntry]] | None = field(
        default=None, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        loose: dict[tuple[str, ...], list[tuple[GlossaryEntry, str]]] = {}
        for key, bucket in self._index.items():
            merged = loose.setdefault(match_key(key), [])
            merged.extend(pair for pair in bucket if all(e is not pair[0] for e, _ in merged))
        object.__setattr__(self, "_loose", loose)

    def _hits(self, key: tuple[str, ...]) -> list[tuple[GlossaryEntry, str]]:
        return self._index.get(key) or self._loose.get(match_key(key), [])

    @classmethod
    def from_entries(
        cls, entries: Iterable[GlossaryEntry], warnings: Sequence[str] = ()
    ) -> Glossary:
        entries = tuple(entries)
        index: dict[tuple[str, ...], list[tuple[GlossaryEntry, str]]] = {}
        for entry in entries:
            for form in entry.forms:
                key = form_key(form)
                bucket = index.setdefault(key, []) if key else None
                # Two forms of one entry may fold to the same key (繁/简 spellings): keep one.
                if bucket is not None and all(e is not entry for e, _ in bucket):
                    bucket.append((entry, form))
        max_len = max((len(k) for k in index), default=0)
        return cls(entries, tuple(warnings), index, max_len)

    def __len__(self) -> int:
        return len(self.entries)

    def has_form(self, key: tuple[str, ...]) -> bool:
        """Whether some entry has a form whose token sequence (:func:`form_key`) is ``key``."""
        return key in self._index or match_key(key) in self._loose

    def without_forms(self, keys: Iterable[tuple[str, ...]]) -> Glossary:
        """This glossary with every form whose :func:`form_key` is in ``keys`` taken out; an entry
        left with no form is dropped. Only the entries concerned are analysed again."""
        drop = set(keys) & set(self._index)
        if not drop:
            return self
        touched = {id(e) for key in drop for e, _ in self._index[key]}
        mapped: dict[int, GlossaryEntry | None] = {}
        entries: list[GlossaryEntry] = []
        for entry in self.entries:
            if id(entry) in touched:
                zh = tuple(f for f in entry.zh if form_key(f) not in drop)
                en = tuple(f for f in entry.en if form_key(f) not in drop)
                kept = replace(entry, zh=zh, en=en) if zh or en else None
            else:
                kept = entry
            mapped[id(entry)] = kept
            if kept is not None:
                entries.append(kept)
        index: dict[tuple[str, ...], list[tuple[GlossaryEntry, str]]] = {}
        for key, bucket in self._index.items():
            if key in drop:
                continue
            kept_bucket = [(mapped[id(e)], f) for e, f in bucket if mapped[id(e)] is not None]
            if kept_bucket:
                index[key] = kept_bucket  # type: ignore[assignment]
        max_len = max((len(k) for k in index), default=0)
        containing = None
        renamed = any(
            kept is None or kept.zh[:1] != entry.zh[:1]
            for entry in self.entries
            if (kept := mapped[id(entry)]) is not entry
        )
        if self._containing is not None and not renamed:
            # Carried over rather than made again (each search below staff may narrow the
            # glossary): while every entry keeps its first Chinese form, only the dropped
            # sub-terms go.
            containing = {
                sub: [mapped[id(e)] or e for e in bucket]
                for sub, bucket in self._containing.items()
                if sub not in drop
            }
        return Glossary(tuple(entries), self.warnings, index, max_len, _containing=containing)

    def _containing_index(self) -> dict[Key, list[GlossaryEntry]]:
        if self._containing is not None:
            return self._containing
        han_keys = {key for key in self._index if _is_han_key(key)}
        # Only an entry's first Chinese form counts: it names the whole entry, which its English
        # forms translate. Its other forms may be narrower variants (葵涌貨櫃碼頭罷工 of 碼頭工人罷工,
        # "dock strike"): through them 葵涌 would search every dock strike.
        # sub-key -> (length of the containing form, file order, entry), best first
        found: dict[Key, list[tuple[int, int, GlossaryEntry]]] = {}
        order = {id(e): number for number, e in enumerate(self.entries)}
        for key in han_keys:
            # The index already holds each form's key (no analysis again: this runs for every
            # glossary a viewer's search narrows down).
            canonical = [e for e, form in self._index[key] if e.zh and form == e.zh[0]]
            if not canonical or len(key) < 2:
                continue
            n = len(key)
            subs = {key[i : i + size] for size in range(1, n) for i in range(n - size + 1)}
            for sub in subs & han_keys:
                found.setdefault(sub, []).extend((n, order[id(e)], e) for e in canonical)
        containing = {
            sub: [r[2] for r in sorted(ranks, key=lambda r: r[:2])] for sub, ranks in found.items()
        }
        object.__setattr__(self, "_containing", containing)
        return containing

    def expansion_forms(self, key: Key) -> tuple[str, ...]:
        """The forms a matched term (its :func:`form_key`) expands to, in order: every form of
        the entries that have it as a form (exactly, then by :func:`match_key`), then, for a
        Chinese term, the English forms of the entries with a Chinese form containing it; at most
        :data:`MAX_ENTRIES_PER_TERM` entries in all. Empty when no entry has the term as a form."""
        whole: list[GlossaryEntry] = []
        for entry, _ in (*self._index.get(key, ()), *self._loose.get(match_key(key), ())):
            if len(whole) < MAX_ENTRIES_PER_TERM and all(e is not entry for e in whole):
                whole.append(entry)
        others: list[GlossaryEntry] = []
        if whole and _is_han_key(key):
            # Each Chinese form of those entries is searched, and each finds Chinese text that
            # contains it (紥鐵 is a form of 紮鐵, which is inside 紮鐵工人): the entries containing
            # any of them, the query's own key first, then form by form.
            containing = self._containing_index()
            subs = dict.fromkeys(
                (key, *(k for e in whole for k in map(form_key, e.zh) if _is_han_key(k)))
            )
            for entry in (entry for sub in subs for entry in containing.get(sub, ())):
                if len(whole) + len(others) >= MAX_ENTRIES_PER_TERM:
                    break
                if all(e is not entry for e in (*whole, *others)):
                    others.append(entry)
        forms = [f for e in whole for f in e.forms] + [f for e in others for f in e.en]
        return tuple(dict.fromkeys(forms))

    def lookup(self, text: str) -> list[GlossaryEntry]:
        """Entries that have ``text`` (any script, any listed form) as one of their forms."""
        return [entry for entry, _ in self._hits(form_key(text))]

    def find(self, keys: Sequence[str]) -> list[GlossaryMatch]:
        """Non-overlapping entries in a token sequence, longest first from left to right."""
        out: list[GlossaryMatch] = []
        i = 0
        while i < len(keys):
            for length in range(min(self._max_len, len(keys) - i), 0, -1):
                hits = self._hits(tuple(keys[i : i + length]))
                if hits:
                    # Several entries may share a form: the first as written names the match,
                    # all of them (bounded) are in what it expands to.
                    entry, form = hits[0]
                    key = tuple(keys[i : i + length])
                    out.append(GlossaryMatch(i, i + length, entry, form, self.expansion_forms(key)))
                    i += length
                    break
            else:
                i += 1
        return out


def parse_glossary(text: str, source: str = "<glossary>") -> tuple[list[GlossaryEntry], list[str]]:
    entries: list[GlossaryEntry] = []
    warnings: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip("\ufeff").rstrip("\r\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        where = f"{source}:{number}"
        columns = line.split("\t")
        if len(columns) < 3:
            columns = _SPACES_RE.split(line.strip())
            if len(columns) >= 3:
                warnings.append(f"{where}: columns separated by spaces, not tabs; read anyway")
        if len(columns) < 3:
            warnings.append(
                f"{where}: skipped: expected 'category<TAB>zh<TAB>en<TAB>note', got {line.strip()[:60]!r}"
            )
            continue
        category, zh, en = (c.strip() for c in columns[:3])
        note = "\t".join(columns[3:]).strip()
        zh_forms = tuple(f.strip() for f in zh.split("|") if f.strip())
        en_forms = tuple(f.strip() for f in en.split("|") if f.strip())
        unusable = [f for f in zh_forms + en_forms if not form_key(f)]
        if unusable:
            warnings.append(f"{where}: ignored form(s) with no letters or characters: {unusable}")
            zh_forms = tuple(f for f in zh_forms if form_key(f))
            en_forms = tuple(f for f in en_forms if form_key(f))
        if not zh_forms and not en_forms:
            warnings.append(f"{where}: skipped: no Chinese or English form")
            continue
        if not zh_forms or not en_forms:
            # Still useful (it merges spellings within one language), but likely a mistake.
            missing = "Chinese" if not zh_forms else "English"
            warnings.append(f"{where}: no {missing} form; the entry only joins its other forms")
        entries.append(GlossaryEntry(category or "term", zh_forms, en_forms, note, where))
    return entries, warnings


_CACHE: dict[tuple[tuple[str, float], ...], Glossary] = {}


def load_glossary(home: Path | None = None, paths: Sequence[Path] | None = None) -> Glossary:
    """The shipped glossary plus ``<home>/glossary.tsv`` when it exists (or exactly ``paths``).

    Results are cached per (file, modification time): an edit is picked up by the next search.
    """
    if paths is None:
        paths = [BUILTIN_GLOSSARY]
        if home is not None:
            paths.append(Path(home) / "glossary.tsv")
    stamps: list[tuple[str, float]] = []
    for path in paths:
        try:
            stamps.append((str(path), path.stat().st_mtime))
        except OSError:
            continue  # an absent extra file is normal
    key = tuple(stamps)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    entries: list[GlossaryEntry] = []
    warnings: list[str] = []
    for name, _ in stamps:
        path = Path(name)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            warnings.append(f"{path}: not read: {exc}")
            continue
        more, more_warnings = parse_glossary(text, str(path))
        entries.extend(more)
        warnings.extend(more_warnings)
    for warning in warnings:
        log.warning("glossary: %s", warning)
    glossary = Glossary.from_entries(entries, warnings)
    if len(_CACHE) > 16:
        _CACHE.clear()
    _CACHE[key] = glossary
    return glossary
