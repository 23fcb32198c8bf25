"""The hub's command line as staff meet it (``archive event|series|feed``), in a real subprocess:
JSON output, one-line errors that leave nothing written, feed files, and the whole lifecycle of a
talk from announcement to podcast episode with the real speech model and search index."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import urllib.request
from pathlib import Path

import feedparser
import pytest
from conftest import run_cli
from icalendar import Calendar
from portal_data import in_process

BASE = "https://archive.example.org"
ADD = ["event", "add", "--title-zh", "碼頭工人罷工十周年", "--title-en", "Dock strike, ten years on",
       "--duration", "90"]  # fmt: skip


def _ok(home: Path, *args: str, env: dict[str, str] | None = None):
    result = run_cli(home, *args, env=env)
    assert result.returncode == 0, result.stderr
    return result


def _json(home: Path, *args: str):
    return json.loads(_ok(home, *args).stdout)


def _rows(home: Path, sql: str) -> list[tuple]:
    path = home / "catalog.sqlite"
    if not path.exists():
        return []
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql).fetchall()


def test_announce_list_and_show(home):
    _ok(
        home, "series", "add", "uk-tour", "--title-zh", "英國巡迴講座", "--title-en", "UK talk tour"
    )
    event = _json(
        home, *ADD, "--start", "2037-07-10 20:00", "--tz", "Europe/London", "--series", "uk-tour",
        "--speaker", "Lee Cheuk-yan", "--language", "yue", "--language", "en",
        "--place", "Manchester, Friends Meeting House", "--join-url", "https://example.org/register",
        "--visibility", "public", "--json",
    )  # fmt: skip
    assert event["id"].startswith("ev") and event["start_utc"] == "2037-07-10T19:00:00+00:00"
    assert event["series"] == "uk-tour" and event["languages"] == ["yue", "en"]
    assert (event["city"], event["venue"]) == ("Manchester", "Friends Meeting House")
    listed = _json(home, "event", "list", "--json")
    assert listed == [
        {
            "id": event["id"], "title_zh": "碼頭工人罷工十周年", "title_en": "Dock strike, ten years on",
            "start_utc": "2037-07-10T19:00:00+00:00", "tz": "Europe/London", "status": "scheduled",
            "series": "uk-tour", "item_id": None,
        }
    ]  # fmt: skip
    assert list(listed[0]) == [
        "id",
        "title_zh",
        "title_en",
        "start_utc",
        "tz",
        "status",
        "series",
        "item_id",
    ]
    shown = _json(home, "event", "show", event["id"], "--viewer-tz", "Asia/Hong_Kong", "--json")
    assert shown["times"]["viewer"] == "Sat, 11 Jul 2037, 03:00 Hong Kong Standard Time"
    text = _ok(
        home,
        "event",
        "show",
        event["id"],
        "--viewer-tz",
        "Asia/Hong_Kong",
        "--locale",
        "zh_Hant_HK",
    ).stdout
    assert (
        "2037年7月11日週六 上午3:00 [香港標準時間]" in text
        and "https://example.org/register" in text
    )
    assert _json(home, "series", "list", "--json")[0]["title_en"] == "UK talk tour"
    future = _json(home, *ADD, "--start", "2099-07-10 20:00", "--tz", "Asia/Hong_Kong", "--json")
    assert future["id"] in [e["id"] for e in _json(home, "event", "list", "--upcoming", "--json")]
    assert future["id"] not in [e["id"] for e in _json(home, "event", "list", "--past", "--json")]
    # Staff-only by default: not in the public list.
    assert future["id"] not in [
        e["id"] for e in _json(home, "event", "list", "--role", "public", "--json")
    ]


def test_role_hides_events_from_the_command_line(home):
    _ok(
        home,
        *ADD,
        "--start",
        "2037-07-10 20:00",
        "--tz",
        "Europe/London",
        "--visibility",
        "members",
    )
    assert _json(home, "event", "list", "--role", "public", "--json") == []
    assert len(_json(home, "event", "list", "--role", "members", "--json")) == 1
    event_id = _rows(home, "SELECT id FROM events")[0][0]
    result = run_cli(home, "event", "show", event_id, "--role", "public")
    assert result.returncode != 0 and result.stderr == f"error: no event {event_id}\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start", "2037-07-10 20:00", "--tz", "Europe/Manchester"], "error: unknown time zone 'Europe/Manchester'"),
        (["--start", "2037-03-29 01:30", "--tz", "Europe/London"], "error: 2037-03-29 01:30 does not exist in Europe/London"),
        (["--start", "2037-10-25 01:30", "--tz", "Europe/London"], "error: 2037-10-25 01:30 happens twice in Europe/London"),
        (["--start", "2037-07-10 20:00", "--tz", "Europe/London", "--duration", "0"], "error: the duration must be more than 0"),
        (["--start", "2037-07-10 20:00", "--tz", "Europe/London", "--duration", "-15"], "error: the duration must be more than 0"),
        (["--start", "2037-07-10 20:00", "--tz", "Europe/London", "--join-url", "javascript:alert(1)"], "error: the join link must be"),
        (["--start", "2037-07-10 20:00", "--tz", "Europe/London", "--join-url", "data:text/html,hi"], "error: the join link must be"),
        (["--start", "2037-07-10 20:00", "--tz", "Europe/London", "--join-url", "file:///etc/passwd"], "error: the join link must be"),
        (["--start", "2037-07-10 20:00", "--tz", "Europe/London", "--series", "nope"], "error: no series 'nope'"),
        (["--start", "2037-07-10 20:00", "--tz", "Europe/London", "--poster", "{notimage}"], "error: the poster notimage.png is not"),
        (["--start", "2037-10-25 01:30", "--tz", "Europe/London", "--fold", "2"], "error: Invalid value for '--fold'"),
        (["--start", "10/07/2037 8pm", "--tz", "Europe/London"], "error: the time '10/07/2037 8pm' is not"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_writes_nothing(home, tmp_path, args, message):
    fake = tmp_path / "notimage.png"
    fake.write_text("<html>not an image</html>")
    args = [a.replace("{notimage}", str(fake)) for a in args]
    # The last --duration wins, so the table's own value replaces the default 90.
    result = run_cli(home, *ADD, *args)
    assert result.returncode != 0
    assert result.stderr.startswith(message), result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert _rows(home, "SELECT id FROM events") == []
    assert not (home / "media" / "posters").exists() or not any(
        (home / "media" / "posters").iterdir()
    )


def test_the_ambiguous_hour_asks_for_fold_and_takes_it(home):
    result = run_cli(home, *ADD, "--start", "2037-10-25 01:30", "--tz", "Europe/London")
    assert (
        "add --fold 0 for the first (UTC+01:00) or --fold 1 for the second (UTC+00:00)"
        in result.stderr
    )
    second = _json(
        home, *ADD, "--start", "2037-10-25 01:30", "--tz", "Europe/London", "--fold", "1", "--json"
    )
    first = _json(
        home, *ADD, "--start", "2037-10-25 01:30", "--tz", "Europe/London", "--fold", "0", "--json"
    )
    assert (first["start_utc"], second["start_utc"]) == (
        "2037-10-25T00:30:00+00:00",
        "2037-10-25T01:30:00+00:00",
    )


def test_edit_postpone_cancel(home):
    event = _json(home, *ADD, "--start", "2037-07-10 20:00", "--tz", "Europe/London", "--json")
    edited = _json(
        home, "event", "edit", event["id"], "--title-en", "Dock strike: ten years on", "--json"
    )
    assert edited["title_en"] == "Dock strike: ten years on" and edited["sequence"] == 1
    assert "nothing to change" in _ok(home, "event", "edit", event["id"], "--duration", "90").stdout
    later = _json(home, "event", "postpone", event["id"], "--start", "2037-07-17 20:00", "--json")
    assert (
        later["status"] == "postponed"
        and later["previous_start_utc"] == "2037-07-10T19:00:00+00:00"
    )
    assert later["sequence"] == 2
    assert "cancelled event" in _ok(home, "event", "cancel", event["id"]).stdout
    for args, message in [
        (["event", "cancel", event["id"]], "is already cancelled"),
        (["event", "hold", event["id"]], "is cancelled"),
        (["event", "postpone", event["id"], "--start", "2037-08-01 20:00"], "cannot be postponed"),
        (["event", "edit", event["id"], "--join-url", "javascript:x"], "the join link must be"),
        (["event", "edit", "evnosuchone", "--title-en", "x"], "no event evnosuchone"),
    ]:
        result = run_cli(home, *args)
        assert (
            result.returncode != 0
            and result.stderr.startswith("error: ")
            and message in result.stderr
        )
        assert result.stderr.count("\n") == 1
    assert _rows(home, "SELECT status, sequence FROM events") == [("cancelled", 3)]


def test_attach_refusals(home, fixtures_dir):
    jfk = str(fixtures_dir / "en/jfk.flac")
    cancelled = _json(home, *ADD, "--start", "2037-07-10 20:00", "--tz", "Europe/London", "--json")
    _ok(home, "event", "cancel", cancelled["id"])
    result = run_cli(home, "event", "attach", cancelled["id"], jfk, "--wait", "--no-transcribe")
    assert (
        result.stderr
        == f"error: event {cancelled['id']} was cancelled: there is no recording to attach\n"
    )
    assert _rows(home, "SELECT id FROM items") == []
    event = _json(home, *ADD, "--start", "2037-07-12 20:00", "--tz", "Europe/London", "--json")
    attached = _json(
        home, "event", "attach", event["id"], jfk, "--wait", "--no-transcribe", "--json"
    )
    assert (
        attached["event"]["status"] == "held"
        and attached["event"]["item_id"] == attached["item_id"]
    )
    assert (
        attached["item"]["title_zh"] == "碼頭工人罷工十周年"
        and attached["item"]["collection"] == "webinar"
    )
    again = run_cli(home, "event", "attach", event["id"], jfk, "--wait", "--no-transcribe")
    assert (
        again.stderr
        == f"error: event {event['id']} already has its recording (item {attached['item_id']})\n"
    )
    assert len(_rows(home, "SELECT id FROM items")) == 1


def test_feeds_are_exported_as_files(home, tmp_path):
    _ok(
        home, *ADD, "--start", "2037-07-10 20:00", "--tz", "Europe/London", "--visibility", "public"
    )
    _ok(home, *ADD, "--start", "2037-07-11 20:00", "--tz", "Europe/London", "--visibility", "staff",
        "--join-url", "https://example.org/staff-secret")  # fmt: skip
    ics = tmp_path / "events.ics"
    result = _ok(home, "feed", "ics", "--base-url", BASE, "-o", str(ics))
    assert result.stdout == "" and f"wrote {ics}" in result.stderr
    (vevent,) = Calendar.from_ical(ics.read_bytes()).walk("VEVENT")
    assert (
        str(vevent.get("url")).startswith(f"{BASE}/?event=")
        and b"staff-secret" not in ics.read_bytes()
    )
    for kind, version in (("rss", "rss20"), ("podcast", "rss20")):
        out = tmp_path / f"{kind}.xml"
        _ok(
            home,
            "feed",
            kind,
            "--collection",
            "webinar",
            "-o",
            str(out),
            env={"ARCHIVE_PUBLIC_URL": BASE},
        )
        feed = feedparser.parse(out.read_bytes())
        assert not feed.bozo and feed.version == version
        assert feed.feed.link == f"{BASE}/"
    stdout = _ok(home, "feed", "ics", "--base-url", BASE).stdout
    assert stdout.startswith("BEGIN:VCALENDAR")
    for args, message in [
        (
            ["feed", "podcast"],
            "error: feeds need absolute links: set ARCHIVE_PUBLIC_URL or pass --base-url",
        ),
        (["feed", "ics", "--base-url", "javascript:alert(1)"], "error: the base URL must be"),
        (
            ["feed", "ics", "--collection", "webinar", "--base-url", BASE],
            "error: events have no collection",
        ),
        (["feed", "rss", "--series", "nope", "--base-url", BASE], "error: no series 'nope'"),
        (
            ["feed", "ics", "--base-url", BASE, "-o", str(tmp_path / "missing" / "x.ics")],
            "error: the folder",
        ),
    ]:
        result = run_cli(home, *args, env={"ARCHIVE_PUBLIC_URL": ""})
        assert result.returncode != 0 and result.stderr.startswith(message), result.stderr


# -- the whole lifecycle ---------------------------------------------------------------------------


@pytest.mark.slow
def test_announce_postpone_hold_attach_transcribe_search_podcast(home, tmp_path, fixtures_dir):
    from starlette.applications import Starlette

    from archive.catalog.db import Catalog
    from archive.core.config import load_settings
    from archive.hub.feeds import public_audio
    from archive.portal.routes.feeds import feed_routes

    _ok(
        home, "series", "add", "uk-tour", "--title-zh", "英國巡迴講座", "--title-en", "UK talk tour"
    )
    event = _json(
        home, "event", "add", "--title-zh", "甘迺迪就職演說", "--title-en", "An inaugural address",
        "--start", "2037-07-10 20:00", "--tz", "Europe/London", "--duration", "60",
        "--series", "uk-tour", "--speaker", "John F. Kennedy", "--language", "en",
        "--join-url", "https://example.org/join", "--visibility", "public", "--json",
    )  # fmt: skip
    _ok(home, "event", "postpone", event["id"], "--start", "2037-07-17 20:00")
    _ok(home, "event", "hold", event["id"])
    attached = _json(
        home, "event", "attach", event["id"], str(fixtures_dir / "en/jfk.flac"),
        "--visibility", "public", "--wait", "--json",
    )  # fmt: skip
    item_id = attached["item_id"]
    assert attached["job"]["state"] == "done"
    item = attached["item"]
    assert item["title_en"] == "An inaugural address" and item["series_id"] == "uk-tour"
    assert item["recorded_date"] == "2037-07-17"  # the date it was held, not first announced
    assert item["speakers"] == ["John F. Kennedy"] and item["language"] == "en"
    transcript = " ".join(s["text_en"] for s in item["segments"]).lower()
    assert "country" in transcript

    shown = _json(home, "event", "show", event["id"], "--json")
    assert (shown["status"], shown["item_id"], shown["sequence"]) == ("held", item_id, 3)

    settings = load_settings(home)
    from indexer import SearchIndex

    results = SearchIndex.open(settings).search("country", role="public")
    assert item_id in [g.item_id for g in results.groups]

    podcast = tmp_path / "uk-tour.xml"
    _ok(home, "feed", "podcast", "--series", "uk-tour", "--base-url", BASE, "-o", str(podcast))
    feed = feedparser.parse(podcast.read_bytes())
    (entry,) = feed.entries
    assert entry.id == f"hk-labour-archive:item:{item_id}"
    assert entry.title == "甘迺迪就職演說 | An inaugural address"
    catalog = Catalog.open(settings)
    try:
        path, _mime = public_audio(settings, catalog, item_id)
        assert int(entry.enclosures[0].length) == path.stat().st_size
        with in_process(Starlette(routes=feed_routes(settings))) as base:
            with urllib.request.urlopen(f"{base}/feeds/series/uk-tour/podcast.xml") as response:
                served = feedparser.parse(response.read())
            (served_entry,) = served.entries
            with urllib.request.urlopen(served_entry.enclosures[0].href) as response:
                assert len(response.read()) == int(served_entry.enclosures[0].length)
            with urllib.request.urlopen(f"{base}/feeds/transcripts/{item_id}.en.vtt") as response:
                assert "country" in response.read().decode("utf-8").lower()
            with urllib.request.urlopen(f"{base}/feeds/events.ics") as response:
                (vevent,) = Calendar.from_ical(response.read()).walk("VEVENT")
    finally:
        catalog.close()
    assert int(vevent.get("sequence")) == 3
    assert vevent.decoded("dtstart").isoformat() == "2037-07-17T19:00:00+00:00"
    assert str(vevent.get("url")) == f"{base}/?event={event['id']}"
