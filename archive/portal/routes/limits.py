"""How much of a request body the portal reads: a limit for every path, known before reading.

What it promises: no request body is read past its path's limit, whether the client announces
its length or sends it chunked without one, so a gigabyte sent to a small route costs the
server a few buffers, never its memory.

* :class:`BodyLimits` (ASGI middleware, outermost but one in ``archive/portal/asgi.py``) answers
  ``413`` at once when ``Content-Length`` is over the path's limit (no byte of the body is read),
  ``400`` when it is not a number, and otherwise counts the body as the app reads it: the chunk
  that goes past the limit is never handed on; the app is told the client went away and the
  client gets the ``413``. Caddy in front sets the same limits (``templates/proxy.caddy``).
* :func:`body_limit` is the table: ``/files/upload`` ``ARCHIVE_MAX_UPLOAD_MB``, the session
  routes :data:`SESSION_BODY_LIMIT`, Streamlit's own uploader :data:`STREAMLIT_UPLOAD_LIMIT`
  (its ``server.maxUploadSize`` is the poster limit), everything else :data:`OTHER_BODY_LIMIT` (Streamlit's
  pages and the file and feed routes take no body at all).
* :func:`read_bounded` is how a route itself reads a small body: the same two checks, so the
  route is safe even without the middleware.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from archive.core.config import Settings, load_settings
from archive.hub.posters import POSTER_MAX_BYTES

__all__ = [
    "OTHER_BODY_LIMIT",
    "SESSION_BODY_LIMIT",
    "STREAMLIT_UPLOAD_LIMIT",
    "BodyLimits",
    "TooLarge",
    "body_limit",
    "read_bounded",
]

SESSION_BODY_LIMIT = 1024  # a one-time log-in code is 43 characters
# Streamlit's uploader takes only posters (its maxUploadSize is the poster limit), plus 1 MB for
# the multipart framing; Caddy's template says the same number (templates/proxy.caddy).
STREAMLIT_UPLOAD_LIMIT = POSTER_MAX_BYTES + 1024 * 1024
OTHER_BODY_LIMIT = 64 * 1024
UPLOAD_PATH = "/files/upload"  # archive.portal.routes.uploads.UPLOAD_PATH (which imports this)
SESSION_PATHS = ("/session/open", "/session/close")
_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


class TooLarge(Exception):
    """A body went past its limit while being read (:func:`read_bounded`)."""


def _path(scope: Any) -> str:
    return "/" + "/".join(p for p in str(scope.get("path", "")).split("/") if p)


def body_limit(settings: Settings, path: str) -> int:
    """The most bytes of body a request to ``path`` may carry."""
    if path == UPLOAD_PATH:
        return settings.max_upload_bytes
    if path in SESSION_PATHS:
        return SESSION_BODY_LIMIT
    if path.startswith("/_stcore/upload_file/"):
        return STREAMLIT_UPLOAD_LIMIT
    return OTHER_BODY_LIMIT


def _declared(headers: Any) -> int | None:
    """The ``Content-Length`` of a request: None when absent, -1 when not a plain number."""
    raw = headers.get("content-length")
    if raw is None:
        return None
    raw = raw.strip()
    return int(raw) if raw.isdigit() and len(raw) < 20 else -1


def _refusal(status: int, limit: int) -> JSONResponse:
    body: dict[str, Any] = {"error": "too-large" if status == 413 else "bad-request"}
    if status == 413:
        body["limit"] = limit
    # The connection is closed after the answer: the rest of the body is never read.
    return JSONResponse(body, status_code=status, headers={**_HEADERS, "Connection": "close"})


async def read_bounded(request: Request, limit: int) -> bytes:
    """The whole body of ``request`` if it has at most ``limit`` bytes; :class:`TooLarge` as soon
    as it is known to have more (from ``Content-Length``, or at the chunk that goes past)."""
    length = _declared(request.headers)
    if length is not None and (length < 0 or length > limit):
        raise TooLarge(limit)
    body = bytearray()
    async for chunk in request.stream():
        if len(body) + len(chunk) > limit:
            raise TooLarge(limit)
        body += chunk
    return bytes(body)


class BodyLimits:
    """ASGI middleware: every HTTP request's body bounded by :func:`body_limit` of its path."""

    def __init__(self, app: Any, settings: Settings | None = None) -> None:
        self.app = app
        self._settings = settings

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings()
        return self._settings

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit(self.settings, _path(scope))
        headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])
        }
        length = _declared(headers)
        if length is not None and (length < 0 or length > limit):
            await _refusal(400 if length < 0 else 413, limit)(scope, receive, send)
            return
        seen = 0
        over = False
        started = False

        async def bounded_receive() -> Any:
            nonlocal seen, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            if message.get("type") == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # The chunk past the limit is never handed on; to the app the client left.
                    over = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Any) -> None:
            nonlocal started
            if over and not started:
                return  # the 413 below answers instead of whatever the app makes of it
            if message.get("type") == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, bounded_receive, guarded_send)
        except Exception:
            if not over or started:
                raise
            # The app gave up on the cut-off body (a ClientDisconnect, say): the 413 answers.
        if over and not started:
            await _refusal(413, limit)(scope, receive, send)
