"""On a phone (390 x 844), an item page's player is in the first screen, in a real headless Chromium.

Issue 19, point 6: the player used to sit about 1,000 px down, under the title, the badges, the
chapters and the transcript controls, so a visitor opening a search hit on a phone saw no player
at all. These tests open ``/item?item=ID`` at phone size in both languages and measure the media
element's box (inside the player's shadow root): its top must be inside the screen, in its upper
60%. Exact moments (``?t=`` with a fraction) still seek, and the desktop layout keeps the media
beside the transcript.
"""

from __future__ import annotations

from pathlib import Path

import portal_data
import pytest
from portal_harness import RecordedSession, launch_chromium, require_chromium

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent / "artifacts" / "phone-player"

# The media element's and the transcript's boxes, read from inside the player's shadow root, and
# the media's position once it has sought.
MEDIA_BOX = """() => {
  const host = [...document.querySelectorAll('*')].find(e => e.shadowRoot && e.shadowRoot.querySelector('.hkp'));
  if (!host) return null;
  const media = host.shadowRoot.querySelector('.hkp-el');
  const cues = host.shadowRoot.querySelector('.hkp-cues');
  if (!media || !cues) return null;
  const m = media.getBoundingClientRect(), c = cues.getBoundingClientRect();
  return {top: m.top, bottom: m.bottom, left: m.left, right: m.right, height: m.height,
          cuesTop: c.top, cuesLeft: c.left, rows: host.shadowRoot.querySelectorAll('.hkp-row').length,
          t: media.currentTime, ready: media.readyState, vh: window.innerHeight,
          vw: window.innerWidth, kind: media.tagName.toLowerCase()};
}"""


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory):
    require_chromium()
    home = tmp_path_factory.mktemp("phone-player")
    arch = portal_data.build(home, long_talk=False, extra=0)
    with portal_data.Portal(home) as running:
        yield arch, running


@pytest.fixture(scope="module")
def browser():
    with launch_chromium(ARTIFACTS) as chromium:
        yield chromium


def _open(page, url: str, *, settle: bool = True) -> dict:  # type: ignore[no-untyped-def]
    page.goto(url)
    # The page has settled when the transcript is listed and the media has its metadata.
    page.wait_for_function(
        "() => { const b = (" + MEDIA_BOX + ")(); return !!b && b.rows > 0 && b.ready >= 1"
        " && b.height > 0; }",
        timeout=30_000,
    )
    if not settle:  # a link to a moment plays from there: its time is read before it moves on
        return page.evaluate(MEDIA_BOX)
    # Streamlit lays the page out in steps (fonts, widgets, each in its own run): read the box
    # once it has not moved for eight polls in a row (2 s): on a loaded machine two reads 250 ms
    # apart can both fall inside one step.
    page.wait_for_function(
        "() => { const b = (" + MEDIA_BOX + ")();"
        " window.__hkSame = window.__hkTop === b.top ? (window.__hkSame || 0) + 1 : 0;"
        " window.__hkTop = b.top; return window.__hkSame >= 8; }",
        polling=250,
        timeout=45_000,
    )
    return page.evaluate(MEDIA_BOX)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("which", ["dock", "interview"])
def test_phone_player_is_in_the_first_screen(portal, browser, lang, which):
    arch, running = portal
    s = RecordedSession(browser, locale="zh-HK" if lang == "zh" else "en-GB", phone=True)
    try:
        box = _open(s.page, f"{running.url}/item?item={arch.ids[which]}&lang={lang}")
        s.page.screenshot(path=str(ARTIFACTS / f"phone-{which}-{lang}.png"))
        assert box["vw"] == 390 and box["vh"] == 844
        print(f"media top at 390x844 ({which}, {lang}): {box['top']:.0f}px")
        assert 0 <= box["top"] < box["vh"], box
        assert box["top"] < 0.6 * box["vh"], box
        assert box["bottom"] <= box["vh"], box  # the whole control bar, not just its edge
        # Nothing wider than the screen.
        assert s.page.evaluate("document.documentElement.scrollWidth") <= 392
        assert not s.errors, s.errors
        assert not s.outside_requests(), s.outside_requests()
    finally:
        s.close()


def test_phone_media_stays_on_screen_while_the_page_scrolls_the_transcript(portal, browser):
    arch, running = portal
    s = RecordedSession(browser, locale="en-GB", phone=True)
    try:
        box = _open(s.page, f"{running.url}/item?item={arch.ids['dock']}&lang=en")
        # Scroll Streamlit's main region (the page's scroller) 150 px past the point where the
        # media would meet the fixed header: the transcript is still on screen below it.
        header = s.page.evaluate(
            "() => document.querySelector('[data-testid=stHeader]').getBoundingClientRect().bottom"
        )
        by = box["top"] - header + 150
        # Set until it holds: Streamlit may still be adding the page's lower part (the box
        # measured above is at scrollTop 0), and a scroller too short clamps it.
        s.page.wait_for_function(
            "by => { const m = document.querySelector('[data-testid=stMain]');"
            " m.scrollTop = by; return m.scrollTop >= by - 1; }",
            arg=by,
            polling=200,
        )
        after = s.page.evaluate(MEDIA_BOX)
        s.page.screenshot(path=str(ARTIFACTS / "phone-dock-scrolled.png"))
        assert after["cuesTop"] < box["cuesTop"] - 100, after  # the page did scroll
        assert header - 1 <= after["top"] and after["bottom"] <= after["vh"], (header, after)
    finally:
        s.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_phone_exact_moment_with_a_fraction_still_seeks(portal, browser, lang):
    arch, running = portal
    s = RecordedSession(browser, locale="zh-HK" if lang == "zh" else "en-GB", phone=True)
    try:
        # 5.4 s: the fourth line of the dock-strike talk starts there (1.8 s a line).
        url = f"{running.url}/item?item={arch.ids['dock']}&t=5.4&lang={lang}"
        _open(s.page, url, settle=False)
        s.page.wait_for_function(
            "() => { const b = (" + MEDIA_BOX + ")(); return b && Math.abs(b.t - 5.4) < 0.6; }",
            timeout=30_000,
        )
        box = s.page.evaluate(MEDIA_BOX)
        assert box["top"] < 0.6 * box["vh"], box
        assert "t=5.4" in s.page.url
        assert not s.errors, s.errors
    finally:
        s.close()


def test_desktop_keeps_the_media_beside_the_transcript(portal, browser):
    arch, running = portal
    s = RecordedSession(browser, locale="en-GB")
    try:
        box = _open(s.page, f"{running.url}/item?item={arch.ids['dock']}&lang=en")
        s.page.screenshot(path=str(ARTIFACTS / "desktop-dock-en.png"))
        print(f"media top at 1280x900: {box['top']:.0f}px")
        # Two columns: the transcript starts right of the media, level with it.
        assert box["cuesLeft"] >= box["right"], box
        assert abs(box["cuesTop"] - box["top"]) < 40, box
        assert box["top"] < box["vh"] * 0.6, box
        assert not s.errors, s.errors
    finally:
        s.close()
