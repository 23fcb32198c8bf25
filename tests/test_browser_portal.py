"""End to end in a real headless Chromium (Debian's, with fonts-noto-cjk), driven by Playwright.

Starts ``archive serve`` on a real archive, searches in Chinese, opens a hit, checks that the player
is at the hit's second and that the segment being played is the highlighted one, clicks a line of
the transcript, finds in the transcript, downloads subtitles, copies a citation, switches language,
and looks at everything on a phone-sized screen too. Every request the pages make is recorded: any
host but the archive's own fails the test. Screenshots go to ``tests/artifacts/`` (git-ignored) for a
person to look at.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import portal_data
import pytest
from portal_harness import RecordedSession, launch_chromium, require_chromium

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

# JavaScript run in the page: the player's state, read from inside its shadow root.
PLAYER_STATE = """() => {
  const host = [...document.querySelectorAll('*')].find(e => e.shadowRoot && e.shadowRoot.querySelector('.hkp'));
  if (!host) return null;
  const root = host.shadowRoot;
  const media = root.querySelector('.hkp-el');
  const rows = [...root.querySelectorAll('.hkp-row')];
  const current = root.querySelector('.hkp-row.current');
  const starts = rows.map(r => Number(r.dataset.start));
  const t = media ? media.currentTime : null;
  // The segment at the media's position; while playing, the highlight follows timeupdate events
  // (about four a second), so the one just before a boundary crossed in the last 0.6 s also counts.
  let expected = null, justBefore = null;
  for (const r of rows) {
    if (Number(r.dataset.start) <= t + 0.05) expected = r.dataset.i;
    if (Number(r.dataset.start) <= t - 0.6) justBefore = r.dataset.i;
  }
  if (media && media.paused) justBefore = expected;
  return {
    t, paused: media ? media.paused : null, kind: media ? media.tagName.toLowerCase() : null,
    src: media ? media.getAttribute('src') : null, rows: rows.length,
    current: current ? current.dataset.i : null, currentStart: current ? Number(current.dataset.start) : null,
    expected, justBefore, marks: root.querySelectorAll('.hkp-row mark').length, first: starts[0], tag: media && media.__tag,
  };
}"""


def wait_for_player_at_moment(page) -> dict:  # type: ignore[no-untyped-def]
    """Wait until the media has sought to ``?t=`` and the highlighted row is the one at its
    position. The row is marked from the link at once; the seek waits for the media's metadata,
    which on a busy machine comes later."""
    page.wait_for_function(
        "() => { const st = (" + PLAYER_STATE + ")();"
        " return !!st && st.current !== null && st.t > 0"
        " && (st.current === st.expected || st.current === st.justBefore); }",
        timeout=30_000,
    )
    return page.evaluate(PLAYER_STATE)


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory):
    require_chromium()
    home = tmp_path_factory.mktemp("portal-browser")
    arch = portal_data.build(home)
    with portal_data.Portal(home) as running:
        yield arch, running


@pytest.fixture(scope="module")
def browser():
    with launch_chromium(ARTIFACTS, fresh=True) as chromium:
        yield chromium


class Session(RecordedSession):
    """One browser context with every request recorded."""

    def __init__(self, browser, base: str, *, locale: str, phone: bool = False) -> None:
        super().__init__(browser, locale=locale, phone=phone)
        self.base = base

    def shot(self, name: str) -> None:
        self.page.wait_for_timeout(400)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)


def visible(page, selector: str):
    return page.locator(f"{selector} >> visible=true")


def test_search_in_chinese_open_a_hit_and_hear_it_from_that_second(portal, browser):
    arch, running = portal
    s = Session(browser, running.url, locale="zh-HK")
    page = s.page
    try:
        page.goto(running.url + "/")
        box = page.get_by_label("搜尋檔案館")
        box.wait_for()
        assert page.evaluate("document.documentElement.lang") == "zh-Hant-HK"
        s.shot("01-search-home-zh")
        box.fill("碼頭工人")
        box.press("Enter")
        page.locator(".hk-snippet mark").first.wait_for()
        query = parse_qs(urlsplit(page.url).query)
        assert query["q"] == ["碼頭工人"] and query["lang"] == ["zh"]
        assert (
            "<mark>碼頭</mark>" in page.locator(".hk-snippet").first.inner_html()
            or page.locator(".hk-snippet mark").count()
        )
        s.shot("02-search-results-zh")

        # Open a hit inside the two-hour talk: the second passage listed for it.
        hit = visible(page, f"a[href*='item={arch.ids['long']}'][href*='t=']").nth(1)
        href = hit.get_attribute("href")
        start_text = parse_qs(urlsplit(href).query)["t"][0]
        start = float(start_text)
        assert start > 0
        hit.click()
        page.locator("h1", has_text="香港勞工運動兩小時講座").wait_for()
        page.locator(".hkp-row.current").wait_for()
        page.wait_for_function(
            "s => { const st = ("
            + PLAYER_STATE
            + ")(); return st && st.t !== null && st.t >= s - 0.5; }",
            arg=start,
        )
        state = page.evaluate(PLAYER_STATE)
        assert state["rows"] == 1500
        assert (
            start - 0.5 <= state["t"] <= start + 5
        )  # at the hit's second (playing on, if allowed)
        # The segment playing is the one highlighted.
        assert state["current"] in (state["expected"], state["justBefore"]), state
        assert state["currentStart"] <= state["t"] + 0.05
        assert f"t={start_text}" in page.url
        s.shot("03-item-at-hit-zh")

        # Clicking a timestamp in the transcript plays from there; the player is not reloaded.
        page.evaluate(
            "() => { const h = [...document.querySelectorAll('*')].find(e => e.shadowRoot && "
            "e.shadowRoot.querySelector('.hkp')); h.shadowRoot.querySelector('.hkp-el').__tag = 'same'; }"
        )
        target = page.locator(".hkp-row[data-i='40'] .hkp-ts")
        target.scroll_into_view_if_needed()
        target.click()
        page.wait_for_function(
            "() => { const st = (" + PLAYER_STATE + ")(); return st && st.current === '40'; }"
        )
        page.wait_for_url(re.compile(r"[?&]t=19[0-9]\b"))  # the position reached Python and the URL
        state = page.evaluate(PLAYER_STATE)
        assert 192 - 0.5 <= state["t"] <= 192 + 5 and state["current"] == "40"
        assert state["tag"] == "same"  # the same media element: no reload on the rerun
        # The citation follows the moment.
        page.locator(
            "[data-testid='stCode']", has_text=re.compile(r"t=19[0-9]&rev=1")
        ).first.wait_for()
        # A line that starts at a fraction (196.8 s, just after the line before ends at 196.5 s):
        # the URL and the citation keep the fraction and quote that line, not the one before.
        target = page.locator(".hkp-row[data-i='41'] .hkp-ts")
        target.scroll_into_view_if_needed()
        target.click()
        page.wait_for_url(re.compile(r"[?&]t=196\.8(&|$)"))
        cited = page.locator("[data-testid='stCode']", has_text="t=196.8&rev=1").first
        cited.wait_for()
        assert "第42段" in cited.inner_text() and "第41段" not in cited.inner_text()

        # Find in the transcript.
        find = page.get_by_label("在文字稿中尋找")
        find.fill("碼頭工人")
        find.press("Enter")
        page.wait_for_function(
            "() => { const st = ("
            + PLAYER_STATE
            + ")(); return st && st.rows < 1500 && st.marks > 0; }"
        )
        state = page.evaluate(PLAYER_STATE)
        assert state["rows"] == 1500 // 8 + (1 if 1500 % 8 > 6 else 0) or state["rows"] > 100
        visible(page, "[data-testid='stCaptionContainer']").filter(
            has_text="段符合"
        ).first.wait_for()
        s.shot("04-item-find-zh")
        # Searches are not logged (no query, no address) by the portal's process.
        logged = running.log_path.read_text(encoding="utf-8", errors="replace")
        assert "碼頭工人" not in logged and "127.0.0.1:" + str(running.port) + "/?" not in logged
        assert not s.errors, s.errors
        assert not s.outside_requests(), s.outside_requests()
    finally:
        s.close()


def test_item_downloads_cite_and_language_switch(portal, browser):
    arch, running = portal
    s = Session(browser, running.url, locale="en-GB")
    page = s.page
    try:
        item = arch.ids["dock"]
        page.goto(f"{running.url}/item?item={item}&t=5")
        page.locator("h1", has_text="Dock strike, ten years on").wait_for()
        page.locator(".hkp-row.current").wait_for()
        state = wait_for_player_at_moment(page)
        assert state["kind"] == "audio" and state["src"].startswith("/files/media/")
        assert state["current"] in (state["expected"], state["justBefore"]), state
        assert "lang=en" in page.url
        s.shot("05-item-en")

        # Download the English subtitles.
        page.locator(".hk-dls").wait_for()
        page.locator("[data-testid='stButtonGroup'] button", has_text="English").last.click()
        page.wait_for_selector("a.hk-dl[download$='.en.srt']")
        with page.expect_download() as info:
            page.locator("a.hk-dl[data-format='srt']").click()
        download = info.value
        assert download.suggested_filename == f"{item}.r1.en.srt"
        text = Path(download.path()).read_text(encoding="utf-8")
        assert "00:00:05,400 --> " in text and "The strike won wide public support" in text

        # Cite this: BibTeX, pointing at the moment and revision.
        page.locator("[data-testid='stButtonGroup'] button", has_text="BibTeX").click()
        code = page.locator("[data-testid='stCode']", has_text="@").first
        code.wait_for()
        assert f"item={item}&t=5&rev=1" in code.inner_text()
        s.shot("06-item-cite-en")

        # One click switches the interface language; the URL keeps it.
        page.locator("[data-testid='stButtonGroup'] button", has_text="繁體中文").first.click()
        page.locator("h1", has_text="碼頭工人罷工十周年").wait_for()
        page.wait_for_url(re.compile(r"lang=zh"))
        page.get_by_text("下載文字稿").wait_for()
        assert page.evaluate("document.documentElement.lang") == "zh-Hant-HK"
        s.shot("07-item-zh")
        page.reload()
        page.locator("h1", has_text="碼頭工人罷工十周年").wait_for()
        assert not s.errors, s.errors
        assert not s.outside_requests(), s.outside_requests()
    finally:
        s.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_phone_sized_pages(portal, browser, lang):
    arch, running = portal
    s = Session(browser, running.url, locale="zh-HK" if lang == "zh" else "en-GB", phone=True)
    page = s.page
    try:
        page.goto(f"{running.url}/?q=strike&lang={lang}")
        page.locator(".hk-snippet mark").first.wait_for()
        s.shot(f"10-phone-search-{lang}")
        page.goto(f"{running.url}/item?item={arch.ids['long']}&t=600&lang={lang}")
        page.locator(".hkp-row.current").wait_for()
        state = wait_for_player_at_moment(page)
        assert state["current"] in (state["expected"], state["justBefore"]), state
        # The media and the transcript are stacked and fit the screen's width.
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 392
        s.shot(f"11-phone-item-{lang}")
        page.goto(f"{running.url}/browse?lang={lang}")
        page.locator("a[href*='item=']:visible").first.wait_for()
        s.shot(f"12-phone-browse-{lang}")
        assert not s.errors, s.errors
        assert not s.outside_requests(), s.outside_requests()
    finally:
        s.close()


def test_browse_and_about_on_desktop(portal, browser):
    _arch, running = portal
    s = Session(browser, running.url, locale="zh-HK")
    page = s.page
    try:
        page.goto(f"{running.url}/browse?lang=zh")
        page.get_by_text("瀏覽檔案館").first.wait_for()
        page.get_by_text("各年份及類別的錄音時數").click()
        page.locator(
            "[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg"
        ).first.wait_for()
        s.shot("20-browse-zh")
        page.goto(f"{running.url}/about?lang=en")
        page.get_by_text("Searches are not logged with your address.").wait_for()
        s.shot("21-about-en")
        assert not s.errors, s.errors
        assert not s.outside_requests(), s.outside_requests()
    finally:
        s.close()
