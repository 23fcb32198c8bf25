"""Background jobs through huey: a real worker process, killed mid-job and restarted; retry; cancel;
the Redis-backed queue against a real redis-server on 127.0.0.1."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import ROOT, ffmpeg, run_cli

from archive.catalog.db import Catalog
from archive.catalog.models import Job
from archive.core.config import load_settings


def wait_for(condition: Callable[[], object], *, timeout: float, what: str) -> object:
    """Poll a condition until it holds; fail with a message after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def start_worker(
    home: Path, env: dict[str, str] | None = None, *args: str
) -> subprocess.Popen[bytes]:
    full_env = {**os.environ, **(env or {})}
    full_env.pop("ARCHIVE_HOME", None)
    return subprocess.Popen(
        [sys.executable, "-m", "archive", "--home", str(home), "worker", *args],
        cwd=ROOT,
        env=full_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def jobs_of(home: Path) -> list[Job]:
    catalog = Catalog(load_settings(home).catalog_path)
    try:
        return catalog.list_jobs()
    finally:
        catalog.close()


@pytest.fixture(scope="module")
def long_speech(tmp_path_factory, fixtures_dir) -> Path:
    """About two minutes of real speech: the JFK clip ten times (see fixtures/SOURCES.md)."""
    folder = tmp_path_factory.mktemp("speech")
    listing = folder / "list.txt"
    listing.write_text("".join(f"file '{fixtures_dir / 'en/jfk.flac'}'\n" for _ in range(10)))
    out = folder / "jfk-x10.flac"
    ffmpeg("-f", "concat", "-safe", "0", "-i", str(listing), "-c:a", "flac", str(out))
    return out


@pytest.mark.slow
def test_worker_killed_mid_job_is_picked_up_again(home, long_speech):
    queued = run_cli(
        home, "ingest", str(long_speech), "--title-en", "Long", "--language", "en", "--json"
    )
    assert queued.returncode == 0, queued.stderr
    ingest_job = json.loads(queued.stdout)["job"]
    env = {
        "ARCHIVE_JOB_STALE_SECONDS": "600"
    }  # recovery must come from the dead pid, not a timeout
    worker = start_worker(home, env)
    try:

        def transcribing() -> Job | None:
            # Transcription and its translation pass report window by window, interleaved.
            return next(
                (
                    j
                    for j in jobs_of(home)
                    if j.kind == "transcribe"
                    and j.state == "running"
                    and j.phase in ("transcribe", "translate")
                    and 0.05 < j.progress < 0.9
                ),
                None,
            )

        running = wait_for(transcribing, timeout=300, what="the transcription to be under way")
    finally:
        stop(worker)  # SIGKILL: no chance to clean up
    job = next(j for j in jobs_of(home) if j.id == running.id)
    assert job.state == "running" and job.attempts == 1
    assert next(j for j in jobs_of(home) if j.id == ingest_job).state == "done"
    shown = run_cli(home, "show", job.item_id, "--json")
    assert json.loads(shown.stdout)["revision"] is None  # nothing half-written is visible

    worker = start_worker(home, env)
    try:
        done = wait_for(
            lambda: next(
                (j for j in jobs_of(home) if j.id == job.id and j.state in ("done", "failed")), None
            ),
            timeout=600,
            what="the restarted job to finish",
        )
    finally:
        stop(worker)
    assert done.state == "done", done.error
    assert done.attempts == 2
    data = json.loads(run_cli(home, "show", job.item_id, "--json").stdout)
    assert data["revision"] == 1
    # Ten copies of the clip, each saying "your country" twice; segment boundaries vary by run.
    spoken = " ".join(s["text_en"] for s in data["segments"]).lower()
    assert spoken.count("your country") >= 15, spoken
    assert data["segments"][-1]["end"] > 100


def test_failed_job_has_plain_error_and_retry_runs_it_again(
    home, http_root, http_server, fixtures_dir
):
    url = f"{http_server}/later.flac"
    host = http_server.removeprefix("http://")  # loopback: allowed explicitly (issue 18)
    queued = run_cli(home, "ingest", url, "--no-transcribe", "--json", "--allow-host", host)
    job_id = json.loads(queued.stdout)["job"]
    burst = run_cli(home, "worker", "--burst")
    assert burst.returncode == 0, burst.stderr
    listed = json.loads(run_cli(home, "jobs", "--json").stdout)
    failed = next(j for j in listed if j["id"] == job_id)
    assert failed["state"] == "failed" and failed["error"] == f"{url} was not found (HTTP 404)"
    assert json.loads(run_cli(home, "list", "--json").stdout) == []

    shutil.copyfile(fixtures_dir / "en/jfk.flac", http_root / "later.flac")
    retried = run_cli(home, "retry", str(job_id))
    assert retried.returncode == 0 and f"job {job_id} queued again" in retried.stdout
    assert run_cli(home, "worker", "--burst").returncode == 0
    again = next(j for j in json.loads(run_cli(home, "jobs", "--json").stdout) if j["id"] == job_id)
    assert again["state"] == "done" and again["attempts"] == 2
    items = json.loads(run_cli(home, "list", "--json").stdout)
    assert [i["id"] for i in items] == [again["item_id"]]


def test_retry_of_a_done_job_is_refused(home, fixtures_dir):
    job_id = json.loads(
        run_cli(
            home, "ingest", str(fixtures_dir / "en/jfk.flac"), "--no-transcribe", "--json"
        ).stdout
    )["job"]
    run_cli(home, "worker", "--burst")
    result = run_cli(home, "retry", str(job_id))
    assert result.returncode != 0
    assert (
        result.stderr.strip()
        == f"error: job {job_id} is done: only failed or cancelled jobs can be retried"
    )


def test_cancelled_job_is_not_run(home, fixtures_dir):
    job_id = json.loads(
        run_cli(home, "ingest", str(fixtures_dir / "en/jfk.flac"), "--json").stdout
    )["job"]
    assert run_cli(home, "cancel", str(job_id)).returncode == 0
    run_cli(home, "worker", "--burst")
    job = next(j for j in json.loads(run_cli(home, "jobs", "--json").stdout) if j["id"] == job_id)
    assert job["state"] == "cancelled" and job["attempts"] == 0
    assert json.loads(run_cli(home, "list", "--json").stdout) == []


def test_queued_ingest_checks_the_file_at_once(home, tmp_path):
    folder = tmp_path / "folder"
    folder.mkdir()
    result = run_cli(home, "ingest", str(folder))
    assert result.returncode != 0 and "is a folder" in result.stderr
    assert json.loads(run_cli(home, "jobs", "--json").stdout) == []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def redis_url(tmp_path) -> Iterator[str]:
    server = shutil.which("redis-server")
    assert server, "redis-server is not installed (make setup installs it)"
    port = _free_port()
    proc = subprocess.Popen(
        [
            server,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        import redis

        client = redis.Redis(host="127.0.0.1", port=port)
        wait_for(lambda: _pings(client), timeout=30, what="redis-server to answer")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _pings(client: object) -> bool:
    try:
        return bool(client.ping())  # type: ignore[attr-defined]
    except Exception:
        return False


@pytest.mark.redis
def test_redis_queue_shared_by_workers(home, redis_url, fixtures_dir):
    import redis

    env = {"ARCHIVE_QUEUE_URL": redis_url}
    job_id = json.loads(
        run_cli(
            home,
            "ingest",
            str(fixtures_dir / "zh/sensevoice_test_zh.wav"),
            "--language",
            "zh",
            "--json",
            env=env,
        ).stdout
    )["job"]
    client = redis.Redis.from_url(redis_url)
    assert any(client.llen(key) for key in client.keys("*")), "the job message is not in Redis"
    assert not load_settings(home).queue_path.exists()  # the embedded queue was not used
    workers = [start_worker(home, env, "--workers", "1") for _ in range(2)]
    try:

        def all_done() -> list[Job] | None:
            jobs = jobs_of(home)
            return jobs if len(jobs) == 2 and all(j.state == "done" for j in jobs) else None

        jobs = wait_for(all_done, timeout=300, what="both jobs to finish through Redis")
    finally:
        for proc in workers:
            stop(proc)
    assert {j.kind for j in jobs} == {"ingest", "transcribe"}
    item_id = next(j for j in jobs if j.id == job_id).item_id
    data = json.loads(run_cli(home, "show", item_id, "--json").stdout)
    assert data["revision"] == 1 and data["segments"] and data["segments"][0]["text_zh"]
