"""The SQLite catalog: WAL, versioned migrations, atomic revisions, validation."""

from __future__ import annotations

import sqlite3

import pytest

from archive.catalog.db import Catalog
from archive.catalog.migrations import SCHEMA_VERSION
from archive.catalog.models import normalise_date
from archive.core.errors import ConfigError, InputError, NotFoundError
from transcripts.segments import Segment


def test_new_catalog_is_wal_at_the_latest_schema(catalog):
    assert catalog.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert catalog.schema_version() == SCHEMA_VERSION
    tables = {
        r[0] for r in catalog.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
    }
    assert {"items", "media", "sources", "transcripts", "segments", "jobs"} <= tables


def test_migrate_is_idempotent(settings, catalog):
    again = Catalog.open(settings)
    assert again.schema_version() == SCHEMA_VERSION


def test_a_newer_catalog_is_refused(settings, catalog):
    catalog.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    catalog.close()
    with pytest.raises(ConfigError, match="newer than this software"):
        Catalog.open(settings)


def test_new_item_defaults_to_staff(catalog):
    item = catalog.create_item(title_en="Draft")
    assert item.visibility == "staff" and item.collection == "other" and item.language == "auto"
    assert len(item.id) == 10


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("collection", "music", "collection must be one of"),
        ("visibility", "everyone", "visibility must be one of"),
        ("language", "fr", "language must be one of"),
        ("recorded_date", "31/12/2020", "is not YYYY, YYYY-MM or YYYY-MM-DD"),
    ],
)
def test_item_fields_are_validated(catalog, field, value, message):
    with pytest.raises(InputError, match=message):
        catalog.create_item(**{field: value})
    assert catalog.item_ids() == []


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2013", "2013"),
        ("2013-05", "2013-05"),
        ("2013-05-06", "2013-05-06"),
        ("20130506", "2013-05-06"),
    ],
)
def test_dates(given, expected):
    assert normalise_date(given) == expected


@pytest.mark.parametrize("bad", ["2013-13", "2013-02-30", "May 2013", "", "13"])
def test_bad_dates(bad):
    with pytest.raises(InputError):
        normalise_date(bad)


def test_revisions_are_numbered_and_old_ones_kept(catalog):
    item = catalog.create_item(title_zh="碼頭")
    first = catalog.add_revision(
        item.id, [Segment(0, 2, "碼頭工人", "dock workers", "zh")], origin="whisper"
    )
    second = catalog.add_revision(
        item.id,
        [Segment(0, 2, "碼頭工人罷工", "dock workers strike", "zh", uid=first.segments[0].uid)],
        origin="edit",
        author="staff1",
        summary="fixed",
    )
    assert (first.revision, second.revision) == (1, 2)
    assert catalog.get_revision(item.id, 1).segments[0].text_zh == "碼頭工人"
    assert catalog.get_revision(item.id).segments[0].text_zh == "碼頭工人罷工"
    assert catalog.get_revision(item.id).segments[0].uid == first.segments[0].uid


def test_a_failed_revision_write_leaves_nothing(catalog):
    item = catalog.create_item(title_en="x")
    bad = [Segment(0, 1, "ok", "", "zh"), Segment(1, 2, "dup", "", "zh")]
    catalog.add_revision(item.id, bad[:1], origin="whisper")
    with pytest.raises(sqlite3.IntegrityError), catalog.transaction() as conn:
        catalog.add_revision(item.id, bad, origin="whisper")
        conn.execute(
            "INSERT INTO items (id, created_at, updated_at) VALUES (?, '', '')", (item.id,)
        )  # duplicate key
    assert catalog.latest_revision_number(item.id) == 1
    assert catalog.conn.execute("SELECT COUNT(*) FROM segments").fetchone()[0] == 1


def test_revision_of_unknown_item(catalog):
    with pytest.raises(NotFoundError, match="no item nope"):
        catalog.add_revision("nope", [], origin="whisper")
