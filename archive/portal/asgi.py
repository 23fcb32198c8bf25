"""What the portal's ASGI app is made of: Streamlit plus the archive's own file routes.

``app_options()`` gives the arguments of ``st.App``: the navigation script (by absolute path, so
the app works from any working directory and from an installed wheel) together with
``/files/media/…`` (signed, access-checked media streaming), ``/files/subtitles/…``,
``/files/transcript/…``, the feeds, the upload routes and the light portal (``/lite/…``), all from the same process and port, so
no page needs any other host. Every response carries a strict Content-Security-Policy
(:mod:`archive.portal.routes.headers`).

Two files construct the app from these options, and Streamlit finds it in either (it looks for an
``app = st.App(...)`` assignment in the file it is given): ``archive/portal/app.py`` (what
``archive serve`` runs) and the checkout's top-level ``streamlit_app.py`` (``streamlit run
streamlit_app.py``). This module constructs nothing itself: one process may hold one ``st.App``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.middleware import Middleware

from archive.core.config import Settings
from archive.portal import NAVIGATION
from archive.portal.i18n import compile_catalogs
from archive.portal.lite.first_paint import FirstPaint
from archive.portal.lite.routes import lite_routes
from archive.portal.routes.feeds import feed_routes
from archive.portal.routes.files import ClosedPaths, routes
from archive.portal.routes.headers import SecurityHeaders
from archive.portal.routes.limits import BodyLimits
from archive.portal.routes.transfer import Transfer
from archive.portal.routes.uploads import upload_routes
from archive.portal.ui import on_script_error

__all__ = ["app_options", "middleware"]

log = logging.getLogger("archive.portal")


def _warm_up() -> None:
    """Load what the first visitor would otherwise wait for: citation styles, the search index."""
    try:
        import archive.catalog.cite  # noqa: F401  (citeproc-py, CSL styles)
        import transcripts.subtitles  # noqa: F401
        from archive.core.config import load_settings
        from indexer import SearchIndex

        SearchIndex.open(load_settings()).doc_count()
    except Exception:  # a missing index is reported on the Search page, not here
        log.warning("portal warm-up incomplete", exc_info=True)


@asynccontextmanager
async def lifespan(_app: Any) -> AsyncIterator[None]:
    threading.Thread(target=_warm_up, name="portal-warm-up", daemon=True).start()
    yield


def middleware(settings: Settings | None = None) -> list[Middleware]:
    """The portal's middleware, outermost first: every response, Streamlit's own and the 404 of
    :class:`ClosedPaths` included, gets the Content-Security-Policy; every request body is bounded
    by its path's limit before anything reads it (:mod:`archive.portal.routes.limits`);
    Streamlit's page and bundles go gzipped and cached (:mod:`archive.portal.routes.transfer`),
    except a page shell that carries its page's light content (:mod:`archive.portal.lite`: it
    holds what the visitor asked for beside what their role may read, so it is never compressed);
    ``/_stcore/metrics`` (public in Streamlit, with no option to turn it off) answers 404."""
    return [
        Middleware(SecurityHeaders),
        Middleware(Transfer),
        Middleware(BodyLimits, settings=settings),
        Middleware(ClosedPaths),
        Middleware(FirstPaint, settings=settings),
    ]


def app_options() -> dict[str, Any]:
    """The keyword arguments of the portal's ``st.App``; compiles the translations first."""
    compile_catalogs()
    return {
        "script_path": str(NAVIGATION),
        "routes": [*routes(), *feed_routes(), *upload_routes(), *lite_routes()],
        "on_script_error": on_script_error,
        "lifespan": lifespan,
        "middleware": middleware(),
    }
