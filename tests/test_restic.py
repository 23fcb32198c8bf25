"""Offsite copies with restic (Debian's package, installed by scripts/system-deps.sh): bags go into
an encrypted, deduplicating repository and a rebuilt archive comes back out of it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from preserve_data import add_item, sample_copy, tone

from archive.catalog.access import Viewer
from archive.catalog.commands import item_document
from archive.catalog.db import Catalog
from archive.core.config import load_settings
from archive.preservation.backup import backup
from archive.preservation.restore import restore
from indexer import SearchIndex

pytestmark = pytest.mark.skipif(
    shutil.which("restic") is None,
    reason="restic is not installed (scripts/system-deps.sh installs it)",
)


def _restic(
    env: dict[str, str], *args: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["restic", *args], capture_output=True, text=True, env=env, timeout=600)
    if check:
        assert result.returncode == 0, (args, result.stdout[-2000:], result.stderr[-2000:])
    return result


def _summary(output: str) -> dict[str, object]:
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return next(line for line in lines if line.get("message_type") == "summary")


def test_bags_survive_a_round_trip_through_a_local_restic_repository(tmp_path: Path) -> None:
    sample = sample_copy(tmp_path)
    password = tmp_path / "restic-password"
    password.write_text("correct horse battery staple of the union\n")
    env = {
        **os.environ,
        "RESTIC_REPOSITORY": str(tmp_path / "offsite"),
        "RESTIC_PASSWORD_FILE": str(password),
        "RESTIC_CACHE_DIR": str(tmp_path / "restic-cache"),
    }
    _restic(env, "init")
    backups = tmp_path / "backups"
    try:
        first = backup(sample.settings, backups / "week-1")
        _restic(env, "backup", "--json", "--tag", "hk-labour-archive", str(backups / "week-1"))
        added = add_item(
            sample.settings, sample.catalog, tone(tmp_path / "later.wav", 660),
            [(0.0, 1.0, "一星期後加入。", "Added a week later.")], title_en="A week later",
        )  # fmt: skip
        second = backup(sample.settings, backups / "week-2")
        summary = _summary(
            _restic(
                env, "backup", "--json", "--tag", "hk-labour-archive", str(backups / "week-2")
            ).stdout
        )
        expected = {
            i: item_document(sample.catalog, i, Viewer("staff")) for i in [*sample.all_ids, added]
        }
        query = "碼頭工人罷工"
        expected_hits = [
            (g.item_id, [h.uid for h in g.hits])
            for g in SearchIndex.open(sample.settings).search(query, role="staff").groups
        ]
    finally:
        sample.catalog.close()

    # Deduplicated: the second week's bag costs the repository only what changed.
    assert second.payload_bytes > first.payload_bytes
    assert int(summary["data_added"]) < 0.3 * second.payload_bytes, summary
    # Checked, and encrypted: the right password reads it, a wrong one does not, and no archive
    # text can be read in the repository's files.
    _restic(env, "check", "--read-data")
    wrong = tmp_path / "wrong-password"
    wrong.write_text("not the password\n")
    assert (
        _restic({**env, "RESTIC_PASSWORD_FILE": str(wrong)}, "snapshots", check=False).returncode
        != 0
    )
    for path in (tmp_path / "offsite").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert b"Dock strike" not in data and "碼頭工人罷工".encode() not in data, path

    # The machine is lost: only the offsite repository is left.
    snapshots = json.loads(_restic(env, "snapshots", "--json").stdout)
    week2 = next(s for s in snapshots if s["paths"] == [str(backups / "week-2")])
    shutil.rmtree(backups)
    shutil.rmtree(sample.settings.home)
    _restic(env, "restore", week2["id"], "--target", str(tmp_path / "from-offsite"))
    fetched = tmp_path / "from-offsite" / str(backups / "week-2").lstrip("/")
    # The public key printed at backup time is all restore needs: the signing key went with
    # the machine.
    report = restore(fetched, tmp_path / "rebuilt", public_key=second.public_key)
    assert report.items == len(expected)

    rebuilt = load_settings(tmp_path / "rebuilt")
    catalog = Catalog.open(rebuilt)
    try:
        for item_id, document in expected.items():
            assert item_document(catalog, item_id, Viewer("staff")) == document
        hits = [
            (g.item_id, [h.uid for h in g.hits])
            for g in SearchIndex.open(rebuilt).search(query, role="staff").groups
        ]
        assert hits == expected_hits and hits
    finally:
        catalog.close()
