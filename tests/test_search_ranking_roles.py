"""Scores seen by a role come only from what that role may read (security issue 18, point 6).

Ranking statistics (how many documents hold a word, the average length of a field) used to be
taken over the whole index. Two public items tied for ``kestrel OR heron`` then changed places
for a public visitor when staff added a staff-only item (or redacted a public segment) containing
``kestrel``: the public order told the visitor a word of text they may not read. Each role now
searches an index holding only what it may read, on both engines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import insert_segment_redaction

from transcripts.segments import Segment

QUERY = "kestrel OR heron"


def _item(catalog: Any, title: str, visibility: str, lines: list[tuple[str, str]]) -> str:
    # Fixed ids: tied items are ordered by id, and the engines are compared archive to archive.
    item = catalog.create_item(
        id=f"{lines[0][0]}-item",
        title_zh="",
        title_en=title,
        description_zh="",
        description_en="",
        collection="other",
        recorded_date="2020-01-01",
        speakers=[],
        tags=[],
        language="en",
        visibility=visibility,
    )
    segments = [
        Segment(i * 5.0, i * 5.0 + 4.0, "", text, "en", uid=uid)
        for i, (uid, text) in enumerate(lines)
    ]
    catalog.add_revision(item.id, segments, origin="whisper")
    return item.id


def _tied_archive(home: Path, engine: str) -> tuple[Any, Any, dict[str, str]]:
    """Two public items that score exactly alike for QUERY (one holds each word, in sentences
    of equal length), and a third public item with a sentence that staff may later redact."""
    from archive.catalog.db import Catalog
    from archive.core.config import load_settings
    from indexer import SearchIndex

    settings = load_settings(home).ensure()
    catalog = Catalog.open(settings)
    ids = {
        "kestrel": _item(catalog, "Harbour one", "public", [("k-1", "A kestrel over the pier.")]),
        "heron": _item(catalog, "Harbour two", "public", [("h-1", "A heron over the pier.")]),
        "other": _item(
            catalog,
            "Harbour three",
            "public",
            [("o-1", "Nothing of note was said.")],
        ),
    }
    index = SearchIndex.open(settings)
    index.rebuild(catalog, engine=engine)
    return catalog, index, ids


def _ranking(index: Any, role: str) -> list[tuple[str, float]]:
    results = index.search(QUERY, role=role, expand=False)
    return [(g.item_id, g.score) for g in results.groups]


def _add_private_kestrel(catalog: Any, index: Any, ids: dict[str, str], how: str) -> None:
    if how == "staff item":
        extra = _item(catalog, "Minutes", "staff", [("s-1", "The kestrel file is closed.")])
        index.update_item(catalog, extra)
    elif how == "members item":
        extra = _item(catalog, "Minutes", "members", [("m-1", "The kestrel file is closed.")])
        index.update_item(catalog, extra)
    else:  # a new sentence of a public item, redacted before it was ever indexed
        catalog.add_revision(
            ids["other"],
            [
                Segment(0.0, 4.0, "", "Nothing of note was said.", "en", uid="o-1"),
                Segment(5.0, 9.0, "", "The kestrel nest is hidden.", "en", uid="o-2"),
            ],
            origin="whisper",
        )
        with catalog.transaction() as conn:
            insert_segment_redaction(conn, ids["other"], "o-2", created_by="staff")
        index.update_item(catalog, ids["other"])


CASES = [
    ("staff item", "public"),
    ("staff item", "members"),
    ("members item", "public"),
    ("redacted span", "public"),
    ("redacted span", "members"),
]


@pytest.mark.parametrize(("how", "role"), CASES)
def test_private_words_do_not_move_the_order_a_role_sees(
    tmp_path: Path, engine: str, how: str, role: str
) -> None:
    catalog, index, ids = _tied_archive(tmp_path / "home", engine)
    before = _ranking(index, role)
    tied = [item for item, _ in before if item in (ids["kestrel"], ids["heron"])]
    assert len(tied) == 2
    _add_private_kestrel(catalog, index, ids, how)
    after = _ranking(index, role)
    assert len(index.search(QUERY, role="staff", expand=False).groups) == 3  # it is indexed
    if how != "redacted span":
        assert after == before  # same order, same scores: nothing about the private text shows
        return
    # The item was re-indexed for the role too; its deleted old documents count in the engine's
    # statistics until merged (the same for both tied items): the tie and the order hold ...
    assert [item for item, _ in after] == [item for item, _ in before]
    assert after[0][1] == after[1][1]
    # ... and once rebuilt, the scores are exactly those of before.
    index.rebuild(catalog)
    assert _ranking(index, role) == before


def test_staff_still_rank_over_everything(tmp_path: Path, engine: str) -> None:
    """Staff search the whole archive: the staff-only 'kestrel' weighs on their order."""
    catalog, index, ids = _tied_archive(tmp_path / "home", engine)
    before = dict(_ranking(index, "staff"))
    _add_private_kestrel(catalog, index, ids, "staff item")
    after = dict(_ranking(index, "staff"))
    assert after[ids["kestrel"]] < before[ids["kestrel"]]  # kestrel is commoner now
    assert after[ids["heron"]] == pytest.approx(before[ids["heron"]], rel=0.2)


def test_both_engines_rank_the_roles_alike(tmp_path: Path) -> None:
    orders = {}
    for engine in ("whoosh", "tantivy"):
        catalog, index, ids = _tied_archive(tmp_path / engine, engine)
        _add_private_kestrel(catalog, index, ids, "staff item")
        _add_private_kestrel(catalog, index, ids, "redacted span")
        names = {v: k for k, v in ids.items()}
        orders[engine] = {
            role: [names.get(item, "new") for item, _ in _ranking(index, role)]
            for role in ("public", "members", "staff")
        }
    assert orders["whoosh"] == orders["tantivy"]


def test_verify_and_sync_see_every_role_index(tmp_path: Path, engine: str) -> None:
    catalog, index, ids = _tied_archive(tmp_path / "home", engine)
    assert index.verify(catalog) == []
    # The catalog changes behind the index's back: verify names the item, repair mends every
    # role's index (the public no longer finds the redacted sentence).
    assert index.search("nothing", role="public").total_hits == 1
    with catalog.transaction() as conn:
        insert_segment_redaction(conn, ids["other"], "o-1", created_by="staff")
    assert [p.item_id for p in index.verify(catalog)] == [ids["other"]]
    index.repair(catalog)
    assert index.verify(catalog) == []
    assert index.search("nothing", role="public").total_hits == 0
    assert index.search("nothing", role="members").total_hits == 0
    assert index.search("nothing", role="staff").total_hits == 1


def test_verify_names_an_item_whose_update_reached_only_the_staff_index(
    tmp_path: Path, engine: str
) -> None:
    """Updates commit public first, staff last; were the order ever broken (or a role's index
    written by hand), verify still sees that the public index lags behind the staff one."""
    from indexer.sync import documents_for

    catalog, index, ids = _tied_archive(tmp_path / "home", engine)
    with catalog.transaction() as conn:
        insert_segment_redaction(conn, ids["other"], "o-1", created_by="staff")
    with index._write_lock():
        writer = index._writer("staff")  # the staff index only: the catalog's state recorded
        writer.delete_item(ids["other"])
        for doc in documents_for(catalog, ids["other"]) or ():
            writer.add(doc)
        writer.commit()
    problems = index.verify(catalog)
    assert [p.item_id for p in problems] == [ids["other"]]
    assert "public search index" in problems[0].problem
    assert index.search("nothing", role="public").total_hits == 1  # the lag, before repair
    index.repair(catalog)
    assert index.verify(catalog) == []
    assert index.search("nothing", role="public").total_hits == 0


def test_an_index_of_the_old_layout_is_searched_then_rebuilt_by_repair(
    tmp_path: Path, engine: str
) -> None:
    import shutil

    from indexer.role_indexes import ROLE_FOLDERS, is_layered

    catalog, index, ids = _tied_archive(tmp_path / "home", engine)
    generation = index.root / (index.current_generation() or "")
    for folder in ROLE_FOLDERS.values():  # as written before per-role indexes
        shutil.rmtree(generation / folder)
    assert index.search("kestrel", role="public").total_items == 1  # the role filter still holds
    problems = index.verify(catalog)
    assert [p.item_id for p in problems] == [""] and "per-role" in problems[0].problem
    index.repair(catalog)
    assert is_layered(index.root / (index.current_generation() or ""))
    assert index.verify(catalog) == []
