"""Browse: the collections, with filters and sorting, and a chart of archive hours by year.

URL: ``/browse?collection=…&year=…&language=…&speaker=…&tag=…&sort=…&page=…&lang=…``.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from archive.catalog.models import COLLECTIONS
from archive.core.text_safety import html_text, md
from archive.portal import ui
from archive.portal.i18n import N_

t = ui.page_i18n()
_ = t._
who = ui.viewer()
PER_PAGE = 20
SORTS = {
    "newest": N_("Newest first"),
    "oldest": N_("Oldest first"),
    "speaker": N_("Speaker (A–Z)"),
    "language": N_("Language"),
    "tag": N_("Tag (A–Z)"),
    "longest": N_("Longest first"),
}


rows = ui.browse_rows(who.role)

ui.url_to_state(
    "browse",
    {
        "collection": ("browse_collection", None, lambda v: v if v in COLLECTIONS else None),
        "year": ("browse_year", None, str),
        "language": ("browse_language", None, str),
        "speaker": ("browse_speaker", None, str),
        "tag": ("browse_tag", None, str),
        "sort": ("browse_sort", "newest", lambda v: v if v in SORTS else "newest"),
        "page": ("browse_page", 1, int),
    },
)


def _reset_page() -> None:
    st.session_state["browse_page"] = 1


st.header(_("Browse the archive"), anchor=False)
present = [c for c in COLLECTIONS if any(r.collection == c for r in rows)]
if st.session_state.get("browse_collection") not in (None, *present):
    st.session_state["browse_collection"] = None
collection = st.pills(
    _("Collection"),
    present,
    format_func=lambda c: (
        f"{ui.collection_label(t, c)} ({t.number(sum(1 for r in rows if r.collection == c))})"
    ),
    key="browse_collection",
    on_change=_reset_page,
)

years = sorted({str(r.year) for r in rows if r.year}, reverse=True)
languages = sorted({r.language for r in rows})
speakers = sorted({s for r in rows for s in r.speakers})
tags = sorted({tag for r in rows for tag in r.tags})
for key, options in (
    ("browse_year", years),
    ("browse_language", languages),
    ("browse_speaker", speakers),
    ("browse_tag", tags),
):
    if st.session_state.get(key) not in (None, *options):
        st.session_state[key] = None

filters = st.container(horizontal=True, gap="small", key="browse_filters")
with filters:
    year = st.selectbox(
        _("Year"),
        years,
        index=None,
        key="browse_year",
        placeholder=_("Any"),
        format_func=t.year,
        on_change=_reset_page,
        width=150,
    )
    language = st.selectbox(
        _("Language"),
        languages,
        index=None,
        key="browse_language",
        placeholder=_("Any"),
        format_func=t.language_name,
        on_change=_reset_page,
        width=160,
    )
    speaker = st.selectbox(
        _("Speaker"),
        speakers,
        index=None,
        key="browse_speaker",
        placeholder=_("Any"),
        on_change=_reset_page,
        width=200,
    )
    tag = st.selectbox(
        _("Tag"),
        tags,
        index=None,
        key="browse_tag",
        placeholder=_("Any"),
        on_change=_reset_page,
        width=200,
    )
    sort = st.selectbox(
        _("Sort by"),
        list(SORTS),
        key="browse_sort",
        format_func=lambda s: _(SORTS[s]),
        on_change=_reset_page,
        width=190,
    )

shown = [
    r
    for r in rows
    if (not collection or r.collection == collection)
    and (not year or str(r.year) == year)
    and (not language or r.language == language)
    and (not speaker or speaker in r.speakers)
    and (not tag or tag in r.tags)
]


def _sort_key(r: ui.BrowseRow) -> tuple:
    date_key = r.recorded_date or ""
    if sort == "oldest":
        return (date_key == "", date_key)
    if sort == "speaker":
        return (not r.speakers, (r.speakers[0].casefold() if r.speakers else ""), date_key)
    if sort == "language":
        return (t.language_name(r.language), date_key)
    if sort == "tag":
        return (not r.tags, (sorted(x.casefold() for x in r.tags)[0] if r.tags else ""), date_key)
    if sort == "longest":
        return (-(r.duration or 0),)
    return ()


if sort == "newest":
    shown.sort(key=lambda r: r.recorded_date or "", reverse=True)
else:
    shown.sort(key=_sort_key)

pages = max(1, -(-len(shown) // PER_PAGE))
page = min(max(1, int(st.session_state.get("browse_page") or 1)), pages)
ui.state_to_url(
    "browse",
    {
        "collection": (collection, None),
        "year": (year, None),
        "language": (language, None),
        "speaker": (speaker, None),
        "tag": (tag, None),
        "sort": (sort, "newest"),
        "page": (page, 1),
    },
)

# -- the chart ----------------------------------------------------------------------------------
chart_rows = [
    {
        "year": str(r.year),
        "collection": ui.collection_label(t, r.collection),
        "hours": round((r.duration or 0) / 3600, 2),
    }
    for r in shown
    if r.year and r.duration
]
total_hours = sum((r.duration or 0) for r in shown) / 3600
with st.expander(
    _("Archive hours by year and collection ({hours} in total)").format(
        hours=t.hours(total_hours * 3600)
    ),
    icon="📊",
    expanded=False,
):
    if chart_rows:
        frame = (
            pd.DataFrame(chart_rows).groupby(["year", "collection"], as_index=False)["hours"].sum()
        )
        chart = (
            alt.Chart(frame)
            .mark_bar()
            .encode(
                x=alt.X("year:O", title=_("Year")),
                y=alt.Y("hours:Q", title=_("Hours"), stack=True),
                color=alt.Color("collection:N", title=_("Collection")),
                tooltip=[
                    alt.Tooltip("year:O", title=_("Year")),
                    alt.Tooltip("collection:N", title=_("Collection")),
                    alt.Tooltip("hours:Q", title=_("Hours"), format=",.1f"),
                ],
            )
            .properties(height=260)
        )
        st.altair_chart(chart, key="browse_chart")
    else:
        st.caption(_("No recorded hours to chart yet."))

# -- the list ----------------------------------------------------------------------------------
if not rows:
    st.info(
        _("The archive is empty so far. Recordings appear here once they are added."),
        icon="📭",
    )
    st.stop()
if not shown:
    st.info(_("No recordings match these filters."), icon="✖️")

    def _clear() -> None:
        for key in (
            "browse_collection",
            "browse_year",
            "browse_language",
            "browse_speaker",
            "browse_tag",
        ):
            st.session_state[key] = None
        _reset_page()

    st.button(_("Clear filters"), key="browse_clear", on_click=_clear, icon="✖️")
    st.stop()

st.caption(
    t.ngettext("{n} recording", "{n} recordings", len(shown)).format(n=t.number(len(shown)))
    + " · "
    + t.hours(total_hours * 3600)
)

for r in shown[(page - 1) * PER_PAGE : page * PER_PAGE]:
    with st.container(border=True, key=f"browse_item_{r.id}"):
        title = t.pick(r.title_zh, r.title_en)
        other = r.title_en if t.lang == "zh" else r.title_zh
        st.page_link(
            ui.PAGES["item"],
            label=f"**{md(title)}**",
            query_params={"item": r.id, "lang": t.lang},
            icon=ui.item_icon(ui.catalog(), r.id),
        )
        meta = ""
        if other and other != title:
            meta += f'<span class="hk-meta">{html_text(other)}</span><br>'
        from archive.catalog.models import Item

        meta += ui.item_badges(
            t,
            Item(
                id=r.id,
                collection=r.collection,
                recorded_date=r.recorded_date,
                speakers=r.speakers,
                language=r.language,
                is_demo=r.is_demo,
            ),
            r.duration,
        )
        st.markdown(meta, unsafe_allow_html=True)

ui.pager(t, "browse", page, pages)
