"""The feeds over HTTP, at stable URLs, from the server that serves the portal and its media.

``feed_routes(settings)`` returns Starlette routes for the portal's ASGI app (``archive/portal/asgi.py``)::

    GET /feeds/events.ics                          public events (text/calendar)
    GET /feeds/series/{series}/events.ics
    GET /feeds/events/{event}.ics                  one public event ("Add to calendar")
    GET /feeds/rss.xml   /feeds/atom.xml           public recordings
    GET /feeds/podcast.xml                         podcast of all public recordings
    GET /feeds/podcast/{collection}.xml            podcast of one collection
    GET /feeds/series/{series}/podcast.xml         podcast of one series
    GET /feeds/media/{item}.m4a                    public audio: the enclosures (Range requests)
    GET /feeds/transcripts/{item}.{zh|en}.{vtt|srt}
    GET /feeds/chapters/{item}.json
    GET /feeds/posters/{event}                     a public event's poster
    GET /feeds/logo-{digest}.png                   the podcasts' cover art (the package's logo)

Everything here is public and anonymous: each request asks the catalog again (as a public viewer)
whether the thing is public *now*, and anything else is the same plain 404 as a wrong id, so a
members-only or staff-only event or item cannot even be told apart from one that does not exist.
Responses carry ``Cache-Control: no-cache`` with an ETag: readers revalidate every time (a
withdrawn item stops being served at once) and get ``304 Not Modified`` when nothing changed.
The logo is the exception: its URL names its content, so it may be cached for a year.

Absolute links in the feeds use ``ARCHIVE_PUBLIC_URL``; when it is unset (a local trial), the
address the request came to, and only when its ``Host`` names this machine (127.0.0.1,
localhost, ::1): any other host is answered 421 (:meth:`ArchiveRoutes.base_url`), so a forged
``Host`` cannot put another host's address into a feed that a shared cache keeps.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from archive.catalog.access import Viewer
from archive.catalog.models import COLLECTIONS
from archive.core.config import Settings
from archive.core.errors import ArchiveError
from archive.core.paths import MEDIA_FOLDER, file_inside
from archive.hub.events import poster_for_viewer, visible_event
from archive.hub.feeds import (
    CHAPTERS_TYPE,
    LOGO_FILE,
    LOGO_TYPE,
    TRANSCRIPT_TYPES,
    chapters_json,
    event_ics,
    events_calendar,
    logo_digest,
    podcast_feed,
    public_audio,
    rss_feed,
    transcript_text,
)
from archive.portal.routes.files import ArchiveRoutes, UnknownHost, misdirected

__all__ = ["feed_routes"]

_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_DIGEST = re.compile(r"^[0-9a-f]{1,64}$")
_TRANSCRIPT = re.compile(r"^([A-Za-z0-9_-]{1,64})\.(zh|en)\.(vtt|srt)$")
_COMMON = {
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    # Public files that web podcast players fetch from their own pages (the transcript spec asks
    # for CORS); nothing here depends on cookies.
    "Access-Control-Allow-Origin": "*",
    "Referrer-Policy": "no-referrer",
}
# The logo's URL changes with its bytes (feeds.logo_path), so the copy at a current URL never goes
# stale. An outdated name (a feed read before an upgrade) gets today's logo, for a day only.
LOGO_CACHE = "public, max-age=31536000, immutable"
LOGO_CACHE_OLD_NAME = "public, max-age=86400"
TEXT_TYPES = {"vtt": "text/vtt; charset=utf-8", "srt": "application/x-subrip; charset=utf-8"}
assert set(TEXT_TYPES) == set(TRANSCRIPT_TYPES)


def _not_found() -> Response:
    return PlainTextResponse("Not found", status_code=404, headers=dict(_COMMON))


def _body(
    request: Request, data: bytes, media_type: str, *, filename: str | None = None
) -> Response:
    """Bytes with a strong ETag; ``304`` when the reader already has them."""
    etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
    headers = {**_COMMON, "ETag": etag}
    if filename:
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    wanted = [t.strip() for t in request.headers.get("if-none-match", "").split(",")]
    if etag in wanted or "*" in wanted:
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=media_type, headers=headers)


class _Feeds(ArchiveRoutes):
    """The feed handlers."""

    def _origin(self, request: Request) -> str | None:
        """The origin of the feed's links; None for a host the archive was not told about."""
        try:
            return self.base_url(request)
        except UnknownHost:
            return None

    # Handlers are plain functions: Starlette runs them in its thread pool, so reading the
    # catalog and building a feed never blocks the event loop (and Streamlit with it).

    def events(self, request: Request) -> Response:
        series_id = request.path_params.get("series_id")
        if series_id is not None and not _ID.match(series_id):
            return _not_found()
        base = self._origin(request)
        if base is None:
            return misdirected()
        try:
            data = events_calendar(self.settings, self.catalog, base_url=base, series_id=series_id)
        except ArchiveError:
            return _not_found()
        return _body(request, data, "text/calendar; charset=utf-8")

    def event(self, request: Request) -> Response:
        event_id = request.path_params["event_id"]
        if not _ID.match(event_id):
            return _not_found()
        base = self._origin(request)
        if base is None:
            return misdirected()
        try:
            event = visible_event(self.catalog, event_id, Viewer("public"))
            data = event_ics(event, base_url=base, organisation=self.settings.organisation)
        except ArchiveError:
            return _not_found()
        return _body(request, data, "text/calendar; charset=utf-8", filename=f"{event.id}.ics")

    def rss(self, request: Request) -> Response:
        atom = request.url.path.endswith("atom.xml")
        base = self._origin(request)
        if base is None:
            return misdirected()
        data = rss_feed(self.settings, self.catalog, base_url=base, atom=atom)
        kind = "application/atom+xml" if atom else "application/rss+xml"
        return _body(request, data, f"{kind}; charset=utf-8")

    def podcast(self, request: Request) -> Response:
        collection = request.path_params.get("collection")
        series_id = request.path_params.get("series_id")
        if collection is not None and collection not in COLLECTIONS:
            return _not_found()
        if series_id is not None and not _ID.match(series_id):
            return _not_found()
        base = self._origin(request)
        if base is None:
            return misdirected()
        try:
            data = podcast_feed(
                self.settings,
                self.catalog,
                base_url=base,
                collection=collection,
                series_id=series_id,
            )
        except ArchiveError:
            return _not_found()
        return _body(request, data, "application/rss+xml; charset=utf-8")

    def media(self, request: Request) -> Response:
        item_id = request.path_params["item_id"]
        if not _ID.match(item_id):
            return _not_found()
        try:
            path, mime = public_audio(self.settings, self.catalog, item_id)
            # Whatever the catalog says, only a regular file inside media/ (archive.core.paths).
            path = file_inside(self.settings.home, path, MEDIA_FOLDER)
        except ArchiveError:
            return _not_found()
        # FileResponse streams from disk with Range/If-Range, ETag and Last-Modified.
        return FileResponse(
            path, media_type=mime, headers=dict(_COMMON), content_disposition_type="inline"
        )

    def transcript(self, request: Request) -> Response:
        match = _TRANSCRIPT.match(request.path_params["name"])
        if not match:
            return _not_found()
        item_id, track, fmt = match.groups()
        try:
            text = transcript_text(self.catalog, item_id, track, fmt)
        except ArchiveError:
            return _not_found()
        if text is None:
            return _not_found()
        return _body(request, text.encode("utf-8"), TEXT_TYPES[fmt])

    def chapters(self, request: Request) -> Response:
        item_id = request.path_params["item_id"]
        if not _ID.match(item_id):
            return _not_found()
        item = self.catalog.find_item(item_id)
        if item is None or not Viewer("public").may_see(item):
            return _not_found()
        data = chapters_json(item)
        if data is None:
            return _not_found()
        return _body(request, data, CHAPTERS_TYPE)

    def poster(self, request: Request) -> Response:
        event_id = request.path_params["event_id"]
        if not _ID.match(event_id):
            return _not_found()
        try:
            event = visible_event(self.catalog, event_id, Viewer("public"))
        except ArchiveError:
            return _not_found()
        # The copy without EXIF or any other metadata, never the stored file.
        found = poster_for_viewer(self.settings, event, Viewer("public"))
        if found is None:
            return _not_found()
        path, mime = found
        return FileResponse(
            Path(path), media_type=mime, headers=dict(_COMMON), content_disposition_type="inline"
        )

    def logo(self, request: Request) -> Response:
        digest, current = request.path_params["digest"], logo_digest()
        if current is None or not _DIGEST.match(digest):
            return _not_found()
        cache = LOGO_CACHE if digest == current else LOGO_CACHE_OLD_NAME
        return FileResponse(
            LOGO_FILE,
            media_type=LOGO_TYPE,
            headers={**_COMMON, "Cache-Control": cache},
            content_disposition_type="inline",
        )


def feed_routes(settings: Settings | None = None) -> list[Route]:
    """The feed routes, for ``st.App(routes=[*routes(), *feed_routes()])`` in ``archive/portal/asgi.py``.

    ``settings`` defaults to the environment's (``ARCHIVE_HOME``, ``ARCHIVE_PUBLIC_URL``) on the
    first request. GET routes answer HEAD too.
    """
    feeds = _Feeds(settings)
    get = ["GET"]
    return [
        Route("/feeds/events.ics", feeds.events, methods=get),
        Route("/feeds/series/{series_id}/events.ics", feeds.events, methods=get),
        Route("/feeds/events/{event_id}.ics", feeds.event, methods=get),
        Route("/feeds/rss.xml", feeds.rss, methods=get),
        Route("/feeds/atom.xml", feeds.rss, methods=get),
        Route("/feeds/podcast.xml", feeds.podcast, methods=get),
        Route("/feeds/podcast/{collection}.xml", feeds.podcast, methods=get),
        Route("/feeds/series/{series_id}/podcast.xml", feeds.podcast, methods=get),
        Route("/feeds/media/{item_id}.m4a", feeds.media, methods=get),
        Route("/feeds/transcripts/{name}", feeds.transcript, methods=get),
        Route("/feeds/chapters/{item_id}.json", feeds.chapters, methods=get),
        Route("/feeds/posters/{event_id}", feeds.poster, methods=get),
        Route("/feeds/logo-{digest}.png", feeds.logo, methods=get),
    ]
