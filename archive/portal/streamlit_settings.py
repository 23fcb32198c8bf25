"""The portal's Streamlit settings, in one table: ``archive serve`` passes them as ``--flag``s.

Streamlit reads ``.streamlit/config.toml`` from the working directory, so settings kept only there
are lost when the portal is started from any other folder (an installed wheel has no checkout).
Command-line flags take precedence over every config file, so the privacy and safety settings
below hold wherever ``archive serve`` runs. The checkout's ``.streamlit/config.toml`` (used by
``streamlit run streamlit_app.py``) carries the same table; ``tests/test_portal_settings.py`` keeps
the two equal.
"""

from __future__ import annotations

from archive.hub.posters import POSTER_MAX_MB

__all__ = ["SETTINGS", "setting_flags"]

# Latin from Streamlit's bundled Source Sans, Chinese from the visitor's own CJK fonts (no web fonts
# fetched from anywhere): Noto Sans CJK HK/TC on Linux and Android, PingFang on Apple, JhengHei on
# Windows.
_FONT = (
    "'Source Sans', 'Noto Sans CJK HK', 'Noto Sans CJK TC', 'Noto Sans HK', 'Noto Sans TC', "
    "'PingFang HK', 'PingFang TC', 'Microsoft JhengHei', 'Heiti TC', sans-serif"
)

SETTINGS: dict[str, str | bool | int] = {
    # Privacy: no usage statistics, nothing fetched from other hosts.
    "browser.gatherUsageStats": False,
    "server.headless": True,
    # Only this machine unless told otherwise (`streamlit run ... --server.address 0.0.0.0`, or
    # `archive serve --address`). Set, it also stops Streamlit from asking another host for the
    # server's external address when it prints where it listens.
    "server.address": "127.0.0.1",
    "server.runOnSave": False,
    "server.fileWatcherType": "none",
    # Public and unchecked: never for archive files (the file routes check access).
    "server.enableStaticServing": False,
    "server.enableXsrfProtection": True,
    # Megabytes through Streamlit's own uploader, whose one use is an event's poster (so: the
    # poster limit); recordings go through /files/upload.
    "server.maxUploadSize": POSTER_MAX_MB,
    # No tracebacks to visitors (archive.core.errors gives one clear message).
    "client.showErrorDetails": "none",
    # Streamlit's own ⋮ menu (Settings, Print, Record a screencast, About …) is English only and
    # cannot be translated: "minimal" shows only the items set_page_config adds, and the portal
    # adds none (archive/portal/navigation.py), so there is no menu at all in either language.
    "client.toolbarMode": "minimal",
    "client.showSidebarNavigation": False,
    "runner.magicEnabled": False,
    # Streamlit runs a full gc.collect(2) after every page run by default: on this app's heap that
    # was over half of a page view's server CPU (py-spy under bench/crowd.py). Python's own
    # generational collector still runs as usual.
    "runner.postScriptGC": False,
    "theme.primaryColor": "#b3261e",
    "theme.font": _FONT,
}


def _flag_value(value: str | bool | int) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def setting_flags(**overrides: str | bool | int) -> list[str]:
    """``--section.option value`` for every setting, in the table's order; ``overrides`` (keys
    with ``_`` for ``.``, e.g. ``server_address``) replace a value of the table."""
    chosen = dict(SETTINGS) | {key.replace("_", ".", 1): v for key, v in overrides.items()}
    flags: list[str] = []
    for key, value in chosen.items():
        flags += [f"--{key}", _flag_value(value)]
    return flags
