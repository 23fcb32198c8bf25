"""Shared test fixtures: the real fixture files, a fresh data folder, a real HTTP server.

Speech and subtitle fixtures come from ``../shared/fixtures`` (sources, licences and reference texts
in ``fixtures/SOURCES.md``).
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT.parent / "shared" / "fixtures"


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    assert FIXTURES.is_dir(), f"the shared fixtures are missing at {FIXTURES}"
    return FIXTURES


@pytest.fixture
def home(tmp_path: Path) -> Path:
    folder = tmp_path / "home"
    folder.mkdir()
    return folder


@pytest.fixture
def settings(home: Path):
    from archive.core.config import load_settings

    return load_settings(home).ensure()


@pytest.fixture
def catalog(settings):
    from archive.catalog.db import Catalog

    cat = Catalog.open(settings)
    yield cat
    cat.close()


def run_cli(
    home: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m archive --home HOME ARGS`` as a user would; returns the finished process."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("ARCHIVE_HOME", None)
    return subprocess.run(
        [sys.executable, "-m", "archive", "--home", str(home), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
        cwd=ROOT,
    )


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def http_root(tmp_path: Path) -> Path:
    folder = tmp_path / "www"
    folder.mkdir()
    return folder


@pytest.fixture
def http_server(http_root: Path) -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 serving ``http_root``; yields its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(http_root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True, timeout=300)


def copy_fixture(fixtures_dir: Path, relative: str, destination: Path) -> Path:
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(fixtures_dir / relative, destination)
    return destination


def insert_segment_redaction(
    conn,
    item_id: str,
    uid: str,
    *,
    created_by: str = "test",
    created_at: str = "2024-01-01T00:00:00+00:00",
    reason: str = "",
) -> None:
    """Redact the span of segment ``uid`` (its earliest start to its latest end over every
    revision) by writing the row straight into the catalog on ``conn``: no audit row, no index
    update, no media refresh. For tests of what reads redactions (and of drift detection)."""
    cur = conn.execute(
        'INSERT INTO redactions (item_id, start, "end", reason, created_by, created_at, origin_uid) '
        'SELECT t.item_id, MIN(s.start), MAX(s."end"), ?, ?, ?, s.uid FROM segments s '
        "JOIN transcripts t ON t.id = s.transcript_id WHERE t.item_id = ? AND s.uid = ? "
        "GROUP BY t.item_id, s.uid",
        (reason, created_by, created_at, item_id, uid),
    )
    assert cur.rowcount == 1, f"item {item_id} has no segment {uid}"


# The search engines every search test runs on (the conformance suite, issue 13): a test or a
# module fixture that asks for ``engine`` runs once per engine.
SEARCH_ENGINES = ("whoosh", "tantivy")


@pytest.fixture(params=SEARCH_ENGINES, scope="module")
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)
