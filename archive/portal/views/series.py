"""Series: talk tours, interview series, anniversary programmes, each with its events and recordings.

URL: ``/series?lang=…`` lists the series; ``/series?series=ID`` shows one, with subscribe links
(its public events as a calendar, its public recordings as a podcast). A series is listed only when
the viewer may see at least one of its events or recordings (``archive.hub.series.visible_series``);
below staff, any other series reads exactly like an id that does not exist.
"""

from __future__ import annotations

import streamlit as st

from archive.core.errors import ArchiveError
from archive.core.text_safety import html_text, md
from archive.hub.events import list_events
from archive.hub.series import items_in_series, visible_series, visible_series_list
from archive.portal import hub_ui, ui

t = ui.page_i18n()
_ = t._
cat = ui.catalog()
who = ui.viewer()

hub_ui.hub_css()
tz = hub_ui.viewer_tz(t)
series_id = (st.query_params.get("series") or "").strip()


def _contents(sid: str) -> tuple[list, list, list]:
    upcoming = list_events(cat, viewer=who, series_id=sid, upcoming=True)
    past = list_events(cat, viewer=who, series_id=sid, upcoming=False)
    items = items_in_series(cat, sid, who)
    return upcoming, past, items


if not series_id:
    st.header(_("Series"), anchor=False)
    shown = 0
    for series in visible_series_list(cat, who):
        upcoming, past, items = _contents(series.id)
        if not (upcoming or past or items):
            continue
        shown += 1
        with st.container(border=True, key=f"series_{series.id}"):
            st.page_link(
                ui.PAGES["series"],
                label=md(hub_ui.series_title(t, series)),
                icon="🗂️",
                query_params=hub_ui.link_params(t, series=series.id),
            )
            description = t.pick(series.description_zh, series.description_en)
            if description:
                st.markdown(hub_ui.describe(description), unsafe_allow_html=True)
            st.caption(
                " · ".join(
                    [
                        t.ngettext(
                            "{n} upcoming event", "{n} upcoming events", len(upcoming)
                        ).format(n=t.number(len(upcoming))),
                        t.ngettext("{n} recording", "{n} recordings", len(items)).format(
                            n=t.number(len(items))
                        ),
                    ]
                )
            )
    if not shown:
        st.caption(_("No series yet."))
    st.stop()

try:
    series = visible_series(cat, series_id, who)
    upcoming, past, items = _contents(series.id)
except ArchiveError:
    series, upcoming, past, items = None, [], [], []
if series is None:
    st.error(_("We couldn't find that series."))
    st.page_link(ui.PAGES["series"], label=_("All series"), query_params=hub_ui.link_params(t))
    st.stop()

title = hub_ui.series_title(t, series)
other = series.title_en if t.lang == "zh" else series.title_zh
st.title(md(title), anchor=False)
if other and other != title:
    st.markdown(
        f'<p class="hk-other-title" lang="{"en" if t.lang == "zh" else "zh-Hant-HK"}">'
        f"{html_text(other)}</p>",
        unsafe_allow_html=True,
    )
description = t.pick(series.description_zh, series.description_en)
if description:
    st.markdown(hub_ui.describe(description), unsafe_allow_html=True)
hub_ui.subscribe_links(t, series.id, podcast=True)

head = st.container(horizontal=True, vertical_alignment="bottom", gap="medium", key="series_head")
with head:
    st.subheader(_("Upcoming events"), anchor=False)
    st.space("stretch")
    hub_ui.tz_picker(t, tz)
if not upcoming:
    st.caption(_("No events are announced at the moment."))
for event in upcoming:
    hub_ui.event_card(t, cat, who, event, tz, key=f"series_up_{event.id}")

st.subheader(_("Recordings"), anchor=False)
if not items:
    st.caption(_("No recordings yet."))
for item in items:
    hub_ui.recording_card(t, cat, item, key=f"series_item_{item.id}")

recorded = {item.id for item in items}
without = [e for e in past if e.item_id not in recorded]
if without:
    st.subheader(_("Past events"), anchor=False)
    for event in without:
        hub_ui.event_card(t, cat, who, event, tz, key=f"series_past_{event.id}", calendar=False)
st.page_link(
    ui.PAGES["series"],
    label=_("All series"),
    icon="🗂️",
    query_params=hub_ui.link_params(t),
)
