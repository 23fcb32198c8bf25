"""Tokens and endpoints reveal nothing (issue 11, item 7).

* A file route's token says nothing readable: no user name, role or item id.
* ``/_stcore/metrics`` answers 404 over real HTTP.
* The session cookie: ``__Host-`` and ``Secure`` when the portal is reached over HTTPS (said by
  ``ARCHIVE_PUBLIC_URL``, or ``X-Forwarded-Proto`` from a proxy uvicorn trusts — its
  ``FORWARDED_ALLOW_IPS``, 127.0.0.1 by default — and from nobody else), ``HttpOnly``,
  ``SameSite=Strict``, ``Path=/``; plain HTTP on 127.0.0.1 keeps working.
* Nothing a member's page sends through Streamlit's own ``/media/`` is members-only: a member's
  pages are opened in real Chromium, every ``/media/`` URL they use is fetched with no cookie.
* Source links: shown below staff only when staff made them public, and never with credentials or
  secret parameters (page, feeds, citations, ``archive show``, search, the mirror).

Real parts only: a real archive, ``archive serve`` or uvicorn on 127.0.0.1, Chromium, the CLI.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import socket
import threading
import time
import urllib.error
import urllib.request
import zlib
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import portal_data
import pytest
from conftest import run_cli
from portal_harness import (
    RecordedSession,
    archive_home,
    launch_chromium,
    log_in,
    new_session,
    open_page,
    require_chromium,
    texts,
)

from archive.catalog.access import Viewer

PASSWORD = "correct horse battery"
Y = datetime.now(UTC).year + 1
MEMBERS_LINK = "https://meet.example.org/j/98765?pwd=MembersOnlyPwd"
SECRET_SOURCE = (
    "https://recorder:hunter2pass@zoom.example.com/rec/play/abc?pwd=ZoomPwd123"
    "&X-Amz-Signature=deadbeefsig&Expires=99&token=tok456&v=keepme#frag"
)
SECRETS = ("hunter2pass", "recorder", "ZoomPwd123", "deadbeefsig", "tok456", "frag")
CLEANED = "https://zoom.example.com/rec/play/abc?v=keepme"


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (320, 200), (20, 90, 160)).save(buffer, "PNG")
    return buffer.getvalue()


POSTER = _png()


def _get(url: str, headers: dict[str, str] | None = None, method: str = "GET"):
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


@pytest.fixture(scope="module")
def arch(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("tokens")
    built = portal_data.build(home, long_talk=False, extra=0)
    from archive.catalog.db import Catalog
    from archive.hub.events import create_event
    from archive.workspace.accounts import add_user

    cat = Catalog.open(built.settings)
    add_user(cat, "ed", "staff", PASSWORD, actor="test")
    add_user(cat, "mei", "members", PASSWORD, actor="test")
    # A public item whose source staff made public, and one whose source they did not.
    cat.update_item(built.ids["interview"], source_url=SECRET_SOURCE)
    cat.update_item(built.ids["bar"], source_url=SECRET_SOURCE)
    poster = home / "members-poster.png"
    poster.write_bytes(POSTER)
    built.ids["members_event"] = create_event(
        built.settings,
        cat,
        title_zh="會員簡報",
        title_en="Members' briefing",
        start=f"{Y}-07-12 19:00",
        tz="Europe/London",
        duration_minutes=60,
        visibility="members",
        join_url=MEMBERS_LINK,
        poster=poster,
    ).id
    cat.close()
    done = run_cli(
        home, "item", "set", built.ids["interview"], "--source-public", "yes", "--actor", "ed"
    )
    assert done.returncode == 0, done.stderr
    with archive_home(home):
        yield built


# -- tokens ---------------------------------------------------------------------------------------
def _readable(token: str) -> str:
    """Everything a person holding ``token`` could decode from it without the key."""
    out = [token]
    for part in token.replace("~", ".").split("."):
        padded = part + "=" * (-len(part) % 4)
        try:
            raw = base64.urlsafe_b64decode(padded)
        except ValueError:
            continue
        out.append(raw.decode("latin-1"))
        with contextlib.suppress(zlib.error):
            out.append(zlib.decompress(raw).decode("latin-1"))
    return "\n".join(out)


def test_file_tokens_reveal_no_user_role_or_item(arch) -> None:
    from archive.portal.routes.files import (
        MEDIA_PREFIX,
        SUBTITLE_PREFIX,
        calendar_url,
        media_url,
        poster_url,
        subtitle_url,
        transcript_url,
    )

    item, event = arch.ids["interview"], arch.ids["members_event"]
    viewer = Viewer("staff", "edwardo-the-editor")
    urls = [
        media_url(arch.settings, item, "original", viewer),
        subtitle_url(arch.settings, item, 1, "srt", "zh", viewer),
        transcript_url(arch.settings, item, 1, viewer),
        calendar_url(arch.settings, event, viewer),
        poster_url(arch.settings, event, viewer),
    ]
    for url in urls:
        readable = _readable(url.rsplit("/", 1)[1])
        for secret in ("edwardo", "staff", item, event, '"@u"', '"i"'):
            assert secret not in readable, (url, secret)
    # Two viewers with names of different lengths get tokens of the same length.
    short = media_url(arch.settings, item, "audio", Viewer("members", "al"))
    long = media_url(arch.settings, item, "audio", Viewer("members", "al" * 20))
    assert len(short) == len(long)
    # ...with the session tag of a logged-in viewer's link too (issue 18, point 14).
    bound = subtitle_url(
        arch.settings, "x" * 64, 99, "json", "zh", Viewer("members", "al" * 20), "t"
    )
    assert len(bound) - len(SUBTITLE_PREFIX) == len(short) - len(MEDIA_PREFIX)
    # Every token is new (a fresh nonce): two links to the same file cannot be matched up.
    assert media_url(arch.settings, item, "audio", viewer) != media_url(
        arch.settings, item, "audio", viewer
    )


# -- the portal over real HTTP: metrics, file routes ----------------------------------------------
@pytest.fixture(scope="module")
def portal(arch):
    with portal_data.Portal(arch.home) as running:
        yield running


def test_streamlit_metrics_are_not_served(portal) -> None:
    for path, method in (
        ("/_stcore/metrics", "GET"),
        ("/_stcore/metrics", "OPTIONS"),
        ("/_stcore/metrics", "HEAD"),
        ("/_stcore/metrics?families=session_events", "GET"),
        ("//_stcore/metrics", "GET"),
        ("/_stcore/metrics/", "GET"),
    ):
        status, _headers, body = _get(portal.url + path, {"Accept": "text/plain"}, method)
        assert status == 404, (path, method, status)
        assert b"session" not in body and b"# TYPE" not in body
    assert _get(portal.url + "/_stcore/health")[0] == 200  # the health check stays


def test_members_files_are_refused_to_anyone_else(arch, portal) -> None:
    from archive.catalog.db import Catalog
    from archive.portal.routes.files import calendar_url, poster_url
    from archive.portal.sessions import COOKIE_NAME
    from archive.workspace.accounts import authenticate, create_session

    event = arch.ids["members_event"]
    cat = Catalog.open(arch.settings)
    token = create_session(cat, arch.settings, authenticate(cat, "mei", PASSWORD))
    member = Viewer("members", "mei")
    cookie = {"Cookie": f"{COOKIE_NAME}={token}"}
    calendar = portal.url + calendar_url(arch.settings, event, member, token)
    poster = portal.url + poster_url(arch.settings, event, member, token)
    status, headers, body = _get(calendar, cookie)
    assert status == 200 and MEMBERS_LINK.split("?")[0].encode() in body
    assert headers["content-type"].startswith("text/calendar")
    assert "no-store" in headers["cache-control"]
    status, headers, body = _get(poster, cookie)
    assert status == 200 and body == POSTER and headers["content-type"] == "image/png"
    for url in (calendar, poster):  # replayed without the member's session: nothing
        status, _headers, body = _get(url)
        assert status == 404 and b"meet.example.org" not in body and body != POSTER
    # A public viewer's link to a members' event: nothing either.
    status, _headers, body = _get(portal.url + calendar_url(arch.settings, event, Viewer()))
    assert status == 404 and b"meet.example.org" not in body


# -- the session cookie -------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Server:
    """The portal's session and file routes under uvicorn on 127.0.0.1, in this process (so that
    a one-time log-in code issued here is the server's)."""

    def __init__(self, settings, *, trusted_proxies: str = "127.0.0.1") -> None:
        import uvicorn
        from starlette.applications import Starlette

        from archive.portal.routes.files import routes
        from archive.portal.routes.uploads import upload_routes

        app = Starlette(routes=[*routes(settings), *upload_routes(settings)])
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(
            uvicorn.Config(
                app,
                host="127.0.0.1",
                port=self.port,
                log_level="warning",
                forwarded_allow_ips=trusted_proxies,
            )
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> _Server:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            self.thread.join(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def _open_session(server: _Server, settings, headers: dict[str, str] | None = None):
    from archive.catalog.db import Catalog
    from archive.portal.sessions import issue_login_code
    from archive.workspace.accounts import authenticate, create_session

    cat = Catalog.open(settings)
    token = create_session(cat, settings, authenticate(cat, "mei", PASSWORD))
    code = issue_login_code(token)
    request = urllib.request.Request(
        server.url + "/session/open", data=code.encode(), method="POST", headers=headers or {}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
        return token, response.headers.get_all("Set-Cookie")


def _attributes(set_cookie: str) -> tuple[str, dict[str, str]]:
    first, *rest = [p.strip() for p in set_cookie.split(";")]
    name = first.split("=", 1)[0]
    attrs = {}
    for part in rest:
        key, _, value = part.partition("=")
        attrs[key.lower()] = value
    return name, attrs


def test_cookie_on_plain_http_is_httponly_strict_and_not_secure(arch) -> None:
    from dataclasses import replace

    settings = replace(arch.settings, public_url=None)
    # No proxy trusted: a forwarded header is just something anyone can send.
    with _Server(settings, trusted_proxies="") as server:
        for headers in ({}, {"X-Forwarded-Proto": "https"}):
            _token, cookies = _open_session(server, settings, headers)
            (set_cookie,) = cookies
            name, attrs = _attributes(set_cookie)
            assert name == "hk_archive_session"
            assert "httponly" in attrs and attrs["samesite"].lower() == "strict"
            assert attrs["path"] == "/" and "secure" not in attrs and "domain" not in attrs


def test_cookie_from_a_trusted_https_proxy_is_host_prefixed(arch) -> None:
    from dataclasses import replace

    settings = replace(arch.settings, public_url=None)
    with _Server(settings, trusted_proxies="127.0.0.1") as server:
        _token, (set_cookie,) = _open_session(server, settings, {"X-Forwarded-Proto": "https"})
        name, attrs = _attributes(set_cookie)
        assert name == "__Host-hk_archive_session" and "secure" in attrs
        _token, (set_cookie,) = _open_session(server, settings)  # plain HTTP, same proxy
        assert _attributes(set_cookie)[0] == "hk_archive_session"


def test_cookie_behind_https_is_host_prefixed_and_secure(arch) -> None:
    from dataclasses import replace

    from archive.portal.routes.files import media_url
    from archive.portal.sessions import COOKIE_NAME, SECURE_COOKIE_NAME, cookie_token

    settings = replace(arch.settings, public_url="https://archive.example.org")
    with _Server(settings) as server:
        token, cookies = _open_session(server, settings)
        (set_cookie,) = cookies
        name, attrs = _attributes(set_cookie)
        assert name == "__Host-hk_archive_session" == SECURE_COOKIE_NAME
        assert "secure" in attrs and "httponly" in attrs and attrs["samesite"].lower() == "strict"
        assert attrs["path"] == "/" and "domain" not in attrs
        # Over HTTPS only the __Host- cookie counts: a plain one (planted by a sibling host, or
        # over plain HTTP) is ignored, so a member's link does not open with it.
        assert cookie_token(settings, {COOKIE_NAME: token}, "http") is None
        assert cookie_token(settings, {SECURE_COOKIE_NAME: token}, "http") == token
        member = Viewer("members", "mei")
        url = server.url + media_url(settings, arch.ids["dock"], "audio", member, token)
        assert _get(url, {"Cookie": f"{COOKIE_NAME}={token}", "Range": "bytes=0-9"})[0] == 404
        status = _get(url, {"Cookie": f"{SECURE_COOKIE_NAME}={token}", "Range": "bytes=0-9"})[0]
        assert status == 206
        # Log-out clears the same cookie, with the same attributes (or the browser keeps it).
        request = urllib.request.Request(
            server.url + "/session/close",
            method="POST",
            headers={"Cookie": f"{SECURE_COOKIE_NAME}={token}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            (cleared,) = response.headers.get_all("Set-Cookie")
        name, attrs = _attributes(cleared)
        assert name == SECURE_COOKIE_NAME and "secure" in attrs and attrs.get("max-age") == "0"
        assert (
            _get(url, {"Cookie": f"{SECURE_COOKIE_NAME}={token}", "Range": "bytes=0-9"})[0] == 404
        )


# -- Streamlit's /media/ carries nothing members-only ---------------------------------------------
SETTLED = """() => {
  const app = document.querySelector('[data-testid=stApp]');
  return !!app && app.getAttribute('data-test-script-state') === 'notRunning'
    && !document.querySelector('[data-stale=true]')
    && !document.querySelector('[data-testid^=stSkeleton], [data-testid=stAppSkeleton]');
}"""
URLS = """() => [...document.querySelectorAll('[src], [href]')]
  .map(e => e.getAttribute('src') || e.getAttribute('href'))"""


@pytest.mark.browser
def test_nothing_members_only_goes_through_streamlits_media(arch, portal, tmp_path: Path) -> None:
    require_chromium()
    event = arch.ids["members_event"]
    with launch_chromium(tmp_path / "shots") as browser:
        session = RecordedSession(browser, locale="en-GB")
        page = session.page
        try:
            page.goto(portal.url + "/login?lang=en")
            page.get_by_label("User name").fill("mei")
            page.get_by_label("Password", exact=True).fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.get_by_text("You are logged in as mei").wait_for()
            page.wait_for_function(SETTLED)
            seen: set[str] = set(session.requests)
            own: set[str] = set()
            for path in (f"/event?event={event}&lang=en", "/upcoming?lang=en", "/?lang=en"):
                page.goto(portal.url + path)
                page.get_by_text("Members' briefing").first.wait_for()
                page.wait_for_function(SETTLED)
                for url in page.evaluate(URLS):
                    if url:
                        (own if url.startswith("/files/") else seen).add(url)
                seen.update(session.requests)
            # The member's page really shows the event with its poster and calendar link.
            assert any(u.startswith("/files/poster/") for u in own)
            assert any(u.startswith("/files/calendar/") for u in own)
            with_cookie = {u: session.context.request.get(portal.url + u) for u in own}
            assert any(r.body() == POSTER for r in with_cookie.values())
            assert any(b"meet.example.org" in r.body() for r in with_cookie.values())
        finally:
            session.close()
    # Streamlit's media store: /media/<hash>.<ext> (its own fonts under /static/media/ aside).
    media = sorted({urlsplit(u).path for u in seen if urlsplit(u).path.startswith("/media/")})
    assert media  # the page's own icon at least: the collection really saw Streamlit's URLs
    anonymous = [portal.url + path for path in media]
    anonymous += [portal.url + u for u in own]
    anonymous += [portal.url + f for f in ("/feeds/events.ics", "/feeds/rss.xml")]
    for url in anonymous:
        status, _headers, body = _get(url)
        assert b"meet.example.org" not in body and b"MembersOnlyPwd" not in body, url
        assert POSTER not in body, url
        if "/files/" in url:
            assert status == 404, url


# -- source links -------------------------------------------------------------------------------
def _no_secrets(text: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in text, (where, secret)


@pytest.mark.parametrize("role", ["public", "members"])
def test_source_links_below_staff(arch, role: str, tmp_path: Path) -> None:
    public_source, private_source = arch.ids["interview"], arch.ids["bar"]
    shown = json.loads(run_cli(arch.home, "show", public_source, "--role", role, "--json").stdout)
    assert shown["source_url"] == CLEANED
    hidden = json.loads(run_cli(arch.home, "show", private_source, "--role", role, "--json").stdout)
    assert hidden["source_url"] is None
    for item in (public_source, private_source):
        out = run_cli(arch.home, "show", item, "--role", role)
        assert out.returncode == 0 and "zoom.example.com" not in out.stdout.replace(CLEANED, "")
        _no_secrets(out.stdout, "show")
        for style in ("chicago", "apa", "mla", "bibtex", "ris", "csl-json"):
            cited = run_cli(arch.home, "cite", item, "--style", style, "--role", role)
            assert cited.returncode == 0, cited.stderr
            _no_secrets(cited.stdout, f"cite {style}")
    # The portal's item page.
    at = new_session(lang="en")
    if role == "members":
        log_in(at, "mei", PASSWORD)
    open_page(at, "item", item=public_source, lang="en")
    page = texts(at)
    assert CLEANED in page
    _no_secrets(page, "item page")
    open_page(at, "item", item=private_source, lang="en")
    assert "zoom.example.com" not in texts(at)


def test_source_links_in_feeds_search_and_mirror(arch, tmp_path: Path) -> None:
    from archive.catalog.db import Catalog
    from archive.hub.feeds import podcast_feed, rss_feed
    from indexer import SearchIndex

    cat = Catalog.open(arch.settings)
    for data in (
        rss_feed(arch.settings, cat, base_url="https://a.example"),
        rss_feed(arch.settings, cat, base_url="https://a.example", atom=True),
        podcast_feed(arch.settings, cat, base_url="https://a.example"),
    ):
        _no_secrets(data.decode("utf-8"), "feed")
    results = SearchIndex.open(arch.settings).search("union", role="public", per_page=50)
    _no_secrets(json.dumps(results.to_dict(), ensure_ascii=False), "search")
    site = tmp_path / "site"
    assert run_cli(arch.home, "mirror", str(site)).returncode == 0
    for path in site.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for secret in SECRETS[:-1]:  # ("frag" is too short to look for in binary files)
                assert secret.encode() not in data, (path, secret)


def test_staff_see_the_stored_source_link_and_changes_are_audited(arch) -> None:
    shown = json.loads(
        run_cli(arch.home, "show", arch.ids["bar"], "--role", "staff", "--json").stdout
    )
    assert shown["source_url"] == SECRET_SOURCE and shown["source_public"] is False
    at = new_session(lang="en")
    log_in(at, "ed", PASSWORD)
    open_page(at, "item", item=arch.ids["bar"], lang="en")
    assert "hunter2pass" in texts(at)  # staff: the link as stored
    audit = json.loads(run_cli(arch.home, "audit", arch.ids["interview"], "--json").stdout)
    (row,) = [r for r in audit if r["action"] == "source-public"]
    assert row["actor"] == "ed" and row["new_value"] == "yes"
