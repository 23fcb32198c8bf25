"""Search: one box, results grouped by recording, facets, paging (``archive.portal.ui_search``).

URL: ``/search?q=…&collection=…&year=…&speaker=…&language=…&page=…&lang=…``.
Searches are not logged (no query, no address).
"""

from __future__ import annotations

import streamlit as st

from archive.portal import ui, ui_search

# Old-style permalinks (``/?item=ID&t=S&rev=N``) open the recording.
if st.query_params.get("item"):
    st.switch_page(ui.PAGES["item"], query_params=dict(st.query_params.to_dict()))

ui_search.render()
