"""The webinar hub's portal pages through Streamlit's AppTest: home, Events, an event, series and the
staff event forms, on a real archive (SQLite, media files, a real log-in), in both interface
languages and in two viewers' time zones. No mocks.

The talk at the heart of it is announced for 8 pm London time in July: a member in Manchester sees
20:00 British Summer Time, a viewer in Hong Kong sees 03:00 the next day, with the organiser's time
beside it.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, time
from pathlib import Path

import icalendar
import portal_data
import pytest
from portal_harness import archive_home, log_in, new_session, open_page, texts
from portal_harness import shown as harness_shown
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1 import app_test as app_test_module

from archive.catalog.access import Viewer
from archive.catalog.db import Catalog
from archive.hub.events import (
    cancel_event,
    create_event,
    get_event,
    link_recording,
    list_events,
    postpone_event,
)
from archive.hub.series import create_series
from archive.workspace.accounts import add_user

Y = datetime.now(UTC).year + 1  # next year's July: always still to come
PASSWORD = "correct horse battery staple"
MEMBERS_LINK = "https://meet.example.org/members-9f3k"
PUBLIC_LINK = "https://meet.example.org/dock-public"


class Hub:
    def __init__(self, arch: portal_data.DemoArchive) -> None:
        self.arch = arch
        self.ids: dict[str, str] = {}


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("hub-portal")
    arch = portal_data.build(home, long_talk=False, extra=2)
    hub = Hub(arch)
    settings = arch.settings
    cat = Catalog.open(settings)
    create_series(
        cat,
        "uk-tour",
        title_zh="英國巡迴講座",
        title_en="UK tour",
        description_en="Talks across the UK.",
    )
    create_series(cat, "internal", title_zh="內部系列", title_en="Internal series")

    def add(key: str, **values) -> None:
        values.setdefault("duration_minutes", 90)
        values.setdefault("visibility", "public")
        hub.ids[key] = create_event(settings, cat, **values).id

    add(
        "dock",
        title_zh="碼頭工人罷工：曼徹斯特場",
        title_en="Dock strike: the Manchester talk",
        description_zh="十年後回望葵涌罷工。",
        description_en="Looking back at the Kwai Chung strike.",
        start=f"{Y}-07-10 20:00",
        tz="Europe/London",
        series_id="uk-tour",
        join_url=PUBLIC_LINK,
        languages=["yue", "en"],
        speakers=["李卓人"],
    )
    add(
        "members",
        title_zh="會員內部簡報",
        title_en="Members' briefing",
        start=f"{Y}-07-12 19:00",
        tz="Europe/London",
        visibility="members",
        join_url=MEMBERS_LINK,
        poster=_png_file(home),
    )
    add(
        "draft",
        title_zh="內部草稿",
        title_en="Staff draft",
        start=f"{Y}-07-14 19:00",
        tz="Europe/London",
        visibility="staff",
        series_id="internal",
    )
    add(
        "cancelled",
        title_zh="取消了的講座",
        title_en="The cancelled talk",
        start=f"{Y}-08-01 19:00",
        tz="Europe/London",
        join_url="https://meet.example.org/cancelled",
    )
    cancel_event(cat, hub.ids["cancelled"])
    add(
        "postponed",
        title_zh="延期的講座",
        title_en="The postponed talk",
        start=f"{Y}-08-05 19:00",
        tz="Asia/Hong_Kong",
        place="Manchester, Friends Meeting House",
    )
    postpone_event(cat, hub.ids["postponed"], f"{Y}-08-12 19:00")
    add(
        "past",
        title_zh="碼頭罷工十周年網上研討會",
        title_en="Dock strike webinar, ten years on",
        start="2023-03-28 19:00",
        tz="Asia/Hong_Kong",
        series_id="uk-tour",
    )
    link_recording(cat, hub.ids["past"], arch.ids["dock"])
    add_user(cat, "mei", "members", PASSWORD)
    add_user(cat, "staffer", "staff", PASSWORD)
    cat.close()
    with archive_home(home):
        yield hub


def _png_file(folder: Path) -> Path:
    path = folder / "members-poster.png"
    path.write_bytes(_png())
    return path


# -- helpers --------------------------------------------------------------------------------------
class KeptStorage(app_test_module.MemoryMediaFileStorage):
    """Streamlit's own in-memory media storage, kept after a run so a test can read a download."""

    made: list[KeptStorage] = []

    def __init__(self, endpoint: str) -> None:
        super().__init__(endpoint)
        KeptStorage.made.append(self)


@pytest.fixture
def downloads(monkeypatch):
    monkeypatch.setattr(app_test_module, "MemoryMediaFileStorage", KeptStorage)

    def read(at: AppTest, key: str) -> bytes:
        url = at.download_button(key=key).proto.url
        return KeptStorage.made[-1].get_file(url.rsplit("/", 1)[-1]).content

    return read


def everything(at: AppTest) -> str:
    """Every element's protobuf as text: what the browser would receive."""
    return "\n".join(str(getattr(node, "proto", "")) for node in at.main)


def times_for(at: AppTest, iso_start: str) -> str:
    """The block showing an event's times, found by its start in the viewer's zone."""
    found = [m.value for m in at.markdown if f'datetime="{iso_start}"' in m.value]
    assert found, f"no time {iso_start} on the page"
    return harness_shown(found[0])


def link_urls(at: AppTest) -> list[str]:
    return [b.proto.url for b in at.get("link_button")]


# -- home ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("lang", "zone", "expected"),
    [
        ("en", "Europe/London", [f"10 Jul {Y}, 20:00 British Summer Time"]),
        (
            "en",
            "Asia/Hong_Kong",
            [
                f"11 Jul {Y}, 03:00 Hong Kong Standard Time",
                "(the next day where you are)",
                "Organiser's time: ",
                f"10 Jul {Y}, 20:00 British Summer Time",
            ],
        ),
        ("zh", "Europe/London", [f"{Y}年7月10日", "下午8:00 [英國夏令時間]"]),
        (
            "zh",
            "Asia/Hong_Kong",
            [
                f"{Y}年7月11日",
                "上午3:00 [香港標準時間]",
                "(你所在地的翌日)",
                f"主辦方時間：{Y}年7月10日",
                "下午8:00 [英國夏令時間]",
            ],
        ),
    ],
)
def test_home_shows_the_next_events_in_the_browsers_time_zone(hub, lang, zone, expected):
    at = open_page(new_session(lang=lang, browser_tz=zone), lang=lang)
    hong_kong = zone == "Asia/Hong_Kong"
    start = f"{Y}-07-11T03:00:00+08:00" if hong_kong else f"{Y}-07-10T20:00:00+01:00"
    card = times_for(at, start)
    for text in expected:
        assert text in card, (text, card)
    if not hong_kong:
        assert "Organiser" not in card and "主辦方" not in card  # same clock: one line
    shown = texts(at)
    # Public events only, soonest first; the cancelled one is not "next".
    titles = [
        harness_shown(p.proto.label)
        for p in at.get("page_link")
        if "event=" in p.proto.query_string
    ]
    dock_title = "碼頭工人罷工：曼徹斯特場" if lang == "zh" else "Dock strike: the Manchester talk"
    postponed_title = "延期的講座" if lang == "zh" else "The postponed talk"
    assert titles[:2] == [dock_title, postponed_title]
    for hidden in (
        "Members' briefing",
        "會員內部簡報",
        "Staff draft",
        "內部草稿",
        "cancelled talk",
    ):
        assert hidden not in shown
    # The search box, and the latest recordings (public ones only).
    assert ("搜尋檔案館" if lang == "zh" else "Search the archive") in [
        w.label for w in at.text_input
    ]
    assert ("最新錄音" if lang == "zh" else "Latest recordings") in shown
    item_links = [
        p.proto.query_string for p in at.get("page_link") if "item=" in p.proto.query_string
    ]
    assert any(hub.arch.ids["dock"] in q for q in item_links)
    assert not any(hub.arch.ids["secret"] in q for q in item_links)
    assert "Internal meeting" not in shown and "內部會議記錄" not in shown
    assert at.selectbox(key="hub_tz_pick").value == zone
    assert "tz" not in at.query_params  # the browser's own zone is not written into links


def test_home_search_box_opens_search_and_old_links_still_work(hub):
    at = open_page(new_session(lang="en"), lang="en")
    at.text_input(key="home_q").input("picket lines")
    at.button[[b.label for b in at.button].index("Search")].click().run()
    assert not at.exception
    assert at.query_params["q"] == "picket lines"
    assert "Dock strike, ten years on" in texts(at)  # Search's results, shown in place
    # Only the results: one search box (Search's, holding the words), no home sections.
    assert [w.key for w in at.text_input] == ["search_q"]
    assert at.text_input(key="search_q").value == "picket lines"
    assert "Latest recordings" not in texts(at)
    # Searching again from there moves the address along with the words.
    at.text_input(key="search_q").input("bar-benders")
    at.button[[b.label for b in at.button].index("Search")].click().run()
    assert at.query_params["q"] == "bar-benders"
    assert "Bar-benders' strike anniversary" in texts(at)
    # /?q=… (links from before the home page existed) and permalinks /?event=ID, /?item=ID.
    at = open_page(new_session(lang="en"), None, q="bar-benders", lang="en")
    assert "Bar-benders' strike anniversary" in texts(at)
    at = open_page(new_session(lang="zh"), None, event=hub.ids["dock"], lang="zh")
    assert [harness_shown(t.value) for t in at.title] == ["碼頭工人罷工：曼徹斯特場"]


def test_the_chosen_time_zone_is_kept_in_the_url_and_wins_over_the_browser(hub):
    at = open_page(
        new_session(lang="en", browser_tz="Europe/London"), None, lang="en", tz="Asia/Hong_Kong"
    )
    assert "03:00 Hong Kong Standard Time" in times_for(at, f"{Y}-07-11T03:00:00+08:00")
    at.selectbox(key="hub_tz_pick").set_value("America/Toronto").run()
    assert at.query_params["tz"] == "America/Toronto"
    card = times_for(at, f"{Y}-07-10T15:00:00-04:00")
    assert "15:00 Eastern Daylight Time" in card and "20:00 British Summer Time" in card
    # Links to other event pages keep the choice.
    event_links = [
        p.proto.query_string for p in at.get("page_link") if "event=" in p.proto.query_string
    ]
    assert event_links and all("tz=America%2FToronto" in q for q in event_links)
    # The same session elsewhere keeps it, even from a link without it.
    open_page(at, "upcoming", lang="en")
    assert at.query_params["tz"] == "America/Toronto"
    assert "15:00 Eastern Daylight Time" in times_for(at, f"{Y}-07-10T15:00:00-04:00")
    # Back to the browser's zone: nothing in the URL any more.
    at.selectbox(key="hub_tz_pick").set_value("Europe/London").run()
    assert "tz" not in at.query_params
    assert "20:00 British Summer Time" in times_for(at, f"{Y}-07-10T20:00:00+01:00")
    # A zone that does not exist is ignored, not an error.
    at = open_page(new_session(lang="en"), "upcoming", lang="en", tz="Mars/Olympus_Mons")
    assert "tz" not in at.query_params
    assert times_for(at, f"{Y}-07-10T20:00:00+01:00")


# -- Events (Upcoming) ---------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_upcoming_lists_every_status_past_events_and_subscriptions(hub, lang, downloads):
    at = open_page(new_session(lang=lang), "upcoming", lang=lang, tz="Asia/Hong_Kong")
    shown = texts(at)
    labels = {p.proto.label: p.proto.query_string for p in at.get("page_link")}
    cancelled = "~~取消了的講座~~" if lang == "zh" else "~~The cancelled talk~~"
    assert cancelled in labels  # listed, struck through
    assert ("已取消" if lang == "zh" else "Cancelled") in shown
    postponed = times_for(at, f"{Y}-08-12T19:00:00+08:00")
    assert ("已延期" if lang == "zh" else "Postponed") in postponed
    old = f"{Y}年8月5日" if lang == "zh" else f"5 Aug {Y}"
    assert old in postponed and "<s>" in postponed  # the old time, struck through
    # Past events: the one with a recording links to it.
    recording = "有錄音重溫" if lang == "zh" else "Recording available"
    assert recording in labels and f"event={hub.ids['past']}" in labels[recording]
    # Subscribe to the public programme.
    assert 'href="/feeds/events.ics"' in shown
    # Add to calendar: an .ics of each upcoming (not cancelled) event.
    keys = {b.proto.id for b in at.download_button}
    assert len(keys) == 2  # the dock talk and the postponed one
    data = downloads(at, f"upcoming_{hub.ids['dock']}_ics")
    calendar = icalendar.Calendar.from_ical(data)
    (vevent,) = calendar.walk("VEVENT")
    assert vevent.decoded("dtstart") == datetime(Y, 7, 10, 19, 0, tzinfo=UTC)
    assert "Dock strike: the Manchester talk" in str(vevent["summary"])
    assert str(vevent["conference"]) == PUBLIC_LINK
    for hidden in ("Members' briefing", "會員內部簡報", "Staff draft", "內部草稿"):
        assert hidden not in shown


def test_upcoming_filters_by_series_and_offers_its_feed(hub):
    at = open_page(new_session(lang="en"), "upcoming", lang="en", series="uk-tour")
    assert at.selectbox(key="upcoming_series").value == "uk-tour"
    shown = texts(at)
    assert 'href="/feeds/series/uk-tour/events.ics"' in shown
    assert "Dock strike: the Manchester talk" in shown
    assert "The postponed talk" not in shown  # in no series
    assert "Internal series" not in str(at.selectbox(key="upcoming_series").options)
    at.selectbox(key="upcoming_series").set_value(None).run()
    assert "series" not in at.query_params
    assert "The postponed talk" in texts(at)


# -- the event page ------------------------------------------------------------------------------------
def test_event_page_in_both_languages_and_two_time_zones(hub):
    dock = hub.ids["dock"]
    at = open_page(
        new_session(lang="zh", browser_tz="Asia/Hong_Kong"), "event", event=dock, lang="zh"
    )
    assert [harness_shown(t.value) for t in at.title] == ["碼頭工人罷工：曼徹斯特場"]
    shown = texts(at)
    assert "Dock strike: the Manchester talk" in shown  # the other language's title too
    assert "十年後回望葵涌罷工。" in shown and "Looking back at the Kwai Chung strike." in shown
    block = times_for(at, f"{Y}-07-11T03:00:00+08:00")
    assert (
        "上午3:00 [香港標準時間]" in block
        and "主辦方時間" in block
        and "下午8:00 [英國夏令時間]" in block
    )
    assert "粵語、英語" in shown and "李卓人" in shown and "網上" in shown
    assert "系列：英國巡迴講座" in shown
    assert link_urls(at) == [PUBLIC_LINK]  # a public event's link is public
    assert [b.label for b in at.download_button] == ["加入日曆"]
    assert any(f"?event={dock}" in c.value for c in at.code)  # its permalink

    at = open_page(
        new_session(lang="en", browser_tz="Europe/London"), "event", event=dock, lang="en"
    )
    block = times_for(at, f"{Y}-07-10T20:00:00+01:00")
    assert "20:00 British Summer Time" in block and "Organiser" not in block
    assert "Join online" in [b.label for b in at.get("link_button")]


def test_members_only_event_and_its_join_link_reach_members_only(hub):
    members = hub.ids["members"]
    public = open_page(new_session(lang="en"), "event", event=members, lang="en")
    assert [e.value for e in public.error] == [
        "We couldn't find that event. It may have been moved, or it isn't public."
    ]
    page = everything(public)
    assert MEMBERS_LINK not in page and "Members' briefing" not in page

    at = log_in(new_session(lang="en"), "mei", PASSWORD)
    open_page(at, "event", event=members, lang="en")
    assert [harness_shown(t.value) for t in at.title] == ["Members' briefing"]
    join, calendar = link_urls(at)
    assert join == MEMBERS_LINK
    shown = texts(at)
    assert "This link is for members only. Please don't share it." in shown
    assert "Members' event" in shown  # its badge
    # Its poster and its calendar file are not public: both come from the archive's own routes,
    # signed for this member and checked when fetched, never from Streamlit's /media/ (which
    # serves anyone holding the URL) nor the public feed route. What those routes serve, and to
    # whom, is checked over real HTTP in test_tokens_endpoints.py.
    page = everything(at)
    assert MEMBERS_LINK in page  # (what the public check above looks for)
    assert "/mock/media/" not in page and "imgs {" not in page
    assert "/files/poster/" in page and "/feeds/posters/" not in page
    assert calendar.startswith("/files/calendar/") and len(at.download_button) == 0
    # Members see it on the home page too; staff drafts stay hidden from them.
    open_page(at, None, lang="en")
    shown = texts(at)
    assert "Members' briefing" in shown and "Staff draft" not in shown


def test_cancelled_and_postponed_event_pages(hub):
    at = open_page(new_session(lang="zh"), "event", event=hub.ids["cancelled"], lang="zh")
    assert [harness_shown(t.value) for t in at.title] == ["~~取消了的講座~~"]
    assert "這項活動已取消。" in [e.value for e in at.error]
    assert link_urls(at) == [] and len(at.download_button) == 0  # no join link, no calendar
    assert "meet.example.org/cancelled" not in everything(at)

    at = open_page(
        new_session(lang="en"), "event", event=hub.ids["postponed"], lang="en", tz="Europe/London"
    )
    (warning,) = [w.value for w in at.warning]
    assert warning.startswith("This event has been postponed to ")
    assert f"12 Aug {Y}, 12:00 British Summer Time" in warning  # the new time, for this viewer
    assert f"5 Aug {Y}, 12:00 British Summer Time" in warning  # and the old one
    block = times_for(at, f"{Y}-08-12T12:00:00+01:00")
    assert "Organiser's time: " in block and f"12 Aug {Y}, 19:00 Hong Kong Standard Time" in block
    assert "Friends Meeting House, Manchester" in texts(at)


def test_event_with_its_recording_plays_it(hub):
    at = open_page(new_session(lang="en"), "event", event=hub.ids["past"], lang="en")
    players = [e for e in at.get("bidi_component") if e.proto.component_name == "hk_archive.player"]
    assert len(players) == 1
    data = json.loads(players[0].proto.json)
    assert data["src"].startswith("/files/media/") and data["cues_url"].startswith(
        "/files/transcript/"
    )
    links = {p.proto.label: p.proto.query_string for p in at.get("page_link")}
    assert f"item={hub.arch.ids['dock']}" in links["Transcript downloads and citation"]
    assert "Took place" in texts(at)
    assert len(at.download_button) == 0  # over: nothing to add to a calendar


def test_unknown_or_hidden_events_are_the_same_not_found(hub):
    for event_id in ("evnotthere", hub.ids["draft"]):
        at = open_page(new_session(lang="zh"), "event", event=event_id, lang="zh")
        assert [e.value for e in at.error] == ["找不到這項活動。它可能已被移動，或並非公開活動。"]


# -- series ------------------------------------------------------------------------------------------
def test_series_list_and_page(hub):
    at = open_page(new_session(lang="zh"), "series", lang="zh")
    labels = [p.proto.label for p in at.get("page_link")]
    assert "英國巡迴講座" in labels
    assert "內部系列" not in labels  # only a staff draft in it: not listed for the public
    assert "1 項即將舉行的活動 · 1 個錄音" in texts(at)

    at = open_page(
        new_session(lang="en"), "series", series="uk-tour", lang="en", tz="Asia/Hong_Kong"
    )
    assert [harness_shown(t.value) for t in at.title] == ["UK tour"]
    shown = texts(at)
    assert "Talks across the UK." in shown
    assert 'href="/feeds/series/uk-tour/events.ics"' in shown
    assert 'href="/feeds/series/uk-tour/podcast.xml"' in shown
    assert times_for(at, f"{Y}-07-11T03:00:00+08:00")  # its upcoming talk, in the viewer's zone
    items = [p.proto.query_string for p in at.get("page_link") if "item=" in p.proto.query_string]
    assert items == [f"item={hub.arch.ids['dock']}&lang=en"]  # the recording of its past talk

    at = open_page(new_session(lang="en"), "series", series="internal", lang="en")
    assert [e.value for e in at.error] == ["We couldn't find that series."]


# -- staff forms ------------------------------------------------------------------------------------
def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (179, 38, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def _fill(at: AppTest, prefix: str, **values) -> None:
    for name, value in values.items():
        key = f"{prefix}_{name}"
        if name in ("date",):
            at.date_input(key=key).set_value(value)
        elif name in ("time",):
            at.time_input(key=key).set_value(value)
        elif name in ("tz", "visibility", "series"):
            at.selectbox(key=key).set_value(value)
        elif name == "languages":
            at.multiselect(key=key).set_value(value)
        elif name == "place":
            at.radio(key=key).set_value(value)
        elif name == "minutes":
            at.number_input(key=key).set_value(value)
        elif name.startswith("description"):
            at.text_area(key=key).input(value)
        elif name == "poster":
            at.get("file_uploader")[0].upload(*value)
        else:
            at.text_input(key=key).input(value)


def _submit(at: AppTest, label: str) -> AppTest:
    at.button[[b.label for b in at.button].index(label)].click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _events_titled(hub, title_en: str):
    cat = Catalog.open(hub.arch.settings)
    try:
        return [e for e in list_events(cat, viewer=Viewer("staff")) if e.title_en == title_en]
    finally:
        cat.close()


def test_event_forms_are_for_staff_only(hub):
    for who in (None, "mei"):
        at = new_session(lang="en")
        if who:
            log_in(at, who, PASSWORD)
        open_page(at, "events_admin", lang="en")
        assert [e.value for e in at.error] == ["This page is for the archive's staff."]
        assert not at.text_input and not at.button
        open_page(at, "events_admin", event=hub.ids["dock"], lang="en")
        assert [e.value for e in at.error] == ["This page is for the archive's staff."]


def test_staff_announce_an_event_with_a_poster(hub):
    at = log_in(new_session(lang="en"), "staffer", PASSWORD)
    open_page(at, "upcoming", lang="en")
    assert "New event" in [p.proto.label for p in at.get("page_link")]
    open_page(at, "events_admin", lang="en")
    _fill(
        at,
        "new",
        title_zh="最低工資講座",
        title_en="Minimum wage talk",
        description_en="What a living wage means.",
        date=date(Y, 7, 20),
        time=time(20, 0),
        tz="Europe/London",
        minutes=60,
        languages=["yue"],
        speakers="蒙兆達, Mung Siu-tat",
        series="uk-tour",
        visibility="public",
        join="https://meet.example.org/min-wage",
        poster=("poster.png", _png(), "image/png"),
    )
    _submit(at, "Announce the event")
    (event,) = _events_titled(hub, "Minimum wage talk")
    assert at.query_params["event"] == event.id  # now on its management page
    assert "The event is announced." in [s.value for s in at.success]
    assert event.start == datetime(Y, 7, 20, 19, 0, tzinfo=UTC) and event.tz == "Europe/London"
    assert event.speakers == ("蒙兆達", "Mung Siu-tat") and event.series_id == "uk-tour"
    assert event.languages == ("yue",) and event.poster_mime == "image/png"
    # Its public page shows the poster from the archive's own feed route.
    open_page(at, "event", event=event.id, lang="zh", tz="Asia/Hong_Kong")
    assert f'src="/feeds/posters/{event.id}"' in texts(at)
    assert "上午3:00 [香港標準時間]" in times_for(at, f"{Y}-07-21T03:00:00+08:00")


def test_staff_form_problems_are_plain_sentences_and_a_repeated_hour_is_asked(hub):
    at = log_in(new_session(lang="zh"), "staffer", PASSWORD, lang="zh")
    open_page(at, "events_admin", lang="zh")
    # The clocks go forward at 01:00 on the last Sunday of March: 01:30 does not exist.
    march = max(date(Y, 3, d) for d in range(25, 32) if date(Y, 3, d).weekday() == 6)
    _fill(
        at,
        "new",
        title_en="Clock test",
        date=march,
        time=time(1, 30),
        tz="Europe/London",
        join="javascript:alert(1)",
    )
    _submit(at, "公布活動")
    errors = [e.value for e in at.error]
    assert (
        f"Europe/London 沒有 {march:%Y-%m-%d} 01:30 這個時間：當時時鐘撥快。請選擇另一個時間。"
        in errors
    )
    assert "參加連結必須是以 https:// 或 http:// 開頭的完整網址。" in errors
    assert not _events_titled(hub, "Clock test")

    # The clocks go back at 02:00 on the last Sunday of October: 01:30 happens twice.
    october = max(date(Y, 10, d) for d in range(25, 32) if date(Y, 10, d).weekday() == 6)
    _fill(at, "new", date=october, join="https://meet.example.org/clock")
    _submit(at, "公布活動")
    assert not _events_titled(hub, "Clock test")  # nothing guessed
    (warning,) = [w.value for w in at.warning]
    assert "會出現兩次" in warning
    options = at.radio(key="admin_fold").options
    assert "英國夏令時間" in options[0] and "格林威治標準時間" in options[1]
    at.radio(key="admin_fold").set_value(1)
    _submit(at, "以此時間儲存")
    (event,) = _events_titled(hub, "Clock test")
    assert event.start == datetime(october.year, 10, october.day, 1, 30, tzinfo=UTC)  # the second
    assert "活動已公布。" in [s.value for s in at.success]


def test_staff_edit_postpone_cancel_and_attach_a_recording(hub):
    cat = Catalog.open(hub.arch.settings)
    event = create_event(
        hub.arch.settings,
        cat,
        title_en="Lifecycle talk",
        start=f"{Y}-09-01 19:00",
        tz="Europe/London",
        duration_minutes=60,
        visibility="public",
    )
    cat.close()
    at = log_in(new_session(lang="en"), "staffer", PASSWORD)
    open_page(at, "events_admin", event=event.id, lang="en")
    prefix = f"edit_{event.id}_{event.sequence}"
    _fill(at, prefix, title_zh="生命周期講座", place="in-person", city="Leeds", venue="Union Hall")
    _submit(at, "Save changes")
    assert "The event is saved." in [s.value for s in at.success]
    cat = Catalog.open(hub.arch.settings)
    edited = get_event(cat, event.id)
    assert edited.title_zh == "生命周期講座" and edited.place == "Union Hall, Leeds"
    assert edited.start == event.start  # the time was not touched

    # Postpone: an earlier time is refused in words; a later one works.
    at.date_input(key=f"postpone_date_{edited.sequence}").set_value(date(Y, 8, 1))
    _submit(at, "Postpone the event")
    assert any("must move to a later time" in e.value for e in at.error)
    at.date_input(key=f"postpone_date_{edited.sequence}").set_value(date(Y, 9, 8))
    _submit(at, "Postpone the event")
    moved = get_event(cat, event.id)
    assert moved.status == "postponed" and moved.start == datetime(Y, 9, 8, 18, 0, tzinfo=UTC)

    # Attach the recording link: queued for the worker, never run here.
    open_page(at, "events_admin", event=event.id, lang="en")
    at.text_input(key="attach_url").input("/etc/passwd")
    _submit(at, "Archive the recording")
    assert any("must be a full web address" in e.value for e in at.error)
    at.text_input(key="attach_url").input("https://media.example.org/talk.mp3")
    _submit(at, "Archive the recording")
    jobs = [
        r
        for r in cat.conn.execute("SELECT id, state, payload FROM jobs WHERE kind = 'ingest'")
        if event.id in r["payload"]
    ]
    assert len(jobs) == 1 and jobs[0]["state"] == "queued"
    assert any("queued for archiving" in s.value for s in at.success)
    assert any("being archived" in i.value for i in at.info)

    # Cancel needs the tick first.
    cancel = [b for b in at.button if b.label == "Cancel the event"][0]
    assert cancel.disabled
    at.checkbox(key=f"cancel_confirm_{event.id}").check().run()
    _submit(at, "Cancel the event")
    assert get_event(cat, event.id).status == "cancelled"
    assert "The event is cancelled." in [s.value for s in at.success]
    cat.close()
