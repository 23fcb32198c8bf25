"""The transcript editor's *Speakers* section: each speaker of the revision being edited, named
once for the whole item, merged into another, and heard.

One row per speaker (:func:`archive.workspace.speakers.summarize`, staff's view): the label or
name, talk time, turns, first words, the label a withheld speaker is shown by below staff, a
*Play* button that moves the editor's player to the speaker's first long turn and plays it (the
player streams the staff media through the signed file route; nothing is handed to Streamlit's
media manager), a name field and a merge choice. Naming and merging are checked here
(:func:`~archive.workspace.speakers.naming_edit`, :func:`~archive.workspace.speakers.merging_edit`)
and saved through the page's own save, so that they are one revision together with anything
still unsaved on the page, audited, and a withheld speaker stays withheld.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st

from archive.catalog.access import withheld_label
from archive.catalog.models import Item
from archive.core.errors import InputError
from archive.core.text_safety import md
from archive.portal.i18n import I18n, clock
from archive.workspace.speakers import merging_edit, naming_edit, summarize
from transcripts.segments import Segment

__all__ = ["speakers_section"]


def speakers_section(
    t: I18n,
    *,
    item: Item,
    segments: Sequence[Segment],
    base: int | None,
    save: Callable[[list[Any]], None],
    listen: Callable[[str], None],
    notify: Callable[[str, str], None],
) -> None:
    """Draw the section for ``segments`` (revision ``base`` of ``item``, the catalog's own).

    ``save(edits)`` stores edits as the page's Save does; ``listen(uid)`` moves the player to a
    segment and plays it; ``notify(kind, text)`` shows a message on the next run."""
    _ = t._
    withheld = {
        s.speaker: label
        for s in segments
        if s.speaker and (label := withheld_label(item, s.speaker)) is not None
    }
    found = summarize(segments, withheld)
    title = _("Speakers ({n})").format(n=len(found))
    with st.expander(title, icon=":material/groups:", key="edit_speakers"):
        if not found:
            st.caption(_("No segment has a speaker yet."))
            return
        st.caption(
            _(
                "Name each speaker once: every segment of that speaker gets the name, saved as "
                "one new revision. Play a speaker's first long turn to hear who it is."
            )
        )
        names = [s.name for s in found]

        def _apply(make_edit: Any, label: str, key: str) -> None:
            """Save the naming or merging edit ``make_edit`` builds from the box at ``key``."""
            try:
                edit = make_edit(segments, item.id, label, st.session_state.get(key) or "")
            except InputError as exc:
                notify(
                    "error",
                    _("That change could not be saved: {reason}").format(reason=md(str(exc))),
                )
                return
            save([edit])

        for n, s in enumerate(found):
            with st.container(border=True, key=f"spk_row_{n}"):
                head = st.container(horizontal=True, vertical_alignment="center", gap="small")
                with head:
                    st.markdown(f"**{md(s.name)}**", width="content")
                    if s.withheld:
                        st.caption(
                            _("Shown below staff as “{label}”").format(label=md(s.withheld)),
                            width="content",
                        )
                    st.caption(
                        t.ngettext(
                            "{time} · {n} turn · first at {at}",
                            "{time} · {n} turns · first at {at}",
                            s.turns,
                        ).format(
                            time=t.duration(s.talk_seconds), n=s.turns, at=clock(s.first_start)
                        ),
                        width="content",
                    )
                    st.space("stretch")
                    st.button(
                        _("Play"), key=f"spk_play_{base}_{n}", on_click=listen, args=(s.play_uid,),
                        icon=":material/headphones:",
                        help=_("Play this speaker's first long turn ({start}) in the player").format(
                            start=clock(s.play_start)
                        ),
                    )  # fmt: skip
                if s.first_words:
                    st.caption(f"“{md(s.first_words)}”")
                row = st.container(horizontal=True, vertical_alignment="bottom", gap="small")
                with row:
                    key = f"spk_name_{base}_{n}"
                    st.text_input(_("Name this speaker"), key=key, width=260, max_chars=100,
                                  placeholder=s.name)  # fmt: skip
                    st.button(_("Name and save"), key=f"spk_name_go_{base}_{n}", on_click=_apply,
                              args=(naming_edit, s.name, key))  # fmt: skip
                    others = [m for m in names if m != s.name]
                    if others:
                        key = f"spk_merge_{base}_{n}"
                        st.selectbox(_("Same person as"), others, key=key, width=220)
                        st.button(_("Merge and save"), key=f"spk_merge_go_{base}_{n}",
                                  on_click=_apply, args=(merging_edit, s.name, key))  # fmt: skip
