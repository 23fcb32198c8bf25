"""The webinar hub's times: IANA time zones, the organiser's wall-clock times, durations, and an
event's time formatted for a viewer.

Pure functions, no catalog. An event's start is stored as an instant in UTC with the organiser's
zone beside it (:mod:`archive.hub.events`); this module turns the organiser's ``YYYY-MM-DD HH:MM``
into that instant (:func:`local_to_utc`, which refuses a time that does not exist, the hour skipped
when clocks go forward, and will not guess a time that happens twice, the hour repeated when clocks
go back, unless told which one with ``fold``), and formats the instant back for any viewer in
``zh_Hant_HK`` or ``en_GB`` (:func:`format_event_time`, all patterns Babel's).

>>> local_to_utc("2026-07-10 20:00", "Europe/London").isoformat()
'2026-07-10T19:00:00+00:00'
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Protocol
from zoneinfo import ZoneInfo, available_timezones

from archive.core.errors import InputError

__all__ = [
    "LOCALES",
    "MAX_DURATION_MINUTES",
    "Scheduled",
    "check_duration",
    "check_timezone",
    "format_event_time",
    "local_to_utc",
    "utc_iso",
]

LOCALES = ("zh_Hant_HK", "en_GB")
# A week: longer is a typing slip (minutes for hours), not a talk.
MAX_DURATION_MINUTES = 7 * 24 * 60
_LOCAL_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}$")
# Zone names that exist in the database but mean nothing to a viewer elsewhere.
_NOT_ZONES = frozenset({"localtime", "Factory", "posixrules"})


class Scheduled(Protocol):
    """What :func:`format_event_time` reads of an event (:class:`archive.hub.events.Event` is one):
    the organiser's zone, the start and end as aware datetimes, and the start before a
    postponement (None when there was none)."""

    @property
    def tz(self) -> str: ...

    @property
    def start(self) -> datetime: ...

    @property
    def end(self) -> datetime: ...

    @property
    def previous_start(self) -> datetime | None: ...


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones()) - _NOT_ZONES


def check_timezone(tz: str) -> ZoneInfo:
    """The zone for an IANA name such as ``Europe/London``; InputError for anything else."""
    name = (tz or "").strip()
    # Checked against the list, not by trying ZoneInfo(name): that would also accept file paths.
    if name not in _zone_names():
        raise InputError(
            f"unknown time zone {tz!r}: use an IANA name such as Europe/London, Asia/Hong_Kong "
            "or America/Toronto"
        )
    return ZoneInfo(name)


def _offset(dt: datetime) -> str:
    delta = dt.utcoffset() or timedelta(0)
    minutes = int(delta.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def local_to_utc(text: str, tz: str, fold: int | None = None) -> datetime:
    """The UTC instant of the wall-clock time ``YYYY-MM-DD HH:MM`` in zone ``tz``.

    Raises InputError for an unknown zone, a malformed time, a time that does not exist in the zone
    (skipped when the clocks go forward), and a time that happens twice (when they go back) unless
    ``fold`` says which: 0 for the first (still on summer time), 1 for the second.
    """
    zone = check_timezone(tz)
    raw = str(text).strip()
    if not _LOCAL_TIME.match(raw):
        raise InputError(f"the time {text!r} is not YYYY-MM-DD HH:MM (the organiser's local time)")
    try:
        naive = datetime.strptime(raw.replace("T", " "), "%Y-%m-%d %H:%M")
    except ValueError as exc:
        raise InputError(f"the time {text!r} is not a real date and time") from exc
    if fold not in (None, 0, 1):
        raise InputError(f"--fold must be 0 or 1, not {fold!r}")
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    # A wall time in a gap does not survive the round trip through UTC.
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        raise InputError(
            f"{raw} does not exist in {zone.key}: the clocks go forward then "
            f"({_offset(first)} to {_offset(second)}); choose another time"
        )
    if first.utcoffset() != second.utcoffset():
        if fold is None:
            raise InputError(
                f"{raw} happens twice in {zone.key} (the clocks go back): add --fold 0 for the "
                f"first ({_offset(first)}) or --fold 1 for the second ({_offset(second)})"
            )
        return (first if fold == 0 else second).astimezone(UTC)
    return first.astimezone(UTC)


def utc_iso(dt: datetime) -> str:
    """An aware datetime as the catalog stores instants: ISO 8601 in UTC, to the second."""
    return dt.astimezone(UTC).isoformat(timespec="seconds")


def check_duration(value: Any) -> int:
    """A duration as a whole number of minutes, more than 0 and at most a week; InputError else."""
    try:
        minutes = int(value)
    except (TypeError, ValueError) as exc:
        raise InputError(f"the duration must be a whole number of minutes, not {value!r}") from exc
    if isinstance(value, float) and value != minutes:
        raise InputError(f"the duration must be a whole number of minutes, not {value!r}")
    if minutes <= 0:
        raise InputError(f"the duration must be more than 0 minutes, not {minutes}")
    if minutes > MAX_DURATION_MINUTES:
        raise InputError(
            f"the duration of {minutes} minutes is longer than a week: give it in minutes"
        )
    return minutes


@lru_cache(maxsize=8)
def _display_pattern(locale: str) -> str:
    """The locale's own date, short time and zone patterns, glued by its own date-time pattern.

    All CLDR data through Babel: ``{1}, {0}`` / ``{1} {0}``, ``EEE, d MMM y`` / ``y年M月d日E``,
    and the full time pattern (``HH:mm:ss zzzz`` / ``ah:mm:ss [zzzz]``) without its seconds.
    """
    from babel import Locale
    from babel.dates import get_datetime_format

    loc = Locale.parse(locale)
    date_pattern = loc.datetime_skeletons["yMMMEd"].pattern
    time_pattern = loc.time_formats["full"].pattern.replace(":ss", "")
    glue = get_datetime_format("medium", locale=loc)
    return glue.replace("{1}", date_pattern).replace("{0}", time_pattern)


def _describe(start_at: datetime, end_at: datetime, zone: ZoneInfo, locale: str) -> dict[str, Any]:
    from babel.dates import format_datetime, format_skeleton, format_time, get_timezone_name

    start = start_at.astimezone(zone)
    end = end_at.astimezone(zone)
    return {
        "text": format_datetime(start, _display_pattern(locale), tzinfo=zone, locale=locale),
        "date": format_skeleton("yMMMEd", start, tzinfo=zone, locale=locale),
        "time": format_time(start, "short", tzinfo=zone, locale=locale),
        "end_time": format_time(end, "short", tzinfo=zone, locale=locale),
        "zone": get_timezone_name(start, width="long", locale=locale),
        "tz": zone.key,
        "start": start.isoformat(),
        "end": end.isoformat(),
    }


def format_event_time(event: Scheduled, viewer_tz: str, locale: str) -> dict[str, Any]:
    """An event's time for a viewer, formatted by Babel for ``zh_Hant_HK`` or ``en_GB``.

    Returns ``viewer`` and ``organiser``: one line each, e.g. ``Sat, 11 Jul 2026, 03:00 Hong Kong
    Standard Time`` / ``2026年7月11日週六 上午3:00 [香港標準時間]``; ``viewer_parts`` and
    ``organiser_parts`` with ``date``, ``time``, ``end_time``, ``zone``, ``tz``, ``start``, ``end``
    (ISO) for layouts of their own; ``same_offset`` (the viewer's clock reads the same as the
    organiser's, so one line is enough) and ``day_offset`` (the viewer's date minus the organiser's:
    +1 for an 8 pm London talk seen from Hong Kong). If a previous time exists (postponed),
    ``previous_viewer`` and ``previous_organiser`` are the old time formatted the same way.
    """
    if locale not in LOCALES:
        raise InputError(f"locale must be one of {', '.join(LOCALES)}, not {locale!r}")
    viewer_zone = check_timezone(viewer_tz)
    organiser_zone = check_timezone(event.tz)
    viewer = _describe(event.start, event.end, viewer_zone, locale)
    organiser = _describe(event.start, event.end, organiser_zone, locale)
    v_start, o_start = event.start.astimezone(viewer_zone), event.start.astimezone(organiser_zone)
    out: dict[str, Any] = {
        "viewer": viewer["text"],
        "organiser": organiser["text"],
        "viewer_parts": viewer,
        "organiser_parts": organiser,
        "same_offset": v_start.utcoffset() == o_start.utcoffset(),
        "day_offset": (v_start.date() - o_start.date()).days,
    }
    before = event.previous_start
    if before is not None:
        # The old time lasted as long as the new one: the duration did not change with the date.
        before_end = before + (event.end - event.start)
        out["previous_viewer"] = _describe(before, before_end, viewer_zone, locale)["text"]
        out["previous_organiser"] = _describe(before, before_end, organiser_zone, locale)["text"]
    return out
