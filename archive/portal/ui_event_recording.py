"""Staff: an event's recording tab, the three ways to give an event its recording.

A link (queued as an ingest job for ``archive worker``, like the Upload page's links), an item
already in the archive (chosen from every item staff can see that is not another event's
recording, linked at once by :func:`archive.hub.recordings.link_existing_recording`), or a file
from staff's computer (uploaded on the Upload page, through ``/files/upload`` and the ordinary
ingest job, then chosen here as an item). The form only calls the hub; the portal never runs an
ingest itself. Used by ``views/events_admin.py``.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable

import streamlit as st

from archive.catalog.access import Viewer
from archive.catalog.db import Catalog
from archive.core.config import Settings
from archive.core.errors import ArchiveError
from archive.core.text_safety import md
from archive.hub.events import Event, pending_attachment
from archive.hub.recordings import (
    attach_recording,
    link_existing_recording,
    recording_candidates,
    recording_options,
)
from archive.portal import ui, ui_staff
from archive.portal.i18n import N_, I18n

__all__ = ["RECORDING_SOURCES", "VISIBILITIES", "VISIBILITY_HELP", "recording_form"]

VISIBILITIES = ("staff", "members", "public")
VISIBILITY_HELP = {
    "staff": N_("Staff only: a draft nobody else sees"),
    "members": N_("Members only: members see it and its join link"),
    "public": N_("Public: on the portal and in the calendar feeds"),
}
RECORDING_SOURCES = ("link", "item", "upload")
RECORDING_SOURCE_LABELS = {
    "link": N_("A link"),
    "item": N_("A recording already in the archive"),
    "upload": N_("A file from this computer"),
}


def _is_web_link(url: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def recording_form(
    t: I18n,
    who: Viewer,
    cat: Catalog,
    settings: Settings,
    event: Event,
    done: Callable[[Event, str], None],
) -> None:
    """The recording tab of ``event``'s staff page; ``done`` is told of a change and its message."""
    _ = t._
    job = pending_attachment(cat, event.id)
    if event.item_id:
        st.markdown(_("This event's recording is in the archive."))
        st.page_link(
            ui.PAGES["item"],
            label=_("Open the recording"),
            icon=":material/play_circle:",
            query_params={"item": event.item_id, "lang": t.lang},
        )
        st.caption(
            _("Publish the recording from its staff page: it stays staff-only until someone does.")
        )
    elif job is not None:
        st.info(
            _("The recording is being archived (job {job}).").format(job=job.id),
            icon=":material/hourglass_top:",
        )
    elif event.status == "cancelled":
        st.caption(_("A cancelled event has no recording."))
    else:
        source = st.segmented_control(
            _("The recording is"),
            RECORDING_SOURCES,
            format_func=lambda s: _(RECORDING_SOURCE_LABELS[s]),
            key="attach_source",
            default="link",
            required=True,
        )
        if source == "item":
            candidates = {item.id: item for item in recording_candidates(cat)}
            with st.form(f"attach_item_{event.id}", border=True):
                chosen = st.selectbox(
                    _("Recording"),
                    list(candidates),
                    index=None,
                    placeholder=_("Choose a recording"),
                    format_func=lambda i: " · ".join(
                        p
                        for p in (
                            t.pick(candidates[i].title_zh, candidates[i].title_en) or i,
                            candidates[i].recorded_date or "",
                            ui_staff.visibility_label(t, candidates[i].effective_visibility()),
                        )
                        if p
                    ),
                    key="attach_item",
                )
                link_it = st.form_submit_button(_("Link this recording"), type="primary")
            st.caption(
                _(
                    "Recordings that are already another event's are not listed. Linking changes "
                    "nothing about who may hear the recording."
                )
            )
            if link_it and ui_staff.live_staff(t, who) is not None:
                if chosen is None:
                    st.error(_("Choose a recording first."), icon=":material/error:")
                else:
                    try:
                        linked = link_existing_recording(cat, event.id, chosen)
                    except ArchiveError as exc:
                        st.error(ui.error_message(t, exc), icon=":material/error:")
                        st.caption(md(str(exc)))
                    else:
                        done(linked, _("The recording is linked to the event."))
        elif source == "upload":
            st.markdown(
                _(
                    "Upload the file on the Add a recording page, opened for this event: it is "
                    "archived, transcribed and indexed like any recording, with the event's titles, "
                    "speakers and date, and becomes the event's recording when its job is done."
                )
            )
            st.page_link(
                ui_staff.STAFF_PAGES["upload"],
                label=_("Upload this event's recording"),
                icon=":material/upload:",
                query_params={"lang": t.lang, "event": event.id},
            )
        else:
            with st.form(f"attach_{event.id}", border=True):
                url = st.text_input(_("Recording link"), key="attach_url", placeholder="https://")
                cols = st.columns(2)
                visibility = cols[0].selectbox(
                    _("Who can see the recording"),
                    VISIBILITIES,
                    format_func=lambda v: _(VISIBILITY_HELP[v]),
                    key="attach_visibility",
                )
                transcribe = cols[1].checkbox(
                    _("Transcribe and translate"), value=True, key="attach_transcribe"
                )
                wide_ok = st.checkbox(
                    _(
                        "If members or the public may see it: I have checked what it says and who speaks"
                    ),
                    key="attach_wide_ok",
                )
                attach = st.form_submit_button(_("Archive the recording"), type="primary")
            st.caption(
                _(
                    "The recording is archived, transcribed and indexed in the background, with the "
                    "event's titles, speakers, series and date. The event page plays it when it is done."
                )
            )
            if attach:
                link = url.strip()
                if ui_staff.live_staff(t, who) is None:
                    pass  # refused, and said so
                elif ui_staff.widening_warning(t, "staff", visibility) and not wide_ok:
                    # Wider than staff is never one click (as on the Upload page).
                    st.error(
                        (ui_staff.widening_warning(t, "staff", visibility) or "")
                        + " "
                        + _("Tick the box above the button to confirm, or choose Staff only."),
                        icon=":material/error:",
                    )
                elif not _is_web_link(link):
                    st.error(
                        _(
                            "The recording link must be a full web address starting with https:// or http://."
                        ),
                        icon=":material/error:",
                    )
                else:
                    try:
                        outcome = attach_recording(
                            settings,
                            cat,
                            event.id,
                            link,
                            recording_options(
                                event,
                                visibility=visibility,
                                transcribe=transcribe,
                                translate=transcribe,
                                created_by=who.username or "portal",
                            ),
                            wait=False,
                        )
                        done(
                            outcome.event,
                            _("The recording is queued for archiving (job {job}).").format(
                                job=outcome.job.id if outcome.job else "—"
                            ),
                        )
                    except ArchiveError as exc:
                        st.error(ui.error_message(t, exc), icon=":material/error:")
                        st.caption(md(str(exc)))
