"""Security headers on every response of the portal: Streamlit's pages, its static files and
``/_stcore/*``, and the archive's own routes (files, feeds, uploads, sessions), 404s included.

The Content-Security-Policy is the second wall behind :mod:`archive.core.text_safety`: were some outside
text ever rendered as markup, the reader's browser would still load images, media, fonts, scripts,
styles, frames and connections from the archive's own origin only, so nobody learns a reader's
address from a planted ``<img>``. What Streamlit itself needs beyond ``'self'`` was measured in
Chromium (``tests/test_planted_text.py`` fails on any CSP violation):

- ``script-src blob:`` — components v2 (the player, the session cookie, the uploader) load their
  JavaScript as ``blob:`` module URLs the page made itself; no other page can make them.
- a hash for each inline ``<script>`` of Streamlit's own ``index.html`` (computed from the file
  installed, so an upgrade keeps working).
- ``style-src 'unsafe-inline'`` — Streamlit's styling (emotion) writes ``<style>`` elements and
  ``style`` attributes at run time (without it, every page reports dozens of ``style-src-elem``
  violations and renders unstyled). Styles cannot fetch from other hosts: ``img-src`` and
  ``font-src`` still hold.
- ``script-src 'wasm-unsafe-eval'`` — Streamlit's protobuf runtime (Long.js) compiles a tiny
  WebAssembly module it carries inline, at start-up. It lets a page compile WebAssembly, nothing
  more: no JavaScript ``eval``, no other host.
- ``font-src data:`` — a glyph font Streamlit's style sheet carries inline as a ``data:`` URL.

:class:`SecurityHeaders` is plain ASGI: it rewrites ``http.response.start`` only, so media streams
(Range requests) are not buffered and websockets pass untouched.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Awaitable, Callable, MutableMapping
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["SecurityHeaders", "content_security_policy", "security_headers"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)


@lru_cache(maxsize=1)
def _streamlit_inline_script_hashes() -> tuple[str, ...]:
    """``'sha256-…'`` of every inline script in the installed Streamlit's ``index.html``."""
    try:
        import streamlit

        index = Path(streamlit.__file__).resolve().parent / "static" / "index.html"
        page = index.read_text(encoding="utf-8")
    except (ImportError, OSError):
        return ()
    hashes = []
    for body in _INLINE_SCRIPT.findall(page):
        digest = hashlib.sha256(body.encode("utf-8")).digest()
        hashes.append(f"'sha256-{base64.b64encode(digest).decode('ascii')}'")
    return tuple(dict.fromkeys(hashes))


@lru_cache(maxsize=1)
def content_security_policy() -> str:
    """The portal's policy: its own origin only (see the module's docstring for each exception)."""
    scripts = " ".join(
        ("'self'", "blob:", "'wasm-unsafe-eval'", *_streamlit_inline_script_hashes())
    )
    directives = (
        "default-src 'self'",
        f"script-src {scripts}",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self'",
        "font-src 'self' data:",
        "media-src 'self'",
        "connect-src 'self'",
        "frame-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
    return "; ".join(directives)


def security_headers() -> tuple[tuple[bytes, bytes], ...]:
    """The headers every response gets (replacing any of the same name the route set)."""
    return (
        (b"content-security-policy", content_security_policy().encode("ascii")),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"x-frame-options", b"DENY"),
    )


class SecurityHeaders:
    """ASGI middleware: :func:`security_headers` on every HTTP response (``st.App(middleware=…)``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.headers = security_headers()
        self.names = {name for name, _value in self.headers}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return

        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message.get("type") == "http.response.start":
                started = True
                kept = [
                    (name, value)
                    for name, value in message.get("headers") or ()
                    if bytes(name).lower() not in self.names
                ]
                message = {**message, "headers": [*kept, *self.headers]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            # Starlette's ServerErrorMiddleware sits outside every user middleware: its 500 would
            # carry no header of ours. Answer it here (it then sees a started response and only
            # passes the error on to be logged).
            if not started:
                await send_with_headers(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8")],
                    }
                )
                await send({"type": "http.response.body", "body": b"Internal Server Error"})
            raise
