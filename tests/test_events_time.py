"""Event times: local wall-clock times read in IANA zones, clock changes, and Babel formatting.

Hong Kong has no daylight saving; London and Toronto do (on different dates). Every expected
instant below was worked out by hand from the zones' rules, not computed by the code under test.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from archive.core.errors import InputError
from archive.hub.events import Event
from archive.hub.times import format_event_time, local_to_utc


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("local", "tz", "fold", "expected"),
    [
        # London: GMT in winter, BST (UTC+1) in summer.
        ("2026-07-10 20:00", "Europe/London", None, "2026-07-10 19:00"),
        ("2026-01-15 20:00", "Europe/London", None, "2026-01-15 20:00"),
        # Hong Kong: UTC+8 all year.
        ("2026-07-10 20:00", "Asia/Hong_Kong", None, "2026-07-10 12:00"),
        ("2026-01-15 20:00", "Asia/Hong_Kong", None, "2026-01-15 12:00"),
        # Toronto: EST (UTC-5) in winter, EDT (UTC-4) in summer.
        ("2026-07-10 15:00", "America/Toronto", None, "2026-07-10 19:00"),
        ("2026-01-15 15:00", "America/Toronto", None, "2026-01-15 20:00"),
        # The first minute after London's clocks go forward (01:00 GMT → 02:00 BST, 29 March 2026).
        ("2026-03-29 02:00", "Europe/London", None, "2026-03-29 01:00"),
        ("2026-03-29 00:59", "Europe/London", None, "2026-03-29 00:59"),
        # The hour London repeats on 25 October 2026: 01:30 BST first, then 01:30 GMT.
        ("2026-10-25 01:30", "Europe/London", 0, "2026-10-25 00:30"),
        ("2026-10-25 01:30", "Europe/London", 1, "2026-10-25 01:30"),
        # Toronto repeats 01:00–02:00 on 1 November 2026: EDT first, then EST.
        ("2026-11-01 01:30", "America/Toronto", 0, "2026-11-01 05:30"),
        ("2026-11-01 01:30", "America/Toronto", 1, "2026-11-01 06:30"),
        # A fold given for a time that is not ambiguous changes nothing.
        ("2026-07-10 20:00", "Asia/Hong_Kong", 1, "2026-07-10 12:00"),
        # The ISO "T" separator is accepted too.
        ("2026-07-10T20:00", "Europe/London", None, "2026-07-10 19:00"),
    ],
)
def test_local_time_to_utc(local, tz, fold, expected):
    assert local_to_utc(local, tz, fold) == _utc(expected)


@pytest.mark.parametrize(
    ("local", "tz"),
    [
        ("2026-03-29 01:30", "Europe/London"),  # clocks jump from 01:00 to 02:00
        ("2026-03-29 01:00", "Europe/London"),
        ("2026-03-08 02:30", "America/Toronto"),  # clocks jump from 02:00 to 03:00
    ],
)
def test_a_time_skipped_by_the_clocks_is_refused(local, tz):
    with pytest.raises(InputError, match="does not exist") as err:
        local_to_utc(local, tz)
    assert tz in str(err.value)
    # No fold makes it exist either.
    for fold in (0, 1):
        with pytest.raises(InputError, match="does not exist"):
            local_to_utc(local, tz, fold)


@pytest.mark.parametrize(
    ("local", "tz", "first", "second"),
    [
        ("2026-10-25 01:30", "Europe/London", "UTC+01:00", "UTC+00:00"),
        ("2026-11-01 01:15", "America/Toronto", "UTC-04:00", "UTC-05:00"),
    ],
)
def test_a_time_that_happens_twice_is_never_guessed(local, tz, first, second):
    with pytest.raises(InputError) as err:
        local_to_utc(local, tz)
    message = str(err.value)
    assert "--fold 0" in message and "--fold 1" in message
    assert first in message and second in message


@pytest.mark.parametrize(
    "tz",
    ["Mars/Olympus_Mons", "", "europe/london", "GMT+8", "../../etc/passwd", "localtime", "BST"],
)
def test_unknown_time_zones(tz):
    with pytest.raises(InputError, match="unknown time zone"):
        local_to_utc("2026-07-10 20:00", tz)


@pytest.mark.parametrize(
    "text",
    ["10/07/2026 20:00", "2026-02-30 10:00", "2026-07-10 25:00", "2026-07-10", "tomorrow 8pm"],
)
def test_malformed_local_times(text):
    with pytest.raises(InputError):
        local_to_utc(text, "Europe/London")


def _event(start_utc: str, tz: str, minutes: int = 90, previous: str | None = None) -> Event:
    return Event(
        id="evtest0001",
        uid="u@test",
        start_utc=_utc(start_utc).isoformat(),
        tz=tz,
        duration_minutes=minutes,
        title_en="Talk",
        previous_start_utc=_utc(previous).isoformat() if previous else None,
    )


@pytest.mark.parametrize(
    ("start_utc", "organiser_tz", "viewer_tz", "organiser_local", "viewer_local", "day_offset"),
    [
        # An 8 pm London talk in July is 3 am the next day in Hong Kong.
        (
            "2026-07-10 19:00",
            "Europe/London",
            "Asia/Hong_Kong",
            "2026-07-10 20:00",
            "2026-07-11 03:00",
            1,
        ),
        # In January London is on GMT: 8 pm there is 4 am in Hong Kong.
        (
            "2026-01-15 20:00",
            "Europe/London",
            "Asia/Hong_Kong",
            "2026-01-15 20:00",
            "2026-01-16 04:00",
            1,
        ),
        # A Hong Kong evening talk is lunchtime in Manchester (BST) ...
        (
            "2026-07-10 12:00",
            "Asia/Hong_Kong",
            "Europe/London",
            "2026-07-10 20:00",
            "2026-07-10 13:00",
            0,
        ),
        # ... and an hour earlier in winter (GMT).
        (
            "2026-01-15 12:00",
            "Asia/Hong_Kong",
            "Europe/London",
            "2026-01-15 20:00",
            "2026-01-15 12:00",
            0,
        ),
        # Toronto 3 pm (EDT) in July: London 8 pm, Hong Kong 3 am next day.
        (
            "2026-07-10 19:00",
            "America/Toronto",
            "Europe/London",
            "2026-07-10 15:00",
            "2026-07-10 20:00",
            0,
        ),
        (
            "2026-07-10 19:00",
            "America/Toronto",
            "Asia/Hong_Kong",
            "2026-07-10 15:00",
            "2026-07-11 03:00",
            1,
        ),
        # Between the two countries' clock changes (London changed on 29 March, Toronto on
        # 8 March): 2 pm in Toronto (EDT) is 6 pm in London (still GMT), not the usual 7 pm.
        (
            "2026-03-20 18:00",
            "America/Toronto",
            "Europe/London",
            "2026-03-20 14:00",
            "2026-03-20 18:00",
            0,
        ),
        # A Hong Kong morning talk is the evening before in Toronto.
        (
            "2026-07-11 01:00",
            "Asia/Hong_Kong",
            "America/Toronto",
            "2026-07-11 09:00",
            "2026-07-10 21:00",
            -1,
        ),
    ],
)
def test_viewer_and_organiser_times(
    start_utc, organiser_tz, viewer_tz, organiser_local, viewer_local, day_offset
):
    event = _event(start_utc, organiser_tz)
    times = format_event_time(event, viewer_tz, "en_GB")
    viewer_start = datetime.fromisoformat(times["viewer_parts"]["start"])
    organiser_start = datetime.fromisoformat(times["organiser_parts"]["start"])
    assert viewer_start.strftime("%Y-%m-%d %H:%M") == viewer_local
    assert organiser_start.strftime("%Y-%m-%d %H:%M") == organiser_local
    assert viewer_start == organiser_start == event.start  # one instant, two clocks
    assert times["day_offset"] == day_offset
    assert times["same_offset"] is False
    assert times["viewer_parts"]["tz"] == viewer_tz
    assert times["organiser_parts"]["tz"] == organiser_tz


@pytest.mark.parametrize(
    ("locale", "viewer", "organiser", "parts"),
    [
        (
            "en_GB",
            "Sat, 11 Jul 2026, 03:00 Hong Kong Standard Time",
            "Fri, 10 Jul 2026, 20:00 British Summer Time",
            {"date": "Sat, 11 Jul 2026", "time": "03:00", "end_time": "04:30"},
        ),
        (
            "zh_Hant_HK",
            "2026年7月11日週六 上午3:00 [香港標準時間]",
            "2026年7月10日週五 下午8:00 [英國夏令時間]",
            {"date": "2026年7月11日週六", "time": "上午3:00", "end_time": "上午4:30"},
        ),
    ],
)
def test_babel_formats_for_each_locale(locale, viewer, organiser, parts):
    event = _event("2026-07-10 19:00", "Europe/London", minutes=90)
    times = format_event_time(event, "Asia/Hong_Kong", locale)
    assert times["viewer"] == viewer
    assert times["organiser"] == organiser
    for key, value in parts.items():
        assert times["viewer_parts"][key] == value


def test_same_zone_needs_one_line_and_postponed_times_are_formatted():
    event = _event("2026-07-17 19:00", "Europe/London", previous="2026-07-10 19:00")
    times = format_event_time(event, "Europe/London", "en_GB")
    assert times["same_offset"] is True and times["day_offset"] == 0
    assert times["viewer"] == times["organiser"]
    assert times["previous_organiser"] == "Fri, 10 Jul 2026, 20:00 British Summer Time"
    assert times["previous_viewer"] == times["previous_organiser"]
    # A viewer in a different zone that reads the same clock (Lisbon is on WEST = UTC+1 in July).
    assert format_event_time(event, "Europe/Lisbon", "en_GB")["same_offset"] is True


def test_durations_are_real_time_across_a_clock_change():
    # 00:30 GMT on the night London's clocks go forward, two hours long: ends 03:30 BST.
    start = local_to_utc("2026-03-29 00:30", "Europe/London")
    event = Event(
        id="ev1", uid="u", start_utc=start.isoformat(), tz="Europe/London", duration_minutes=120
    )
    times = format_event_time(event, "Europe/London", "en_GB")
    assert times["organiser_parts"]["time"] == "00:30"
    assert times["organiser_parts"]["end_time"] == "03:30"
    assert (event.end - event.start).total_seconds() == 7200


@pytest.mark.parametrize(
    ("viewer_tz", "locale"), [("Nowhere/City", "en_GB"), ("Asia/Hong_Kong", "fr_FR")]
)
def test_bad_viewer_zone_or_locale(viewer_tz, locale):
    with pytest.raises(InputError):
        format_event_time(_event("2026-07-10 19:00", "Europe/London"), viewer_tz, locale)
