"""The adversary at ingest (security issue 18, points 10 and 11), with real ffmpeg, PyAV, yt-dlp and
HTTP servers on 127.0.0.1.

Point 10: a playlist or concat list dressed as media (an ID3 header, then an HLS playlist naming a
local file) is refused as an upload, as a local file, as a direct media link and by the speech
model's decoder, and nothing of the file it names ends up in the archive.

Point 11: a link never makes the server fetch from its own network: a page's planted ``<video
src>``, a redirect, or the link itself pointing at another loopback port, ``localhost``, ``[::1]``,
an IPv4-mapped address, a decimal-encoded address, a private address or the metadata service is
refused before a byte is sent, with one plain sentence, and the catalog and the media folder stay as
they were. The public test site itself is loopback too, so it is allowed explicitly
(``ARCHIVE_INGEST_ALLOW_HOSTS`` / ``--allow-host``), exactly as staff would allow an internal host.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import ffmpeg, run_cli
from test_ingest import snapshot

from archive.core.config import load_settings
from archive.core.errors import DownloadError, MediaError, TranscriptionError
from archive.ingest.intake import IngestOptions, ingest
from archive.media.uploads import upload_dir, write_upload_stream
from transcripts.transcribe import iter_audio_windows, probe_duration

ID3 = b"ID3\x03\x00\x00\x00\x00\x00\x00"  # an empty ID3v2 tag: "audio/mpeg" to a magic table


# ------------------------------------------------------------------------------------- servers


@dataclass
class Server:
    url: str
    port: int
    folder: Path
    hits: list[str] = field(default_factory=list)  # paths asked for, in order
    redirects: dict[str, str] = field(default_factory=dict)  # /go/<name> -> Location


class _SiteHandler(http.server.SimpleHTTPRequestHandler):
    """Files from a folder, plus redirects: ``/go/<name>`` answers 302 to ``redirects[name]``."""

    redirects: dict[str, str] = {}
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802
        self.hits.append(self.path)
        if self.path.startswith("/go/"):
            self.send_response(302)
            self.send_header("Location", self.redirects[self.path[4:]])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        super().do_GET()

    do_HEAD = do_GET  # noqa: N815

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@contextlib.contextmanager
def _serve(folder: Path) -> Iterator[Server]:
    hits: list[str] = []
    redirects: dict[str, str] = {}
    handler = type("Handler", (_SiteHandler,), {"redirects": redirects, "hits": hits})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(folder))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    try:
        yield Server(f"http://127.0.0.1:{port}", port, folder, hits, redirects)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def internal(tmp_path, fixtures_dir) -> Iterator[Server]:
    """An internal service on another loopback port: it answers every request with real media,
    so any request that reached it would end up archived."""
    folder = tmp_path / "internal"
    folder.mkdir()
    shutil.copyfile(fixtures_dir / "en/jfk.flac", folder / "secret.flac")
    with _serve(folder) as server:
        yield server


@pytest.fixture
def site(tmp_path, fixtures_dir, internal, monkeypatch) -> Iterator[Server]:
    """The public site the link points at, allowed explicitly (it is loopback too)."""
    folder = tmp_path / "site"
    folder.mkdir()
    shutil.copyfile(fixtures_dir / "en/jfk.flac", folder / "talk.flac")
    page = f'<html><body><video controls src="{internal.url}/secret.flac"></video></body></html>'
    (folder / "planted.html").write_text(page, encoding="utf-8")
    with _serve(folder) as server:
        monkeypatch.setenv("ARCHIVE_INGEST_ALLOW_HOSTS", f"127.0.0.1:{server.port}")
        yield server


@pytest.fixture
def guarded(home, site):
    """Settings and catalog made after the allow-list is in the environment."""
    from archive.catalog.db import Catalog

    settings = load_settings(home).ensure()
    cat = Catalog.open(settings)
    yield settings, cat
    cat.close()


# --------------------------------------------------------------------------- point 11: SSRF


def _assert_refused(home: Path, before: dict[str, object], exc: BaseException, kind: str) -> None:
    message = str(exc)
    assert message.startswith("refused to fetch from "), message
    assert kind in message and "ARCHIVE_INGEST_ALLOW_HOSTS" in message
    assert snapshot(home) == before


def test_the_allowed_site_itself_is_archived(guarded, site):
    settings, cat = guarded
    item = ingest(settings, cat, f"{site.url}/talk.flac", IngestOptions(transcribe=False)).item
    assert cat.get_media(item.id, "original").sha256.startswith("63a4b1e4")


def test_a_planted_video_src_to_an_internal_service_is_refused(home, guarded, site, internal):
    settings, cat = guarded
    before = snapshot(home)
    with pytest.raises(DownloadError) as caught:
        ingest(settings, cat, f"{site.url}/planted.html", IngestOptions(transcribe=False))
    _assert_refused(
        home, before, caught.value, f"127.0.0.1, port {internal.port}: it is a loopback"
    )
    assert "/planted.html" in site.hits  # the page itself was read
    assert internal.hits == []  # the internal service never heard from us


def _redirect_targets(internal_port: int) -> list[tuple[str, str]]:
    p = internal_port
    return [
        (f"http://127.0.0.1:{p}/secret.flac", "a loopback address"),
        (f"http://localhost:{p}/secret.flac", "a loopback address"),
        (f"http://[::1]:{p}/secret.flac", "a loopback address"),
        (f"http://[::ffff:127.0.0.1]:{p}/secret.flac", "a loopback address inside an IPv6"),
        (f"http://2130706433:{p}/secret.flac", "a loopback address"),  # 127.0.0.1 in decimal
        (f"http://0x7f.1:{p}/secret.flac", "a loopback address"),  # 127.0.0.1 in hex, short
        (f"http://0.0.0.0:{p}/secret.flac", "the unspecified address"),
        ("http://169.254.169.254/latest/meta-data/iam/", "the cloud metadata service"),
        ("http://10.20.30.40/talk.mp4", "a private address"),
        ("http://192.168.1.1/talk.mp4", "a private address"),
        ("http://172.16.0.9/talk.mp4", "a private address"),
        ("http://[fd00::1]/talk.mp4", "a private address"),
        ("http://[fe80::1]/talk.mp4", "a link-local address"),
        ("http://100.64.0.1/talk.mp4", "a reserved address"),  # carrier-grade NAT
    ]


@pytest.mark.parametrize("index", range(14))
def test_a_redirect_to_the_servers_own_network_is_refused(home, guarded, site, internal, index):
    target, kind = _redirect_targets(internal.port)[index]
    site.redirects["talk.flac"] = target
    settings, cat = guarded
    before = snapshot(home)
    with pytest.raises(DownloadError) as caught:
        ingest(settings, cat, f"{site.url}/go/talk.flac", IngestOptions(transcribe=False))
    _assert_refused(home, before, caught.value, kind)
    assert site.hits[0] == "/go/talk.flac" and internal.hits == []


def test_a_direct_link_to_another_loopback_port_is_refused_on_the_command_line(
    home, site, internal
):
    run_cli(home, "list")
    before = snapshot(home)
    result = run_cli(home, "ingest", f"{internal.url}/secret.flac", "--no-transcribe", "--wait")
    assert result.returncode != 0
    assert result.stderr.startswith(
        f"error: refused to fetch from 127.0.0.1, port {internal.port}: it is a loopback address"
    ), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1  # one sentence, no traceback
    assert internal.hits == [] and snapshot(home) == before


def test_a_name_that_resolves_to_loopback_is_refused_for_the_link_itself(home, guarded, internal):
    settings, cat = guarded
    before = snapshot(home)
    with pytest.raises(DownloadError) as caught:
        ingest(settings, cat, f"http://localhost:{internal.port}/secret.flac", IngestOptions())
    _assert_refused(home, before, caught.value, "localhost (")
    assert internal.hits == []


def test_staff_may_allow_an_internal_host_and_the_use_is_audited(home, site, internal):
    url = f"{internal.url}/secret.flac"
    result = run_cli(
        home, "ingest", url, "--allow-host", f"127.0.0.1:{internal.port}",
        "--no-transcribe", "--wait", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    item_id = json.loads(result.stdout)["id"]
    assert internal.hits and set(internal.hits) == {"/secret.flac"}  # yt-dlp looks, then fetches
    conn = sqlite3.connect(home / "catalog.sqlite")
    rows = conn.execute(
        "SELECT actor, item_id, target, new_value FROM audit WHERE action = 'ingest.allowed-host'"
    ).fetchall()
    conn.close()
    assert len(rows) == 1
    actor, audited_item, target, audited_url = rows[0]
    assert actor.startswith("cli:") and audited_item == item_id
    assert target == f"127.0.0.1:{internal.port}" and audited_url == url


def test_a_bad_allow_host_is_a_user_error(home):
    result = run_cli(home, "ingest", "http://example.org/x.mp4", "--allow-host", "a:b:c:d:x")
    assert result.returncode != 0 and result.stderr.startswith("error: --allow-host takes")


# ---------------------------------------------------------------- point 10: playlists as media


@pytest.fixture
def secret(tmp_path) -> Path:
    """A local recording that is not the archive's to take: 3 s of tone."""
    path = tmp_path / "private" / "secret.mp3"
    path.parent.mkdir()
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=3", "-c:a", "libmp3lame", str(path))
    return path


def _hls(target: str) -> bytes:
    return (f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:3,\n{target}\n#EXT-X-ENDLIST\n").encode()


def _disguises(secret: Path) -> dict[str, bytes]:
    return {
        "id3-hls": ID3 + _hls(str(secret)),
        "id3-hls-file-url": ID3 + _hls(f"file://{secret}"),
        "hls": _hls(str(secret)),
        "ffconcat": f"ffconcat version 1.0\nfile '{secret.name}'\n".encode(),
    }


def test_an_id3_header_over_a_playlist_is_not_an_upload(home, settings, secret):
    body = _disguises(secret)["id3-hls"]
    with pytest.raises(MediaError, match="playlist or another format the archive does not read"):
        write_upload_stream(settings, [body], "talk.mp3")
    assert list(upload_dir(settings).iterdir()) == []


@pytest.mark.parametrize("kind", ["id3-hls", "id3-hls-file-url", "hls", "ffconcat"])
def test_a_playlist_or_concat_list_is_not_ingested(home, secret, kind):
    # Beside the file it names, so that a relative name would resolve too.
    path = secret.parent / f"talk-{kind}.mp3"
    path.write_bytes(_disguises(secret)[kind])
    run_cli(home, "list")
    before = snapshot(home)
    result = run_cli(home, "ingest", str(path), "--no-transcribe", "--wait")
    assert result.returncode != 0
    assert result.stderr.startswith(f"error: {path.name} is not a playable audio or video file")
    assert len(result.stderr.strip().splitlines()) == 1
    assert snapshot(home) == before


def test_a_playlist_behind_a_direct_media_link_is_not_ingested(home, guarded, site, secret):
    (site.folder / "episode.mp3").write_bytes(_disguises(secret)["id3-hls"])
    settings, cat = guarded
    before = snapshot(home)
    with pytest.raises(MediaError, match="not a playable audio or video file"):
        ingest(settings, cat, f"{site.url}/episode.mp3", IngestOptions(transcribe=False))
    assert snapshot(home) == before


@pytest.mark.parametrize("kind", ["hls", "ffconcat"])
def test_the_speech_decoder_opens_no_playlist(secret, kind):
    path = secret.parent / f"list-{kind}.{'m3u8' if kind == 'hls' else 'm4a'}"
    path.write_bytes(_disguises(secret)[kind])
    with pytest.raises(TranscriptionError, match="cannot read the audio"):
        probe_duration(path)
    with pytest.raises(TranscriptionError, match="cannot read the audio"):
        list(iter_audio_windows(path))
    # The same decoder still reads a real recording through the same limits.
    assert 2.9 < probe_duration(secret) < 3.2
    assert sum(w.duration for w in iter_audio_windows(secret)) > 2.9


def test_a_queued_link_to_the_servers_own_network_is_refused_at_once(home, site, internal):
    run_cli(home, "list")
    before = snapshot(home)
    result = run_cli(home, "ingest", f"http://[::1]:{internal.port}/secret.flac")  # no --wait
    assert result.returncode != 0
    assert result.stderr.startswith("error: refused to fetch from ::1, port "), result.stderr
    assert "queued" not in result.stdout
    assert json.loads(run_cli(home, "jobs", "--json").stdout) == []
    assert snapshot(home) == before and internal.hits == []
