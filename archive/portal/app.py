"""The portal as one ASGI app: ``streamlit run <this file>`` is what ``archive serve`` runs.

Streamlit finds ``app`` below and serves ``navigation.py``'s pages with the archive's routes
(:func:`archive.portal.asgi.app_options`). Streamlit puts this file's folder first on
``sys.path``, so no module in ``archive/portal/`` may share a name with a standard-library or
third-party top-level module (no ``http.py``, ``locale.py`` …).
"""

from __future__ import annotations

import streamlit as st

from archive.portal.asgi import app_options

app = st.App(**app_options())
