"""Ingest from links: yt-dlp against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import shutil
import socket

import pytest
from conftest import run_cli
from test_ingest import snapshot

from archive.core.errors import DownloadError
from archive.ingest.intake import IngestOptions, ingest

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>碼頭工人罷工十周年講座</title>
<meta name="description" content="A webinar page with an HTML5 video."></head>
<body><h1>Webinar</h1>
<video controls src="talk.mp4"><track kind="subtitles" srclang="en" label="English" src="talk.en.vtt"></video>
</body></html>
"""


@pytest.fixture(autouse=True)
def allow_test_server(http_server, monkeypatch):
    """The test server is on loopback, which ingest refuses unless allowed (issue 18, point 11):
    allow it as staff would, before the settings are read."""
    monkeypatch.setenv("ARCHIVE_INGEST_ALLOW_HOSTS", http_server.removeprefix("http://"))


@pytest.fixture
def site(http_root, http_server, fixtures_dir):
    shutil.copyfile(fixtures_dir / "video/auto-editor_example.mp4", http_root / "talk.mp4")
    shutil.copyfile(fixtures_dir / "subs/webvtt-py_youtube_dl.en.vtt", http_root / "talk.en.vtt")
    shutil.copyfile(fixtures_dir / "en/jfk.flac", http_root / "jfk.flac")
    (http_root / "page.html").write_text(PAGE, encoding="utf-8")
    (http_root / "empty.html").write_text("<html><body><p>No recording here.</p></body></html>")
    return http_server


def test_direct_media_link(settings, catalog, site, fixtures_dir):
    outcome = ingest(
        settings, catalog, f"{site}/jfk.flac", IngestOptions(title_en="JFK", transcribe=False)
    )
    original = catalog.get_media(outcome.item.id, "original")
    assert original.sha256 == "63a4b1e4c1dc655ac70961ffbf518acd249df237e5a0152faae9a4a836949715"
    assert (
        10.9 < original.duration < 11.1
    )  # probed from the file: yt-dlp reports none for direct files
    assert outcome.item.source_url == f"{site}/jfk.flac"
    source = catalog.get_source(outcome.item.id)
    assert (
        source["url"] == f"{site}/jfk.flac" and source["info"]["webpage_url"] == f"{site}/jfk.flac"
    )


def test_page_with_html5_video_keeps_title_and_subtitles(home, site):
    result = run_cli(
        home,
        "ingest",
        f"{site}/page.html",
        "--collection",
        "webinar",
        "--speaker",
        "Lee Cheuk-yan",
        "--visibility",
        "public",
        "--no-transcribe",
        "--wait",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["title_zh"] == "碼頭工人罷工十周年講座"  # from the page, since none was given
    assert data["collection"] == "webinar" and data["speakers"] == ["Lee Cheuk-yan"]
    assert data["visibility"] == "public"
    assert data["media"][0]["streams"][0]["codec_type"] in ("video", "audio")
    # The page offered English subtitles: they became revision 1.
    assert data["revision"] == 1
    assert [s["text_en"] for s in data["segments"]] == [
        "yeah",
        "what",
        "this will happen is I'm telling",
    ]
    assert data["source"]["extractor"] == "HTML5MediaEmbed"


def test_user_title_wins_over_the_source(settings, catalog, site):
    item = ingest(
        settings,
        catalog,
        f"{site}/page.html",
        IngestOptions(title_en="Dock strike, ten years on", transcribe=False),
    ).item
    assert item.title_en == "Dock strike, ten years on" and item.title_zh == ""


def _refused_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/talk.mp4"  # nothing listens there any more


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/missing.mp4", "was not found (HTTP 404)"),
        ("/empty.html", "no audio or video was found at"),
        (None, "connection refused"),
    ],
    ids=["404", "page without media", "refused connection"],
)
def test_bad_links_are_refused_and_leave_nothing(home, site, path, message):
    run_cli(home, "list")
    before = snapshot(home)
    url = f"{site}{path}" if path else _refused_url()
    # The closed port is allowed too: what is tested is the plain word for a refused connection.
    allowed = f"{site.removeprefix('http://')},{url.split('/')[2]}"
    result = run_cli(home, "ingest", url, "--wait", env={"ARCHIVE_INGEST_ALLOW_HOSTS": allowed})
    assert result.returncode != 0
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert snapshot(home) == before


def test_non_http_scheme_is_refused(settings, catalog):
    with pytest.raises(Exception, match="only http and https links"):
        ingest(settings, catalog, "ftp://127.0.0.1/file.mp4", IngestOptions())


def test_download_error_type(settings, catalog, site):
    with pytest.raises(DownloadError):
        ingest(settings, catalog, f"{site}/missing.mp4", IngestOptions())
