"""The editor's controls for what an item reveals below staff: withheld speakers, the source link.

Shown in the "Visibility" tab of the transcript editor (``archive/portal/views/edit.py``). Each callback
asks for the live session again when it runs (a page left open after the account was removed or
demoted changes nothing) and goes through :mod:`archive.workspace.disclosure`, which audits every change.
"""

from __future__ import annotations

import streamlit as st

from archive.catalog.access import withheld_label
from archive.catalog.models import Item
from archive.core.errors import ArchiveError
from archive.core.text_safety import md
from archive.portal import ui, ui_staff
from archive.portal.i18n import I18n
from archive.workspace.disclosure import (
    item_speaker_names,
    set_source_public,
    unwithhold_speaker,
    withheld_places,
    withhold_speaker,
)

__all__ = ["disclosure_controls"]

NOTICE_KEY = "edit_notice"  # the editor page shows it at its top
PLACES_KEY = "withhold_places"  # where else a name just withheld stands (shown under the form)


def _staff_now(t: I18n) -> str | None:
    """The user name of the live staff session, or None (and a notice) when there is none."""
    who = ui_staff.current_viewer()
    if not who.is_staff:
        st.session_state[NOTICE_KEY] = (
            "error",
            t._("This page is for the archive's staff. Please log in."),
        )
        return None
    return who.username or "staff"


def _run(t: I18n, action, done: str) -> None:  # type: ignore[no-untyped-def]
    actor = _staff_now(t)
    if actor is None:
        return
    try:
        action(actor)
    except ArchiveError as exc:
        st.session_state[NOTICE_KEY] = ("error", ui.error_message(t, exc))
        return
    # (Browse's cached rows are keyed on the catalog's change stamp, which the change bumped.)
    st.session_state[NOTICE_KEY] = ("success", done)


def _withhold(t: I18n, item_id: str) -> None:
    name = st.session_state.get("withhold_name") or ""
    label = st.session_state.get("withhold_label") or ""

    def action(actor: str) -> None:
        withhold_speaker(ui.catalog(), ui.settings(), item_id, name, label, actor=actor)
        # Withholding rewrites no free text: tell staff where else the name stands.
        st.session_state[PLACES_KEY] = [
            p.describe() for p in withheld_places(ui.catalog(), item_id, name)
        ]

    _run(
        t,
        action,
        t._("Saved: below staff this speaker is now shown as {label}.").format(label=label),
    )


def _unwithhold(t: I18n, item_id: str, name: str) -> None:
    _run(
        t,
        lambda actor: unwithhold_speaker(ui.catalog(), ui.settings(), item_id, name, actor=actor),
        t._("Saved: the speaker is named again."),
    )


def _source_public(t: I18n, item_id: str) -> None:
    public = bool(st.session_state.get("source_public"))
    _run(
        t,
        lambda actor: set_source_public(ui.catalog(), item_id, public, actor=actor),
        t._("Saved."),
    )


def disclosure_controls(t: I18n, item: Item) -> None:
    """Withhold or name again a speaker, and choose whether the source link is shown."""
    _ = t._
    st.subheader(_("Withheld speakers"), anchor=False)
    st.caption(
        _(
            "Below staff a withheld speaker appears only as the label you choose, everywhere: "
            "the recording's page, Browse, search, feeds, citations and the mirror."
        )
    )
    for place in st.session_state.pop(PLACES_KEY, None) or ():
        st.warning(
            md(_("The name also stands in {place}").format(place=place)),
            icon="🔎",
        )
    withheld = dict(item.withheld_speakers)
    for n, (name, label) in enumerate(withheld.items()):
        row = st.container(horizontal=True, vertical_alignment="center", key=f"withheld_{n}")
        with row:
            st.text(f"{name} → {label}")  # plain text: names are outside text, never Markdown
            st.button(
                _("Name again"), key=f"unwithhold_{n}", on_click=_unwithhold,
                args=(t, item.id, name),
            )  # fmt: skip
    names = [
        n
        for n in item_speaker_names(ui.catalog(), item.id)
        if withheld_label(item, n) is None  # every spelling of a withheld person is withheld
    ]
    if names:
        with st.form("withhold_form", border=True):
            st.selectbox(_("Speaker"), names, key="withhold_name")
            st.text_input(
                _("Shown below staff as"), key="withhold_label", max_chars=80,
                placeholder=_("Interviewee A"),
            )  # fmt: skip
            st.form_submit_button(
                _("Withhold this name"), key="withhold_save", on_click=_withhold,
                args=(t, item.id),
            )  # fmt: skip
    st.subheader(_("Source link"), anchor=False)
    st.toggle(
        _("Show the source link below staff (never with passwords or secret parameters)"),
        value=item.source_public, key="source_public", on_change=_source_public,
        args=(t, item.id),
    )  # fmt: skip
