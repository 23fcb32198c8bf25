"""The portal: navigation and the chrome shared by every page (header, language, fonts).

Run it with ``archive serve`` (which runs ``streamlit run asgi.py``: the same pages plus the
archive's media and download routes). Pages live in ``portal_pages/``; they only lay out widgets and
call the packages. (Not ``pages/``: Streamlit treats a ``pages/`` folder beside the entry script as an
old-style multipage app and, in a fresh process, would run ``/item`` without this file's chrome.)
"""

from __future__ import annotations

import streamlit as st

from archive import ui

lang = ui.current_lang()
t = ui.I18n(lang)
ui.viewer()

st.set_page_config(
    page_title=t._("Hong Kong Labour Rights Archive"),
    page_icon=ui.favicon(),
    layout="wide",
    initial_sidebar_state="collapsed",
    menu_items={"Get help": None, "Report a bug": None, "About": None},
)

nav = {
    "search": st.Page(ui.PAGES["search"], title=t._("Search"), url_path="search", default=True),
    "browse": st.Page(ui.PAGES["browse"], title=t._("Browse"), url_path="browse"),
    "item": st.Page(ui.PAGES["item"], title=t._("Recording"), url_path="item"),
    "about": st.Page(ui.PAGES["about"], title=t._("About"), url_path="about"),
}
page = st.navigation(list(nav.values()), position="hidden")
if ui.archive_ready(t):
    ui.chrome(t, nav)
    with ui.guard(t, what=page.url_path):
        page.run()
