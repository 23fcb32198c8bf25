"""The search index: opening, searching, incremental updates, rebuilds and verification.

This module is the search behaviour every engine shares (:class:`SearchIndex`) and the worker's
nightly repair; it calls no engine's API, only the protocol of :mod:`indexer.engine`. Beside it:
:mod:`indexer.results` (the values a search returns, facets), :mod:`indexer.sync` (each item's
documents from the catalog; what differs between index and catalog), :mod:`indexer.locks` (the
writers' lock), :mod:`indexer.query` (the query language, as :mod:`indexer.query_tree` nodes) and
the engines: :mod:`indexer.whoosh_engine` (the default) and ``indexer.tantivy_engine``.

Layout of ``<home>/index``::

    CURRENT        the name of the generation readers use, replaced atomically (write + rename)
    gen-<stamp>/   a complete engine index (one generation); a rebuild writes a new one beside it
    gen-<stamp>/ENGINE   the engine that wrote it ("whoosh", "tantivy"; none: Whoosh, as before)
    gen-<stamp>/role-public/, role-members/   the same engine's index of only what that role may
                   read, so its ranking statistics are its own (:mod:`indexer.role_indexes`)
    write.lock     held (flock) by whichever process is writing: writers queue, readers never look

Which engine: a new index uses ``ARCHIVE_SEARCH_ENGINE`` (default whoosh); from then on the
engine recorded in the current generation wins, and ``rebuild(engine=...)`` (``archive index
rebuild --engine``) writes a new generation with another one. Its ``ENGINE`` file is written
before ``CURRENT`` names it, so the switch of engine is the same atomic rename as any rebuild.

Why it is safe:

* **Readers never see half an index.** An engine commits a batch all at once (Whoosh writes a
  segment's files before the table of contents that names them), so a reader opens either the
  previous commit or the new one. A rebuild writes a whole new generation and then renames
  ``CURRENT``; readers switch on their next search.
* **Readers never get a lock error.** Only writers lock. Writers (``update_item``,
  ``remove_item``, the swap at the end of ``rebuild``) serialise on ``write.lock`` with
  ``fcntl.flock``, so a second writer waits instead of raising the engine's lock error; the
  kernel releases the lock when a process dies, so a crash never leaves a stale lock.
* **A crash is detectable.** One item is replaced in one commit (its old documents deleted and its
  new ones added together), and the item document records the catalog state it was built from
  (revision, visibility, redactions, details, segment count). If the catalog changed and indexing
  crashed before the commit, ``verify`` sees the difference; ``rebuild`` repairs it (and
  ``update_item`` for that one item).

Roles and limits: a search reads its role's own index (:mod:`indexer.role_indexes`), so what a
role may not read never weighs on its order; its work is bounded before and while it runs
(:mod:`indexer.limits`: words, prefix expansions, a deadline, expensive searches at once).

Performance choices here: each word is looked for in one ``body`` field for segments and, in a
second small search, in the item fields; only the best ``MAX_SCORED`` documents are scored; the
preferred phrase of several English words is checked on those best documents only
(``_raise_phrases``); snapshots are reopened only when the index changed, and ranked lists are
kept per snapshot version for paging. The engines' own choices are in their modules.

Measured (Whoosh engine) with ``bench/search.py --hours 1000`` (700,000 segments with both
tracks, 1,000 items) on the shared 2-core machine (load average 5-12 from other work, benchmark
under ``nice``): index 443 MB; full rebuild 2,497 s wall = 281 docs/s (about 18.5 CPU-minutes:
two writer processes of 8.7 min each, plus reading the catalog); one-hour item (700 segments)
update 1.2 s (1.16 s CPU), 2.1 s until the next search sees it; search CPU time p50 133 ms, p95
760 ms with glossary expansion (p95 451 ms without), wall p50 151 ms, p95 928 ms; tantivy on the
same corpus and queries p50 1.4 ms, p95 6.9 ms. Whoosh misses the 150 ms p95 target by about 5x
on this corpus: its matching is pure Python, about a microsecond per posting, and the synthetic
vocabulary is small, so a common word is in a tenth of all segments. After incremental updates,
segments carrying deleted documents make every search about 1.5x slower (Whoosh filters each
posting list against the deletions) until the next ``archive index rebuild``; schedule one nightly.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import shutil
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from archive.catalog.audit import write_audit
from archive.catalog.db import Catalog
from archive.core.config import Settings
from archive.core.errors import IndexError_, InputError
from archive.core.filemodes import private_dir, private_opener, tighten_tree
from archive.core.plugins import PeriodicTask

from . import query_tree as qt
from .engine import DEFAULT_ENGINE, DocRef, Engine, EngineSnapshot, EngineWriter, load_engine
from .glossary import load_glossary
from .glossary_access import glossary_for_viewer
from .highlight import highlight_html
from .limits import EXPENSIVE, MAX_EXPANDED_TERMS, SearchBudget, bound_prefixes, is_expensive
from .locks import file_lock
from .query import PHRASE_BOOST, ParsedQuery, filter_queries, parse_query
from .results import (
    Hit,
    ItemGroup,
    ItemMeta,
    SearchFilters,
    SearchResults,
    VerifyProblem,
    empty_facets,
    facet_counts,
    join_notes,
    permalink,
)
from .role_indexes import (
    LEGACY_PROBLEM,
    ROLE_FOLDERS,
    WRITE_ORDER,
    docs_for_role,
    is_layered,
    role_drift,
    role_path,
)
from .schema import ITEM_FIELDS, ROLES, SEGMENT_FIELDS, CatalogState
from .sync import compare_with_catalog, documents_for

__all__ = ["NIGHTLY_REPAIR", "SearchIndex", "periodic_repair", "search"]

HITS_PER_ITEM = 3
WRITE_LOCK_TIMEOUT = 120.0  # a one-item update takes under a second; a swap a few seconds
MAX_PER_PAGE = 100
MAX_SCORED = 1000
RANKED_CACHE = 32  # ranked lists kept per index version, for paging
BULK_ITEMS = 200  # a rebuild of more items than this may use the engine's bulk writer
ENGINE_FILE = "ENGINE"  # in each generation folder: the engine that wrote it
# In each generation folder: the version of the documents' fields it was written with. 2 added
# speaker_key (speaker: by the whole name, however it is typed). A generation without the file
# is version 1: it is searched and written as it is (a field it lacks matches nothing), and
# verify reports it, so the nightly repair (or `archive index repair`) rebuilds it.
FIELDS_FILE = "FIELDS"
FIELDS_VERSION = 2
FIELDS_PROBLEM = (
    "the search index was written before speaker names were indexed as a whole "
    "(speaker: however the name is typed); it is rebuilt"
)


# -- the index --------------------------------------------------------------------------------
_OPEN: dict[str, SearchIndex] = {}
_OPEN_LOCK = threading.Lock()

# The ranked lists of one snapshot version: (best documents, exact, at least this many, terms
# the prefixes expanded to, the prefixes that matched more terms than were searched).
Ranked = tuple[list[tuple[float, DocRef]], bool, int, int, tuple[str, ...]]


class SearchIndex:
    """The archive's search index. Obtain with :meth:`open`; safe to share between threads."""

    def __init__(
        self, root: Path, home: Path | None = None, default_engine: str = DEFAULT_ENGINE
    ) -> None:
        self.root = Path(root)
        self.home = home
        self.default_engine = default_engine  # for a new index only: a recorded choice wins
        self._lock = threading.RLock()
        self._engines: dict[str, Engine] = {}
        # role -> (generation, snapshot of that role's index)
        self._snapshots: dict[str, tuple[str, EngineSnapshot]] = {}
        self._ranked: dict[Any, Ranked] = {}  # (snapshot version, search) -> ranked list

    # ---- opening -------------------------------------------------------------------------------
    @classmethod
    def open(cls, settings: Settings) -> SearchIndex:
        """The index of ``settings.home`` (created empty when missing); cached per folder."""
        root = Path(settings.index_dir)
        key = str(root.resolve())
        with _OPEN_LOCK:
            index = _OPEN.get(key)
            if index is None:
                index = cls(root, Path(settings.home), settings.search_engine)
                _OPEN[key] = index
            else:
                index.default_engine = settings.search_engine
        index._ensure()
        return index

    @property
    def _current_file(self) -> Path:
        return self.root / "CURRENT"

    @property
    def _write_lock_file(self) -> Path:
        return self.root / "write.lock"

    def _write_lock(self) -> contextlib.AbstractContextManager[None]:
        return file_lock(self._write_lock_file, WRITE_LOCK_TIMEOUT, "writing the search index")

    def current_generation(self) -> str | None:
        try:
            name = self._current_file.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return name if name and (self.root / name).is_dir() else None

    def engine_name(self, generation: str | None = None) -> str:
        """The engine of ``generation`` (default: the current one), as recorded in its folder.

        A generation written before engines could be chosen records none: it is Whoosh's. With
        no index yet, the archive's setting (``ARCHIVE_SEARCH_ENGINE``).
        """
        generation = generation or self.current_generation()
        if generation is None:
            return self.default_engine
        try:
            name = (self.root / generation / ENGINE_FILE).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return DEFAULT_ENGINE
        return name or DEFAULT_ENGINE

    def _engine(self, name: str) -> Engine:
        """One engine object per name and index (engines keep caches that outlive snapshots);
        :class:`~archive.core.errors.ConfigError` for an engine this installation lacks."""
        with self._lock:
            engine = self._engines.get(name)
            if engine is None:
                engine = self._engines[name] = load_engine(name)
            return engine

    def _ensure(self) -> None:
        if self.current_generation() is not None:
            return
        with self._write_lock():
            if self.current_generation() is not None:
                return
            engine = self._engine(self.default_engine)
            name = self._new_generation_name()
            path = self.root / name
            private_dir(self.root)
            private_dir(path)
            _create_layered(engine, path)
            _record_engine(path, engine.name)
            _record_fields(path)
            tighten_tree(path)
            self._set_current(name)

    def _new_generation_name(self) -> str:
        return f"gen-{time.time_ns():020d}-{os.getpid()}"

    def _set_current(self, name: str) -> None:
        tmp = self.root / f"CURRENT.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8", opener=private_opener) as fh:
            fh.write(name + "\n")
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, self._current_file)

    def _view_now(self, role: str = "staff") -> EngineSnapshot:
        """The current snapshot of ``role``'s index, opened again if it changed since the last
        call (staff: the whole index)."""
        with self._lock:
            generation = self.current_generation()
            if generation is None:
                self._ensure()
                generation = self.current_generation()
            assert generation is not None
            path = role_path(self.root / generation, role)
            kept = self._snapshots.get(role)
            if kept is not None and kept[0] == generation and kept[1].is_current():
                return kept[1]
            engine = self._engine(self.engine_name(generation))
            label = generation if path.name == generation else f"{generation}/{path.name}"
            snapshot = engine.snapshot(path, label)
            self._snapshots[role] = (generation, snapshot)
            return snapshot

    # ---- writing -------------------------------------------------------------------------------
    def update_item(self, catalog: Catalog, item_id: str) -> int:
        """Re-index one item from the catalog (removing it if it is gone); returns documents written."""
        with self._write_lock():
            docs = documents_for(catalog, item_id)
            return self._replace_locked(item_id, docs)

    def remove_item(self, item_id: str) -> None:
        with self._write_lock():
            self._replace_locked(item_id, None)

    def _writer(self, role: str = "staff") -> EngineWriter:
        """A writer of ``role``'s index in the current generation (callers hold the write lock)."""
        generation = self.current_generation()
        if generation is None:
            raise IndexError_("the search index has not been created; run 'archive index rebuild'")
        engine = self._engine(self.engine_name(generation))
        return engine.writer(role_path(self.root / generation, role))

    def _role_paths(self, generation: Path) -> list[tuple[str, Path]]:
        """(role, index folder) of a generation in commit order; an older generation has one."""
        if not is_layered(generation):
            return [("staff", generation)]
        return [(role, role_path(generation, role)) for role in WRITE_ORDER]

    def _replace_locked(self, item_id: str, docs: list[dict[str, Any]] | None) -> int:
        """Replace one item's documents in every role's index of the current generation, the
        most restricted first (callers hold the write lock; see :mod:`indexer.role_indexes`)."""
        generation = self.current_generation()
        if generation is None:
            raise IndexError_("the search index has not been created; run 'archive index rebuild'")
        engine = self._engine(self.engine_name(generation))
        for role, path in self._role_paths(self.root / generation):
            writer = engine.writer(path)
            try:
                writer.delete_item(item_id)
                for doc in docs_for_role(docs or (), role):
                    writer.add(doc)
            except BaseException:
                writer.cancel()
                raise
            writer.commit()
        # The engine writes its files with the process's umask; the index folder is 0700, so
        # nobody else could open them meanwhile, and they are narrowed to 0600 here.
        tighten_tree(self.root / generation)
        return len(docs or ())

    def rebuild(
        self,
        catalog: Catalog,
        progress: Callable[[int, int], None] | None = None,
        engine: str | None = None,
    ) -> int:
        """Index every catalog item into a new generation, then switch readers to it atomically.

        ``engine`` names the engine of the new generation (default: the index's recorded one);
        a rebuild is how an archive changes engines. Updates made while the rebuild runs go to
        the old generation; after the switch, any item whose catalog state differs from the new
        generation is re-indexed, so none is lost. Returns the number of documents indexed.
        """
        chosen = self._engine(engine or self.engine_name())  # ConfigError before any work
        rebuild_lock = self.root / "rebuild.lock"
        with file_lock(rebuild_lock, 0.0, "rebuilding the search index"):
            name = self._new_generation_name()
            path = self.root / name
            private_dir(self.root)
            private_dir(path)
            count = 0
            try:
                _create_layered(chosen, path)
                ids = catalog.item_ids()
                bulk = len(ids) > BULK_ITEMS
                writers = [
                    (role, chosen.writer(where, bulk=bulk))
                    for role, where in self._role_paths(path)
                ]
                try:
                    for done, item_id in enumerate(ids, start=1):
                        docs = documents_for(catalog, item_id) or []
                        for role, writer in writers:
                            for doc in docs_for_role(docs, role):
                                writer.add(doc)
                        count += len(docs)
                        if progress is not None:
                            progress(done, len(ids))
                except BaseException:
                    for _role, writer in writers:
                        writer.cancel()
                    raise
                for _role, writer in writers:  # the most restricted first, staff last
                    writer.commit()
                # Recorded before the switch: CURRENT never names a generation without its engine.
                _record_engine(path, chosen.name)
                _record_fields(path)
                tighten_tree(path)
            except BaseException:
                shutil.rmtree(path, ignore_errors=True)
                raise
            with self._write_lock():
                previous = self.current_generation()
                self._set_current(name)
                # Catch up with changes made while the new generation was being written.
                problems = compare_with_catalog(catalog, *self._indexed(self._view_now()))
                for item_id in dict.fromkeys(p.item_id for p in problems if p.item_id):
                    self._replace_locked(item_id, documents_for(catalog, item_id))
                self._remove_old_generations(keep={name, previous})
            return count

    def _remove_old_generations(self, keep: set[str | None]) -> None:
        # The previous generation is kept: a reader that opened it just before the switch may
        # still be reading it. Anything older (or left by a crashed rebuild) goes.
        for child in self.root.iterdir():
            if child.is_dir() and child.name.startswith("gen-") and child.name not in keep:
                shutil.rmtree(child, ignore_errors=True)

    # ---- verification ---------------------------------------------------------------------------
    def verify(self, catalog: Catalog) -> list[VerifyProblem]:
        """Every item whose indexed state differs from the catalog, in plain words."""
        try:
            snapshot = self._view_now()
            generation = self.current_generation()
            if generation is None or not is_layered(self.root / generation):
                return [VerifyProblem("", LEGACY_PROBLEM)]
            if fields_version(self.root / generation) < FIELDS_VERSION:
                return [VerifyProblem("", FIELDS_PROBLEM)]
            roles = {role: self._view_now(role) for role in ROLE_FOLDERS}
        except IndexError_ as exc:
            return [VerifyProblem("", str(exc))]
        problems = compare_with_catalog(catalog, *self._indexed(snapshot))
        seen = {p.item_id for p in problems}
        return problems + [p for p in role_drift(snapshot, roles) if p.item_id not in seen]

    def repair(self, catalog: Catalog) -> list[VerifyProblem]:
        """Bring the index back in step with the catalog; returns what was wrong (empty: nothing).

        Items that differ are re-indexed one by one (an interrupted update, an edit made while
        the index could not be written); an index that cannot be read at all is rebuilt. The
        worker runs this every night, so a drift is mended without anyone watching.
        """
        problems = self.verify(catalog)
        if not problems:
            return []
        if any(not p.item_id for p in problems):
            self.rebuild(catalog)
            return problems
        for item_id in dict.fromkeys(p.item_id for p in problems):
            self.update_item(catalog, item_id)
        return problems

    @staticmethod
    def _indexed(
        snapshot: EngineSnapshot,
    ) -> tuple[dict[str, CatalogState | None], Counter[str]]:
        """(catalog state of each indexed item, segment documents per item) of a snapshot."""
        indexed = {item_id: meta.state for item_id, meta in snapshot.items().items()}
        return indexed, snapshot.segment_counts()

    # ---- searching -----------------------------------------------------------------------------
    def search(
        self,
        query: str,
        *,
        role: str = "public",
        filters: SearchFilters | None = None,
        page: int = 1,
        per_page: int = 10,
        hits_per_item: int = HITS_PER_ITEM,
        expand: bool = True,
        deadline: float | None = None,
    ) -> SearchResults:
        """Search as a viewer of ``role``; never raises for any query text, only for the work
        it would take (:mod:`indexer.limits`).

        ``expand=False`` searches the words as typed, without the glossary's other-language
        forms (a "these words only" choice for the portal; also used by the benchmark).
        ``deadline`` is in seconds (default :data:`indexer.limits.SEARCH_DEADLINE`): past it the
        search stops and raises :class:`~archive.core.errors.SearchLimitError`, as it does at
        once when too many expensive searches already run in this process.
        """
        if role not in ROLES:
            raise InputError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        filters = filters or SearchFilters()
        page = max(1, int(page))
        per_page = max(1, min(MAX_PER_PAGE, int(per_page)))
        extra, filter_notes = filter_queries(
            collection=filters.collection,
            year=filters.year,
            lang=filters.lang,
            speaker=filters.speaker,
        )
        budget = SearchBudget(deadline)
        # Whether it is expensive is known from the words as typed (the glossary adds no
        # prefix); a refused search (too many words) is cheap: nothing of it runs.
        typed = parse_query(query, None, extra, fields=SEGMENT_FIELDS)
        with EXPENSIVE.slot(is_expensive(typed.query)):
            return self._search(
                query, role, filters, extra, filter_notes, page, per_page, hits_per_item,
                expand, budget,
            )  # fmt: skip

    def _search(
        self,
        query: str,
        role: str,
        filters: SearchFilters,
        extra: list[qt.Node],
        filter_notes: list[str],
        page: int,
        per_page: int,
        hits_per_item: int,
        expand: bool,
        budget: SearchBudget,
    ) -> SearchResults:
        glossary = load_glossary(self.home) if expand else None
        # The role's own index: every statistic a score is made of comes from what it may read.
        snapshot = self._view_now(role)
        viewer = None if role == "staff" else role  # the engine's role: None sees everything
        if glossary is not None and viewer is not None:
            # Below staff, a form from the data folder's own glossary is used (and named under
            # "Also searched") only where it occurs in text this role may read.
            glossary = glossary_for_viewer(
                glossary,
                query,
                extra,
                SEGMENT_FIELDS,
                occurs=lambda key: snapshot.any_match(_anywhere(key), role=viewer, budget=budget),
            )
        # Two queries from one reading of the text: transcript segments (their one ``body``
        # field) and item documents (titles, descriptions, speakers, tags). Looking for each word
        # in one field instead of five keeps the big search's matcher tree narrow; the item
        # search is over a few thousand small documents and costs next to nothing.
        parsed = parse_query(query, glossary, extra, fields=SEGMENT_FIELDS, defer_boosts=True)
        notice = join_notes(parsed.notice, filter_notes)
        empty = SearchResults(
            query, notice, list(parsed.expansions), 0, 0, page, 0, [], empty_facets(), role
        )
        if parsed.query is None:
            return replace(empty, limited="too_many_words") if parsed.refused else empty
        if parsed.filters_only:
            queries = [parsed.query]
        else:
            item_query = parse_query(query, glossary, extra, fields=ITEM_FIELDS).query
            queries = [parsed.query] + ([item_query] if item_query is not None else [])
        # Half of the search's prefix expansions for the segments, half for the item documents.
        queries = [bound_prefixes(q, MAX_EXPANDED_TERMS // 2) for q in queries]
        # Score only the best MAX_SCORED documents of each: grouping and facets stay bounded
        # for a word found in 100,000 segments. Below that (nearly every real query) counts and
        # facets are exact; above it they cover the best MAX_SCORED segments, ``exact`` is False.
        # The role restriction is applied by the engine while it matches: documents above the
        # role never reach the collector, so they are never returned, counted or highlighted.
        # Paging through results repeats the same search: keep the last few ranked lists for
        # the current snapshot version (a new version means an empty cache).
        key = (query, role, filters, expand)
        cached = self._ranked_list(snapshot.version, key)
        if cached is None:
            top: list[tuple[float, DocRef]] = []
            exact = True
            at_least = 0
            for n, q in enumerate(queries):
                found, more = snapshot.search(q, role=viewer, limit=MAX_SCORED, budget=budget)
                if n == 0 and parsed.boosts:
                    found = _raise_phrases(snapshot, found, parsed.boosts, budget)
                top.extend(found)
                if more:
                    exact = False
                    at_least += len(found)
            top.sort(key=lambda pair: (-pair[0], pair[1]))
            cached = (top, exact, at_least, budget.expanded, tuple(budget.truncated))
            self._keep_ranked(snapshot.version, key, cached)
        top, exact, at_least, expanded, truncated = cached
        if truncated:
            # Not named: a prefix is held folded (a Traditional character as its Simplified form).
            notice = join_notes(
                notice,
                [
                    f"{len(truncated)} of the word beginnings matched more words than one search "
                    "may look for; only the first of them were searched (type whole words)"
                ],
            )
        budget.check()
        out = self._assemble(snapshot, parsed, top, role, page, per_page, hits_per_item, notice)
        out = replace(out, expanded_terms=expanded, limited="prefixes_cut" if truncated else "")
        if exact:
            return out
        return replace(out, total_hits=max(out.total_hits, at_least), exact=False)

    def _ranked_list(self, version: str, key: Any) -> Ranked | None:
        with self._lock:
            return self._ranked.get((version, key))

    def _keep_ranked(self, version: str, key: Any, ranked: Ranked) -> None:
        # Keyed by the snapshot version of the role's index: a change to that index means a new
        # version, so a stale list is never read again (and is the first to be pushed out).
        with self._lock:
            if len(self._ranked) >= RANKED_CACHE:
                self._ranked.pop(next(iter(self._ranked)))
            self._ranked[(version, key)] = ranked

    def _assemble(
        self,
        snapshot: EngineSnapshot,
        parsed: ParsedQuery,
        top: list[tuple[float, DocRef]],
        role: str,
        page: int,
        per_page: int,
        hits_per_item: int,
        notice: str | None,
    ) -> SearchResults:
        items = snapshot.items()
        docs = [doc for _score, doc in top]
        # Five batch reads instead of five reads a document (tantivy: one call each).
        visibilities, item_ids, kinds, doc_langs, doc_speakers = (
            snapshot.values(name, docs)
            for name in ("visibility", "item_id", "kind", "lang", "speaker_facet")
        )
        best: dict[str, float] = {}
        seg_docs: dict[str, list[tuple[float, int]]] = defaultdict(list)
        item_doc: dict[str, tuple[float, int]] = {}
        langs: dict[str, set[str]] = defaultdict(set)
        speakers: dict[str, set[str]] = defaultdict(set)
        total_hits = 0
        may_see = set(ROLES[: ROLES.index(role) + 1])
        for (score, docnum), visibility, item_id, kind, lang, speaker in zip(
            top, visibilities, item_ids, kinds, doc_langs, doc_speakers, strict=True
        ):  # best first
            if (visibility or "staff") not in may_see:
                continue  # cannot happen (the filter excludes it); a second lock on the door
            if item_id not in best:
                best[item_id] = score
            if kind == "seg":
                total_hits += 1
                seg_docs[item_id].append((score, docnum))
                if lang:
                    langs[item_id].add(lang)
                if speaker:
                    speakers[item_id].add(speaker)
            else:
                item_doc[item_id] = (score, docnum)
                meta = items.get(item_id)
                if meta is not None:
                    if meta.lang:
                        langs[item_id].add(meta.lang)
                    speakers[item_id].update(meta.speakers)
        # An item ranks by its best document, nudged up by further matching segments (a talk
        # that keeps returning to the subject beats one passing mention of equal strength).
        scored = {
            item_id: score * (1.0 + 0.1 * math.log1p(max(0, len(seg_docs.get(item_id, ())) - 1)))
            for item_id, score in best.items()
        }
        order = sorted(scored, key=lambda i: (-scored[i], i))
        pages = max(1, math.ceil(len(order) / per_page)) if order else 0
        groups: list[ItemGroup] = []
        spec = parsed.highlight
        for item_id in order[(page - 1) * per_page : page * per_page]:
            meta = items.get(item_id) or ItemMeta("", "", "", None, "", (), None)
            hits: list[Hit] = []
            for score, docnum in seg_docs.get(item_id, [])[:hits_per_item]:
                f = snapshot.stored(docnum)
                start = float(f.get("start") or 0.0)
                text_zh = f.get("text_zh", "")
                text_en = f.get("text_en", "")
                hits.append(
                    Hit(
                        item_id=item_id,
                        start=start,
                        end=float(f.get("end") or start),
                        text_zh=text_zh,
                        text_en=text_en,
                        lang=f.get("lang", ""),
                        title_zh=meta.title_zh,
                        title_en=meta.title_en,
                        permalink=permalink(item_id, start),
                        score=round(score, 4),
                        highlights={
                            "zh": highlight_html(text_zh, spec),
                            "en": highlight_html(text_en, spec),
                        },
                        speaker=f.get("speaker", ""),
                        uid=f.get("uid", ""),
                    )
                )
            title_highlight = None
            if item_id in item_doc:
                title_highlight = {
                    "zh": highlight_html(meta.title_zh, spec),
                    "en": highlight_html(meta.title_en, spec),
                }
            groups.append(
                ItemGroup(
                    item_id=item_id,
                    title_zh=meta.title_zh,
                    title_en=meta.title_en,
                    collection=meta.collection,
                    year=meta.year,
                    score=round(scored[item_id], 4),
                    hits=hits,
                    title_highlight=title_highlight,
                    hit_count=len(seg_docs.get(item_id, ())),
                    permalink=f"?item={item_id}",
                )
            )
        facets = facet_counts(order, items, langs, speakers)
        return SearchResults(
            parsed.text,
            notice,
            list(parsed.expansions),
            len(order),
            total_hits,
            page,
            pages,
            groups,
            facets,
            role,
        )

    def doc_count(self) -> int:
        return self._view_now().doc_count()


def _anywhere(key: tuple[str, ...]) -> qt.Node:
    """The token sequence ``key`` in any field of a segment or an item document."""
    fields = sorted({*SEGMENT_FIELDS, *ITEM_FIELDS})
    if len(key) == 1:
        return qt.Or(tuple(qt.Term(f, key[0]) for f in fields))
    return qt.Or(tuple(qt.Phrase(f, key) for f in fields))


def _raise_phrases(
    snapshot: EngineSnapshot,
    ranked: list[tuple[float, DocRef]],
    boosts: tuple[qt.Node, ...],
    budget: SearchBudget | None = None,
) -> list[tuple[float, DocRef]]:
    """The best matches, with those holding a preferred phrase scored ``1 + PHRASE_BOOST`` times.

    Inside the query (``AndMaybe``) the phrase would add about as much again as its words score,
    PHRASE_BOOST times, but at the cost of reading positions at every match; here they are
    checked for the few hundred best documents only.
    """
    if not ranked:
        return ranked
    docs = [doc for _score, doc in ranked]
    found: set[DocRef] = set()
    for boost in boosts:
        found |= snapshot.matching(boost, docs, budget)
    factor = 1.0 + PHRASE_BOOST
    return [(score * factor if doc in found else score, doc) for score, doc in ranked]


def _create_layered(engine: Engine, path: Path) -> None:
    """A new generation folder (owner-only) with an empty index for staff and one per lower role."""
    private_dir(path)
    engine.create(path)
    for folder in ROLE_FOLDERS.values():
        private_dir(path / folder)
        engine.create(path / folder)


def fields_version(generation: Path) -> int:
    """The version of the fields ``generation`` was written with (:data:`FIELDS_VERSION`); 1 for
    a generation written before it was recorded."""
    try:
        return int((generation / FIELDS_FILE).read_text(encoding="utf-8").strip() or 1)
    except (FileNotFoundError, ValueError):
        return 1


def _record_fields(path: Path) -> None:
    target = path / FIELDS_FILE
    target.write_text(f"{FIELDS_VERSION}\n", encoding="utf-8")
    with open(target, "rb") as fh:
        os.fsync(fh.fileno())


def _record_engine(path: Path, name: str) -> None:
    """Write which engine a generation folder holds (read by :meth:`SearchIndex.engine_name`)."""
    target = path / ENGINE_FILE
    target.write_text(name + "\n", encoding="utf-8")
    with open(target, "rb") as fh:
        os.fsync(fh.fileno())


def periodic_repair(settings: Settings, catalog: Catalog) -> None:
    """The worker's nightly check (``archive.jobs.queue.PERIODIC_TASKS``): repair, and say what was fixed."""
    problems = SearchIndex.open(settings).repair(catalog)
    if problems:
        text = "; ".join(f"{p.item_id or '(index)'}: {p.problem}" for p in problems)
        logging.getLogger("indexer").warning("search index repaired: %s", text)
        with catalog.transaction() as conn:  # staff see it in the audit log
            write_audit(conn, actor="system:index", action="index.repair", new_value=text)


def search(settings: Settings, query: str, **kwargs: Any) -> SearchResults:
    """``SearchIndex.open(settings).search(query, **kwargs)``."""
    return SearchIndex.open(settings).search(query, **kwargs)


# Nightly at 04:00, the worker repairs what drifted between the catalog and the index.
NIGHTLY_REPAIR = PeriodicTask("archive.index", {"hour": "4", "minute": "0"}, periodic_repair)
