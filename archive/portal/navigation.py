"""The portal: navigation and the chrome shared by every page (header, language, fonts).

Streamlit runs this script on every page view of the app made in :mod:`archive.portal.asgi`
(``archive serve``, or ``streamlit run streamlit_app.py`` in the checkout). Pages live in
``views/`` beside it; they only lay out widgets and call the packages. (Not ``pages/``: Streamlit
treats a ``pages/`` folder beside the entry script as an old-style multipage app and, in a fresh
process, would run ``/item`` without this file's chrome.)
"""

from __future__ import annotations

import streamlit as st

from archive.portal import ui, ui_staff

lang = ui.current_lang()
t = ui.I18n(lang)
ui.viewer(fresh=True)  # the session as it is now: every run checks it again

st.set_page_config(
    page_title=t._("Hong Kong Labour Rights Archive"),
    page_icon=ui.favicon(),
    layout="wide",
    initial_sidebar_state="collapsed",
    menu_items={"Get help": None, "Report a bug": None, "About": None},
)

nav = {
    "home": st.Page(ui.PAGES["home"], title=t._("Home"), url_path="home", default=True),
    "search": st.Page(ui.PAGES["search"], title=t._("Search"), url_path="search"),
    "browse": st.Page(ui.PAGES["browse"], title=t._("Browse"), url_path="browse"),
    "item": st.Page(ui.PAGES["item"], title=t._("Recording"), url_path="item"),
    "about": st.Page(ui.PAGES["about"], title=t._("About"), url_path="about"),
    "upcoming": st.Page(ui.PAGES["upcoming"], title=t._("Events"), url_path="upcoming"),
    "event": st.Page(ui.PAGES["event"], title=t._("Event"), url_path="event"),
    "series": st.Page(ui.PAGES["series"], title=t._("Series"), url_path="series"),
    "events_admin": st.Page(
        ui.PAGES["events_admin"], title=t._("Manage events"), url_path="events_admin"
    ),
    # Log-in for everyone; the staff pages are linked only for staff and refuse anyone else.
    "login": st.Page(ui_staff.LOGIN_PAGE, title=t._("Log in"), url_path="login"),
    "upload": st.Page(ui_staff.STAFF_PAGES["upload"], title=t._("Upload"), url_path="upload"),
    "jobs": st.Page(ui_staff.STAFF_PAGES["jobs"], title=t._("Jobs"), url_path="jobs"),
    "edit": st.Page(ui_staff.STAFF_PAGES["edit"], title=t._("Edit transcripts"), url_path="edit"),
}
page = st.navigation(list(nav.values()), position="hidden")
if ui.archive_ready(t):
    ui.chrome(t, nav, page.url_path)
    ui_staff.session_bar(t, nav)
    with ui.guard(t, what=page.url_path):
        if page.url_path in ui_staff.STAFF_PAGES:
            ui_staff.require_staff(t)  # before any of the page's code runs
        page.run()
