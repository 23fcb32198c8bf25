"""The catalog: one SQLite database (WAL) with versioned schema migrations.

Tables: items, media (originals and derivatives, content-addressed), sources (the full yt-dlp
metadata kept as evidence), transcripts (numbered revisions per item) with their segments, jobs.
Every multi-row change runs in one transaction, so a killed process leaves the catalog as it was
before the change or after it, never half-way.

This module is the connection and the queries (:class:`Catalog`) and the change counter
(:func:`note_change`); the records it returns and the rules on their values are
:mod:`archive.catalog.models`, the schema is :mod:`archive.catalog.migrations`.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from archive.catalog.migrations import SCHEMA_VERSION, apply_migrations
from archive.catalog.models import (
    COLLECTIONS,
    ITEM_EDITABLE,
    LANGUAGES,
    VISIBILITIES,
    Item,
    Job,
    MediaFile,
    TranscriptRevision,
    embargo_instant,
    normalise_date,
    now_utc,
    overlaps,
    role_allows,
)
from archive.core.config import Settings
from archive.core.errors import ConfigError, InputError, NotFoundError
from archive.core.filemodes import private_file, tighten
from transcripts.segments import Segment, Word

__all__ = ["Catalog", "note_change"]


def note_change(conn: sqlite3.Connection) -> None:
    """Bump the catalog's change counter on ``conn``, inside the change's own transaction.

    Called by every write to what a viewer may see: items (visibility and embargo included),
    media, transcripts, redactions, series, events, and every audited action
    (:func:`archive.catalog.audit.write_audit`). Jobs, log-in throttling and fixity records do not count.
    """
    conn.execute("UPDATE catalog_changes SET counter = counter + 1 WHERE id = 1")


def _new_item_id() -> str:
    # Random, not sequential: a staff-only item's id reveals nothing about how many items exist.
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "".join(secrets.choice(alphabet) for _ in range(10))


def _item_from_row(row: sqlite3.Row) -> Item:
    data = dict(row)
    data["speakers"] = tuple(json.loads(data["speakers"]))
    data["tags"] = tuple(json.loads(data["tags"]))
    data["chapters"] = tuple(json.loads(data["chapters"]))
    data["is_demo"] = bool(data["is_demo"])
    data["source_public"] = bool(data.get("source_public") or 0)
    data["withheld_speakers"] = tuple(
        (str(pair[0]), str(pair[1])) for pair in json.loads(data.get("withheld_speakers") or "[]")
    )
    return Item(**data)


def _media_from_row(row: sqlite3.Row) -> MediaFile:
    data = dict(row)
    data["streams"] = tuple(json.loads(data["streams"]))
    return MediaFile(**data)


def _job_from_row(row: sqlite3.Row) -> Job:
    data = dict(row)
    data["payload"] = json.loads(data["payload"])
    data["result"] = json.loads(data["result"])
    return Job(**data)


def _segment_from_row(
    row: sqlite3.Row,
    spans: Sequence[tuple[float, float]] = (),
    parts: Sequence[tuple[float, float, tuple[str, ...]]] = (),
) -> Segment:
    start, end = row["start"], row["end"]
    return Segment(
        start=start,
        end=end,
        text_zh=row["text_zh"],
        text_en=row["text_en"],
        lang=row["lang"],
        text_raw=row["text_raw"],
        en_machine=bool(row["en_machine"]),
        speaker=row["speaker"],
        reviewed=bool(row["reviewed"]),
        # Safety first: a segment that overlaps a redacted span at all is hidden whole.
        redacted=any(overlaps(start, end, a, b) for a, b in spans),
        uid=row["uid"],
        words=tuple(Word(*w) for w in json.loads(row["words"])),
        # Words redacted inside it: masked below staff (archive.catalog.redaction_text).
        partial_redactions=tuple(p for p in parts if overlaps(start, end, p[0], p[1])),
    )


class Catalog:
    """The archive's catalog. One instance per process; connections are per thread.

    >>> cat = Catalog.open(settings)
    >>> item = cat.create_item(title_en="Dock strike, ten years on", collection="webinar")
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()

    @classmethod
    def open(cls, settings: Settings) -> Catalog:
        settings.ensure()
        catalog = cls(settings.catalog_path)
        catalog.migrate()
        # SQLite gives -wal and -shm the catalog's mode when it makes them; one copied in with
        # another mode is narrowed here (cheap: three lstat calls).
        for suffix in ("", "-wal", "-shm"):
            tighten(f"{settings.catalog_path}{suffix}")
        return catalog

    # -- connections and transactions -------------------------------------------------------
    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            # Made 0600 before SQLite opens it (SQLite would make it 0644): the catalog holds
            # password hashes, staff-only transcripts and withheld names.
            with contextlib.suppress(FileNotFoundError):  # no folder: sqlite3 says so below
                private_file(self.path)
            conn = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT; rolls back on any exception (nested calls join the outer one)."""
        conn = self.conn
        if conn.in_transaction:
            yield conn
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def migrate(self, target: int = SCHEMA_VERSION) -> int:
        """Apply the migrations up to ``target`` (default: this software's schema). A smaller
        ``target`` builds the schema an older release made (restore compares bags with it)."""
        with self.transaction() as conn:
            version = self.schema_version()
            if version > SCHEMA_VERSION:
                raise ConfigError(
                    f"the catalog has schema version {version}, newer than this software "
                    f"({SCHEMA_VERSION}): upgrade the software"
                )
            apply_migrations(conn, version, min(target, SCHEMA_VERSION))
        return self.schema_version()

    def change_stamp(self, at: datetime | None = None) -> tuple[int, int]:
        """What a cached view of the catalog must be keyed on to be current: the change counter
        (:func:`note_change`) and how many embargoes have ended by ``at`` (now), since an
        embargo's date opens an item without any write."""
        counter = self.conn.execute("SELECT counter FROM catalog_changes WHERE id = 1").fetchone()
        moment = (at or datetime.now(UTC)).isoformat(timespec="seconds")
        ended = sum(
            1
            for (until,) in self.conn.execute(
                "SELECT embargo_until FROM items WHERE embargo_until IS NOT NULL"
            )
            if until and moment >= embargo_instant(until)
        )
        return (int(counter[0]) if counter else 0, ended)

    # -- items ------------------------------------------------------------------------------
    def create_item(self, **values: Any) -> Item:
        values = _validate_item_values(values)
        stamp = now_utc()
        item_id = values.pop("id", None) or _new_item_id()
        columns = ["id", "created_at", "updated_at", *values]
        params = [item_id, stamp, stamp, *(_encode(v) for v in values.values())]
        with self.transaction() as conn:
            conn.execute(
                f"INSERT INTO items ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                params,
            )
            note_change(conn)
        return self.get_item(item_id)

    def update_item(self, item_id: str, **values: Any) -> Item:
        values = _validate_item_values(values)
        if not values:
            return self.get_item(item_id)
        assignments = ", ".join(f"{k} = ?" for k in values)
        with self.transaction() as conn:
            cur = conn.execute(
                f"UPDATE items SET {assignments}, updated_at = ? WHERE id = ?",
                [*(_encode(v) for v in values.values()), now_utc(), item_id],
            )
            if cur.rowcount == 0:
                raise NotFoundError(f"no item {item_id}")
            note_change(conn)
        return self.get_item(item_id)

    def get_item(self, item_id: str) -> Item:
        row = self.conn.execute("SELECT * FROM items WHERE id = ?", (item_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no item {item_id}")
        return _item_from_row(row)

    def find_item(self, item_id: str) -> Item | None:
        row = self.conn.execute("SELECT * FROM items WHERE id = ?", (item_id,)).fetchone()
        return _item_from_row(row) if row else None

    def list_items(
        self,
        *,
        role: str = "staff",
        collection: str | None = None,
        series_id: str | None = None,
        order: str = "recorded_date DESC, created_at DESC",
        limit: int | None = None,
    ) -> list[Item]:
        # An embargo can open an item up on a date, so the stored level alone does not decide:
        # filter on the level in force now.
        sql = "SELECT * FROM items"
        params: list[Any] = []
        where = []
        if collection:
            where.append("collection = ?")
            params.append(collection)
        if series_id is not None:
            where.append("series_id = ?")
            params.append(series_id)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY {order}"
        items = [
            item
            for item in (_item_from_row(r) for r in self.conn.execute(sql, params))
            if role_allows(role, item.effective_visibility())
        ]
        return items[:limit] if limit else items

    def delete_item(self, item_id: str) -> None:
        with self.transaction() as conn:
            conn.execute("DELETE FROM items WHERE id = ?", (item_id,))
            note_change(conn)

    def item_ids(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT id FROM items ORDER BY created_at, id")]

    # -- media and sources ------------------------------------------------------------------
    def add_media(
        self,
        item_id: str,
        *,
        role: str,
        sha256: str,
        size: int,
        path: str,
        duration: float | None = None,
        container: str | None = None,
        streams: Sequence[dict[str, Any]] = (),
        mime: str | None = None,
        original_name: str | None = None,
    ) -> MediaFile:
        with self.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO media (item_id, role, sha256, size, duration, container, "
                "streams, mime, path, original_name, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    item_id,
                    role,
                    sha256,
                    size,
                    duration,
                    container,
                    json.dumps(list(streams)),
                    mime,
                    path,
                    original_name,
                    now_utc(),
                ),
            )
            note_change(conn)
        media = self.get_media(item_id, role)
        assert media is not None
        return media

    def get_media(self, item_id: str, role: str) -> MediaFile | None:
        row = self.conn.execute(
            "SELECT * FROM media WHERE item_id = ? AND role = ?", (item_id, role)
        ).fetchone()
        return _media_from_row(row) if row else None

    def list_media(self, item_id: str | None = None) -> list[MediaFile]:
        if item_id is None:
            rows = self.conn.execute("SELECT * FROM media ORDER BY id")
        else:
            rows = self.conn.execute(
                "SELECT * FROM media WHERE item_id = ? ORDER BY id", (item_id,)
            )
        return [_media_from_row(r) for r in rows]

    def item_by_original_sha(self, sha256: str) -> Item | None:
        row = self.conn.execute(
            "SELECT item_id FROM media WHERE role = 'original' AND sha256 = ?", (sha256,)
        ).fetchone()
        return self.get_item(row[0]) if row else None

    def set_source(
        self, item_id: str, *, url: str | None, extractor: str | None, info: dict[str, Any]
    ) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO sources (item_id, url, extractor, info, fetched_at) VALUES (?,?,?,?,?)",
                (
                    item_id,
                    url,
                    extractor,
                    json.dumps(info, ensure_ascii=False, default=str),
                    now_utc(),
                ),
            )
            note_change(conn)

    def get_source(self, item_id: str) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT * FROM sources WHERE item_id = ?", (item_id,)).fetchone()
        if row is None:
            return None
        data = dict(row)
        data["info"] = json.loads(data["info"])
        return data

    # -- transcripts ------------------------------------------------------------------------
    def add_revision(
        self,
        item_id: str,
        segments: Iterable[Segment],
        *,
        origin: str,
        author: str = "system",
        summary: str = "",
        changes: Sequence[dict[str, Any]] = (),
        model: str | None = None,
        decode_language: str | None = None,
    ) -> TranscriptRevision:
        """Store a new numbered revision with all its segments, atomically."""
        segments = sorted(segments, key=lambda s: (s.start, s.end))
        with self.transaction() as conn:
            if conn.execute("SELECT 1 FROM items WHERE id = ?", (item_id,)).fetchone() is None:
                raise NotFoundError(f"no item {item_id}")
            last = conn.execute(
                "SELECT COALESCE(MAX(revision), 0) FROM transcripts WHERE item_id = ?", (item_id,)
            ).fetchone()[0]
            cur = conn.execute(
                "INSERT INTO transcripts (item_id, revision, origin, model, decode_language, author, "
                "summary, changes, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    item_id,
                    last + 1,
                    origin,
                    model,
                    decode_language,
                    author,
                    summary,
                    json.dumps(list(changes), ensure_ascii=False),
                    now_utc(),
                ),
            )
            transcript_id = cur.lastrowid
            conn.executemany(
                "INSERT INTO segments (transcript_id, idx, uid, start, end, text_zh, text_en, text_raw, "
                "lang, en_machine, speaker, reviewed, words) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        transcript_id,
                        idx,
                        s.uid,
                        s.start,
                        s.end,
                        s.text_zh,
                        s.text_en,
                        s.text_raw,
                        s.lang,
                        int(s.en_machine),
                        s.speaker,
                        int(s.reviewed),
                        json.dumps(
                            [[w.start, w.end, w.text, w.probability] for w in s.words],
                            ensure_ascii=False,
                        ),
                    )
                    for idx, s in enumerate(segments)
                ],
            )
            note_change(conn)
        return self.get_revision(item_id, last + 1)

    def latest_revision_number(self, item_id: str) -> int | None:
        row = self.conn.execute(
            "SELECT MAX(revision) FROM transcripts WHERE item_id = ?", (item_id,)
        ).fetchone()
        return row[0]

    def get_revision(
        self, item_id: str, revision: int | None = None, *, with_segments: bool = True
    ) -> TranscriptRevision:
        """A revision of an item's transcript (the latest when ``revision`` is None)."""
        if revision is None:
            row = self.conn.execute(
                "SELECT * FROM transcripts WHERE item_id = ? ORDER BY revision DESC LIMIT 1",
                (item_id,),
            ).fetchone()
        else:
            row = self.conn.execute(
                "SELECT * FROM transcripts WHERE item_id = ? AND revision = ?", (item_id, revision)
            ).fetchone()
        if row is None:
            which = "a transcript" if revision is None else f"transcript revision {revision}"
            raise NotFoundError(f"item {item_id} has no {which}")
        segments: tuple[Segment, ...] = ()
        spans: tuple[tuple[float, float], ...] = ()
        if with_segments:
            # Redactions are spans of the recording, kept outside revisions: a span hides what
            # every revision says in it (old citable ones, and ones made later by an edit, a
            # subtitle import or a new transcription), whatever the segments' uids.
            spans = self.redaction_spans(item_id)
            parts = self.text_redactions(item_id)
            whole = self.redaction_spans(item_id, whole_only=True) if parts else spans
            segments = tuple(
                _segment_from_row(r, whole, parts)
                for r in self.conn.execute(
                    "SELECT * FROM segments WHERE transcript_id = ? ORDER BY idx", (row["id"],)
                )
            )
        data = dict(row)
        data["changes"] = tuple(json.loads(data["changes"]))
        return TranscriptRevision(**data, segments=segments, redactions=spans)

    def list_revisions(self, item_id: str) -> list[TranscriptRevision]:
        rows = self.conn.execute(
            "SELECT * FROM transcripts WHERE item_id = ? ORDER BY revision", (item_id,)
        ).fetchall()
        out = []
        for row in rows:
            data = dict(row)
            data["changes"] = tuple(json.loads(data["changes"]))
            out.append(TranscriptRevision(**data))
        return out

    def redaction_spans(
        self, item_id: str, *, whole_only: bool = False
    ) -> tuple[tuple[float, float], ...]:
        """The item's redacted spans ``(start, end)`` in seconds, sorted (as stored: not merged):
        every redaction's, text-span ones included (their sound is silenced too); with
        ``whole_only`` only those that hide the segments they overlap whole.

        Also a cache key: whatever was derived from a revision's segments (a page's transcript,
        a citation) is stale once this changes.
        """
        where = " AND texts IS NULL" if whole_only else ""
        return tuple(
            (float(r[0]), float(r[1]))
            for r in self.conn.execute(
                f'SELECT start, "end" FROM redactions WHERE item_id = ?{where} '
                'ORDER BY start, "end", id',
                (item_id,),
            )
        )

    def text_redactions(self, item_id: str) -> tuple[tuple[float, float, tuple[str, ...]], ...]:
        """The item's text-span redactions ``(start, end, forms)``: the words said in the span
        (one form or several), masked below staff in every segment overlapping it."""
        out = []
        for r in self.conn.execute(
            'SELECT start, "end", texts FROM redactions WHERE item_id = ? AND texts IS NOT NULL '
            'ORDER BY start, "end", id',
            (item_id,),
        ):
            forms = tuple(str(f) for f in json.loads(r[2]) if str(f).strip())
            # A row whose forms are lost or empty hides its segments whole (safety first).
            out.append((float(r[0]), float(r[1]), forms or ("",)))
        return tuple(out)

    # -- jobs -------------------------------------------------------------------------------
    def create_job(
        self,
        kind: str,
        *,
        payload: dict[str, Any],
        item_id: str | None = None,
        created_by: str = "system",
    ) -> Job:
        with self.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO jobs (kind, item_id, payload, created_by, created_at) VALUES (?,?,?,?,?)",
                (kind, item_id, json.dumps(payload, ensure_ascii=False), created_by, now_utc()),
            )
        return self.get_job(int(cur.lastrowid or 0))

    def get_job(self, job_id: int) -> Job:
        row = self.conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no job {job_id}")
        return _job_from_row(row)

    def list_jobs(self, *, states: Sequence[str] | None = None, limit: int = 100) -> list[Job]:
        sql = "SELECT * FROM jobs"
        params: list[Any] = []
        if states:
            sql += f" WHERE state IN ({', '.join('?' * len(states))})"
            params.extend(states)
        sql += " ORDER BY id DESC LIMIT ?"
        params.append(limit)
        return [_job_from_row(r) for r in self.conn.execute(sql, params)]

    def update_job(self, job_id: int, **values: Any) -> None:
        if "payload" in values or "result" in values:
            for key in ("payload", "result"):
                if key in values:
                    values[key] = json.dumps(values[key], ensure_ascii=False)
        assignments = ", ".join(f"{k} = ?" for k in values)
        with self.transaction() as conn:
            conn.execute(f"UPDATE jobs SET {assignments} WHERE id = ?", [*values.values(), job_id])

    def claim_job(self, job_id: int, worker: str) -> Job | None:
        """Mark a queued job running for ``worker``; None when someone else has it or it is not queued."""
        stamp = now_utc()
        with self.transaction() as conn:
            cur = conn.execute(
                "UPDATE jobs SET state = 'running', worker = ?, started_at = ?, heartbeat_at = ?, "
                "attempts = attempts + 1, error = NULL WHERE id = ? AND state = 'queued'",
                (worker, stamp, stamp, job_id),
            )
            if cur.rowcount == 0:
                return None
        return self.get_job(job_id)


def _encode(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return json.dumps(
            [list(v) if isinstance(v, tuple) else v for v in value], ensure_ascii=False
        )
    if isinstance(value, bool):
        return int(value)
    return value


def _validate_item_values(values: dict[str, Any]) -> dict[str, Any]:
    unknown = set(values) - set(ITEM_EDITABLE) - {"id"}
    if unknown:
        raise InputError(f"unknown item field(s): {', '.join(sorted(unknown))}")
    if "collection" in values and values["collection"] not in COLLECTIONS:
        raise InputError(
            f"collection must be one of {', '.join(COLLECTIONS)}, not {values['collection']!r}"
        )
    if "visibility" in values and values["visibility"] not in VISIBILITIES:
        raise InputError(
            f"visibility must be one of {', '.join(VISIBILITIES)}, not {values['visibility']!r}"
        )
    if "language" in values and values["language"] not in LANGUAGES:
        raise InputError(
            f"language must be one of {', '.join(LANGUAGES)}, not {values['language']!r}"
        )
    if values.get("recorded_date"):
        values["recorded_date"] = normalise_date(values["recorded_date"])
    for key in ("speakers", "tags"):
        if key in values:
            values[key] = [s.strip() for s in values[key] if s and s.strip()]
    if "withheld_speakers" in values:
        pairs = []
        for pair in values["withheld_speakers"]:
            name, label = (" ".join(str(x).split()) for x in pair)
            if not name or not label:
                raise InputError("a withheld speaker needs a name and a label")
            pairs.append((name, label))
        values["withheld_speakers"] = pairs
    if "source_public" in values:
        values["source_public"] = bool(values["source_public"])
    return values
