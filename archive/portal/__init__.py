"""The public portal: Streamlit pages, the archive's own HTTP routes, the interface translations.

Everything the portal needs at run time lives in this package, so an installed wheel serves the
same portal as the checkout:

- ``navigation.py``: the entry script Streamlit runs on every page view (navigation, chrome);
- ``views/``: one script per page (not ``pages/``: Streamlit runs a ``pages/`` folder beside the
  entry script as an old-style multipage app on a process's first run, without the chrome);
- ``asgi.py``: what the ASGI app is made of (routes, middleware, lifespan);
- ``app.py``: ``app = st.App(...)``, the file ``archive serve`` hands ``streamlit run``;
- ``streamlit_settings.py``: the Streamlit settings ``archive serve`` passes on its command line;
- ``locales/``: the gettext catalogs (``.po``; ``.mo`` compiled at start-up, :mod:`archive.portal.i18n`).

Importing this package imports nothing else (no Streamlit): it only names the files.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["APP_SCRIPT", "NAVIGATION", "PORTAL_DIR"]

PORTAL_DIR = Path(__file__).resolve().parent
NAVIGATION = PORTAL_DIR / "navigation.py"
APP_SCRIPT = PORTAL_DIR / "app.py"
