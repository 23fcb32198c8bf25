"""How much work one search may do, decided before it runs and enforced while it runs (security
issue 18, point 7).

An anonymous visitor's query used to be able to cost minutes of CPU on Whoosh: every single
Chinese character is a prefix over every bigram starting with it, and ``工 OR 人 OR …`` with 100
of them took 505 s, holding a portal process while the visitor had long gone. Now, for both
engines alike:

* **Before it runs** (:mod:`indexer.query`): more than :data:`indexer.query.MAX_TERMS` typed
  words, phrases or prefixes and the search is refused with a notice (nothing is run); the
  glossary adds at most :data:`indexer.query.MAX_GLOSSARY_FORMS` forms, through at most
  :data:`indexer.glossary.MAX_ENTRIES_PER_TERM` entries per matched term.
* **Prefixes** expand to at most :data:`MAX_EXPANDED_TERMS` indexed terms in one search, shared
  evenly among its prefixes (:func:`bound_prefixes`): a prefix's first terms in code-point order,
  the same on every engine. A notice says when a prefix matched more words than were searched.
* **A deadline** (:data:`SEARCH_DEADLINE` seconds, :class:`SearchBudget`) is checked by the
  Whoosh engine between matches, in its phrase checks and before and after every engine call, so
  the searching thread itself stops at the deadline and raises
  :class:`~archive.core.errors.SearchLimitError`; nothing keeps running for a visitor who left.
  (tantivy's search is one call into Rust and is checked around it; its work is bounded by the
  same limits, and measured at under 0.1 s for the worst query.)
* **At most** :data:`MAX_EXPENSIVE` searches with prefixes or many terms run at once in one
  process (:class:`ExpensiveSlots`); one more is refused at once with a "busy" error instead of
  queueing behind them, so cheap searches of other visitors are not held up.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import replace

from archive.core.errors import SearchLimitError

from . import query_tree as qt

__all__ = [
    "EXPENSIVE",
    "EXPENSIVE_TERMS",
    "MAX_EXPANDED_TERMS",
    "MAX_EXPENSIVE",
    "SEARCH_DEADLINE",
    "ExpensiveSlots",
    "SearchBudget",
    "bound_prefixes",
    "is_expensive",
]

SEARCH_DEADLINE = 5.0  # seconds of one search, all its engine calls together
MAX_EXPANDED_TERMS = 512  # indexed terms all prefixes of one search may expand to
MAX_EXPENSIVE = 2  # expensive searches running at once in one process
EXPENSIVE_TERMS = 8  # a query of more terms and phrases than this is expensive
_CHECK_EVERY = 64  # matches between two looks at the clock (a look costs about 50 ns)

TIMED_OUT = (
    "the search needed more than {seconds:g} seconds and was stopped; "
    "try fewer words, or longer ones"
)
BUSY = (
    "the search is busy with other long searches; try again in a moment, or search for whole words"
)


class SearchBudget:
    """One search's deadline and the count of terms its prefixes expanded to."""

    def __init__(self, seconds: float | None = SEARCH_DEADLINE) -> None:
        self.seconds = SEARCH_DEADLINE if seconds is None else max(0.0, float(seconds))
        self._ends = time.monotonic() + self.seconds
        self.expanded = 0
        self.truncated: list[str] = []  # prefixes that matched more terms than were searched

    def check(self) -> None:
        """Raise :class:`SearchLimitError` once the deadline has passed."""
        if time.monotonic() > self._ends:
            raise SearchLimitError(TIMED_OUT.format(seconds=self.seconds))

    def every(self, n: int) -> None:
        """:meth:`check`, every :data:`_CHECK_EVERY` calls of a loop counting ``n``."""
        if n % _CHECK_EVERY == 0:
            self.check()

    def expanded_to(self, prefix: str, terms: int, limit: int, more: bool) -> None:
        """Note that ``prefix`` expanded to ``terms`` terms (``more``: it had more than
        ``limit``)."""
        self.expanded += terms
        if more and prefix not in self.truncated:
            self.truncated.append(prefix)


class ExpensiveSlots:
    """At most ``size`` expensive searches at once in this process; the next one is refused."""

    def __init__(self, size: int = MAX_EXPENSIVE) -> None:
        self.size = size
        self._free = threading.BoundedSemaphore(size)

    @contextlib.contextmanager
    def slot(self, expensive: bool = True) -> Iterator[None]:
        """Hold one slot while the block runs (a cheap search holds none); raise
        :class:`SearchLimitError` at once when every slot is taken."""
        if not expensive:
            yield
            return
        if not self._free.acquire(blocking=False):
            raise SearchLimitError(BUSY)
        try:
            yield
        finally:
            self._free.release()


EXPENSIVE = ExpensiveSlots()  # this process's slots, shared by every index it opens


def _walk(node: qt.Node) -> Iterator[qt.Node]:
    yield node
    if isinstance(node, (qt.Or, qt.And)):
        for part in node.parts:
            yield from _walk(part)
    elif isinstance(node, qt.AndMaybe):
        yield from _walk(node.required)
        yield from _walk(node.optional)
    elif isinstance(node, qt.Excluding):
        yield from _walk(node.positive)
        yield from _walk(node.negative)
    elif isinstance(node, qt.Not):
        yield from _walk(node.query)


def is_expensive(node: qt.Node | None) -> bool:
    """Whether a query has a prefix or more than :data:`EXPENSIVE_TERMS` terms and phrases
    (counted once per word, not once per field it is looked for in)."""
    if node is None:
        return False
    words: set[tuple[str, ...]] = set()
    for part in _walk(node):
        if isinstance(part, qt.Prefix):
            return True
        if isinstance(part, qt.Term) and part.field not in ("kind", "year", "lang", "collection"):
            words.add((part.text,))
        elif isinstance(part, qt.Phrase):
            words.add(part.words)
    return len(words) > EXPENSIVE_TERMS


def bound_prefixes(node: qt.Node, terms: int) -> qt.Node:
    """``node`` with each prefix limited to its share of ``terms`` expanded terms (at least one)."""
    count = sum(1 for part in _walk(node) if isinstance(part, qt.Prefix))
    if not count:
        return node
    share = max(1, terms // count)
    return _limit(node, share)


def _limit(node: qt.Node, share: int) -> qt.Node:
    if isinstance(node, qt.Prefix):
        return replace(node, limit=min(node.limit, share) if node.limit else share)
    if isinstance(node, (qt.Or, qt.And)):
        return replace(node, parts=tuple(_limit(p, share) for p in node.parts))
    if isinstance(node, qt.AndMaybe):
        return qt.AndMaybe(_limit(node.required, share), _limit(node.optional, share))
    if isinstance(node, qt.Excluding):
        return qt.Excluding(_limit(node.positive, share), _limit(node.negative, share))
    if isinstance(node, qt.Not):
        return qt.Not(_limit(node.query, share))
    return node
