"""``archive serve`` and the portal's file routes over real HTTP: media streaming with ranges,
access re-checked at every request, signed and expiring links, downloads, the transcript feed."""

from __future__ import annotations

import gzip
import json
import os
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import portal_data
import pytest
from conftest import insert_segment_redaction

from archive.catalog.access import Viewer
from archive.catalog.db import Catalog
from archive.core.keys import load_secret
from archive.portal.routes.files import (
    UrlSigner,
    media_url,
    subtitle_url,
    transcript_url,
)

PUBLIC = Viewer("public")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("portal-http")
    arch = portal_data.build(home, extra=0)
    with portal_data.Portal(home) as portal:
        yield arch, portal


def get(url: str, headers: dict[str, str] | None = None, method: str = "GET"):
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        response = urllib.request.urlopen(request, timeout=30)
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()
    with response:
        return response.status, dict(response.headers), response.read()


def test_serve_help_and_defaults():
    out = subprocess.run(
        [sys.executable, "-m", "archive", "serve", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "--port" in out and "--address" in out and "127.0.0.1" in out
    from archive.portal.commands import serve_argv

    argv = serve_argv(8600, "127.0.0.1")
    assert argv[argv.index("--browser.gatherUsageStats") + 1] == "false"
    assert argv[argv.index("--server.headless") + 1] == "true"
    assert argv[argv.index("--server.address") + 1] == "127.0.0.1"
    assert argv[3:5] == [
        "run",
        str(Path(__file__).resolve().parents[1] / "archive" / "portal" / "app.py"),
    ]


def test_serve_starts_the_portal_on_the_home_folder(served):
    arch, portal = served
    status, _headers, body = get(portal.url + "/_stcore/health")
    assert status == 200 and body == b"ok"
    status, _headers, body = get(portal.url + "/")
    assert status == 200 and b"<html" in body.lower()
    key = arch.home / "secret.key"  # made by the first page or route that signed a link
    load_secret(arch.settings)
    assert key.exists() and stat.S_IMODE(key.stat().st_mode) == 0o600


def test_media_streams_with_ranges(served):
    arch, portal = served
    item = arch.ids["interview"]
    url = portal.url + media_url(arch.settings, item, "original", PUBLIC)
    # Below staff the file is the archive's copy without the original's tags (archive.media.tags).
    from archive.media.renditions import media_for_viewer

    cat = Catalog.open(arch.settings)
    path, _mime = media_for_viewer(arch.settings, cat, item, PUBLIC, "original")
    original = Path(path).read_bytes()
    status, headers, body = get(url)
    assert status == 200 and body == original
    assert headers["content-type"] == "video/mp4"
    assert headers.get("accept-ranges") == "bytes"
    status, headers, body = get(url, {"Range": "bytes=1000-1999"})
    assert status == 206 and body == original[1000:2000]
    assert headers["content-range"] == f"bytes 1000-1999/{len(original)}"
    status, headers, body = get(url, method="HEAD")
    assert status == 200 and body == b"" and int(headers["content-length"]) == len(original)


def test_media_of_a_two_hour_talk_is_streamed_not_loaded(served):
    arch, portal = served
    url = portal.url + media_url(arch.settings, arch.ids["long"], "audio", PUBLIC)
    size = int(get(url, method="HEAD")[1]["content-length"])
    middle = size // 2
    status, headers, body = get(url, {"Range": f"bytes={middle}-{middle + 99}"})
    assert status == 206 and len(body) == 100
    assert headers["content-type"].startswith("audio/")  # the public copy (tags removed)


def test_media_access_is_checked_at_every_request(served):
    arch, portal = served
    item = arch.ids["dock"]
    url = portal.url + media_url(arch.settings, item, "audio", PUBLIC)
    assert get(url, {"Range": "bytes=0-9"})[0] == 206
    cat = Catalog.open(arch.settings)
    cat.update_item(item, visibility="staff")
    try:
        status, _headers, body = get(url, {"Range": "bytes=0-9"})
        assert status == 404 and b"fLaC" not in body
        from archive.portal.sessions import COOKIE_NAME
        from archive.workspace.accounts import add_user, authenticate, create_session

        add_user(cat, "ed", "staff", "correct horse battery", actor="test")
        token = create_session(cat, arch.settings, authenticate(cat, "ed", "correct horse battery"))
        cookie = {"Cookie": f"{COOKIE_NAME}={token}"}
        staff_url = portal.url + media_url(
            arch.settings, item, "audio", Viewer("staff", "ed"), token
        )
        # A staff link works only beside that staff member's live session cookie, not copied.
        assert get(staff_url, {"Range": "bytes=0-9"})[0] == 404
        assert get(staff_url, {"Range": "bytes=0-9", **cookie})[0] == 206
    finally:
        cat.update_item(item, visibility="public")


def test_hidden_items_and_bad_tokens_are_not_served(served):
    arch, portal = served
    hidden = portal.url + media_url(arch.settings, arch.ids["secret"], "audio", PUBLIC)
    assert get(hidden)[0] == 404
    good = media_url(arch.settings, arch.ids["dock"], "audio", PUBLIC)
    assert get(portal.url + good[:-3] + "AAA")[0] == 404  # tampered signature
    forged = UrlSigner(b"x" * 32).sign(
        "media", {"i": arch.ids["dock"], "m": "audio"}, Viewer("staff")
    )
    assert get(portal.url + "/files/media/" + forged)[0] == 404  # not our key
    status, _headers, body = get(portal.url + "/files/media/../../catalog.sqlite")
    assert status in (400, 404) and b"SQLite" not in body
    # A token for one kind of file is not one for another.
    sub = subtitle_url(arch.settings, arch.ids["dock"], 1, "srt", "zh", PUBLIC)
    assert get(portal.url + "/files/media/" + sub.rsplit("/", 1)[1])[0] == 404


def test_links_expire():
    signer = UrlSigner(b"k" * 32)
    token = signer.sign("media", {"i": "x", "m": "audio"}, PUBLIC)
    signer.check("media", token)
    time.sleep(1.1)
    from archive.core.errors import NotFoundError

    with pytest.raises(NotFoundError):
        signer.check("media", token, max_age=0)


def test_subtitle_downloads(served):
    arch, portal = served
    item = arch.ids["dock"]
    for fmt, track, expect in (
        ("srt", "zh", "罷工得到市民廣泛支持"),
        ("vtt", "en", "WEBVTT"),
        ("txt", "zh", "工會的角色好重要"),
        ("json", "en", "picket lines"),
    ):
        status, headers, body = get(
            portal.url + subtitle_url(arch.settings, item, 1, fmt, track, PUBLIC)
        )
        assert status == 200, (fmt, track)
        text = body.decode("utf-8")
        assert expect in text
        assert f'filename="{item}.r1.{track}.{fmt}"' in headers["content-disposition"]
        assert headers["content-disposition"].startswith("attachment")
    status, _h, body = get(portal.url + subtitle_url(arch.settings, item, 1, "srt", "en", PUBLIC))
    assert "00:00:05,400 --> " in body.decode() and "罷工" not in body.decode()
    # A pinned revision downloads that revision's text.
    bar = arch.ids["bar"]
    old = get(portal.url + subtitle_url(arch.settings, bar, 1, "txt", "zh", PUBLIC))[2].decode()
    new = get(portal.url + subtitle_url(arch.settings, bar, 2, "txt", "zh", PUBLIC))[2].decode()
    assert "三十六日" in old and "三十六天" in new
    assert (
        get(portal.url + subtitle_url(arch.settings, arch.ids["secret"], 1, "srt", "zh", PUBLIC))[0]
        == 404
    )


def test_transcript_feed_for_the_player(served):
    arch, portal = served
    url = portal.url + transcript_url(arch.settings, arch.ids["long"], 1, PUBLIC)
    status, headers, body = get(url, {"Accept-Encoding": "gzip"})
    assert status == 200 and headers.get("content-encoding") == "gzip"
    cues = json.loads(gzip.decompress(body))["cues"]
    assert len(cues) == 1500
    assert cues[0][0] == 0 and cues[-1][0] > 7100
    assert cues[10][2].startswith("第11段") and cues[10][3].startswith("Part 11")
    assert len(body) < 60_000
    status, _headers, body = get(
        portal.url + transcript_url(arch.settings, arch.ids["dock"], 1, PUBLIC)
    )
    assert (
        status == 200
        and json.loads(body)["cues"][3][2] == "罷工得到市民廣泛支持，捐款超過八百萬元。"
    )
    assert get(portal.url + transcript_url(arch.settings, arch.ids["secret"], 1, PUBLIC))[0] == 404


def test_redacted_text_never_reaches_the_public(served):
    arch, portal = served
    cat = Catalog.open(arch.settings)
    item = arch.ids["dock"]
    uid = cat.get_revision(item).segments[1].uid
    with cat.transaction() as conn:
        insert_segment_redaction(conn, item, uid, reason="privacy")
    try:
        body = get(portal.url + transcript_url(arch.settings, item, 1, PUBLIC))[2].decode()
        assert "工人要求加薪" not in body
        srt = get(portal.url + subtitle_url(arch.settings, item, 1, "srt", "zh", PUBLIC))[
            2
        ].decode()
        assert "工人要求加薪" not in srt
    finally:
        with cat.transaction() as conn:
            conn.execute("DELETE FROM redactions WHERE item_id = ?", (item,))


def test_only_public_items_for_non_staff_may_stay_in_the_browser_cache(served):
    """A shared computer keeps its browser cache after log-out: a members item, or anything a
    staff member fetched (unredacted), must not be stored; a public item's public copy may be."""
    from archive.portal.sessions import COOKIE_NAME
    from archive.workspace.accounts import add_user, authenticate, create_session

    arch, portal = served
    cat = Catalog.open(arch.settings)
    cookies: dict[str, dict[str, str]] = {"public": {}}
    sessions: dict[str, str] = {}
    for name, role in (("cache-member", "members"), ("cache-staff", "staff")):
        add_user(cat, name, role, "correct horse battery", actor="test")
        token = create_session(cat, arch.settings, authenticate(cat, name, "correct horse battery"))
        cookies[role] = {"Cookie": f"{COOKIE_NAME}={token}"}
        sessions[role] = token
    viewers = {
        "public": PUBLIC,
        "members": Viewer("members", "cache-member"),
        "staff": Viewer("staff", "cache-staff"),
    }

    def cache_headers(item: str, role: str) -> list[str]:
        """Cache-Control of the item's audio and of its transcript, fetched as ``role``."""
        viewer, cookie = viewers[role], cookies[role]
        session = sessions.get(role)
        media = get(
            portal.url + media_url(arch.settings, item, "audio", viewer, session),
            {"Range": "bytes=0-9", **cookie},
        )
        transcript = get(
            portal.url + transcript_url(arch.settings, item, 1, viewer, session), cookie
        )
        assert media[0] == 206 and transcript[0] == 200, (item, role)
        return [media[1]["cache-control"], transcript[1]["cache-control"]]

    dock, bar = arch.ids["dock"], arch.ids["bar"]
    cached, never = ["private, max-age=3600"] * 2, ["private, no-store"] * 2
    assert cache_headers(dock, "public") == cached
    assert cache_headers(dock, "members") == cached  # the same public copy as anyone's
    assert cache_headers(dock, "staff") == never  # staff get the unredacted original
    cat.update_item(bar, visibility="members")
    try:
        assert cache_headers(bar, "members") == never
        # The level in force decides: an embargo that has opened the item to the public counts.
        cat.update_item(bar, embargo_until="2020-01-01", embargo_visibility="public")
        assert cache_headers(bar, "public") == cached
    finally:
        cat.update_item(bar, visibility="public", embargo_until=None, embargo_visibility=None)
    cat.close()


def test_portal_child_gets_the_home_folder(served, tmp_path):
    arch, portal = served
    # The token the page signs in its process verifies in the server's: both read <home>/secret.key.
    assert (arch.home / "secret.key").read_text().strip()
    assert os.environ.get("ARCHIVE_HOME") != str(arch.home)  # nothing leaked into this process
