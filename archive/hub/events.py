"""The webinar hub's data: bilingual series, announced events, their times, and their recordings.

An **event** is announced once, in both languages. Its start is stored as an instant in UTC
(``start_utc``) together with the organiser's IANA time zone (``tz``): the instant is what every
viewer converts from, the zone is what the organiser meant and what the event is shown in beside
the viewer's own. Local times are read with :func:`local_to_utc`, which refuses a time that does
not exist (the hour skipped when clocks go forward) and will not guess a time that happens twice
(the hour repeated when clocks go back) unless told which one with ``fold``.

Every change of an event raises its ``sequence``: calendar programs replace their copy of an event
(same ``uid``) only when the sequence grows. The status runs ``scheduled`` → (``postponed``, with a
new time, the old one kept in ``previous_start_utc``) → ``held``, or ends ``cancelled``.

A **series** (a talk tour, an interview series, an anniversary programme) groups events and items.

After the talk, :func:`attach_recording` ingests the recording through the ordinary ingest path as
an item that inherits the event's titles, speakers, series, date and collection (``webinar``), and
links it to the event (``item_id``): the event's permalink then opens the item. Queued (without
``wait``), the ingest job carries the event id in its payload and the link is made when the event is
next read after the job finished (:func:`resolve_attachments`), so ``jobs.py`` needs no hook.

Access: an event has the same visibility levels as items. Every read for a viewer goes through
:func:`visible_event` / :func:`list_events`, which treat an event above the viewer's role as
nonexistent, so a members-only event (and its join link) is seen by members and staff only.

>>> event = create_event(settings, catalog, title_zh="碼頭工人罷工十周年", title_en="Dock strike, ten years on",
...                      start="2026-07-10 20:00", tz="Europe/London", duration_minutes=90,
...                      visibility="public")
>>> format_event_time(event, "Asia/Hong_Kong", "en_GB")["viewer"]
'Sat, 11 Jul 2026, 03:00 Hong Kong Standard Time'
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import sqlite3
import tempfile
import urllib.parse
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from archive.catalog.access import Viewer, present_item, visible_item
from archive.catalog.db import Catalog, note_change
from archive.catalog.models import VISIBILITIES, Item, Job, now_utc, role_allows
from archive.core.config import Settings
from archive.core.errors import InputError, NotFoundError
from archive.core.paths import POSTER_FOLDER, confined_file

__all__ = [
    "EVENT_LANGUAGES",
    "EVENT_STATUSES",
    "LOCALES",
    "PLACE_KINDS",
    "POSTER_MAX_BYTES",
    "POSTER_TYPES",
    "AttachOutcome",
    "Event",
    "Poster",
    "Series",
    "attach_recording",
    "cancel_event",
    "check_join_url",
    "check_poster",
    "check_timezone",
    "create_event",
    "create_series",
    "event_permalink",
    "event_recording",
    "format_event_time",
    "get_event",
    "get_series",
    "hold_event",
    "items_in_series",
    "link_recording",
    "list_events",
    "list_series",
    "local_to_utc",
    "parse_place",
    "pending_attachment",
    "poster_file",
    "postpone_event",
    "recording_options",
    "resolve_attachments",
    "run_ingest_now",
    "set_item_series",
    "update_event",
    "series_has_visible_content",
    "update_series",
    "visible_event",
    "visible_series",
    "visible_series_list",
]

EVENT_STATUSES = ("scheduled", "postponed", "cancelled", "held")
EVENT_LANGUAGES = ("yue", "zh", "en")
PLACE_KINDS = ("online", "in-person")
LOCALES = ("zh_Hant_HK", "en_GB")
# Only formats every browser shows and none can carry script (no SVG).
POSTER_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}
POSTER_MAX_BYTES = 10 * 1024**2
# A week: longer is a typing slip (minutes for hours), not a talk.
MAX_DURATION_MINUTES = 7 * 24 * 60
SERIES_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_LOCAL_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}$")
# Zone names that exist in the database but mean nothing to a viewer elsewhere.
_NOT_ZONES = frozenset({"localtime", "Factory", "posixrules"})

EVENT_EDITABLE = (
    "title_zh",
    "title_en",
    "description_zh",
    "description_en",
    "start_utc",
    "tz",
    "duration_minutes",
    "languages",
    "speakers",
    "series_id",
    "place_kind",
    "city",
    "venue",
    "join_url",
    "poster_path",
    "poster_mime",
    "visibility",
)


# -- values ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    id: str
    title_zh: str = ""
    title_en: str = ""
    description_zh: str = ""
    description_en: str = ""
    created_at: str = ""

    @property
    def title(self) -> str:
        return self.title_en or self.title_zh or self.id

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class Event:
    id: str
    uid: str
    start_utc: str
    tz: str
    duration_minutes: int
    title_zh: str = ""
    title_en: str = ""
    description_zh: str = ""
    description_en: str = ""
    languages: tuple[str, ...] = ()
    speakers: tuple[str, ...] = ()
    series_id: str | None = None
    place_kind: str = "online"
    city: str = ""
    venue: str = ""
    join_url: str | None = None
    poster_path: str | None = None  # relative to the data folder
    poster_mime: str | None = None
    visibility: str = "staff"
    status: str = "scheduled"
    previous_start_utc: str | None = None
    item_id: str | None = None
    sequence: int = 0
    created_at: str = ""
    updated_at: str = ""

    @property
    def title(self) -> str:
        return self.title_en or self.title_zh or self.id

    @property
    def start(self) -> datetime:
        """The start as an aware datetime in UTC."""
        return datetime.fromisoformat(self.start_utc)

    @property
    def end(self) -> datetime:
        # Durations are real elapsed time: a talk spanning a clock change still lasts its minutes.
        return self.start + timedelta(minutes=self.duration_minutes)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    @property
    def local_start(self) -> datetime:
        """The start in the organiser's time zone."""
        return self.start.astimezone(self.zone)

    @property
    def local_date(self) -> str:
        """The organiser's calendar date of the start (what an item's recorded date is)."""
        return self.local_start.date().isoformat()

    @property
    def previous_start(self) -> datetime | None:
        return datetime.fromisoformat(self.previous_start_utc) if self.previous_start_utc else None

    @property
    def is_online(self) -> bool:
        return self.place_kind == "online"

    @property
    def place(self) -> str:
        """``online``, or ``venue, city`` for an event in a room."""
        if self.is_online:
            return "online"
        return ", ".join(p for p in (self.venue, self.city) if p)

    def visible_to(self, viewer: Viewer) -> bool:
        return role_allows(viewer.role, self.visibility)

    def to_dict(self) -> dict[str, Any]:
        """What ``archive event show --json`` prints (``series`` is the series id)."""
        data: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            data["series" if f.name == "series_id" else f.name] = (
                list(value) if isinstance(value, tuple) else value
            )
        data["end_utc"] = _iso(self.end)
        data["start_local"] = self.local_start.isoformat()
        data["place"] = self.place
        return data


@dataclass(frozen=True)
class Poster:
    """A poster image checked from its content, not yet stored."""

    data: bytes
    mime: str
    extension: str
    sha256: str


@dataclass(frozen=True)
class AttachOutcome:
    event: Event
    item_id: str | None  # None while a queued ingest has not run yet
    duplicate: bool = False  # the same recording was already archived: that item is linked
    job: Job | None = None  # the queued ingest job, or (with wait) the transcription job that ran


# -- time --------------------------------------------------------------------------------------


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


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat(timespec="seconds")


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


def _describe(event: Event, zone: ZoneInfo, locale: str) -> dict[str, Any]:
    from babel.dates import format_datetime, format_skeleton, format_time, get_timezone_name

    start = event.start.astimezone(zone)
    end = event.end.astimezone(zone)
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


def format_event_time(event: Event, viewer_tz: str, locale: str) -> dict[str, Any]:
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
    viewer = _describe(event, viewer_zone, locale)
    organiser = _describe(event, organiser_zone, locale)
    v_start, o_start = event.start.astimezone(viewer_zone), event.start.astimezone(organiser_zone)
    out: dict[str, Any] = {
        "viewer": viewer["text"],
        "organiser": organiser["text"],
        "viewer_parts": viewer,
        "organiser_parts": organiser,
        "same_offset": v_start.utcoffset() == o_start.utcoffset(),
        "day_offset": (v_start.date() - o_start.date()).days,
    }
    if event.previous_start_utc:
        from dataclasses import replace

        before = replace(event, start_utc=event.previous_start_utc)
        out["previous_viewer"] = _describe(before, viewer_zone, locale)["text"]
        out["previous_organiser"] = _describe(before, organiser_zone, locale)["text"]
    return out


# -- checks ------------------------------------------------------------------------------------


def check_join_url(url: str | None) -> str | None:
    """A join or registration link: http or https with a host, nothing else (no ``javascript:``,
    ``data:`` or ``file:``: the portal renders it as a link people click)."""
    if url is None:
        return None
    raw = str(url).strip()
    if not raw:
        return None
    if len(raw) > 2000:
        raise InputError("the join link is longer than 2000 characters")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in raw):
        raise InputError("the join link contains spaces or control characters")
    parts = urllib.parse.urlsplit(raw)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        shown = f"{scheme}:" if scheme else "no scheme"
        raise InputError(f"the join link must be an http:// or https:// link, not {shown}")
    if not parts.hostname:
        raise InputError(f"the join link {raw!r} has no host name")
    return raw


def check_poster(path: str | os.PathLike[str]) -> Poster:
    """Read a poster and check from its bytes that it is a PNG, JPEG or WebP image."""
    import filetype

    source = Path(path).expanduser()
    if not source.is_file():
        raise InputError(f"the poster {source} does not exist or is not a file")
    size = source.stat().st_size
    if size == 0:
        raise InputError(f"the poster {source.name} is empty")
    if size > POSTER_MAX_BYTES:
        raise InputError(
            f"the poster {source.name} is {size / 1024**2:.1f} MB, over the limit of "
            f"{POSTER_MAX_BYTES // 1024**2} MB"
        )
    data = source.read_bytes()
    kind = filetype.guess(data[:8192])
    if kind is None or kind.mime not in POSTER_TYPES:
        found = f" (it looks like {kind.mime})" if kind else ""
        raise InputError(f"the poster {source.name} is not a PNG, JPEG or WebP image{found}")
    return Poster(
        data=data,
        mime=kind.mime,
        extension=POSTER_TYPES[kind.mime],
        sha256=hashlib.sha256(data).hexdigest(),
    )


def _store_poster(settings: Settings, poster: Poster) -> str:
    """Write the poster to ``media/posters/<sha256>.<ext>`` (atomically); its path in the folder."""
    folder = settings.media_dir / "posters"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{poster.sha256}.{poster.extension}"
    if not target.is_file():
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".poster-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(poster.data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return str(target.relative_to(settings.home))


def poster_file(settings: Settings, event: Event) -> tuple[Path, str] | None:
    """The poster's file and MIME type, or None. The path is taken from the catalog and must name
    a regular file inside the posters folder (archive.core.paths), symlinks followed."""
    if not event.poster_path:
        return None
    try:
        path = confined_file(settings.home, event.poster_path, POSTER_FOLDER)
    except NotFoundError:
        return None
    return path, event.poster_mime or "application/octet-stream"


def parse_place(text: str | None) -> tuple[str, str, str]:
    """``online`` → online; ``City`` or ``City, Venue`` → in person. Returns (kind, city, venue)."""
    raw = (text or "").strip()
    if not raw or raw.lower() in ("online", "網上", "线上", "線上"):
        return "online", "", ""
    city, _, venue = raw.partition(",")
    return "in-person", city.strip(), venue.strip()


def _clean_list(values: Iterable[str] | None) -> list[str]:
    out: list[str] = []
    for value in values or ():
        text = str(value).strip()
        if text and text not in out:
            out.append(text)
    return out


def _check_languages(values: Iterable[str] | None) -> list[str]:
    languages = _clean_list(values)
    for lang in languages:
        if lang not in EVENT_LANGUAGES:
            raise InputError(f"language must be one of {', '.join(EVENT_LANGUAGES)}, not {lang!r}")
    return languages


def _check_duration(value: Any) -> int:
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


def _check_visibility(value: str) -> str:
    if value not in VISIBILITIES:
        raise InputError(f"visibility must be one of {', '.join(VISIBILITIES)}, not {value!r}")
    return value


def _check_place(kind: str, city: str, venue: str) -> tuple[str, str, str]:
    if kind not in PLACE_KINDS:
        raise InputError(f"the place must be online or in-person, not {kind!r}")
    city, venue = (city or "").strip(), (venue or "").strip()
    if kind == "in-person" and not city:
        raise InputError('an event in person needs a city (--place "City, Venue")')
    if kind == "online":
        city, venue = "", ""
    return kind, city, venue


# -- series ------------------------------------------------------------------------------------


def _series_from_row(row: sqlite3.Row) -> Series:
    return Series(**dict(row))


def create_series(
    catalog: Catalog,
    series_id: str,
    *,
    title_zh: str = "",
    title_en: str = "",
    description_zh: str = "",
    description_en: str = "",
) -> Series:
    """A new series. Its id is a short slug (``uk-tour-2026``): it is part of feed URLs."""
    series_id = (series_id or "").strip()
    if not SERIES_ID.match(series_id):
        raise InputError(
            f"a series id is lower-case letters, digits and hyphens (e.g. uk-tour-2026), not {series_id!r}"
        )
    title_zh, title_en = (title_zh or "").strip(), (title_en or "").strip()
    if not (title_zh or title_en):
        raise InputError("a series needs a title (--title-zh and/or --title-en)")
    with catalog.transaction() as conn:
        if conn.execute("SELECT 1 FROM series WHERE id = ?", (series_id,)).fetchone():
            raise InputError(f"there is already a series {series_id}")
        conn.execute(
            "INSERT INTO series (id, title_zh, title_en, description_zh, description_en, created_at) "
            "VALUES (?,?,?,?,?,?)",
            (
                series_id,
                title_zh,
                title_en,
                (description_zh or "").strip(),
                (description_en or "").strip(),
                now_utc(),
            ),
        )
        note_change(conn)
    return get_series(catalog, series_id)


def update_series(catalog: Catalog, series_id: str, **values: str) -> Series:
    allowed = {"title_zh", "title_en", "description_zh", "description_en"}
    unknown = set(values) - allowed
    if unknown:
        raise InputError(f"unknown series field(s): {', '.join(sorted(unknown))}")
    current = get_series(catalog, series_id)
    merged = {
        k: (values[k] if k in values and values[k] is not None else getattr(current, k))
        for k in allowed
    }
    if not (merged["title_zh"].strip() or merged["title_en"].strip()):
        raise InputError("a series needs a title (--title-zh and/or --title-en)")
    with catalog.transaction() as conn:
        conn.execute(
            "UPDATE series SET title_zh = ?, title_en = ?, description_zh = ?, description_en = ? WHERE id = ?",
            (
                merged["title_zh"].strip(),
                merged["title_en"].strip(),
                merged["description_zh"].strip(),
                merged["description_en"].strip(),
                series_id,
            ),
        )
        note_change(conn)
    return get_series(catalog, series_id)


def get_series(catalog: Catalog, series_id: str) -> Series:
    row = catalog.conn.execute("SELECT * FROM series WHERE id = ?", (series_id,)).fetchone()
    if row is None:
        raise _no_series(series_id)
    return _series_from_row(row)


def _no_series(series_id: str) -> InputError:
    # One error for "no such series" and "a series you may not see": the two read the same.
    return InputError(f"no series {series_id!r}: see `archive series list`")


def list_series(catalog: Catalog) -> list[Series]:
    return [
        _series_from_row(r)
        for r in catalog.conn.execute("SELECT * FROM series ORDER BY created_at, rowid")
    ]


def _check_series(catalog: Catalog, series_id: str | None) -> str | None:
    if series_id is None or not str(series_id).strip():
        return None
    return get_series(catalog, str(series_id).strip()).id


def set_item_series(catalog: Catalog, item_id: str, series_id: str | None) -> Item:
    """Put an item in a series (None: in none)."""
    return catalog.update_item(item_id, series_id=_check_series(catalog, series_id))


def items_in_series(catalog: Catalog, series_id: str, viewer: Viewer) -> list[Item]:
    """The items of a series the viewer may see, oldest recording first (a programme's order).

    A series the viewer may not see is the same error as one that does not exist."""
    visible_series(catalog, series_id, viewer)
    items = catalog.list_items(
        role=viewer.role, series_id=series_id, order="recorded_date ASC, created_at ASC"
    )
    return [present_item(i, viewer) for i in items]


def series_has_visible_content(catalog: Catalog, series_id: str, viewer: Viewer) -> bool:
    """Whether the viewer may see, now, at least one event or recording of the series.

    The one definition of a series' visibility below staff: every route (feeds, the portal's
    series page and lists, the Events filter, ``archive event list --series --role``) asks here.
    Recordings count at their level in force now (an embargo that has not yet ended keeps its
    item out); events at their visibility.
    """
    allowed = [v for v in VISIBILITIES if role_allows(viewer.role, v)]
    marks = ", ".join("?" * len(allowed))
    row = catalog.conn.execute(
        f"SELECT 1 FROM events WHERE series_id = ? AND visibility IN ({marks}) LIMIT 1",
        (series_id, *allowed),
    ).fetchone()
    if row is not None:
        return True
    return bool(catalog.list_items(role=viewer.role, series_id=series_id, limit=1))


def visible_series(catalog: Catalog, series_id: str, viewer: Viewer) -> Series:
    """The series, or the very error of an unknown id when the viewer may not see it.

    Staff see every series (they make them before filling them). Anyone else sees a series only
    while it holds something they may see (:func:`series_has_visible_content`): an empty series,
    or one of staff-only drafts, must not give away its title, description or existence.
    """
    series = get_series(catalog, series_id)
    if viewer.is_staff or series_has_visible_content(catalog, series.id, viewer):
        return series
    raise _no_series(series_id)


def visible_series_list(catalog: Catalog, viewer: Viewer) -> list[Series]:
    """The series the viewer may see (:func:`visible_series`), in creation order."""
    return [
        s
        for s in list_series(catalog)
        if viewer.is_staff or series_has_visible_content(catalog, s.id, viewer)
    ]


# -- events ------------------------------------------------------------------------------------


def _new_event_id() -> str:
    # Random like item ids (an id says nothing about how many events exist), "ev" to tell them apart.
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "ev" + "".join(secrets.choice(alphabet) for _ in range(8))


def _event_from_row(row: sqlite3.Row) -> Event:
    data = dict(row)
    data["languages"] = tuple(json.loads(data["languages"]))
    data["speakers"] = tuple(json.loads(data["speakers"]))
    return Event(**data)


def _encode(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return json.dumps(list(value), ensure_ascii=False)
    return value


def create_event(
    settings: Settings,
    catalog: Catalog,
    *,
    title_zh: str = "",
    title_en: str = "",
    start: str,
    tz: str,
    duration_minutes: int,
    fold: int | None = None,
    description_zh: str = "",
    description_en: str = "",
    languages: Sequence[str] = (),
    speakers: Sequence[str] = (),
    series_id: str | None = None,
    place: str | None = None,
    place_kind: str | None = None,
    city: str = "",
    venue: str = "",
    join_url: str | None = None,
    poster: str | os.PathLike[str] | None = None,
    visibility: str = "staff",
) -> Event:
    """Announce an event. ``start`` is the organiser's wall-clock time ``YYYY-MM-DD HH:MM`` in
    ``tz``; ``place`` is ``online`` or ``City, Venue`` (or give ``place_kind``/``city``/``venue``).

    Everything is checked before anything is written: a bad value raises InputError and leaves no
    event, no poster file.
    """
    title_zh, title_en = (title_zh or "").strip(), (title_en or "").strip()
    if not (title_zh or title_en):
        raise InputError("an event needs a title (--title-zh and/or --title-en)")
    start_utc = local_to_utc(start, tz, fold)
    tz = check_timezone(tz).key
    minutes = _check_duration(duration_minutes)
    if place is not None:
        place_kind, city, venue = parse_place(place)
    kind, city, venue = _check_place(place_kind or ("in-person" if city else "online"), city, venue)
    values: dict[str, Any] = {
        "title_zh": title_zh,
        "title_en": title_en,
        "description_zh": (description_zh or "").strip(),
        "description_en": (description_en or "").strip(),
        "start_utc": _iso(start_utc),
        "tz": tz,
        "duration_minutes": minutes,
        "languages": _check_languages(languages),
        "speakers": _clean_list(speakers),
        "series_id": _check_series(catalog, series_id),
        "place_kind": kind,
        "city": city,
        "venue": venue,
        "join_url": check_join_url(join_url),
        "visibility": _check_visibility(visibility),
    }
    checked_poster = check_poster(poster) if poster else None
    if checked_poster is not None:
        values["poster_path"] = _store_poster(settings, checked_poster)
        values["poster_mime"] = checked_poster.mime
    stamp = now_utc()
    event_id = _new_event_id()
    columns = ["id", "uid", "status", "sequence", "created_at", "updated_at", *values]
    params = [
        event_id,
        f"{uuid.uuid4()}@hk-labour-archive",
        "scheduled",
        0,
        stamp,
        stamp,
        *(_encode(v) for v in values.values()),
    ]
    with catalog.transaction() as conn:
        conn.execute(
            f"INSERT INTO events ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            params,
        )
        note_change(conn)
    return get_event(catalog, event_id)


def _raw_event(catalog: Catalog, event_id: str) -> Event:
    row = catalog.conn.execute("SELECT * FROM events WHERE id = ?", (event_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no event {event_id}")
    return _event_from_row(row)


def get_event(catalog: Catalog, event_id: str) -> Event:
    """An event by id, as staff see it (NotFoundError when there is none)."""
    event = _raw_event(catalog, event_id)
    if event.item_id is None:
        resolve_attachments(catalog, [event.id])
        event = _raw_event(catalog, event_id)
    return event


def visible_event(catalog: Catalog, event_id: str, viewer: Viewer) -> Event:
    """The event, or NotFoundError when it does not exist *or* the viewer may not see it."""
    try:
        event = get_event(catalog, event_id)
    except NotFoundError:
        raise NotFoundError(f"no event {event_id}") from None
    if not event.visible_to(viewer):
        raise NotFoundError(f"no event {event_id}")
    return event


def list_events(
    catalog: Catalog,
    *,
    viewer: Viewer,
    series_id: str | None = None,
    statuses: Sequence[str] | None = None,
    upcoming: bool | None = None,
    now: datetime | None = None,
    limit: int | None = None,
) -> list[Event]:
    """Events the viewer may see. ``upcoming=True``: not yet over at ``now`` (soonest first);
    ``False``: over (latest first); None: all, in start order. ``statuses`` filters by status."""
    if series_id is not None:
        visible_series(catalog, series_id, viewer)
    for status in statuses or ():
        if status not in EVENT_STATUSES:
            raise InputError(f"status must be one of {', '.join(EVENT_STATUSES)}, not {status!r}")
    allowed = [v for v in VISIBILITIES if role_allows(viewer.role, v)]
    sql = f"SELECT * FROM events WHERE visibility IN ({', '.join('?' * len(allowed))})"
    params: list[Any] = list(allowed)
    if series_id is not None:
        sql += " AND series_id = ?"
        params.append(series_id)
    if statuses:
        sql += f" AND status IN ({', '.join('?' * len(statuses))})"
        params.extend(statuses)
    sql += " ORDER BY start_utc, id"
    rows = catalog.conn.execute(sql, params).fetchall()
    unlinked = [r["id"] for r in rows if r["item_id"] is None]
    if unlinked and resolve_attachments(catalog, unlinked):
        rows = catalog.conn.execute(sql, params).fetchall()
    events = [_event_from_row(r) for r in rows]
    if upcoming is not None:
        moment = now or datetime.now(UTC)
        if upcoming:
            events = [e for e in events if e.end >= moment]
        else:
            events = [e for e in events if e.end < moment][::-1]
    return events[:limit] if limit else events


def _changed(current: Event, values: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in values.items():
        old = getattr(current, key)
        if isinstance(old, tuple):
            old = list(old)
        if old != value:
            out[key] = value
    return out


def _write(
    catalog: Catalog, event_id: str, values: dict[str, Any], *, expect_sequence: int
) -> Event:
    """Apply changes and raise the sequence by one, if nobody changed the event meanwhile."""
    assignments = ", ".join(f"{k} = ?" for k in values)
    with catalog.transaction() as conn:
        cur = conn.execute(
            f"UPDATE events SET {assignments}, sequence = sequence + 1, updated_at = ? "
            "WHERE id = ? AND sequence = ?",
            [*(_encode(v) for v in values.values()), now_utc(), event_id, expect_sequence],
        )
        if cur.rowcount == 0:
            _raw_event(catalog, event_id)  # NotFoundError when it is gone
            raise InputError(f"event {event_id} was changed by someone else meanwhile: try again")
        note_change(conn)
    return get_event(catalog, event_id)


def update_event(
    settings: Settings,
    catalog: Catalog,
    event_id: str,
    *,
    start: str | None = None,
    tz: str | None = None,
    fold: int | None = None,
    place: str | None = None,
    poster: str | os.PathLike[str] | None = None,
    remove_poster: bool = False,
    **values: Any,
) -> Event:
    """Change an event; the sequence is raised when anything actually changed.

    ``start``/``tz``/``fold`` are read like :func:`create_event`'s. Changing only ``tz`` keeps the
    wall-clock time and reads it in the new zone (the organiser named the wrong zone). Other
    keyword values are event fields (``title_en``, ``speakers``, ``join_url``, ``series_id``,
    ``duration_minutes``, ``visibility`` …); None means unchanged, ``""`` clears a text field. The
    status is changed by :func:`postpone_event`, :func:`cancel_event`, :func:`hold_event`.
    """
    current = get_event(catalog, event_id)
    unknown = set(values) - set(EVENT_EDITABLE)
    unknown |= {k for k in values if k in ("start_utc", "poster_path", "poster_mime")}
    if unknown:
        raise InputError(f"unknown or read-only event field(s): {', '.join(sorted(unknown))}")
    changes: dict[str, Any] = {}
    given = {k: v for k, v in values.items() if v is not None}
    for key in ("title_zh", "title_en", "description_zh", "description_en"):
        if key in given:
            changes[key] = str(given[key]).strip()
    title_zh = changes.get("title_zh", current.title_zh)
    title_en = changes.get("title_en", current.title_en)
    if not (title_zh or title_en):
        raise InputError("an event needs a title (--title-zh and/or --title-en)")
    if start is not None or tz is not None:
        zone_name = check_timezone(tz).key if tz is not None else current.tz
        wall = start if start is not None else current.local_start.strftime("%Y-%m-%d %H:%M")
        if start is None and fold is None:
            fold = current.local_start.fold
        changes["start_utc"] = _iso(local_to_utc(wall, zone_name, fold))
        changes["tz"] = zone_name
    if "duration_minutes" in given:
        changes["duration_minutes"] = _check_duration(given["duration_minutes"])
    if "languages" in given:
        changes["languages"] = _check_languages(given["languages"])
    if "speakers" in given:
        changes["speakers"] = _clean_list(given["speakers"])
    if "series_id" in given:
        changes["series_id"] = _check_series(catalog, given["series_id"])
    if "join_url" in given:
        changes["join_url"] = check_join_url(given["join_url"])
    if "visibility" in given:
        changes["visibility"] = _check_visibility(given["visibility"])
    if place is not None or any(k in given for k in ("place_kind", "city", "venue")):
        if place is not None:
            kind, city, venue = parse_place(place)
        else:
            kind = given.get("place_kind", current.place_kind)
            city = given.get("city", current.city)
            venue = given.get("venue", current.venue)
            if "place_kind" not in given and city and kind == "online":
                kind = "in-person"
        changes["place_kind"], changes["city"], changes["venue"] = _check_place(kind, city, venue)
    if poster is not None and remove_poster:
        raise InputError("give a new poster or remove it, not both")
    checked_poster = check_poster(poster) if poster is not None else None
    if remove_poster:
        changes["poster_path"], changes["poster_mime"] = None, None
    changes = _changed(current, changes)
    if checked_poster is not None:
        path = _store_poster(settings, checked_poster)
        if path != current.poster_path:
            changes["poster_path"], changes["poster_mime"] = path, checked_poster.mime
    if not changes:
        return current
    return _write(catalog, event_id, changes, expect_sequence=current.sequence)


def postpone_event(
    catalog: Catalog, event_id: str, start: str, *, tz: str | None = None, fold: int | None = None
) -> Event:
    """Move an event to a later time; the status becomes ``postponed`` and the time it had before
    is kept in ``previous_start_utc``."""
    current = get_event(catalog, event_id)
    if current.status in ("cancelled", "held"):
        raise InputError(f"event {event_id} is {current.status}: it cannot be postponed")
    zone_name = check_timezone(tz).key if tz is not None else current.tz
    new_start = local_to_utc(start, zone_name, fold)
    if new_start <= current.start:
        raise InputError(
            f"postponing moves an event later than {current.local_start:%Y-%m-%d %H:%M} ({current.tz}); "
            "to correct the time use `archive event edit --start`"
        )
    return _write(
        catalog,
        event_id,
        {
            "start_utc": _iso(new_start),
            "tz": zone_name,
            "status": "postponed",
            "previous_start_utc": current.start_utc,
        },
        expect_sequence=current.sequence,
    )


def cancel_event(catalog: Catalog, event_id: str) -> Event:
    """Cancel an event. It stays in the calendar feeds, marked ``STATUS:CANCELLED``, so calendars
    that have it drop it."""
    current = get_event(catalog, event_id)
    if current.status == "cancelled":
        raise InputError(f"event {event_id} is already cancelled")
    if current.status == "held":
        raise InputError(f"event {event_id} was held: it cannot be cancelled")
    return _write(catalog, event_id, {"status": "cancelled"}, expect_sequence=current.sequence)


def hold_event(catalog: Catalog, event_id: str) -> Event:
    """Record that an event took place (``held``); nothing changes when it already is."""
    current = get_event(catalog, event_id)
    if current.status == "cancelled":
        raise InputError(f"event {event_id} is cancelled: it cannot have been held")
    if current.status == "held":
        return current
    return _write(catalog, event_id, {"status": "held"}, expect_sequence=current.sequence)


def event_permalink(event_id: str, base_url: str | None = None) -> str:
    """``{base}/?event=ID`` (relative ``?event=ID`` without a base), like items' ``?item=ID``."""
    query = "?" + urllib.parse.urlencode({"event": event_id})
    return f"{base_url.rstrip('/')}/{query}" if base_url else query


def event_recording(catalog: Catalog, event: Event, viewer: Viewer) -> Item | None:
    """The event's recording if it has one the viewer may see (what its permalink should open)."""
    if event.item_id is None:
        return None
    try:
        return visible_item(catalog, event.item_id, viewer)
    except NotFoundError:
        return None


# -- recordings --------------------------------------------------------------------------------


def _attach_jobs(catalog: Catalog, event_ids: Sequence[str]) -> list[sqlite3.Row]:
    marks = ", ".join("?" * len(event_ids))
    return catalog.conn.execute(
        "SELECT id, state, result, json_extract(payload, '$.event_id') AS event_id FROM jobs "
        f"WHERE kind = 'ingest' AND json_extract(payload, '$.event_id') IN ({marks}) ORDER BY id",
        list(event_ids),
    ).fetchall()


def pending_attachment(catalog: Catalog, event_id: str) -> Job | None:
    """The queued or running ingest of this event's recording, if any."""
    for row in reversed(_attach_jobs(catalog, [event_id])):
        if row["state"] in ("queued", "running"):
            return catalog.get_job(row["id"])
    return None


def resolve_attachments(catalog: Catalog, event_ids: Sequence[str]) -> int:
    """Link events to the items their finished ingest jobs made; returns how many were linked.

    Called whenever events are read, so a recording attached without waiting shows up as soon as
    its job is done, whichever process runs the job.
    """
    if not event_ids:
        return 0
    linked = 0
    for row in _attach_jobs(catalog, event_ids):
        if row["state"] != "done":
            continue
        item_id = json.loads(row["result"] or "{}").get("item_id")
        if not item_id:
            continue
        try:
            link_recording(catalog, row["event_id"], item_id)
            linked += 1
        except (InputError, NotFoundError):
            continue  # already linked, or the event was cancelled meanwhile: staff will see it
    return linked


def _check_attachable(catalog: Catalog, event_id: str) -> Event:
    event = get_event(catalog, event_id)
    if event.status == "cancelled":
        raise InputError(f"event {event_id} was cancelled: there is no recording to attach")
    if event.item_id is not None:
        raise InputError(f"event {event_id} already has its recording (item {event.item_id})")
    job = pending_attachment(catalog, event_id)
    if job is not None:
        raise InputError(
            f"a recording of event {event_id} is already being archived (job {job.id})"
        )
    return event


def link_recording(catalog: Catalog, event_id: str, item_id: str) -> Event:
    """Make ``item_id`` the recording of ``event_id``: the event is then ``held`` and the item joins
    the event's series (when it is in none). One recording per event, one event per recording."""
    with catalog.transaction() as conn:
        event = _raw_event(catalog, event_id)
        item = catalog.get_item(item_id)
        if event.item_id == item_id:
            return event
        if event.status == "cancelled":
            raise InputError(f"event {event_id} was cancelled: there is no recording to attach")
        if event.item_id is not None:
            raise InputError(f"event {event_id} already has its recording (item {event.item_id})")
        other = conn.execute(
            "SELECT id FROM events WHERE item_id = ? AND id != ?", (item_id, event_id)
        ).fetchone()
        if other is not None:
            raise InputError(f"item {item_id} is already the recording of event {other['id']}")
        conn.execute(
            "UPDATE events SET item_id = ?, status = 'held', sequence = sequence + 1, updated_at = ? "
            "WHERE id = ?",
            (item_id, now_utc(), event_id),
        )
        note_change(conn)
        if item.series_id is None and event.series_id is not None:
            catalog.update_item(item_id, series_id=event.series_id)
    return _raw_event(catalog, event_id)


def link_archived_recording(catalog: Catalog, item_id: str, payload: dict[str, Any]) -> None:
    """Hook ``archive.item_archived``: an ingest job queued for an event (``payload["event_id"]``)
    has archived its recording; link the two at once."""
    if payload.get("event_id"):
        link_recording(catalog, payload["event_id"], item_id)


def recording_options(event: Event, **overrides: Any) -> Any:
    """The :class:`~archive.ingest.intake.IngestOptions` of an event's recording: titles, descriptions,
    speakers, the organiser's date of the talk and the ``webinar`` collection come from the event;
    a spoken language too when the event has exactly one. ``overrides`` (None = inherit) are any
    other IngestOptions fields (``visibility``, ``subtitles``, ``transcribe`` …) or replacements.

    Visibility is *not* inherited: like any ingest the recording is staff-only until someone says
    otherwise (``visibility="public"``), because a recording can hold what an announcement did not.
    """
    from archive.ingest.intake import IngestOptions

    inherited: dict[str, Any] = {
        "title_zh": event.title_zh or None,
        "title_en": event.title_en or None,
        "description_zh": event.description_zh or None,
        "description_en": event.description_en or None,
        "collection": "webinar",
        "date": event.local_date,
        "speakers": tuple(event.speakers),
        "language": event.languages[0] if len(event.languages) == 1 else "auto",
    }
    given = {k: v for k, v in overrides.items() if v is not None and v != ()}
    return IngestOptions(**{**inherited, **given})


def run_ingest_now(*args: Any, **kwargs: Any) -> tuple[Any, Job | None]:
    """The ``archive ingest --wait`` path (:func:`archive.ingest.pipeline.ingest_and_transcribe`)."""
    from archive.ingest.jobs import ingest_and_transcribe

    return ingest_and_transcribe(*args, **kwargs)


def attach_recording(
    settings: Settings,
    catalog: Catalog,
    event_id: str,
    source: str,
    options: Any | None = None,
    *,
    wait: bool = False,
    progress: Callable[[str, float], None] | None = None,
) -> AttachOutcome:
    """Archive a file or link as the recording of an event, through the normal ingest path.

    ``options`` defaults to :func:`recording_options` of the event. With ``wait`` the ingest and
    transcription run here and the event is linked at once; otherwise an ingest job is queued for
    ``archive worker`` (its payload carries ``event_id``) and the event is linked when read after
    the job is done. A cancelled event, or one that has (or is getting) a recording, is refused
    before anything is fetched.
    """
    event = _check_attachable(catalog, event_id)
    options = options if options is not None else recording_options(event)
    if not wait:
        from archive.ingest.jobs import submit_ingest

        with catalog.transaction():
            # One transaction: the check, the job and its event id are seen together or not at all.
            event = _check_attachable(catalog, event_id)
            job = submit_ingest(settings, catalog, source, options)
            catalog.update_job(job.id, payload={**job.payload, "event_id": event.id})
        return AttachOutcome(
            event=get_event(catalog, event_id), item_id=None, job=catalog.get_job(job.id)
        )

    def link(outcome: Any) -> None:
        try:
            link_recording(catalog, event_id, outcome.item.id)
        except InputError as exc:
            if outcome.duplicate:
                raise InputError(
                    f"this recording is already archived as item {outcome.item.id}: {exc}"
                ) from None
            raise InputError(
                f"{exc}; the recording was archived as item {outcome.item.id}"
            ) from None

    outcome, job = run_ingest_now(
        settings, catalog, source, options, progress=progress, on_item=link
    )
    return AttachOutcome(
        event=get_event(catalog, event_id),
        item_id=outcome.item.id,
        duplicate=outcome.duplicate,
        job=job,
    )
