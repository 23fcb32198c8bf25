"""The portal's logged-in sessions: the cookie, log-out that really ends a session, upload tokens.

:mod:`archive.workspace.accounts` makes and checks the signed session token; this module decides how the
portal carries it and adds what a web session needs on top:

* **Cookie.** After a log-in the page holds the token in Streamlit's server-side session state and
  gets a *one-time code* (random, 60 seconds, single use, kept in this process only). The page's
  script posts that code to ``/session/open``, which answers with the token in an ``HttpOnly;
  SameSite=Strict; Path=/`` cookie. So the token itself never reaches the page's JavaScript, and
  a reload reads the cookie (``st.context.cookies``) to find the user again. The cookie lasts
  exactly as long as the token (``ARCHIVE_SESSION_HOURS``).
* **HTTPS.** When the portal is reached over HTTPS the cookie is ``__Host-hk_archive_session``
  with ``Secure``: the browser sends it only over HTTPS, and no sibling host (``evil.example.org``
  beside ``archive.example.org``) nor a plain-HTTP answer can set or overwrite it. "Reached over
  HTTPS" means ``ARCHIVE_PUBLIC_URL`` starts with ``https://`` (the way to say so behind a
  TLS-terminating proxy) or the request's scheme is ``https``: it came over TLS, or a proxy that
  uvicorn trusts said so in ``X-Forwarded-Proto`` (uvicorn believes that header only from
  ``FORWARDED_ALLOW_IPS``, by default 127.0.0.1, a proxy on the same machine; from anyone else it
  is ignored). In that mode only the ``__Host-`` cookie is accepted. On plain
  HTTP (a local trial on 127.0.0.1) the cookie is ``hk_archive_session`` without ``Secure``,
  because browsers refuse ``__Host-`` cookies that are not ``Secure``.
* **Log-out.** Signed tokens are stateless, so deleting a cookie alone would leave a copied token
  usable until it expires. :func:`revoke` records a digest of the token (never the token) in
  ``<home>/portal-sessions.sqlite`` until it would have expired; :func:`session_viewer` refuses it.
* **Upload tokens (CSRF).** The streaming upload route needs the session cookie *and* a short-lived
  token that only a page of this portal can have read (signed, bound to the user, in a request
  header). A form on another site can send the cookie (were SameSite ever relaxed) but cannot read
  the token. :func:`sign_upload` then names the stored file so that the page can hand it to the job
  queue without trusting a path from the browser.

>>> token = accounts.create_session(catalog, settings, account)
>>> code = issue_login_code(token)
>>> redeem_login_code(code) == token, redeem_login_code(code)
(True, None)
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from itsdangerous import BadData, URLSafeTimedSerializer

from archive.catalog.access import Viewer
from archive.catalog.db import Catalog
from archive.core.config import Settings
from archive.core.errors import NotFoundError
from archive.core.filemodes import private_file
from archive.core.keys import load_secret
from archive.media.uploads import upload_dir
from archive.workspace.accounts import check_session, session_max_age

__all__ = [
    "COOKIE_NAME",
    "LOGIN_CODE_SECONDS",
    "SECURE_COOKIE_NAME",
    "cookie_name",
    "cookie_token",
    "secure_site",
    "SignedUpload",
    "check_upload",
    "check_upload_token",
    "holder_matches",
    "session_tag",
    "issue_login_code",
    "is_revoked",
    "live_staff_viewer",
    "redeem_login_code",
    "revoke",
    "session_viewer",
    "sign_upload",
    "upload_token",
]

COOKIE_NAME = "hk_archive_session"
SECURE_COOKIE_NAME = "__Host-" + COOKIE_NAME
LOGIN_CODE_SECONDS = 60.0
UPLOAD_TOKEN_SECONDS = 2 * 3600  # a page minted it; a two-hour recording may take a while to send
UPLOAD_ID_SECONDS = 24 * 3600  # from upload finished to "queue it" on the metadata form
_UPLOAD_TOKEN_SALT = "archive.portal-upload-token"
_UPLOAD_ID_SALT = "archive.portal-upload-id"
_STORED_NAME = re.compile(r"^[0-9a-f]{32}(\.[a-z0-9]{1,8})?$")

# -- one-time log-in codes -------------------------------------------------------------------
# In this process only: the page (script thread) issues, the /session/open route (same process,
# ``st.App``) redeems. A code is useless after its first use or a minute.
_codes: dict[str, tuple[float, str]] = {}
_codes_lock = threading.Lock()


def issue_login_code(token: str) -> str:
    code = secrets.token_urlsafe(32)
    now = time.monotonic()
    with _codes_lock:
        for old in [c for c, (at, _t) in _codes.items() if now - at > LOGIN_CODE_SECONDS]:
            del _codes[old]
        _codes[code] = (now, token)
    return code


def redeem_login_code(code: str | None) -> str | None:
    """The session token a code stands for, once; None when unknown, used or expired."""
    if not code or not isinstance(code, str) or len(code) > 100:
        return None
    with _codes_lock:
        found = _codes.pop(code, None)
    if found is None or time.monotonic() - found[0] > LOGIN_CODE_SECONDS:
        return None
    return found[1]


# -- the cookie's name ------------------------------------------------------------------------
def secure_site(settings: Settings, scheme: str | None = None) -> bool:
    """Whether the portal is reached over HTTPS: ``ARCHIVE_PUBLIC_URL`` says so, or ``scheme`` (the
    request's as uvicorn gives it: TLS, or a trusted proxy's ``X-Forwarded-Proto``) is ``https``."""
    public = (settings.public_url or "").lower()
    return public.startswith("https://") or (scheme or "").lower() == "https"


def cookie_name(settings: Settings, scheme: str | None = None) -> str:
    """The session cookie's name: ``__Host-`` prefixed (and ``Secure``) over HTTPS."""
    return SECURE_COOKIE_NAME if secure_site(settings, scheme) else COOKIE_NAME


def cookie_token(settings: Settings, cookies: Any, scheme: str | None = None) -> str | None:
    """The session token among a request's cookies. Over HTTPS only the ``__Host-`` cookie counts
    (a plain one may have been planted by a sibling host or over plain HTTP); on plain HTTP the
    ``__Host-`` one is still preferred when a browser sends it (it came over TLS)."""
    value = cookies.get(SECURE_COOKIE_NAME)
    if not value and not secure_site(settings, scheme):
        value = cookies.get(COOKIE_NAME)
    return value if isinstance(value, str) and value else None


# -- revocation (log-out) --------------------------------------------------------------------
def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def _revocations(settings: Settings) -> sqlite3.Connection:
    path = Path(settings.home) / "portal-sessions.sqlite"
    private_file(path)  # 0600 before SQLite makes it 0644
    conn = sqlite3.connect(path, timeout=10)
    conn.execute(
        "CREATE TABLE IF NOT EXISTS revoked (digest TEXT PRIMARY KEY, expires_at REAL NOT NULL)"
    )
    return conn


def revoke(settings: Settings, token: str | None) -> None:
    """End a session for good (log-out): the token is refused from now on, in every process."""
    if not token:
        return
    now = time.time()
    conn = _revocations(settings)
    try:
        with conn:
            conn.execute("DELETE FROM revoked WHERE expires_at < ?", (now,))
            conn.execute(
                "INSERT OR REPLACE INTO revoked (digest, expires_at) VALUES (?, ?)",
                (_digest(token), now + session_max_age() + 600),
            )
    finally:
        conn.close()


def is_revoked(settings: Settings, token: str) -> bool:
    path = Path(settings.home) / "portal-sessions.sqlite"
    if not path.exists():
        return False
    conn = _revocations(settings)
    try:
        row = conn.execute("SELECT 1 FROM revoked WHERE digest = ?", (_digest(token),)).fetchone()
    finally:
        conn.close()
    return row is not None


def session_viewer(catalog: Catalog, settings: Settings, token: str | None) -> Viewer | None:
    """The logged-in viewer for a token: None when missing, forged, expired, logged out, or the
    account was removed or changed (see :func:`archive.workspace.accounts.check_session`)."""
    viewer = check_session(catalog, settings, token)
    if viewer is None or is_revoked(settings, token or ""):
        return None
    return viewer


def live_staff_viewer(catalog: Catalog, settings: Settings, token: str | None) -> Viewer | None:
    """The staff viewer a session token stands for *right now*, or None.

    What every staff action (a page's button or callback, the upload route) asks at the moment it
    runs, never a viewer remembered from an earlier run of the page: the token is signed and within
    its age, not logged out, and its account still exists with the same password and the role
    ``staff`` in the catalog now.

    A lock-out is *not* a reason: it stops new log-ins, and failures sent by other clients must
    never freeze a session that already proved itself (during an incident staff must still be
    able to redact). To end someone's sessions, remove the account, change its role or its
    password (``archive user remove / role / passwd``).
    """
    viewer = session_viewer(catalog, settings, token)
    if viewer is None or not viewer.is_staff or not viewer.username:
        return None
    row = catalog.conn.execute(
        "SELECT role FROM users WHERE username = ?", (viewer.username,)
    ).fetchone()
    if row is None or row["role"] != "staff":
        return None
    return viewer


def session_tag(token: str) -> str:
    """What a signed file link keeps of the session it was minted in: a one-way tag of the
    session's token (the token itself is never put into a link)."""
    return hashlib.sha256(
        b"archive.file-link-session:" + token.encode("utf-8", "replace")
    ).hexdigest()[:32]


def holder_matches(
    catalog: Catalog, settings: Settings, request: Any, viewer: Viewer, tag: str | None = None
) -> bool:
    """Whether the sender of ``request`` may use a signed URL minted for ``viewer`` in the session
    tagged ``tag`` (:func:`session_tag`).

    Public URLs are for anyone (the file route still checks the item is public *now*). A URL
    minted for a logged-in member or staff member carries their role and the tag of the session
    it was minted in, so it is honoured only alongside that same session's live cookie: a copied
    link replayed by anyone else, in the same person's other session, or after log-out, password
    change or role change, gets nothing.
    """
    if viewer.role == "public" and viewer.username is None:
        return True
    token = cookie_token(settings, request.cookies, request.url.scheme)
    if not token or not tag:
        return False
    if not hmac.compare_digest(session_tag(token), tag):
        return False
    current = session_viewer(catalog, settings, token)
    return current is not None and current == viewer


# -- upload tokens and stored uploads ----------------------------------------------------------
def _serializer(settings: Settings, salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(load_secret(settings), salt=salt)


def upload_token(settings: Settings, viewer: Viewer) -> str:
    """The anti-forgery token a staff page gives its upload widget (bound to the user)."""
    if not viewer.is_staff or not viewer.username:
        raise NotFoundError("uploads are for staff")
    return str(
        _serializer(settings, _UPLOAD_TOKEN_SALT).dumps(
            {"u": viewer.username, "n": secrets.token_hex(8)}
        )
    )


def check_upload_token(settings: Settings, token: str | None) -> str | None:
    """The user name an upload token was minted for; None when forged or expired."""
    if not token or len(token) > 1000:
        return None
    try:
        data = _serializer(settings, _UPLOAD_TOKEN_SALT).loads(token, max_age=UPLOAD_TOKEN_SECONDS)
    except BadData:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), str):
        return None
    return data["u"]


@dataclass(frozen=True)
class SignedUpload:
    path: Path
    display_name: str
    size: int
    mime: str
    username: str


def sign_upload(
    settings: Settings, path: Path, display_name: str, size: int, mime: str, username: str
) -> str:
    """The id the upload route returns: names the stored file, the sender and what it holds."""
    return str(
        _serializer(settings, _UPLOAD_ID_SALT).dumps(
            {"f": Path(path).name, "n": display_name, "s": int(size), "m": mime, "u": username}
        )
    )


def check_upload(settings: Settings, upload_id: str | None, viewer: Viewer) -> SignedUpload:
    """The stored upload an id names, for the staff member who sent it; NotFoundError otherwise
    (forged, expired, someone else's, already queued, or a name that is not one of ours)."""
    if not upload_id or not isinstance(upload_id, str) or len(upload_id) > 2000:
        raise NotFoundError("no such upload")
    try:
        data = _serializer(settings, _UPLOAD_ID_SALT).loads(upload_id, max_age=UPLOAD_ID_SECONDS)
    except BadData as exc:
        raise NotFoundError("no such upload") from exc
    if not isinstance(data, dict) or not viewer.is_staff or data.get("u") != viewer.username:
        raise NotFoundError("no such upload")
    name = str(data.get("f", ""))
    if not _STORED_NAME.match(name):
        raise NotFoundError("no such upload")
    folder = upload_dir(settings).resolve()
    path = (folder / name).resolve()
    if path.parent != folder or not path.is_file():
        raise NotFoundError("no such upload")
    return SignedUpload(
        path=path,
        display_name=str(data.get("n") or "upload"),
        size=int(data.get("s") or 0),
        mime=str(data.get("m") or ""),
        username=viewer.username or "",
    )


def prune_uploads(settings: Settings, older_than: float = UPLOAD_ID_SECONDS) -> int:
    """Remove uploads nobody queued (their ids have expired). Returns how many were removed."""
    folder = upload_dir(settings)
    cutoff = time.time() - older_than
    removed = 0
    for path in folder.iterdir():
        try:
            if path.is_file() and _STORED_NAME.match(path.name) and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except OSError:
            continue
    return removed
