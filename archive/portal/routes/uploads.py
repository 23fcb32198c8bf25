"""HTTP routes for the staff workspace: streaming uploads and the session cookie.

``POST /files/upload`` takes the file as the raw request body (no multipart form: nothing to parse,
nothing held in memory) and streams it chunk by chunk into :func:`archive.media.uploads.write_upload_stream`,
which enforces the size limit, names the file itself and reads its type from its bytes. Streamlit's
own ``st.file_uploader`` keeps a whole upload in memory, so a two-hour recording never goes there.

Who may upload: a request needs **both** a valid staff session cookie and the ``X-Upload-Token``
header that a staff page minted for the same user (see :mod:`archive.portal.sessions`), and, when
the browser sends ``Origin``, it must be this server. Anything else gets 403 before a byte of the
body is read. The display name comes in ``X-File-Name`` (URL-encoded) and is only ever shown.

``POST /session/open`` swaps a one-time code from the log-in page for the ``HttpOnly;
SameSite=Strict`` session cookie; ``POST /session/close`` clears it and revokes the token.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import unquote, urlsplit

import anyio
import anyio.from_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from archive.core.config import Settings
from archive.core.errors import ArchiveError, InputError, MediaError
from archive.media.uploads import write_upload_stream
from archive.portal.routes.files import ArchiveRoutes
from archive.portal.routes.limits import (
    SESSION_BODY_LIMIT,
    SESSION_PATHS,
    UPLOAD_PATH,
    TooLarge,
    read_bounded,
)
from archive.portal.sessions import (
    check_upload_token,
    cookie_name,
    cookie_token,
    live_staff_viewer,
    prune_uploads,
    redeem_login_code,
    revoke,
    session_viewer,
    sign_upload,
)
from archive.workspace.accounts import session_max_age

__all__ = ["SESSION_CLOSE", "SESSION_OPEN", "UPLOAD_PATH", "upload_routes"]

log = logging.getLogger("archive.portal")

SESSION_OPEN, SESSION_CLOSE = SESSION_PATHS
NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def _json(status: int, body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=NO_STORE)


def _same_origin(request: Request) -> bool:
    """No ``Origin`` (not a browser's cross-site request) or exactly this server's own."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    host = request.headers.get("host", "")
    parts = urlsplit(origin)
    return bool(parts.netloc) and parts.netloc == host


class _StaffRoutes(ArchiveRoutes):
    """The upload and session routes."""

    def _staff(self, request: Request) -> str | None:
        """The staff user name when the cookie and the page's token agree; None otherwise."""
        if not _same_origin(request):
            return None
        # Checked as the request arrives: removed, demoted, locked, logged-out or expired is refused.
        token = cookie_token(self.settings, request.cookies, request.url.scheme)
        viewer = live_staff_viewer(self.catalog, self.settings, token)
        if viewer is None:
            return None
        if (
            check_upload_token(self.settings, request.headers.get("x-upload-token"))
            != viewer.username
        ):
            return None
        return viewer.username

    async def upload(self, request: Request) -> Response:
        username = await anyio.to_thread.run_sync(self._staff, request)
        if username is None:
            # Nothing about why: a missing cookie, a forged token and a foreign origin look alike.
            return _json(403, {"error": "forbidden"})
        limit = self.settings.max_upload_bytes
        declared = request.headers.get("content-length")
        if declared is not None:
            try:
                if int(declared) > limit:
                    return _json(413, {"error": "too-large", "limit": limit})
            except ValueError:
                return _json(400, {"error": "bad-request"})
        name = unquote(request.headers.get("x-file-name", ""), errors="replace")
        stream: AsyncIterator[bytes] = request.stream()

        def chunks() -> Iterator[bytes]:
            # Runs in a worker thread: each chunk is fetched from the event loop as it arrives.
            while True:
                try:
                    chunk = anyio.from_thread.run(stream.__anext__)
                except StopAsyncIteration:
                    return
                if chunk:
                    yield chunk

        def store() -> dict[str, Any]:
            prune_uploads(self.settings)
            upload = write_upload_stream(self.settings, chunks(), name, max_bytes=limit)
            upload_id = sign_upload(
                self.settings, upload.path, upload.display_name, upload.size, upload.mime, username
            )
            return {
                "upload_id": upload_id,
                "name": upload.display_name,
                "size": upload.size,
                "mime": upload.mime,
            }

        try:
            body = await anyio.to_thread.run_sync(store)
        except InputError as exc:
            too_large = "larger than the upload limit" in str(exc)
            return _json(
                413 if too_large else 400,
                {"error": "too-large" if too_large else "bad-request", "limit": limit},
            )
        except MediaError:
            return _json(415, {"error": "not-media"})
        except ArchiveError:
            log.warning("upload refused", exc_info=True)
            return _json(400, {"error": "bad-request"})
        except OSError:
            log.exception("upload could not be stored")
            return _json(500, {"error": "server"})
        log.info("upload by %s: %d bytes, %s", username, body["size"], body["mime"])
        return _json(200, body)

    async def session_open(self, request: Request) -> Response:
        if not _same_origin(request):
            return _json(403, {"error": "forbidden"})
        try:
            # Bounded before a byte is read: a code is 43 characters, a gigabyte is refused at
            # its Content-Length, or at the chunk that goes past the limit when it has none.
            raw = await read_bounded(request, SESSION_BODY_LIMIT)
        except TooLarge:
            return _json(413, {"error": "too-large", "limit": SESSION_BODY_LIMIT})
        token = redeem_login_code(raw.decode("utf-8", "replace").strip())
        viewer = None
        if token is not None:
            viewer = await anyio.to_thread.run_sync(
                session_viewer, self.catalog, self.settings, token
            )
        if token is None or viewer is None:
            return _json(403, {"error": "forbidden"})
        response = _json(200, {"ok": True})
        # ``__Host-`` name and ``Secure`` over HTTPS (see archive.portal.sessions); no Domain, so
        # the cookie stays with this exact host.
        name = cookie_name(self.settings, request.url.scheme)
        response.set_cookie(
            name,
            token,
            max_age=int(session_max_age()),
            path="/",
            httponly=True,
            samesite="strict",
            secure=name.startswith("__Host-"),
        )
        return response

    async def session_close(self, request: Request) -> Response:
        if not _same_origin(request):
            return _json(403, {"error": "forbidden"})
        token = cookie_token(self.settings, request.cookies, request.url.scheme)
        if token:
            await anyio.to_thread.run_sync(revoke, self.settings, token)
        response = _json(200, {"ok": True})
        name = cookie_name(self.settings, request.url.scheme)
        response.delete_cookie(
            name, path="/", httponly=True, samesite="strict", secure=name.startswith("__Host-")
        )
        return response


def upload_routes(settings: Settings | None = None) -> list[Route]:
    """The staff workspace's routes for the portal's ASGI app (``archive/portal/asgi.py``)."""
    staff = _StaffRoutes(settings)
    return [
        Route(UPLOAD_PATH, staff.upload, methods=["POST"]),
        Route(SESSION_OPEN, staff.session_open, methods=["POST"]),
        Route(SESSION_CLOSE, staff.session_close, methods=["POST"]),
    ]
