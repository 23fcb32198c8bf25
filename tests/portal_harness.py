"""What the portal's page tests share: opening pages through Streamlit's AppTest, reading what a
page shows, logging in through the log-in page, and a real headless Chromium for the browser tests.

Imported by the test modules the way ``portal_data`` is (``tests/`` is on ``sys.path``).
"""

from __future__ import annotations

import html
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser
    from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "archive" / "portal" / "navigation.py")

# -- Streamlit's AppTest ---------------------------------------------------------------------------


@contextmanager
def archive_home(home: Path) -> Iterator[None]:
    """Point the app at the archive in ``home`` (``ARCHIVE_HOME``), Streamlit's caches cleared on
    the way in and on the way out; the old ``ARCHIVE_HOME`` is put back afterwards."""
    import streamlit as st

    old = os.environ.get("ARCHIVE_HOME")
    os.environ["ARCHIVE_HOME"] = str(home)
    st.cache_resource.clear()
    st.cache_data.clear()
    try:
        yield
    finally:
        st.cache_resource.clear()
        st.cache_data.clear()
        if old is None:
            os.environ.pop("ARCHIVE_HOME", None)
        else:
            os.environ["ARCHIVE_HOME"] = old


def new_session(*, lang: str = "en", browser_tz: str | None = None, timeout: float = 60) -> AppTest:
    """A new visitor's session of the app, nothing run yet: ``lang`` in its URL and, if given,
    ``browser_tz`` as the time zone its browser reports. ``timeout`` is the limit for each run,
    in seconds."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=timeout)
    if browser_tz:
        at.context = {"timezone": browser_tz}
    at.query_params["lang"] = lang
    return at


def open_page(at: AppTest, page: str | None = None, /, **params: str) -> AppTest:
    """Open ``archive/portal/views/<page>.py`` in the session ``at`` with exactly ``params`` as its URL's
    query, as a link would, and check that the run raised nothing.

    ``page=None`` is the default page (home): on a session that has not run yet, the entry script
    simply runs with ``params``. Any other page, or home in a session that has run, goes through
    the app's own navigation: the entry script runs first if it has not (it registers the pages,
    as when a visitor's browser opens a link to that page), then the page is switched to.
    """
    if page is not None or at._tree:
        if not at._tree:
            at.run()
        at.switch_page(f"views/{page or 'home'}.py")
    for key in list(at.query_params):
        del at.query_params[key]
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def log_in(at: AppTest, username: str, password: str, *, lang: str = "en") -> AppTest:
    """Log in through the portal's own log-in page (opened in ``lang``) and check that the run
    raised nothing; a refused log-in is left on the page for the test to read."""
    open_page(at, "login", lang=lang)
    at.text_input(key="login_username").input(username)
    at.text_input(key="login_password").input(password)
    at.button(key="login_submit").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


TEXT_ELEMENTS = (
    "markdown",
    "caption",
    "title",
    "header",
    "subheader",
    "info",
    "warning",
    "error",
    "success",
    "code",
)


def texts(at: AppTest, *, text_areas: bool = False) -> str:
    """Everything the page shows as text, one element a line: markdown, captions, titles, alerts
    (info, warning, error, success), code, page-link and button labels; with ``text_areas``, the
    text in the text areas too (an editor's fields). Character references are decoded."""
    parts: list[str] = []
    for kind in TEXT_ELEMENTS:
        parts.extend(str(e.value) for e in getattr(at, kind))
    parts.extend(p.proto.label for p in at.get("page_link"))
    parts.extend(b.label for b in at.button)
    if text_areas:
        parts.extend(str(a.value) for a in at.text_area)
    return shown("\n".join(parts))


def shown(markdown: str) -> str:
    """A Markdown body or label as the reader sees its words: outside text reaches Streamlit as
    character references, with word joiners in its links (``archive.core.text_safety``); decoded here
    as the browser decodes them."""
    return html.unescape(markdown).replace("\u2060", "")


# -- a real headless Chromium (Playwright) ------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def require_chromium() -> None:
    """Fail (not skip) when Debian's Chromium is missing: the browser tests are part of the suite."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed (apt-get install chromium fonts-noto-cjk)")


@contextmanager
def launch_chromium(artifacts: Path, *, fresh: bool = False) -> Iterator[Browser]:
    """Debian's Chromium, headless, through Playwright, closed afterwards. ``artifacts`` (where the
    screenshots go) is made first; with ``fresh``, whatever an earlier run left there is removed."""
    from playwright.sync_api import sync_playwright

    if fresh and artifacts.exists():
        shutil.rmtree(artifacts)
    artifacts.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


class RecordedSession:
    """One browser context (one person) and its page, with every request and page error recorded.

    Desktop-sized, or a phone (390 x 844, touch, twice the pixels) with ``phone``; downloads are
    accepted; ``context_options`` go to Playwright's ``new_context`` (``timezone_id``, say).
    """

    def __init__(
        self, browser: Browser, *, locale: str, phone: bool = False, **context_options: Any
    ) -> None:
        self.context = browser.new_context(
            viewport=PHONE if phone else DESKTOP,
            locale=locale,
            is_mobile=phone,
            has_touch=phone,
            device_scale_factor=2 if phone else 1,
            accept_downloads=True,
            **context_options,
        )
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.set_default_timeout(30_000)

    def outside_requests(self) -> list[str]:
        """The requests to any host but 127.0.0.1 (data:, blob: and about: URLs aside)."""
        outside = []
        for url in self.requests:
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob", "about"):
                continue
            if parts.hostname != "127.0.0.1":
                outside.append(url)
        return outside

    def close(self) -> None:
        self.context.close()
