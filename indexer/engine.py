"""The seam between search behaviour and the engine that stores and matches documents.

:class:`indexer.index.SearchIndex` owns everything a user sees of search and is written once:
generations and their atomic switch, the write lock, which role sees which document, the glossary,
the ranking of items, paging, facets, highlights, ``verify`` and ``repair``. An **engine** only
keeps documents and answers queries over them. Two engines implement this protocol and must give
the same results for the same documents and queries:

* ``whoosh`` (:mod:`indexer.whoosh_engine`) — pure Python, the default;
* ``tantivy`` (:mod:`indexer.tantivy_engine`) — Rust, embedded, for large archives.

What an engine is given:

* **Documents** are the dicts of :func:`indexer.schema.item_documents` (one per item, one per
  transcript segment), with the fields of :func:`indexer.schema.make_schema`. Text fields hold
  raw text; the engine indexes the tokens :func:`indexer.analysis.analyze` makes of it (``stem``
  for every text field but ``speaker``; the tracks of ``body``/``title``/``description`` are
  joined by :data:`indexer.analysis.TRACK_SEPARATOR` and a phrase never spans it). The analysis is
  the project's, done once, never an engine's own.
* **Queries** are :mod:`indexer.query_tree` nodes, already analysed.
* **Roles**: ``role`` ``"public"`` or ``"members"`` restricts a search to documents whose
  ``visible_to`` holds it; ``None`` (staff) is every document. A document above the role is never
  matched, counted, scored or returned.

Names: an engine is chosen by name (:data:`ENGINE_NAMES`) and loaded with :func:`load_engine`, so
the tantivy package is imported only by archives that use it.
"""

from __future__ import annotations

import importlib
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from archive.core.errors import ConfigError

from .limits import SearchBudget
from .query_tree import Node
from .results import ItemMeta

__all__ = [
    "DEFAULT_ENGINE",
    "ENGINE_NAMES",
    "DocRef",
    "Engine",
    "EngineSnapshot",
    "EngineWriter",
    "load_engine",
]

DocRef = int  # a document's address inside one snapshot (not stable across snapshots)

DEFAULT_ENGINE = "whoosh"
# name -> "module:class"; the module is imported only when the engine is used.
_ENGINES = {
    "whoosh": "indexer.whoosh_engine:WhooshEngine",
    "tantivy": "indexer.tantivy_engine:TantivyEngine",
}
ENGINE_NAMES = tuple(_ENGINES)


class EngineSnapshot(Protocol):
    """One engine index as it was when opened: what searches read. Kept and shared by threads
    until :meth:`is_current` says the index changed."""

    version: str  # changes whenever the index changes: the key of caches built over a snapshot

    def is_current(self) -> bool:
        """Whether nothing was written to the index since this snapshot was opened."""
        ...

    def search(
        self, query: Node, *, role: str | None, limit: int, budget: SearchBudget | None = None
    ) -> tuple[list[tuple[float, DocRef]], bool]:
        """The best ``limit`` documents matching ``query`` that ``role`` may see, as
        ``(score, doc)`` best first (equal scores: lower doc first), and whether more documents
        matched than were returned.

        With ``budget``: a ``Prefix`` expands to at most its ``limit`` terms, the first in
        code-point order, noted with :meth:`~indexer.limits.SearchBudget.expanded_to`; the
        deadline is checked as often as the engine can (raising
        :class:`~archive.core.errors.SearchLimitError`)."""
        ...

    def matching(
        self, query: Node, docs: Sequence[DocRef], budget: SearchBudget | None = None
    ) -> set[DocRef]:
        """Which of ``docs`` match ``query`` (no role check: ``docs`` came from a search)."""
        ...

    def any_match(
        self, query: Node, *, role: str | None, budget: SearchBudget | None = None
    ) -> bool:
        """Whether any document ``role`` may see matches ``query``."""
        ...

    def value(self, name: str, doc: DocRef) -> str:
        """A one-valued field of a document, read fast: ``kind``, ``item_id``, ``lang``,
        ``speaker_facet`` or ``visibility`` (``""`` when the document has none)."""
        ...

    def values(self, name: str, docs: Sequence[DocRef]) -> list[str]:
        """:meth:`value` of many documents at once, in their order (one read per field: a search
        reads five fields of up to a thousand documents)."""
        ...

    def stored(self, doc: DocRef) -> dict[str, Any]:
        """The stored fields of a document (``uid``, ``start``, ``end``, ``text_zh``,
        ``text_en``, ``speaker``, ``lang`` …), as they were given."""
        ...

    def items(self) -> dict[str, ItemMeta]:
        """Every item document, by item id (the titles, facets and catalog state it holds)."""
        ...

    def segment_counts(self) -> Counter[str]:
        """How many segment documents each item has."""
        ...

    def doc_count(self) -> int: ...


class EngineWriter(Protocol):
    """One batch of changes; nothing is visible to a snapshot before :meth:`commit`."""

    def add(self, doc: dict[str, Any]) -> None: ...

    def delete_item(self, item_id: str) -> None:
        """Remove every document (item and segments) of ``item_id``."""
        ...

    def commit(self) -> None: ...

    def cancel(self) -> None: ...


class Engine(Protocol):
    """An index format: creates, writes and opens indexes in folders given by SearchIndex."""

    name: str

    def create(self, path: Path) -> None:
        """An empty index in the (new, empty) folder ``path``."""
        ...

    def writer(self, path: Path, *, bulk: bool = False) -> EngineWriter:
        """A writer of the index at ``path``; ``bulk`` for a rebuild (may use more memory and
        processes). Raises :class:`archive.core.errors.IndexError_` when the index is locked
        for longer than a one-item update takes."""
        ...

    def snapshot(self, path: Path, version: str) -> EngineSnapshot:
        """The index at ``path`` as it is now; ``version`` names the generation (the snapshot's
        own :attr:`~EngineSnapshot.version` adds what changed within it)."""
        ...


def load_engine(name: str) -> Engine:
    """The engine called ``name``; :class:`ConfigError` for an unknown name, and for a known
    one whose module is not part of this installation (a user asked for it: one plain line,
    never a traceback)."""
    try:
        module_name, class_name = _ENGINES[name].split(":")
    except KeyError:
        raise ConfigError(
            f"unknown search engine {name!r}: choose one of {', '.join(ENGINE_NAMES)}"
        ) from None
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise  # the engine is here but something it needs is not: a real fault
        raise ConfigError(
            f"the {name} search engine is not available in this installation"
        ) from None
    engine: Engine = getattr(module, class_name)()
    return engine
