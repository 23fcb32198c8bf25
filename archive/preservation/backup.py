"""``archive backup``: a complete, signed bag of the data folder, made safely beside earlier ones.

:func:`backup` checks where the bag may go, chooses the signing key, finds the earlier bags it may
hard-link media from (:func:`find_previous_bags`: only bags signed by the same key are trusted),
and has :func:`archive.preservation.bag.write_bag` fill the bag.

A bag is first written as ``DEST.incomplete`` and renamed to ``DEST`` only when whole, so a failure
(a full disk, a killed process) never leaves something that looks like a good backup.

Backups hold everything: staff-only and members-only items, redacted text, private media, accounts
(password hashes) and the audit log. ``bag-info.txt`` says so.

Every bag is signed (``bag-signature.txt``, Ed25519, :mod:`archive.preservation.bag_signing`) with a
key that never goes into a bag; the data folder's key is made on the first backup and saved before
the bag is called a backup, so no bag exists whose key was lost. :mod:`archive.preservation.restore`
checks that signature, every checksum and the catalog before it writes anything.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterable
from pathlib import Path

from archive.catalog.audit import write_audit
from archive.catalog.db import Catalog
from archive.core.config import Settings
from archive.core.errors import ArchiveError, PreservationError
from archive.core.filemodes import PRIVATE_DIR, tighten
from archive.preservation import bag_checks
from archive.preservation.bag import (
    BackupReport,
    PreviousBag,
    ProgressFn,
    disk_full,
    fsync_dir,
    inside,
    write_bag,
)
from archive.preservation.bag_checks import BACKUP_FORMAT, INCOMPLETE_MARKER, INCOMPLETE_SUFFIX
from archive.preservation.bag_signing import (
    KEY_ENV,
    BagSigner,
    PublicKey,
    load_signing_key,
    new_signing_key,
    save_signing_key,
    signing_key_path,
    verify_signature,
)

__all__ = [
    "backup",
    "find_previous_bags",
]

# Earlier bags consulted for media to hard-link: the newest few are enough (each holds everything).
PREVIOUS_BAGS = 3


def _read_tag_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError:
        return values
    for line in text.splitlines():
        if ":" in line and not line[:1].isspace():
            key, value = line.split(":", 1)
            values.setdefault(key.strip(), value.strip())
    return values


def find_previous_bags(dest: Path, limit: int = PREVIOUS_BAGS) -> list[Path]:
    """Complete bags of this archive's format beside ``dest``, newest snapshot first."""
    parent = Path(dest).resolve().parent
    found: list[tuple[str, Path]] = []
    if not parent.is_dir():
        return []
    for child in parent.iterdir():
        if (
            child.name.endswith(INCOMPLETE_SUFFIX)
            or not child.is_dir()
            or child == Path(dest).resolve()
        ):
            continue
        info = _read_tag_file(child / "bag-info.txt")
        if (
            info.get("Archive-Format") == BACKUP_FORMAT
            and (child / "manifest-sha256.txt").is_file()
        ):
            found.append((info.get("Archive-Snapshot-Time", ""), child))
    found.sort(reverse=True)
    return [path for _, path in found[:limit]]


def _load_previous(paths: Iterable[Path], key: PublicKey, *, explicit: bool) -> list[PreviousBag]:
    """Earlier bags whose media may be hard-linked: only bags signed by this archive's key, and
    their manifests as signed. A bag found beside DEST that is not is passed over (it may be from
    before bags were signed, or planted); one named with --previous is refused."""
    bags = []
    for path in paths:
        path = Path(path)
        try:
            if not (path / "manifest-sha256.txt").is_file():
                raise PreservationError(f"{path} is not a bag with a sha256 manifest")
            bag_checks.check_tree(path)
            manifest = bag_checks.signed_manifest(path, verify_signature(path, key))
        except PreservationError as exc:
            if explicit:
                raise PreservationError(
                    f"the earlier bag {path} cannot be trusted (not signed by this archive's key "
                    f"{key.fingerprint}, or changed since it was signed): name another bag with "
                    "--previous, or none"
                ) from exc
            continue
        info = _read_tag_file(path / "bag-info.txt")
        bags.append(PreviousBag(path, info.get("Archive-Snapshot-Time", ""), manifest))
    return bags


def _signer(settings: Settings, path: Path, *, explicit: bool) -> BagSigner:
    """The signing key: the data folder's is made on the first backup; one named explicitly
    (an offline key) must exist, so a mistyped path cannot start a second key unnoticed."""
    if not explicit and not path.exists():
        return new_signing_key(path)  # saved once the bag is whole (backup)
    return load_signing_key(path)


def backup(
    settings: Settings,
    dest: str | os.PathLike[str],
    *,
    previous: Iterable[str | os.PathLike[str]] | None = None,
    skip_damaged: bool = False,
    signing_key: str | os.PathLike[str] | None = None,
    progress: ProgressFn | None = None,
    workers: int = 4,
) -> BackupReport:
    """Write a complete, signed BagIt backup of the data folder to ``dest`` (a new or empty folder).

    ``previous``: bags whose media may be hard-linked (default: complete bags beside ``dest``);
    only bags signed by the same key are used.
    ``skip_damaged``: leave out (and list in bag-info) media files that are missing or no longer
    match their sha256, instead of refusing to back up.
    ``signing_key``: the signing key's file (default ``$ARCHIVE_BACKUP_KEY``, else
    ``backup-signing.key`` in the data folder, created on first use: archive.preservation.bag_signing).
    """
    started = time.monotonic()
    home = settings.home.resolve()
    dest_path = Path(dest).expanduser().absolute()
    if inside(dest_path, home):
        raise PreservationError(
            f"the backup destination {dest_path} is inside the data folder {home}: "
            "choose a folder elsewhere, ideally on another disk"
        )
    if inside(home, dest_path):
        raise PreservationError(
            f"the backup destination {dest_path} contains the data folder {home}"
        )
    if dest_path.exists() and (not dest_path.is_dir() or any(dest_path.iterdir())):
        raise PreservationError(
            f"{dest_path} already exists and is not empty: give a new folder for each backup"
        )
    if not settings.catalog_path.is_file():
        raise PreservationError(f"there is no archive in {home} (no catalog.sqlite)")
    key_path = signing_key_path(settings, signing_key)
    if inside(key_path, dest_path):
        raise PreservationError(
            f"the signing key {key_path} is inside the backup destination: keep it apart from bags"
        )
    signer = _signer(settings, key_path, explicit=bool(signing_key or os.environ.get(KEY_ENV)))
    dest_path.parent.mkdir(parents=True, exist_ok=True)
    partial = dest_path.with_name(dest_path.name + INCOMPLETE_SUFFIX)
    if partial.exists():
        if not (partial / INCOMPLETE_MARKER).exists():
            raise PreservationError(
                f"{partial} exists and was not left by an earlier backup: move it away"
            )
        shutil.rmtree(partial)  # an earlier attempt that failed or was killed
    previous_bags = _load_previous(
        [Path(p) for p in previous] if previous is not None else find_previous_bags(dest_path),
        signer.public,
        explicit=previous is not None,
    )
    try:
        partial.mkdir(mode=PRIVATE_DIR)  # the bag holds everything: 0700 from the start
        tighten(partial)
        (partial / INCOMPLETE_MARKER).write_text(
            "This backup did not finish. It is not a usable backup: delete this folder.\n"
        )
        report = write_bag(
            settings,
            partial,
            dest_path,
            previous_bags,
            skip_damaged,
            progress,
            workers,
            started,
            signer,
        )
        if signer.created:
            try:
                save_signing_key(signer)  # before the bag is called a backup: never a lost key
            except FileExistsError:
                raise PreservationError(
                    f"another backup made the signing key {signer.path} meanwhile; run the "
                    "backup again (nothing was written)"
                ) from None
        os.replace(partial, dest_path)  # onto nothing, or onto the empty folder checked above
        fsync_dir(dest_path.parent)
    except BaseException as exc:
        # If even the removal fails, the folder keeps its ".incomplete" name and its marker file.
        shutil.rmtree(partial, ignore_errors=True)
        if disk_full(exc):
            raise PreservationError(
                f"the backup destination {dest_path.parent} ran out of space; the unfinished bag "
                "was removed and the archive was not changed"
            ) from exc
        if isinstance(exc, OSError) and not isinstance(exc, ArchiveError):
            raise PreservationError(
                f"the backup failed: {exc.strerror or exc} ({exc.filename or dest_path}); the "
                "unfinished bag was removed and the archive was not changed"
            ) from exc
        raise
    _record_backup(settings, report)
    return report


def _record_backup(settings: Settings, report: BackupReport) -> None:
    """An audit row in the live catalog: staff can see when the last backup was made, and where."""
    catalog = Catalog(settings.catalog_path)
    try:
        with catalog.transaction() as conn:
            write_audit(
                conn,
                actor="system:backup",
                action="backup",
                target=str(report.path),
                new_value=json.dumps(
                    {
                        "items": report.items,
                        "media_files": report.media_files,
                        "bytes": report.payload_bytes,
                    }
                ),
            )
    finally:
        catalog.close()
