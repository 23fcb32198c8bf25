"""Whoosh-specific reading: a searcher's view per index version and the internals that speed it up.

* :class:`View` — a searcher and what is derived from it once per index version: fast columns,
  the indexed items (:class:`~indexer.results.ItemMeta`) and the ranked lists kept for paging.
* :class:`RoleDocs` — the documents a role may see, as a Whoosh ``DocIdSet`` filter kept per
  segment (built and cached by :meth:`indexer.index.SearchIndex._allowed`).
* :func:`postings_unfiltered` / :func:`unfiltered_when_asked` — posting lists of segments with
  deletions without Whoosh's per-posting deletion filter, where a role filter makes it redundant.
* :func:`raise_phrases` — the preferred-phrase boost, applied to the best matches only.

These reach into Whoosh internals (``VarBytesColumn.Reader``, ``SegmentReader.postings``); each
falls back to Whoosh's own behaviour when they are not what it expects.
"""

from __future__ import annotations

import bisect
import contextlib
import json
import threading
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from whoosh import query as wq
from whoosh.idsets import DocIdSet
from whoosh.reading import SegmentReader
from whoosh.searching import Searcher

from .query import PHRASE_BOOST
from .results import ItemMeta
from .schema import CatalogState

__all__ = ["RoleDocs", "View", "postings_unfiltered", "raise_phrases", "unfiltered_when_asked"]


@dataclass
class View:
    """A searcher and what is derived from it once per index version."""

    searcher: Searcher
    generation: str
    _items: dict[str, ItemMeta] | None = None
    _columns: dict[str, Any] = field(default_factory=dict)
    ranked: dict[Any, tuple[list[tuple[float, int]], bool, int]] = field(default_factory=dict)

    def column(self, name: str) -> Any:
        if name not in self._columns:
            reader = self.searcher.reader()
            # An empty index (no segment yet) has no columns at all.
            self._columns[name] = (
                _FastColumn(self.searcher, name) if reader.has_column(name) else defaultdict(str)
            )
        return self._columns[name]

    @property
    def items(self) -> dict[str, ItemMeta]:
        if self._items is None:
            items: dict[str, ItemMeta] = {}
            for docnum in self.searcher.document_numbers(kind="item"):
                f = self.searcher.stored_fields(docnum)
                meta = json.loads(f.get("meta") or "{}")
                year = f.get("year") or ""
                items[f["item_id"]] = ItemMeta(
                    f.get("title_zh", ""),
                    f.get("title_en", ""),
                    f.get("collection", ""),
                    int(year) if year.isdigit() else None,
                    f.get("lang", ""),
                    tuple(meta.get("speakers", ())),
                    CatalogState.from_json(f["state"]) if f.get("state") else None,
                )
            self._items = items
        return self._items


class _FastColumn:
    """A column's values by global document number, faster than Whoosh's own column reader.

    Whoosh's multi-segment reader finds the segment with a Python ``bisect`` wrapper and decodes
    the bytes on every access (about 4 µs); grouping and facets read four columns for each of up
    to 2,000 ranked documents per search. Here each segment's raw column is read directly and
    decoded values are memoised (a column has few distinct values: kinds, languages, item ids).
    """

    def __init__(self, searcher: Searcher, name: str) -> None:
        self._offsets: list[int] = []
        self._raw: list[Any] = []
        for leaf, offset in searcher.leaf_searchers():
            reader = leaf.reader().column_reader(name)
            self._offsets.append(offset)
            raw = reader.raw_column() if hasattr(reader, "raw_column") else reader
            self._raw.append(_SlicedBytes.of(raw) or raw)
        self._translate = searcher.schema[name].from_column_value
        self._memo: dict[Any, Any] = {}
        self._single = self._raw[0] if len(self._raw) == 1 else None

    def __getitem__(self, docnum: int) -> Any:
        if self._single is not None:
            raw = self._single[docnum]
        else:
            i = bisect.bisect_right(self._offsets, docnum) - 1
            raw = self._raw[i][docnum - self._offsets[i]]
        try:
            return self._memo[raw]
        except KeyError:
            value = self._memo[raw] = self._translate(raw)
            return value
        except TypeError:  # an unhashable raw value
            return self._translate(raw)


class _SlicedBytes:
    """A ``VarBytesColumn`` segment column read into memory once: a value is one bytes slice.

    Whoosh reads each value from the mapped file through two Python calls; the whole column of
    an ID field is a few bytes per document (7 MB for 700,000), so it is copied in one read.
    """

    __slots__ = ("_data", "_offsets", "_lengths")

    def __init__(self, data: bytes, offsets: Any, lengths: Any) -> None:
        self._data, self._offsets, self._lengths = data, offsets, lengths

    @classmethod
    def of(cls, raw: Any) -> _SlicedBytes | None:
        if type(raw).__qualname__ != "VarBytesColumn.Reader":
            return None
        try:
            if getattr(raw, "_offsets", None) is None:
                raw._read_offsets_and_lengths()
            offsets, lengths = raw._offsets, raw._lengths
            size = (offsets[-1] + lengths[-1]) if len(lengths) else 0
            data = bytes(raw._dbfile.get(raw._basepos, size)) if size else b""
        except Exception:  # another column type (or Whoosh internals changed): read as usual
            return None
        return cls(data, offsets, lengths)

    def __getitem__(self, docnum: int) -> bytes:
        start = self._offsets[docnum]
        return self._data[start : start + self._lengths[docnum]]


class RoleDocs(DocIdSet):
    """Global document numbers visible to a role, kept as per-segment sets of local numbers."""

    def __init__(self, leaves: list[tuple[int, frozenset[int]]]) -> None:
        self._offsets = [offset for offset, _ in leaves]
        self._sets = [docs for _, docs in leaves]
        self._count = sum(len(d) for d in self._sets)

    def __contains__(self, docnum: object) -> bool:
        i = bisect.bisect_right(self._offsets, docnum) - 1  # type: ignore[call-overload]
        return i >= 0 and (docnum - self._offsets[i]) in self._sets[i]  # type: ignore[operator]

    def __bool__(self) -> bool:
        # Whoosh treats a false filter as "no filter": this one must never look empty to it.
        return True

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[int]:
        for offset, docs in zip(self._offsets, self._sets, strict=True):
            yield from sorted(offset + d for d in docs)

    def empty(self) -> bool:
        return self._count == 0


# -- searching past deletions -------------------------------------------------------------
_UNFILTERED = threading.local()


@contextlib.contextmanager
def postings_unfiltered() -> Iterator[None]:
    """Within this thread, term postings of segments with deletions come without Whoosh's filter.

    Whoosh wraps every posting list of a segment carrying deleted documents in a Python filter
    that checks each posting (searches got about 1.5x slower after any incremental update). A
    role search already checks every match against the role's set of documents, which never
    holds a deleted one, so the filter is redundant there. Only used around such searches.
    """
    before = getattr(_UNFILTERED, "on", False)
    _UNFILTERED.on = True
    try:
        yield
    finally:
        _UNFILTERED.on = before


def unfiltered_when_asked(searcher: Searcher) -> Searcher:
    """Give each segment reader with deletions a ``postings`` that obeys ``postings_unfiltered``."""
    for leaf, _ in searcher.leaf_searchers():
        reader = leaf.reader()
        if type(reader) is not SegmentReader or not reader.has_deletions():
            continue
        postings = reader.postings

        def unfiltered(
            fieldname: str, text: Any, scorer: Any = None, _p: Any = postings, _r: Any = reader
        ) -> Any:
            if not getattr(_UNFILTERED, "on", False) or _r.is_closed or fieldname not in _r.schema:
                return _p(fieldname, text, scorer=scorer)
            # SegmentReader.postings without its last step (the FilterMatcher of deletions).
            raw = _r._text_to_bytes(fieldname, text)
            return _r._terms.matcher(fieldname, raw, _r.schema[fieldname].format, scorer=scorer)

        reader.postings = unfiltered
    return searcher


def raise_phrases(
    searcher: Searcher, ranked: list[tuple[float, int]], boosts: tuple[wq.Query, ...]
) -> list[tuple[float, int]]:
    """The best matches, with those holding a preferred phrase scored ``1 + PHRASE_BOOST`` times.

    Inside the query (``AndMaybe``) the phrase would add about as much again as its words score,
    PHRASE_BOOST times, but at the cost of reading positions at every match; here they are read
    for the few hundred best documents only, in document order so each matcher moves forward.
    """
    if not ranked:
        return ranked
    wanted = sorted(docnum for _score, docnum in ranked)
    found: set[int] = set()
    for boost in boosts:
        matcher = boost.matcher(searcher, searcher.boolean_context())
        for docnum in wanted:
            if not matcher.is_active():
                break
            if matcher.id() < docnum:
                matcher.skip_to(docnum)
                if not matcher.is_active():
                    break
            if matcher.id() == docnum:
                found.add(docnum)
    factor = 1.0 + PHRASE_BOOST
    return [(score * factor if docnum in found else score, docnum) for score, docnum in ranked]
