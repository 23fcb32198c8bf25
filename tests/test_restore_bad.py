"""Restore given a bad bag or a bad place: refused before anything is written, the file named."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import bagit
import pytest
from conftest import run_cli
from preserve_data import public_key, rehash, sample_copy

from archive.catalog.migrations import SCHEMA_VERSION
from archive.preservation.backup import backup


@pytest.fixture(scope="module")
def good_bag(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("restore-bad")
    sample = sample_copy(folder)
    try:
        backup(sample.settings, folder / "bag")
    finally:
        sample.catalog.close()
    return folder / "bag"


def _home(good_bag: Path):  # type: ignore[no-untyped-def]
    from archive.core.config import load_settings

    return load_settings(good_bag.parent / "home")


@pytest.fixture(scope="module")
def key(good_bag: Path) -> str:
    """The public key `archive backup` printed for the good bag."""
    return public_key(_home(good_bag))


@pytest.fixture
def bag(good_bag: Path, tmp_path: Path) -> Path:
    """A copy of the good bag, to damage."""
    copy = tmp_path / "bag"
    shutil.copytree(good_bag, copy)
    return copy


def _refused(bag: Path, target: Path, key: str) -> str:
    result = run_cli(
        target.parent / "no-home", "restore", str(bag), "--home", str(target), "--public-key", key
    )
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert not target.exists() or not any(target.iterdir())
    assert not list(target.parent.glob(f".{target.name}.restoring-*"))
    return lines[0]


def _bagit_says_invalid(bag: Path) -> bool:
    check = subprocess.run(
        [sys.executable, "-m", "bagit", "--validate", str(bag)], capture_output=True, text=True
    )
    return check.returncode != 0


def test_the_good_bag_restores(good_bag: Path, tmp_path: Path, key: str) -> None:
    # The control for every test below: the same bag, undamaged, restores.
    result = run_cli(
        tmp_path / "no-home", "restore", str(good_bag), "--check-only", "--public-key", key
    )
    assert result.returncode == 0, result.stderr
    assert "complete, unchanged backup" in result.stdout
    result = run_cli(
        tmp_path / "no-home", "restore", str(good_bag), "--home", str(tmp_path / "restored"),
        "--public-key", key,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "restored" / "catalog.sqlite").is_file()


def test_one_flipped_byte_in_a_media_file_is_found_and_named(
    bag: Path, tmp_path: Path, key: str
) -> None:
    victim = sorted((bag / "data" / "media").rglob("*.m4a"))[0]
    data = bytearray(victim.read_bytes())
    data[len(data) // 3] ^= 0x01
    victim.write_bytes(bytes(data))
    line = _refused(bag, tmp_path / "restored", key)
    rel = victim.relative_to(bag).as_posix()
    assert f"{rel} has changed" in line and "nothing was restored" in line
    assert _bagit_says_invalid(bag)  # the standard tool agrees


def test_a_missing_payload_file_is_named(bag: Path, tmp_path: Path, key: str) -> None:
    victim = sorted((bag / "data" / "transcripts").glob("*.json"))[0]
    victim.unlink()
    line = _refused(bag, tmp_path / "restored", key)
    assert f"{victim.relative_to(bag).as_posix()} is missing" in line


def test_an_extra_payload_file_is_named(bag: Path, tmp_path: Path, key: str) -> None:
    (bag / "data" / "media" / "smuggled.m4a").write_bytes(b"not from the archive")
    line = _refused(bag, tmp_path / "restored", key)
    assert "data/media/smuggled.m4a is not in the manifest" in line
    assert _bagit_says_invalid(bag)


def test_a_changed_bag_info_is_caught_by_the_tag_manifest(
    bag: Path, tmp_path: Path, key: str
) -> None:
    info = bag / "bag-info.txt"
    info.write_text(info.read_text().replace("Archive-Item-Count: 5", "Archive-Item-Count: 4"))
    line = _refused(bag, tmp_path / "restored", key)
    assert "bag-info.txt has changed" in line


@pytest.mark.parametrize("where", ["bag-info and catalog", "catalog only"])
def test_a_bag_from_a_newer_schema_is_refused(
    bag: Path, good_bag: Path, tmp_path: Path, where: str, key: str
) -> None:
    newer = SCHEMA_VERSION + 1
    conn = sqlite3.connect(bag / "data" / "catalog.sqlite")
    conn.execute(f"PRAGMA user_version = {newer}")
    conn.close()
    # Otherwise a perfectly valid bag, signed by the same key (a newer release made it).
    info = {"Archive-Schema-Version": str(newer)} if where == "bag-info and catalog" else None
    rehash(bag, _home(good_bag), info=info)
    line = _refused(bag, tmp_path / "restored", key)
    assert f"catalog schema {newer}" in line and "newer version of the software" in line


def test_a_folder_with_files_is_not_restored_into(good_bag: Path, tmp_path: Path, key: str) -> None:
    target = tmp_path / "busy"
    target.mkdir()
    (target / "keep.txt").write_text("precious")
    result = run_cli(
        tmp_path / "no-home", "restore", str(good_bag), "--home", str(target), "--public-key", key
    )
    assert result.returncode == 1
    assert "is not empty" in result.stderr
    assert [p.name for p in target.iterdir()] == ["keep.txt"]
    assert (target / "keep.txt").read_text() == "precious"


def test_an_empty_folder_may_be_restored_into(good_bag: Path, tmp_path: Path, key: str) -> None:
    target = tmp_path / "empty"
    target.mkdir()
    result = run_cli(
        tmp_path / "no-home", "restore", str(good_bag), "--home", str(target), "--public-key", key
    )
    assert result.returncode == 0, result.stderr
    assert (target / "catalog.sqlite").is_file()


def test_a_folder_that_is_not_a_bag_is_refused(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    (plain / "data").mkdir(parents=True)
    line = _refused(plain, tmp_path / "restored", "ed25519:" + "A" * 43 + "=")
    assert "is not a BagIt bag" in line


def test_a_bag_that_is_not_an_archive_backup_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "photo.jpg").write_bytes(b"\xff\xd8 a photo")
    bagit.make_bag(str(other), {"Source-Organization": "someone else"}, checksums=["sha256"])
    line = _refused(other, tmp_path / "restored", "ed25519:" + "A" * 43 + "=")
    assert "not a backup made by `archive backup`" in line


def test_archive_home_before_restore_names_the_new_folder(
    good_bag: Path, tmp_path: Path, key: str
) -> None:
    result = run_cli(tmp_path / "no-home", "restore", str(good_bag), "--public-key", key)
    # The group's --home (here a folder that does not exist yet) names the new folder.
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "no-home" / "catalog.sqlite").is_file()
