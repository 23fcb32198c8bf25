"""Backups: a BagIt bag that standard tools accept, holding everything, made while others write."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import bagit
import pytest
from conftest import run_cli
from preserve_data import (
    CANARY_REASON,
    CANARY_REDACTED_EN,
    CANARY_USER,
    Sample,
    add_item,
    sample_copy,
    sha256_file,
    tone,
)

from archive.catalog.audit import audit_log
from archive.catalog.migrations import SCHEMA_VERSION
from archive.core.errors import PreservationError
from archive.preservation.backup import backup
from archive.preservation.bag import software_version
from archive.preservation.bag_checks import BACKUP_FORMAT


@pytest.fixture
def sample(tmp_path: Path):
    made = sample_copy(tmp_path)
    yield made
    made.catalog.close()


def test_cli_backup_writes_a_bag_that_bagit_validates_and_that_holds_everything(
    sample: Sample, tmp_path: Path
) -> None:
    bag = tmp_path / "backups" / "2026-11-25"
    result = run_cli(sample.settings.home, "backup", str(bag), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["items"] == len(sample.all_ids) == 5

    # The standard tool, bagit.py's own command line, checks every checksum.
    check = subprocess.run(
        [sys.executable, "-m", "bagit", "--validate", str(bag)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr
    assert "is valid" in check.stderr
    opened = bagit.Bag(str(bag))
    assert opened.algorithms == ["sha256"]
    info = opened.info
    assert info["Source-Organization"] == sample.settings.organisation
    assert info["Bagging-Date"] == datetime.now(UTC).date().isoformat()
    assert info["Archive-Format"] == BACKUP_FORMAT
    assert info["Archive-Item-Count"] == "5"
    assert info["Archive-Schema-Version"] == str(SCHEMA_VERSION)
    assert info["Archive-Software-Version"] == software_version() != "unknown"
    assert "PRIVATE" in info["Archive-Access"]
    assert "staff-only" in (bag / "about-this-bag.txt").read_text()

    # Every catalogued media file, byte for byte.
    media = sample.catalog.list_media()
    assert len(media) == 10
    for m in media:
        assert sha256_file(bag / "data" / m.path) == m.sha256

    # Every revision of every transcript, as JSON.
    document = json.loads((bag / "data" / "transcripts" / f"{sample.public_id}.json").read_text())
    assert [r["revision"] for r in document["revisions"]] == [1, 2]
    assert any("forty days" in s["text_en"] for s in document["revisions"][0]["segments"])
    assert any("40 days" in s["text_en"] for s in document["revisions"][1]["segments"])
    for item_id in sample.all_ids:
        assert (bag / "data" / "transcripts" / f"{item_id}.json").is_file()

    # Backups hold everything: redacted text and its reason, accounts, the audit log.
    redacted = [s for s in document["revisions"][1]["segments"] if s["redacted"]]
    assert [s["text_en"] for s in redacted] == [CANARY_REDACTED_EN]
    assert document["redactions"][0]["reason"] == CANARY_REASON
    audit = [
        json.loads(line) for line in (bag / "data" / "audit-log.jsonl").read_text().splitlines()
    ]
    assert {"redact", "user.add"} <= {a["action"] for a in audit}
    snapshot = sqlite3.connect(f"{(bag / 'data' / 'catalog.sqlite').as_uri()}?mode=ro", uri=True)
    try:
        assert snapshot.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert snapshot.execute("SELECT username FROM users").fetchall() == [(CANARY_USER,)]
        assert (
            snapshot.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        )  # one self-contained file
    finally:
        snapshot.close()
    from indexer.glossary import BUILTIN_GLOSSARY

    assert (bag / "data" / "glossary-builtin.tsv").read_bytes() == BUILTIN_GLOSSARY.read_bytes()

    # The live archive records that a backup was made, and where.
    latest = audit_log(sample.catalog, limit=1)[0]
    assert (latest.action, latest.target) == ("backup", str(bag))


def test_a_second_backup_beside_the_first_hard_links_unchanged_media(
    sample: Sample, tmp_path: Path
) -> None:
    first = backup(sample.settings, tmp_path / "backups" / "one")
    new_id = add_item(
        sample.settings, sample.catalog, tone(tmp_path / "new.wav", 880),
        [(0.0, 1.0, "新加入的錄音。", "A recording added later.")], title_en="Added later",
    )  # fmt: skip
    second = backup(sample.settings, tmp_path / "backups" / "two")

    one, two = tmp_path / "backups" / "one", tmp_path / "backups" / "two"
    old = [m for m in sample.catalog.list_media() if m.item_id != new_id]
    new = [m for m in sample.catalog.list_media() if m.item_id == new_id]
    for m in old:
        assert (one / "data" / m.path).stat().st_ino == (two / "data" / m.path).stat().st_ino, (
            m.path
        )
    for m in new:
        assert (two / "data" / m.path).stat().st_nlink == 1
    assert first.linked_files == 0
    assert second.linked_files == len(old)
    assert second.copied_bytes == sum(m.size for m in new)
    assert bagit.Bag(str(one)).is_valid() and bagit.Bag(str(two)).is_valid()
    assert bagit.Bag(str(two)).info["Archive-Media-Linked-From"] == "one"


def test_a_damaged_file_in_the_data_folder_is_not_copied_when_an_earlier_bag_has_it_whole(
    sample: Sample, tmp_path: Path
) -> None:
    backup(sample.settings, tmp_path / "backups" / "one")
    audio = sample.catalog.get_media(sample.wage_id, "audio")
    path = sample.settings.home / audio.path
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    # A new bag elsewhere, which cannot use the good copy, refuses and names the file.
    with pytest.raises(
        PreservationError,
        match=re.escape(f"item {sample.wage_id}: {audio.path} (audio): changed since ingest"),
    ):
        backup(sample.settings, tmp_path / "elsewhere" / "bag")
    assert not (tmp_path / "elsewhere" / "bag").exists()
    # Beside the good bag, the good bytes are used.
    backup(sample.settings, tmp_path / "backups" / "two")
    assert sha256_file(tmp_path / "backups" / "two" / "data" / audio.path) == audio.sha256


def test_the_snapshot_is_taken_without_waiting_for_an_open_write_and_without_its_changes(
    sample: Sample, tmp_path: Path
) -> None:
    writer = sqlite3.connect(
        sample.settings.catalog_path, isolation_level=None, check_same_thread=False, timeout=60
    )
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE items SET title_en = 'UNCOMMITTED' WHERE id = ?", (sample.public_id,))
    lock = threading.Lock()

    def progress(phase: str, done: int, total: int) -> None:
        # The catalog snapshot is already written when media copying starts: only then is the
        # other transaction allowed to finish. Had the snapshot waited for it, this would hang.
        with lock:
            if phase == "media" and writer.in_transaction:
                writer.execute("COMMIT")

    try:
        backup(sample.settings, tmp_path / "bag", progress=progress)
    finally:
        if writer.in_transaction:
            writer.execute("ROLLBACK")
        writer.close()
    assert sample.catalog.get_item(sample.public_id).title_en == "UNCOMMITTED"
    snapshot = sqlite3.connect(
        f"{(tmp_path / 'bag' / 'data' / 'catalog.sqlite').as_uri()}?mode=ro", uri=True
    )
    try:
        title = snapshot.execute(
            "SELECT title_en FROM items WHERE id = ?", (sample.public_id,)
        ).fetchone()[0]
    finally:
        snapshot.close()
    assert title == "Dock strike, ten years on"


def test_backup_help_has_an_example(tmp_path: Path) -> None:
    result = run_cli(tmp_path / "home", "backup", "--help")
    assert result.returncode == 0
    assert "Example:" in result.stdout and "archive backup /" in result.stdout


def test_media_are_linked_only_from_earlier_bags_signed_by_the_same_key(
    sample: Sample, tmp_path: Path
) -> None:
    """An earlier bag beside DEST that is unsigned (or signed by another key) may have been
    written by anyone with access to the backup disk: nothing is hard-linked from it."""
    from archive.preservation.bag_signing import SIGNATURE_FILE

    one, two = tmp_path / "backups" / "one", tmp_path / "backups" / "two"
    backup(sample.settings, one)
    (one / SIGNATURE_FILE).unlink()
    assert bagit.Bag(str(one)).is_valid()  # every checksum still right

    report = backup(sample.settings, two)
    assert report.linked_files == 0 and report.copied_bytes > 0
    for m in sample.catalog.list_media():
        assert (two / "data" / m.path).stat().st_nlink == 1
        assert sha256_file(two / "data" / m.path) == m.sha256
    with pytest.raises(PreservationError, match="cannot be trusted"):
        backup(sample.settings, tmp_path / "backups" / "three", previous=[one])
