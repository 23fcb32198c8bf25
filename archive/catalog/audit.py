"""The audit log: who changed an item's visibility, a redaction or an account, when, from what, to what.

Rows are written by :func:`write_audit` *inside* the transaction that makes the change, so a change
and its audit row are committed together or not at all. The log is staff-only reading: it names
staff members and redaction reasons. It never holds a password, a password hash or the text of a
redacted segment (callers pass descriptions such as ``"redacted"``, never the text).

>>> with catalog.transaction() as conn:
...     write_audit(conn, actor="alice", action="visibility", item_id="k3v9x2m4qa",
...                 old_value="staff", new_value="members")
>>> audit_log(catalog, "k3v9x2m4qa")[0].new_value
'members'
"""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from archive.catalog.db import note_change
from archive.catalog.models import now_utc
from archive.core.errors import AccessDeniedError, InputError

if TYPE_CHECKING:
    from archive.catalog.access import Viewer
    from archive.catalog.db import Catalog

__all__ = ["AuditEntry", "audit_log", "check_actor", "write_audit"]

MAX_ACTOR = 100


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: str  # ISO 8601, UTC
    actor: str  # a user name, "cli:<os user>" or "system:<task>"
    action: str  # visibility | embargo-lifted | redact | unredact | user.add | user.remove | ...
    item_id: str | None
    target: str  # a redaction ("redaction 3 (0:04.20–0:07.00)"; a segment uid in old rows), a user name, or ""
    old_value: str | None
    new_value: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_actor(actor: str) -> str:
    """Every change is attributed: an empty or absurd actor is refused, not recorded as ''."""
    actor = (actor or "").strip()
    if not actor or len(actor) > MAX_ACTOR or any(ord(c) < 32 for c in actor):
        raise InputError("say who makes this change (a user name, at most 100 characters)")
    return actor


def write_audit(
    conn: sqlite3.Connection,
    *,
    actor: str,
    action: str,
    item_id: str | None = None,
    target: str = "",
    old_value: str | None = None,
    new_value: str | None = None,
    at: str | None = None,
) -> None:
    """Append one audit row on ``conn`` (call it inside the change's own transaction)."""
    conn.execute(
        "INSERT INTO audit (at, actor, action, item_id, target, old_value, new_value) "
        "VALUES (?,?,?,?,?,?,?)",
        (at or now_utc(), check_actor(actor), action, item_id, target, old_value, new_value),
    )
    # Every audited action changes what someone may see (visibility, embargo, redaction, edit):
    # cached lists and counts keyed on the change counter are dropped with it.
    note_change(conn)


def audit_log(
    catalog: Catalog,
    item_id: str | None = None,
    *,
    viewer: Viewer | None = None,
    limit: int | None = None,
) -> list[AuditEntry]:
    """Audit entries, newest first; for one item when ``item_id`` is given.

    Pass the portal's ``viewer``: anyone below staff is refused (the log names staff and reasons).
    """
    if viewer is not None and not viewer.is_staff:
        raise AccessDeniedError("the audit log is for staff only")
    sql = "SELECT * FROM audit"
    params: list[Any] = []
    if item_id is not None:
        sql += " WHERE item_id = ?"
        params.append(item_id)
    sql += " ORDER BY id DESC"
    if limit:
        sql += " LIMIT ?"
        params.append(int(limit))
    return [AuditEntry(**dict(row)) for row in catalog.conn.execute(sql, params)]
