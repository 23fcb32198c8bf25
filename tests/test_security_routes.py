"""Every route to a staff-only item and a redacted sentence, over real HTTP against ``archive serve``
(and the command line with ``--role``), as anonymous visitors, members and other staff.

Signed links minted for a staff member are refused when replayed by anyone else or after log-out;
tampered and foreign tokens are refused; the upload route refuses everyone but staff carrying the
page's token, reads the type from the content and never lets a file name choose where bytes land.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote, urlsplit

import portal_data
import pytest
from conftest import run_cli

from archive.catalog.access import Viewer
from archive.catalog.db import Catalog
from archive.core.errors import NotFoundError
from archive.media.uploads import upload_dir
from archive.portal.routes.files import UrlSigner, media_url, subtitle_url, transcript_url
from archive.portal.sessions import (
    COOKIE_NAME,
    check_upload,
    issue_login_code,
    session_viewer,
    upload_token,
)
from archive.workspace.accounts import add_user, authenticate, create_session
from archive.workspace.visibility import redact_segment

PASSWORD = "correct horse battery"
SECRET_TEXT = "碼頭罷工內部討論"
REDACTED_ZH = "捐款超過八百萬元"
REDACTED_EN = "eight million dollars"
LIMIT_MB = 2


class Served:
    def __init__(
        self,
        arch: portal_data.DemoArchive,
        portal: portal_data.Portal,
        tokens: dict[str, str],
        uid: str,
    ):
        self.arch, self.portal, self.tokens, self.redacted_uid = arch, portal, tokens, uid

    @property
    def settings(self):
        return self.arch.settings

    def cookie(self, who: str | None) -> dict[str, str]:
        return {"Cookie": f"{COOKIE_NAME}={self.tokens[who]}"} if who else {}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("security-routes")
    arch = portal_data.build(home, long_talk=False, extra=0)
    cat = Catalog.open(arch.settings)
    tokens = {}
    for name, role in (("staff1", "staff"), ("staff2", "staff"), ("member1", "members")):
        add_user(cat, name, role, PASSWORD, actor="test")
        tokens[name] = create_session(cat, arch.settings, authenticate(cat, name, PASSWORD))
    dock = arch.ids["dock"]
    uid = next(s.uid for s in cat.get_revision(dock).segments if REDACTED_ZH in s.text_zh)
    redact_segment(cat, arch.settings, dock, uid=uid, actor="staff1", reason="names a donor")
    cat.close()
    old = os.environ.get("ARCHIVE_MAX_UPLOAD_MB")
    os.environ["ARCHIVE_MAX_UPLOAD_MB"] = str(LIMIT_MB)
    try:
        with portal_data.Portal(home) as portal:
            yield Served(arch, portal, tokens, uid)
    finally:
        if old is None:
            os.environ.pop("ARCHIVE_MAX_UPLOAD_MB", None)
        else:
            os.environ["ARCHIVE_MAX_UPLOAD_MB"] = old


def request(
    url: str, headers: dict[str, str] | None = None, method: str = "GET", data: bytes | None = None
):
    req = urllib.request.Request(url, headers=headers or {}, method=method, data=data)
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def stored_uploads(served: Served) -> list[Path]:
    return sorted(p for p in upload_dir(served.settings).iterdir() if p.is_file())


# -- signed file links ----------------------------------------------------------------------------------
def test_links_minted_for_staff_are_refused_when_replayed_by_anyone_else(served):
    s, base = served, served.portal.url
    staff = Viewer("staff", "staff1")
    secret, dock = s.arch.ids["secret"], s.arch.ids["dock"]
    own = s.tokens["staff1"]  # minted in staff1's session, as the pages do
    links = {
        "secret media": media_url(s.settings, secret, "audio", staff, own),
        "secret subtitles": subtitle_url(s.settings, secret, 1, "srt", "zh", staff, own),
        "secret transcript": transcript_url(s.settings, secret, 1, staff, own),
        "redacted text, staff transcript": transcript_url(s.settings, dock, 1, staff, own),
        "redacted text, staff subtitles": subtitle_url(
            s.settings, dock, 1, "txt", "en", staff, own
        ),
        "original unsilenced media": media_url(s.settings, dock, "audio", staff, own),
    }
    for what, path in links.items():
        ok = request(base + path, s.cookie("staff1"))
        assert ok[0] == 200, what  # the owner gets it (so the refusals below are real refusals)
        for other in (None, "member1", "staff2"):
            status, _headers, body = request(base + path, s.cookie(other))
            assert status == 404, (what, other)
            assert SECRET_TEXT.encode() not in body and REDACTED_ZH.encode() not in body
    staff_text = request(base + links["redacted text, staff transcript"], s.cookie("staff1"))[2]
    assert REDACTED_ZH in staff_text.decode()  # staff read it; nobody else did above


def test_a_logged_out_session_opens_nothing(served):
    s, base = served, served.portal.url
    cat = Catalog.open(s.settings)
    token = create_session(cat, s.settings, authenticate(cat, "staff1", PASSWORD))
    link = base + media_url(
        s.settings, s.arch.ids["secret"], "audio", Viewer("staff", "staff1"), token
    )
    cookie = {"Cookie": f"{COOKIE_NAME}={token}"}
    assert request(link, cookie, method="HEAD")[0] == 200
    status, headers, _ = request(base + "/session/close", cookie, method="POST", data=b"")
    assert status == 200 and f"{COOKIE_NAME}=" in headers.get("set-cookie", "")
    assert request(link, cookie, method="HEAD")[0] == 404  # the token itself is revoked
    assert session_viewer(cat, s.settings, token) is None
    cat.close()


def test_public_links_never_carry_the_redacted_sentence_or_the_staff_item(served):
    s, base = served, served.portal.url
    public = Viewer("public")
    dock, secret = s.arch.ids["dock"], s.arch.ids["secret"]
    status, _h, body = request(base + transcript_url(s.settings, dock, 1, public))
    assert status == 200
    cues = json.loads(body)["cues"]
    assert len(cues) == len(portal_data.DOCK_LINES) and any(
        c[6] for c in cues
    )  # the span stays, hidden
    assert REDACTED_ZH not in body.decode() and REDACTED_EN not in body.decode()
    for fmt, track in (("srt", "zh"), ("vtt", "en"), ("txt", "zh"), ("json", "en")):
        status, _h, body = request(base + subtitle_url(s.settings, dock, 1, fmt, track, public))
        assert (
            status == 200 and REDACTED_ZH not in body.decode() and REDACTED_EN not in body.decode()
        )
    # Members get no more than the public of a redacted sentence.
    member = Viewer("members", "member1")
    link = transcript_url(s.settings, dock, 1, member, s.tokens["member1"])
    body = request(base + link, s.cookie("member1"))[2]
    assert REDACTED_ZH not in body.decode()
    # The public audio is the silenced copy, not the original file.
    cat = Catalog.open(s.settings)
    original = (s.settings.home / cat.get_media(dock, "audio").path).read_bytes()
    status, _h, body = request(base + media_url(s.settings, dock, "audio", public))
    assert status == 200 and body != original and len(body) > 1000
    # Nothing public about the staff item.
    for path in (
        media_url(s.settings, secret, "audio", public),
        transcript_url(s.settings, secret, 1, public),
        subtitle_url(s.settings, secret, 1, "srt", "zh", public),
        f"/feeds/media/{secret}.m4a",
        f"/feeds/transcripts/{secret}.zh.srt",
        f"/feeds/chapters/{secret}.json",
    ):
        status, _h, body = request(base + path)
        assert status == 404 and SECRET_TEXT.encode() not in body, path
    for feed in ("/feeds/rss.xml", "/feeds/podcast.xml"):
        status, _h, body = request(base + feed)
        assert status == 200 and secret.encode() not in body and "內部會議".encode() not in body
    status, _h, body = request(base + f"/feeds/transcripts/{dock}.zh.srt")
    assert status == 200 and REDACTED_ZH.encode() not in body
    cat.close()


def test_tampered_and_foreign_tokens_are_refused(served):
    s, base = served, served.portal.url
    staff = Viewer("staff", "staff1")
    good = media_url(s.settings, s.arch.ids["secret"], "audio", staff)
    head, token = good.rsplit("/", 1)
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert request(f"{base}{head}/{tampered}", s.cookie("staff1"))[0] == 404
    foreign = UrlSigner(b"k" * 32).sign("media", {"i": s.arch.ids["secret"], "m": "audio"}, staff)
    assert request(f"{base}/files/media/{foreign}", s.cookie("staff1"))[0] == 404
    sub = subtitle_url(s.settings, s.arch.ids["secret"], 1, "srt", "zh", staff).rsplit("/", 1)[1]
    assert request(f"{base}/files/media/{sub}", s.cookie("staff1"))[0] == 404  # wrong kind
    # A forged session cookie is no session at all.
    forged = s.tokens["staff1"][:-3] + "xyz"
    assert request(base + good, {"Cookie": f"{COOKIE_NAME}={forged}"})[0] == 404


# -- uploads ------------------------------------------------------------------------------------------
def upload(
    served: Served,
    body: bytes,
    name: str,
    *,
    who: str | None,
    token: str | None,
    origin: str | None = None,
):
    headers = {"Content-Type": "application/octet-stream", "X-File-Name": quote(name)}
    headers.update(served.cookie(who))
    if token is not None:
        headers["X-Upload-Token"] = token
    if origin is not None:
        headers["Origin"] = origin
    return request(served.portal.url + "/files/upload", headers, method="POST", data=body)


def test_upload_route_refuses_all_but_staff_with_the_pages_token(served, fixtures_dir):
    s = served
    # A small body: refusals come before the body is read, and a big one would see the server
    # close the connection mid-send rather than read the 403.
    audio = (fixtures_dir / "en" / "jfk.flac").read_bytes()[:2048]
    staff_token = upload_token(s.settings, Viewer("staff", "staff1"))
    before = stored_uploads(s)
    for who, token in (
        (None, None),
        (None, staff_token),  # the token alone (no session)
        ("staff1", None),  # the cookie alone (what a forged cross-site form would carry)
        ("staff1", "not-a-token"),
        ("member1", staff_token),
        ("staff2", staff_token),  # someone else's page token
    ):
        status, _h, body = upload(s, audio, "talk.flac", who=who, token=token)
        assert status == 403 and b"upload_id" not in body, (who, token)
    status, _h, _b = upload(
        s, audio, "talk.flac", who="staff1", token=staff_token, origin="https://evil.example"
    )
    assert status == 403
    with pytest.raises(NotFoundError):
        upload_token(s.settings, Viewer("members", "member1"))
    assert stored_uploads(s) == before  # nothing was written for any of them


def test_upload_streams_to_a_random_name_in_the_upload_folder(served, fixtures_dir):
    s = served
    audio = (fixtures_dir / "en" / "jfk.flac").read_bytes()
    token = upload_token(s.settings, Viewer("staff", "staff1"))
    folder = upload_dir(s.settings).resolve()
    names = [
        "../../../catalog.flac",
        "..\\..\\secret.key",
        "/etc/passwd",
        "a\x00b.flac",
        "訪問 2024.flac",
        "x" * 5000,
    ]
    for name in names:
        status, _h, body = upload(s, audio, name, who="staff1", token=token)
        assert status == 200, (name, body)
        answer = json.loads(body)
        assert answer["size"] == len(audio) and answer["mime"] == "audio/flac"
        assert (
            "/" not in answer["name"]
            and "\\" not in answer["name"]
            and "\x00" not in answer["name"]
        )
        stored = check_upload(s.settings, answer["upload_id"], Viewer("staff", "staff1"))
        assert stored.path.parent == folder and stored.path.read_bytes() == audio
        # The id is for the sender only.
        with pytest.raises(NotFoundError):
            check_upload(s.settings, answer["upload_id"], Viewer("staff", "staff2"))
    assert not (s.settings.home / "catalog.flac").exists()
    assert not (s.settings.home.parent / "catalog.flac").exists()
    assert answer["name"].startswith("x") and len(answer["name"]) <= 200
    with pytest.raises(NotFoundError):
        check_upload(s.settings, answer["upload_id"][:-2] + "zz", Viewer("staff", "staff1"))


def test_upload_type_comes_from_the_content_and_the_limit_holds(served, fixtures_dir):
    s = served
    token = upload_token(s.settings, Viewer("staff", "staff1"))
    before = stored_uploads(s)
    status, _h, body = upload(
        s, b"#EXTM3U\nhttp://127.0.0.1/x.mp3\n" * 10, "playlist.mp3", who="staff1", token=token
    )
    assert status == 415 and json.loads(body)["error"] == "not-media"
    status, _h, body = upload(s, b"", "empty.flac", who="staff1", token=token)
    assert status == 415
    too_big = (fixtures_dir / "en" / "jfk.flac").read_bytes() * (LIMIT_MB * 4)
    assert len(too_big) > LIMIT_MB * 1024**2
    parts = urlsplit(s.portal.url)
    headers = {"X-File-Name": "long.flac", "X-Upload-Token": token, **s.cookie("staff1")}
    # A declared length over the limit is refused before a byte of the body is read.
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    conn.putrequest("POST", "/files/upload")
    for key, value in {**headers, "Content-Length": str(len(too_big))}.items():
        conn.putheader(key, value)
    conn.endheaders()
    response = conn.getresponse()
    assert response.status == 413 and json.loads(response.read())["error"] == "too-large"
    conn.close()
    # Sent in chunks without a length: the stream is cut off at the limit, nothing is kept. (The
    # server answers and closes as soon as the limit is passed, so the sender may see a reset.)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    chunk = 256 * 1024
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        conn.request(
            "POST", "/files/upload", headers=headers, encode_chunked=True,
            body=(too_big[i : i + chunk] for i in range(0, len(too_big), chunk)),
        )  # fmt: skip
    try:
        status = conn.getresponse().status
    except (ConnectionResetError, http.client.RemoteDisconnected):
        status = None  # cut off mid-stream: refused all the same (checked on disk below)
    assert status in (413, None)
    conn.close()
    assert stored_uploads(s) == before


# -- the session cookie ----------------------------------------------------------------------------------
def test_the_session_cookie_is_httponly_strict_and_its_code_works_once(settings, catalog):
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from archive.portal.routes.uploads import upload_routes

    add_user(catalog, "staff1", "staff", PASSWORD, actor="test")
    token = create_session(catalog, settings, authenticate(catalog, "staff1", PASSWORD))
    client = TestClient(Starlette(routes=upload_routes(settings)), base_url="http://127.0.0.1")
    code = issue_login_code(token)
    assert client.post("/session/open", content=b"wrong-code").status_code == 403
    response = client.post("/session/open", content=code.encode())
    assert response.status_code == 200
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}={token}")
    for attribute in ("HttpOnly", "SameSite=strict", "Path=/", "Max-Age="):
        assert attribute.lower() in cookie.lower(), cookie
    assert client.post("/session/open", content=code.encode()).status_code == 403  # used once
    foreign = client.post("/session/open", content=issue_login_code(token).encode(),
                          headers={"Origin": "https://evil.example"})  # fmt: skip
    assert foreign.status_code == 403
    closed = client.post("/session/close", headers={"Cookie": f"{COOKIE_NAME}={token}"})
    assert closed.status_code == 200 and "Max-Age=0" in closed.headers["set-cookie"]
    assert session_viewer(catalog, settings, token) is None


# -- the command line ----------------------------------------------------------------------------------
def test_the_command_line_with_a_role_shows_nothing_above_it(served):
    s = served
    home = s.settings.home
    secret, dock = s.arch.ids["secret"], s.arch.ids["dock"]
    staff = run_cli(home, "search", "內部討論", "--role", "staff", "--json")
    assert staff.returncode == 0 and secret in staff.stdout  # the search itself can find it
    for role in ("public", "members"):
        found = run_cli(home, "search", "內部討論", "--role", role, "--json")
        assert found.returncode == 0 and secret not in found.stdout
        redacted = run_cli(home, "search", "八百萬", "--role", role, "--json")
        assert REDACTED_ZH not in redacted.stdout
        for args in (("show", secret), ("export", secret), ("cite", secret)):
            result = run_cli(home, *args, "--role", role)
            assert result.returncode != 0 and SECRET_TEXT not in result.stdout + result.stderr
            assert "Traceback" not in result.stderr
        exported = run_cli(home, "export", dock, "--track", "zh", "--role", role)
        assert exported.returncode == 0 and "碼頭工人罷工" in exported.stdout
        assert REDACTED_ZH not in exported.stdout
        cited = run_cli(home, "cite", dock, "--at", "5.5", "--role", role)
        assert (
            cited.returncode == 0
            and REDACTED_ZH not in cited.stdout
            and REDACTED_EN not in cited.stdout
        )
