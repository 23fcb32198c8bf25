"""Background jobs: downloads and transcription, run by ``archive worker``.

The queue is huey's, not a home-made one: an embedded SQLite queue under the data folder by
default, or Redis when ``ARCHIVE_QUEUE_URL=redis://host:port/db`` is set so several worker machines
share the work (they must share the data folder too). The catalog's ``jobs`` table is the record a
person sees: state (queued / running / done / failed / cancelled), phase, progress as a fraction of
audio processed, a plain-words error.

A queue message only carries a job id. Claiming is an atomic ``UPDATE … WHERE state='queued'`` in
the catalog, so a message delivered twice runs once. A running job writes a heartbeat every few
seconds; a worker that starts (and every minute after) puts back in the queue any job whose worker
died: on this host, a dead process id; elsewhere, a heartbeat older than
``ARCHIVE_JOB_STALE_SECONDS`` (default 120).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from archive.catalog.db import Catalog
from archive.catalog.models import Job, now_utc
from archive.core.config import Settings
from archive.core.errors import ArchiveError, JobError, NotFoundError
from archive.core.filemodes import private_dir, private_file, private_opener
from archive.core.plugins import PeriodicTask, declared

__all__ = [
    "PERIODIC_TASKS",
    "JobHandler",
    "handlers",
    "JobCancelled",
    "Reporter",
    "cancel_job",
    "enqueue",
    "queue_for",
    "recover_stale_jobs",
    "retry_job",
    "run_job",
    "run_worker",
]

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 5.0


def stale_seconds() -> float:
    return float(os.environ.get("ARCHIVE_JOB_STALE_SECONDS", "120"))


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class JobCancelled(Exception):  # noqa: N818 - a signal, not an error
    """Raised inside a running job when someone cancelled it."""


@dataclass
class Reporter:
    """Progress from a running job to the catalog (throttled) and, optionally, a terminal bar."""

    catalog: Catalog
    job_id: int
    display: Callable[[str, float], None] | None = None
    _last_write: float = 0.0
    _last_phase: str = ""
    _last_cancel_check: float = 0.0

    def __call__(self, phase: str, fraction: float) -> None:
        fraction = max(0.0, min(1.0, fraction))
        if self.display:
            self.display(phase, fraction)
        now = time.monotonic()
        if phase != self._last_phase or now - self._last_write >= 0.5 or fraction >= 1.0:
            self.catalog.update_job(
                self.job_id, phase=phase, progress=fraction, heartbeat_at=now_utc()
            )
            self._last_write = now
            self._last_phase = phase
        if now - self._last_cancel_check >= 1.0:
            self._last_cancel_check = now
            if self.catalog.get_job(self.job_id).state == "cancelled":
                raise JobCancelled()


# -- handlers ---------------------------------------------------------------------------------

JobHandler = Callable[[Settings, Catalog, Job, Reporter], dict[str, Any]]


def handlers() -> dict[str, JobHandler]:
    """Every job kind's handler, as the packages that own the kinds declare them (entry point
    group ``archive.job_handlers``; see :mod:`archive.core.plugins`). The queue knows none."""
    return declared("archive.job_handlers")


# -- running ----------------------------------------------------------------------------------


def run_job(
    settings: Settings,
    catalog: Catalog,
    job_id: int,
    *,
    display: Callable[[str, float], None] | None = None,
) -> Job:
    """Claim and run one job in this process. Returns the job as it ended."""
    job = catalog.claim_job(job_id, worker_name())
    if job is None:
        return catalog.get_job(job_id)  # someone else has it, or it is done/cancelled
    handler = handlers().get(job.kind)
    stop = threading.Event()

    def beat() -> None:
        beat_catalog = Catalog(catalog.path)
        try:
            while not stop.wait(HEARTBEAT_SECONDS):
                beat_catalog.update_job(job_id, heartbeat_at=now_utc())
        finally:
            beat_catalog.close()

    heart = threading.Thread(target=beat, name=f"job-{job_id}-heartbeat", daemon=True)
    heart.start()
    try:
        if handler is None:
            raise JobError(f"unknown job kind {job.kind!r}")
        result = handler(settings, catalog, job, Reporter(catalog, job_id, display))
        catalog.update_job(
            job_id,
            state="done",
            phase="done",
            progress=1.0,
            result=result,
            finished_at=now_utc(),
            error=None,
        )
    except JobCancelled:
        catalog.update_job(job_id, finished_at=now_utc(), message="cancelled while running")
    except ArchiveError as exc:
        catalog.update_job(job_id, state="failed", error=str(exc), finished_at=now_utc())
    except Exception as exc:  # a bug: record it in plain words, keep the details in the log
        log.error("job %s crashed:\n%s", job_id, traceback.format_exc())
        _log_to_file(settings, f"job {job_id} crashed:\n{traceback.format_exc()}")
        catalog.update_job(
            job_id,
            state="failed",
            error=f"internal error ({type(exc).__name__}: {exc})",
            finished_at=now_utc(),
        )
    finally:
        stop.set()
        heart.join(timeout=HEARTBEAT_SECONDS + 1)
    return catalog.get_job(job_id)


def _log_to_file(settings: Settings, text: str) -> None:
    try:
        folder = private_dir(settings.home / "logs")
        with open(folder / "worker.log", "a", encoding="utf-8", opener=private_opener) as fh:
            fh.write(f"{now_utc()} {text}\n")
    except OSError:
        pass


# -- the queue --------------------------------------------------------------------------------


class _DeclaredPeriodicTasks(Sequence[tuple[str, dict[str, str], str]]):
    """Periodic work run by the worker, as ``(name, crontab fields, "module:function")``: each
    package declares its own :class:`~archive.core.plugins.PeriodicTask` (entry point group
    ``archive.periodic_tasks``), read when first asked for."""

    def _tasks(self) -> list[tuple[str, dict[str, str], str]]:
        tasks = declared("archive.periodic_tasks").values()
        return [(task.name, dict(task.schedule), task.target) for task in tasks]

    def __getitem__(self, index: Any) -> Any:
        return self._tasks()[index]

    def __len__(self) -> int:
        return len(self._tasks())


PERIODIC_TASKS: Sequence[tuple[str, dict[str, str], str]] = _DeclaredPeriodicTasks()


def _periodic_runner(settings: Settings, target: str) -> Callable[[], None]:
    module_name, function_name = target.split(":")

    def run() -> None:
        import importlib

        try:
            function = getattr(importlib.import_module(module_name), function_name)
        except (ModuleNotFoundError, AttributeError):
            return  # that part of the archive is not installed
        catalog = Catalog.open(settings)
        try:
            function(settings, catalog)
        except Exception:
            _log_to_file(settings, f"periodic task {target} failed:\n{traceback.format_exc()}")
        finally:
            catalog.close()

    run.__name__ = function_name
    return run


_QUEUES: dict[tuple[str, str | None], Any] = {}
_QUEUES_LOCK = threading.Lock()


def queue_for(settings: Settings) -> Any:
    """The huey instance for this data folder (SQLite) or the configured Redis URL."""
    key = (str(settings.home), settings.queue_url)
    with _QUEUES_LOCK:
        if key in _QUEUES:
            return _QUEUES[key]
        from huey import RedisHuey, SqliteHuey, crontab

        if settings.queue_url:
            huey = RedisHuey("archive", url=settings.queue_url, results=False)
        else:
            settings.ensure()
            private_file(settings.queue_path)  # 0600 before SQLite makes it 0644
            huey = SqliteHuey("archive", filename=str(settings.queue_path), results=False)

        @huey.task(name="archive.run_job")
        def run_job_task(job_id: int) -> None:
            catalog = Catalog.open(settings)
            try:
                run_job(settings, catalog, job_id)
            finally:
                catalog.close()

        for name, schedule, target in PERIODIC_TASKS:
            huey.periodic_task(crontab(**schedule), name=name)(_periodic_runner(settings, target))

        huey.archive_run_job = run_job_task  # type: ignore[attr-defined]
        _QUEUES[key] = huey
        return huey


def enqueue(settings: Settings, job: Job) -> None:
    queue_for(settings).archive_run_job(job.id)


def retry_job(settings: Settings, catalog: Catalog, job_id: int) -> Job:
    job = catalog.get_job(job_id)
    if job.state not in ("failed", "cancelled"):
        raise JobError(f"job {job_id} is {job.state}: only failed or cancelled jobs can be retried")
    catalog.update_job(
        job_id, state="queued", phase="", progress=0.0, error=None, message="", finished_at=None
    )
    job = catalog.get_job(job_id)
    enqueue(settings, job)
    return job


def cancel_job(catalog: Catalog, job_id: int) -> Job:
    job = catalog.get_job(job_id)
    if job.state not in ("queued", "running"):
        raise JobError(f"job {job_id} is {job.state}: only queued or running jobs can be cancelled")
    catalog.update_job(job_id, state="cancelled", finished_at=now_utc())
    return catalog.get_job(job_id)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover_stale_jobs(settings: Settings, catalog: Catalog) -> list[int]:
    """Put back in the queue the running jobs whose worker died, and re-send queued ones."""
    recovered = []
    host = socket.gethostname()
    limit = stale_seconds()
    now = time.time()
    from datetime import datetime

    for job in catalog.list_jobs(states=["running"], limit=10_000):
        dead = False
        if job.worker and job.worker.rsplit(":", 1)[0] == host:
            try:
                dead = not _pid_alive(int(job.worker.rsplit(":", 1)[1]))
            except ValueError:
                dead = False
        if not dead and job.heartbeat_at:
            age = now - datetime.fromisoformat(job.heartbeat_at).timestamp()
            dead = age > limit
        if dead:
            with catalog.transaction() as conn:
                cur = conn.execute(
                    "UPDATE jobs SET state = 'queued', phase = '', progress = 0, worker = NULL, "
                    "message = 'restarted after its worker stopped' WHERE id = ? AND state = 'running' "
                    "AND (worker IS ? OR worker IS NULL)",
                    (job.id, job.worker),
                )
            if cur.rowcount:
                recovered.append(job.id)
                enqueue(settings, catalog.get_job(job.id))
    return recovered


# Every minute: jobs whose worker died go back in the queue.
RECOVER_TASK = PeriodicTask("archive.recover", {"minute": "*"}, recover_stale_jobs)


def requeue_waiting(settings: Settings, catalog: Catalog) -> int:
    """Send every queued job to the queue again (a lost queue file loses nothing; claims dedupe)."""
    jobs = catalog.list_jobs(states=["queued"], limit=10_000)
    for job in jobs:
        enqueue(settings, job)
    return len(jobs)


def run_worker(settings: Settings, *, workers: int = 1, burst: bool = False) -> None:
    """Consume the queue until interrupted (``burst``: until it is empty)."""
    catalog = Catalog.open(settings)
    recover_stale_jobs(settings, catalog)
    requeue_waiting(settings, catalog)
    huey = queue_for(settings)
    if burst:
        while True:
            task = huey.dequeue()
            if task is None:
                break
            huey.execute(task)
        return
    consumer = huey.create_consumer(
        workers=workers, worker_type="thread", periodic=True, check_worker_health=True
    )
    consumer.run()


def job_or_none(catalog: Catalog, job_id: int) -> Job | None:
    try:
        return catalog.get_job(job_id)
    except NotFoundError:
        return None
