"""Restoring an older, correctly signed bag (issue 18, point 2).

Bag A is made, then a span is redacted, a speaker withheld and an item made staff-only, then bag B
is made. Both are signed by the archive's own key: every check of ``archive restore`` passes for
both. Restoring A would silently bring the redacted sentence, the real name and the item back.
So restore always prints the moment a bag holds (its snapshot time and newest audit entry), and
given ``--against`` a newer bag or the data folder — and always over an existing archive — lists
each change the older bag would undo and refuses (nothing written) unless ``--allow-older``,
which is then recorded in the restored archive's audit log. And the refusal of an unsigned bag
no longer tells the operator which flag lets it through.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from conftest import run_cli
from preserve_data import home_state, public_key, rehash, sample_copy

from archive.catalog.db import Catalog
from archive.core.config import Settings
from archive.preservation.backup import backup

SPEAKER = "Lam Wing-sze"
LABEL = "Interviewee A"


class Made:
    def __init__(self, folder: Path, settings: Settings, ids: dict[str, str]) -> None:
        self.folder = folder
        self.settings = settings
        self.ids = ids
        self.bag_a = folder / "bag-a"
        self.bag_b = folder / "bag-b"


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Made:
    from archive.workspace.disclosure import withhold_speaker
    from archive.workspace.visibility import redact, set_visibility

    folder = tmp_path_factory.mktemp("restore-older")
    sample = sample_copy(folder)
    settings, catalog = sample.settings, sample.catalog
    ids = {"wage": sample.wage_id, "members": sample.members_id, "public": sample.public_id}
    try:
        # The speaker exists before bag A: only the withholding comes later.
        catalog.update_item(sample.wage_id, speakers=[SPEAKER])
        backup(settings, folder / "bag-a")
        redact(catalog, settings, sample.wage_id, start=2.5, end=5.0, actor="editor",
               reason="names a worker", rebuild_media=False)  # fmt: skip
        withhold_speaker(catalog, settings, sample.wage_id, SPEAKER, LABEL, actor="editor")
        set_visibility(catalog, settings, sample.members_id, "staff", actor="editor")
        backup(settings, folder / "bag-b")
    finally:
        catalog.close()
    return Made(folder, settings, ids)


@pytest.fixture(scope="module")
def key(made: Made) -> str:
    return public_key(made.settings)


def _restore(made: Made, key: str, bag: Path, target: Path, *options: str):  # type: ignore[no-untyped-def]
    return run_cli(
        target.parent / "no-home", "restore", str(bag), "--home", str(target),
        "--public-key", key, *options,
    )  # fmt: skip


def _nothing_written(target: Path) -> None:
    assert not target.exists()
    assert not list(target.parent.glob(f".{target.name}.restoring-*"))
    assert not (target.parent / "no-home").exists()


def _three_changes(text: str, made: Made) -> None:
    """Each of the three later changes is named: the redaction, the withholding, the visibility."""
    lines = text.splitlines()
    redaction = [ln for ln in lines if "redaction" in ln and made.ids["wage"] in ln]
    withheld = [ln for ln in lines if "speaker withheld" in ln and SPEAKER in ln and LABEL in ln]
    visibility = [
        ln for ln in lines if "visibility" in ln and made.ids["members"] in ln and "staff" in ln
    ]
    assert redaction and withheld and visibility, text


def _bag_info(bag: Path) -> dict[str, str]:
    info = {}
    for line in (bag / "bag-info.txt").read_text(encoding="utf-8").splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            info.setdefault(k.strip(), v.strip())
    return info


def _newest_audit(bag: Path) -> sqlite3.Row:
    conn = sqlite3.connect(f"{(bag / 'data' / 'catalog.sqlite').as_uri()}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute("SELECT * FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    finally:
        conn.close()


def test_restore_prints_the_bags_snapshot_time_and_newest_audit_entry(
    made: Made, key: str, tmp_path: Path
) -> None:
    result = _restore(made, key, made.bag_a, tmp_path / "restored")
    assert result.returncode == 0, result.stderr
    snapshot = _bag_info(made.bag_a)["Archive-Snapshot-Time"]
    assert f"bag snapshot time: {snapshot}" in result.stdout
    newest = _newest_audit(made.bag_a)
    line = next(ln for ln in result.stdout.splitlines() if ln.startswith("newest audit entry"))
    assert newest["at"] in line and newest["actor"] in line, line
    # Bag B's snapshot is another moment, and restore says so.
    assert _bag_info(made.bag_b)["Archive-Snapshot-Time"] != snapshot


@pytest.mark.parametrize("against", ["newer bag", "data folder"])
def test_an_older_bag_against_a_newer_archive_lists_each_change_and_is_refused(
    made: Made, key: str, tmp_path: Path, against: str
) -> None:
    newer = made.bag_b if against == "newer bag" else made.settings.home
    target = tmp_path / "restored"
    result = _restore(made, key, made.bag_a, target, "--against", str(newer))
    assert result.returncode == 1, (result.stdout, result.stderr)
    error = [ln for ln in result.stderr.splitlines() if ln.startswith("error: ")]
    assert len(error) == 1 and "is older than" in error[0] and "--allow-older" in error[0]
    assert "undo 3 change(s)" in error[0], error[0]
    _three_changes(result.stdout, made)  # each on its own line ...
    _three_changes(error[0].replace("; ", "\n"), made)  # ... and in the error itself
    _nothing_written(target)


def test_allow_older_restores_and_records_what_it_undid(
    made: Made, key: str, tmp_path: Path
) -> None:
    target = tmp_path / "restored"
    result = _restore(made, key, made.bag_a, target, "--against", str(made.bag_b), "--allow-older")
    assert result.returncode == 0, result.stderr
    _three_changes(result.stdout, made)
    assert "--allow-older" in result.stderr
    restored = Catalog(target / "catalog.sqlite")
    try:
        rows = restored.conn.execute(
            "SELECT new_value FROM audit WHERE action = 'restore-older'"
        ).fetchall()
        # What was undone really is undone: bag A's members-only item is members-only again.
        assert restored.get_item(made.ids["members"]).visibility == "members"
    finally:
        restored.close()
    assert len(rows) == 1
    record = json.loads(rows[0][0])
    assert record["against"] == [str(made.bag_b.resolve())]
    assert sorted(e["action"] for e in record["undone"]) == [
        "redact",
        "visibility",
        "withhold-speaker",
    ]


def test_a_newer_bag_against_an_older_one_or_the_live_folder_is_not_refused(
    made: Made, key: str, tmp_path: Path
) -> None:
    # B holds every access change A and the data folder hold (the data folder's later entries
    # are only B's own backup row): nothing to undo, so nothing refused.
    target = tmp_path / "restored"
    result = _restore(
        made, key, made.bag_b, target, "--against", str(made.bag_a),
        "--against", str(made.settings.home),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "undoes no redaction" in result.stdout
    restored = Catalog(target / "catalog.sqlite")
    try:
        assert not restored.conn.execute(
            "SELECT 1 FROM audit WHERE action = 'restore-older'"
        ).fetchall()
    finally:
        restored.close()


def test_restoring_an_older_bag_over_the_newer_live_archive_is_refused(
    made: Made, key: str
) -> None:
    home = made.settings.home
    before = home_state(made.settings)
    result = _restore(made, key, made.bag_a, home)
    assert result.returncode == 1, (result.stdout, result.stderr)
    error = [ln for ln in result.stderr.splitlines() if ln.startswith("error: ")]
    assert len(error) == 1 and "is older than the archive in" in error[0], result.stderr
    _three_changes(result.stdout, made)
    assert home_state(made.settings) == before
    assert not list(home.parent.glob(f".{home.name}.restoring-*"))
    # Even knowingly, an archive is never restored over: a new folder is the way.
    again = _restore(made, key, made.bag_a, home, "--allow-older")
    assert again.returncode == 1 and "is not empty (it holds an archive)" in again.stderr
    assert home_state(made.settings) == before


def test_an_unsigned_bag_is_refused_without_naming_the_flag_that_lets_it_through(
    made: Made, key: str, tmp_path: Path
) -> None:
    plain = tmp_path / "plain"
    shutil.copytree(made.bag_b, plain)
    rehash(plain)  # the signature removed, as anyone who changed the bag would
    target = tmp_path / "restored"
    result = _restore(made, key, plain, target)
    assert result.returncode == 1
    assert "is not signed" in result.stderr
    assert "--allow-unsigned" not in result.stderr + result.stdout
    _nothing_written(target)
