"""About the archive: what it is, how to search and cite, privacy."""

from __future__ import annotations

import streamlit as st

from archive.portal import ui

t = ui.page_i18n()
_ = t._
s = ui.settings()

st.header(_("About the archive"), anchor=False)
st.markdown(
    _(
        "This archive keeps webinars, interviews with unionists and strike-anniversary material "
        "(the 2013 dock strike, the 2007 bar-benders' strike and more), recorded in Cantonese, "
        "Mandarin and English, so that they stay findable, playable and citable."
    )
)
st.subheader(_("How to use it"), anchor=False)
st.markdown(
    "\n".join(
        f"- {line}"
        for line in (
            _(
                "Search in Chinese or English: every transcript has both, so a search in one language "
                "also finds the other."
            ),
            _(
                "Click a time in the results to hear the talk from that moment; the transcript follows "
                "along and you can click any line to jump there."
            ),
            _("Download a transcript as subtitles (SRT, WebVTT), plain text or JSON."),
            _(
                "“Cite this” gives a citation that points to the moment you are listening to and to the "
                "exact transcript revision, so your citation keeps working when the transcript is corrected."
            ),
        )
    )
)
st.subheader(_("Privacy"), anchor=False)
st.markdown(
    "\n".join(
        f"- {line}"
        for line in (
            _(
                "Pages and recordings come only from this archive's own server: no outside fonts, "
                "analytics, trackers or embedded players."
            ),
            _("Searches are not logged with your address."),
            _(
                "English translations marked as machine translations may contain errors; the recording "
                "is the authoritative source."
            ),
        )
    )
)
st.caption(_("Items marked “Demo / 示範” are demonstration material, not part of the archive."))
