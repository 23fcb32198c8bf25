"""Every portal route bounds what it reads before reading it (security issue 18, point 8).

A real uvicorn on 127.0.0.1 serves the portal's upload and session routes with the portal's own
middleware (``archive.portal.asgi.app_options``). A raw socket client sends the request: a
``Content-Length`` far over the route's limit (nothing of the body sent), or a chunked body
without any length from a generator that counts what it managed to hand to the socket. The
server must answer 413 and stop reading: the client's send buffer is kept small, so once the
server stops reading the client can send little more than what sits in the kernel's buffers.
Without the bounds, ``/session/open`` read a 1.5 GB body whole into memory before its size check.
"""

from __future__ import annotations

import dataclasses
import select
import socket
import time

import pytest
from portal_data import in_process_port

from archive.catalog.access import Viewer
from archive.portal.sessions import COOKIE_NAME, upload_token
from archive.workspace.accounts import add_user, create_session, get_user

PASSWORD = "correct horse battery"
CHUNK = 64 * 1024
# What a server that stopped reading may still have taken: its own read-ahead and the kernel's
# socket buffers on both sides (loopback buffers grow to a few MB). A server that reads on
# takes all of SENT_AT_MOST * 8.
SENT_AT_MOST = 24 * 1024 * 1024
GIVE_UP_AFTER = SENT_AT_MOST * 8


def portal_app(settings):
    """The portal's routes for ``settings`` wrapped in the portal's own middleware."""
    from starlette.applications import Starlette

    from archive.portal.asgi import middleware
    from archive.portal.routes.uploads import upload_routes

    return Starlette(routes=upload_routes(settings), middleware=middleware(settings))


def _status(sock: socket.socket) -> int:
    """The status code of the response on ``sock`` (read until the status line is complete)."""
    data = b""
    deadline = time.monotonic() + 20
    while b"\r\n" not in data and time.monotonic() < deadline:
        try:
            more = sock.recv(4096)
        except (ConnectionResetError, TimeoutError):
            break
        if not more:
            break
        data += more
    assert data.startswith(b"HTTP/1.1 "), data[:200]
    return int(data.split(b" ", 2)[1])


def _connect(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # A small send buffer: once the server stops reading, the client is stopped soon after.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, CHUNK)
    sock.settimeout(20)
    sock.connect(("127.0.0.1", port))
    return sock


def _head(path: str, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def declared(port: int, path: str, length: int, headers: dict[str, str] | None = None) -> int:
    """POST announcing ``length`` bytes and sending none of them: the status of the answer."""
    with _connect(port) as sock:
        sock.sendall(_head(path, {**(headers or {}), "Content-Length": str(length)}))
        return _status(sock)


def streamed(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, int]:
    """POST a chunked body without any length, 64 KiB at a time, until the server answers or
    stops reading (or :data:`GIVE_UP_AFTER` bytes went): (status, body bytes sent)."""
    sent = 0
    chunk = b"%x\r\n" % CHUNK + b"\0" * CHUNK + b"\r\n"
    with _connect(port) as sock:
        sock.sendall(_head(path, {**(headers or {}), "Transfer-Encoding": "chunked"}))
        while sent < GIVE_UP_AFTER:
            readable, writable, _ = select.select([sock], [sock], [], 10)
            if readable or not writable:
                break  # an answer came, or the server stopped reading altogether
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += CHUNK
        return _status(sock), sent


@pytest.fixture
def staff_headers(settings, catalog) -> dict[str, str]:
    add_user(catalog, "uploader", "staff", PASSWORD, actor="test")
    token = create_session(catalog, settings, get_user(catalog, "uploader"))
    return {
        "Cookie": f"{COOKIE_NAME}={token}",
        "X-Upload-Token": upload_token(settings, Viewer("staff", "uploader")),
        "X-File-Name": "talk.flac",
        "Content-Type": "application/octet-stream",
    }


def test_session_open_refuses_a_declared_huge_body_without_reading_it(settings):
    with in_process_port(portal_app(settings)) as port:
        assert declared(port, "/session/open", 1_500_000_000) == 413


def test_session_open_stops_reading_a_chunked_body_at_its_limit(settings):
    with in_process_port(portal_app(settings)) as port:
        status, sent = streamed(port, "/session/open")
    assert status == 413
    assert sent < SENT_AT_MOST, f"the server read on: {sent} bytes"


def test_upload_refuses_a_declared_body_over_the_limit(settings, staff_headers):
    small = dataclasses.replace(settings, max_upload_bytes=1024 * 1024)
    with in_process_port(portal_app(small)) as port:
        assert declared(port, "/files/upload", 1_500_000_000, staff_headers) == 413


def test_upload_stops_reading_a_chunked_body_at_the_limit(settings, staff_headers):
    small = dataclasses.replace(settings, max_upload_bytes=1024 * 1024)
    with in_process_port(portal_app(small)) as port:
        status, sent = streamed(port, "/files/upload", staff_headers)
    assert status == 413
    assert sent < SENT_AT_MOST, f"the server read on: {sent} bytes"


def test_an_upload_without_a_session_is_refused_before_any_byte_is_read(settings):
    with in_process_port(portal_app(settings)) as port:
        status, sent = streamed(port, "/files/upload")
    assert status == 403
    assert sent < SENT_AT_MOST, f"the server read on: {sent} bytes"


@pytest.mark.parametrize("path", ["/feeds/rss.xml", "/_stcore/upload_file/x/y", "/anything"])
def test_every_other_path_is_bounded_by_the_middleware(settings, path):
    """Paths served by Streamlit or by nobody get the general limit from the middleware: the
    inner app here would read everything it is given."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from archive.portal.asgi import middleware

    async def greedy(request: Request) -> PlainTextResponse:
        return PlainTextResponse(str(len(await request.body())))

    app = Starlette(
        routes=[Route("/{rest:path}", greedy, methods=["POST", "PUT"])],
        middleware=middleware(settings),
    )
    with in_process_port(app) as port:
        assert declared(port, path, 1_500_000_000) == 413
        status, sent = streamed(port, path)
    assert status == 413
    assert sent < SENT_AT_MOST, f"the server read on: {sent} bytes"
