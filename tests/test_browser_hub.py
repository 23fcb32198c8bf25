"""The webinar hub's pages in a real headless Chromium (Debian's), driven by Playwright.

Starts ``archive serve`` on a real archive with announced events and sets the *browser's* time zone
(``timezone_id``): a browser in London sees the 8 pm London talk at 20:00, one in Hong Kong at 03:00
the next day with the organiser's time beside it. Opens an event, downloads its ``.ics``, changes
the zone, plays a past event's recording, and looks at the pages on a phone. Every request the pages
make is recorded: any host but the archive's own (127.0.0.1) fails the test. Screenshots go to
``tests/artifacts/hub/`` (git-ignored).
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import icalendar
import portal_data
import pytest
from portal_harness import RecordedSession, launch_chromium, require_chromium

from archive.catalog.db import Catalog
from archive.hub.events import cancel_event, create_event, link_recording
from archive.hub.series import create_series

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent / "artifacts" / "hub"
Y = datetime.now(UTC).year + 1
JOIN = "https://meet.example.org/dock-public"

# The player's media element, from inside its shadow root.
PLAYER = """() => {
  const host = [...document.querySelectorAll('*')].find(e => e.shadowRoot && e.shadowRoot.querySelector('.hkp'));
  if (!host) return null;
  const root = host.shadowRoot;
  const media = root.querySelector('.hkp-el');
  return { src: media ? media.getAttribute('src') : null, rows: root.querySelectorAll('.hkp-row').length,
           duration: media ? media.duration : null };
}"""


SETTLED = """() => {
  const app = document.querySelector('[data-testid=stApp]');
  return !!app && app.getAttribute('data-test-script-state') === 'notRunning'
    && !document.querySelector('[data-stale=true]')
    && !document.querySelector('[data-testid^=stSkeleton], [data-testid=stAppSkeleton]');
}"""


def _poster(folder: Path) -> Path:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (600, 400), (179, 38, 30))
    ImageDraw.Draw(image).rectangle((40, 40, 560, 360), outline=(255, 255, 255), width=12)
    path = folder / "poster.png"
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    path.write_bytes(buffer.getvalue())
    return path


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory):
    require_chromium()
    home = tmp_path_factory.mktemp("hub-browser")
    arch = portal_data.build(home, long_talk=False, extra=2)
    settings = arch.settings
    cat = Catalog.open(settings)
    create_series(cat, "uk-tour", title_zh="英國巡迴講座", title_en="UK tour")
    ids = {}
    ids["dock"] = create_event(
        settings,
        cat,
        title_zh="碼頭工人罷工：曼徹斯特場",
        title_en="Dock strike: the Manchester talk",
        description_zh="十年後回望葵涌罷工。",
        description_en="Looking back at the Kwai Chung strike, ten years on.",
        start=f"{Y}-07-10 20:00",
        tz="Europe/London",
        duration_minutes=90,
        series_id="uk-tour",
        join_url=JOIN,
        languages=["yue", "en"],
        speakers=["李卓人", "Carol Ng"],
        poster=_poster(home),
        visibility="public",
    ).id
    cancelled = create_event(
        settings,
        cat,
        title_zh="取消了的講座",
        title_en="The cancelled talk",
        start=f"{Y}-08-01 19:00",
        tz="Europe/London",
        duration_minutes=60,
        visibility="public",
    )
    cancel_event(cat, cancelled.id)
    ids["past"] = create_event(
        settings,
        cat,
        title_zh="碼頭罷工十周年網上研討會",
        title_en="Dock strike webinar, ten years on",
        start="2023-03-28 19:00",
        tz="Asia/Hong_Kong",
        duration_minutes=60,
        series_id="uk-tour",
        visibility="public",
    ).id
    link_recording(cat, ids["past"], arch.ids["dock"])
    cat.close()
    with portal_data.Portal(home) as running:
        yield arch, ids, running


@pytest.fixture(scope="module")
def browser():
    with launch_chromium(ARTIFACTS, fresh=True) as chromium:
        yield chromium


class Session(RecordedSession):
    """One browser context in a time zone, with every request recorded."""

    def __init__(self, browser, *, timezone: str, locale: str, phone: bool = False) -> None:
        super().__init__(browser, locale=locale, phone=phone, timezone_id=timezone)

    def settle(self) -> None:
        """Wait until the script run is over and nothing on the page is stale (left from before)."""
        self.page.wait_for_function(SETTLED)

    def shot(self, name: str, *, full: bool = False) -> None:
        # A finished run, web fonts loaded, then two animation frames: a settled page, no sleep.
        self.settle()
        self.page.evaluate(
            "() => document.fonts.ready.then(() => new Promise(r => requestAnimationFrame(() => "
            "requestAnimationFrame(r))))"
        )
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full)

    def check_clean(self) -> None:
        assert not self.errors, self.errors
        assert self.requests, "no requests were recorded"
        assert not self.outside_requests(), self.outside_requests()


@pytest.mark.parametrize(
    ("zone", "locale", "start", "shown", "organiser"),
    [
        (
            "Europe/London",
            "en-GB",
            f"{Y}-07-10T20:00:00+01:00",
            f"10 Jul {Y}, 20:00 British Summer Time",
            None,
        ),
        (
            "Asia/Hong_Kong",
            "zh-HK",
            f"{Y}-07-11T03:00:00+08:00",
            "上午3:00 [香港標準時間]",
            "主辦方時間：",
        ),
    ],
)
def test_home_shows_the_talk_in_the_browsers_time_zone(
    hub, browser, zone, locale, start, shown, organiser
):
    _arch, ids, running = hub
    s = Session(browser, timezone=zone, locale=locale)
    page = s.page
    try:
        page.goto(running.url + "/")
        when = page.locator(f"time[datetime='{start}']").first
        when.wait_for()
        assert shown in when.inner_text()
        block = page.locator(".hk-when", has=when).first
        if organiser:
            card = page.locator(f".st-key-home_event_{ids['dock']}")
            assert organiser in card.inner_text()
            assert "下午8:00 [英國夏令時間]" in card.inner_text()
            assert "你所在地的翌日" in block.inner_text()
        # The browser's zone is shown in the picker and not written into the URL.
        assert "tz" not in parse_qs(urlsplit(page.url).query)
        lang = "zh" if locale.startswith("zh") else "en"
        assert parse_qs(urlsplit(page.url).query)["lang"] == [lang]
        s.shot(f"01-home-{lang}-{zone.replace('/', '-')}")
        s.check_clean()
    finally:
        s.close()


def test_event_page_calendar_download_and_changing_the_zone(hub, browser):
    _arch, ids, running = hub
    s = Session(browser, timezone="Europe/London", locale="en-GB")
    page = s.page
    try:
        page.goto(running.url + "/?lang=en")
        page.get_by_role("link", name="Dock strike: the Manchester talk").first.click()
        page.locator("h1", has_text="Dock strike: the Manchester talk").wait_for()
        assert parse_qs(urlsplit(page.url).query)["event"] == [ids["dock"]]
        # The poster comes from the archive's own feed route, and it loaded.
        poster = page.locator(".hk-poster img")
        poster.wait_for()
        assert poster.get_attribute("src") == f"/feeds/posters/{ids['dock']}"
        page.wait_for_function(
            "() => { const i = document.querySelector('.hk-poster img'); return i && i.complete && i.naturalWidth === 600; }"
        )
        join = page.get_by_role("link", name="Join online")
        assert join.get_attribute("href") == JOIN
        s.shot("02-event-en-london")

        with page.expect_download() as info:
            page.get_by_role("button", name="Add to calendar").click()
        download = info.value
        assert download.suggested_filename == f"{ids['dock']}.ics"
        calendar = icalendar.Calendar.from_ical(Path(download.path()).read_bytes())
        (vevent,) = calendar.walk("VEVENT")
        assert vevent.decoded("dtstart") == datetime(Y, 7, 10, 19, 0, tzinfo=UTC)
        assert str(vevent["conference"]) == JOIN

        # Another zone: chosen in the select box, kept in the URL, times follow.
        box = page.locator(".st-key-hub_tz_pick input")
        box.click()
        box.fill("Toronto")
        page.get_by_role("option", name="Toronto (America/Toronto)").click()
        page.wait_for_url(lambda url: "tz=America%2FToronto" in url or "tz=America/Toronto" in url)
        when = page.locator(f"time[datetime='{Y}-07-10T15:00:00-04:00']")
        when.wait_for()
        assert "15:00 Eastern Daylight Time" in when.inner_text()
        assert "20:00 British Summer Time" in page.locator(".hk-when-org").first.inner_text()
        s.shot("03-event-en-toronto")
        # A reload keeps the chosen zone (it is in the URL).
        page.reload()
        page.locator(f"time[datetime='{Y}-07-10T15:00:00-04:00']").wait_for()
        s.check_clean()
    finally:
        s.close()


def test_past_event_plays_its_recording_and_upcoming_lists_everything(hub, browser):
    _arch, ids, running = hub
    s = Session(browser, timezone="Asia/Hong_Kong", locale="zh-HK")
    page = s.page
    try:
        page.goto(f"{running.url}/upcoming?lang=zh")
        page.get_by_role("heading", name="即將舉行", exact=True).wait_for()
        s.settle()
        # A calendar subscription (webcal:) to this portal's own feed.
        host = running.url.split("://", 1)[1]
        assert page.locator(f"a[href='webcal://{host}/feeds/events.ics']").count() == 1
        page.locator("del, s", has_text="取消了的講座").first.wait_for()  # struck through
        s.shot("04-upcoming-zh", full=True)
        page.get_by_role("link", name="有錄音重溫").first.click()
        page.locator("h1", has_text="碼頭罷工十周年網上研討會").wait_for()
        page.wait_for_function(
            "() => { const p = (" + PLAYER + ")(); return p && p.src && p.rows > 0; }"
        )
        state = page.evaluate(PLAYER)
        assert state["src"].startswith("/files/media/") and state["rows"] == 6
        s.shot("05-event-recording-zh")
        s.check_clean()
    finally:
        s.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_phone_sized_hub_pages(hub, browser, lang):
    _arch, ids, running = hub
    zone = "Asia/Hong_Kong" if lang == "zh" else "Europe/London"
    s = Session(browser, timezone=zone, locale="zh-HK" if lang == "zh" else "en-GB", phone=True)
    page = s.page
    try:
        for n, path in enumerate(
            (f"/?lang={lang}", f"/upcoming?lang={lang}", f"/event?event={ids['dock']}&lang={lang}")
        ):
            page.goto(running.url + path)
            page.locator(".hk-when time").first.wait_for()
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 392, (path, width)
            s.shot(f"1{n}-phone-{lang}-{path.split('?')[0].strip('/') or 'home'}")
        s.check_clean()
    finally:
        s.close()
