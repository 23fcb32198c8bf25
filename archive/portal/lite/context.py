"""Who is asking and in which language: one light-page request's viewer, session and words.

The viewer comes from the session cookie exactly as the file routes read it
(:func:`archive.portal.sessions.cookie_token` then :func:`~archive.portal.sessions.session_viewer`,
which refuses forged, expired, logged-out and changed accounts); anyone else is the public.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from archive.catalog.access import Viewer
from archive.catalog.db import Catalog
from archive.core.config import Settings
from archive.hub.times import check_timezone
from archive.portal.i18n import I18n, detect_lang
from archive.portal.lite_links import LITE_PREFIX, lite_href, part, portal_for_lite
from archive.portal.sessions import cookie_token, session_viewer

__all__ = ["LITE_PREFIX", "LiteContext", "lite_href", "part", "request_context"]


@dataclass
class LiteContext:
    """What every light page needs: the archive, the viewer, the session and the language."""

    settings: Settings
    catalog: Catalog
    viewer: Viewer
    session: str | None
    t: I18n
    params: dict[str, str] = field(default_factory=dict)
    tz: str | None = None
    origin: str | None = None  # the request's own origin when it names this machine
    # The first paint (archive.portal.lite.first_paint) links into the full portal instead: its
    # links go where the app's own would, whether a reader clicks before or after it has drawn.
    portal_links: bool = False

    @property
    def lang(self) -> str:
        return self.t.lang

    def href(self, path: str, params: dict[str, Any] | None = None, fragment: str = "") -> str:
        """A light link keeping the language (and a chosen time zone); with ``portal_links``,
        the full portal's page for it."""
        full = {**(params or {}), "lang": self.lang, "tz": self.tz}
        if self.portal_links:
            kept = {k: str(v) for k, v in full.items() if v not in (None, "")}
            return portal_for_lite(path, kept) + (f"#{fragment}" if fragment else "")
        return lite_href(path, full, fragment)


def _zone(value: str | None) -> str | None:
    if not value:
        return None
    try:
        check_timezone(value)
    except Exception:  # an unknown zone in a link: times are shown in the organiser's zone
        return None
    return value


def request_context(
    settings: Settings,
    catalog: Catalog,
    cookies: Any,
    scheme: str,
    params: dict[str, str],
    accept_language: str | None,
    origin: str | None = None,
) -> LiteContext:
    """The context of one request: the session cookie's live viewer (else public), ``?lang=``
    (else the browser's language, else Chinese) and ``?tz=`` when it is a real zone."""
    token = cookie_token(settings, cookies, scheme)
    viewer = session_viewer(catalog, settings, token) if token else None
    browser = (accept_language or "").split(",")[0].split(";")[0].strip() or None
    lang = detect_lang(params.get("lang"), browser)
    return LiteContext(
        settings=settings,
        catalog=catalog,
        viewer=viewer or Viewer("public"),
        session=token if viewer is not None else None,
        t=I18n(lang),
        params=params,
        tz=_zone(params.get("tz")),
        origin=origin,
    )
