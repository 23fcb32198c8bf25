"""The Whoosh internals that make the Whoosh engine (:mod:`indexer.whoosh_engine`) fast.

* :class:`FastColumn` — a column's values by document number, read and decoded once per
  searcher (grouping and facets read several columns for each of up to 2,000 ranked documents).
* :class:`RoleDocs` — the documents a role may see, as a Whoosh ``DocIdSet`` filter kept per
  segment (built and cached by :meth:`indexer.whoosh_engine.WhooshSnapshot.allowed`).
* :func:`postings_unfiltered` / :func:`unfiltered_when_asked` — posting lists of segments with
  deletions without Whoosh's per-posting deletion filter, where a role filter makes it redundant.
* :func:`docs_matching` — which of a few ranked documents a query matches, read in document
  order (the preferred-phrase boost checks the best matches only).

These reach into Whoosh internals (``VarBytesColumn.Reader``, ``SegmentReader.postings``); each
falls back to Whoosh's own behaviour when they are not what it expects.
"""

from __future__ import annotations

import bisect
import contextlib
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from whoosh import query as wq
from whoosh.idsets import DocIdSet
from whoosh.reading import SegmentReader
from whoosh.searching import Searcher

__all__ = [
    "FastColumn",
    "RoleDocs",
    "docs_matching",
    "postings_unfiltered",
    "unfiltered_when_asked",
]


class FastColumn:
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


def docs_matching(searcher: Searcher, query: wq.Query, docs: Iterable[int]) -> set[int]:
    """Which of ``docs`` match ``query``, unscored.

    Inside the query (``AndMaybe``) a preferred phrase would cost reading positions at every
    match; this reads them for the few hundred best documents only, in document order so the
    matcher only moves forward.
    """
    wanted = sorted(docs)
    found: set[int] = set()
    if not wanted:
        return found
    matcher = query.matcher(searcher, searcher.boolean_context())
    for docnum in wanted:
        if not matcher.is_active():
            break
        if matcher.id() < docnum:
            matcher.skip_to(docnum)
            if not matcher.is_active():
                break
        if matcher.id() == docnum:
            found.add(docnum)
    return found
