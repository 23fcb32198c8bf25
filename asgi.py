"""The portal as one ASGI app: Streamlit plus the archive's own file routes.

``streamlit run asgi.py`` (what ``archive serve`` runs) finds ``app`` and serves the pages of
``streamlit_app.py`` together with ``/files/media/…`` (signed, access-checked media streaming) and
``/files/subtitles/…`` from the same process and port, so no page needs any other host.
"""

from __future__ import annotations

import streamlit as st

from archive.i18n import compile_catalogs
from archive.ui import on_script_error
from archive.web import routes

compile_catalogs()

app = st.App("streamlit_app.py", routes=routes(), on_script_error=on_script_error)
