"""``archive restore``: a data folder rebuilt from a backup bag, after checking everything in it.

:func:`restore` trusts nothing it reads: the bag is checked first
(:func:`archive.preservation.bag_checks.check_bag`: the signature against the public key the
operator gives, every checksum, the catalog against the schema the migrations make, every path),
before anything is written; an adversary who changes a bag and re-hashes its manifests gets it
refused. Then the catalog, media and glossary are copied (each file verified again as it is read)
into a temporary folder beside the target, the catalog is migrated to this software's schema and
the search index rebuilt, and the folder is renamed into place: a failure leaves no
half-restored archive.

A bag is also a bag *of some moment*: restore always says which (its snapshot time and newest
audit entry, handed to ``on_checked`` before anything is written), and refuses a bag older than
what it is compared with — ``against`` (a newer bag or the current data folder) and any archive
already in the target — when restoring it would undo a redaction, a withheld speaker, a visibility
or account change, unless ``allow_older`` is given; then the restored archive's audit log records
what was undone (:mod:`archive.preservation.restore_older`). An archive is never restored over:
the target must be new or empty.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archive.catalog.audit import write_audit
from archive.catalog.db import Catalog
from archive.catalog.migrations import SCHEMA_VERSION
from archive.core.config import Settings, load_settings
from archive.core.errors import PreservationError
from archive.core.filemodes import PRIVATE_DIR, tighten, tighten_tree
from archive.preservation import bag_checks
from archive.preservation.bag import ProgressFn, disk_full, inside
from archive.preservation.bag_checks import check_bag
from archive.preservation.bag_signing import PublicKey
from archive.preservation.restore_older import (
    Comparison,
    Snapshot,
    checked_snapshot,
    compare,
    refuse_older,
    snapshot_of,
)
from indexer import SearchIndex

__all__ = [
    "RestorePlan",
    "RestoreReport",
    "restore",
]


@dataclass(frozen=True)
class RestorePlan:
    """What a checked bag holds and what restoring it would undo: told before anything is
    written (the command prints it, whether the restore then goes ahead or is refused)."""

    bag: Snapshot
    comparisons: tuple[Comparison, ...] = ()

    @property
    def older(self) -> bool:
        return any(c.is_older for c in self.comparisons)

    def to_dict(self) -> dict[str, Any]:
        return {
            "snapshot_at": self.bag.snapshot_at,
            "newest_audit_entry": self.bag.newest.to_dict() if self.bag.newest else None,
            "compared": [c.to_dict() for c in self.comparisons],
        }


@dataclass(frozen=True)
class RestoreReport:
    """What one restore rebuilt, and the key the bag was verified with."""

    home: Path
    bag: Path
    items: int
    media_files: int
    bytes: int
    indexed_documents: int | None  # None when the search index is not part of this build
    schema_from: int
    schema_to: int
    seconds: float
    missing_media: tuple[str, ...] = ()
    signed_by: str | None = None  # the fingerprint of the key the bag was verified with
    plan: RestorePlan | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            **(self.plan.to_dict() if self.plan else {}),
            "home": str(self.home),
            "bag": str(self.bag),
            "items": self.items,
            "media_files": self.media_files,
            "bytes": self.bytes,
            "indexed_documents": self.indexed_documents,
            "schema_from": self.schema_from,
            "schema_to": self.schema_to,
            "seconds": round(self.seconds, 3),
            "missing_media": list(self.missing_media),
            "signed_by": self.signed_by,
        }


def restore(
    bag_path: str | os.PathLike[str],
    home: str | os.PathLike[str],
    *,
    public_key: PublicKey | str | None,
    allow_unsigned: bool = False,
    against: Sequence[str | os.PathLike[str]] = (),
    allow_older: bool = False,
    on_checked: Callable[[RestorePlan], None] | None = None,
    progress: ProgressFn | None = None,
) -> RestoreReport:
    """Rebuild a data folder (catalog, media, glossary, search index) from a backup bag.

    The bag is checked first (:func:`check_bag`: signature, every checksum, the catalog's schema
    and paths), before anything is written; then everything is built in a temporary folder beside
    ``home`` and renamed into place, so a failure leaves no half-restored archive. ``home`` must
    not exist or be empty; after a refusal it is exactly as it was.

    ``against``: newer bags (verified with the same key) or data folders to compare with; an
    archive already in ``home`` is compared with too. ``on_checked`` is told the bag's snapshot
    and what it would undo before anything is written; a bag that would undo an access change is
    refused unless ``allow_older`` (restore_older).
    """
    started = time.monotonic()
    target = Path(home).expanduser().absolute()
    bag_dir = Path(bag_path).expanduser().resolve()
    holds_archive = target.is_dir() and (target / "catalog.sqlite").is_file()
    busy = target.exists() and (not target.is_dir() or any(target.iterdir()))
    if busy and not holds_archive:
        raise PreservationError(f"{target} is not empty: restore into a new or empty folder")
    if inside(target, bag_dir):
        raise PreservationError(f"{target} is inside the bag {bag_dir}: restore somewhere else")
    if progress:
        progress("check", 0, 1)
    checked = check_bag(bag_dir, public_key=public_key, allow_unsigned=allow_unsigned)
    if progress:
        progress("check", 1, 1)
    description = checked.description
    files = list(checked.restore_files)
    bag = checked_snapshot(checked)
    others = [
        snapshot_of(p, public_key=checked.signed_by or public_key, allow_unsigned=allow_unsigned)
        for p in against
    ]
    if holds_archive:  # what a restore "over" it would throw away is said first
        others.append(snapshot_of(target, public_key=None))
    plan = RestorePlan(bag, tuple(compare(bag, others)))
    if on_checked:
        on_checked(plan)
    if not allow_older:
        refuse_older(plan.comparisons, over=target.resolve() if holds_archive else None)
    if busy:
        raise PreservationError(
            f"{target} is not empty (it holds an archive): restore into a new or empty folder, "
            "an archive is never restored over"
        )

    # Only now is anything written: parents made here are removed again if the restore fails.
    made = [p for p in [target.parent, *target.parent.parents] if not p.exists()]
    target.parent.mkdir(parents=True, exist_ok=True)
    work = target.with_name(f".{target.name}.restoring-{os.getpid()}")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(mode=PRIVATE_DIR)  # owner-only from the start, like every data folder
    tighten(work)
    try:
        total = sum((bag_dir / "data" / rel).stat().st_size for rel in files)
        done = 0
        lock = threading.Lock()

        def copy_one(rel: str) -> None:
            nonlocal done
            destination = work / rel
            destination.parent.mkdir(parents=True, exist_ok=True)
            # Checked a moment ago, but the bag may sit on a failing disk (or be written to): what
            # is read must be what was signed.
            size = bag_checks.copy_verified(
                bag_dir / "data" / rel, destination, checked.manifest[f"data/{rel}"]
            )
            with lock:
                done += size
                now = done
            if progress:
                progress("copy", now, total)

        # Several files at once: each copy waits on its own fsync, and the disks stay busy.
        with ThreadPoolExecutor(max_workers=4) as pool:
            for future in [pool.submit(copy_one, rel) for rel in files]:
                future.result()
        settings = load_settings(work).ensure()
        catalog = Catalog.open(settings)  # migrates a bag from an older schema to this one
        try:
            missing = tuple(
                f"item {m.item_id}: {m.path}"
                for m in catalog.list_media()
                if not (work / m.path).is_file()
            )
            items = len(catalog.item_ids())
            media_files = len(catalog.list_media()) - len(missing)
            indexed = _rebuild_index(settings, catalog, progress)
            with catalog.transaction() as conn:
                write_audit(
                    conn,
                    actor="system:restore",
                    action="restore",
                    target=str(bag_dir),
                    new_value=json.dumps(
                        {
                            "snapshot_at": description.get("snapshot_at"),
                            "items": items,
                            "signed_by": checked.signed_by.fingerprint
                            if checked.signed_by
                            else None,
                        }
                    ),
                )
                if plan.older:  # --allow-older: what this restore undid, for whoever asks later
                    write_audit(
                        conn,
                        actor="system:restore",
                        action="restore-older",
                        target=str(bag_dir),
                        new_value=json.dumps(
                            {
                                "snapshot_at": bag.snapshot_at,
                                "against": [
                                    str(c.newer.path) for c in plan.comparisons if c.is_older
                                ],
                                "undone": [
                                    {
                                        k: e.to_dict()[k]
                                        for k in ("id", "at", "action", "item_id", "target")
                                    }
                                    for c in plan.comparisons
                                    for e in c.undone
                                ],
                            },
                            ensure_ascii=False,
                        ),
                    )
        finally:
            catalog.close()
        tighten_tree(work)  # what SQLite, the index and mkdir made with the umask
        if target.exists():
            target.rmdir()  # empty, checked above
        work.rename(target)
    except BaseException as exc:
        shutil.rmtree(work, ignore_errors=True)
        for folder in made:  # innermost first; only folders this restore made, if still empty
            try:
                folder.rmdir()
            except OSError:
                break
        if disk_full(exc):
            raise PreservationError(
                f"{target.parent} ran out of space; nothing was restored"
            ) from exc
        raise
    return RestoreReport(
        home=target,
        bag=bag_dir,
        items=items,
        media_files=media_files,
        bytes=total,
        indexed_documents=indexed,
        schema_from=checked.schema_version,
        schema_to=SCHEMA_VERSION,
        seconds=time.monotonic() - started,
        missing_media=missing,
        signed_by=checked.signed_by.fingerprint if checked.signed_by else None,
        plan=plan,
    )


def _rebuild_index(settings: Settings, catalog: Catalog, progress: ProgressFn | None) -> int | None:
    index = SearchIndex.open(settings)
    return index.rebuild(
        catalog, progress=(lambda d, t: progress("index", d, t)) if progress else None
    )
