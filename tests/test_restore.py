"""Restore: a bag becomes a working archive again, identical item by item and search by search,
including a bag made while another process kept ingesting."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from conftest import run_cli
from preserve_data import Sample, add_item, public_key, rehash, sample_copy, sha256_file, tone

from archive.catalog.access import Viewer
from archive.catalog.audit import audit_log
from archive.catalog.commands import item_document
from archive.catalog.db import Catalog
from archive.core.config import load_settings
from archive.preservation.backup import backup
from archive.preservation.fixity import run_fixity
from archive.preservation.restore import restore
from indexer import SearchIndex

# Each query and role is run on the original and on the restored archive; the results must match.
SEARCHES = [
    ("碼頭工人罷工", "public"),
    ("码头工人罢工", "staff"),
    ("dock strike", "public"),
    ("dock strike", "staff"),
    ("union leaders", "public"),
    ("minimum wage", "public"),
    ("最低工資", "members"),
    ("海外發聲", "staff"),
    ("diaspora voice", "public"),  # only through the data folder's own glossary
]
LOCAL_GLOSSARY = "term\t海外發聲\tdiaspora voice\tadded by staff of this archive\n"


@pytest.fixture
def sample(tmp_path: Path):
    made = sample_copy(tmp_path)
    (made.settings.home / "glossary.tsv").write_text(LOCAL_GLOSSARY, encoding="utf-8")
    yield made
    made.catalog.close()


def _search_table(settings) -> list[object]:  # type: ignore[no-untyped-def]
    index = SearchIndex.open(settings)
    table = []
    for query, role in SEARCHES:
        results = index.search(query, role=role, per_page=50)
        table.append(
            (
                query,
                role,
                [
                    (g.item_id, [(h.start, h.uid, h.text_zh, h.text_en) for h in g.hits])
                    for g in results.groups
                ],
            )
        )
    return table


def test_restore_rebuilds_the_same_archive_catalog_media_and_search(
    sample: Sample, tmp_path: Path
) -> None:
    home = sample.settings.home
    bag = tmp_path / "bag"
    assert run_cli(home, "backup", str(bag)).returncode == 0
    target = tmp_path / "restored"
    key = public_key(sample.settings)
    result = run_cli(
        home, "restore", str(bag), "--home", str(target), "--json", "--public-key", key
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["items"] == 5 and report["indexed_documents"] > 0

    restored = load_settings(target)
    rcat = Catalog.open(restored)
    try:
        assert rcat.item_ids() == sample.catalog.item_ids()
        # `archive show --json` of every item, as every role sees it, is the same.
        staff = Viewer("staff")
        for item_id in sample.all_ids:
            assert item_document(rcat, item_id, staff) == item_document(
                sample.catalog, item_id, staff
            )
            for rev in sample.catalog.list_revisions(item_id):
                assert item_document(rcat, item_id, staff, rev.revision) == item_document(
                    sample.catalog, item_id, staff, rev.revision
                )
        for item_id in (sample.public_id, sample.staff_id):
            original = run_cli(home, "show", item_id, "--json")
            again = run_cli(target, "show", item_id, "--json")
            assert original.returncode == again.returncode == 0
            assert json.loads(again.stdout) == json.loads(original.stdout)
        public = run_cli(target, "show", sample.public_id, "--json", "--role", "public")
        assert json.loads(public.stdout) == item_document(
            sample.catalog, sample.public_id, Viewer("public")
        )

        # The table of searches gives the same results; the local glossary came back too.
        table = _search_table(sample.settings)
        assert [g for _, _, groups in table for g, _ in groups]  # the table does find things
        assert table[-1][2] and table[-1][2][0][0] == sample.tone_ids[0]
        assert _search_table(restored) == table
        assert (target / "glossary.tsv").read_text(encoding="utf-8") == LOCAL_GLOSSARY

        # Media are copies, not links into the bag, and every one is whole.
        for m in rcat.list_media():
            assert sha256_file(target / m.path) == m.sha256
            assert (target / m.path).stat().st_ino != (bag / "data" / m.path).stat().st_ino
        assert run_fixity(restored, rcat).ok
        assert audit_log(rcat, limit=1)[0].action == "restore"
        # The live archive's newest entry is its record of the backup, made after the snapshot.
        original_log = [a.action for a in audit_log(sample.catalog)]
        assert original_log[0] == "backup"
        assert [a.action for a in audit_log(rcat)][1:] == original_log[1:]
        assert SearchIndex.open(restored).verify(rcat) == []
    finally:
        rcat.close()
    assert not list(tmp_path.glob(".restored.restoring-*"))


def test_a_bag_from_an_older_schema_is_migrated_on_restore(sample: Sample, tmp_path: Path) -> None:
    """A backup made before log-in back-off existed (schema 3) restores into this version."""
    import sqlite3

    from archive.catalog.migrations import MIGRATIONS, SCHEMA_VERSION, _split_sql
    from archive.core.errors import AccessDeniedError
    from archive.workspace.accounts import add_user, authenticate

    bag = tmp_path / "bag"
    assert run_cli(sample.settings.home, "backup", str(bag)).returncode == 0
    # Turn the snapshot into what schema 3 wrote: migration 4 only added login_throttle, and
    # migration 5 turned the redactions of segment uids into spans of the recording, 6 added the
    # change counter and 7 two item columns (source_public, withheld_speakers).
    conn = sqlite3.connect(bag / "data" / "catalog.sqlite")
    conn.execute("DROP TABLE login_throttle")
    # The uid table exactly as migration 1 made it (restore compares the stored SQL).
    uid_table = next(
        sql for sql in _split_sql(MIGRATIONS[0]) if sql.startswith("CREATE TABLE redactions")
    )
    conn.executescript(
        f"""
        CREATE TABLE uid_copy AS SELECT item_id, origin_uid AS uid, reason, created_by, created_at
            FROM redactions;
        DROP TABLE redactions;
        {uid_table};
        INSERT INTO redactions SELECT * FROM uid_copy;
        DROP TABLE uid_copy;
        """
    )
    conn.execute("DROP TABLE catalog_changes")
    conn.execute("ALTER TABLE items DROP COLUMN source_public")
    conn.execute("ALTER TABLE items DROP COLUMN withheld_speakers")
    conn.execute("ALTER TABLE users DROP COLUMN recovery_hash")  # migration 8
    conn.execute("PRAGMA user_version = 3")
    conn.commit()
    conn.close()
    # Signed again by the archive's key: the bag is what the release with schema 3 made.
    rehash(bag, sample.settings, info={"Archive-Schema-Version": "3"})

    target = tmp_path / "restored"
    result = run_cli(
        target.parent / "no-home", "restore", str(bag), "--home", str(target), "--json",
        "--public-key", public_key(sample.settings),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["schema_from"], report["schema_to"]) == (3, SCHEMA_VERSION)
    rcat = Catalog.open(load_settings(target))
    try:
        assert rcat.schema_version() == SCHEMA_VERSION
        assert rcat.item_ids() == sample.catalog.item_ids()
        staff = Viewer("staff")
        for item_id in sample.all_ids:
            assert item_document(rcat, item_id, staff) == item_document(
                sample.catalog, item_id, staff
            )
        # The new table is there and used: a wrong password for any name is counted.
        add_user(rcat, "organiser", "staff", "correct horse battery staple")
        with pytest.raises(AccessDeniedError):
            authenticate(rcat, "nobody-here", "guess")
        assert rcat.conn.execute("SELECT count(*) FROM login_throttle").fetchone()[0] == 1
        assert (
            authenticate(rcat, "organiser", "correct horse battery staple").username == "organiser"
        )
    finally:
        rcat.close()


def test_a_bag_made_while_another_thread_ingests_restores_a_consistent_snapshot(
    sample: Sample, tmp_path: Path
) -> None:
    settings = sample.settings
    written: list[str] = []
    errors: list[BaseException] = []
    changed = threading.Condition()
    stop = threading.Event()

    def writer() -> None:
        catalog = Catalog.open(settings)
        try:
            n = 0
            while not stop.is_set():
                item_id = add_item(
                    settings, catalog, tone(tmp_path / "writer" / f"{n}.wav", 1000 + 37 * n),
                    [(0.0, 1.0, "備份期間寫入的項目。", "Written while the backup ran.")], title_en=f"Written {n}",
                )  # fmt: skip
                with changed:
                    written.append(item_id)
                    changed.notify_all()
                n += 1
        except BaseException as exc:  # reported by the test, not lost in the thread
            errors.append(exc)
            with changed:
                changed.notify_all()
        finally:
            catalog.close()

    def wait_for(count: int) -> None:
        with changed:
            assert changed.wait_for(lambda: len(written) >= count or errors, timeout=300)
        assert not errors, errors

    thread = threading.Thread(target=writer, name="ingesting-writer")
    thread.start()
    try:
        wait_for(1)
        lock = threading.Lock()
        at_snapshot: list[int] = []

        def progress(phase: str, done: int, total: int) -> None:
            with lock:
                if phase == "media" and not at_snapshot:
                    # The snapshot is taken; hold this copy until the writer commits another item.
                    at_snapshot.append(len(written))
                    wait_for(at_snapshot[0] + 1)

        backup(settings, tmp_path / "bag", progress=progress)
    finally:
        stop.set()
        thread.join(timeout=300)
    assert not errors, errors
    during = written[at_snapshot[0]]  # committed while the bag was being written

    restore(tmp_path / "bag", tmp_path / "restored", public_key=public_key(settings))
    restored = load_settings(tmp_path / "restored")
    rcat = Catalog.open(restored)
    try:
        ids = set(rcat.item_ids())
        assert set(sample.all_ids) | set(written[: at_snapshot[0]]) == ids
        assert during not in ids
        staff = Viewer("staff")
        for item_id in ids:
            assert item_document(rcat, item_id, staff) == item_document(
                sample.catalog, item_id, staff
            )
        # Every catalogued file is there and whole, and the rebuilt index matches the catalog.
        assert run_fixity(restored, rcat).ok
        assert SearchIndex.open(restored).verify(rcat) == []
    finally:
        rcat.close()
