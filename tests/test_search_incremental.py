"""Keeping the index in step: incremental updates, verify, rebuild, crashes and concurrent writers."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import pytest
from conftest import insert_segment_redaction
from search_corpus import Archive, make_archive

from indexer import SearchIndex
from transcripts.segments import Segment


def _doc_counts(archive: Archive) -> dict[str, int]:
    snapshot = archive.index._view_now()
    counts: dict[str, int] = dict(snapshot.segment_counts())
    for item_id in snapshot.items():  # each item's own document
        counts[item_id] = counts.get(item_id, 0) + 1
    return counts


def _segments_of(archive: Archive, key: str) -> list[Segment]:
    return list(archive.catalog.get_revision(archive.built.ids[key]).segments)


@pytest.fixture
def archive(tmp_path: Path, engine: str) -> Archive:
    return make_archive(tmp_path / "home", keys=["dock", "bar", "anniv"], engine=engine)


def test_transcript_edit_updates_that_item_only(archive: Archive) -> None:
    before = _doc_counts(archive)
    dock = archive.built.ids["dock"]
    segments = _segments_of(archive, "dock")
    segments[1] = segments[1].with_(
        text_en="Workers at the terminal demanded a pangolin allowance."
    )
    archive.catalog.add_revision(dock, segments, origin="edit")
    assert archive.index.verify(archive.catalog)  # stale until indexed
    archive.index.update_item(archive.catalog, dock)
    assert "dock-02" in archive.uids("pangolin")
    assert "dock-02" not in archive.uids('"container terminal"')
    assert _doc_counts(archive) == before
    assert archive.index.verify(archive.catalog) == []


def test_new_item_is_indexed_incrementally(archive: Archive) -> None:
    item = archive.catalog.create_item(title_en="Cleaners' union AGM", visibility="public")
    archive.catalog.add_revision(
        item.id,
        [Segment(0, 5, "外判清潔工會員大會。", "The outsourced cleaners' AGM.", "zh", uid="agm")],
        origin="whisper",
    )
    assert "agm" not in archive.uids("AGM")
    assert archive.index.update_item(archive.catalog, item.id) == 2
    assert "agm" in archive.uids("AGM")
    assert archive.index.verify(archive.catalog) == []


def test_removed_item_disappears(archive: Archive) -> None:
    bar = archive.built.ids["bar"]
    archive.catalog.delete_item(bar)
    problems = archive.index.verify(archive.catalog)
    assert [(p.item_id, p.problem) for p in problems] == [
        (bar, "in the search index but no longer in the catalog")
    ]
    archive.index.update_item(archive.catalog, bar)  # gone from the catalog: removed
    assert archive.items("bar-benders") == set()
    assert archive.index.verify(archive.catalog) == []


def test_redaction_detected_and_applied(archive: Archive) -> None:
    dock = archive.built.ids["dock"]
    with archive.catalog.transaction() as conn:
        insert_segment_redaction(conn, dock, "dock-07", created_by="staff")
    assert [p.problem for p in archive.index.verify(archive.catalog)] == [
        "its redactions changed since it was indexed"
    ]
    assert "dock-07" in archive.uids("machines")
    archive.index.update_item(archive.catalog, dock)
    assert "dock-07" not in archive.uids("machines", role="members")
    assert "dock-07" in archive.uids("machines", role="staff")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"visibility": "members"}, "indexed as visible to public, the catalog says members"),
        (
            {"title_en": "A new title"},
            "its title, description or other details changed since it was indexed",
        ),
    ],
)
def test_verify_reports_catalog_changes(archive: Archive, change: dict, expected: str) -> None:
    bar = archive.built.ids["bar"]
    archive.catalog.update_item(bar, **change)
    problems = archive.index.verify(archive.catalog)
    assert [(p.item_id, p.problem) for p in problems] == [(bar, expected)]
    archive.index.update_item(archive.catalog, bar)
    assert archive.index.verify(archive.catalog) == []


def test_verify_reports_revision_difference(archive: Archive) -> None:
    bar = archive.built.ids["bar"]
    archive.catalog.add_revision(bar, _segments_of(archive, "bar")[:2], origin="edit")
    problems = {p.problem for p in archive.index.verify(archive.catalog)}
    assert "indexed transcript revision 1, the catalog has revision 2" in problems
    assert "4 of its 2 transcript segments are in the search index" in problems


# -- crashes -------------------------------------------------------------------------------


def _crash_while_indexing(home: str, item_id: str) -> None:
    """Child process: start re-indexing one item and die before the commit."""
    from archive.catalog.db import Catalog
    from archive.core.config import load_settings
    from indexer.sync import documents_for as _documents_for

    settings = load_settings(home)
    catalog = Catalog.open(settings)
    index = SearchIndex.open(settings)
    writer = index._writer()
    writer.delete_item(item_id)
    for doc in (_documents_for(catalog, item_id) or [])[:3]:  # half-way through the item
        writer.add(doc)
    os._exit(9)  # killed: no commit, no cleanup, locks held by a dead process


def _crash_during_rebuild(home: str) -> None:
    from archive.catalog.db import Catalog
    from archive.core.config import load_settings

    settings = load_settings(home)
    index = SearchIndex.open(settings)

    def progress(done: int, total: int) -> None:
        if done == 2:
            os._exit(9)

    index.rebuild(Catalog.open(settings), progress=progress)


def _run_child(target, *args) -> int:
    ctx = multiprocessing.get_context("fork")
    proc = ctx.Process(target=target, args=args)
    proc.start()
    proc.join(120)
    return proc.exitcode


def test_crash_mid_update_is_detected_and_repaired(archive: Archive) -> None:
    dock = archive.built.ids["dock"]
    segments = _segments_of(archive, "dock")
    segments[0] = segments[0].with_(text_en="The 2013 strike lasted forty days; the wombat stayed.")
    archive.catalog.add_revision(dock, segments, origin="edit")  # the catalog changes first
    assert _run_child(_crash_while_indexing, str(archive.settings.home), dock) == 9

    # Readers still see the last committed index, with no error and nothing half-written.
    assert "dock-01" in archive.uids("forty days")
    assert "dock-01" not in archive.uids("wombat")
    problems = archive.index.verify(archive.catalog)
    assert [(p.item_id, p.problem) for p in problems] == [
        (dock, "indexed transcript revision 1, the catalog has revision 2")
    ]
    # No stale lock: the next writer proceeds, and a rebuild repairs everything.
    archive.index.rebuild(archive.catalog)
    assert archive.index.verify(archive.catalog) == []
    assert "dock-01" in archive.uids("wombat")


def test_nightly_repair_mends_only_what_drifted(archive: Archive) -> None:
    """The worker's periodic task: items changed behind the index's back are re-indexed."""
    from archive.catalog.audit import audit_log
    from archive.jobs.queue import PERIODIC_TASKS
    from indexer.index import periodic_repair

    assert ("archive.index", "indexer.index:periodic_repair") in {
        (name, target) for name, _schedule, target in PERIODIC_TASKS
    }
    dock, bar = archive.built.ids["dock"], archive.built.ids["bar"]
    segments = _segments_of(archive, "dock")
    segments[0] = segments[0].with_(text_en="The 2013 strike lasted forty days; the wombat stayed.")
    archive.catalog.add_revision(dock, segments, origin="edit")
    archive.catalog.update_item(bar, visibility="staff")  # neither change reached the index
    assert "dock-01" not in archive.uids("wombat")
    assert "bar-01" in archive.uids("bar-benders")
    untouched = _doc_counts(archive)[archive.built.ids["anniv"]]

    periodic_repair(archive.settings, archive.catalog)

    assert archive.index.verify(archive.catalog) == []
    assert "dock-01" in archive.uids("wombat")
    assert not {u for u in archive.uids("bar-benders") if u.startswith("bar-")}  # public role
    assert _doc_counts(archive)[archive.built.ids["anniv"]] == untouched
    entry = audit_log(archive.catalog, limit=1)[0]
    assert entry.action == "index.repair" and dock in entry.new_value and bar in entry.new_value
    # Nothing left to do: a second run changes nothing and writes no audit entry.
    assert archive.index.repair(archive.catalog) == []
    periodic_repair(archive.settings, archive.catalog)
    assert audit_log(archive.catalog, limit=1)[0].id == entry.id


def test_repair_rebuilds_an_index_that_cannot_be_read(archive: Archive) -> None:
    from conftest import run_cli

    current = archive.index.root / (archive.index.current_generation() or "")
    # The generation's table of contents is gone (Whoosh's *.toc, tantivy's meta.json).
    for path in [*current.glob("*.toc"), *current.glob("meta.json")]:
        path.unlink()
    problems = archive.index.verify(archive.catalog)
    assert problems and problems[0].item_id == ""
    result = run_cli(archive.settings.home, "index", "repair")
    assert result.returncode == 0, result.stderr
    assert "Rebuilt the search index." in result.stdout
    assert archive.index.verify(archive.catalog) == []
    assert "dock-01" in archive.uids("forty days")


def test_crash_mid_rebuild_leaves_the_old_index_serving(archive: Archive) -> None:
    generation = archive.index.current_generation()
    assert _run_child(_crash_during_rebuild, str(archive.settings.home)) == 9
    assert archive.index.current_generation() == generation  # never switched
    leftovers = [p for p in archive.index.root.iterdir() if p.name.startswith("gen-")]
    assert len(leftovers) >= 2  # the crashed rebuild's half-written generation is there ...
    assert "dock-01" in archive.uids("forty days")
    assert archive.index.verify(archive.catalog) == []
    archive.index.rebuild(archive.catalog)
    remaining = {p.name for p in archive.index.root.iterdir() if p.name.startswith("gen-")}
    assert archive.index.current_generation() in remaining
    assert len(remaining) <= 2  # ... and the next rebuild clears it (keeping the previous one)


# -- concurrent writer and readers -----------------------------------------------------------


def _hold_write_lock(home: str, item_id: str, ready, release) -> None:
    """Child: a slow writer holding both our write lock and Whoosh's lock until told to finish."""
    from archive.catalog.db import Catalog
    from archive.core.config import load_settings
    from indexer.sync import documents_for as _documents_for

    settings = load_settings(home)
    catalog = Catalog.open(settings)
    index = SearchIndex.open(settings)
    with index._write_lock():
        writer = index._writer()
        writer.delete_item(item_id)
        for doc in _documents_for(catalog, item_id) or []:
            writer.add(doc)
        ready.set()
        release.wait(60)
        writer.commit()


def test_readers_never_blocked_and_writers_queue(archive: Archive) -> None:
    import threading

    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    bar = archive.built.ids["bar"]
    child = ctx.Process(
        target=_hold_write_lock, args=(str(archive.settings.home), bar, ready, release)
    )
    child.start()
    try:
        assert ready.wait(60)
        # While a writer holds the locks: searching and verifying work, with no LockError.
        assert "bar-01" in archive.uids("bar-benders")
        assert archive.index.verify(archive.catalog) == []
        # A second writer waits for the first instead of failing.
        done = threading.Event()
        errors: list[BaseException] = []

        def second_writer() -> None:
            try:
                archive.index.update_item(archive.catalog, archive.built.ids["dock"])
            except BaseException as exc:  # reported below
                errors.append(exc)
            done.set()

        thread = threading.Thread(target=second_writer)
        thread.start()
        assert not done.wait(0.5)  # still queued behind the child
        release.set()
        thread.join(60)
        assert done.is_set() and errors == []
    finally:
        release.set()
        child.join(60)
    assert child.exitcode == 0
    assert archive.index.verify(archive.catalog) == []


def test_open_is_cached_and_cheap(archive: Archive) -> None:
    assert SearchIndex.open(archive.settings) is archive.index


def test_write_lock_is_reentrant_within_a_thread(archive: Archive) -> None:
    # A writer that calls another writing method must not wait for itself on its own flock.
    with archive.index._write_lock():
        archive.index.remove_item(archive.built.ids["bar"])
        archive.index.update_item(archive.catalog, archive.built.ids["bar"])
    assert archive.index.verify(archive.catalog) == []


def test_deleted_documents_never_match_a_role_search(tmp_path: Path) -> None:
    """Role searches skip Whoosh's per-posting deletion filter; the role's set must cover it.

    The update is committed without merging, so the old (public) documents stay in their
    segment as deleted documents, the state a large index is in after incremental updates.
    Whoosh only: tantivy applies deletions itself, and has no commit without merging.
    """
    archive = make_archive(tmp_path / "home", keys=["dock", "bar", "anniv"], engine="whoosh")
    from indexer.sync import documents_for as _documents_for
    from indexer.whoosh_engine import open_index

    index = archive.index
    dock = archive.built.ids["dock"]
    assert "dock-07" in archive.uids("machines", role="members")  # the role set is now cached
    with archive.catalog.transaction() as conn:
        insert_segment_redaction(conn, dock, "dock-07", created_by="staff")
    from indexer.role_indexes import docs_for_role, role_path

    generation = index.root / index.current_generation()
    for role in ("public", "members", "staff"):  # each role's index: commit without merging
        writer = open_index(role_path(generation, role)).writer()
        writer.delete_by_term("item_id", dock)
        for doc in docs_for_role(_documents_for(archive.catalog, dock) or (), role):
            writer.add_document(**doc)
        writer.commit(merge=False)
        view = index._view_now(role)
        assert any(leaf.reader().has_deletions() for leaf, _ in view.searcher.leaf_searchers())
    for role in ("public", "members"):
        assert "dock-07" not in archive.uids("machines", role=role)
        assert "dock-07" not in archive.uids('"dock"', role=role) | archive.uids("dock", role=role)
    assert "dock-07" in archive.uids("machines", role="staff")
