"""Fixity: proof that every media file is still the one that was ingested.

``run_fixity()`` re-reads media files and compares their sha256 with the one the catalog recorded
at ingest. Every check is written to the catalog's ``fixity_checks`` table (when, which file, what
was expected and found, the result: ``ok``, ``changed``, ``missing`` or ``unreadable``), so the
record of checks is itself preserved in every backup. The worker runs a full check weekly
(:func:`periodic_fixity`); ``archive fixity --sample N`` checks the N files checked longest ago
(never-checked ones first), so repeated small runs cover the whole archive in turn.

>>> report = run_fixity(settings, catalog)
>>> report.ok, [p.path for p in report.problems]
(False, ['media/ab/ab12….mp4'])
>>> last_fixity_run(catalog).problems          # what the staff pages show
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from archive.catalog.db import Catalog
from archive.catalog.models import Job, MediaFile, now_utc
from archive.core.config import Settings
from archive.core.errors import InputError
from archive.core.paths import MEDIA_FOLDER, confined_name
from archive.core.plugins import JobProgress, PeriodicTask
from archive.media.store import hash_file

__all__ = [
    "RESULTS",
    "FixityCheck",
    "FixityReport",
    "FixityRun",
    "fixity_job",
    "fixity_overview",
    "last_fixity_run",
    "periodic_fixity",
    "run_fixity",
]

log = logging.getLogger(__name__)

RESULTS = ("ok", "changed", "missing", "unreadable")
# Rows are written in batches: one short write transaction per batch, never one per file (slow)
# nor one for the whole run (it would hold the catalog's write lock for minutes).
BATCH = 200

ProgressFn = Callable[[int, int], None]  # bytes done, bytes in total


@dataclass(frozen=True)
class FixityCheck:
    media_id: int | None
    item_id: str | None
    path: str  # relative to the data folder
    role: str
    expected_sha256: str
    actual_sha256: str | None
    result: str  # ok | changed | missing | unreadable
    checked_at: str
    size: int = 0

    @property
    def ok(self) -> bool:
        return self.result == "ok"

    def to_dict(self) -> dict[str, Any]:
        return {
            "media_id": self.media_id,
            "item_id": self.item_id,
            "path": self.path,
            "role": self.role,
            "expected_sha256": self.expected_sha256,
            "actual_sha256": self.actual_sha256,
            "result": self.result,
            "checked_at": self.checked_at,
        }


@dataclass(frozen=True)
class FixityReport:
    """One run, as it happened."""

    run_id: str
    started_at: str
    finished_at: str
    checks: tuple[FixityCheck, ...]
    total_media: int  # media files in the catalog (a sample checks fewer)
    sample: int | None
    bytes: int
    seconds: float

    @property
    def problems(self) -> tuple[FixityCheck, ...]:
        return tuple(c for c in self.checks if not c.ok)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def counts(self) -> dict[str, int]:
        return {r: sum(1 for c in self.checks if c.result == r) for r in RESULTS}

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "checked": len(self.checks),
            "total_media": self.total_media,
            "sample": self.sample,
            "bytes": self.bytes,
            "seconds": round(self.seconds, 3),
            "ok": self.ok,
            "counts": self.counts,
            "problems": [c.to_dict() for c in self.problems],
        }


@dataclass(frozen=True)
class FixityRun:
    """A past run, read back from the catalog (what the staff pages show as "last check")."""

    run_id: str
    started_at: str
    finished_at: str
    checked: int
    counts: dict[str, int]
    problems: tuple[FixityCheck, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "checked": self.checked,
            "counts": dict(self.counts),
            "ok": self.ok,
            "problems": [c.to_dict() for c in self.problems],
        }


def _new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def _choose(catalog: Catalog, media: list[MediaFile], sample: int) -> list[MediaFile]:
    """The ``sample`` files checked longest ago; never-checked files first, ties at random."""
    last = dict(
        catalog.conn.execute(
            "SELECT media_id, MAX(checked_at) FROM fixity_checks GROUP BY media_id"
        ).fetchall()
    )
    tiebreak = {m.id: secrets.randbits(32) for m in media}
    ordered = sorted(
        media, key=lambda m: (last.get(m.id) is not None, last.get(m.id) or "", tiebreak[m.id])
    )
    return ordered[:sample]


def _check_one(home: Path, m: MediaFile, on_bytes: Callable[[int], None]) -> FixityCheck:
    path = (home / m.path).resolve()
    actual: str | None = None
    if not confined_name(m.path, MEDIA_FOLDER) or not path.is_relative_to(
        (home / MEDIA_FOLDER).resolve()
    ):
        result = "missing"  # a damaged row pointing outside media/: not a media file of ours
    else:
        try:
            actual, _ = hash_file(path, None)
            result = "ok" if actual == m.sha256 else "changed"
        except FileNotFoundError:
            result = "missing"
        except IsADirectoryError:
            result = "unreadable"
        except OSError:  # permission denied, an I/O error on a failing disk …
            result = "unreadable"
    on_bytes(m.size)
    return FixityCheck(
        media_id=m.id,
        item_id=m.item_id,
        path=m.path,
        role=m.role,
        expected_sha256=m.sha256,
        actual_sha256=actual,
        result=result,
        checked_at=now_utc(),
        size=m.size,
    )


def _record(catalog: Catalog, run_id: str, checks: list[FixityCheck]) -> None:
    with catalog.transaction() as conn:
        conn.executemany(
            "INSERT INTO fixity_checks (run_id, checked_at, media_id, item_id, path, expected_sha256, "
            "actual_sha256, result) VALUES (?,?,?,?,?,?,?,?)",
            [
                (
                    run_id,
                    c.checked_at,
                    c.media_id,
                    c.item_id,
                    c.path,
                    c.expected_sha256,
                    c.actual_sha256,
                    c.result,
                )
                for c in checks
            ],
        )


def run_fixity(
    settings: Settings,
    catalog: Catalog,
    sample: int | None = None,
    *,
    progress: ProgressFn | None = None,
    workers: int = 2,
) -> FixityReport:
    """Re-hash every media file (or a sample of ``sample`` files) and record each result."""
    if sample is not None and sample < 1:
        raise InputError(f"the sample must be at least 1 file, not {sample}")
    started, clock = now_utc(), time.monotonic()
    run_id = _new_run_id()
    home = settings.home.resolve()
    media = catalog.list_media()
    chosen = _choose(catalog, media, sample) if sample is not None else media
    total = sum(m.size for m in chosen)
    lock = threading.Lock()
    done = 0
    pending: list[FixityCheck] = []
    checks: list[FixityCheck] = []

    def on_bytes(n: int) -> None:
        nonlocal done
        with lock:
            done += n
            now = done
        if progress:
            progress(now, total)

    # Two readers keep a disk and both cores busy (hashlib releases the GIL on large buffers).
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for check in pool.map(lambda m: _check_one(home, m, on_bytes), chosen):
            checks.append(check)
            pending.append(check)
            if len(pending) >= BATCH:
                _record(catalog, run_id, pending)
                pending = []
    if pending:
        _record(catalog, run_id, pending)
    report = FixityReport(
        run_id=run_id,
        started_at=started,
        finished_at=now_utc(),
        checks=tuple(checks),
        total_media=len(media),
        sample=sample,
        bytes=sum(c.size for c in checks if c.actual_sha256 is not None),
        seconds=time.monotonic() - clock,
    )
    return report


def periodic_fixity(settings: Settings, catalog: Catalog) -> FixityReport:
    """The worker's weekly task: a full check of every media file. Results are in the catalog
    (the staff pages show them); failures are also logged for whoever reads the worker's log."""
    report = run_fixity(settings, catalog)
    if not report.ok:
        log.warning(
            "fixity run %s: %d of %d media files failed: %s",
            report.run_id,
            len(report.problems),
            len(report.checks),
            ", ".join(f"item {p.item_id}: {p.path} ({p.result})" for p in report.problems[:10]),
        )
    return report


# Sundays at 03:00, the worker checks every stored file.
WEEKLY_FIXITY = PeriodicTask(
    "archive.fixity", {"day_of_week": "0", "hour": "3", "minute": "0"}, periodic_fixity
)


def fixity_job(
    settings: Settings, catalog: Catalog, job: Job, report: JobProgress
) -> dict[str, Any]:
    """Job handler for kind ``fixity`` (payload ``{"sample": N}`` or ``{}``): a check started by staff."""
    sample = job.payload.get("sample")
    result = run_fixity(
        settings,
        catalog,
        int(sample) if sample else None,
        progress=lambda done, total: report("fixity", done / total if total else 1.0),
    )
    return {
        "run_id": result.run_id,
        "checked": len(result.checks),
        "ok": result.ok,
        "counts": result.counts,
    }


def _check_from_row(row: Any) -> FixityCheck:
    return FixityCheck(
        media_id=row["media_id"],
        item_id=row["item_id"],
        path=row["path"],
        role=row["role"] or "",
        expected_sha256=row["expected_sha256"],
        actual_sha256=row["actual_sha256"],
        result=row["result"],
        checked_at=row["checked_at"],
    )


_CHECK_COLUMNS = "f.media_id, f.item_id, f.path, m.role, f.expected_sha256, f.actual_sha256, f.result, f.checked_at"


def last_fixity_run(catalog: Catalog) -> FixityRun | None:
    """The most recent run: when, how many files, and each file that failed (None: never run)."""
    row = catalog.conn.execute(
        "SELECT run_id FROM fixity_checks ORDER BY id DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return None
    run_id = row[0]
    summary = catalog.conn.execute(
        "SELECT MIN(checked_at), MAX(checked_at), COUNT(*) FROM fixity_checks WHERE run_id = ?",
        (run_id,),
    ).fetchone()
    counts = dict.fromkeys(RESULTS, 0)
    for result, n in catalog.conn.execute(
        "SELECT result, COUNT(*) FROM fixity_checks WHERE run_id = ? GROUP BY result", (run_id,)
    ):
        counts[result] = n
    problems = tuple(
        _check_from_row(r)
        for r in catalog.conn.execute(
            f"SELECT {_CHECK_COLUMNS} FROM fixity_checks f LEFT JOIN media m ON m.id = f.media_id "
            "WHERE f.run_id = ? AND f.result != 'ok' ORDER BY f.item_id, f.path",
            (run_id,),
        )
    )
    return FixityRun(run_id, summary[0], summary[1], summary[2], counts, problems)


def fixity_overview(catalog: Catalog) -> dict[str, Any]:
    """For the staff pages: the last run, files never checked, and every file whose *latest*
    check failed (a sampled run may not have looked at an old failure again)."""
    last = last_fixity_run(catalog)
    total = int(catalog.conn.execute("SELECT COUNT(*) FROM media").fetchone()[0])
    never = int(
        catalog.conn.execute(
            "SELECT COUNT(*) FROM media WHERE id NOT IN (SELECT media_id FROM fixity_checks WHERE media_id IS NOT NULL)"
        ).fetchone()[0]
    )
    failing = [
        _check_from_row(r).to_dict()
        for r in catalog.conn.execute(
            f"SELECT {_CHECK_COLUMNS} FROM fixity_checks f JOIN media m ON m.id = f.media_id "
            "WHERE f.id IN (SELECT MAX(id) FROM fixity_checks GROUP BY media_id) AND f.result != 'ok' "
            "ORDER BY f.item_id, f.path"
        )
    ]
    return {
        "last_run": last.to_dict() if last else None,
        "media_total": total,
        "never_checked": never,
        "failing_now": failing,
    }
