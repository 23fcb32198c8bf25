"""Owner-only files (issue 18, point 12, second half).

The data folder was made 0755 and ``catalog.sqlite`` 0644: any other user of the machine could
read password hashes, staff-only transcripts and withheld names, and a bag (which holds
everything) likewise. Here, under the common umask 022, a real archive (ingested media, its
silenced public copy, the search index, the keys, the queue) and a bag and a restored folder made
by the real command are checked path by path: every folder 0700, every file 0600. A data folder
left open by an earlier version is narrowed the first time it is opened, with a note.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import run_cli
from preserve_data import add_item, public_key, tone

from archive.catalog.db import Catalog
from archive.core.config import Settings, load_settings

SPOKEN = [
    (0.0, 1.0, "工會要繼續發聲。", "Unions must keep speaking."),
    (1.0, 2.0, "秘密", "secret"),
]


@pytest.fixture(autouse=True)
def umask_022() -> Iterator[None]:
    """The usual umask (files 0644, folders 0755 unless told otherwise); CLI runs inherit it."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _open_to_others(root: Path) -> list[str]:
    """Every path under ``root`` (itself included) with any group or other permission, or a
    folder that is not exactly 0700 / a file not exactly 0600."""
    found = []
    for path in [root, *sorted(root.rglob("*"))]:
        info = path.lstat()
        mode = stat.S_IMODE(info.st_mode)
        if stat.S_ISLNK(info.st_mode):
            found.append(f"{path.relative_to(root)} is a symlink")
        elif mode != (0o700 if stat.S_ISDIR(info.st_mode) else 0o600):
            found.append(f"{path.relative_to(root)} {mode:04o}")
    return found


def _archive(home: Path) -> tuple[Settings, str]:
    """A real archive: an ingested recording, a redaction (so a silenced public copy), the
    search index, the archive's secret and the queue."""
    from archive.core.keys import load_secret
    from archive.jobs.queue import queue_for
    from archive.workspace.visibility import redact

    settings = load_settings(home).ensure()
    catalog = Catalog.open(settings)
    try:
        item = add_item(settings, catalog, tone(home.parent / "tone.wav", 440), SPOKEN)
        redact(catalog, settings, item, start=1.0, end=2.0, actor="editor")  # + silenced copy
        load_secret(settings)
        assert queue_for(settings).pending_count() == 0  # the queue's database, in use
        assert (home / "catalog.sqlite-wal").exists()  # checked while a connection is open
        assert _open_to_others(home) == []
    finally:
        catalog.close()
    return settings, item


def test_a_new_archive_is_owner_only_throughout(tmp_path: Path) -> None:
    settings, _ = _archive(tmp_path / "home")
    home = settings.home
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    for name in ("catalog.sqlite", "secret.key", "queue.sqlite"):
        assert stat.S_IMODE((home / name).stat().st_mode) == 0o600, name
    assert any((home / "index").rglob("*")) and any((home / "media").rglob("*.wav"))
    assert any((home / "media" / "public").iterdir())  # the silenced public copy
    assert _open_to_others(home) == []


def test_bags_and_restored_folders_are_owner_only(tmp_path: Path) -> None:
    settings, _ = _archive(tmp_path / "home")
    bags = tmp_path / "bags"
    bags.mkdir()
    first = run_cli(settings.home, "backup", str(bags / "one"))
    assert first.returncode == 0, first.stderr
    (bags / "two").mkdir()  # an empty folder given as DEST (0755, the operator's) ...
    second = run_cli(settings.home, "backup", str(bags / "two"))  # ... and media hard-linked
    assert second.returncode == 0, second.stderr
    for bag in ("one", "two"):
        assert _open_to_others(bags / bag) == [], bag
    # The signing key made by the first backup, and its public half, beside the catalog.
    assert _open_to_others(settings.home) == []
    target = tmp_path / "restored"
    restored = run_cli(
        tmp_path / "no-home", "restore", str(bags / "two"), "--home", str(target),
        "--public-key", public_key(settings),
    )  # fmt: skip
    assert restored.returncode == 0, restored.stderr
    assert _open_to_others(target) == []


def test_a_data_folder_left_open_is_narrowed_when_opened_with_a_note(tmp_path: Path) -> None:
    settings, _ = _archive(tmp_path / "home")
    home = settings.home
    # What an earlier version left: every folder 0755, every file 0644.
    for path in [home, *home.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    result = run_cli(home, "list")
    assert result.returncode == 0, result.stderr
    notes = [ln for ln in result.stderr.splitlines() if ln.startswith("note: ")]
    assert len(notes) == 1 and str(home) in notes[0] and "0755" in notes[0], result.stderr
    assert _open_to_others(home) == []
    again = run_cli(home, "list")  # said once: the folder is private now
    assert again.returncode == 0 and "note:" not in again.stderr
