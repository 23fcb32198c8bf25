"""What crosses a slow link: the portal's files compressed once and cached for a year.

What it promises (issue 19, point 5: on a 3G-like link Home took 6–7 s to show anything):

* Streamlit serves its page (``index.html``, at ``/`` and every page path) and its bundles under
  ``/static/`` uncompressed, on purpose (it leaves compression to a proxy; ``archive serve
  --processes N`` has Caddy do it, a single process has none). :class:`Transfer` gzips them for a
  browser that accepts gzip: each distinct file once, at level 9, kept in a bounded cache keyed
  by the hash of its bytes (so two files never share an entry, and the thousandth visitor costs
  no more CPU than the first). Decompressed, a body is byte for byte what Streamlit sent.
* Only files from disk are compressed (a response with ``Last-Modified``, Streamlit's
  ``StaticFiles`` answers): the same bytes for every visitor, reflecting nothing of the request
  and carrying no secret, so compression tells an eavesdropper nothing (BREACH needs a secret and
  attacker-chosen text in one compressed body). Already-compressed types (fonts, images, audio,
  video) are left alone, and so is anything under ``/files/media/`` and Streamlit's ``/media/``,
  every request with a ``Range`` header and every ``206``: a compressed byte range would not be
  the bytes asked for.
* A compressed answer says ``Content-Encoding: gzip``, ``Vary: Accept-Encoding`` and a weak ETag
  (``W/"…"``; the bytes differ from the file's, and Starlette still answers ``304`` to it).
* Streamlit asks for its 375 kB icon font (Material Symbols) at start-up on every page, icons
  or not (``document.fonts.load('1em "Material Symbols Rounded"')``: the text it loads for is a
  space). :func:`defer_icon_font` gives that ``@font-face`` in Streamlit's style sheet a
  ``unicode-range`` without the space: the start-up call then loads nothing, and the browser
  fetches the font only when a page draws an icon (its names are letters, in the range). The
  public pages draw none (emoji instead), so a visitor never downloads it; staff pages still do.
* Streamlit's text fonts (Source Sans, 171 kB) have no ``font-display``: Chromium draws text in
  a font still loading as nothing for up to 3 s. :func:`swap_text_fonts` gives them
  ``font-display:swap``: text is drawn at once in the visitor's own sans-serif (the theme's next
  fonts), then in Source Sans when it has come.
* ``/static/…`` (Streamlit's content-hashed bundles: a new release has new names) is always
  ``Cache-Control: public, max-age=31536000, immutable``, as Caddy sets it in front of several
  processes; ``index.html`` keeps Streamlit's ``no-cache``.

Plain ASGI: it holds a response only when it may compress it (files under
:data:`MAX_COMPRESSED` bytes); media streams and websockets pass through untouched.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = [
    "IMMUTABLE",
    "MAX_COMPRESSED",
    "Transfer",
    "accepts_gzip",
    "defer_icon_font",
    "lighter_css",
    "swap_text_fonts",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

IMMUTABLE = b"public, max-age=31536000, immutable"
MAX_COMPRESSED = 4 * 1024 * 1024  # Streamlit's largest bundle is under 1 MB
CACHE_BYTES = 16 * 1024 * 1024  # compressed bytes kept (Streamlit's bundles need about 2 MB)
MIN_SIZE = 500  # below this, gzip's header costs more than it saves
COMPRESSIBLE = (
    b"text/html",
    b"text/css",
    b"text/javascript",
    b"application/javascript",
    b"application/json",
    b"application/manifest+json",
    b"image/svg+xml",
    b"text/plain",
)
NEVER = ("/files/media/", "/media/")  # byte ranges of recordings: never compressed


_ICON_FACE = re.compile(
    rb"@font-face\{(?=[^}]*font-family:\s*[\"']?Material Symbols Rounded[\"']?\s*;)(?![^}]*unicode-range)"
)
NOT_A_SPACE = b"unicode-range:U+0021-10FFFF;"


def defer_icon_font(css: bytes) -> bytes:
    """``css`` with the icon font's ``@font-face`` limited to every character but the space
    (and the control characters below it), so no page loads the font before it draws an icon."""
    return _ICON_FACE.sub(lambda m: m.group(0) + NOT_A_SPACE, css)


_WAITING_FACE = re.compile(rb"@font-face\{(?![^}]*font-display)")


def swap_text_fonts(css: bytes) -> bytes:
    """``css`` with ``font-display:swap`` in every ``@font-face`` that names no display."""
    return _WAITING_FACE.sub(lambda m: m.group(0) + b"font-display:swap;", css)


def lighter_css(css: bytes) -> bytes:
    """A style sheet of Streamlit's as the portal sends it: the icon font deferred (its own
    ``font-display:block`` kept, so no icon shows as its name), the text fonts swapped in."""
    return swap_text_fonts(defer_icon_font(css))


def accepts_gzip(header: str) -> bool:
    """Whether an ``Accept-Encoding`` value accepts gzip (``gzip``, or ``*``, with ``q`` above 0)."""
    weights: dict[str, float] = {}
    for part in header.split(","):
        name, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if name.strip():
            weights[name.strip().lower()] = q
    if "gzip" in weights:
        return weights["gzip"] > 0
    return weights.get("*", 0) > 0


class _Cache:
    """Compressed bodies by the hash of their bytes, the least recently used dropped first."""

    def __init__(self, limit: int = CACHE_BYTES) -> None:
        self.limit = limit
        self.size = 0
        self.entries: OrderedDict[bytes, bytes] = OrderedDict()
        self.lock = threading.Lock()

    def compressed(self, body: bytes) -> bytes:
        key = hashlib.blake2b(body, digest_size=32).digest()
        with self.lock:
            if key in self.entries:
                self.entries.move_to_end(key)
                return self.entries[key]
        # mtime=0: the same file always compresses to the same bytes.
        packed = gzip.compress(body, compresslevel=9, mtime=0)
        with self.lock:
            if key not in self.entries:
                self.entries[key] = packed
                self.size += len(packed)
            while self.size > self.limit and self.entries:
                _, dropped = self.entries.popitem(last=False)
                self.size -= len(dropped)
        return packed


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    for key, value in headers:
        if bytes(key).lower() == name:
            return bytes(value)
    return None


class Transfer:
    """ASGI middleware: Streamlit's files gzipped and cached (see the module's docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.cache = _Cache()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        request = [(bytes(k).lower(), bytes(v)) for k, v in scope.get("headers") or ()]
        static = path.startswith("/static/")
        style_sheet = static and path.endswith(".css")
        candidate = (
            scope.get("method") == "GET"
            and not path.startswith(NEVER)
            and _header(request, b"range") is None
        )
        gzip_ok = candidate and accepts_gzip(
            (_header(request, b"accept-encoding") or b"").decode("latin-1")
        )
        held: Message | None = None
        chunks: list[bytes] = []

        async def send_lighter(message: Message) -> None:
            nonlocal held
            kind = message.get("type")
            if kind == "http.response.start":
                headers = list(message.get("headers") or ())
                status = message.get("status", 200)
                if static and status == 200:
                    headers = [(k, v) for k, v in headers if bytes(k).lower() != b"cache-control"]
                    headers.append((b"cache-control", IMMUTABLE))
                message = {**message, "headers": headers}
                if candidate and status == 200 and self._compressible(headers):
                    message["headers"] = [*headers, (b"vary", b"Accept-Encoding")]
                    if gzip_ok or style_sheet:
                        held = message  # sent with the rewritten or compressed body
                        return
                await send(message)
                return
            if held is None or kind != "http.response.body":
                await send(message)
                return
            chunks.append(bytes(message.get("body", b"")))
            if sum(map(len, chunks)) > MAX_COMPRESSED:
                # Too big to hold: the rest goes as it comes, uncompressed.
                start, held = held, None
                await send(start)
                await send({**message, "body": b"".join(chunks)})
                chunks.clear()
                return
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            await self._send_lighter(
                held, lighter_css(body) if style_sheet else body, gzip_ok, send
            )
            held = None

        await self.app(scope, receive, send_lighter)

    @staticmethod
    def _compressible(headers: list[tuple[bytes, bytes]]) -> bool:
        kind = (_header(headers, b"content-type") or b"").split(b";")[0].strip().lower()
        length = _header(headers, b"content-length")
        return (
            kind in COMPRESSIBLE
            and _header(headers, b"content-encoding") is None
            and _header(headers, b"content-range") is None
            and _header(headers, b"last-modified") is not None  # a file from disk
            and (length is None or not length.isdigit() or int(length) >= MIN_SIZE)
        )

    async def _send_lighter(self, start: Message, body: bytes, gzip_ok: bool, send: Send) -> None:
        import anyio.to_thread

        headers = list(start.get("headers") or ())
        packed = body
        if gzip_ok and len(body) >= MIN_SIZE:
            if len(body) > 64 * 1024:  # a big bundle's first compression: off the event loop
                packed = await anyio.to_thread.run_sync(self.cache.compressed, body)
            else:
                packed = self.cache.compressed(body)
        length = _header(headers, b"content-length")
        if packed is body and length == str(len(body)).encode():
            await send(start)  # neither rewritten nor compressed: as Streamlit sent it
            await send({"type": "http.response.body", "body": body})
            return
        drop = {b"content-length", b"accept-ranges", b"etag"}
        kept = [(k, v) for k, v in headers if bytes(k).lower() not in drop]
        etag = _header(headers, b"etag")
        if etag is not None:  # not the file's bytes: a weak tag (Starlette still answers 304)
            kept.append((b"etag", etag if etag.startswith(b"W/") else b"W/" + etag))
        if packed is not body:
            kept.append((b"content-encoding", b"gzip"))
        kept.append((b"content-length", str(len(packed)).encode()))
        await send({**start, "headers": kept})
        await send({"type": "http.response.body", "body": packed})
