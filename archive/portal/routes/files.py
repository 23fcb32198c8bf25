"""HTTP routes served beside the portal: media streaming and transcript downloads.

Streamlit's own ``st.audio``/``st.video`` read a file whole into memory on every run and serve it to
anyone who has the URL, so the portal never hands them archive files. Instead a page asks
:func:`media_url` for a signed, expiring URL bound to the viewer; ``/files/media/{token}`` checks
the signature, asks :mod:`archive.catalog.access` again whether that viewer may see the item *now*
(visibility and embargoes can change), takes the path from the catalog (never from the request) and
streams it with Starlette's ``FileResponse`` (Range, If-Range, ETag; constant memory).

The key is the archive's own (:mod:`archive.core.keys`: ``<home>/secret.key``, made on first use), so
URLs survive restarts and every process of one archive agrees on them. Tokens are *encrypted*, not
just signed (PyNaCl ``SecretBox``: XSalsa20-Poly1305 with a key derived from ``secret.key`` for
this use only): a link read from a browser's history, a proxy's log or a screenshot says nothing
about who it was minted for or which item it opens. Inside are the kind of file, what to serve, the
viewer (role and user name), for a logged-in viewer a tag of the session it was minted in, and the
minting time; a token older than :data:`TOKEN_TTL` is refused. A logged-in viewer's link works only
with that same session's live cookie: not after its log-out, not in the same person's other session.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nacl.exceptions import CryptoError
from nacl.secret import SecretBox
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from archive.catalog.access import Viewer, privacy_key, visible_item, visible_revision
from archive.catalog.db import Catalog
from archive.catalog.models import Item
from archive.core.config import Settings, load_settings
from archive.core.errors import ArchiveError, NotFoundError
from archive.core.keys import load_secret
from archive.core.paths import MEDIA_FOLDER, file_inside
from archive.hub.events import poster_for_viewer, visible_event
from archive.hub.feeds import check_base_url, event_ics
from archive.hub.series import get_series
from archive.media.renditions import media_for_viewer
from archive.portal.sessions import holder_matches, session_tag
from transcripts.exports import EXPORT_TRACKS, export
from transcripts.turns import turn_starts

__all__ = [
    "CLOSED_PATHS",
    "ClosedPaths",
    "CALENDAR_PREFIX",
    "MEDIA_PREFIX",
    "POSTER_PREFIX",
    "calendar_url",
    "poster_url",
    "SUBTITLE_PREFIX",
    "TOKEN_TTL",
    "UrlSigner",
    "media_url",
    "routes",
    "subtitle_url",
    "transcript_payload",
    "transcript_url",
]

MEDIA_PREFIX = "/files/media/"
CALENDAR_PREFIX = "/files/calendar/"
POSTER_PREFIX = "/files/poster/"
SUBTITLE_PREFIX = "/files/subtitles/"
TRANSCRIPT_PREFIX = "/files/transcript/"
TOKEN_TTL = 12 * 3600  # seconds a signed URL stays valid
SUBTITLE_FORMATS = {
    "srt": ("application/x-subrip; charset=utf-8", "srt"),
    "vtt": ("text/vtt; charset=utf-8", "vtt"),
    "txt": ("text/plain; charset=utf-8", "txt"),
    "json": ("application/json; charset=utf-8", "json"),
}
# A public item's file or transcript (below staff: the redacted rendition) may sit in the browser's
# cache for an hour; anything else must not outlive the visit, since a shared computer keeps its
# cache after the member or staff member has logged out.
CACHE_PUBLIC = "private, max-age=3600"
CACHE_NEVER = "private, no-store"


@dataclass(frozen=True)
class UrlSigner:
    """Makes and opens the per-viewer tokens of the file routes (encrypted and authenticated)."""

    secret: bytes

    def _box(self) -> SecretBox:
        # A key of its own, derived from the archive's secret: the same bytes never serve as
        # both an HMAC key (itsdangerous, elsewhere) and an encryption key.
        key = hashlib.blake2b(self.secret, digest_size=32, person=b"archive-filetok").digest()
        return SecretBox(key)

    def sign(
        self, kind: str, payload: dict[str, Any], viewer: Viewer, session: str | None = None
    ) -> str:
        # The token's own fields start with "@": they never collide with a payload's keys. "@s"
        # binds a logged-in viewer's link to the session it was minted in (a tag of its token).
        data = {**payload, "@k": kind, "@r": viewer.role, "@u": viewer.username, "@t": time.time()}
        if session and viewer.username:
            data["@s"] = session_tag(session)
        plain = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        # Padded to a multiple of 256 bytes (every payload of ours with a user name of up to 40
        # characters fits in one), so a token's length does not tell a long user name, a staff
        # link or one kind of file from another. JSON ignores the trailing spaces.
        plain += b" " * (-len(plain) % 256)
        sealed = bytes(self._box().encrypt(plain))  # a fresh random nonce, prepended
        return base64.urlsafe_b64encode(sealed).decode("ascii").rstrip("=")

    def check(
        self, kind: str, token: str, max_age: int = TOKEN_TTL
    ) -> tuple[dict[str, Any], Viewer]:
        if not isinstance(token, str) or len(token) > 2000:
            raise NotFoundError("no such file")
        try:
            sealed = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            data = json.loads(self._box().decrypt(sealed).decode("utf-8"))
        except (CryptoError, binascii.Error, ValueError, UnicodeDecodeError) as exc:
            raise NotFoundError("no such file") from exc
        if not isinstance(data, dict) or data.pop("@k", None) != kind:
            raise NotFoundError("no such file")
        minted = data.pop("@t", None)
        if not isinstance(minted, (int, float)) or time.time() - minted > max_age:
            raise NotFoundError("this link has expired: reload the page")
        role, username = data.pop("@r", "public"), data.pop("@u", None)
        try:
            viewer = Viewer(role=role, username=username)
        except ArchiveError as exc:
            raise NotFoundError("no such file") from exc
        return data, viewer


def media_url(
    settings: Settings, item_id: str, role: str, viewer: Viewer, session: str | None = None
) -> str:
    """A signed URL (path only, same origin) that streams one media file of an item to ``viewer``
    in the session whose token is ``session`` (a logged-in viewer's link works in no other)."""
    token = UrlSigner(load_secret(settings)).sign(
        "media", {"i": item_id, "m": role}, viewer, session
    )
    return MEDIA_PREFIX + token


def subtitle_url(
    settings: Settings,
    item_id: str,
    revision: int,
    fmt: str,
    track: str,
    viewer: Viewer,
    session: str | None = None,
) -> str:
    token = UrlSigner(load_secret(settings)).sign(
        "subtitles", {"i": item_id, "r": revision, "f": fmt, "t": track}, viewer, session
    )
    return SUBTITLE_PREFIX + token


def transcript_url(
    settings: Settings, item_id: str, revision: int, viewer: Viewer, session: str | None = None
) -> str:
    """A signed URL of one revision's segments as compact JSON, for the portal's player."""
    token = UrlSigner(load_secret(settings)).sign(
        "transcript", {"i": item_id, "r": revision}, viewer, session
    )
    return TRANSCRIPT_PREFIX + token


def calendar_url(
    settings: Settings, event_id: str, viewer: Viewer, session: str | None = None
) -> str:
    """A signed URL of one event's ``.ics`` for ``viewer`` ("Add to calendar" of an event that is
    not public: a members-only event's file carries its join link, so it never goes through
    Streamlit's own ``/media/``, which serves anyone who has the URL)."""
    token = UrlSigner(load_secret(settings)).sign("calendar", {"e": event_id}, viewer, session)
    return CALENDAR_PREFIX + token


def poster_url(
    settings: Settings, event_id: str, viewer: Viewer, session: str | None = None
) -> str:
    """A signed URL of a (not public) event's poster for ``viewer``."""
    token = UrlSigner(load_secret(settings)).sign("poster", {"e": event_id}, viewer, session)
    return POSTER_PREFIX + token


def transcript_payload(segments: Any) -> dict[str, Any]:
    """``{"cues": [[start, end, zh, en, lang, speaker, redacted, en_machine, turn], ...]}`` (what
    the player reads). ``turn`` is 1 where a speaker's turn begins (a speaker other than the
    previous segment's): the player names the speaker there, not on every line."""
    segments = list(segments)
    return {
        "cues": [
            [
                round(s.start, 2),
                round(s.end, 2),
                s.text_zh,
                s.text_en,
                s.lang,
                s.speaker,
                int(s.redacted),
                int(s.en_machine and bool(s.text_en)),
                int(turn),
            ]
            for s, turn in zip(segments, turn_starts(segments), strict=True)
        ]
    }


def _cache_control(item: Item, viewer: Viewer) -> str:
    """The Cache-Control of a file or transcript of ``item`` served to ``viewer``.

    Staff get the unredacted original, so nothing they fetch is cached; for everyone else it is the
    item's level in force now (embargo included) that decides.
    """
    if viewer.is_staff or item.effective_visibility() != "public":
        return CACHE_NEVER
    return CACHE_PUBLIC


def _not_found(message: str = "Not found") -> Response:
    return PlainTextResponse(message, status_code=404, headers={"Cache-Control": "no-store"})


LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
UNKNOWN_HOST = (
    "This archive does not know the host this request was sent to. Its feeds and calendars name "
    "their links from ARCHIVE_PUBLIC_URL: set it to the archive's address (https://...) to serve "
    "them on any host but this machine.\n"
)


class UnknownHost(ArchiveError):
    """A request to a host the archive was not told about, where absolute links are needed."""


def misdirected() -> Response:
    """The answer to :class:`UnknownHost`: 421, never cached, naming no host."""
    return PlainTextResponse(UNKNOWN_HOST, status_code=421, headers={"Cache-Control": "no-store"})


class ArchiveRoutes:
    """Route handlers bound to one archive: settings and catalog opened on first use.

    Shared by the file, feed and upload routes. One Catalog per archive; it keeps one SQLite
    connection per thread.
    """

    def __init__(self, settings: Settings | None = None) -> None:
        self._settings = settings
        self._catalog: Catalog | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings()
        return self._settings

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = Catalog.open(self.settings)
        return self._catalog

    def base_url(self, request: Request) -> str:
        """The origin absolute links are made from: ``ARCHIVE_PUBLIC_URL``; without it (a local
        trial) the request's own only when its ``Host`` names this machine. Anything else is
        :class:`UnknownHost`: a feed built from a forged ``Host`` and kept by a shared cache would
        send every reader's player to that host."""
        if self.settings.public_url:
            return check_base_url(self.settings.public_url)
        host = (request.url.hostname or "").strip("[]").lower()
        if host not in LOCAL_HOSTS:
            raise UnknownHost("unknown host")
        return str(request.base_url).rstrip("/")


class _Files(ArchiveRoutes):
    """The media, transcript and subtitle routes."""

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__(settings)
        self._signer: UrlSigner | None = None
        self._transcripts: dict[tuple[Any, ...], tuple[bytes, bytes]] = {}
        self._lock = threading.Lock()
        self.opened_at = time.time()

    @property
    def signer(self) -> UrlSigner:
        if self._signer is None:
            self._signer = UrlSigner(load_secret(self.settings))
        return self._signer

    def _bound(self, request: Request, viewer: Viewer, data: dict[str, Any]) -> None:
        """A URL minted for a logged-in viewer works only with the live session cookie of the
        session it was minted in: a copied staff link replayed elsewhere, in the same person's
        other session, or after log-out, is not found."""

        tag = data.get("@s")
        if not holder_matches(
            self.catalog, self.settings, request, viewer, tag if isinstance(tag, str) else None
        ):
            raise NotFoundError("no such file")

    def _resolve_media(self, token: str) -> tuple[Path, str | None]:
        data, viewer = self.signer.check("media", token)
        item_id, role = str(data.get("i", "")), str(data.get("m", ""))
        if role not in ("audio", "original"):
            raise NotFoundError("no such file")
        # Access is re-checked at every request, and below staff the file is the copy with the
        # redacted spans silenced, never the original.
        path, mime = media_for_viewer(self.settings, self.catalog, item_id, viewer, role)
        # Checked again here, whatever media_for_viewer did: only a regular file inside media/.
        return file_inside(self.settings.home, path, MEDIA_FOLDER), mime

    def media(self, request: Request) -> Response:
        token = request.path_params["token"]
        try:
            data, viewer = self.signer.check("media", token)
            self._bound(request, viewer, data)
            path, mime = self._resolve_media(token)
            # Read after the access check, so a level lowered in between errs towards no-store.
            item = visible_item(self.catalog, str(data.get("i", "")), viewer)
        except ArchiveError:
            return _not_found()
        return FileResponse(
            path,
            media_type=mime or "application/octet-stream",
            headers={
                "Cache-Control": _cache_control(item, viewer),
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "same-origin",
            },
            content_disposition_type="inline",
        )

    def transcript(self, request: Request) -> Response:
        # A plain ``def``: Starlette runs it in a worker thread, off the event loop that carries
        # every visitor's websocket.
        token = request.path_params["token"]
        try:
            data, viewer = self.signer.check("transcript", token)
            self._bound(request, viewer, data)
            item_id = str(data.get("i"))
            item = visible_item(self.catalog, item_id, viewer)
            revision = int(data.get("r") or 0) or self.catalog.latest_revision_number(item_id)
            if revision is None:
                raise NotFoundError("no transcript")
            # Revisions never change, but redactions, withheld speakers and the viewer's level do:
            # all are in the key.
            key = (item_id, revision, viewer.is_staff, privacy_key(self.catalog, item_id))
            body = self._transcripts.get(key)
            if body is None:
                _item, rev = visible_revision(self.catalog, item_id, viewer, revision)
                raw = json.dumps(
                    transcript_payload(rev.segments), ensure_ascii=False, separators=(",", ":")
                ).encode("utf-8")
                body = (raw, gzip.compress(raw, compresslevel=5))
                with self._lock:
                    self._transcripts[key] = body
                    while len(self._transcripts) > 64:
                        self._transcripts.pop(next(iter(self._transcripts)))
        except ArchiveError:
            return _not_found()
        headers = {
            "Cache-Control": _cache_control(item, viewer),
            "X-Content-Type-Options": "nosniff",
            "Vary": "Accept-Encoding",
        }
        raw, packed = body
        if "gzip" in request.headers.get("accept-encoding", "") and len(raw) > 2048:
            raw = packed
            headers["Content-Encoding"] = "gzip"
        return Response(raw, media_type="application/json", headers=headers)

    def subtitles(self, request: Request) -> Response:
        token = request.path_params["token"]
        try:
            data, viewer = self.signer.check("subtitles", token)
            self._bound(request, viewer, data)
            fmt, track = str(data.get("f")), str(data.get("t"))
            if fmt not in SUBTITLE_FORMATS or track not in EXPORT_TRACKS:
                raise NotFoundError("no such file")
            item, rev = visible_revision(
                self.catalog, str(data.get("i")), viewer, int(data.get("r") or 0) or None
            )
            body = export_transcript(rev.segments, fmt, track)
        except ArchiveError:
            return _not_found()
        mime, ext = SUBTITLE_FORMATS[fmt]
        name = f"{item.id}.r{rev.revision}.{track}.{ext}"
        return Response(
            body.encode("utf-8"),
            media_type=mime,
            headers={
                "Content-Disposition": f'attachment; filename="{name}"',
                "Cache-Control": "private, no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )

    def _event(self, request: Request, kind: str) -> tuple[Any, Viewer]:
        """The event a calendar or poster token names, as its viewer may see it *now*."""

        data, viewer = self.signer.check(kind, request.path_params["token"])
        self._bound(request, viewer, data)
        return visible_event(self.catalog, str(data.get("e", "")), viewer), viewer

    def calendar(self, request: Request) -> Response:
        try:
            self.base_url(request)
        except UnknownHost:
            return misdirected()
        try:
            event, _viewer = self._event(request, "calendar")
            series = None
            if event.series_id:
                try:
                    series = get_series(self.catalog, event.series_id)
                except ArchiveError:
                    series = None
            body = event_ics(
                event,
                base_url=self.base_url(request),
                organisation=self.settings.organisation,
                series=series,
            )
        except ArchiveError:
            return _not_found()
        return Response(
            body,
            media_type="text/calendar; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{event.id}.ics"',
                "Cache-Control": CACHE_NEVER,
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "same-origin",
            },
        )

    def poster(self, request: Request) -> Response:
        try:
            event, viewer = self._event(request, "poster")
            # Staff get the poster as given; everyone else a copy without EXIF or other metadata.
            found = poster_for_viewer(self.settings, event, viewer)
            if found is None:
                raise NotFoundError("no poster")
        except ArchiveError:
            return _not_found()
        path, mime = found
        return FileResponse(
            Path(path),
            media_type=mime,
            headers={
                "Cache-Control": CACHE_NEVER,
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "same-origin",
            },
            content_disposition_type="inline",
        )


def export_transcript(segments: Any, fmt: str, track: str) -> str:
    """One track of a transcript as SRT, WebVTT, plain text or JSON (``transcripts.subtitles``)."""

    return export(list(segments), fmt, track)


# Streamlit's own endpoints that say too much to anyone: ``/_stcore/metrics`` lists sessions,
# cache sizes and what the pages did, without a log-in, and Streamlit 1.67 has no option to turn it
# off (nor may an app route live under ``/_stcore/``). :class:`ClosedPaths` answers them 404.
CLOSED_PATHS = frozenset({"/_stcore/metrics"})


class ClosedPaths:
    """ASGI middleware (``st.App(middleware=[Middleware(ClosedPaths)])``, which runs before
    Streamlit's own): a plain 404 for :data:`CLOSED_PATHS`, whatever the method, and for the same
    path with doubled or trailing slashes."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope.get("type") == "http":
            path = "/" + "/".join(p for p in str(scope.get("path", "")).split("/") if p)
            if path in CLOSED_PATHS:
                await _not_found()(scope, receive, send)
                return
        await self.app(scope, receive, send)


def routes(settings: Settings | None = None) -> list[Route]:
    """The extra routes of the portal's ASGI app (``archive/portal/asgi.py``)."""
    files = _Files(settings)
    return [
        Route(MEDIA_PREFIX + "{token}", files.media, methods=["GET", "HEAD"]),
        Route(SUBTITLE_PREFIX + "{token}", files.subtitles, methods=["GET"]),
        Route(TRANSCRIPT_PREFIX + "{token}", files.transcript, methods=["GET"]),
        Route(CALENDAR_PREFIX + "{token}", files.calendar, methods=["GET"]),
        Route(POSTER_PREFIX + "{token}", files.poster, methods=["GET", "HEAD"]),
    ]
