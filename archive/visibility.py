"""Who may see an item (public / members / staff, with an optional embargo) and redacted segments.

Every change here writes an audit row (who, when, from, to) in the same transaction as the change,
then brings the search index up to date for that one item and, for redactions, the silenced public
copy of its media (:mod:`archive.redaction`).

An embargo keeps an item at its current level until a date, then opens it to the chosen level
(``set_visibility(…, "staff", embargo_until="2026-06-04", embargo_visibility="public")``). Only
*opening* embargoes are accepted: the search index holds a snapshot of each item's level, refreshed
by :func:`apply_embargoes`; between the date and that refresh the index errs on the side of hiding.
An embargo that would *close* an item at a date would instead leave it findable until the refresh.

>>> set_visibility(catalog, settings, item_id, "members", actor="alice")
>>> redact(catalog, settings, item_id, uid, actor="alice", reason="names a worker's relative")
>>> [e.action for e in audit_log(catalog, item_id)]
['redact', 'visibility']
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .audit import AuditEntry, audit_log, check_actor, write_audit
from .catalog import Catalog, Item, _embargo_instant, now_utc, role_allows
from .config import ROLES, Settings
from .errors import InputError, NotFoundError

__all__ = [
    "AuditEntry",
    "Redaction",
    "apply_embargoes",
    "audit_log",
    "describe_visibility",
    "embargo_job",
    "list_redactions",
    "redact",
    "segment_at",
    "set_visibility",
    "unredact",
]

log = logging.getLogger(__name__)

MAX_REASON = 500


@dataclass(frozen=True)
class Redaction:
    item_id: str
    uid: str
    reason: str
    created_by: str
    created_at: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "item_id": self.item_id,
            "uid": self.uid,
            "reason": self.reason,
            "created_by": self.created_by,
            "created_at": self.created_at,
        }


def describe_visibility(
    visibility: str, embargo_until: str | None, embargo_visibility: str | None
) -> str:
    """The audit form of an item's level: ``members`` or ``staff until 2026-06-04, then public``."""
    if embargo_until and embargo_visibility:
        return f"{visibility} until {embargo_until}, then {embargo_visibility}"
    return visibility


def _describe(item: Item) -> str:
    return describe_visibility(item.visibility, item.embargo_until, item.embargo_visibility)


def _check_embargo_date(value: str, now: datetime) -> str:
    text = str(value).strip()
    try:
        if len(text) == 10:
            datetime.strptime(text, "%Y-%m-%d")
        else:
            moment = datetime.fromisoformat(text)
            if moment.tzinfo is None:
                raise ValueError
            text = moment.astimezone(UTC).isoformat(timespec="seconds")
    except ValueError as exc:
        raise InputError(
            f"the embargo date {value!r} is not YYYY-MM-DD (or an ISO time with a zone)"
        ) from exc
    if _embargo_instant(text) <= now.isoformat(timespec="seconds"):
        raise InputError(f"the embargo date {text} has already passed")
    return text


def _reindex(settings: Settings, catalog: Catalog, item_id: str) -> None:
    from .pipeline import reindex_item

    reindex_item(settings, catalog, item_id)


def set_visibility(
    catalog: Catalog,
    settings: Settings,
    item_id: str,
    visibility: str,
    *,
    actor: str,
    embargo_until: str | None = None,
    embargo_visibility: str | None = None,
    now: datetime | None = None,
) -> Item:
    """Set who may see an item now and, optionally, the level it opens to at ``embargo_until``.

    Without an embargo any earlier embargo is cleared: the item is exactly what was asked.
    ``embargo_until`` is a date (midnight UTC at its start) or an ISO time with a zone.
    """
    actor = check_actor(actor)
    if visibility not in ROLES:
        raise InputError(f"visibility must be one of {', '.join(ROLES)}, not {visibility!r}")
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    if bool(embargo_until) != bool(embargo_visibility):
        raise InputError("an embargo needs both a date and the level it opens to (--then)")
    if embargo_until and embargo_visibility:
        if embargo_visibility not in ROLES:
            raise InputError(f"the level after the embargo must be one of {', '.join(ROLES)}")
        if role_allows(embargo_visibility, visibility):
            raise InputError(
                f"an embargo opens an item up: after it the level must be wider than {visibility}"
            )
        embargo_until = _check_embargo_date(embargo_until, moment)
    widening = False
    with catalog.transaction() as conn:
        before = catalog.get_item(item_id)
        wanted = (visibility, embargo_until or None, embargo_visibility or None)
        if (before.visibility, before.embargo_until, before.embargo_visibility) != wanted:
            catalog.update_item(
                item_id,
                visibility=visibility,
                embargo_until=wanted[1],
                embargo_visibility=wanted[2],
            )
            write_audit(
                conn, actor=actor, action="visibility", item_id=item_id,
                old_value=_describe(before), new_value=describe_visibility(*wanted),
            )  # fmt: skip
            after = catalog.get_item(item_id)
            # Wider: the new level lets in a lower role than the old one did.
            widening = ROLES.index(after.effective_visibility()) < ROLES.index(
                before.effective_visibility()
            )
            if not widening:
                # Hiding: the index is updated before the change commits, so a failed index
                # update undoes the change (an error to retry) instead of leaving the item
                # findable by people who may no longer see it.
                _reindex(settings, catalog, item_id)
    if widening:
        # Opening up: index after the commit; if that fails the index errs on hiding.
        _reindex(settings, catalog, item_id)
    return catalog.get_item(item_id)


def apply_embargoes(
    settings: Settings, catalog: Catalog, *, now: datetime | None = None
) -> list[str]:
    """Open every item whose embargo date has passed; returns their ids.

    The item takes its after-embargo level for good (the embargo fields are cleared, an
    ``embargo-lifted`` audit row written by ``system:embargo``) and is re-indexed, so the search
    index, lists and feeds that read the stored level all agree. Safe to run as often as liked.
    The worker runs it every ten minutes (``archive.jobs.PERIODIC_TASKS``).
    """
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    stamp = moment.isoformat(timespec="seconds")
    due = [
        row["id"]
        for row in catalog.conn.execute(
            "SELECT id, embargo_until FROM items WHERE embargo_until IS NOT NULL AND embargo_visibility IS NOT NULL"
        )
        if _embargo_instant(row["embargo_until"]) <= stamp
    ]
    opened = []
    for item_id in due:
        with catalog.transaction() as conn:
            item = catalog.find_item(item_id)
            if item is None or not (item.embargo_until and item.embargo_visibility):
                continue  # changed meanwhile by someone else
            if _embargo_instant(item.embargo_until) > stamp:
                continue
            catalog.update_item(
                item_id,
                visibility=item.embargo_visibility,
                embargo_until=None,
                embargo_visibility=None,
            )
            write_audit(
                conn, actor="system:embargo", action="embargo-lifted", item_id=item_id,
                old_value=_describe(item), new_value=item.embargo_visibility,
            )  # fmt: skip
        opened.append(item_id)
        _reindex(settings, catalog, item_id)
        log.info("embargo of %s lifted", item_id)
    return opened


def embargo_job(settings: Settings, catalog: Catalog, job: Any, report: Any) -> dict[str, Any]:
    """Job handler (kind ``embargoes``): :func:`apply_embargoes` as a queued job."""
    return {"opened": apply_embargoes(settings, catalog)}


# -- redactions ---------------------------------------------------------------------------------
def list_redactions(catalog: Catalog, item_id: str) -> list[Redaction]:
    return [
        Redaction(**dict(r))
        for r in catalog.conn.execute(
            "SELECT item_id, uid, reason, created_by, created_at FROM redactions WHERE item_id = ? "
            "ORDER BY created_at, uid",
            (item_id,),
        )
    ]


def segment_at(catalog: Catalog, item_id: str, seconds: float) -> str:
    """The uid of the latest revision's segment playing at ``seconds`` (for ``--at``)."""
    rev = catalog.get_revision(item_id)
    for seg in rev.segments:
        if seg.start <= seconds < seg.end:
            return seg.uid
    raise NotFoundError(f"no segment of item {item_id} plays at {seconds:g} s")


def _uid_exists(catalog: Catalog, item_id: str, uid: str) -> bool:
    return (
        catalog.conn.execute(
            "SELECT 1 FROM segments s JOIN transcripts t ON t.id = s.transcript_id "
            "WHERE t.item_id = ? AND s.uid = ? LIMIT 1",
            (item_id, uid),
        ).fetchone()
        is not None
    )


def _refresh_media(settings: Settings, catalog: Catalog, item_id: str, rebuild_media: bool) -> None:
    from .redaction import refresh_public_media

    # Stale silenced copies go at once either way (a new name is computed from the new spans, so
    # they would never be served again); building the new ones can wait for the first listener.
    refresh_public_media(settings, catalog, item_id, build=rebuild_media)


def redact(
    catalog: Catalog,
    settings: Settings,
    item_id: str,
    uid: str,
    *,
    actor: str,
    reason: str = "",
    rebuild_media: bool = True,
) -> Redaction:
    """Hide one segment (in every revision) from everyone below staff and silence its span in the
    public media. InputError when it is already redacted."""
    actor = check_actor(actor)
    reason = " ".join(str(reason or "").split())
    if len(reason) > MAX_REASON:
        raise InputError(f"a redaction reason may have at most {MAX_REASON} characters")
    catalog.get_item(item_id)
    if not _uid_exists(catalog, item_id, uid):
        raise NotFoundError(f"item {item_id} has no segment {uid}")
    with catalog.transaction() as conn:
        if conn.execute(
            "SELECT 1 FROM redactions WHERE item_id = ? AND uid = ?", (item_id, uid)
        ).fetchone():
            raise InputError(f"segment {uid} is already redacted")
        stamp = now_utc()
        conn.execute(
            "INSERT INTO redactions (item_id, uid, reason, created_by, created_at) VALUES (?,?,?,?,?)",
            (item_id, uid, reason, actor, stamp),
        )
        write_audit(
            conn, actor=actor, action="redact", item_id=item_id, target=uid,
            old_value="visible", new_value=f"redacted: {reason}" if reason else "redacted", at=stamp,
        )  # fmt: skip
        # Indexed before the commit: if the index cannot be updated, the redaction is not made
        # (an error to retry) rather than made while the sentence stays searchable.
        _reindex(settings, catalog, item_id)
    _refresh_media(settings, catalog, item_id, rebuild_media)
    return Redaction(item_id, uid, reason, actor, stamp)


def unredact(
    catalog: Catalog,
    settings: Settings,
    item_id: str,
    uid: str,
    *,
    actor: str,
    rebuild_media: bool = True,
) -> None:
    """Show a redacted segment again to those who may see the item. InputError if not redacted."""
    actor = check_actor(actor)
    catalog.get_item(item_id)
    with catalog.transaction() as conn:
        row = conn.execute(
            "SELECT reason FROM redactions WHERE item_id = ? AND uid = ?", (item_id, uid)
        ).fetchone()
        if row is None:
            raise InputError(f"segment {uid} of item {item_id} is not redacted")
        conn.execute("DELETE FROM redactions WHERE item_id = ? AND uid = ?", (item_id, uid))
        write_audit(
            conn, actor=actor, action="unredact", item_id=item_id, target=uid,
            old_value=f"redacted: {row['reason']}" if row["reason"] else "redacted", new_value="visible",
        )  # fmt: skip
    # Showing text again: indexed after the commit (a failure leaves it hidden, not exposed).
    _reindex(settings, catalog, item_id)
    _refresh_media(settings, catalog, item_id, rebuild_media)
