"""Events: everything upcoming (soonest first), then past events with their recordings.

URL: ``/upcoming?series=ID&lang=…&tz=…``. Times are in the viewer's zone with the organiser's
beside them; each upcoming event has "Add to calendar" (an ``.ics`` for this viewer), and the public
programme (or a series) can be subscribed to at ``/feeds/events.ics``.
"""

from __future__ import annotations

import streamlit as st

from archive.hub.events import list_events
from archive.hub.series import visible_series_list
from archive.portal import hub_ui, ui

t = ui.page_i18n()
_ = t._
cat = ui.catalog()
who = ui.viewer()
PAST_SHOWN = 20

hub_ui.hub_css()
tz = hub_ui.viewer_tz(t)

all_series = {s.id: s for s in visible_series_list(cat, who)}
every = list_events(cat, viewer=who)
# Only series this viewer has events in: a series of staff-only drafts stays unseen.
offered = [sid for sid in all_series if any(e.series_id == sid for e in every)]
ui.url_to_state(
    "upcoming",
    {"series": ("upcoming_series", None, lambda v: v if v in offered else None)},
)
if st.session_state.get("upcoming_series") not in (None, *offered):
    st.session_state["upcoming_series"] = None

head = st.container(horizontal=True, vertical_alignment="bottom", gap="medium", key="upcoming_head")
with head:
    st.header(_("Events"), anchor=False)
    st.space("stretch")
    if who.is_staff:
        st.page_link(
            ui.PAGES["events_admin"],
            label=_("New event"),
            icon="➕",
            query_params={"lang": t.lang},
        )

controls = st.container(
    horizontal=True, vertical_alignment="bottom", gap="small", key="upcoming_controls"
)
with controls:
    series_id = st.selectbox(
        _("Series"),
        offered,
        index=None,
        key="upcoming_series",
        placeholder=_("All series"),
        format_func=lambda sid: hub_ui.series_title(t, all_series[sid]),
        width=320,
    )
    hub_ui.tz_picker(t, tz)
ui.state_to_url("upcoming", {"series": (series_id, None)})

hub_ui.subscribe_links(t, series_id)
if series_id:
    st.page_link(
        ui.PAGES["series"],
        label=_("About this series"),
        icon="🗂️",
        query_params=hub_ui.link_params(t, series=series_id),
    )

st.subheader(_("Upcoming"), anchor=False)
upcoming = list_events(cat, viewer=who, upcoming=True, series_id=series_id)
if not upcoming:
    st.caption(_("No events are announced at the moment."))
for event in upcoming:
    hub_ui.event_card(t, cat, who, event, tz, key=f"upcoming_{event.id}")

st.subheader(_("Past events"), anchor=False)
past = list_events(cat, viewer=who, upcoming=False, series_id=series_id)
if not past:
    st.caption(_("No past events yet."))
for event in past[:PAST_SHOWN]:
    hub_ui.event_card(t, cat, who, event, tz, key=f"past_{event.id}", calendar=False)
if len(past) > PAST_SHOWN:
    st.caption(
        _("Showing the latest {shown} of {total} past events.").format(
            shown=t.number(PAST_SHOWN), total=t.number(len(past))
        )
    )
