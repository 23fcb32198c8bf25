"""Home: a search box, the next events (in the viewer's time and the organiser's) and the latest
recordings.

URL: ``/?lang=…&tz=…``. A search typed here shows its results in place, at ``/?q=…`` (the same
page body as Search, without ``st.switch_page``'s pause). Older links still work: ``/?item=ID``
opens the recording, ``/?event=ID`` (event permalinks) the event.
"""

from __future__ import annotations

import streamlit as st

from archive.catalog.access import present_item
from archive.hub.events import list_events
from archive.portal import hub_ui, ui, ui_search

t = ui.page_i18n()
_ = t._
cat = ui.catalog()
who = ui.viewer()

params = dict(st.query_params.to_dict())
for param, target in (("event", "event"), ("item", "item")):
    if params.get(param):
        st.switch_page(ui.PAGES[target], query_params=params)
if params.get("q"):
    ui_search.render()
    st.stop()

HOME_EVENTS = 3
HOME_RECORDINGS = 6

hub_ui.hub_css()

# -- search -------------------------------------------------------------------------------------
with st.form("home_search_form", border=False, enter_to_submit=True):
    box = st.container(horizontal=True, vertical_alignment="bottom", gap="small")
    with box:
        st.text_input(
            _("Search the archive"),
            key="home_q",
            placeholder=_("Search talks in Chinese or English, e.g. 碼頭罷工 or dock strike"),
            max_chars=300,
        )
        st.form_submit_button(
            _("Search"),
            type="primary",
            icon="🔍",
            on_click=ui_search.start_from_home,
        )

# -- upcoming events ---------------------------------------------------------------------------
tz = hub_ui.viewer_tz(t)
head = st.container(horizontal=True, vertical_alignment="bottom", gap="medium", key="home_head")
with head:
    st.subheader(_("Upcoming events"), anchor=False)
    st.space("stretch")
    hub_ui.tz_picker(t, tz)

events = list_events(
    cat, viewer=who, upcoming=True, statuses=["scheduled", "postponed"], limit=HOME_EVENTS
)
if events:
    for event in events:
        hub_ui.event_card(t, cat, who, event, tz, key=f"home_event_{event.id}")
else:
    st.caption(_("No events are announced at the moment."))
links = st.container(horizontal=True, gap="medium", key="home_event_links")
with links:
    st.page_link(
        ui.PAGES["upcoming"],
        label=_("All events"),
        icon="📅",
        query_params=hub_ui.link_params(t),
    )
    st.page_link(
        ui.PAGES["series"],
        label=_("Series"),
        icon="🗂️",
        query_params=hub_ui.link_params(t),
    )

# -- latest recordings -------------------------------------------------------------------------
st.subheader(_("Latest recordings"), anchor=False)
items = cat.list_items(role=who.role, order="created_at DESC, id DESC", limit=HOME_RECORDINGS)
items = [present_item(item, who) for item in items if who.may_see(item)]
if not items:
    st.caption(_("No recordings yet."))
for item in items:
    hub_ui.recording_card(t, cat, item, key=f"home_item_{item.id}")
st.page_link(
    ui.PAGES["browse"],
    label=_("Browse all recordings"),
    icon="🎞️",
    query_params={"lang": t.lang},
)
