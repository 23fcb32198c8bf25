"""A backup bag, written: its layout, the catalog snapshot it is read from, and the copying.

:func:`write_bag` fills a folder with a *bag* (RFC 8493, sha256 manifests) that any archivist can
check with standard tools (``bagit.py --validate BAG``) and that
:func:`archive.preservation.restore.restore` turns back into a working data folder::

    BAG/
      bagit.txt  bag-info.txt  manifest-sha256.txt  tagmanifest-sha256.txt
      about-this-bag.txt          what is inside, in English and Chinese, and how to check it
      bag-signature.txt           the Ed25519 signature (archive.preservation.bag_signing)
      data/
        archive.json              counts, versions, and the files that rebuild a data folder
        catalog.sqlite            the catalog: a consistent snapshot (SQLite's online backup API)
        media/…                   every catalogued media file, at the same path as in the data folder
        glossary.tsv              the data folder's own glossary additions (when there are any)
        glossary-builtin.tsv      the glossary shipped with the software that made the bag
        transcripts/<item>.json   every revision of every transcript, segments and redaction spans included
        audit-log.jsonl           the audit log, one entry a line

Consistency while the portal and workers keep running: the catalog is copied first, in one step of
SQLite's backup API (:func:`snapshot_catalog`: a read transaction, writers carry on in WAL mode),
and everything else is read from that snapshot, never from the live catalog. Media files are
content-addressed and never change once stored, so the snapshot's rows name exactly the bytes to
copy; rows written after the snapshot are simply not in this bag. Every copied file is hashed on
the way and must match the sha256 the catalog recorded at ingest: a bag never silently carries a
damaged file. Media an earlier bag already holds (:class:`PreviousBag`, when its signed manifest
says they are the bytes the catalog expects) are hard-linked instead of copied again.

The snapshot passes the same catalog check as restore's (:mod:`archive.preservation.bag_checks`)
before anything is signed. Where the bag goes, which key signs it and the ``.incomplete`` rename
are :mod:`archive.preservation.backup`'s; the small file helpers here (:func:`fsync_dir`,
:func:`inside`, :func:`disk_full`, :func:`human_bytes`) serve backup and restore both.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import sqlite3
import stat
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import bagit

from archive.catalog.db import Catalog
from archive.catalog.models import MediaFile
from archive.core.config import Settings
from archive.core.errors import PreservationError
from archive.core.filemodes import PRIVATE_DIR, private_file, private_opener, tighten_tree
from archive.core.paths import MEDIA_FOLDER, POSTER_FOLDER, confined_name
from archive.preservation import bag_checks
from archive.preservation.bag_checks import (
    BACKUP_FORMAT,
    INCOMPLETE_MARKER,
    MAX_NAMED_PROBLEMS,
    copy_hashing,
)
from archive.preservation.bag_signing import BagSigner, sign_bag
from indexer.glossary import BUILTIN_GLOSSARY

__all__ = [
    "BackupReport",
    "PreviousBag",
    "ProgressFn",
    "disk_full",
    "fsync_dir",
    "human_bytes",
    "inside",
    "snapshot_catalog",
    "software_version",
    "write_bag",
]

CHUNK = 4 * 1024 * 1024

# bagit.py logs each problem it finds as a warning; our message names them all in one line, so
# its records go to the application's logging set-up, if any, and never raw to the terminal.
logging.getLogger("bagit").addHandler(logging.NullHandler())

# phase, done, total (bytes for "media", files or items elsewhere)
ProgressFn = Callable[[str, int, int], None]


def software_version() -> str:
    """This software's installed version (written into every bag), or "unknown"."""
    try:
        return metadata.version("hk-labour-archive")
    except Exception:  # running from a source tree that was never installed
        return "unknown"


@dataclass(frozen=True)
class BackupReport:
    """What one backup wrote, and the key that signed it."""

    path: Path
    items: int
    media_files: int
    payload_files: int
    payload_bytes: int
    copied_bytes: int
    linked_files: int  # media hard-linked from an earlier bag instead of copied
    linked_bytes: int
    seconds: float
    schema_version: int
    skipped: tuple[str, ...] = ()  # media left out with --skip-damaged: "item: path: reason"
    public_key: str = ""  # ed25519:… — what restore must be given
    key_fingerprint: str = ""
    key_path: Path | None = None  # the signing key (secret; never in the bag)
    key_created: bool = False  # made by this backup: tell the operator to keep it

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "items": self.items,
            "media_files": self.media_files,
            "payload_files": self.payload_files,
            "payload_bytes": self.payload_bytes,
            "copied_bytes": self.copied_bytes,
            "linked_files": self.linked_files,
            "linked_bytes": self.linked_bytes,
            "seconds": round(self.seconds, 3),
            "schema_version": self.schema_version,
            "skipped": list(self.skipped),
            "public_key": self.public_key,
            "key_fingerprint": self.key_fingerprint,
            "signing_key": str(self.key_path) if self.key_path else None,
            "signing_key_created": self.key_created,
        }


# -- the catalog snapshot ----------------------------------------------------------------------


class _ReadOnlyCatalog(Catalog):
    """A catalog opened read-only: the snapshot in a bag is read, never changed (no WAL files)."""

    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                Path(self.path).resolve().as_uri() + "?mode=ro", uri=True, check_same_thread=False
            )
            conn.row_factory = sqlite3.Row
            self._local.conn = conn
        return conn


def snapshot_catalog(source: Path, destination: Path) -> int:
    """Copy a live catalog with SQLite's online backup API; returns the snapshot's schema version.

    One step (``pages=-1``) copies every page inside one read transaction, so the copy is the
    catalog as of one instant even while other processes write (WAL readers do not block writers,
    and a write transaction still open is simply not in the copy). The copy is switched to a
    rollback journal so that it is one self-contained file.
    """
    src = sqlite3.connect(f"{Path(source).resolve().as_uri()}?mode=ro", uri=True, timeout=60)
    private_file(destination)  # SQLite would make it 0644
    try:
        dst = sqlite3.connect(destination)
        try:
            src.backup(dst, pages=-1)
            dst.execute("PRAGMA journal_mode=DELETE")
            version = int(dst.execute("PRAGMA user_version").fetchone()[0])
        finally:
            dst.close()
    finally:
        src.close()
    return version


# -- small helpers -----------------------------------------------------------------------------


def _hash_file(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _write_payload(path: Path, data: bytes) -> tuple[str, int]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "xb", opener=private_opener) as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    return hashlib.sha256(data).hexdigest(), len(data)


def fsync_dir(path: Path) -> None:
    """fsync a folder, so that the names in it (a rename, a new file) are on the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(root: Path) -> None:
    """fsync the tag files and every folder of a bag, so that its names, not only its file
    contents, are on the disk. (os.sync() would flush every other program's writes too.)"""
    for path in [root, *sorted(p for p in root.rglob("*") if p.is_dir())]:
        fsync_dir(path)
    for path in root.iterdir():
        if path.is_file():
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())


def inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` is ``folder`` or under it, symlinks resolved."""
    path, folder = path.resolve(), folder.resolve()
    return path == folder or path.is_relative_to(folder)


def human_bytes(n: int) -> str:
    """A size as people read it: ``512 B``, ``1.5 MB``."""
    value = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:.1f} {unit}" if unit != "B" else f"{int(value)} B"
        value /= 1024
    return f"{n} B"


def disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` says the disk (or the quota, or the file size limit) is full."""
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


# -- previous bags -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PreviousBag:
    """An earlier bag, trusted (signed by this archive's key), whose media may be hard-linked."""

    path: Path
    snapshot_at: str
    manifest: dict[str, str]  # "data/…" → sha256


# -- writing the bag ---------------------------------------------------------------------------


@dataclass
class _Tally:
    """Shared by the copying threads; every change under ``lock``."""

    total: int
    progress: ProgressFn | None
    lock: threading.Lock = field(default_factory=threading.Lock)
    done: int = 0
    copied: int = 0
    linked_files: int = 0
    linked_bytes: int = 0

    def add(self, n: int, *, linked: bool = False) -> None:
        with self.lock:
            self.done += n
            if linked:
                self.linked_files += 1
                self.linked_bytes += n
            else:
                self.copied += n
            done = self.done
        if self.progress:
            self.progress("media", done, self.total)


def _transcript_document(cat: Catalog, item_id: str) -> dict[str, Any]:
    item = cat.get_item(item_id)
    # Redactions are spans of the recording (seconds); each segment's "redacted" below says
    # whether one of them hides it.
    redactions = [
        dict(row)
        for row in cat.conn.execute(
            'SELECT id, start, "end", reason, created_by, created_at, origin_uid FROM redactions '
            'WHERE item_id = ? ORDER BY start, "end", id',
            (item_id,),
        )
    ]
    revisions = []
    for rev in cat.list_revisions(item_id):
        full = cat.get_revision(item_id, rev.revision)
        revisions.append(
            {
                "revision": full.revision,
                "origin": full.origin,
                "model": full.model,
                "decode_language": full.decode_language,
                "author": full.author,
                "summary": full.summary,
                "changes": list(full.changes),
                "created_at": full.created_at,
                "segments": [_segment_dict(s) for s in full.segments],
            }
        )
    return {
        "format": "hk-labour-archive-transcript/2",
        "item_id": item.id,
        "title_zh": item.title_zh,
        "title_en": item.title_en,
        "visibility": item.visibility,
        "redactions": redactions,
        "revisions": revisions,
    }


def _segment_dict(s: Any) -> dict[str, Any]:
    # Segment.to_dict() goes through dataclasses.asdict, ten times slower for the same dict.
    return {
        "start": s.start,
        "end": s.end,
        "text_zh": s.text_zh,
        "text_en": s.text_en,
        "lang": s.lang,
        "text_raw": s.text_raw,
        "en_machine": s.en_machine,
        "speaker": s.speaker,
        "reviewed": s.reviewed,
        "redacted": s.redacted,
        "uid": s.uid,
        "words": [
            {"start": w.start, "end": w.end, "text": w.text, "probability": w.probability}
            for w in s.words
        ],
    }


def _about_text(organisation: str, when: str, items: int) -> str:
    return f"""This is a complete backup of the archive of {organisation}, made {when} ({items} items).
It is a BagIt bag (RFC 8493). Check it with any BagIt tool, for example:

    bagit.py --validate THIS-FOLDER

It holds EVERYTHING, including staff-only and members-only recordings, redacted transcript text,
user accounts (password hashes) and the audit log. Keep it private: store it encrypted.

To rebuild the archive on a new machine:
    archive restore THIS-FOLDER --home NEW-DATA-FOLDER --public-key KEY
KEY is the public key `archive backup` printed when this bag was made. It is not in this bag: the
bag is signed (bag-signature.txt), and restore refuses it if anything in it has been changed.

data/catalog.sqlite is the catalog (SQLite 3). data/media/ holds the recordings, named by the
sha256 of their bytes. data/transcripts/ has every revision of every transcript as JSON, and
data/audit-log.jsonl the audit log, so they can be read without this software.

這是{organisation}檔案庫的完整備份（{when}，共 {items} 項），格式為 BagIt（RFC 8493），
可用任何 BagIt 工具核對（例如 bagit.py --validate 本資料夾）。
備份包含所有內容：只限職員及會員的錄音、已刪隱的逐字稿文字、用戶帳戶（密碼雜湊）及審計紀錄。
請妥善保密，並以加密方式存放。
"""


def write_bag(
    settings: Settings,
    bag_dir: Path,
    final_path: Path,
    previous_bags: list[PreviousBag],
    skip_damaged: bool,
    progress: ProgressFn | None,
    workers: int,
    started: float,
    signer: BagSigner,
) -> BackupReport:
    """Write the whole bag into ``bag_dir`` (the ``.incomplete`` folder :func:`backup` made):
    snapshot, media, readable copies, tag files, signature. ``final_path`` is only named in
    messages and the report; the caller renames ``bag_dir`` there once the bag is whole."""
    home = settings.home.resolve()
    data = bag_dir / "data"
    data.mkdir(mode=PRIVATE_DIR)
    manifest: dict[str, str] = {}
    payload_bytes = 0

    def record(rel: str, digest_size: tuple[str, int]) -> None:
        nonlocal payload_bytes
        manifest[rel] = digest_size[0]
        payload_bytes += digest_size[1]

    if progress:
        progress("snapshot", 0, 1)
    # To the microsecond: two backups taken in the same second are still two moments, and the
    # newest-first order of previous bags (for linking unchanged media) stays exact.
    snapshot_at = datetime.now(UTC).isoformat(timespec="microseconds")
    schema = snapshot_catalog(settings.catalog_path, data / "catalog.sqlite")
    # A bag restore would refuse is no backup; and signing a catalog with a planted trigger or a
    # path out of media/ would vouch for it. The same check as restore's, on the snapshot.
    bag_checks.check_catalog(
        data / "catalog.sqlite",
        final_path,
        schema,
        what=f"this archive's catalog {settings.catalog_path}",
        then="so no backup was made: it has been changed outside this software",
    )
    record("data/catalog.sqlite", _hash_file(data / "catalog.sqlite"))
    if progress:
        progress("snapshot", 1, 1)

    snap = _ReadOnlyCatalog(data / "catalog.sqlite")
    try:
        item_ids = snap.item_ids()
        media = snap.list_media()
        posters = _poster_paths(snap, schema)
        data_folder_files = ["catalog.sqlite"]

        # Media: hard-link what an earlier bag already holds, copy (and check) the rest.
        reuse: dict[str, Path] = {}
        for prev in reversed(previous_bags):  # newest last, so it wins
            for rel, digest in prev.manifest.items():
                if rel.startswith("data/"):
                    reuse[f"{rel}\0{digest}"] = prev.path / rel
        tally = _Tally(total=sum(m.size for m in media), progress=progress)
        problems: list[str] = []
        done_media: list[str] = []
        lock = threading.Lock()

        def one(m: MediaFile) -> None:
            rel = f"data/{m.path}"
            if not confined_name(m.path, MEDIA_FOLDER):
                with lock:
                    problems.append(
                        f"item {m.item_id}: {m.path}: not a path inside the data folder"
                    )
                return
            target = bag_dir / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            outcome = _obtain(
                home / m.path, target, m.sha256, m.size, reuse.get(f"{rel}\0{m.sha256}"), tally
            )
            with lock:
                if outcome is None:
                    manifest[rel] = m.sha256
                    done_media.append(m.path)
                else:
                    problems.append(f"item {m.item_id}: {m.path} ({m.role}): {outcome}")

        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            for future in [pool.submit(one, m) for m in media]:
                future.result()
        stored = set(done_media)
        payload_bytes += sum(m.size for m in media if m.path in stored)
        if problems and not skip_damaged:
            named = "; ".join(sorted(problems)[:MAX_NAMED_PROBLEMS])
            more = (
                f" (and {len(problems) - MAX_NAMED_PROBLEMS} more)"
                if len(problems) > MAX_NAMED_PROBLEMS
                else ""
            )
            raise PreservationError(
                f"{len(problems)} media file(s) cannot be backed up: {named}{more}. Nothing was "
                "written. Run `archive fixity` for the full picture, or `archive backup --skip-damaged` "
                "to back up everything else"
            )
        data_folder_files += sorted(done_media)

        for rel_path in posters:
            source = home / rel_path
            if confined_name(rel_path, POSTER_FOLDER) and source.is_file():
                target = bag_dir / "data" / rel_path
                target.parent.mkdir(parents=True, exist_ok=True)
                record(f"data/{rel_path}", copy_hashing(source, target))
                data_folder_files.append(rel_path)

        # Readable copies: every transcript revision, the audit log, the glossaries.
        for n, item_id in enumerate(item_ids, start=1):
            document = _transcript_document(snap, item_id)
            record(
                f"data/transcripts/{item_id}.json",
                # One line of JSON (json's fast encoder); `jq .` shows it indented.
                _write_payload(
                    data / "transcripts" / f"{item_id}.json",
                    json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
                    + b"\n",
                ),
            )
            if progress and (n % 50 == 0 or n == len(item_ids)):
                progress("transcripts", n, len(item_ids))
        audit_lines = [
            json.dumps(dict(row), ensure_ascii=False) + "\n"
            for row in snap.conn.execute("SELECT * FROM audit ORDER BY id")
        ]
        record(
            "data/audit-log.jsonl",
            _write_payload(data / "audit-log.jsonl", "".join(audit_lines).encode()),
        )
        local_glossary = home / "glossary.tsv"
        if local_glossary.is_file():
            record("data/glossary.tsv", copy_hashing(local_glossary, data / "glossary.tsv"))
            data_folder_files.append("glossary.tsv")
        builtin = _builtin_glossary()
        if builtin is not None:
            record(
                "data/glossary-builtin.tsv", copy_hashing(builtin, data / "glossary-builtin.tsv")
            )
        revisions = int(snap.conn.execute("SELECT COUNT(*) FROM transcripts").fetchone()[0])
    finally:
        snap.close()

    organisation = settings.organisation
    description = {
        "format": BACKUP_FORMAT,
        "organisation": organisation,
        "snapshot_at": snapshot_at,
        "software_version": software_version(),
        "schema_version": schema,
        "items": len(item_ids),
        "media_files": len(done_media),
        "transcript_revisions": revisions,
        "audit_entries": len(audit_lines),
        "access": "everything: includes staff-only and members-only items, redacted text, private "
        "media, user accounts (password hashes) and the audit log",
        "data_folder_files": data_folder_files,
        "skipped_media": sorted(problems),
    }
    record(
        "data/archive.json",
        _write_payload(
            data / "archive.json", json.dumps(description, ensure_ascii=False, indent=1).encode()
        ),
    )

    # The tag files. The manifest is written from the hashes taken while copying (bagit.py would
    # read every byte again); bagit.py then writes bag-info.txt and the tag manifest, and checks
    # that the payload is complete.
    (bag_dir / "bagit.txt").write_text(
        "BagIt-Version: 0.97\nTag-File-Character-Encoding: UTF-8\n", encoding="utf-8"
    )
    with open(bag_dir / "manifest-sha256.txt", "w", encoding="utf-8") as fh:
        for rel in sorted(manifest):
            fh.write(f"{manifest[rel]}  {rel}\n")
    (bag_dir / INCOMPLETE_MARKER).unlink()
    (bag_dir / "about-this-bag.txt").write_text(
        _about_text(organisation, snapshot_at, len(item_ids)), encoding="utf-8"
    )
    bag = bagit.Bag(str(bag_dir))
    info: dict[str, Any] = {
        "Source-Organization": organisation,
        "Bagging-Date": datetime.now(UTC).date().isoformat(),
        "Bag-Software-Agent": f"hk-labour-archive {software_version()} (bagit.py {bagit.VERSION})",
        "External-Description": (
            f"Complete backup of the archive of {organisation}: catalog (SQLite), media, every "
            "transcript revision (JSON), glossary and audit log"
        ),
        "Internal-Sender-Description": description["access"],
        "Bag-Size": human_bytes(payload_bytes),
        "Payload-Oxum": f"{payload_bytes}.{len(manifest)}",
        "Archive-Format": BACKUP_FORMAT,
        "Archive-Software-Version": software_version(),
        "Archive-Schema-Version": str(schema),
        "Archive-Item-Count": str(len(item_ids)),
        "Archive-Media-Count": str(len(done_media)),
        "Archive-Transcript-Revision-Count": str(revisions),
        "Archive-Snapshot-Time": snapshot_at,
        "Archive-Access": "PRIVATE - holds everything, staff-only and redacted material included",
    }
    if previous_bags:
        info["Archive-Media-Linked-From"] = [p.path.name for p in previous_bags]
    if problems:
        info["Archive-Skipped-Media"] = sorted(problems)
    bag.info = info
    bag.save(manifests=False)
    bag.validate(completeness_only=True)  # every file present and listed, Payload-Oxum right
    sign_bag(bag_dir, signer)  # last: it signs the tag manifest, which covers everything else
    # Owner-only, like the data folder it copies: bagit.py and mkdir use the umask. The bag's
    # folder has been 0700 since it was made, so nobody else could open anything meanwhile.
    tighten_tree(bag_dir)
    _fsync_tree(bag_dir)
    if progress:
        progress("finish", 1, 1)
    return BackupReport(
        path=final_path,
        items=len(item_ids),
        media_files=len(done_media),
        payload_files=len(manifest),
        payload_bytes=payload_bytes,
        copied_bytes=tally.copied,
        linked_files=tally.linked_files,
        linked_bytes=tally.linked_bytes,
        seconds=time.monotonic() - started,
        schema_version=schema,
        skipped=tuple(sorted(problems)),
        public_key=signer.public.text,
        key_fingerprint=signer.public.fingerprint,
        key_path=signer.path,
        key_created=signer.created,
    )


def _obtain(
    source: Path, target: Path, sha256: str, size: int, earlier: Path | None, tally: _Tally
) -> str | None:
    """Put one media file at ``target``; None when done, else why it could not be."""
    if earlier is not None:
        try:
            found = earlier.lstat()  # a symlink in an earlier bag is never followed
            if stat.S_ISREG(found.st_mode) and found.st_size == size:
                os.link(earlier, target)
                tally.add(size, linked=True)
                return None
        except OSError as exc:
            if exc.errno not in (
                errno.EXDEV,
                errno.EPERM,
                errno.EMLINK,
                errno.ENOTSUP,
                errno.EACCES,
                errno.ENOENT,
            ):
                raise
    reason = None
    try:
        digest, copied = copy_hashing(source, target, lambda n: tally.add(n))
        if digest == sha256:
            return None
        reason = f"changed since ingest (sha256 {digest[:12]}…, expected {sha256[:12]}…)"
        target.unlink()
    except FileNotFoundError:
        reason = "missing from the data folder"
        target.unlink(missing_ok=True)
    except PermissionError:
        reason = "cannot be read (permission denied)"
        target.unlink(missing_ok=True)
    # The data folder's copy is gone or damaged: an earlier bag may still hold the good bytes.
    if earlier is not None and earlier.is_file() and not earlier.is_symlink():
        digest, _ = copy_hashing(earlier, target)
        if digest == sha256:
            return None
        target.unlink()
    return reason


def _poster_paths(cat: Catalog, schema: int) -> list[str]:
    if schema < 2:
        return []
    return sorted(
        {
            r[0]
            for r in cat.conn.execute(
                "SELECT poster_path FROM events WHERE poster_path IS NOT NULL AND poster_path != ''"
            )
        }
    )


def _builtin_glossary() -> Path | None:
    return BUILTIN_GLOSSARY if BUILTIN_GLOSSARY.is_file() else None
