"""Backups given bad input: each is refused with one plain `error:` line and leaves no bag behind
(or only one clearly marked incomplete) and the archive as it was."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import bagit
import pytest
from conftest import ROOT, run_cli
from preserve_data import Sample, home_state, public_key, sample_copy

from archive.core.errors import PreservationError
from archive.preservation.backup import backup
from archive.preservation.bag_checks import INCOMPLETE_MARKER, INCOMPLETE_SUFFIX
from archive.preservation.restore import restore


@pytest.fixture
def sample(tmp_path: Path):
    made = sample_copy(tmp_path)
    yield made
    made.catalog.close()


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_a_destination_inside_the_data_folder_is_refused(sample: Sample) -> None:
    home = sample.settings.home
    before = home_state(sample.settings)
    line = _one_error_line(run_cli(home, "backup", str(home / "backups" / "today")))
    assert "inside the data folder" in line
    assert not (home / "backups").exists()
    assert home_state(sample.settings) == before


def test_a_destination_containing_the_data_folder_is_refused(
    sample: Sample, tmp_path: Path
) -> None:
    line = _one_error_line(run_cli(sample.settings.home, "backup", str(tmp_path)))
    assert "contains the data folder" in line


def test_an_existing_folder_with_files_is_not_written_into(sample: Sample, tmp_path: Path) -> None:
    dest = tmp_path / "bag"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine")
    line = _one_error_line(run_cli(sample.settings.home, "backup", str(dest)))
    assert "already exists and is not empty" in line
    assert [p.name for p in dest.iterdir()] == ["notes.txt"]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path | None]:
    """A real 1 MB file system (tmpfs), or None where mounting is not allowed."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True
    )
    if made.returncode != 0:
        yield None
        return
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _limit_file_size() -> None:
    # Writing past 1 MB fails with EFBIG, as on a full disk (not a signal that kills the process).
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1024 * 1024, 1024 * 1024))


def test_a_full_disk_removes_the_partial_bag_and_leaves_the_archive_untouched(
    sample: Sample, tmp_path: Path, small_disk: Path | None
) -> None:
    home = sample.settings.home
    before = home_state(sample.settings)
    audit_rows = sample.catalog.conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0]
    if small_disk is not None:
        dest = small_disk / "bag"
        result = run_cli(home, "backup", str(dest))
        leftovers = list(small_disk.iterdir())
    else:  # no mount here: the same real write failure, from a file-size limit on the process
        dest = tmp_path / "limited" / "bag"
        result = subprocess.run(
            [sys.executable, "-m", "archive", "--home", str(home), "backup", str(dest)],
            capture_output=True, text=True, cwd=ROOT, preexec_fn=_limit_file_size, timeout=300,
        )  # fmt: skip
        leftovers = list(dest.parent.iterdir()) if dest.parent.exists() else []
    line = _one_error_line(result)
    assert "ran out of space" in line and "unfinished bag was removed" in line
    assert leftovers == []
    assert home_state(sample.settings) == before
    assert sample.catalog.conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0] == audit_rows


def test_an_interrupted_backup_is_marked_incomplete_and_cleared_by_the_next(
    sample: Sample, tmp_path: Path
) -> None:
    dest = tmp_path / "bag"
    # What a killed backup leaves: a folder named .incomplete with the marker file in it.
    partial = tmp_path / f"bag{INCOMPLETE_SUFFIX}"
    (partial / "data").mkdir(parents=True)
    (partial / INCOMPLETE_MARKER).write_text("unfinished")
    with pytest.raises(PreservationError, match="unfinished backup"):
        restore(partial, tmp_path / "restored", public_key="ed25519:" + "A" * 43 + "=")
    backup(sample.settings, dest)
    assert not partial.exists()
    assert bagit.Bag(str(dest)).is_valid()


def test_a_missing_media_file_is_named_and_can_be_skipped_knowingly(
    sample: Sample, tmp_path: Path
) -> None:
    audio = sample.catalog.get_media(sample.members_id, "audio")
    os.unlink(sample.settings.home / audio.path)
    line = _one_error_line(run_cli(sample.settings.home, "backup", str(tmp_path / "bag")))
    assert f"item {sample.members_id}: {audio.path} (audio): missing from the data folder" in line
    assert not (tmp_path / "bag").exists()

    result = run_cli(sample.settings.home, "backup", str(tmp_path / "bag"), "--skip-damaged")
    assert result.returncode == 0, result.stderr
    assert f"left out item {sample.members_id}" in result.stderr
    info = bagit.Bag(str(tmp_path / "bag")).info
    assert sample.members_id in info["Archive-Skipped-Media"]
    report = restore(
        tmp_path / "bag", tmp_path / "restored", public_key=public_key(sample.settings)
    )
    assert report.missing_media == (f"item {sample.members_id}: {audio.path}",)
