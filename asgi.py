"""The portal as one ASGI app: Streamlit plus the archive's own file routes.

``streamlit run asgi.py`` (what ``archive serve`` runs) finds ``app`` and serves the pages of
``streamlit_app.py`` together with ``/files/media/…`` (signed, access-checked media streaming),
``/files/subtitles/…`` and ``/files/transcript/…`` from the same process and port, so no page needs
any other host. Every response carries a strict Content-Security-Policy
(:mod:`archive.web_headers`).
"""

from __future__ import annotations

import logging
import threading
from contextlib import asynccontextmanager

import streamlit as st
from starlette.middleware import Middleware

from archive.feeds_web import feed_routes
from archive.i18n import compile_catalogs
from archive.ui import on_script_error
from archive.upload_web import upload_routes
from archive.web import ClosedPaths, routes
from archive.web_headers import SecurityHeaders

compile_catalogs()
log = logging.getLogger("archive.portal")


def _warm_up() -> None:
    """Load what the first visitor would otherwise wait for: citation styles, the search index."""
    try:
        import archive.cite  # noqa: F401  (citeproc-py, CSL styles)
        import transcripts.subtitles  # noqa: F401
        from archive.config import load_settings
        from indexer import SearchIndex

        SearchIndex.open(load_settings()).doc_count()
    except Exception:  # a missing index is reported on the Search page, not here
        log.warning("portal warm-up incomplete", exc_info=True)


@asynccontextmanager
async def lifespan(_app):
    threading.Thread(target=_warm_up, name="portal-warm-up", daemon=True).start()
    yield


app = st.App(
    "streamlit_app.py",
    routes=[*routes(), *feed_routes(), *upload_routes()],
    on_script_error=on_script_error,
    lifespan=lifespan,
    # Outermost first: every response, Streamlit's own and the 404 below included, gets the
    # Content-Security-Policy; /_stcore/metrics (public in Streamlit, with no option to turn it
    # off) answers 404.
    middleware=[Middleware(SecurityHeaders), Middleware(ClosedPaths)],
)
