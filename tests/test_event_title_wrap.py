"""Event titles wrap on a phone instead of being cut (issue 19), in a real headless Chromium.

Streamlit draws a page link's label on one line and hides what does not fit, with no ellipsis: a
long event title lost its end on a phone. Every list of events (Home's next events, Events, a
series page) shows a long title whole, in both languages: the label's text fits its box (nothing
hidden to the right), takes more than one line, and nothing is wider than the screen.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import portal_data
import pytest
from portal_harness import RecordedSession, launch_chromium, require_chromium

from archive.catalog.db import Catalog
from archive.hub.events import create_event
from archive.hub.series import create_series

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent / "artifacts" / "event-titles"
Y = datetime.now(UTC).year + 1
LONG_EN = (
    "Organising after the strike: what the 2013 dock workers learnt about unions, picket lines "
    "and public support (end of title)"
)
LONG_ZH = "罷工之後的組織工作：二零一三年碼頭工人從工會、糾察線及市民支持學到的經驗與教訓（標題完）"

# The script run is over and nothing on the page is left from before (as tests/test_browser_hub.py).
SETTLED = """() => {
  const app = document.querySelector('[data-testid=stApp]');
  return !!app && app.getAttribute('data-test-script-state') === 'notRunning'
    && !document.querySelector('[data-stale=true]')
    && !document.querySelector('[data-testid^=stSkeleton], [data-testid=stAppSkeleton]');
}"""

# Every page-link label whose text is the long title: is it cut, and how many lines does it take?
LABELS = """t => [...document.querySelectorAll('[data-testid=stPageLink] p')]
  .filter(p => p.textContent.includes(t))
  .map(p => ({cut: p.scrollWidth > p.clientWidth + 1,
              lines: Math.round(p.getBoundingClientRect().height / parseFloat(getComputedStyle(p).lineHeight)),
              white: getComputedStyle(p).whiteSpace}))"""


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory):
    require_chromium()
    home = tmp_path_factory.mktemp("event-titles")
    arch = portal_data.build(home, long_talk=False, extra=0)
    cat = Catalog.open(arch.settings)
    create_series(cat, "long-titles", title_zh="講座系列", title_en="Talks")
    create_event(
        arch.settings,
        cat,
        title_zh=LONG_ZH,
        title_en=LONG_EN,
        start=f"{Y}-07-10 20:00",
        tz="Europe/London",
        duration_minutes=90,
        series_id="long-titles",
        visibility="public",
    )
    cat.close()
    with portal_data.Portal(home) as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    with launch_chromium(ARTIFACTS) as chromium:
        yield chromium


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_long_event_titles_wrap_on_a_phone(portal, browser, lang):
    title = LONG_ZH if lang == "zh" else LONG_EN
    s = RecordedSession(browser, locale="zh-HK" if lang == "zh" else "en-GB", phone=True)
    page = s.page
    try:
        for path in ("/", "/upcoming", "/series?series=long-titles"):
            page.goto(f"{portal.url}{path}{'&' if '?' in path else '?'}lang={lang}")
            page.locator("[data-testid=stPageLink] p", has_text=title[:12]).first.wait_for()
            page.wait_for_function(SETTLED)
            labels = page.evaluate(LABELS, title[:12])
            name = path.strip("/").split("?")[0] or "home"
            page.screenshot(path=str(ARTIFACTS / f"{name}-{lang}.png"))
            assert labels, path
            for label in labels:
                assert not label["cut"] and label["white"] != "nowrap", (path, label)
                assert label["lines"] >= 2, (path, label)
            assert page.evaluate("document.documentElement.scrollWidth") <= 392, path
        assert not s.errors, s.errors
    finally:
        s.close()
