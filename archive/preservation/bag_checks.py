"""What restore checks in a bag before it uses anything in it: restore trusts nothing it reads.

A bag comes back from a disk, a courier or an offsite repository that an adversary may have had in
hand. :func:`check_bag` runs every check, in this order, and raises :class:`PreservationError` at
the first that fails; nothing has been written by then (the catalog is read in a private temporary
copy). Besides the signature (:mod:`archive.preservation.bag_signing`: the tag manifest, signed by the key whose
public half the operator gives) and every checksum (bagit), it checks:

- **the files of the bag** (:func:`check_tree`): only folders and regular files (no symlink, FIFO,
  device or socket anywhere, so nothing read "from the bag" comes from elsewhere); at the top only
  the tag files this software writes and ``data/``; every path in the manifests confined under
  ``data/`` (:func:`check_manifest_paths`);
- **the manifests through the signature** (:func:`signed_manifest`): the payload manifest used for
  the copy is the one whose sha256 the signed tag manifest records, read once;
- **the catalog** (:func:`check_catalog`), in a temporary copy opened read-only with SQLite's
  ``trusted_schema`` off: ``user_version`` within 1 … this software's schema; ``PRAGMA
  integrity_check`` ok; its ``sqlite_master`` (type, name, table, normalised SQL) exactly that of a
  fresh catalog migrated to the same version by :data:`archive.catalog.migrations.MIGRATIONS` — no extra
  trigger, view, table or index, no changed definition (migrations added later are covered by
  construction); every path it names (``media.path``, ``events.poster_path``,
  ``fixity_checks.path``, and any other column called ``path`` or ``…_path``) relative, normalised
  and inside its folder (:mod:`archive.core.paths`);
- **the files to restore** (:func:`check_restore_list`): only ``catalog.sqlite``, ``glossary.tsv``
  and files under ``media/``, each held by the bag — never a key, a queue or a session database.

Each check raises :class:`PreservationError` with one sentence naming what is wrong.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import bagit

from archive.catalog.audit import AuditEntry
from archive.catalog.db import Catalog
from archive.catalog.migrations import SCHEMA_VERSION
from archive.core.errors import PreservationError
from archive.core.filemodes import private_opener
from archive.core.paths import MEDIA_FOLDER, POSTER_FOLDER, confined_name
from archive.preservation.bag_signing import (
    PUBLIC_KEY_ENV,
    SIGNATURE_FILE,
    SIGNED_FILE,
    PublicKey,
    read_signature,
    verify_signature,
)

__all__ = [
    "BACKUP_FORMAT",
    "INCOMPLETE_MARKER",
    "INCOMPLETE_SUFFIX",
    "TAG_FILES",
    "BagCheck",
    "catalog_version",
    "check_bag",
    "check_top_level",
    "check_catalog",
    "check_manifest_paths",
    "check_restore_list",
    "check_tree",
    "copy_hashing",
    "copy_verified",
    "expected_schema",
    "open_untrusted",
    "parse_manifest",
    "read_audit",
    "signed_manifest",
]

PAYLOAD_MANIFEST = "manifest-sha256.txt"
# The top of a bag made by `archive backup`: these tag files and data/, nothing else.
TAG_FILES = frozenset(
    {
        "bagit.txt",
        "bag-info.txt",
        PAYLOAD_MANIFEST,
        SIGNED_FILE,
        "about-this-bag.txt",
        SIGNATURE_FILE,
    }
)
# Files a restore may put in the new data folder, besides those under media/.
RESTORABLE_FILES = frozenset({"catalog.sqlite", "glossary.tsv"})
# Columns that name a file, and the folder each must stay in; any other column called "path" or
# "…_path" (a later migration's) must stay in media/.
PATH_COLUMNS = {
    ("media", "path"): MEDIA_FOLDER,
    ("events", "poster_path"): POSTER_FOLDER,
    ("fixity_checks", "path"): MEDIA_FOLDER,
}
# Tables SQLite itself may add to any catalog (ANALYZE): allowed with their built-in definition.
_SQLITE_STAT = {
    "sqlite_stat1": "CREATE TABLE sqlite_stat1(tbl,idx,stat)",
    "sqlite_stat4": "CREATE TABLE sqlite_stat4(tbl,idx,neq,nlt,ndlt,sample)",
}
MAX_NAMED = 10
MAX_NAMED_PROBLEMS = 20  # changed, missing or extra files named in one message
CHUNK = 4 * 1024 * 1024
BACKUP_FORMAT = "hk-labour-archive-backup/1"
INCOMPLETE_SUFFIX = ".incomplete"
INCOMPLETE_MARKER = "BACKUP-INCOMPLETE.txt"


REFUSED = "so nothing was restored"


def _fail(message: str, then: str = REFUSED) -> PreservationError:
    return PreservationError(f"{message}, {then}")


def _named(problems: list[str]) -> str:
    more = f" and {len(problems) - MAX_NAMED} more" if len(problems) > MAX_NAMED else ""
    return "; ".join(problems[:MAX_NAMED]) + more


# -- the files of the bag ----------------------------------------------------------------------


def check_tree(bag: Path) -> None:
    """Only folders and regular files, none of them a symlink, anywhere in the bag (``lstat``:
    nothing is followed). Run before anything in the bag is opened."""
    problems: list[str] = []
    stack = [bag]
    while stack and len(problems) <= MAX_NAMED:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            raise _fail(f"the bag {bag} cannot be read ({exc.strerror}: {folder})") from exc
        for entry in entries:
            rel = Path(entry.path).relative_to(bag).as_posix()
            mode = entry.stat(follow_symlinks=False).st_mode
            if stat.S_ISLNK(mode):
                problems.append(f"{rel} is a symbolic link")
            elif stat.S_ISDIR(mode):
                stack.append(Path(entry.path))
            elif not stat.S_ISREG(mode):
                problems.append(f"{rel} is not a regular file")
    if problems:
        raise _fail(f"the bag {bag} holds what no backup holds: {_named(sorted(problems))}")


def check_top_level(bag: Path) -> None:
    """At the top of the bag: the tag files of :data:`TAG_FILES` and the ``data`` folder only."""
    extra = sorted(
        entry.name
        for entry in os.scandir(bag)
        if not (
            (entry.name == "data" and entry.is_dir(follow_symlinks=False))
            or (entry.name in TAG_FILES and entry.is_file(follow_symlinks=False))
        )
    )
    if extra:
        raise _fail(f"the bag {bag} has files a backup never has: {_named(extra)}")


def check_manifest_paths(bag: Path, manifest: dict[str, str]) -> None:
    """Every payload path relative, normalised and under ``data/``."""
    bad = sorted(repr(rel) for rel in manifest if not confined_name(rel, "data"))
    if bad:
        raise _fail(f"the bag {bag} lists paths outside its data folder: {_named(bad)}")


def parse_manifest(data: bytes, bag: Path, name: str) -> dict[str, str]:
    """``sha256  path`` lines → {path: sha256}; PreservationError on anything else."""
    entries: dict[str, str] = {}
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _fail(f"the bag {bag} has a {name} that is not UTF-8 text") from None
    for line in text.splitlines():
        if not line.strip():
            continue
        digest, _, rel = line.partition(" ")
        rel = rel.lstrip(" ").removeprefix("*")
        if not re.fullmatch(r"[0-9a-fA-F]{64}", digest) or not rel or rel in entries:
            raise _fail(f"the bag {bag} has a malformed {name} (line {line[:80]!r})")
        entries[rel] = digest.lower()
    return entries


def signed_manifest(bag: Path, tagmanifest: bytes) -> dict[str, str]:
    """The payload manifest, read once and checked against the sha256 that the (verified) tag
    manifest records for it; every tag file at the top of the bag must be listed there too."""
    tags = parse_manifest(tagmanifest, bag, SIGNED_FILE)
    unsigned = sorted(
        name
        for name in TAG_FILES - {SIGNED_FILE, SIGNATURE_FILE}
        if (bag / name).exists() and name not in tags
    )
    for required in (PAYLOAD_MANIFEST, "bag-info.txt", "bagit.txt"):
        if required not in tags and required not in unsigned:
            unsigned.append(required)
    if unsigned:
        raise _fail(f"the bag {bag} has tag files its signature does not cover: {_named(unsigned)}")
    data = (bag / PAYLOAD_MANIFEST).read_bytes()
    if hashlib.sha256(data).hexdigest() != tags[PAYLOAD_MANIFEST]:
        raise _fail(
            f"the bag {bag} has a {PAYLOAD_MANIFEST} that is not the one it was signed with"
        )
    return parse_manifest(data, bag, PAYLOAD_MANIFEST)


def copy_hashing(
    source: Path, destination: Path, on_bytes: Callable[[int], None] | None = None
) -> tuple[str, int]:
    """Copy ``source`` to a new file ``destination``, hashing the bytes on the way (one read of
    the source), synced to the disk; ``(sha256, size)``. Backups and restores both copy this way."""
    digest = hashlib.sha256()
    size = 0
    # 0600 from the start: a bag and a restored folder hold everything (bag_checks' callers make
    # their folders 0700 too).
    with open(source, "rb") as fin, open(destination, "xb", opener=private_opener) as fout:
        while chunk := fin.read(CHUNK):
            digest.update(chunk)
            fout.write(chunk)
            size += len(chunk)
            if on_bytes:
                on_bytes(len(chunk))
        fout.flush()
        os.fsync(fout.fileno())  # on the disk before anyone calls it a backup or a restore
    return digest.hexdigest(), size


def copy_verified(source: Path, destination: Path, sha256: str) -> int:
    """Copy ``source`` to a new file ``destination`` and check the bytes read against ``sha256``
    (what the verified manifest says): the copy is exactly what was signed. Returns the size."""
    digest, size = copy_hashing(source, destination)
    if digest != sha256:
        raise PreservationError(
            f"{source} changed while it was being read (a failing disk, or someone writing to "
            "the bag), so nothing was restored"
        )
    return size


# -- the catalog -------------------------------------------------------------------------------


def _normalise_sql(sql: str | None) -> str | None:
    """Whitespace collapsed outside quotes (and none beside brackets and commas): the same
    definition, however it was indented, compares equal; any other change does not."""
    if sql is None:
        return None
    out: list[str] = []
    quote: str | None = None
    pending_space = False
    for ch in sql:
        if quote:
            out.append(ch)
            if ch == quote:
                quote = None
            continue
        if ch.isspace():
            pending_space = True
            continue
        if pending_space and out and out[-1] not in "(," and ch not in "),":
            out.append(" ")
        pending_space = False
        out.append(ch)
        if ch in "'\"`[":
            quote = "]" if ch == "[" else ch
    return "".join(out)


def _schema_rows(conn: sqlite3.Connection) -> dict[tuple[str, str], tuple[str, str | None]]:
    rows = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
    return {(str(t), str(n)): (str(tbl), _normalise_sql(sql)) for t, n, tbl, sql in rows}


@lru_cache(maxsize=8)
def expected_schema(version: int) -> dict[tuple[str, str], tuple[str, str | None]]:
    """``sqlite_master`` of a fresh catalog migrated to ``version`` by this software."""
    with tempfile.TemporaryDirectory(prefix="archive-schema-") as tmp:
        fresh = Catalog(Path(tmp) / "fresh.sqlite")
        try:
            fresh.migrate(version)
            return _schema_rows(fresh.conn)
        finally:
            fresh.close()


def open_untrusted(path: Path) -> sqlite3.Connection:
    """A catalog opened read-only, with nothing in its schema allowed to run (a bag's, or one to
    compare with)."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    # Nothing in this file's schema may run with side effects while it is read.
    conn.execute("PRAGMA trusted_schema = OFF")
    conn.execute("PRAGMA query_only = ON")
    conn.execute("PRAGMA cell_size_check = ON")
    return conn


def check_catalog(
    copy: Path,
    bag: Path,
    recorded_version: int,
    *,
    what: str | None = None,
    then: str = REFUSED,
) -> int:
    """Check the catalog at ``copy`` (a private copy of the bag's, never the bag's file); its
    schema version. ``recorded_version`` is what bag-info says. ``what`` names the catalog in
    messages (default: the bag's) and ``then`` ends them (nothing restored, or no backup made)."""
    what = what or f"the catalog in the bag {bag}"
    try:
        conn = open_untrusted(copy)
    except sqlite3.DatabaseError as exc:
        raise _fail(f"{what} cannot be read ({exc})", then) from exc
    try:
        try:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if version > SCHEMA_VERSION:
                raise _newer(bag, version)
            if version < 1:
                raise _fail(f"{what} has no schema version", then)
            if version != recorded_version:
                raise _fail(
                    f"{what} has schema {version}, but its bag-info.txt says {recorded_version}",
                    then,
                )
            integrity = [str(r[0]) for r in conn.execute("PRAGMA integrity_check(20)")]
            if integrity != ["ok"]:
                raise _fail(f"{what} is damaged: {_named(integrity)}", then)
            _compare_schema(conn, version, what, then)
            _check_paths(conn, what, then)
        except sqlite3.DatabaseError as exc:
            raise _fail(f"{what} cannot be read ({exc})", then) from exc
    finally:
        conn.close()
    return version


def catalog_version(copy: Path, bag: Path) -> int:
    """The schema version a (private copy of a) bag's catalog says it has."""
    try:
        conn = open_untrusted(copy)
        try:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise _fail(f"the catalog in the bag {bag} cannot be read ({exc})") from exc


def read_audit(path: Path) -> tuple[AuditEntry, ...]:
    """Every audit entry of the catalog at ``path`` (opened as :func:`open_untrusted`), oldest
    first: what restore compares to tell an older bag from a newer archive."""
    try:
        conn = open_untrusted(path)
        try:
            rows = conn.execute(
                "SELECT id, at, actor, action, item_id, target, old_value, new_value FROM audit "
                "ORDER BY id"
            ).fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise PreservationError(f"the catalog {path} cannot be read ({exc})") from exc
    return tuple(AuditEntry(*row) for row in rows)


def _compare_schema(conn: sqlite3.Connection, version: int, what: str, then: str) -> None:
    found = _schema_rows(conn)
    expected = dict(expected_schema(version))
    for name, sql in _SQLITE_STAT.items():
        if found.get(("table", name)) == (name, _normalise_sql(sql)):
            expected[("table", name)] = found[("table", name)]
    problems = [
        f"an extra {kind} {name!r}" for kind, name in sorted(found.keys() - expected.keys())
    ]
    problems += [f"no {kind} {name!r}" for kind, name in sorted(expected.keys() - found.keys())]
    problems += [
        f"a changed {kind} {name!r}"
        for kind, name in sorted(found.keys() & expected.keys())
        if found[(kind, name)] != expected[(kind, name)]
    ]
    if problems:
        raise _fail(
            f"{what} is not the schema this software makes for version "
            f"{version}: {_named(problems)}",
            then,
        )


def _check_paths(conn: sqlite3.Connection, what: str, then: str) -> None:
    tables = [
        str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    ]
    problems: list[str] = []
    for table in tables:
        if table.startswith("sqlite_"):
            continue
        quoted = '"' + table.replace('"', '""') + '"'
        for column in conn.execute(f"PRAGMA table_info({quoted})").fetchall():
            name = str(column[1])
            folder = PATH_COLUMNS.get((table, name))
            if folder is None and (name == "path" or name.endswith("_path")):
                folder = MEDIA_FOLDER
            if folder is None:
                continue
            col = '"' + name.replace('"', '""') + '"'
            for (value,) in conn.execute(
                f"SELECT DISTINCT {col} FROM {quoted} WHERE {col} IS NOT NULL AND {col} != ''"
            ):
                if not confined_name(value if isinstance(value, str) else "", folder):
                    problems.append(f"{table}.{name} {str(value)[:120]!r} is not inside {folder}/")
                    if len(problems) > MAX_NAMED:
                        break
    if problems:
        raise _fail(
            f"{what} names files outside their folder: {_named(problems)}",
            then,
        )


# -- the files to restore ----------------------------------------------------------------------


def check_restore_list(bag: Path, files: object, manifest: dict[str, str]) -> list[str]:
    """``data_folder_files`` of archive.json, checked: a list of paths the bag holds, each the
    catalog, the local glossary or a file under media/."""
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        raise _fail(f"the bag {bag} has a damaged archive.json (data_folder_files)")
    for rel in files:
        allowed = rel in RESTORABLE_FILES or confined_name(rel, MEDIA_FOLDER)
        if not allowed or f"data/{rel}" not in manifest:
            raise _fail(
                f"the bag {bag} lists {rel!r} to restore, which it may not or does not hold"
            )
    if "catalog.sqlite" not in files:
        raise _fail(f"the bag {bag} does not list its catalog to restore")
    return list(files)


@dataclass(frozen=True)
class BagCheck:
    """A bag that passed every check of :func:`check_bag`."""

    path: Path
    info: dict[str, Any]
    schema_version: int
    payload_files: int
    payload_bytes: int
    manifest: dict[str, str] = field(repr=False)  # "data/…" → sha256, as signed
    description: dict[str, Any] = field(default_factory=dict, repr=False)  # archive.json
    restore_files: tuple[str, ...] = ()  # paths in a data folder, each checked (bag_checks)
    signed_by: PublicKey | None = None  # None: an unsigned bag let through by allow_unsigned
    audit: tuple[AuditEntry, ...] = field(default=(), repr=False)  # its catalog's, oldest first


# -- checking a bag ----------------------------------------------------------------------------


def _describe_problems(details: list[Any]) -> str:
    lines = []
    for detail in details[:MAX_NAMED_PROBLEMS]:
        if isinstance(detail, bagit.ChecksumMismatch):
            lines.append(
                f"{detail.path} has changed (sha256 {str(detail.found)[:12]}…, expected {str(detail.expected)[:12]}…)"
            )
        elif isinstance(detail, bagit.FileMissing):
            lines.append(f"{detail.path} is missing")
        elif isinstance(detail, bagit.UnexpectedFile):
            lines.append(f"{detail.path} is not in the manifest (an extra file)")
        else:
            lines.append(str(detail))
    if len(details) > MAX_NAMED_PROBLEMS:
        lines.append(f"and {len(details) - MAX_NAMED_PROBLEMS} more")
    return "; ".join(lines)


def check_bag(
    bag_path: str | os.PathLike[str],
    *,
    public_key: PublicKey | str | None,
    allow_unsigned: bool = False,
    processes: int | None = None,
) -> BagCheck:
    """Everything ``restore`` checks before it writes anything; raises PreservationError naming
    what is wrong (every changed, missing or extra file; a bad signature; a catalog that is not
    this software's schema or names files outside their folders: archive.preservation.bag_checks).

    ``public_key``: the key printed by ``archive backup``; the bag's signature must verify with it.
    ``allow_unsigned``: accept a bag with no signature at all (made before bags were signed);
    every other check still runs, and a bag that *is* signed must still verify.
    """
    path = Path(bag_path).expanduser().resolve()
    key = PublicKey.parse(public_key) if isinstance(public_key, str) else public_key
    if key is None and not allow_unsigned:
        raise PreservationError(
            "give the public key printed by `archive backup`: archive restore BAG --public-key "
            f"KEY (or a file holding it, or ${PUBLIC_KEY_ENV})"
        )
    if not path.is_dir():
        raise PreservationError(f"{path} is not a folder")
    if path.name.endswith(INCOMPLETE_SUFFIX) or (path / INCOMPLETE_MARKER).exists():
        raise PreservationError(f"{path} is an unfinished backup: it cannot be restored")
    check_tree(path)  # before anything in the bag is opened: no symlinks, no FIFOs
    try:
        bag = bagit.Bag(str(path))
    except bagit.BagError as exc:
        raise PreservationError(f"{path} is not a BagIt bag ({exc})") from exc
    if bag.info.get("Archive-Format") != BACKUP_FORMAT:
        raise PreservationError(f"{path} is a BagIt bag but not a backup made by `archive backup`")
    check_top_level(path)
    if "sha256" not in bag.algorithms or not (path / "manifest-sha256.txt").is_file():
        raise PreservationError(f"{path} has no sha256 manifest")
    signature = read_signature(path)
    if signature is None and allow_unsigned:
        tagmanifest = None
    elif key is None:
        raise PreservationError(
            f"the bag {path} is signed: give its public key with --public-key to check it"
        )
    else:
        tagmanifest = verify_signature(path, key)
    manifest = (
        signed_manifest(path, tagmanifest)
        if tagmanifest is not None
        else parse_manifest(
            (path / "manifest-sha256.txt").read_bytes(), path, "manifest-sha256.txt"
        )
    )
    check_manifest_paths(path, manifest)
    schema = _schema_from_info(bag.info, path)
    # Payload-Oxum is only a count of files and bytes, and bagit.py stops at it without naming a
    # file. The full check below compares every file against the manifest and names each problem,
    # and bag-info.txt itself is covered by the tag manifest.
    oxum = bag.info.pop("Payload-Oxum", None)
    try:
        bag.validate(processes=processes or min(4, os.cpu_count() or 1))
    except bagit.BagValidationError as exc:
        details = list(getattr(exc, "details", None) or [])
        what = _describe_problems(details) if details else str(exc)
        raise PreservationError(
            f"the bag {path} failed its check, so nothing was restored: {what}"
        ) from exc
    except bagit.BagError as exc:
        raise PreservationError(f"the bag {path} is damaged: {exc}") from exc
    finally:
        if oxum is not None:
            bag.info["Payload-Oxum"] = oxum
    if set(manifest) != set(bag.payload_entries()):
        raise PreservationError(f"the bag {path} changed while it was being checked")
    payload_bytes = sum((path / rel).stat().st_size for rel in manifest)
    if "data/catalog.sqlite" not in manifest:
        raise PreservationError(f"the bag {path} has no data/catalog.sqlite")
    if "data/archive.json" not in manifest:
        raise PreservationError(f"the bag {path} has no data/archive.json")
    # The catalog is checked in a private copy whose bytes are the signed ones: the bag's own
    # file is never opened by SQLite (which would also write beside it).
    with tempfile.TemporaryDirectory(prefix="archive-check-") as scratch:
        copy = Path(scratch) / "catalog.sqlite"
        copy_verified(path / "data" / "catalog.sqlite", copy, manifest["data/catalog.sqlite"])
        actual = check_catalog(copy, path, schema)
        audit = read_audit(copy)
    raw = (path / "data" / "archive.json").read_bytes()  # read once: hashed, then parsed
    if hashlib.sha256(raw).hexdigest() != manifest["data/archive.json"]:
        raise PreservationError(f"the bag {path} changed while it was being checked")
    try:
        description = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise PreservationError(f"the bag {path} has a damaged archive.json") from exc
    if not isinstance(description, dict):
        raise PreservationError(f"the bag {path} has a damaged archive.json")
    files = check_restore_list(path, description.get("data_folder_files", []), manifest)
    return BagCheck(
        path,
        dict(bag.info),
        actual,
        len(manifest),
        payload_bytes,
        manifest,
        description=description,
        restore_files=tuple(files),
        signed_by=key if tagmanifest is not None else None,
        audit=audit,
    )


def _schema_from_info(info: dict[str, Any], path: Path) -> int:
    raw = info.get("Archive-Schema-Version", "")
    try:
        schema = int(str(raw).strip())
    except ValueError:
        raise PreservationError(
            f"the bag {path} does not say which catalog schema it holds"
        ) from None
    if schema > SCHEMA_VERSION:
        raise _newer(path, schema)
    return schema


def _newer(path: Path, schema: int) -> PreservationError:
    return PreservationError(
        f"the bag {path} was made by a newer version of the software (catalog schema {schema}; "
        f"this one reads up to {SCHEMA_VERSION}): upgrade the software, then restore"
    )
