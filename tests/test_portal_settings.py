"""The portal's Streamlit settings hold wherever it is started.

``archive serve`` passes the table in :mod:`archive.portal.streamlit_settings` as command-line
flags (they beat any config file, and an installed wheel has no checkout to read one from);
``streamlit run streamlit_app.py`` in the checkout reads ``.streamlit/config.toml``. The two must
say the same.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from archive.hub.posters import POSTER_MAX_MB
from archive.portal.commands import serve_argv
from archive.portal.streamlit_settings import SETTINGS, setting_flags

ROOT = Path(__file__).resolve().parents[1]


def _config_toml() -> dict[str, object]:
    with (ROOT / ".streamlit" / "config.toml").open("rb") as fh:
        sections = tomllib.load(fh)
    return {
        f"{section}.{key}": value
        for section, options in sections.items()
        for key, value in options.items()
    }


def test_config_toml_and_the_settings_table_say_the_same():
    assert _config_toml() == SETTINGS


def test_the_privacy_and_safety_settings_are_in_the_table():
    assert SETTINGS["browser.gatherUsageStats"] is False
    assert SETTINGS["server.enableXsrfProtection"] is True
    assert SETTINGS["server.enableStaticServing"] is False
    assert SETTINGS["client.showErrorDetails"] == "none"
    assert SETTINGS["client.toolbarMode"] == "minimal"  # no untranslatable Streamlit menu
    assert SETTINGS["server.fileWatcherType"] == "none"
    assert SETTINGS["server.maxUploadSize"] == POSTER_MAX_MB == 1  # posters are its only use


def test_serve_passes_every_setting_as_a_flag():
    argv = serve_argv(8600, "127.0.0.1")
    assert argv[-len(setting_flags()) :] == setting_flags()
    for key, value in SETTINGS.items():
        given = argv[argv.index(f"--{key}") + 1]
        expected = ("true" if value else "false") if isinstance(value, bool) else str(value)
        assert given == expected, key


def test_streamlit_accepts_every_flag():
    """Every key is a real Streamlit option (a typo would make ``streamlit run`` refuse to start)."""
    from streamlit import config

    options = config.get_config_options()
    assert set(SETTINGS) <= set(options), set(SETTINGS) - set(options)
