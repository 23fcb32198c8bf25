"""The catalog's schema: the numbered SQL migrations and how they are applied.

``MIGRATIONS[i]`` takes the schema from version ``i`` to ``i + 1``; ``SCHEMA_VERSION`` is the
version this software writes. SQLite's ``PRAGMA user_version`` records how far a database has
come. :meth:`archive.catalog.db.Catalog.migrate` runs :func:`apply_migrations` inside one
transaction, so a database is never left between two versions.
"""

from __future__ import annotations

import sqlite3

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "apply_migrations"]

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
    # 8: an account's one-time recovery code (archive.workspace.recovery), kept only as a digest:
    # with the password it gets the person past a lock-out that a distributed attack set. A plain
    # ADD COLUMN, so the order of this migration among others does not matter.
    """
    ALTER TABLE users ADD COLUMN recovery_hash TEXT;
    """,
    # 9: text-span redactions (archive.catalog.redaction_text): ``texts`` is a JSON list of the
    # words said in the span, masked below staff in every overlapping segment while the rest of
    # the sentence stays; NULL (every redaction before it) hides the overlapping segments whole.
    # A plain ADD COLUMN, so the order of this migration among others does not matter.
    """
    ALTER TABLE redactions ADD COLUMN texts TEXT;
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)


def apply_migrations(conn: sqlite3.Connection, version: int, target: int) -> None:
    """Run migrations ``version`` … ``target - 1`` on ``conn``, recording each new version.

    The caller holds the transaction (and has checked that ``target <= SCHEMA_VERSION``).
    """
    for number in range(version, target):
        for statement in _split_sql(MIGRATIONS[number]):
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {number + 1}")


def _split_sql(script: str) -> list[str]:
    # The migrations hold no semicolons inside strings or triggers, so a plain split is exact.
    return [part.strip() for part in script.split(";") if part.strip()]
