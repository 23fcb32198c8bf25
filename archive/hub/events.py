"""The webinar hub's events: announced talks and webinars, their checks, their changes, and who may
see them.

An **event** is announced once, in both languages. Its start is stored as an instant in UTC
(``start_utc``) together with the organiser's IANA time zone (``tz``): the instant is what every
viewer converts from, the zone is what the organiser meant and what the event is shown in beside
the viewer's own. The organiser's wall-clock times are read and formatted by
:mod:`archive.hub.times`; an event's ``series_id`` names a series of :mod:`archive.hub.series`; its
poster is checked and stored by :mod:`archive.hub.posters`. Everything is checked before anything
is written: a bad value raises InputError and leaves no event, no poster file.

Every change of an event raises its ``sequence``: calendar programs replace their copy of an event
(same ``uid``) only when the sequence grows. The status runs ``scheduled`` → (``postponed``, with a
new time, the old one kept in ``previous_start_utc``) → ``held``, or ends ``cancelled``.

An event's recording is an item (``item_id``), attached through ingest by
:mod:`archive.hub.recordings`. The link itself (:func:`link_recording`) lives here, because reading
an event resolves it: an ingest queued for an event that has finished is linked when the event is
next read (:func:`resolve_attachments`).

Access: an event has the same visibility levels as items. Every read for a viewer goes through
:func:`visible_event` / :func:`list_events`, which treat an event above the viewer's role as
nonexistent, so a members-only event (and its join link) is seen by members and staff only. Both
hand out the event as the viewer may read it (:func:`present_event`): below staff, a speaker its
recording withholds is named by the recording's label ("Witness B") in the event's speaker list
too, whether or not the viewer may see the recording itself, so the event page, the hub's lists,
the calendar and RSS feeds and ``archive event show --role public`` never pair the label with the
name.

>>> event = create_event(settings, catalog, title_zh="碼頭工人罷工十週年", title_en="Dock strike, ten years on",
...                      start="2026-07-10 20:00", tz="Europe/London", duration_minutes=90,
...                      visibility="public")
>>> format_event_time(event, "Asia/Hong_Kong", "en_GB")["viewer"]   # archive.hub.times
'Sat, 11 Jul 2026, 03:00 Hong Kong Standard Time'
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import urllib.parse
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from archive.catalog.access import Viewer, present_names, visible_item
from archive.catalog.db import Catalog, note_change
from archive.catalog.models import VISIBILITIES, Item, Job, now_utc, role_allows
from archive.core.config import Settings
from archive.core.errors import InputError, NotFoundError
from archive.core.paths import POSTER_FOLDER, confined_file
from archive.hub.posters import check_poster, public_poster, store_poster
from archive.hub.series import check_series, visible_series
from archive.hub.times import check_duration, check_timezone, local_to_utc, utc_iso
from archive.workspace.speaker_names import close_names

__all__ = [
    "EVENT_LANGUAGES",
    "EVENT_STATUSES",
    "PLACE_KINDS",
    "Event",
    "cancel_event",
    "check_join_url",
    "create_event",
    "event_permalink",
    "event_recording",
    "get_event",
    "hold_event",
    "link_recording",
    "list_events",
    "parse_place",
    "pending_attachment",
    "poster_file",
    "poster_for_viewer",
    "postpone_event",
    "present_event",
    "resolve_attachments",
    "start_is_past",
    "update_event",
    "visible_event",
]

EVENT_STATUSES = ("scheduled", "postponed", "cancelled", "held")
EVENT_LANGUAGES = ("yue", "zh", "en")
PLACE_KINDS = ("online", "in-person")

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
        data["end_utc"] = utc_iso(self.end)
        data["start_local"] = self.local_start.isoformat()
        data["place"] = self.place
        return data


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


def poster_for_viewer(settings: Settings, event: Event, viewer: Viewer) -> tuple[Path, str] | None:
    """The poster file ``viewer`` is served, or None: staff get the stored file as it was given,
    everyone else the copy without EXIF or any other metadata (:func:`public_poster`). A poster
    whose copy cannot be made is no poster below staff, never the original."""
    found = poster_file(settings, event)
    if found is None or viewer.is_staff:
        return found
    try:
        return public_poster(settings, *found)
    except (OSError, ValueError, InputError):
        return None


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


def start_is_past(start: datetime) -> bool:
    """Whether the UTC instant ``start`` is already over, as of now."""
    return start <= datetime.now(UTC)


def _refuse_past(start: datetime, wall: str, tz: str) -> None:
    if start_is_past(start):
        raise InputError(
            f"the start {wall} ({tz}) is in the past: an announcement is for an event to come. "
            "To record an event that already took place, say so (--past on the command line)"
        )


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
    refuse_past: bool = False,
    held: bool = False,
) -> Event:
    """Announce an event. ``start`` is the organiser's wall-clock time ``YYYY-MM-DD HH:MM`` in
    ``tz``; ``place`` is ``online`` or ``City, Venue`` (or give ``place_kind``/``city``/``venue``).

    ``refuse_past`` (what the CLI and the portal ask for unless staff said the event already took
    place) refuses a start that is already over; ``held`` records the event as one that took
    place (status ``held``), for a past event entered after the fact.

    Everything is checked before anything is written: a bad value raises InputError and leaves no
    event, no poster file.
    """
    title_zh, title_en = (title_zh or "").strip(), (title_en or "").strip()
    if not (title_zh or title_en):
        raise InputError("an event needs a title (--title-zh and/or --title-en)")
    start_utc = local_to_utc(start, tz, fold)
    tz = check_timezone(tz).key
    if refuse_past:
        _refuse_past(start_utc, start, tz)
    minutes = check_duration(duration_minutes)
    if place is not None:
        place_kind, city, venue = parse_place(place)
    kind, city, venue = _check_place(place_kind or ("in-person" if city else "online"), city, venue)
    values: dict[str, Any] = {
        "title_zh": title_zh,
        "title_en": title_en,
        "description_zh": (description_zh or "").strip(),
        "description_en": (description_en or "").strip(),
        "start_utc": utc_iso(start_utc),
        "tz": tz,
        "duration_minutes": minutes,
        "languages": _check_languages(languages),
        "speakers": _clean_list(speakers),
        "series_id": check_series(catalog, series_id),
        "place_kind": kind,
        "city": city,
        "venue": venue,
        "join_url": check_join_url(join_url),
        "visibility": _check_visibility(visibility),
    }
    checked_poster = check_poster(poster) if poster else None
    if checked_poster is not None:
        values["poster_path"] = store_poster(settings, checked_poster)
        values["poster_mime"] = checked_poster.mime
    stamp = now_utc()
    event_id = _new_event_id()
    columns = ["id", "uid", "status", "sequence", "created_at", "updated_at", *values]
    params = [
        event_id,
        f"{uuid.uuid4()}@hk-labour-archive",
        "held" if held else "scheduled",
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


def present_event(catalog: Catalog, event: Event, viewer: Viewer) -> Event:
    """The event as ``viewer`` may read it: below staff, the speakers its recording withholds are
    the recording's labels (:func:`archive.catalog.access.present_names`), and so is a spelling
    close to one (:func:`archive.workspace.speaker_names.close_names`). The recording is read
    as stored, whoever the viewer is: its withholding covers the event even when the recording
    itself is above the viewer."""
    if viewer.is_staff or event.item_id is None or not event.speakers:
        return event
    item = catalog.find_item(event.item_id)
    if item is None or not item.withheld_speakers:
        return event
    # An event's short speaker list beside its recording: a spelling close to a withheld name
    # there is that person (typed again by whoever announced the talk), so it is labelled too.
    labels = [(name, label) for name, label in item.withheld_speakers]
    spelled = [
        next((label for name, label in labels if close_names(speaker, name)), speaker)
        for speaker in event.speakers
    ]
    shown = present_names(item, spelled, viewer)
    return replace(event, speakers=tuple(dict.fromkeys(shown)))


def visible_event(catalog: Catalog, event_id: str, viewer: Viewer) -> Event:
    """The event as the viewer may read it (:func:`present_event`), or NotFoundError when it does
    not exist *or* the viewer may not see it."""
    try:
        event = get_event(catalog, event_id)
    except NotFoundError:
        raise NotFoundError(f"no event {event_id}") from None
    if not event.visible_to(viewer):
        raise NotFoundError(f"no event {event_id}")
    return present_event(catalog, event, viewer)


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
    """Events the viewer may see, as they may read them (:func:`present_event`). ``upcoming=True``: not yet over at ``now`` (soonest first);
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
    events = [present_event(catalog, _event_from_row(r), viewer) for r in rows]
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
    refuse_past: bool = False,
    **values: Any,
) -> Event:
    """Change an event; the sequence is raised when anything actually changed.

    ``start``/``tz``/``fold`` are read like :func:`create_event`'s; with ``refuse_past`` a new
    start that is already over is refused (an unchanged one never is). Changing only ``tz`` keeps the
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
        moment = local_to_utc(wall, zone_name, fold)
        if refuse_past and moment != current.start:
            _refuse_past(moment, wall, zone_name)
        changes["start_utc"] = utc_iso(moment)
        changes["tz"] = zone_name
    if "duration_minutes" in given:
        changes["duration_minutes"] = check_duration(given["duration_minutes"])
    if "languages" in given:
        changes["languages"] = _check_languages(given["languages"])
    if "speakers" in given:
        changes["speakers"] = _clean_list(given["speakers"])
    if "series_id" in given:
        changes["series_id"] = check_series(catalog, given["series_id"])
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
        path = store_poster(settings, checked_poster)
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
            "start_utc": utc_iso(new_start),
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


# -- the recording's link -------------------------------------------------------------------


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
