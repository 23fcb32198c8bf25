"""Restoring an older bag: what it would undo, said before anything is written.

A correctly signed bag is still a bag *of some moment*. Restoring one made before a redaction, a
withheld speaker or an item made private brings the redacted sentence, the real name or the item
back, with every signature in order. So restore (:mod:`archive.preservation.restore`) always says
which moment a bag holds — its snapshot time and its newest audit entry (:class:`Snapshot`) — and,
given something newer to compare with (``--against`` a newer bag or a data folder, and always the
archive a restore would go over), lists every change the older bag would undo
(:func:`undone_by`) and refuses unless the operator says ``--allow-older``
(:func:`refuse_older`); a restore that does undo them is recorded in the restored archive's audit
log.

What counts as "undone" is read from the audit log, which records each such change in the
transaction that makes it (:mod:`archive.catalog.audit`): the audit entries of the newer archive
that the bag does not hold, of the kinds that decide who sees what (:data:`ACCESS_ACTIONS`:
redactions, withheld speakers, visibility and embargoes, public source links, accounts and
roles). Other later entries (backups, repairs, lock-outs) are counted, not listed.

A bag named with ``--against`` is read through its signature (the same public key, or none only
with ``--allow-unsigned``): its catalog is copied, checked like any bag's and only then opened, so
comparing with a hostile bag can make restore refuse but never run anything planted in it.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archive.catalog.audit import AuditEntry
from archive.core.errors import PreservationError
from archive.preservation import bag_checks
from archive.preservation.bag_signing import PublicKey, read_signature, verify_signature

__all__ = [
    "ACCESS_ACTIONS",
    "Comparison",
    "Snapshot",
    "compare",
    "describe_entry",
    "checked_snapshot",
    "refuse_older",
    "snapshot_of",
    "undone_by",
]

# Audited actions that decide who sees what: undoing any of them is what this module guards.
ACCESS_ACTIONS = {
    "redact": "redaction",
    "unredact": "redaction lifted",
    "withhold-speaker": "speaker withheld",
    "unwithhold-speaker": "speaker named again",
    "visibility": "visibility",
    "embargo-lifted": "embargo lifted",
    "source-public": "source link",
    "user.add": "account added",
    "user.remove": "account removed",
    "user.role": "account role",
    "user.passwd": "password changed",
}
MAX_IN_MESSAGE = 10  # changes named in the one-line error; the command prints every one


@dataclass(frozen=True)
class Snapshot:
    """One archive as of one moment: a bag, or a data folder as it is now."""

    path: Path
    kind: str  # "bag" | "data folder"
    snapshot_at: str | None  # a bag's snapshot time; None for a data folder (now)
    audit: tuple[AuditEntry, ...]

    @property
    def newest(self) -> AuditEntry | None:
        return self.audit[-1] if self.audit else None

    @property
    def label(self) -> str:
        return f"the {self.kind} {self.path}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "kind": self.kind,
            "snapshot_at": self.snapshot_at,
            "audit_entries": len(self.audit),
            "newest_audit_entry": self.newest.to_dict() if self.newest else None,
        }


@dataclass(frozen=True)
class Comparison:
    """What restoring ``bag`` would undo of ``newer``."""

    bag: Snapshot
    newer: Snapshot
    undone: tuple[AuditEntry, ...]  # access changes the bag does not hold
    other_later: int  # later audit entries of other kinds (backups, repairs, lock-outs)

    @property
    def is_older(self) -> bool:
        return bool(self.undone)

    def to_dict(self) -> dict[str, Any]:
        return {
            "against": self.newer.to_dict(),
            "undone": [e.to_dict() for e in self.undone],
            "other_later_entries": self.other_later,
        }


def describe_entry(entry: AuditEntry) -> str:
    """One audit entry in one line: when, who, what, on what, from what to what."""
    what = ACCESS_ACTIONS.get(entry.action, entry.action)
    parts = [entry.at, entry.actor, what]
    if entry.item_id:
        parts.append(f"item {entry.item_id}")
    if entry.target:
        parts.append(entry.target)
    line = " ".join(parts)
    if entry.old_value is not None or entry.new_value is not None:
        line += f": {_short(entry.old_value)} → {_short(entry.new_value)}"
    return line


def _short(value: str | None) -> str:
    text = " ".join(str(value).split()) if value is not None else "(none)"
    return text if len(text) <= 80 else text[:79] + "…"


def checked_snapshot(checked: bag_checks.BagCheck) -> Snapshot:
    """The bag that :func:`~archive.preservation.bag_checks.check_bag` passed, as a Snapshot."""
    snapshot_at = checked.description.get("snapshot_at")
    return Snapshot(
        checked.path, "bag", snapshot_at if isinstance(snapshot_at, str) else None, checked.audit
    )


def snapshot_of(
    path: str | Path, *, public_key: PublicKey | str | None, allow_unsigned: bool = False
) -> Snapshot:
    """The archive at ``path`` (a bag made by ``archive backup``, or a data folder) as a
    :class:`Snapshot`. A bag must verify with ``public_key`` (or be unsigned, with
    ``allow_unsigned``); its catalog is checked in a private copy before it is read."""
    where = Path(path).expanduser().resolve()
    if (where / "bagit.txt").is_file():
        return _bag_snapshot(where, public_key, allow_unsigned)
    if (where / "catalog.sqlite").is_file():
        return Snapshot(where, "data folder", None, bag_checks.read_audit(where / "catalog.sqlite"))
    raise PreservationError(
        f"{where} is neither a bag made by `archive backup` nor a data folder (no catalog.sqlite): "
        "give --against a newer bag or the current data folder"
    )


def _bag_snapshot(bag: Path, public_key: PublicKey | str | None, allow_unsigned: bool) -> Snapshot:
    """Only what the comparison needs of a bag, each through its signature: the catalog and
    archive.json (every media file is not re-hashed: nothing of them is used)."""
    key = PublicKey.parse(public_key) if isinstance(public_key, str) else public_key
    bag_checks.check_tree(bag)
    bag_checks.check_top_level(bag)
    if read_signature(bag) is None and allow_unsigned:
        manifest = bag_checks.parse_manifest(
            (bag / bag_checks.PAYLOAD_MANIFEST).read_bytes(), bag, bag_checks.PAYLOAD_MANIFEST
        )
    elif key is None:
        raise PreservationError(f"give the public key with --public-key to check the bag {bag}")
    else:
        manifest = bag_checks.signed_manifest(bag, verify_signature(bag, key))
    bag_checks.check_manifest_paths(bag, manifest)
    for needed in ("data/catalog.sqlite", "data/archive.json"):
        if needed not in manifest:
            raise PreservationError(f"the bag {bag} has no {needed}")
    raw = (bag / "data" / "archive.json").read_bytes()
    if hashlib.sha256(raw).hexdigest() != manifest["data/archive.json"]:
        raise PreservationError(
            f"the bag {bag} has an archive.json that is not the one it was signed with"
        )
    try:
        description = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise PreservationError(f"the bag {bag} has a damaged archive.json") from exc
    if not isinstance(description, dict):
        raise PreservationError(f"the bag {bag} has a damaged archive.json")
    with tempfile.TemporaryDirectory(prefix="archive-compare-") as scratch:
        copy = Path(scratch) / "catalog.sqlite"
        bag_checks.copy_verified(
            bag / "data" / "catalog.sqlite", copy, manifest["data/catalog.sqlite"]
        )
        schema = bag_checks.catalog_version(copy, bag)
        bag_checks.check_catalog(copy, bag, schema)
        audit = bag_checks.read_audit(copy)
    snapshot_at = description.get("snapshot_at")
    return Snapshot(bag, "bag", snapshot_at if isinstance(snapshot_at, str) else None, audit)


def _key(entry: AuditEntry) -> tuple[Any, ...]:
    return (entry.id, entry.at, entry.actor, entry.action, entry.item_id, entry.target,
            entry.old_value, entry.new_value)  # fmt: skip


def undone_by(bag: Snapshot, newer: Snapshot) -> Comparison:
    """The audit entries of ``newer`` that ``bag`` does not hold: the access changes among them
    (oldest first), and how many others."""
    held = {_key(e) for e in bag.audit}
    later = [e for e in newer.audit if _key(e) not in held]
    undone = tuple(e for e in later if e.action in ACCESS_ACTIONS)
    return Comparison(bag, newer, undone, len(later) - len(undone))


def compare(bag: Snapshot, others: Iterable[Snapshot]) -> list[Comparison]:
    return [undone_by(bag, other) for other in others]


def refuse_older(comparisons: Sequence[Comparison], *, over: Path | None = None) -> None:
    """PreservationError naming what the bag would undo, when any comparison finds something.
    ``over``: the data folder the restore would replace (said in the message)."""
    older = [c for c in comparisons if c.is_older]
    if not older:
        return
    first = older[0]
    undone = [describe_entry(e) for c in older for e in c.undone]
    named = "; ".join(undone[:MAX_IN_MESSAGE])
    if len(undone) > MAX_IN_MESSAGE:
        named += f"; and {len(undone) - MAX_IN_MESSAGE} more"
    replacing = over is not None and first.newer.path == over
    newer = f"the archive in {over}, which it would replace," if replacing else first.newer.label
    then = (
        "restore into a new folder with --allow-older"
        if replacing
        else "restore it again with --allow-older"
    )
    when = first.bag.snapshot_at or "an unknown time"
    raise PreservationError(
        f"the bag {first.bag.path} (snapshot {when}) is older than {newer}: restoring it would "
        f"undo {len(undone)} change(s) made since: {named}. Nothing was restored; to undo them "
        f"knowingly, {then} (it is recorded in the audit log)"
    )
