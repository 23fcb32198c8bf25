"""The tantivy engine (:mod:`indexer.engine`): documents and queries in a tantivy index.

tantivy (PyPI ``tantivy``, Rust, embedded) scores and matches in compiled code; everything else
is the project's: the analysis (:mod:`indexer.tantivy_fields` feeds tantivy pre-tokenised text),
the query tree, generations, locks and ranking of items (:class:`indexer.index.SearchIndex`).
This module and :mod:`indexer.tantivy_fields` are imported only through
:func:`indexer.engine.load_engine`, so only archives that chose tantivy load it.

Promises, beyond the protocol:

* **A commit is visible to the next snapshot.** :meth:`TantivyEngine.snapshot` reloads the
  reader; :attr:`TantivySnapshot.version` is the generation plus a fingerprint of tantivy's
  ``meta.json`` (its opstamp and its segments with their deletions), so it changes with every
  commit and every merge (after which document addresses differ), and ``is_current`` compares it
  with the file on disk.
* **Document addresses.** A :data:`~indexer.engine.DocRef` is ``segment_ord << 32 | doc``: unique
  within a snapshot and in the order tantivy returns equal scores (lower segment, lower doc).
* **Writers.** tantivy keeps its own writer lock (a second writer cannot open); a writer waits up
  to :data:`WRITER_WAIT` seconds for it, then raises :class:`~archive.core.errors.IndexError_` with a
  plain message. ``bulk`` writers get more memory and up to two indexing threads.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import tantivy

from archive.core.errors import IndexError_

from .limits import SearchBudget
from .query_tree import Node
from .results import ItemMeta
from .schema import CatalogState
from .tantivy_fields import (
    STORED_JSON,
    VALUE_FIELDS,
    code_field,
    code_of,
    compile_query,
    make_tantivy_schema,
    role_filter,
    to_tantivy_document,
)

__all__ = ["TantivyEngine", "TantivySnapshot", "TantivyWriter", "WRITER_WAIT"]

WRITER_WAIT = 30.0  # seconds: a one-item update commits well within this
_UPDATE_HEAP = 50_000_000
_BULK_HEAP_PER_THREAD = 256_000_000
_SEGMENT_SHIFT = 32
_EXPANSIONS_KEPT = 4096  # prefix expansions remembered per snapshot


def _meta_fingerprint(path: Path) -> str:
    """A short fingerprint of the index's ``meta.json`` (opstamp, segments, deletions)."""
    try:
        data = (path / "meta.json").read_bytes()
    except OSError:
        return "missing"
    return hashlib.blake2b(data, digest_size=8).hexdigest()


def _address(doc: int) -> Any:
    return tantivy.DocAddress(doc >> _SEGMENT_SHIFT, doc & 0xFFFFFFFF)


def _ref(address: Any) -> int:
    return int(address.segment_ord) << _SEGMENT_SHIFT | int(address.doc)


class TantivyEngine:
    """Creates, writes and opens tantivy indexes. One instance serves any number of folders."""

    name = "tantivy"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._indexes: dict[str, Any] = {}  # folder -> tantivy.Index, reused by snapshots

    def create(self, path: Path) -> None:
        Path(path).mkdir(parents=True, exist_ok=True)
        try:
            tantivy.Index(make_tantivy_schema(), path=str(path), reuse=False)
        except (OSError, ValueError) as exc:
            raise IndexError_(f"cannot create a search index in {path}: {exc}") from exc

    def _index(self, path: Path) -> Any:
        key = str(Path(path).resolve())
        with self._lock:
            index = self._indexes.get(key)
            if index is None:
                try:
                    index = tantivy.Index.open(key)
                except (OSError, ValueError) as exc:
                    raise IndexError_(
                        f"the search index in {path} cannot be opened ({exc}); "
                        "run 'archive index rebuild'"
                    ) from exc
                # Generations removed since (a rebuild keeps only the last two): let them go.
                for gone in [k for k in self._indexes if not Path(k).is_dir()]:
                    del self._indexes[gone]
                self._indexes[key] = index
            return index

    def writer(self, path: Path, *, bulk: bool = False) -> TantivyWriter:
        index = self._index(path)
        if bulk:
            threads = max(1, min(2, os.cpu_count() or 1))
            heap = _BULK_HEAP_PER_THREAD * threads
        else:
            heap, threads = _UPDATE_HEAP, 1
        deadline = time.monotonic() + WRITER_WAIT
        delay = 0.01
        while True:
            try:
                return TantivyWriter(index.writer(heap_size=heap, num_threads=threads))
            except ValueError as exc:
                if "lock" not in str(exc).lower():
                    raise IndexError_(f"cannot write the search index in {path}: {exc}") from exc
                if time.monotonic() >= deadline:
                    raise IndexError_(
                        "the search index is being written by another process; "
                        "try again in a minute"
                    ) from None
            # Waiting for another process's writer: tantivy offers no blocking lock.
            time.sleep(delay)
            delay = min(delay * 2, 0.5)

    def snapshot(self, path: Path, version: str) -> TantivySnapshot:
        index = self._index(path)
        # The fingerprint is read before and after the reload: a commit between the two would
        # give a searcher newer than its version, so try again (a version must name one state).
        for _attempt in range(5):
            before = _meta_fingerprint(Path(path))
            try:
                index.reload()
                searcher = index.searcher()
            except (OSError, ValueError) as exc:  # its files were damaged or removed under it
                with self._lock:
                    self._indexes.pop(str(Path(path).resolve()), None)
                raise IndexError_(
                    f"the search index in {path} cannot be read ({exc}); "
                    "run 'archive index rebuild'"
                ) from exc
            if _meta_fingerprint(Path(path)) == before:
                break
        return TantivySnapshot(searcher, index.schema, Path(path), version, before)


class TantivyWriter:
    """One batch of changes to a tantivy index (see :class:`indexer.engine.EngineWriter`)."""

    def __init__(self, writer: Any) -> None:
        self._writer: Any | None = writer

    def add(self, doc: dict[str, Any]) -> None:
        self._open().add_document(to_tantivy_document(doc))

    def delete_item(self, item_id: str) -> None:
        self._open().delete_documents_by_term("item_id", item_id)

    def _open(self) -> Any:
        if self._writer is None:
            raise IndexError_("this index writer was already committed or cancelled")
        return self._writer

    def commit(self) -> None:
        writer = self._take()
        try:
            writer.commit()
            # Finishes merges and releases tantivy's writer lock.
            writer.wait_merging_threads()
        except (OSError, ValueError) as exc:
            raise IndexError_(f"the search index could not be written: {exc}") from exc

    def cancel(self) -> None:
        if self._writer is None:
            return
        writer = self._take()
        writer.rollback()
        writer.wait_merging_threads()

    def _take(self) -> Any:
        """The tantivy writer, for its last use: this object lets go of it (whatever happens
        next, the last reference goes and with it tantivy's writer lock)."""
        writer = self._writer
        if writer is None:
            raise IndexError_("this index writer was already committed or cancelled")
        self._writer = None
        return writer


class TantivySnapshot:
    """A tantivy searcher and what is derived from it once (see :class:`indexer.engine.EngineSnapshot`)."""

    def __init__(self, searcher: Any, schema: Any, path: Path, generation: str, meta: str) -> None:
        self._searcher = searcher
        self._schema = schema
        self._path = path
        self._meta = meta
        self.version = f"{generation}:{meta}"
        self._lock = threading.Lock()
        self._names: dict[str, dict[int, str]] = {}
        # The documents last read by values() and their addresses (see there).
        self._last_addresses: tuple[tuple[int, ...], list[Any]] | None = None
        self._items: dict[str, ItemMeta] | None = None
        self._segment_counts: Counter[str] | None = None
        self._expansions: dict[tuple[str, str], list[str]] = {}

    def is_current(self) -> bool:
        return _meta_fingerprint(self._path) == self._meta

    # ---- searching ---------------------------------------------------------------------------
    def _compile(self, query: Node, budget: SearchBudget | None = None) -> Any:
        def expand(field: str, prefix: str, limit: int) -> list[str]:
            terms = self._expand(field, prefix)
            if not limit:
                return terms
            if budget is not None:
                budget.expanded_to(prefix, min(len(terms), limit), limit, len(terms) > limit)
            return terms[:limit]  # the first in code-point order, as the Whoosh engine's

        if budget is not None:
            budget.check()
        return compile_query(query, self._schema, expand)

    def _expand(self, field: str, prefix: str) -> list[str]:
        """The indexed terms of ``field`` starting with ``prefix`` (remembered per snapshot)."""
        key = (field, prefix)
        terms = self._expansions.get(key)
        if terms is None:
            found = self._searcher.terms_with_prefix(field, prefix)
            terms = sorted(term for term, _count in found)
            with self._lock:
                if len(self._expansions) >= _EXPANSIONS_KEPT:
                    self._expansions.clear()
                self._expansions[key] = terms
        return terms

    def search(
        self,
        query: Node,
        *,
        role: str | None,
        limit: int,
        budget: SearchBudget | None = None,
    ) -> tuple[list[tuple[float, int]], bool]:
        if limit <= 0:
            return [], self.any_match(query, role=role, budget=budget)
        compiled = role_filter(self._compile(query, budget), role, self._schema)
        # One call into Rust: the deadline is looked at before (in _compile) and after it; the
        # limits of indexer.limits bound what the call can cost.
        result = self._searcher.search(compiled, limit=limit + 1, count=False)
        if budget is not None:
            budget.check()
        hits = [(float(score), _ref(address)) for score, address in result.hits]
        more = len(hits) > limit
        hits.sort(key=lambda pair: (-pair[0], pair[1]))
        return hits[:limit], more

    def matching(
        self, query: Node, docs: Sequence[int], budget: SearchBudget | None = None
    ) -> set[int]:
        if not docs:
            return set()
        wanted = set(docs)
        # Only the documents of the items of ``docs`` can be among them: restricting the query to
        # those items bounds the matches to read by the number of their documents.
        items = {self.value("item_id", doc) for doc in wanted}
        counts = self.segment_counts()
        bound = sum(counts.get(i, 0) + 1 for i in items)
        q = tantivy.Query
        restricted = q.boolean_query(
            [
                (tantivy.Occur.Must, self._compile(query, budget)),
                (
                    tantivy.Occur.Must,
                    q.term_set_query(self._schema, "item_id", sorted(items)),
                ),
            ]
        )
        result = self._searcher.search(restricted, limit=max(1, bound), count=False)
        if budget is not None:
            budget.check()
        return {ref for ref in (_ref(a) for _s, a in result.hits) if ref in wanted}

    def any_match(
        self, query: Node, *, role: str | None, budget: SearchBudget | None = None
    ) -> bool:
        compiled = role_filter(self._compile(query, budget), role, self._schema)
        found = bool(self._searcher.search(compiled, limit=1, count=False).hits)
        if budget is not None:
            budget.check()
        return found

    # ---- reading documents -------------------------------------------------------------------
    def value(self, name: str, doc: int) -> str:
        return self.values(name, [doc])[0]

    def values(self, name: str, docs: Sequence[int]) -> list[str]:
        if name not in VALUE_FIELDS:
            raise KeyError(f"{name!r} is not a field read by value(): {', '.join(VALUE_FIELDS)}")
        if not docs:
            return []
        # A search reads several fields of the same documents: make their addresses once.
        key = tuple(docs)
        cached = self._last_addresses
        if cached is None or cached[0] != key:
            cached = (key, [_address(d) for d in docs])
            self._last_addresses = cached
        codes = self._searcher.fast_field_values(code_field(name), cached[1])
        names = self._names_of(name)
        out = [names.get(code, "") if code else "" for code in codes]
        for i, code in enumerate(codes):
            if code and code not in names:  # a hash collision, or a value missing from the terms
                out[i] = str(self.stored(docs[i]).get(name, ""))
        return out

    def _names_of(self, name: str) -> dict[int, str]:
        """Code -> value of a keyword field, from its term dictionary (once per snapshot)."""
        names = self._names.get(name)
        if names is None:
            with self._lock:
                names = self._names.get(name)
                if names is None:
                    terms = self._searcher.terms_with_prefix(name, "")
                    names = {code_of(term): term for term, _count in terms}
                    self._names[name] = names
        return names

    def stored(self, doc: int) -> dict[str, Any]:
        document = self._searcher.doc(_address(doc))
        raw = document.get_first(STORED_JSON)
        stored: dict[str, Any] = json.loads(bytes(raw).decode("utf-8")) if raw else {}
        return stored

    def items(self) -> dict[str, ItemMeta]:
        if self._items is None:
            q = tantivy.Query.term_query(self._schema, "kind", "item")
            limit = max(1, self._searcher.doc_freq("kind", "item"))
            items: dict[str, ItemMeta] = {}
            for _score, address in self._searcher.search(q, limit=limit, count=False).hits:
                f = self.stored(_ref(address))
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

    def segment_counts(self) -> Counter[str]:
        if self._segment_counts is None:
            q = tantivy.Query.term_query(self._schema, "kind", "seg")
            # Counts of the item_id terms over the live segment documents (deleted ones are not
            # matched by the filter). Not a terms aggregation: that stops at 65,000 buckets.
            terms = self._searcher.terms_with_prefix("item_id", "", filter_query=q)
            self._segment_counts = Counter({term: int(n) for term, n in terms if n})
        return Counter(self._segment_counts)

    def doc_count(self) -> int:
        return int(self._searcher.num_docs)
