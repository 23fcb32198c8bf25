"""What a portal process opens once and every page shares: its settings and its catalog.

Kept apart from :mod:`archive.portal.ui` so that the session code (:mod:`archive.portal.ui_staff`),
which ``ui`` itself asks who the viewer is, can reach them without importing ``ui`` back.
"""

from __future__ import annotations

import streamlit as st

from archive.catalog.db import Catalog
from archive.core.config import Settings, load_settings
from archive.portal.i18n import compile_catalogs

__all__ = ["catalog", "settings"]


@st.cache_resource(show_spinner=False)
def settings() -> Settings:
    """The data folder's settings (``ARCHIVE_HOME``); the translations are compiled first."""
    compile_catalogs()
    return load_settings()


@st.cache_resource(show_spinner=False)
def catalog() -> Catalog:
    """The process's catalog connection (SQLite, shared by every session's page runs)."""
    return Catalog.open(settings())
