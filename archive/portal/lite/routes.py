"""The light portal's routes, served from the portal's own process beside Streamlit.

``/lite/`` (Home), ``/lite/search?q=…``, ``/lite/browse``, ``/lite/item/ID?t=…``,
``/lite/events``, ``/lite/event/ID``, ``/lite/series``, ``/lite/series/ID`` and the few static
files under ``/lite/static/``. Each page is built for the request's viewer (session cookie, else
public) at the moment of the request; an item, event or series above the viewer answers exactly
as an unknown id (404, the same page). No error reaches a visitor as a traceback: archive errors
become one translated sentence, anything else is logged and answered with a plain page.
The portal's middleware adds the Content-Security-Policy to every answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from archive.core.config import Settings
from archive.core.errors import ArchiveError, NotFoundError
from archive.portal.lite.context import LITE_PREFIX, LiteContext, part, request_context
from archive.portal.lite.item_page import item_body
from archive.portal.lite.layout import document
from archive.portal.lite.pages import (
    browse_body,
    event_body,
    events_body,
    home_body,
    search_body,
    series_body,
    series_list_body,
)
from archive.portal.lite_links import carried, portal_for_lite
from archive.portal.routes.files import ArchiveRoutes, UnknownHost
from archive.preservation.mirror_pages import ASSETS as MIRROR_ASSETS
from archive.preservation.mirror_pages import escape

__all__ = ["LITE_ASSETS", "context_for", "lite_routes"]

log = logging.getLogger("archive.portal")

LITE_ASSETS = Path(__file__).resolve().parent / "assets"
STATIC_FILES = {
    "mirror.css": (MIRROR_ASSETS / "mirror.css", "text/css; charset=utf-8"),
    "lite.css": (LITE_ASSETS / "lite.css", "text/css; charset=utf-8"),
    "first-paint.css": (LITE_ASSETS / "first-paint.css", "text/css; charset=utf-8"),
    "lite-player.js": (LITE_ASSETS / "lite-player.js", "text/javascript; charset=utf-8"),
    "first-paint.js": (LITE_ASSETS / "first-paint.js", "text/javascript; charset=utf-8"),
    "favicon.svg": (LITE_ASSETS / "favicon.svg", "image/svg+xml"),
}

Body = Callable[[LiteContext], tuple[str, str]]


def context_for(archive: ArchiveRoutes, request: Request) -> LiteContext:
    """The light context of a request (its viewer from the session cookie, its language)."""
    try:
        origin: str | None = archive.base_url(request)
    except UnknownHost:
        origin = None
    return request_context(
        archive.settings,
        archive.catalog,
        request.cookies,
        request.url.scheme,
        dict(request.query_params),
        request.headers.get("accept-language"),
        origin,
    )


def _message(title: str, text: str) -> str:
    return f'<h1>{escape(title)}</h1><p class="lede">{escape(text)}</p>'


class _Lite(ArchiveRoutes):
    def _page(
        self, request: Request, path: str, make: Body, scripts: tuple[str, ...] = ()
    ) -> Response:
        try:
            ctx = context_for(self, request)
        except Exception:
            log.exception("light page: the archive cannot be opened")
            return PlainTextResponse("The archive is not available. / 檔案庫暫時無法使用。", 503)
        _ = ctx.t._
        status = 200
        try:
            title, body = make(ctx)
        except NotFoundError:
            status = 404
            title = _("Not found")
            body = _message(
                title, _("We couldn't find that. It may have been moved, or it isn't public.")
            )
            scripts = ()
        except ArchiveError:
            status = 400
            title = _("Something went wrong")
            body = _message(
                title, _("That request wasn't understood. Please check it and try again.")
            )
            scripts = ()
        except Exception:
            log.exception("light page error at %s", path)
            status = 500
            title = _("Something went wrong")
            body = _message(
                title,
                _(
                    "Something went wrong. Please try again; if it keeps happening, tell the archive's staff."
                ),
            )
            scripts = ()
        page = document(
            ctx,
            title=title,
            body=body,
            path=path,
            params=carried(ctx.params),
            full_path=portal_for_lite(path, ctx.params),
            scripts=scripts,
            query=ctx.params.get("q", "") if path == "/search" else "",
        )
        # A logged-in viewer's page may hold what the public may not see: never kept by a cache.
        cache = "private, no-store" if ctx.session else "private, no-cache"
        return HTMLResponse(page, status_code=status, headers={"Cache-Control": cache})

    def home(self, request: Request) -> Response:
        return self._page(request, "/", home_body)

    def search(self, request: Request) -> Response:
        return self._page(request, "/search", search_body)

    def browse(self, request: Request) -> Response:
        return self._page(request, "/browse", browse_body)

    def events(self, request: Request) -> Response:
        return self._page(request, "/events", events_body)

    def series_list(self, request: Request) -> Response:
        return self._page(request, "/series", series_list_body)

    def item(self, request: Request) -> Response:
        item_id = request.path_params["item_id"]
        return self._page(
            request,
            f"/item/{part(item_id)}",
            lambda ctx: item_body(ctx, item_id),
            ("lite-player.js",),
        )

    def event(self, request: Request) -> Response:
        event_id = request.path_params["event_id"]
        return self._page(
            request, f"/event/{part(event_id)}", lambda ctx: event_body(ctx, event_id)
        )

    def series(self, request: Request) -> Response:
        series_id = request.path_params["series_id"]
        return self._page(
            request, f"/series/{part(series_id)}", lambda ctx: series_body(ctx, series_id)
        )


def _static(request: Request) -> Response:
    found = STATIC_FILES.get(request.path_params["name"])
    if found is None:
        return PlainTextResponse(
            "Not found", status_code=404, headers={"Cache-Control": "no-store"}
        )
    path, mime = found
    return FileResponse(path, media_type=mime, headers={"Cache-Control": "public, max-age=3600"})


def lite_routes(settings: Settings | None = None) -> list[Route]:
    """The light portal's routes for the portal's ASGI app (``archive/portal/asgi.py``)."""
    lite = _Lite(settings)
    p = LITE_PREFIX
    return [
        Route(p, lite.home, methods=["GET", "HEAD"]),
        Route(p + "/", lite.home, methods=["GET", "HEAD"]),
        Route(p + "/search", lite.search, methods=["GET", "HEAD"]),
        Route(p + "/browse", lite.browse, methods=["GET", "HEAD"]),
        Route(p + "/events", lite.events, methods=["GET", "HEAD"]),
        Route(p + "/series", lite.series_list, methods=["GET", "HEAD"]),
        Route(p + "/item/{item_id}", lite.item, methods=["GET", "HEAD"]),
        Route(p + "/event/{event_id}", lite.event, methods=["GET", "HEAD"]),
        Route(p + "/series/{series_id}", lite.series, methods=["GET", "HEAD"]),
        Route(p + "/static/{name}", _static, methods=["GET", "HEAD"]),
    ]
