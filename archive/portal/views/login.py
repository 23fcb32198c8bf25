"""Log in and log out (staff and members). Errors in plain words, the same for every refusal; the
recovery code field gets the person past an account lock, and a new code is shown once after."""

from __future__ import annotations

import streamlit as st

from archive.core.errors import AccessDeniedError
from archive.core.text_safety import md
from archive.portal import ui, ui_staff

t = ui.page_i18n()
_ = t._
who = ui.viewer()

if who.username:
    st.header(_("Logged in"), anchor=False)
    fresh = st.session_state.pop(ui_staff.NEW_RECOVERY_KEY, None)
    if fresh:
        # Shown once, in this run only: the catalog keeps its digest, never the code.
        st.warning(
            _(
                "You logged in with your recovery code, which now no longer works. Your new "
                "recovery code is below: write it down now and keep it apart from your password. "
                "It is not shown again."
            ),
            icon="🔑",
        )
        st.code(fresh, language=None)
    role = _("staff") if who.is_staff else _("member")
    st.markdown(
        _("You are logged in as **{name}** ({role}).").format(name=md(who.username), role=role)
    )
    if who.is_staff:
        links = st.container(horizontal=True, gap="small", key="login_staff_links")
        with links:
            for name, label, icon in ui_staff.STAFF_LINKS:
                st.page_link(
                    ui_staff.STAFF_PAGES.get(name) or ui.PAGES[name],
                    label=_(label),
                    icon=icon,
                    query_params={"lang": t.lang},
                )
    if st.button(_("Log out"), key="logout_button", icon="🚪"):
        ui_staff.log_out()
        st.session_state["_login_notice"] = "out"
        st.rerun()
    st.stop()

st.header(_("Log in"), anchor=False)
if st.session_state.pop("_login_notice", None) == "out":
    st.success(_("You have logged out."), icon="✅")
st.caption(
    _(
        "For the archive's staff and members. Everyone else can search and listen without an account."
    )
)


def _submit() -> None:
    """Form callback: try the log-in, then blank the password in the session's widget state (it
    is never kept, shown again or logged)."""
    username = str(st.session_state.get("login_username") or "")
    password = str(st.session_state.get("login_password") or "")
    code = str(st.session_state.get("login_recovery") or "")
    st.session_state["login_password"] = ""
    st.session_state["login_recovery"] = ""
    if not username or not password:
        st.session_state["_login_error"] = _("Enter your user name and password.")
        return
    try:
        ui_staff.log_in(username, password, code or None)
    except AccessDeniedError as exc:
        st.session_state["_login_error"] = ui_staff.login_message(t, exc)


with st.form("login_form", enter_to_submit=True):
    st.text_input(_("User name"), key="login_username", autocomplete="username", max_chars=40)
    st.text_input(
        _("Password"),
        key="login_password",
        type="password",
        autocomplete="current-password",
        max_chars=1024,
    )
    st.text_input(
        _("Recovery code (only if you cannot log in with your password alone)"),
        key="login_recovery",
        type="password",
        autocomplete="off",
        max_chars=40,
    )
    st.form_submit_button(_("Log in"), key="login_submit", type="primary", on_click=_submit)

error = st.session_state.pop("_login_error", None)
if error:
    st.error(error, icon="🔒")
# The same words for everyone, always: a lock-out is never announced to the one attempt it hit.
st.caption(
    _(
        "After several failed attempts in a row from one place, that place must wait a while, "
        "even with the right password. If many machines guess at your name, your account is "
        "locked: log in with your password and the recovery code you were given with the account."
    )
)
