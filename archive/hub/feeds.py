"""Feeds of the webinar hub, built with well-kept libraries: iCalendar (RFC 5545, ``icalendar``) for
events, RSS 2.0 / Atom and podcasts (``feedgen`` with its iTunes extension, plus the Podcasting 2.0
``podcast:transcript`` and ``podcast:chapters`` tags) for recordings.

Only what is **public** goes into a feed, ever: events whose visibility is ``public``, items that a
``Viewer("public")`` may see now (embargoes included). Enclosures are the files a public viewer is
served (:func:`public_audio`: the public rendition, redacted spans silenced and no tags of the
original), and
their byte lengths are those files' sizes, so the feed and the served file agree. Feed transcripts
leave redacted segments out entirely.

Every link is absolute on the archive's own base URL (``ARCHIVE_PUBLIC_URL`` or ``--base-url``):
a feed never points a reader at another host for media, transcripts, chapters or images (a source
page's address, such as a video site, is not put in any feed). The one exception is an event's
join link, which a person chooses to follow.

Output is deterministic for unchanged data (dates come from the catalog, not the clock), so the
HTTP routes can answer ``304 Not Modified`` from an ETag of the bytes.

Stable URLs (served by :mod:`archive.portal.routes.feeds`, built by the ``*_path`` helpers here)::

    /feeds/events.ics                     public events
    /feeds/series/{series}/events.ics     public events of a series
    /feeds/events/{event}.ics             one public event
    /feeds/rss.xml   /feeds/atom.xml      public recordings (news feed, links to the portal)
    /feeds/podcast.xml                    podcast of all public recordings
    /feeds/podcast/{collection}.xml       podcast of a collection
    /feeds/series/{series}/podcast.xml    podcast of a series
    /feeds/media/{item}.m4a               public audio (enclosures)
    /feeds/transcripts/{item}.{zh|en}.{vtt|srt}
    /feeds/chapters/{item}.json           Podcasting 2.0 JSON chapters
    /feeds/posters/{event}                a public event's poster
    /feeds/logo-{digest}.png              the archive's logo: the podcasts' cover art
"""

from __future__ import annotations

import hashlib
import json
import urllib.parse
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from archive.catalog.access import Viewer, present_item, visible_revision
from archive.catalog.db import Catalog
from archive.catalog.models import COLLECTIONS, Item
from archive.core.config import Settings
from archive.core.errors import ArchiveError, InputError, NotFoundError
from archive.core.text_safety import link_url
from archive.hub.events import Event, event_permalink, list_events
from archive.hub.series import Series, get_series, visible_series
from archive.hub.times import format_event_time
from archive.media.renditions import media_for_viewer
from transcripts.segments import Segment
from transcripts.subtitles import export

__all__ = [
    "CHAPTERS_TYPE",
    "LOGO_FILE",
    "LOGO_TYPE",
    "PODCAST_NS",
    "TRANSCRIPT_TYPES",
    "atom_path",
    "chapters_document",
    "chapters_json",
    "chapters_path",
    "check_base_url",
    "event_ics",
    "event_ics_path",
    "events_calendar",
    "events_ics_path",
    "feed_base_url",
    "item_permalink",
    "logo_digest",
    "logo_path",
    "media_path",
    "podcast_feed",
    "podcast_path",
    "poster_path",
    "public_audio",
    "public_recordings",
    "public_segments",
    "rss_feed",
    "rss_path",
    "transcript_path",
    "transcript_text",
]

PODCAST_NS = "https://podcastindex.org/namespace/1.0"
TRANSCRIPT_TYPES = {"vtt": "text/vtt", "srt": "application/x-subrip"}
TRANSCRIPT_LANGUAGES = {"zh": "zh-Hant", "en": "en"}
CHAPTERS_TYPE = "application/json+chapters"
FEED_LANGUAGE = "zh-hk"
COLLECTION_TITLES = {
    "webinar": ("網上講座", "Webinars"),
    "interview": ("訪談", "Interviews"),
    "strike-anniversary": ("罷工週年紀念", "Strike anniversaries"),
    "other": ("其他錄音", "Other recordings"),
}
# The date of an empty feed: fixed, so an empty feed's bytes (and ETag) do not change every call.
_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
# The podcasts' cover art, shipped with the package: 1400 x 1400 RGB PNG, no transparency (what
# Apple Podcasts asks for), the portal's favicon microphone (archive.portal.ui.favicon) on a full square.
LOGO_FILE = Path(__file__).with_name("feed_logo.png")
LOGO_TYPE = "image/png"


# -- URLs ----------------------------------------------------------------------------------------


def events_ics_path(series_id: str | None = None) -> str:
    return f"/feeds/series/{_seg(series_id)}/events.ics" if series_id else "/feeds/events.ics"


def event_ics_path(event_id: str) -> str:
    return f"/feeds/events/{_seg(event_id)}.ics"


def podcast_path(collection: str | None = None, series_id: str | None = None) -> str:
    if series_id:
        return f"/feeds/series/{_seg(series_id)}/podcast.xml"
    if collection:
        return f"/feeds/podcast/{_seg(collection)}.xml"
    return "/feeds/podcast.xml"


def rss_path() -> str:
    return "/feeds/rss.xml"


def atom_path() -> str:
    return "/feeds/atom.xml"


def media_path(item_id: str) -> str:
    return f"/feeds/media/{_seg(item_id)}.m4a"


def transcript_path(item_id: str, track: str, fmt: str) -> str:
    return f"/feeds/transcripts/{_seg(item_id)}.{track}.{fmt}"


def chapters_path(item_id: str) -> str:
    return f"/feeds/chapters/{_seg(item_id)}.json"


def poster_path(event_id: str) -> str:
    return f"/feeds/posters/{_seg(event_id)}"


@lru_cache(maxsize=1)
def logo_digest() -> str | None:
    """The first 12 hex digits of the logo's SHA-256, or None when the package has no logo."""
    try:
        return hashlib.sha256(LOGO_FILE.read_bytes()).hexdigest()[:12]
    except FileNotFoundError:
        return None


def logo_path() -> str | None:
    """The logo's URL path, named by its content: podcast apps fetch artwork again only when its
    URL changes, and the route can let caches keep it for a year. None when there is no logo."""
    digest = logo_digest()
    return f"/feeds/logo-{digest}.png" if digest else None


def _seg(value: str | None) -> str:
    return urllib.parse.quote(str(value), safe="")


def check_base_url(url: str) -> str:
    """An absolute http(s) base URL without a trailing slash (``https://archive.example.org``)."""
    raw = (url or "").strip().rstrip("/")
    parts = urllib.parse.urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(
            f"the base URL must be an absolute http:// or https:// address, not {url!r}"
        )
    if parts.query or parts.fragment:
        raise InputError(f"the base URL {url!r} must not have a query or fragment")
    return raw


def feed_base_url(settings: Settings, override: str | None = None) -> str:
    """``override`` (``--base-url``), else ``ARCHIVE_PUBLIC_URL``; InputError when neither is set."""
    chosen = override or settings.public_url
    if not chosen:
        raise InputError(
            "feeds need absolute links: set ARCHIVE_PUBLIC_URL or pass --base-url https://your.archive"
        )
    return check_base_url(chosen)


def item_permalink(item_id: str, base_url: str) -> str:
    """The portal page of an item: ``{base}/?item=ID`` (as :func:`archive.catalog.cite.permalink`)."""
    return f"{base_url}/?{urllib.parse.urlencode({'item': item_id})}"


# -- text helpers -----------------------------------------------------------------------------------


def _both(zh: str, en: str, sep: str = " | ") -> str:
    return sep.join(t for t in (zh.strip(), en.strip()) if t)


def _stamp(value: str | None) -> datetime:
    if not value:
        return _EPOCH
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# -- iCalendar ---------------------------------------------------------------------------------------


def _calendar(name: str, description: str, organisation: str) -> Any:
    from icalendar import Calendar

    cal = Calendar()
    cal.add("prodid", f"-//{organisation}//Webinar hub//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    # icalendar writes NAME and X-WR-* values as they are: a line break in a title (outside text
    # can hold one) would make an invalid file, so these are one line.
    cal.add("name", " ".join(name.split()))
    cal.add("x-wr-calname", " ".join(name.split()))
    if description:
        cal.add("description", description)
        cal.add("x-wr-caldesc", " ".join(description.split()))
    # Subscribers re-read the feed hourly: a postponement or cancellation reaches them that day.
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    return cal


def _description(
    event: Event, base_url: str | None, include_join: bool, series: Series | None
) -> str:
    lines: list[str] = []
    for text in (event.description_zh, event.description_en):
        if text.strip():
            lines.extend([text.strip(), ""])
    if event.speakers:
        lines.append(f"講者 Speakers: {', '.join(event.speakers)}")
    if series is not None:
        lines.append(f"系列 Series: {_both(series.title_zh, series.title_en)}")
    zh = format_event_time(event, event.tz, "zh_Hant_HK")
    en = format_event_time(event, event.tz, "en_GB")
    # Calendars show the start in the reader's zone; the organiser's own time is written out.
    lines.append(f"主辦方時間：{zh['organiser']}")
    lines.append(f"Organiser's time: {en['organiser']} ({event.tz})")
    if event.status == "postponed" and event.previous_start_utc:
        lines.append(f"已延期，原定：{zh['previous_organiser']}")
        lines.append(f"Postponed from: {en['previous_organiser']}")
    if event.status == "cancelled":
        lines.append("已取消 Cancelled")
    join_url = link_url(event.join_url)  # http(s) only, whatever an older row holds
    if include_join and join_url and event.status != "cancelled":
        lines.append(f"參加 Join: {join_url}")
    if base_url:
        lines.append(event_permalink(event.id, base_url))
    return "\n".join(lines).strip()


def _vevent(
    event: Event, *, base_url: str | None, include_join: bool, series: Series | None
) -> Any:
    from icalendar import Event as VEvent

    vevent = VEvent()
    vevent.add("uid", event.uid)
    vevent.add("sequence", event.sequence)
    # DTSTAMP is the time of the last change, not of the request: unchanged data, unchanged bytes.
    vevent.add("dtstamp", _stamp(event.updated_at))
    vevent.add("created", _stamp(event.created_at))
    vevent.add("last-modified", _stamp(event.updated_at))
    # Start and end in UTC: exact for every instant, including an hour that happens twice when the
    # clocks go back (a TZID local time there would mean the first one, RFC 5545 §3.3.5).
    vevent.add("dtstart", event.start)
    vevent.add("dtend", event.end)
    vevent.add("summary", _both(event.title_zh, event.title_en))
    vevent.add("description", _description(event, base_url, include_join, series))
    vevent.add("location", "網上 Online" if event.is_online else event.place)
    vevent.add("status", "CANCELLED" if event.status == "cancelled" else "CONFIRMED")
    vevent.add(
        "class", {"public": "PUBLIC", "members": "PRIVATE"}.get(event.visibility, "CONFIDENTIAL")
    )
    vevent.add("transp", "OPAQUE")
    if series is not None:
        vevent.add("categories", [_both(series.title_zh, series.title_en, " / ")])
    if base_url:
        vevent.add("url", event_permalink(event.id, base_url))
    join_url = link_url(event.join_url)
    if include_join and join_url and event.is_online and event.status != "cancelled":
        # RFC 7986 CONFERENCE: calendars show a "join" button.
        vevent.add(
            "conference",
            join_url,
            parameters={"VALUE": "URI", "FEATURE": "AUDIO,VIDEO", "LABEL": "Join 參加"},
        )
    return vevent


def event_ics(
    event: Event,
    *,
    base_url: str | None = None,
    include_join: bool = True,
    series: Series | None = None,
    organisation: str = "Hong Kong Labour Rights Archive",
) -> bytes:
    """One event as an ``.ics`` file ("Add to calendar").

    The caller decides who gets it: the portal passes an event it read with
    :func:`archive.hub.events.visible_event` for the viewer (a members-only event's join link then
    reaches members only); the public route serves public events only.
    """
    cal = _calendar(_both(event.title_zh, event.title_en), "", organisation)
    cal.add_component(_vevent(event, base_url=base_url, include_join=include_join, series=series))
    return cal.to_ical()


def events_calendar(
    settings: Settings, catalog: Catalog, *, base_url: str, series_id: str | None = None
) -> bytes:
    """The iCalendar feed of public events (all, or one series'): scheduled, postponed, held and
    cancelled alike, so subscribed calendars learn of every change."""
    public = Viewer("public")
    # A series with nothing public is the same error as an unknown id (the routes' 404).
    series = visible_series(catalog, series_id, public) if series_id else None
    events = list_events(catalog, viewer=public, series_id=series_id)
    titles = {s.id: s for s in _series_of(catalog, events)}
    name = _both(*(_series_titles(series) if series else ("講座及活動", "Talks and events")))
    cal = _calendar(
        f"{name} — {settings.organisation}",
        _both(series.description_zh, series.description_en, "\n") if series else "",
        settings.organisation,
    )
    for event in events:
        assert event.visibility == "public"  # list_events filtered by role; never weaken this
        cal.add_component(
            _vevent(
                event,
                base_url=base_url,
                include_join=True,
                series=titles.get(event.series_id or ""),
            )
        )
    return cal.to_ical()


def _series_titles(series: Series) -> tuple[str, str]:
    return series.title_zh, series.title_en


def _series_of(catalog: Catalog, events: Sequence[Event]) -> list[Series]:
    ids = sorted({e.series_id for e in events if e.series_id})
    out = []
    for series_id in ids:
        try:
            out.append(get_series(catalog, series_id))
        except InputError:
            continue
    return out


# -- public recordings ------------------------------------------------------------------------


def public_recordings(
    catalog: Catalog, *, collection: str | None = None, series_id: str | None = None
) -> list[Item]:
    """Items a public viewer may see now, newest first (recorded date, then catalogued)."""
    if collection is not None and collection not in COLLECTIONS:
        raise InputError(f"collection must be one of {', '.join(COLLECTIONS)}, not {collection!r}")
    public = Viewer("public")
    if series_id is not None:
        visible_series(catalog, series_id, public)
    items = catalog.list_items(role="staff", collection=collection)
    # effective_visibility: an embargo that has ended makes an item public, one still running does not.
    # present_item: withheld speakers as their labels, no source link (archive.catalog.access).
    items = [present_item(i, public) for i in items if public.may_see(i)]
    if series_id is not None:
        items = [i for i in items if i.series_id == series_id]
    return items


def public_audio(settings: Settings, catalog: Catalog, item_id: str) -> tuple[Path, str]:
    """The audio file (and MIME type) a public listener is served for an item; NotFoundError when
    the item is not public or has no audio. Redactions are silenced in it and none of the original's
    tags is left (:func:`archive.media.renditions.media_for_viewer`)."""
    public = Viewer("public")
    return media_for_viewer(settings, catalog, item_id, public, "audio")


def public_segments(catalog: Catalog, item_id: str) -> tuple[Segment, ...]:
    """The latest revision's segments as the public may read them, redacted ones left out (not
    blanked: a feed transcript must not even show that something was there)."""

    try:
        _item, revision = visible_revision(catalog, item_id, Viewer("public"))
    except NotFoundError:
        return ()
    return tuple(s for s in revision.segments if not s.redacted)


def transcript_text(catalog: Catalog, item_id: str, track: str, fmt: str) -> str | None:
    """One public transcript track as WebVTT or SRT, or None when the item is not public or the
    track has no text."""

    if track not in TRANSCRIPT_LANGUAGES or fmt not in TRANSCRIPT_TYPES:
        return None
    segments = [s for s in public_segments(catalog, item_id) if s.text(track).strip()]
    if not segments:
        return None
    return export(segments, fmt, track)


def chapters_document(item: Item) -> dict[str, Any] | None:
    """Podcasting 2.0 JSON chapters (version 1.2.0) from an item's chapters, or None."""
    chapters = []
    for chapter in item.chapters:
        start = chapter.get("start")
        if start is None:
            continue
        entry: dict[str, Any] = {
            "startTime": round(float(start), 3),
            "title": str(chapter.get("title") or ""),
        }
        if chapter.get("end") is not None:
            entry["endTime"] = round(float(chapter["end"]), 3)
        chapters.append(entry)
    if not chapters:
        return None
    chapters.sort(key=lambda c: c["startTime"])
    return {"version": "1.2.0", "chapters": chapters}


# -- RSS, Atom, podcasts ---------------------------------------------------------------------------


def _podcast_extension() -> tuple[type, type]:
    """A feedgen extension for the Podcasting 2.0 tags feedgen does not know."""
    from feedgen.ext.base import BaseEntryExtension, BaseExtension
    from feedgen.util import xml_elem

    class PodcastIndexExtension(BaseExtension):
        def extend_ns(self) -> dict[str, str]:
            return {"podcast": PODCAST_NS}

    class PodcastIndexEntryExtension(BaseEntryExtension):
        def __init__(self) -> None:
            self.transcripts: list[dict[str, str]] = []
            self.chapters: dict[str, str] | None = None

        def extend_ns(self) -> dict[str, str]:
            return {"podcast": PODCAST_NS}

        def extend_rss(self, entry: Any) -> Any:
            for attrs in self.transcripts:
                element = xml_elem(f"{{{PODCAST_NS}}}transcript", entry)
                for key, value in attrs.items():
                    element.attrib[key] = value
            if self.chapters:
                element = xml_elem(f"{{{PODCAST_NS}}}chapters", entry)
                for key, value in self.chapters.items():
                    element.attrib[key] = value
            return entry

    return PodcastIndexExtension, PodcastIndexEntryExtension


def _feed(
    settings: Settings,
    *,
    title: str,
    description: str,
    base_url: str,
    self_path: str,
    podcast: bool,
    atom: bool = False,
) -> Any:
    from feedgen.feed import FeedGenerator

    fg = FeedGenerator()
    if podcast:
        fg.load_extension("podcast")
        feed_ext, entry_ext = _podcast_extension()
        fg.register_extension("podcastindex", feed_ext, entry_ext, atom=False, rss=True)
    self_url = base_url + self_path
    fg.id(self_url)
    fg.title(title)
    fg.description(description or title)  # feedgen writes it as Atom's subtitle too
    # feedgen gives RSS's <link> the last link added: the portal, not the feed itself.
    fg.link(
        href=self_url, rel="self", type="application/atom+xml" if atom else "application/rss+xml"
    )
    fg.link(href=base_url + "/", rel="alternate")
    fg.docs("")  # no link to another host, not even the RSS specification's
    fg.language(FEED_LANGUAGE)
    fg.author({"name": settings.organisation})
    fg.generator("hk-labour-archive")
    if podcast:
        fg.podcast.itunes_author(settings.organisation)
        fg.podcast.itunes_explicit("no")
        fg.podcast.itunes_category("Society & Culture")
        fg.podcast.itunes_summary(description or title)
        logo = logo_path()
        if logo:
            # Served by the archive itself (feeds_web), like every other link here. feedgen drops
            # an itunes:image whose URL does not end in .jpg or .png, without a word.
            fg.image(url=base_url + logo, title=title, link=base_url + "/")
            fg.podcast.itunes_image(base_url + logo)
    return fg


def _feed_titles(
    settings: Settings, catalog: Catalog, collection: str | None, series_id: str | None
) -> tuple[str, str]:
    if series_id:
        series = visible_series(catalog, series_id, Viewer("public"))
        return (
            f"{_both(series.title_zh, series.title_en)} — {settings.organisation}",
            _both(series.description_zh, series.description_en, "\n\n"),
        )
    if collection:
        zh, en = COLLECTION_TITLES.get(collection, (collection, collection))
        return f"{_both(zh, en)} — {settings.organisation}", ""
    return f"{_both('錄音', 'Recordings')} — {settings.organisation}", ""


def _item_description(item: Item, series: Series | None) -> str:
    parts = [t.strip() for t in (item.description_zh, item.description_en) if t.strip()]
    if item.speakers:
        parts.append(f"講者 Speakers: {', '.join(item.speakers)}")
    if series is not None:
        parts.append(f"系列 Series: {_both(series.title_zh, series.title_en)}")
    if item.recorded_date:
        parts.append(f"日期 Date: {item.recorded_date}")
    return "\n\n".join(parts) or _both(item.title_zh, item.title_en)


def _published(item: Item) -> datetime:
    # The talk's date where known (noon UTC, so no time zone moves it to another day), else when
    # the item was catalogued.
    if item.recorded_date and len(item.recorded_date) == 10:
        return datetime.fromisoformat(item.recorded_date).replace(hour=12, tzinfo=UTC)
    return _stamp(item.created_at)


def _add_entry(fg: Any, item: Item, base_url: str, series: Series | None) -> Any:
    fe = fg.add_entry(order="append")
    guid = f"hk-labour-archive:item:{item.id}"  # never changes, even if the archive moves host
    fe.id(guid)
    fe.guid(guid, permalink=False)
    fe.title(_both(item.title_zh, item.title_en) or item.id)
    fe.link(href=item_permalink(item.id, base_url))
    fe.description(_item_description(item, series))
    fe.published(_published(item))
    fe.updated(_stamp(item.updated_at))
    fe.category(term=item.collection)
    for speaker in item.speakers:
        fe.author({"name": speaker})
    return fe


def _updated(items: Sequence[Item]) -> datetime:
    return max((_stamp(i.updated_at) for i in items), default=_EPOCH)


def _series_map(catalog: Catalog, items: Sequence[Item]) -> dict[str, Series]:
    out: dict[str, Series] = {}
    for series_id in sorted({i.series_id for i in items if i.series_id}):
        try:
            out[series_id] = get_series(catalog, series_id)
        except InputError:
            continue
    return out


def rss_feed(
    settings: Settings,
    catalog: Catalog,
    *,
    base_url: str,
    collection: str | None = None,
    series_id: str | None = None,
    atom: bool = False,
) -> bytes:
    """RSS 2.0 (or Atom) of public recordings, newest first, each linking to its portal page."""
    items = public_recordings(catalog, collection=collection, series_id=series_id)
    title, description = _feed_titles(settings, catalog, collection, series_id)
    fg = _feed(
        settings,
        title=title,
        description=description,
        base_url=base_url,
        self_path=atom_path() if atom else rss_path(),
        podcast=False,
        atom=atom,
    )
    series = _series_map(catalog, items)
    for item in items:
        _add_entry(fg, item, base_url, series.get(item.series_id or ""))
    fg.updated(_updated(items))
    return fg.atom_str(pretty=True) if atom else fg.rss_str(pretty=True)


def _duration(seconds: float | None) -> str | None:
    if not seconds:
        return None
    whole = int(round(seconds))
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def podcast_feed(
    settings: Settings,
    catalog: Catalog,
    *,
    base_url: str,
    collection: str | None = None,
    series_id: str | None = None,
) -> bytes:
    """A podcast (RSS 2.0 + iTunes + Podcasting 2.0) of public recordings that have audio.

    Each episode: the public audio as enclosure (URL, byte length of the served file, type),
    ``itunes:duration``, bilingual title and description, ``podcast:transcript`` links (WebVTT and
    SRT for each track with text) and ``podcast:chapters`` when the item has chapters.
    """
    items = public_recordings(catalog, collection=collection, series_id=series_id)
    title, description = _feed_titles(settings, catalog, collection, series_id)
    fg = _feed(
        settings,
        title=title,
        description=description,
        base_url=base_url,
        self_path=podcast_path(collection, series_id),
        podcast=True,
    )
    series = _series_map(catalog, items)
    included: list[Item] = []
    for item in items:
        try:
            path, mime = public_audio(settings, catalog, item.id)
        except ArchiveError:
            continue  # no audio, or its public rendition cannot be made: not an episode
        fe = _add_entry(fg, item, base_url, series.get(item.series_id or ""))
        fe.enclosure(base_url + media_path(item.id), str(path.stat().st_size), mime)
        audio = catalog.get_media(item.id, "audio")
        duration = _duration(audio.duration if audio else None)
        if duration:
            fe.podcast.itunes_duration(duration)
        if item.speakers:
            fe.podcast.itunes_author(", ".join(item.speakers))
        fe.podcast.itunes_explicit("no")
        segments = public_segments(catalog, item.id)
        for track in TRANSCRIPT_LANGUAGES:
            if not any(s.text(track).strip() for s in segments):
                continue
            for fmt, mime_type in TRANSCRIPT_TYPES.items():
                fe.podcastindex.transcripts.append(
                    {
                        "url": base_url + transcript_path(item.id, track, fmt),
                        "type": mime_type,
                        "language": TRANSCRIPT_LANGUAGES[track],
                        "rel": "captions",
                    }
                )
        if chapters_document(item):
            fe.podcastindex.chapters = {
                "url": base_url + chapters_path(item.id),
                "type": CHAPTERS_TYPE,
            }
        included.append(item)
    fg.updated(_updated(included))
    return fg.rss_str(pretty=True)


def chapters_json(item: Item) -> bytes | None:
    document = chapters_document(item)
    return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8") if document else None
