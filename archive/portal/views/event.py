"""One event: bilingual title and description, status, time (viewer's and organiser's), place,
speakers, series, join link, poster, "Add to calendar"; once its recording is attached and visible,
the page plays it.

URL: ``/event?event=ID&lang=…&tz=…`` (event permalinks ``/?event=ID`` land here). An event above
the viewer's role is "not found", like a wrong id; so a members-only event and its join link reach
members and staff only.
"""

from __future__ import annotations

import streamlit as st

from archive.core.errors import NotFoundError
from archive.core.text_safety import attr, html_text, link_url, md
from archive.hub.events import (
    event_permalink,
    event_recording,
    pending_attachment,
    poster_file,
    visible_event,
)
from archive.hub.feeds import poster_path
from archive.hub.series import get_series
from archive.hub.times import format_event_time
from archive.portal import hub_ui, ui
from archive.portal.routes.files import poster_url

t = ui.page_i18n()
_ = t._
cat = ui.catalog()
who = ui.viewer()

hub_ui.hub_css()
event_id = (st.query_params.get("event") or "").strip()
if not event_id:
    st.info(_("Choose an event from the list of events."), icon="ℹ️")
    st.page_link(ui.PAGES["upcoming"], label=_("All events"), query_params=hub_ui.link_params(t))
    st.stop()

try:
    event = visible_event(cat, event_id, who)
except NotFoundError:
    st.error(_("We couldn't find that event. It may have been moved, or it isn't public."))
    st.page_link(ui.PAGES["upcoming"], label=_("All events"), query_params=hub_ui.link_params(t))
    st.stop()

tz = hub_ui.viewer_tz(t)
series = None
if event.series_id:
    try:
        series = get_series(cat, event.series_id)
    except Exception:
        series = None
recording = event_recording(cat, event, who)
over = hub_ui.is_over(event)

# -- title ---------------------------------------------------------------------------------------
title = hub_ui.event_title(t, event)
other_title = event.title_en if t.lang == "zh" else event.title_zh
st.title(f"~~{md(title)}~~" if event.status == "cancelled" else md(title), anchor=False)
if other_title and other_title != title:
    st.markdown(
        f'<p class="hk-other-title" lang="{"en" if t.lang == "zh" else "zh-Hant-HK"}">'
        f"{html_text(other_title)}</p>",
        unsafe_allow_html=True,
    )
badges = hub_ui.event_badges_html(t, event)
if badges:
    st.markdown(badges, unsafe_allow_html=True)

times = format_event_time(event, tz, t.locale)
if event.status == "cancelled":
    st.error(_("This event has been cancelled."), icon="🚫")
elif event.status == "postponed":
    st.warning(
        _("This event has been postponed to {new}. It was planned for {old}.").format(
            new=times["viewer"], old=times.get("previous_viewer", "—")
        ),
        icon="🔄",
    )
elif over and recording is None:
    st.info(_("This event has taken place."), icon="✅")

# -- the recording --------------------------------------------------------------------------------
if recording is not None:
    st.subheader(_("Recording"), anchor=False)
    hub_ui.recording_player(t, cat, who, recording, key=f"event_player_{recording.id}")
    st.page_link(
        ui.PAGES["item"],
        label=_("Transcript downloads and citation"),
        icon="📄",
        query_params={"item": recording.id, "lang": t.lang},
    )
elif over and event.status != "cancelled":
    if pending_attachment(cat, event.id):
        st.caption(_("The recording is being processed."))
    else:
        st.caption(_("No recording of this event is available yet."))

# -- when, where, who --------------------------------------------------------------------------------
left, right = st.columns([3, 2], gap="large")
with left:
    st.subheader(_("When"), anchor=False)
    st.markdown(hub_ui.event_times_html(t, event, tz), unsafe_allow_html=True)
    st.caption(
        _("{start}–{end} ({duration})").format(
            start=times["viewer_parts"]["time"],
            end=times["viewer_parts"]["end_time"],
            duration=t.duration(event.duration_minutes * 60),
        )
    )
    # Joining: only for an event still to come that is not cancelled; visible_event already
    # kept a members-only event (and its link) from anyone below members.
    # Only an http(s) link is a link (checked when staff entered it, and again here: a row from
    # an older version or a restored bag is not trusted).
    join_url = link_url(event.join_url)
    joinable = bool(join_url) and not over and event.status != "cancelled"
    if not over and event.status != "cancelled":
        actions = st.container(horizontal=True, gap="small", key="event_actions")
        with actions:
            if joinable:
                st.link_button(
                    _("Join online") if event.is_online else _("Registration and details"),
                    join_url,
                    type="primary",
                    icon="↗️",
                )
            hub_ui.event_ics_button(t, event, key="event_ics", series=series)
        if joinable and event.visibility != "public":
            st.caption(_("This link is for members only. Please don't share it."))
        elif joinable:
            st.caption(_("The link leads to another website."))
    hub_ui.tz_picker(t, tz)

    sep = "、" if t.lang == "zh" else ", "
    facts = [(_("Where"), hub_ui.place_text(t, event))]
    if event.languages:
        facts.append((_("Language"), sep.join(t.language_name(code) for code in event.languages)))
    if event.speakers:
        facts.append((_("Speakers"), sep.join(event.speakers)))
    st.markdown(
        "\n".join(f"- **{md(k)}:** {md(v)}" for k, v in facts),
        unsafe_allow_html=True,
    )
    if series is not None:
        st.page_link(
            ui.PAGES["series"],
            label=_("Series: {title}").format(title=md(hub_ui.series_title(t, series))),
            icon="🗂️",
            query_params=hub_ui.link_params(t, series=series.id),
        )

    description = t.pick(event.description_zh, event.description_en)
    other_description = event.description_en if t.lang == "zh" else event.description_zh
    if description:
        st.subheader(_("About this event"), anchor=False)
        st.markdown(hub_ui.describe(description), unsafe_allow_html=True)
    if other_description and other_description != description:
        st.markdown(
            f'<p class="hk-other-title" lang="{"en" if t.lang == "zh" else "zh-Hant-HK"}">'
            + hub_ui.describe(other_description)
            + "</p>",
            unsafe_allow_html=True,
        )

with right:
    found = poster_file(ui.settings(), event)
    if found is not None:
        alt = attr(_("Poster: {title}").format(title=title))
        if event.visibility == "public":
            # Public posters stream from the feed route (same host, cached by the browser).
            st.markdown(
                f'<div class="hk-poster"><img src="{attr(poster_path(event.id))}" '
                f'alt="{alt}"></div>',
                unsafe_allow_html=True,
            )
        else:
            # Not public: never through Streamlit's /media/ (anyone with that URL gets it), but
            # from the archive's own route, signed for this viewer and checked when fetched.
            src = ui.stable_url(
                ("poster", event.id),
                lambda: poster_url(ui.settings(), event.id, who, ui.session_token()),
            )
            st.markdown(
                f'<div class="hk-poster"><img src="{attr(src)}" alt="{alt}"></div>',
                unsafe_allow_html=True,
            )
    st.subheader(_("Link to this event"), anchor=False)
    base = ui.settings().public_url or ui.request_origin()
    st.code(event_permalink(event.id, base), language=None, wrap_lines=True)
    if who.is_staff:
        st.page_link(
            ui.PAGES["events_admin"],
            label=_("Manage this event"),
            icon="📆",
            query_params={"event": event.id, "lang": t.lang},
        )
st.page_link(
    ui.PAGES["upcoming"],
    label=_("All events"),
    icon="📅",
    query_params=hub_ui.link_params(t),
)
