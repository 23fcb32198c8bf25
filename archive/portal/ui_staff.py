"""The portal's logged-in side: who is viewing, log-in and log-out, the staff links, page guards.

``ui.viewer()`` asks :func:`current_viewer`: the session token in Streamlit's (server-side) session
state, else the ``HttpOnly`` session cookie the browser sent when it connected (a reload), checked
by :func:`archive.portal.sessions.session_viewer` (signature, expiry, account unchanged, not logged
out). Nothing here trusts the browser for a role: a viewer is only ever made from a checked token.

After a log-in the page gets a one-time code and a tiny component posts it to ``/session/open``,
which sets the cookie (see :mod:`archive.portal.sessions` for why the token itself never reaches
the page's JavaScript). Log-out revokes the token server-side first, then clears the cookie.

A staff page's guard (:func:`require_staff`) runs only when the page script does, and a widget's
callback runs before it; so every staff action that changes something asks :func:`live_staff` (or
is wrapped in :func:`staff_callback`) at the moment it runs: a removed, demoted, locked, logged-out
or expired session changes nothing and is told so.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import streamlit as st

from archive.catalog.access import Viewer
from archive.core.config import Settings
from archive.core.login_guard import PROXY_KEY_HEADER, client_address, parse_trusted
from archive.core.text_safety import md
from archive.portal import resources
from archive.portal.i18n import N_, I18n
from archive.portal.sessions import (
    UPLOAD_TOKEN_SECONDS,
    cookie_token,
    issue_login_code,
    live_staff_viewer,
    revoke,
    session_viewer,
    upload_token,
)
from archive.workspace.accounts import authenticate, create_session, issue_recovery_code

__all__ = [
    "LOGIN_PAGE",
    "STAFF_PAGES",
    "STAFF_REFUSAL",
    "current_viewer",
    "live_staff",
    "log_in",
    "log_out",
    "login_message",
    "lost_staff_notice",
    "require_staff",
    "session_bar",
    "show_staff_refusal",
    "staff_callback",
    "widening_warning",
]

log = logging.getLogger("archive.portal")

LOGIN_PAGE = "views/login.py"
STAFF_PAGES = {
    "upload": "views/upload.py",
    "jobs": "views/jobs.py",
    "edit": "views/edit.py",
}
STAFF_LINKS = (
    ("upload", N_("Upload"), "⬆️"),
    ("jobs", N_("Jobs"), "⏳"),
    ("edit", N_("Edit transcripts"), "📝"),
    ("events_admin", N_("New event"), "📆"),
)

TOKEN_KEY = "_hk_session_token"
CODE_KEY = "_hk_session_code"  # a one-time code waiting to become the cookie
CLOSE_KEY = "_hk_session_close"  # the cookie is to be cleared
_CHECK_KEY = "_hk_session_checked"
_REFUSED_KEY = "_hk_staff_refused"  # a staff action was refused; say so on this run
_LOST_KEY = "_hk_staff_lost"  # this run found the session no longer staff
STAFF_REFUSAL = N_(
    "Your session has ended or your account no longer has staff rights: nothing was changed."
)


def _resources() -> tuple[Any, Any]:
    return resources.catalog(), resources.settings()


def _cookie_token() -> str | None:
    from urllib.parse import urlsplit

    try:
        cookies = st.context.cookies
        # The browser's own address: over HTTPS only the ``__Host-`` cookie is accepted.
        scheme = urlsplit(st.context.url or "").scheme
        settings = resources.settings()
    except Exception:  # no browser connection (AppTest, bare mode)
        return None
    return cookie_token(settings, cookies, scheme)


def current_viewer(*, fresh: bool = False) -> Viewer:
    """The checked viewer of this browser session: logged in, or public.

    ``fresh`` checks the session against the catalog now: the portal's entry script asks so at
    the start of every run, so a removed, demoted, locked or logged-out account sees no more than
    it may from the very next run on; later calls in the same run reuse that check.
    """
    token = _session_token()
    viewer: Viewer | None = None
    if fresh:
        st.session_state.pop(_LOST_KEY, None)
    if token:
        checked = st.session_state.get(_CHECK_KEY)
        if not fresh and checked and checked[0] == token:
            viewer = checked[2]
        else:
            try:
                cat, settings = _resources()
                viewer = session_viewer(cat, settings, token)
            except Exception:  # the archive cannot be opened: fail closed, the page says why
                log.warning("could not check a portal session", exc_info=True)
                viewer = None
            was_staff = bool(checked and checked[2] is not None and checked[2].is_staff)
            if was_staff and (viewer is None or not viewer.is_staff):
                # Staff rights lost since the last run: a staff page says nothing was done.
                st.session_state[_LOST_KEY] = True
            st.session_state[_CHECK_KEY] = (token, time.monotonic(), viewer)
    if viewer is None:
        if st.session_state.get(TOKEN_KEY):
            # Expired, logged out elsewhere, or the account changed: back to public, and no
            # signed link minted for the old viewer is reused.
            _forget()
        viewer = Viewer("public")
    else:
        st.session_state[TOKEN_KEY] = token
    st.session_state["viewer"] = viewer
    return viewer


def _session_token() -> str | None:
    token = st.session_state.get(TOKEN_KEY)
    if not token and not st.session_state.get(CLOSE_KEY):
        token = _cookie_token()
    return token if isinstance(token, str) and token else None


def _forget() -> None:
    for key in (TOKEN_KEY, _CHECK_KEY, CODE_KEY, "_signed_urls", "_hk_upload_token"):
        st.session_state.pop(key, None)


NEW_RECOVERY_KEY = "_hk_new_recovery_code"


def log_in(username: str, password: str, recovery_code: str | None = None) -> Viewer:
    """Check the name and password (AccessDeniedError with the library's words otherwise) and
    start a session. The password goes no further than :func:`archive.workspace.accounts.authenticate`.

    ``recovery_code`` gets the person in through a lock-out (with the right password); once it has
    been spent a new one is issued at once and kept in the session for the page to show once."""
    cat, settings = _resources()
    account = authenticate(
        cat,
        username,
        password,
        client=client_address_here(settings),
        settings=settings,
        recovery_code=recovery_code or None,
    )
    token = create_session(cat, settings, account)
    _forget()
    spent = (
        recovery_code
        and cat.conn.execute(
            "SELECT 1 FROM users WHERE username = ? AND recovery_hash IS NULL", (account.username,)
        ).fetchone()
    )
    if spent:
        st.session_state[NEW_RECOVERY_KEY] = issue_recovery_code(
            cat, account.username, actor=f"{account.username}:recovery"
        )
    st.session_state.pop(CLOSE_KEY, None)
    st.session_state[TOKEN_KEY] = token
    st.session_state[CODE_KEY] = issue_login_code(token)
    return current_viewer()


def client_address_here(settings: Settings) -> str:
    """The address this browser session is counted as for log-in limits: the connection's peer,
    or the client a trusted proxy names (:func:`archive.core.login_guard.client_address`)."""

    try:
        peer = st.context.ip_address
        forwarded = ",".join(st.context.headers.get_all("X-Forwarded-For"))
        presented = st.context.headers.get(PROXY_KEY_HEADER)
    except Exception:  # no browser connection (AppTest, bare mode): counted as loopback
        peer, forwarded, presented = None, "", None
    return client_address(
        peer,
        forwarded,
        parse_trusted(",".join(settings.trusted_proxies)),
        proxy_key=settings.proxy_key,
        presented_key=presented,
    )


def log_out() -> None:
    """End the session here and server-side (the token is revoked, not just forgotten)."""
    _cat, settings = _resources()
    for token in {st.session_state.get(TOKEN_KEY), _cookie_token()}:
        if token:
            revoke(settings, token)
    _forget()
    st.session_state[CLOSE_KEY] = True
    st.session_state["viewer"] = Viewer("public")


def login_message(t: I18n, exc: BaseException) -> str:
    """The log-in error in plain words, in the interface language: one message for an unknown
    name, a wrong password and a lock-out alike (a distinct lock-out message would tell a guesser
    that the guess it answered was the right password)."""
    return t._("Wrong user name or password.")


# -- the cookie ---------------------------------------------------------------------------------
_COOKIE_JS = """
export default function (component) {
  const { data, setStateValue, parentElement } = component;
  if (!data || !data.action) return;
  const key = data.action + ":" + (data.code || "");
  parentElement.__hkDone = parentElement.__hkDone || {};
  if (parentElement.__hkDone[key]) return;
  parentElement.__hkDone[key] = true;
  const url = data.action === "open" ? "/session/open" : "/session/close";
  fetch(url, { method: "POST", body: data.code || "", credentials: "same-origin",
               headers: { "Content-Type": "text/plain" }, cache: "no-store" })
    .then((r) => setStateValue("done", { key: key, ok: r.ok }))
    .catch(() => setStateValue("done", { key: key, ok: false }));
}
"""


@st.cache_resource(show_spinner=False)
def _cookie_component() -> Any:
    return st.components.v2.component(
        "hk_archive.session_cookie", html="", css=":host { display: none; }", js=_COOKIE_JS
    )


def _sync_cookie() -> None:
    """Ask the browser to store (after a log-in) or clear (after a log-out) the session cookie."""
    code = st.session_state.get(CODE_KEY)
    if code:
        data = {"action": "open", "code": code}
    elif st.session_state.get(CLOSE_KEY) is True:
        data = {"action": "close", "code": ""}
    else:
        return
    key = f"{data['action']}:{data['code']}"
    result = _cookie_component()(
        key="hk_session_cookie", data=data, default={"done": None}, on_done_change=lambda: None
    )
    done = getattr(result, "done", None)
    if isinstance(done, dict) and done.get("key") == key:
        if data["action"] == "open":
            st.session_state.pop(CODE_KEY, None)
        else:
            st.session_state[CLOSE_KEY] = "done"


# -- chrome and guards ----------------------------------------------------------------------------
def session_bar(t: I18n, nav: dict[str, Any]) -> None:
    """Under the header: staff links for staff, who is logged in, log in / log out for everyone."""
    who = current_viewer()
    _sync_cookie()
    show_staff_refusal(t)
    bar = st.container(
        horizontal=True, vertical_alignment="center", gap="small", key="hk_session_bar"
    )
    with bar:
        st.space("stretch")
        if who.is_staff:
            for name, label, icon in STAFF_LINKS:
                if name in nav:
                    st.page_link(
                        nav[name], label=t._(label), icon=icon, query_params={"lang": t.lang}
                    )
        if who.username:
            role = t._("staff") if who.is_staff else t._("member")
            st.caption(
                t._("Logged in as {name} ({role})").format(name=md(who.username), role=role),
                width="content",
            )
            label, icon = t._("Log out"), "🚪"
        else:
            label, icon = t._("Log in"), "🔑"
        if "login" in nav:
            st.page_link(nav["login"], label=label, icon=icon, query_params={"lang": t.lang})


def require_staff(t: I18n) -> Viewer:
    """The staff viewer, or a plain refusal (and nothing else of the page runs)."""
    who = current_viewer()
    if not who.is_staff:
        lost_staff_notice(t)
        st.error(t._("This page is for the archive's staff. Please log in."), icon="🔒")
        st.page_link(LOGIN_PAGE, label=t._("Log in"), icon="🔑", query_params={"lang": t.lang})
        st.stop()
    return who


def lost_staff_notice(t: I18n) -> None:
    """On the run that found this session no longer staff, a staff page says that whatever was
    clicked did not happen (its refusal to show itself follows)."""
    if st.session_state.pop(_LOST_KEY, None):
        st.error(t._(STAFF_REFUSAL), icon="🚫")


# -- staff actions: checked when they run ---------------------------------------------------------
# Streamlit runs a widget's callback *before* the page script, so before require_staff, with the
# viewer captured at the page's previous run; a page's button branch may use a viewer cached for a
# second. Every action that changes something therefore asks live_staff at the moment it runs.
def live_staff(t: I18n, expected: Viewer | None = None, *, show: bool = True) -> Viewer | None:
    """The staff viewer of this browser session, checked against the catalog now (see
    :func:`archive.portal.sessions.live_staff_viewer`), or None after a plain refusal.

    ``expected`` is the viewer the page was drawn for: an action from a page drawn for someone
    else is refused too. ``show=False`` (callbacks) leaves the refusal for :func:`session_bar`
    to show on the run that follows; otherwise it is shown at once.
    """
    try:
        cat, settings = _resources()
        viewer = live_staff_viewer(cat, settings, _session_token())
    except Exception:  # the archive cannot be opened: fail closed
        log.warning("could not check a staff session", exc_info=True)
        viewer = None
    if viewer is not None and (expected is None or viewer == expected):
        return viewer
    log.warning("a staff action was refused: the session no longer holds staff rights")
    # The page re-checks the session on this run instead of trusting the second-long cache.
    st.session_state.pop(_CHECK_KEY, None)
    st.session_state[_REFUSED_KEY] = True
    if show:
        show_staff_refusal(t)
    return None


def show_staff_refusal(t: I18n) -> None:
    """Say that a staff action was refused (once), if one was."""
    if st.session_state.pop(_REFUSED_KEY, None):
        st.error(t._(STAFF_REFUSAL), icon="🔒")


_P = ParamSpec("_P")
_R = TypeVar("_R")


def staff_callback(
    t: I18n, expected: Viewer | None = None
) -> Callable[[Callable[_P, _R]], Callable[_P, _R | None]]:
    """Decorate a widget callback so that it runs only while :func:`live_staff` holds."""

    def wrap(fn: Callable[_P, _R]) -> Callable[_P, _R | None]:
        @functools.wraps(fn)
        def checked(*args: _P.args, **kwargs: _P.kwargs) -> _R | None:
            if live_staff(t, expected, show=False) is None:
                return None
            return fn(*args, **kwargs)

        return checked

    return wrap


def staff_upload_token() -> str:
    """This session's anti-forgery token for the upload route (renewed after half its life)."""

    who = current_viewer()
    _cat, settings = _resources()
    held = st.session_state.get("_hk_upload_token")
    if held is None or held[0] != who.username or time.time() - held[1] > UPLOAD_TOKEN_SECONDS / 2:
        held = (who.username, time.time(), upload_token(settings, who))
        st.session_state["_hk_upload_token"] = held
    return held[2]


# -- labels the staff pages share -------------------------------------------------------------------
VISIBILITY_LABELS = {
    "public": N_("Public"),
    "members": N_("Members only"),
    "staff": N_("Staff only"),
}
LANGUAGE_CHOICES = ("auto", "yue", "zh", "en")


def visibility_label(t: I18n, level: str | None) -> str:
    return t._(VISIBILITY_LABELS.get(level or "", N_("Staff only")))


def visibility_text(t: I18n, level: str, until: str | None, then: str | None) -> str:
    """``Staff only`` or ``Staff only until 4 Jun 2026, then Public`` in the interface language."""
    if until and then:
        return t._("{level} until {date}, then {then}").format(
            level=visibility_label(t, level),
            date=t.date(until[:10]),
            then=visibility_label(t, then),
        )
    return visibility_label(t, level)


# Most restricted first: a change to a later level widens who may see an item.
VISIBILITY_ORDER = ("staff", "members", "public")
WIDENING_MEANS = {
    "members": N_(
        "Every member will be able to hear this recording and read its transcript, and to find it "
        "in search."
    ),
    "public": N_(
        "Anyone on the internet will be able to hear this recording, read and download its "
        "transcript and find it in search, the public feeds and the mirror. Copies made meanwhile "
        "cannot be called back."
    ),
}


def widening_warning(t: I18n, old: str, new: str) -> str | None:
    """What widening an item's visibility from ``old`` to ``new`` means, in the interface language,
    for a page to show before it saves (a second, explicit step); None when it does not widen.

    The item's visibility form (``views/edit.py``) is to ask with this before ``set_visibility``.
    """
    if new not in WIDENING_MEANS or VISIBILITY_ORDER.index(new) <= VISIBILITY_ORDER.index(old):
        return None
    return (
        t._("You are making this recording visible to more people: {old} → {new}.").format(
            old=visibility_label(t, old), new=visibility_label(t, new)
        )
        + " "
        + t._(WIDENING_MEANS[new])
    )
