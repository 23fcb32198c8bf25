"""The first paint: the Streamlit shell of a page path, with that page's light content in it.

Streamlit answers every page path (``/``, ``/search``, ``/item`` …) with the same ``index.html``,
an empty ``<div id="root">`` that stays blank until its JavaScript has loaded, connected and run
the page: seconds on a slow link. :class:`FirstPaint` (ASGI middleware) puts into that shell,
before any script runs:

- a notice, "Slow connection? Open the light version", linking the light twin of the page
  (:func:`archive.portal.lite_links.lite_for_portal`);
- the page's light content, rendered on the server for the request's viewer exactly as the
  light page is (:mod:`archive.portal.lite.pages`, :mod:`~archive.portal.lite.item_page`): for
  ``/?q=strike`` the hits, for ``/item?item=ID&t=…`` the title and the transcript from that moment.
  Its links lead into the full portal (``/item?item=ID&t=12.4``), where the app's own would: a
  reader who clicks before the app has drawn lands where the click meant to go, on a page that
  again paints at once.

It is styled and later hidden by ``/lite/static/first-paint.css`` (and ``first-paint.js``, a
latch): no inline script or style, so the CSP is unchanged. It covers the page until Streamlit has
finished its first run and drawn its elements, then disappears for good (the script removes it
from the document, so the page holds each text once).

Robust by construction: only a ``GET`` of a page path whose answer is a 200 ``text/html``
without ``Content-Encoding`` is touched; any failure, or content that takes longer than
:data:`BUDGET_SECONDS` to make, gives the plain shell (the notice alone when only the page's
content failed), never an error page.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import anyio
from starlette.requests import Request

from archive.core.config import Settings
from archive.core.errors import NotFoundError
from archive.portal.i18n import N_
from archive.portal.lite.context import LiteContext
from archive.portal.lite.item_page import item_body
from archive.portal.lite.pages import (
    browse_body,
    event_body,
    events_body,
    home_body,
    search_body,
    series_body,
    series_list_body,
)
from archive.portal.lite.routes import context_for
from archive.portal.lite_links import lite_for_portal
from archive.portal.routes.files import ArchiveRoutes
from archive.preservation.mirror_pages import escape

__all__ = ["BUDGET_SECONDS", "PAGE_PATHS", "FirstPaint", "shell_with_first_paint"]

log = logging.getLogger("archive.portal")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# The portal's page paths (archive/portal/navigation.py) that get a first paint.
PAGE_PATHS = frozenset(
    {"/", "/home", "/search", "/browse", "/item", "/upcoming", "/event", "/series", "/about"}
)
# The longest the shell waits for its content (a search, an item's transcript): past it the
# shell goes out as Streamlit made it.
BUDGET_SECONDS = 2.0
HEAD_LINKS = (
    '<link rel="stylesheet" href="/lite/static/first-paint.css">'
    '<script src="/lite/static/first-paint.js" defer></script>'
)
ROOT_DIV = '<div id="root"></div>'


def _content(ctx: LiteContext, page: str) -> str:
    """The light body of the portal's ``page`` for this viewer ("" when it has none)."""
    p = ctx.params
    if page in ("home", "") and p.get("item"):
        page = "item"
    if page in ("home", "") and p.get("event"):
        page = "event"
    try:
        if page in ("home", "", "search") and (p.get("q") or "").strip():
            return search_body(ctx)[1]
        if page in ("home", ""):
            return home_body(ctx)[1]
        if page == "item" and p.get("item"):
            return item_body(ctx, p["item"].strip(), first_paint=True)[1]
        if page == "browse":
            return browse_body(ctx)[1]
        if page == "upcoming":
            return events_body(ctx)[1]
        if page == "event" and p.get("event"):
            return event_body(ctx, p["event"].strip())[1]
        if page == "series":
            if p.get("series"):
                return series_body(ctx, p["series"].strip())[1]
            return series_list_body(ctx)[1]
    except NotFoundError:
        return ""  # the page itself will say "not found"; nothing of it here
    return ""


def shell_with_first_paint(shell: str, ctx: LiteContext, path: str) -> str:
    """``shell`` (Streamlit's ``index.html``) with the notice and ``path``'s light content for
    ``ctx``'s viewer; ``shell`` unchanged when it is not the shell this expects."""
    if ROOT_DIV not in shell or "</head>" not in shell:
        return shell
    page = path.strip("/")
    _ = ctx.t._
    lite = lite_for_portal(page, ctx.params)
    notice = (
        f'<p class="hk-slow">{escape(_("Slow connection?"))} '
        f'<a href="{escape(lite)}">{escape(_("Open the light version"))}</a></p>'
    )
    try:
        content = _content(ctx, page)
    except Exception:
        log.warning("first paint: no content for %s", path, exc_info=True)
        content = ""
    fragment = (
        f'<div id="hk-first-paint" lang="{ctx.t.html_lang}"><div class="hk-fp-inner">'
        f"{notice}{content}</div></div>"
    )
    out = shell.replace("</head>", HEAD_LINKS + "</head>", 1)
    out = out.replace('<html lang="en">', f'<html lang="{ctx.t.html_lang}">', 1)
    # After the app's root: once the app has drawn, its elements come first in the document.
    return out.replace(ROOT_DIV, ROOT_DIV + fragment, 1)


class FirstPaint:
    """ASGI middleware around Streamlit's page shell (see the module's docstring)."""

    def __init__(
        self,
        app: Callable[[Scope, Receive, Send], Awaitable[None]],
        settings: Settings | None = None,
    ) -> None:
        self.app = app
        self.archive = ArchiveRoutes(settings)

    def _rewrite(self, scope: Scope, shell: bytes) -> tuple[bytes, bool]:
        request = Request(scope)
        ctx = context_for(self.archive, request)
        ctx.portal_links = True
        text = shell.decode("utf-8")
        new = shell_with_first_paint(text, ctx, scope.get("path", "/"))
        return new.encode("utf-8"), ctx.session is not None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope.get("type") != "http"
            or scope.get("method") != "GET"
            or scope.get("path") not in PAGE_PATHS
        ):
            await self.app(scope, receive, send)
            return
        # Streamlit gzips a page path's shell itself (all but "/") when the browser accepts it,
        # and a compressed shell cannot be rewritten: ask it for the plain one. Compression is
        # decided outside (routes.transfer), which never compresses a rewritten shell.
        scope = {
            **scope,
            "headers": [
                (k, v)
                for k, v in scope.get("headers") or ()
                if bytes(k).lower() != b"accept-encoding"
            ],
        }
        start: Message | None = None
        chunks: list[bytes] = []
        passing = False

        async def capture(message: Message) -> None:
            nonlocal start, passing
            if passing:
                await send(message)
                return
            if message.get("type") == "http.response.start":
                headers = {bytes(k).lower(): bytes(v) for k, v in message.get("headers") or ()}
                if (
                    message.get("status") != 200
                    or not headers.get(b"content-type", b"").startswith(b"text/html")
                    or b"content-encoding" in headers
                ):
                    passing = True
                    await send(message)
                    return
                start = message
                return
            if message.get("type") == "http.response.body" and start is not None:
                chunks.append(bytes(message.get("body", b"")))
                return
            await send(message)

        await self.app(scope, receive, capture)
        if passing or start is None:
            return
        shell = b"".join(chunks)
        body, private = shell, False
        try:
            with anyio.move_on_after(BUDGET_SECONDS):
                body, private = await anyio.to_thread.run_sync(
                    self._rewrite, scope, shell, abandon_on_cancel=True
                )
        except Exception:  # any failure: the plain shell, never an error page
            log.warning("first paint failed for %s", scope.get("path"), exc_info=True)
            body, private = shell, False
        # A rewritten shell is no longer the file on disk: without its Last-Modified and ETag a
        # browser never revalidates it into an old first paint, and the compression outside
        # (routes.transfer, which compresses only files from disk) leaves it alone. It must: it
        # holds text the visitor chose (?q=) beside text only their role may read, which is what
        # a compression side channel (BREACH) needs.
        dropped = (b"content-length", b"cache-control")
        if body != shell:
            dropped += (b"last-modified", b"etag")
        headers = [(k, v) for k, v in start.get("headers") or () if bytes(k).lower() not in dropped]
        cache = b"private, no-store" if private else b"private, no-cache"
        headers += [(b"content-length", str(len(body)).encode()), (b"cache-control", cache)]
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})


# Marked for the catalog: strings this module translates inside f-strings, which the
# extractor (archive.portal.i18n.extract_messages) does not read.
_MARKED = (
    N_("Slow connection?"),
    N_("Open the light version"),
)
