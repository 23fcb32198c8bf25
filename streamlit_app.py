"""The portal, complete: ``streamlit run streamlit_app.py`` (Streamlit's own convention).

The same app as ``archive serve`` (which runs the installed ``archive/portal/app.py``): the pages of
``archive/portal/navigation.py`` with the archive's file, feed and upload routes and its
Content-Security-Policy. Streamlit finds the ``app = st.App(...)`` assignment in this file; the
data folder comes from ``ARCHIVE_HOME`` and the settings from ``.streamlit/config.toml``.
"""

from __future__ import annotations

import streamlit as st

from archive.portal.asgi import app_options

app = st.App(**app_options())
