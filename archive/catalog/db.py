"""The catalog: one SQLite database (WAL) with versioned schema migrations.

Tables: items, media (originals and derivatives, content-addressed), sources (the full yt-dlp
metadata kept as evidence), transcripts (numbered revisions per item) with their segments, jobs.
Every multi-row change runs in one transaction, so a killed process leaves the catalog as it was
before the change or after it, never half-way.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from archive.core.config import ROLES, Settings
from archive.core.errors import ConfigError, InputError, NotFoundError
from transcripts.segments import Segment

__all__ = [
    "COLLECTIONS",
    "LANGUAGES",
    "Catalog",
    "Item",
    "Job",
    "MediaFile",
    "TranscriptRevision",
    "note_change",
    "now_utc",
    "overlaps",
    "role_allows",
]

COLLECTIONS = ("webinar", "interview", "strike-anniversary", "other")
LANGUAGES = ("auto", "yue", "zh", "en")
VISIBILITIES = ROLES
JOB_STATES = ("queued", "running", "done", "failed", "cancelled")


def now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def role_allows(role: str, visibility: str) -> bool:
    """Whether a viewer of ``role`` may see something marked ``visibility``."""
    return ROLES.index(role) >= ROLES.index(visibility)


def overlaps(start: float, end: float, span_start: float, span_end: float) -> bool:
    """Whether the time range ``start``–``end`` shares a positive length with a span.

    Ranges that only touch (one ends where the other starts) do not overlap. A range of zero
    length (a point) overlaps a span it falls inside (start included, end excluded).
    """
    if end <= start:
        return span_start <= start < span_end
    return start < span_end and end > span_start


# Each entry migrates the schema from version i to i+1. Never edit a released entry: add one.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE items (
        id TEXT PRIMARY KEY,
        title_zh TEXT NOT NULL DEFAULT '',
        title_en TEXT NOT NULL DEFAULT '',
        description_zh TEXT NOT NULL DEFAULT '',
        description_en TEXT NOT NULL DEFAULT '',
        collection TEXT NOT NULL DEFAULT 'other'
            CHECK (collection IN ('webinar', 'interview', 'strike-anniversary', 'other')),
        recorded_date TEXT,
        speakers TEXT NOT NULL DEFAULT '[]',
        tags TEXT NOT NULL DEFAULT '[]',
        language TEXT NOT NULL DEFAULT 'auto' CHECK (language IN ('auto', 'yue', 'zh', 'en')),
        detected_language TEXT,
        visibility TEXT NOT NULL DEFAULT 'staff'
            CHECK (visibility IN ('public', 'members', 'staff')),
        embargo_until TEXT,
        embargo_visibility TEXT CHECK (embargo_visibility IN ('public', 'members', 'staff')),
        source_url TEXT,
        uploader TEXT,
        chapters TEXT NOT NULL DEFAULT '[]',
        is_demo INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE media (
        id INTEGER PRIMARY KEY,
        item_id TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
        role TEXT NOT NULL CHECK (role IN ('original', 'audio')),
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        duration REAL,
        container TEXT,
        streams TEXT NOT NULL DEFAULT '[]',
        mime TEXT,
        path TEXT NOT NULL,
        original_name TEXT,
        created_at TEXT NOT NULL,
        UNIQUE (item_id, role)
    );
    CREATE UNIQUE INDEX media_original_sha ON media(sha256) WHERE role = 'original';
    CREATE TABLE sources (
        item_id TEXT PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE,
        url TEXT,
        extractor TEXT,
        info TEXT NOT NULL,
        fetched_at TEXT NOT NULL
    );
    CREATE TABLE transcripts (
        id INTEGER PRIMARY KEY,
        item_id TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
        revision INTEGER NOT NULL,
        origin TEXT NOT NULL,
        model TEXT,
        decode_language TEXT,
        author TEXT NOT NULL DEFAULT 'system',
        summary TEXT NOT NULL DEFAULT '',
        changes TEXT NOT NULL DEFAULT '[]',
        created_at TEXT NOT NULL,
        UNIQUE (item_id, revision)
    );
    CREATE TABLE segments (
        transcript_id INTEGER NOT NULL REFERENCES transcripts(id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        uid TEXT NOT NULL,
        start REAL NOT NULL,
        end REAL NOT NULL,
        text_zh TEXT NOT NULL DEFAULT '',
        text_en TEXT NOT NULL DEFAULT '',
        text_raw TEXT NOT NULL DEFAULT '',
        lang TEXT NOT NULL DEFAULT '',
        en_machine INTEGER NOT NULL DEFAULT 0,
        speaker TEXT NOT NULL DEFAULT '',
        reviewed INTEGER NOT NULL DEFAULT 0,
        words TEXT NOT NULL DEFAULT '[]',
        PRIMARY KEY (transcript_id, idx)
    );
    CREATE TABLE jobs (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        item_id TEXT REFERENCES items(id) ON DELETE SET NULL,
        state TEXT NOT NULL DEFAULT 'queued'
            CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
        phase TEXT NOT NULL DEFAULT '',
        progress REAL NOT NULL DEFAULT 0,
        message TEXT NOT NULL DEFAULT '',
        error TEXT,
        payload TEXT NOT NULL DEFAULT '{}',
        result TEXT NOT NULL DEFAULT '{}',
        attempts INTEGER NOT NULL DEFAULT 0,
        worker TEXT,
        created_by TEXT NOT NULL DEFAULT 'system',
        created_at TEXT NOT NULL,
        started_at TEXT,
        heartbeat_at TEXT,
        finished_at TEXT
    );
    CREATE INDEX jobs_state ON jobs(state);
    CREATE TABLE redactions (
        item_id TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
        uid TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (item_id, uid)
    );
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        item_id TEXT,
        target TEXT NOT NULL DEFAULT '',
        old_value TEXT,
        new_value TEXT
    );
    CREATE TABLE users (
        username TEXT PRIMARY KEY,
        role TEXT NOT NULL CHECK (role IN ('members', 'staff')),
        password_hash TEXT NOT NULL,
        created_at TEXT NOT NULL,
        failed_logins INTEGER NOT NULL DEFAULT 0,
        locked_until TEXT,
        last_login_at TEXT
    );
    """,
    # 2: the webinar hub — series (of items and events) and announced events.
    """
    CREATE TABLE series (
        id TEXT PRIMARY KEY,
        title_zh TEXT NOT NULL DEFAULT '',
        title_en TEXT NOT NULL DEFAULT '',
        description_zh TEXT NOT NULL DEFAULT '',
        description_en TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL
    );
    ALTER TABLE items ADD COLUMN series_id TEXT REFERENCES series(id) ON DELETE SET NULL;
    CREATE TABLE events (
        id TEXT PRIMARY KEY,
        uid TEXT NOT NULL UNIQUE,
        title_zh TEXT NOT NULL DEFAULT '',
        title_en TEXT NOT NULL DEFAULT '',
        description_zh TEXT NOT NULL DEFAULT '',
        description_en TEXT NOT NULL DEFAULT '',
        start_utc TEXT NOT NULL,
        tz TEXT NOT NULL,
        duration_minutes INTEGER NOT NULL CHECK (duration_minutes > 0),
        languages TEXT NOT NULL DEFAULT '[]',
        speakers TEXT NOT NULL DEFAULT '[]',
        series_id TEXT REFERENCES series(id) ON DELETE SET NULL,
        place_kind TEXT NOT NULL DEFAULT 'online' CHECK (place_kind IN ('online', 'in-person')),
        city TEXT NOT NULL DEFAULT '',
        venue TEXT NOT NULL DEFAULT '',
        join_url TEXT,
        poster_path TEXT,
        poster_mime TEXT,
        visibility TEXT NOT NULL DEFAULT 'staff' CHECK (visibility IN ('public', 'members', 'staff')),
        status TEXT NOT NULL DEFAULT 'scheduled'
            CHECK (status IN ('scheduled', 'postponed', 'cancelled', 'held')),
        previous_start_utc TEXT,
        item_id TEXT REFERENCES items(id) ON DELETE SET NULL,
        sequence INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX events_start ON events(start_utc);
    """,
    # 3: preservation — every fixity check of every media file.
    """
    CREATE TABLE fixity_checks (
        id INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL,
        checked_at TEXT NOT NULL,
        media_id INTEGER,
        item_id TEXT,
        path TEXT NOT NULL,
        expected_sha256 TEXT NOT NULL,
        actual_sha256 TEXT,
        result TEXT NOT NULL CHECK (result IN ('ok', 'changed', 'missing', 'unreadable'))
    );
    CREATE INDEX fixity_checks_run ON fixity_checks(run_id);
    """,
    # 4: log-in back-off per attempted name, with or without an account, so a lock-out does not
    # tell which names exist. The name is kept only as a keyed hash (archive.workspace.accounts).
    """
    CREATE TABLE login_throttle (
        name_key TEXT PRIMARY KEY,
        failed_logins INTEGER NOT NULL DEFAULT 0,
        locked_until TEXT,
        forget_at TEXT NOT NULL
    );
    CREATE INDEX login_throttle_forget ON login_throttle(forget_at);
    """,
    # 5: redactions are spans of the recording, not segment uids. A split, a merge, a subtitle
    # import or a new transcription gives segments new uids; a span of time hides whatever any
    # revision says in it. Each old (item, uid) row becomes the span from the earliest start to
    # the latest end of that uid in every revision (uids that never had a segment hid nothing).
    # origin_uid keeps, for information only, the uid a converted or segment-based redaction
    # started from.
    """
    CREATE TABLE redactions_by_uid AS SELECT item_id, uid, reason, created_by, created_at
        FROM redactions;
    DROP TABLE redactions;
    CREATE TABLE redactions (
        id INTEGER PRIMARY KEY,
        item_id TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
        start REAL NOT NULL CHECK (start >= 0),
        "end" REAL NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        origin_uid TEXT,
        CHECK ("end" > start)
    );
    INSERT INTO redactions (item_id, start, "end", reason, created_by, created_at, origin_uid)
        SELECT r.item_id, MAX(0.0, MIN(s.start)),
               MAX(MAX(s."end"), MAX(0.0, MIN(s.start)) + 0.001),
               r.reason, r.created_by, r.created_at, r.uid
        FROM redactions_by_uid r
        JOIN transcripts t ON t.item_id = r.item_id
        JOIN segments s ON s.transcript_id = t.id AND s.uid = r.uid
        GROUP BY r.item_id, r.uid
        ORDER BY r.created_at, r.item_id, r.uid;
    DROP TABLE redactions_by_uid;
    CREATE INDEX redactions_item ON redactions(item_id, start);
    """,
    # 6: one counter that every change to what a viewer may see bumps, in the change's own
    # transaction (note_change): the portal keys its cached lists, facets, counts and charts on
    # it, so a withdrawn item is gone at the next page run. Written to run after any other
    # migration (IF NOT EXISTS, OR IGNORE): it only adds a table of its own.
    """
    CREATE TABLE IF NOT EXISTS catalog_changes (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        counter INTEGER NOT NULL DEFAULT 0
    );
    INSERT OR IGNORE INTO catalog_changes (id, counter) VALUES (1, 0);
    """,
    # 7: what below staff may not see of an item. ``source_public``: staff have checked that the
    # source link may be shown to viewers (it is never shown with credentials or secret query
    # parameters either way). ``withheld_speakers``: ``[[name, label], ...]``, speakers who must
    # not be named below staff and the label shown instead ("Interviewee A"). Plain ADD COLUMNs,
    # so the order of this migration among others does not matter.
    """
    ALTER TABLE items ADD COLUMN source_public INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE items ADD COLUMN withheld_speakers TEXT NOT NULL DEFAULT '[]';
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)


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


@dataclass(frozen=True)
class Item:
    id: str
    title_zh: str = ""
    title_en: str = ""
    description_zh: str = ""
    description_en: str = ""
    collection: str = "other"
    recorded_date: str | None = None
    speakers: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    language: str = "auto"
    detected_language: str | None = None
    visibility: str = "staff"
    embargo_until: str | None = None
    embargo_visibility: str | None = None
    source_url: str | None = None
    uploader: str | None = None
    chapters: tuple[dict[str, Any], ...] = ()
    is_demo: bool = False
    created_at: str = ""
    updated_at: str = ""
    series_id: str | None = None
    source_public: bool = False
    # (name, label) pairs: below staff the label stands for the name (archive.catalog.access.present_item).
    withheld_speakers: tuple[tuple[str, str], ...] = ()

    @property
    def year(self) -> int | None:
        if self.recorded_date and self.recorded_date[:4].isdigit():
            return int(self.recorded_date[:4])
        return None

    def effective_visibility(self, at: datetime | None = None) -> str:
        """The level in force now: an embargoed item takes its chosen level once the date passes."""
        if self.embargo_until and self.embargo_visibility:
            moment = (at or datetime.now(UTC)).isoformat(timespec="seconds")
            if moment >= _embargo_instant(self.embargo_until):
                return self.embargo_visibility
        return self.visibility

    @property
    def title(self) -> str:
        return self.title_en or self.title_zh or self.id

    def to_dict(self) -> dict[str, Any]:
        return {
            f.name: (
                list(getattr(self, f.name))
                if isinstance(getattr(self, f.name), tuple)
                else getattr(self, f.name)
            )
            for f in fields(self)
        }


ITEM_EDITABLE = (
    "title_zh",
    "title_en",
    "description_zh",
    "description_en",
    "collection",
    "recorded_date",
    "speakers",
    "tags",
    "language",
    "detected_language",
    "visibility",
    "embargo_until",
    "embargo_visibility",
    "source_url",
    "uploader",
    "chapters",
    "is_demo",
    "series_id",
    "source_public",
    "withheld_speakers",
)


@dataclass(frozen=True)
class MediaFile:
    id: int
    item_id: str
    role: str  # "original" or "audio" (the playback/transcription derivative)
    sha256: str
    size: int
    duration: float | None
    container: str | None
    streams: tuple[dict[str, Any], ...]
    mime: str | None
    path: str  # relative to the data folder
    original_name: str | None
    created_at: str

    @property
    def has_video(self) -> bool:
        return any(s.get("codec_type") == "video" for s in self.streams)


@dataclass(frozen=True)
class TranscriptRevision:
    id: int
    item_id: str
    revision: int
    origin: str  # whisper | subtitles | edit | source-subtitles
    model: str | None
    decode_language: str | None
    author: str
    summary: str
    changes: tuple[dict[str, Any], ...]
    created_at: str
    segments: tuple[Segment, ...] = field(default=(), repr=False)
    # The item's redaction spans ``(start, end)`` when the segments were read: what decided
    # each segment's ``redacted`` flag (empty when read without segments).
    redactions: tuple[tuple[float, float], ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    item_id: str | None
    state: str
    phase: str
    progress: float
    message: str
    error: str | None
    payload: dict[str, Any]
    result: dict[str, Any]
    attempts: int
    worker: str | None
    created_by: str
    created_at: str
    started_at: str | None
    heartbeat_at: str | None
    finished_at: str | None

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


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


def _segment_from_row(row: sqlite3.Row, spans: Sequence[tuple[float, float]] = ()) -> Segment:
    from transcripts.segments import Word

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
        return catalog

    # -- connections and transactions -------------------------------------------------------
    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
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
            for number in range(version, min(target, SCHEMA_VERSION)):
                for statement in _split_sql(MIGRATIONS[number]):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {number + 1}")
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
            if until and moment >= _embargo_instant(until)
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
            segments = tuple(
                _segment_from_row(r, spans)
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

    def redaction_spans(self, item_id: str) -> tuple[tuple[float, float], ...]:
        """The item's redacted spans ``(start, end)`` in seconds, sorted (as stored: not merged).

        Also a cache key: whatever was derived from a revision's segments (a page's transcript,
        a citation) is stale once this changes.
        """
        return tuple(
            (float(r[0]), float(r[1]))
            for r in self.conn.execute(
                'SELECT start, "end" FROM redactions WHERE item_id = ? ORDER BY start, "end", id',
                (item_id,),
            )
        )

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


def _embargo_instant(value: str) -> str:
    # A bare date means midnight UTC at the start of that day.
    return f"{value}T00:00:00+00:00" if len(value) == 10 else value


def _split_sql(script: str) -> list[str]:
    return [part.strip() for part in script.split(";") if part.strip()]


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


def normalise_date(text: str) -> str:
    """Accept YYYY, YYYY-MM, YYYY-MM-DD or yt-dlp's YYYYMMDD; return the ISO form."""
    raw = str(text).strip()
    if len(raw) == 8 and raw.isdigit():
        raw = f"{raw[:4]}-{raw[4:6]}-{raw[6:]}"
    for fmt, width in (("%Y-%m-%d", 10), ("%Y-%m", 7), ("%Y", 4)):
        try:
            datetime.strptime(raw, fmt)
        except ValueError:
            continue
        if len(raw) == width:
            return raw
    raise InputError(f"the date {text!r} is not YYYY, YYYY-MM or YYYY-MM-DD")
