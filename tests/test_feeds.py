"""Feeds, read back by real consumers: ``icalendar`` for the .ics, ``feedparser`` (and lxml, for the
repeated Podcasting 2.0 tags feedparser keeps only one of) for RSS, Atom and the podcast; the HTTP
routes over a real socket (uvicorn), with enclosure lengths checked against the bytes served.

One archive is built for the module with the real ingest path (ffmpeg-cut clips of a real
recording, bilingual subtitle files as transcripts, no speech model): public items, a members-only
and a staff-only one, two embargoed ones, a redacted sentence, chapters, and events of every
visibility and status.
"""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

import feedparser
import pytest
from conftest import ffmpeg
from icalendar import Calendar
from lxml import etree
from portal_data import in_process

from archive.catalog.db import Catalog
from archive.core.config import load_settings
from archive.core.errors import InputError
from archive.hub.events import (
    cancel_event,
    create_event,
    get_event,
    hold_event,
    postpone_event,
    update_event,
)
from archive.hub.feeds import (
    PODCAST_NS,
    event_ics,
    events_calendar,
    feed_base_url,
    podcast_feed,
    public_audio,
    rss_feed,
    transcript_text,
)
from archive.hub.series import create_series

BASE = "https://archive.example.org"
BILINGUAL_SRT = """1
00:00:00,500 --> 00:00:03,000
歡迎大家參加碼頭工人罷工十周年講座。
Welcome to the dock strike anniversary talk.

2
00:00:03,500 --> 00:00:06,000
線人的名字是陳大文。
The informant's name is Chan Tai-man.

3
00:00:06,500 --> 00:00:10,000
工人團結起來爭取權益。
Workers stood together for their rights.
"""
ENGLISH_SRT = """1
00:00:00,000 --> 00:00:04,000
Organising in the diaspora.

2
00:00:04,000 --> 00:00:08,000
Solidarity across borders.
"""
SECRET_JOIN = "https://example.org/members-room-7f3a"
STAFF_JOIN = "https://example.org/staff-room-91c2"


@dataclass(frozen=True)
class Built:
    settings: object
    catalog: Catalog
    items: dict[str, str]  # label -> item id
    events: dict[str, str]  # label -> event id
    private_markers: tuple[str, ...]  # strings that must never be in a public feed


def _ingest(settings, catalog, clip: Path, subtitles: Path | None, **values) -> str:
    from archive.ingest.intake import IngestOptions, ingest

    options = IngestOptions(
        transcribe=False, subtitles=str(subtitles) if subtitles else None, **values
    )
    return ingest(settings, catalog, str(clip), options).item.id


@pytest.fixture(scope="module")
def built(tmp_path_factory, fixtures_dir) -> Iterator[Built]:
    from archive.workspace.visibility import redact_segment

    root = tmp_path_factory.mktemp("feeds")
    settings = load_settings(root / "home").ensure()
    catalog = Catalog.open(settings)
    bilingual = root / "talk.srt"
    bilingual.write_text(BILINGUAL_SRT, encoding="utf-8")
    english = root / "english.srt"
    english.write_text(ENGLISH_SRT, encoding="utf-8")
    clips = {}
    for seconds in (4, 5, 6, 7, 8, 9):  # different lengths: different bytes, so no dedupe
        clips[seconds] = root / f"clip{seconds}.flac"
        ffmpeg("-i", str(fixtures_dir / "en/jfk.flac"), "-t", str(seconds), str(clips[seconds]))
    create_series(catalog, "uk-tour", title_zh="英國巡迴講座", title_en="UK talk tour")
    create_series(catalog, "voices", title_zh="海外工會人訪談", title_en="Diaspora voices")
    items = {
        "public": _ingest(
            settings,
            catalog,
            clips[4],
            bilingual,
            title_zh="碼頭工人罷工十周年",
            title_en="Dock strike, ten years on",
            description_zh="講座錄音。",
            description_en="Recording of the talk.",
            collection="webinar",
            date="2026-07-10",
            speakers=("Lee Cheuk-yan",),
            visibility="public",
        ),
        "english": _ingest(
            settings,
            catalog,
            clips[5],
            english,
            title_en="Organising in the diaspora",
            collection="interview",
            date="2026-06-01",
            visibility="public",
        ),
        "members": _ingest(
            settings,
            catalog,
            clips[6],
            bilingual,
            title_en="Members-only debrief 4d1e",
            collection="webinar",
            date="2026-07-11",
            visibility="members",
        ),
        "staff": _ingest(
            settings,
            catalog,
            clips[7],
            bilingual,
            title_en="Staff raw footage 8b2c",
            collection="webinar",
            date="2026-07-12",
            visibility="staff",
        ),
        "embargoed": _ingest(
            settings,
            catalog,
            clips[8],
            english,
            title_en="Embargoed until 2099 5e6f",
            collection="webinar",
            date="2026-07-13",
            visibility="staff",
        ),
        "released": _ingest(
            settings,
            catalog,
            clips[9],
            english,
            title_en="Embargo ended",
            collection="webinar",
            date="2020-05-01",
            visibility="staff",
        ),
    }
    for label in ("public", "members", "staff"):
        catalog.update_item(items[label], series_id="uk-tour")
    catalog.update_item(items["embargoed"], embargo_until="2099-01-01", embargo_visibility="public")
    catalog.update_item(items["released"], embargo_until="2021-01-01", embargo_visibility="public")
    catalog.update_item(
        items["public"],
        chapters=[
            {"start": 0.0, "end": 3.0, "title": "開場 Opening"},
            {"start": 3.0, "end": 4.0, "title": "Questions"},
        ],
    )
    revision = catalog.get_revision(items["public"])
    informant = next(s for s in revision.segments if "Chan Tai-man" in s.text_en)
    redact_segment(
        catalog,
        settings,
        items["public"],
        uid=informant.uid,
        actor="editor",
        reason="protect a source",
    )

    poster = root / "poster.png"
    from PIL import Image

    Image.new("RGB", (4, 4), (10, 120, 200)).save(poster, format="PNG")
    common = {"tz": "Europe/London", "duration_minutes": 90}
    events = {
        "public": create_event(
            settings,
            catalog,
            title_zh="英國巡迴：曼徹斯特",
            title_en="UK tour: Manchester",
            start="2026-07-10 20:00",
            series_id="uk-tour",
            visibility="public",
            join_url="https://example.org/register",
            poster=poster,
            **common,
        ).id,
        "postponed": create_event(
            settings,
            catalog,
            title_en="Anniversary forum",
            start="2026-06-04 19:00",
            visibility="public",
            **common,
        ).id,
        "cancelled": create_event(
            settings,
            catalog,
            title_en="Cancelled talk",
            start="2026-09-01 19:00",
            visibility="public",
            join_url="https://example.org/cancelled-room",
            **common,
        ).id,
        "members": create_event(
            settings,
            catalog,
            title_en="Members' assembly 3c4d",
            start="2026-08-01 19:00",
            visibility="members",
            join_url=SECRET_JOIN,
            series_id="uk-tour",
            poster=poster,
            **common,
        ).id,
        "staff": create_event(
            settings,
            catalog,
            title_en="Staff planning 7a8b",
            start="2026-08-02 19:00",
            visibility="staff",
            join_url=STAFF_JOIN,
            series_id="uk-tour",
            **common,
        ).id,
    }
    postpone_event(catalog, events["postponed"], "2026-06-11 19:00")
    cancel_event(catalog, events["cancelled"])
    markers = (
        items["members"],
        items["staff"],
        items["embargoed"],
        "4d1e",
        "8b2c",
        "5e6f",
        events["members"],
        events["staff"],
        "3c4d",
        "7a8b",
        SECRET_JOIN,
        STAFF_JOIN,
        get_event(catalog, events["members"]).uid,
        get_event(catalog, events["staff"]).uid,
    )
    yield Built(settings, catalog, items, events, markers)
    catalog.close()


def _xml(data: bytes) -> etree._Element:
    return etree.fromstring(data)


def _entry_guid(item_id: str) -> str:
    return f"hk-labour-archive:item:{item_id}"


# -- iCalendar -------------------------------------------------------------------------------------


def _vevents(data: bytes) -> dict[str, object]:
    cal = Calendar.from_ical(data)
    return {str(ev.get("uid")): ev for ev in cal.walk("VEVENT")}


@pytest.mark.parametrize(
    ("start", "tz", "fold", "minutes", "utc_start", "utc_end"),
    [
        ("2026-07-10 20:00", "Europe/London", None, 90, "2026-07-10 19:00", "2026-07-10 20:30"),
        ("2026-01-15 20:00", "Europe/London", None, 60, "2026-01-15 20:00", "2026-01-15 21:00"),
        ("2026-07-10 20:00", "Asia/Hong_Kong", None, 60, "2026-07-10 12:00", "2026-07-10 13:00"),
        ("2026-07-10 15:00", "America/Toronto", None, 60, "2026-07-10 19:00", "2026-07-10 20:00"),
        # Across the spring-forward night: two real hours.
        ("2026-03-29 00:30", "Europe/London", None, 120, "2026-03-29 00:30", "2026-03-29 02:30"),
        # The repeated hour: the second 01:30 (GMT) must not come back as the first (BST).
        ("2026-10-25 01:30", "Europe/London", 1, 30, "2026-10-25 01:30", "2026-10-25 02:00"),
        ("2026-10-25 01:30", "Europe/London", 0, 30, "2026-10-25 00:30", "2026-10-25 01:00"),
        ("2026-11-01 01:30", "America/Toronto", 1, 45, "2026-11-01 06:30", "2026-11-01 07:15"),
    ],
)
def test_calendar_times_survive_the_round_trip(
    settings, catalog, start, tz, fold, minutes, utc_start, utc_end
):
    from datetime import UTC, datetime

    event = create_event(
        settings,
        catalog,
        title_en="Talk",
        start=start,
        tz=tz,
        fold=fold,
        duration_minutes=minutes,
        visibility="public",
    )
    for data in (
        events_calendar(settings, catalog, base_url=BASE),
        event_ics(event, base_url=BASE),
    ):
        vevent = _vevents(data)[event.uid]
        begin, end = vevent.decoded("dtstart"), vevent.decoded("dtend")
        assert begin == datetime.fromisoformat(utc_start).replace(tzinfo=UTC)
        assert end == datetime.fromisoformat(utc_end).replace(tzinfo=UTC)
        assert end - begin == timedelta(minutes=minutes)
        assert tz in str(vevent.get("description"))  # the organiser's zone is named


def test_uid_is_stable_and_sequence_rises_on_every_change(settings, catalog):
    event = create_event(
        settings,
        catalog,
        title_zh="講座",
        title_en="Talk",
        start="2026-07-10 20:00",
        tz="Europe/London",
        duration_minutes=60,
        visibility="public",
        join_url="https://example.org/join",
    )
    seen = []

    def snapshot():
        vevent = _vevents(events_calendar(settings, catalog, base_url=BASE))[event.uid]
        seen.append(int(vevent.get("sequence")))
        return vevent

    first = snapshot()
    assert str(first.get("status")) == "CONFIRMED" and str(first.get("summary")) == "講座 | Talk"
    assert str(first.get("url")) == f"{BASE}/?event={event.id}"
    assert "https://example.org/join" in str(first.get("description"))
    update_event(settings, catalog, event.id, title_en="Talk (new title)")
    assert str(snapshot().get("summary")) == "講座 | Talk (new title)"
    moved = postpone_event(catalog, event.id, "2026-07-17 20:00")
    after = snapshot()
    assert after.decoded("dtstart") == moved.start
    assert "Postponed from: Fri, 10 Jul 2026, 20:00 British Summer Time" in str(
        after.get("description")
    )
    cancel_event(catalog, event.id)
    cancelled = snapshot()
    assert str(cancelled.get("status")) == "CANCELLED"
    assert "https://example.org/join" not in str(cancelled.get("description"))  # nothing to join
    assert seen == [0, 1, 2, 3] and moved.uid == event.uid
    assert list(_vevents(events_calendar(settings, catalog, base_url=BASE))) == [event.uid]


def test_the_same_data_gives_the_same_bytes(settings, catalog):
    create_event(
        settings,
        catalog,
        title_en="Talk",
        start="2026-07-10 20:00",
        tz="Europe/London",
        duration_minutes=60,
        visibility="public",
    )
    first = events_calendar(settings, catalog, base_url=BASE)
    assert events_calendar(settings, catalog, base_url=BASE) == first


def test_held_events_stay_in_the_calendar(settings, catalog):
    event = create_event(
        settings,
        catalog,
        title_en="Talk",
        start="2026-07-10 20:00",
        tz="Europe/London",
        duration_minutes=60,
        visibility="public",
    )
    hold_event(catalog, event.id)
    vevent = _vevents(events_calendar(settings, catalog, base_url=BASE))[event.uid]
    assert str(vevent.get("status")) == "CONFIRMED" and int(vevent.get("sequence")) == 1


def test_calendar_feeds_hold_public_events_only(built):
    for series_id in (None, "uk-tour"):
        data = events_calendar(built.settings, built.catalog, base_url=BASE, series_id=series_id)
        text = data.decode("utf-8")
        for marker in built.private_markers:
            assert marker not in text
        uids = set(_vevents(data))
        public = get_event(built.catalog, built.events["public"]).uid
        assert public in uids
    all_uids = set(_vevents(events_calendar(built.settings, built.catalog, base_url=BASE)))
    series_uids = set(
        _vevents(events_calendar(built.settings, built.catalog, base_url=BASE, series_id="uk-tour"))
    )
    assert all_uids == {
        get_event(built.catalog, built.events[k]).uid for k in ("public", "postponed", "cancelled")
    }
    assert series_uids == {get_event(built.catalog, built.events["public"]).uid}
    cancelled = _vevents(events_calendar(built.settings, built.catalog, base_url=BASE))[
        get_event(built.catalog, built.events["cancelled"]).uid
    ]
    assert str(cancelled.get("status")) == "CANCELLED"
    with pytest.raises(InputError, match="no series"):
        events_calendar(built.settings, built.catalog, base_url=BASE, series_id="nope")


def test_a_members_event_ics_carries_its_join_link_for_the_member_who_downloads_it(built):
    # The portal gives a member the .ics of an event it read for that member.
    from archive.catalog.access import Viewer
    from archive.hub.events import visible_event

    event = visible_event(built.catalog, built.events["members"], Viewer("members"))
    vevent = _vevents(event_ics(event, base_url=BASE))[event.uid]
    assert SECRET_JOIN in str(vevent.get("description"))
    assert str(vevent.get("class")) == "PRIVATE"


# -- podcasts, RSS, Atom -----------------------------------------------------------------------------


def _transcript_links(data: bytes) -> dict[str, list[tuple[str, str, str]]]:
    """guid -> [(url, type, language)] of every podcast:transcript (lxml: all of them)."""
    out = {}
    for item in _xml(data).iter("item"):
        guid = item.findtext("guid")
        out[guid] = [
            (t.get("url"), t.get("type"), t.get("language"))
            for t in item.findall(f"{{{PODCAST_NS}}}transcript")
        ]
    return out


def test_the_podcast_as_a_podcast_app_reads_it(built):
    data = podcast_feed(built.settings, built.catalog, base_url=BASE)
    feed = feedparser.parse(data)
    assert not feed.bozo, feed.get("bozo_exception")
    public, english, released = (built.items[k] for k in ("public", "english", "released"))
    assert [e.id for e in feed.entries] == [_entry_guid(i) for i in (public, english, released)]
    entry = feed.entries[0]
    assert entry.title == "碼頭工人罷工十周年 | Dock strike, ten years on"
    assert "講座錄音。" in entry.summary and "Recording of the talk." in entry.summary
    assert "Lee Cheuk-yan" in entry.summary
    assert entry.link == f"{BASE}/?item={public}"
    (enclosure,) = entry.enclosures
    path, mime = public_audio(built.settings, built.catalog, public)
    assert enclosure.href == f"{BASE}/feeds/media/{public}.m4a"
    assert int(enclosure.length) == path.stat().st_size and enclosure.type == mime == "audio/mp4"
    assert entry.itunes_duration == "00:00:04"
    assert entry.podcast_transcript["url"].startswith(f"{BASE}/feeds/transcripts/{public}.")
    assert entry.podcast_chapters == {
        "url": f"{BASE}/feeds/chapters/{public}.json",
        "type": "application/json+chapters",
    }
    links = _transcript_links(data)
    assert sorted(links[_entry_guid(public)]) == sorted(
        (f"{BASE}/feeds/transcripts/{public}.{track}.{fmt}", kind, lang)
        for track, lang in (("zh", "zh-Hant"), ("en", "en"))
        for fmt, kind in (("vtt", "text/vtt"), ("srt", "application/x-subrip"))
    )
    # An English-only transcript is offered in English only; no chapters, no chapters tag.
    assert {lang for _u, _t, lang in links[_entry_guid(english)]} == {"en"}
    assert "podcast_chapters" not in feed.entries[1]
    assert feed.feed.title.endswith("Hong Kong Labour Rights Archive")
    assert podcast_feed(built.settings, built.catalog, base_url=BASE) == data  # stable bytes


@pytest.mark.parametrize(
    ("collection", "series_id", "expected"),
    [
        ("webinar", None, ("public", "released")),
        ("interview", None, ("english",)),
        ("strike-anniversary", None, ()),
        (None, "uk-tour", ("public",)),
    ],
)
def test_podcasts_per_collection_and_series(built, collection, series_id, expected):
    data = podcast_feed(
        built.settings, built.catalog, base_url=BASE, collection=collection, series_id=series_id
    )
    feed = feedparser.parse(data)
    assert not feed.bozo
    assert [e.id for e in feed.entries] == [_entry_guid(built.items[k]) for k in expected]
    if series_id == "uk-tour":
        assert feed.feed.title.startswith("英國巡迴講座 | UK talk tour")


def test_a_series_with_nothing_public_is_no_feed(built):
    # "voices" holds nothing public: its podcast and calendar are the error of an unknown id, with
    # neither its title nor its description (this was an empty podcast under the series' title).
    for series_id in ("voices", "nope"):
        with pytest.raises(InputError, match=f"^no series '{series_id}'"):
            podcast_feed(built.settings, built.catalog, base_url=BASE, series_id=series_id)
        with pytest.raises(InputError, match=f"^no series '{series_id}'"):
            events_calendar(built.settings, built.catalog, base_url=BASE, series_id=series_id)


@pytest.mark.parametrize("atom", [False, True])
def test_rss_and_atom(built, atom):
    data = rss_feed(built.settings, built.catalog, base_url=BASE, atom=atom)
    feed = feedparser.parse(data)
    assert not feed.bozo and feed.version == ("atom10" if atom else "rss20")
    assert {e.link for e in feed.entries} == {
        f"{BASE}/?item={built.items[k]}" for k in ("public", "english", "released")
    }


FEEDS = [
    ("podcast", {}),
    ("podcast", {"collection": "webinar"}),
    ("podcast", {"series_id": "uk-tour"}),
    ("rss", {}),
    ("rss", {"series_id": "uk-tour"}),
    ("atom", {}),
    ("ics", {}),
    ("ics", {"series_id": "uk-tour"}),
]


def _build(built, kind: str, options: dict) -> bytes:
    if kind == "podcast":
        return podcast_feed(built.settings, built.catalog, base_url=BASE, **options)
    if kind == "ics":
        return events_calendar(built.settings, built.catalog, base_url=BASE, **options)
    return rss_feed(built.settings, built.catalog, base_url=BASE, atom=kind == "atom", **options)


@pytest.mark.parametrize(("kind", "options"), FEEDS, ids=lambda v: str(v))
def test_nothing_above_public_is_in_any_feed(built, kind, options):
    text = _build(built, kind, options).decode("utf-8")
    for marker in built.private_markers:
        assert marker not in text
    assert "陳大文" not in text and "Chan Tai-man" not in text


@pytest.mark.parametrize(
    ("kind", "options"), [f for f in FEEDS if f[0] != "ics"], ids=lambda v: str(v)
)
def test_every_link_in_a_feed_is_on_the_archives_own_host(built, kind, options):
    root = _xml(_build(built, kind, options))
    urls = [v for el in root.iter() for k, v in el.attrib.items() if k in ("url", "href")]
    urls += [
        el.text
        for el in root.iter()
        if isinstance(el.tag, str) and etree.QName(el).localname == "link" and el.text
    ]
    assert urls
    for url in urls:
        assert url.startswith(BASE + "/"), url


def test_feed_transcripts_leave_redacted_sentences_out(built):
    public = built.items["public"]
    zh = transcript_text(built.catalog, public, "zh", "vtt")
    en = transcript_text(built.catalog, public, "en", "srt")
    assert zh.startswith("WEBVTT") and "歡迎大家參加碼頭工人罷工十週年講座。" in zh
    assert "Workers stood together for their rights." in en
    assert "陳大文" not in zh and "Chan Tai-man" not in en
    assert en.count("-->") == 2  # the redacted cue is gone, not blanked
    assert transcript_text(built.catalog, built.items["members"], "en", "vtt") is None
    assert transcript_text(built.catalog, built.items["english"], "zh", "vtt") is None


def test_base_url(built):
    settings = replace(built.settings, public_url="https://archive.example.net")
    assert feed_base_url(settings) == "https://archive.example.net"
    assert feed_base_url(settings, "http://127.0.0.1:8501/") == "http://127.0.0.1:8501"
    for bad in ("javascript:alert(1)", "archive.example.org", "https://x.org/?a=1", "ftp://x.org"):
        with pytest.raises(InputError, match="base URL"):
            feed_base_url(settings, bad)
    with pytest.raises(InputError, match="ARCHIVE_PUBLIC_URL"):
        feed_base_url(replace(built.settings, public_url=None))


# -- over HTTP -----------------------------------------------------------------------------------------


def fetch(url: str, *, method: str = "GET", headers: dict[str, str] | None = None):
    """(status, headers, body) of a real HTTP request; errors are answers too."""
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


@pytest.fixture(scope="module")
def server(built) -> Iterator[str]:
    from starlette.applications import Starlette

    from archive.portal.routes.feeds import feed_routes

    with in_process(Starlette(routes=feed_routes(built.settings))) as base:
        yield base


def test_enclosures_and_transcripts_are_the_files_served(built, server):
    status, headers, body = fetch(server + "/feeds/podcast.xml")
    assert status == 200 and headers["Content-Type"] == "application/rss+xml; charset=utf-8"
    feed = feedparser.parse(body)
    assert not feed.bozo and len(feed.entries) == 3
    for entry in feed.entries:
        (enclosure,) = entry.enclosures
        assert enclosure.href.startswith(server + "/feeds/media/")
        status, headers, audio = fetch(enclosure.href)
        assert status == 200 and headers["Content-Type"] == enclosure.type == "audio/mp4"
        assert len(audio) == int(enclosure.length) == int(headers["Content-Length"])
    links = _transcript_links(body)
    assert sum(len(v) for v in links.values()) == 4 + 2 + 2
    for urls in links.values():
        for url, kind, _lang in urls:
            status, headers, text = fetch(url)
            assert status == 200 and headers["Content-Type"].startswith(kind)
            assert headers["Access-Control-Allow-Origin"] == "*"
            assert b"Chan Tai-man" not in text and "陳大文".encode() not in text
            assert text.startswith(b"WEBVTT") if kind == "text/vtt" else text.startswith(b"1\n")
    public = built.items["public"]
    status, headers, chapters = fetch(f"{server}/feeds/chapters/{public}.json")
    assert status == 200 and headers["Content-Type"].startswith("application/json+chapters")
    assert json.loads(chapters) == {
        "version": "1.2.0",
        "chapters": [
            {"startTime": 0.0, "endTime": 3.0, "title": "開場 Opening"},
            {"startTime": 3.0, "endTime": 4.0, "title": "Questions"},
        ],
    }


ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"


def _channel_images(data: bytes) -> tuple[str, str]:
    """(RSS <image><url>, <itunes:image href>) of a feed's channel."""
    channel = _xml(data).find("channel")
    return channel.findtext("image/url"), channel.find(f"{{{ITUNES_NS}}}image").get("href")


def test_podcast_cover_art_is_served_by_the_archive_itself(built, server):
    from urllib.parse import urlsplit

    from PIL import Image

    for path in (
        "/feeds/podcast.xml",
        "/feeds/podcast/webinar.xml",
        "/feeds/series/uk-tour/podcast.xml",
    ):
        status, _headers, body = fetch(server + path)
        assert status == 200
        rss_image, itunes_image = _channel_images(body)
        assert rss_image == itunes_image, path
        assert urlsplit(itunes_image).netloc == urlsplit(server).netloc
        assert urlsplit(itunes_image).path.endswith(".png")  # or podcast apps ignore it
    status, headers, image = fetch(itunes_image)
    assert status == 200 and headers["Content-Type"] == "image/png"
    assert "immutable" in headers["Cache-Control"] and headers["ETag"]
    with Image.open(io.BytesIO(image)) as cover:  # what Apple Podcasts asks of cover art
        assert cover.format == "PNG" and cover.mode == "RGB" and cover.size == (1400, 1400)
    status, headers, nothing = fetch(itunes_image, method="HEAD")  # Apple checks with HEAD
    assert status == 200 and nothing == b"" and headers["Content-Type"] == "image/png"
    # A name from before the logo changed still gets a logo, but is not kept for long.
    status, headers, _ = fetch(server + "/feeds/logo-0123456789ab.png")
    assert status == 200 and headers["Cache-Control"] == "public, max-age=86400"
    assert fetch(server + "/feeds/logo-..%2Fcatalog.png")[0] == 404


def test_public_audio_is_the_silenced_rendition(built, server):
    public = built.items["public"]
    original = built.settings.home / built.catalog.get_media(public, "audio").path
    status, _headers, served = fetch(f"{server}/feeds/media/{public}.m4a")
    assert status == 200 and served != original.read_bytes()
    status, headers, part = fetch(
        f"{server}/feeds/media/{public}.m4a", headers={"Range": "bytes=0-99"}
    )
    assert status == 206 and part == served[:100]
    assert headers["Content-Range"] == f"bytes 0-99/{len(served)}"


def test_conditional_requests_and_head(built, server):
    for path in ("/feeds/events.ics", "/feeds/podcast.xml", "/feeds/rss.xml", "/feeds/atom.xml"):
        status, headers, body = fetch(server + path)
        assert status == 200 and headers["Cache-Control"] == "no-cache" and body
        etag = headers["ETag"]
        status, _h, again = fetch(server + path, headers={"If-None-Match": etag})
        assert status == 304 and again == b""
        status, headers, nothing = fetch(server + path, method="HEAD")
        assert status == 200 and nothing == b"" and headers["ETag"] == etag


def test_one_events_ics_and_poster(built, server):
    event = get_event(built.catalog, built.events["public"])
    status, headers, body = fetch(f"{server}/feeds/events/{event.id}.ics")
    assert status == 200 and headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert headers["Content-Disposition"] == f'attachment; filename="{event.id}.ics"'
    assert list(_vevents(body)) == [event.uid]
    status, headers, calendar = fetch(f"{server}/feeds/series/uk-tour/events.ics")
    assert status == 200 and list(_vevents(calendar)) == [event.uid]
    status, headers, image = fetch(f"{server}/feeds/posters/{event.id}")
    assert status == 200 and headers["Content-Type"] == "image/png"
    assert image == (built.settings.home / event.poster_path).read_bytes()


def test_not_public_is_not_found(built, server):
    items, events = built.items, built.events
    paths = [
        *(f"/feeds/media/{items[k]}.m4a" for k in ("members", "staff", "embargoed")),
        *(f"/feeds/transcripts/{items[k]}.en.vtt" for k in ("members", "staff", "embargoed")),
        *(f"/feeds/chapters/{items[k]}.json" for k in ("members", "staff", "english")),
        *(f"/feeds/events/{events[k]}.ics" for k in ("members", "staff")),
        f"/feeds/posters/{events['members']}",
        f"/feeds/posters/{events['postponed']}",  # public, but has no poster
        "/feeds/media/nosuchitem.m4a",
        f"/feeds/transcripts/{items['public']}.fr.vtt",
        f"/feeds/transcripts/{items['public']}.en.txt",
        f"/feeds/transcripts/{items['english']}.zh.srt",
        "/feeds/media/..catalog.sqlite.m4a",
        "/feeds/series/nope/podcast.xml",
        "/feeds/series/nope/events.ics",
        "/feeds/podcast/music.xml",
    ]
    for path in paths:
        status, headers, body = fetch(server + path)
        assert (status, body) == (404, b"Not found"), path
        assert headers["Cache-Control"] == "no-cache"
    # A path that climbs out matches no route at all (the portal's own 404 then).
    status, _headers, body = fetch(server + "/feeds/media/..%2F..%2Fcatalog.sqlite.m4a")
    assert status == 404 and b"SQLite" not in body


def test_links_use_archive_public_url(built):
    from starlette.applications import Starlette

    from archive.portal.routes.feeds import feed_routes

    settings = replace(built.settings, public_url="https://archive.example.net")
    with in_process(Starlette(routes=feed_routes(settings))) as base:
        status, _headers, body = fetch(base + "/feeds/podcast/webinar.xml")
    assert status == 200
    hrefs = [e.enclosures[0].href for e in feedparser.parse(body).entries]
    assert hrefs and all(h.startswith("https://archive.example.net/feeds/media/") for h in hrefs)
    assert all(
        url.startswith("https://archive.example.net/feeds/logo-") for url in _channel_images(body)
    )
