"""The first paint: the Streamlit shell of a page carries that page's light content before any
script runs, for the viewer of the request's session, and gets out of the way once Streamlit has
drawn the page.

Real ``archive serve`` on 127.0.0.1, fetched with an HTTP client (no JavaScript at all); a real
headless Chromium checks that the copy is what a reader sees first without JavaScript and that it
is gone once the app has run.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from pathlib import Path

import portal_data
import pytest
from portal_harness import RecordedSession, launch_chromium, require_chromium

from archive.catalog.db import Catalog
from archive.portal.routes.headers import content_security_policy
from archive.portal.sessions import COOKIE_NAME
from archive.workspace.accounts import add_user, authenticate, create_session

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
SECRET_TITLE = "內部會議記錄"  # portal_data's staff-only item
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)


@pytest.fixture(scope="module")
def shell(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("first-paint")
    arch = portal_data.build(home, long_talk=False, extra=0)
    cat = Catalog.open(arch.settings)
    add_user(cat, "staff1", "staff", "correct horse battery", actor="test")
    token = create_session(cat, arch.settings, authenticate(cat, "staff1", "correct horse battery"))
    cat.close()
    with portal_data.Portal(home) as portal:
        yield arch, portal, token


def fetch(portal, path: str, cookie: str | None = None) -> tuple[int, str, dict[str, str]]:
    headers = {"Cookie": f"{COOKIE_NAME}={cookie}"} if cookie else {}
    request = urllib.request.Request(portal.url + path, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            head = {k.lower(): v for k, v in response.headers.items()}
            return response.status, response.read().decode("utf-8"), head
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode("utf-8"), {k.lower(): v for k, v in err.headers.items()}


def first_paint(page: str) -> str:
    root = page.index('<div id="root"></div>')
    start = page.index('<div id="hk-first-paint"')
    assert root < start  # after the app's root: once drawn, the app's elements come first
    return page[start : page.index("</body>")]


def test_a_search_link_shell_holds_the_hits_before_any_script(shell):
    arch, portal, _token = shell
    dock = arch.ids["dock"]
    status, page, headers = fetch(portal, "/?q=strike&lang=en")
    assert status == 200
    painted = first_paint(page)
    assert "<mark>strike</mark>" in painted
    # Its links go where the app's own go: the full portal's item page at the hit's moment.
    assert f'href="/item?item={dock}&amp;t=5.4&amp;lang=en#t=5.4"' in painted
    assert 'href="/lite/search?q=strike&amp;lang=en">Open the light version</a>' in painted
    assert '<html lang="en-GB">' in page
    # Styled and latched by files of the archive's own, not inline: the CSP is unchanged.
    assert '<link rel="stylesheet" href="/lite/static/first-paint.css">' in page
    assert headers["content-security-policy"] == content_security_policy()
    streamlit_shell = (
        Path(__import__("streamlit").__file__).parent / "static" / "index.html"
    ).read_text()
    assert len(INLINE_SCRIPT.findall(page)) == len(INLINE_SCRIPT.findall(streamlit_shell))
    assert "./static/js/index." in page  # still Streamlit's shell, its app unchanged
    assert int(headers["content-length"]) == len(page.encode())
    # The /search page and a Chinese search too.
    status, page, _headers = fetch(portal, "/search?q=%E7%A2%BC%E9%A0%AD&lang=zh")
    assert "<mark>碼頭</mark>" in first_paint(page)


def test_an_item_link_shell_holds_the_title_and_the_transcript_from_its_moment(shell):
    arch, portal, _token = shell
    dock = arch.ids["dock"]
    status, page, _headers = fetch(portal, f"/item?item={dock}&t=5.4&lang=en")
    painted = first_paint(page)
    assert status == 200 and "Dock strike, ten years on" in painted
    current = re.findall(r'<li[^>]*class="current"[^>]*data-start="([0-9.]+)"', painted)
    assert current == ["5.400"]
    # From the chosen moment on: the rows before it are the full page's, not the first paint's.
    assert 'data-start="0.000"' not in painted
    for path, words in (("/browse?lang=en", "Dock strike"), ("/upcoming?lang=en", "Events")):
        assert words in first_paint(fetch(portal, path)[1]), path


def test_nothing_private_in_the_shell_below_its_role(shell):
    arch, portal, token = shell
    secret = arch.ids["secret"]
    for path in (
        f"/item?item={secret}&lang=zh",
        "/?q=%E5%85%A7%E9%83%A8&lang=zh",
        "/browse?lang=zh",
    ):
        status, page, headers = fetch(portal, path)
        assert status == 200 and SECRET_TITLE not in page, path
        assert headers["cache-control"] == "private, no-cache"
    # The same shells for staff hold it: the zeros above are refusals. Never cached.
    status, page, headers = fetch(portal, f"/item?item={secret}&lang=zh", cookie=token)
    assert SECRET_TITLE in first_paint(page)
    assert headers["cache-control"] == "private, no-store"
    # An unknown or unseen item: the notice and nothing else, never an error page.
    status, page, _headers = fetch(portal, "/item?item=nope&lang=en")
    assert status == 200 and "Open the light version" in first_paint(page)
    assert "<article" not in first_paint(page)


def test_other_paths_are_left_alone(shell):
    _arch, portal, _token = shell
    status, body, _headers = fetch(portal, "/_stcore/health")
    assert status == 200 and body == "ok"
    status, body, headers = fetch(portal, "/lite/static/first-paint.css")
    assert (
        status == 200
        and "#hk-first-paint" in body
        and headers["content-type"].startswith("text/css")
    )
    status, body, _headers = fetch(portal, "/lite/static/nope.js")
    assert status == 404


@pytest.mark.browser
def test_readable_at_once_without_javascript_and_gone_once_the_app_has_drawn(shell):
    require_chromium()
    arch, portal, _token = shell
    with launch_chromium(ARTIFACTS) as browser:
        plain = RecordedSession(browser, locale="en-GB", java_script_enabled=False)
        plain.page.goto(portal.url + "/?q=strike&lang=en")
        assert plain.page.locator("#hk-first-paint mark").first.is_visible()
        assert plain.page.locator(
            "#hk-first-paint a", has_text="Open the light version"
        ).is_visible()
        assert not plain.outside_requests()
        plain.context.close()

        live = RecordedSession(browser, locale="en-GB")
        live.page.goto(portal.url + "/?q=strike&lang=en", wait_until="commit")
        # Streamlit draws the hits itself; then the server's copy is hidden for good.
        live.page.locator(".st-key-result_0").wait_for(state="visible", timeout=60_000)
        live.page.locator("#hk-first-paint").wait_for(state="detached", timeout=30_000)
        assert live.page.evaluate("document.documentElement.classList.contains('hk-app-ready')")
        assert not live.outside_requests()
        live.context.close()


def test_a_browser_that_accepts_gzip_gets_the_first_paint_on_every_page_path(shell):
    """Streamlit gzips the shell of every page path but "/" itself for a browser that accepts
    it; the first paint must not depend on what the browser accepts (a real Chromium sends
    ``Accept-Encoding: gzip, deflate, br``)."""
    import gzip

    arch, portal, _token = shell
    for path in (f"/item?item={arch.ids['dock']}&t=5.4&lang=en", "/browse?lang=en", "/?lang=en"):
        request = urllib.request.Request(
            portal.url + path, headers={"Accept-Encoding": "gzip, deflate, br"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            raw = response.read()
            encoding = response.headers.get("Content-Encoding")
        page = (gzip.decompress(raw) if encoding == "gzip" else raw).decode("utf-8")
        assert 'id="hk-first-paint"' in page, path
        assert encoding is None, (path, encoding)  # a rewritten shell goes uncompressed (BREACH)
