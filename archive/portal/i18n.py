"""The portal's two interface languages: gettext catalogs (compiled with Babel) and Babel formatting.

English is the message id; ``archive/portal/locales/zh_Hant_HK/LC_MESSAGES/messages.po`` holds
the Hong Kong Traditional Chinese. The ``.mo`` files are build products (git-ignored):
:func:`compile_catalogs` writes them at start-up when they are missing or older than their ``.po``,
beside the ``.po`` when that folder can be written (a checkout), otherwise (an installed package
may be read-only) in a folder of the user's own cache (:func:`compiled_dir`).

Each session gets its own :class:`I18n` (never ``gettext.install()``, which is process-global and
would switch every visitor's language at once). The translation objects themselves are read-only
and shared.

>>> t = I18n("zh")
>>> t._("Search")
'搜尋'
>>> t.date("2013-04")
'2013年4月'
"""

from __future__ import annotations

import gettext
import hashlib
import io
import os
import stat
import tempfile
import threading
from datetime import date
from functools import lru_cache
from pathlib import Path

from babel import Locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from archive.core.filemodes import write_atomically

__all__ = [
    "BABEL_LOCALES",
    "DEFAULT_LANG",
    "LANGS",
    "LOCALES_DIR",
    "I18n",
    "N_",
    "compile_catalogs",
    "compiled_dir",
    "detect_lang",
    "normalise_lang",
]

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"
BABEL_LOCALES = {"zh": "zh_Hant_HK", "en": "en_GB"}
LANG_NAMES = {"zh": "繁體中文", "en": "English"}
DOMAIN = "messages"
# The folder holding the ``archive`` package: UI_SOURCES are relative to it.
SOURCE_ROOT = Path(__file__).resolve().parents[2]
LOCALES_DIR = Path(__file__).resolve().parent / "locales"

_compile_lock = threading.Lock()


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark, translate later"
    """Mark a string for extraction without translating it here."""
    return message


def _can_write(folder: Path) -> bool:
    """Whether a file can be created in ``folder`` (tried, not guessed from permission bits: root,
    read-only mounts and immutable folders all answer differently)."""
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".probe")
    except OSError:
        return False
    os.close(fd)
    Path(tmp).unlink(missing_ok=True)
    return True


def _private_folder(folder: Path) -> Path | None:
    """``folder``, created if need be, when it is this user's own and nobody else may write in it
    (a catalog planted there would be shown on every page); None otherwise."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.lstat()
    except OSError:
        return None
    if (
        not stat.S_ISDIR(info.st_mode)
        or info.st_uid != os.getuid()
        or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
        or not _can_write(folder)
    ):
        return None
    return folder


def compiled_dir(locales_dir: Path = LOCALES_DIR) -> Path:
    """Where the compiled catalogs of ``locales_dir`` live: ``locales_dir`` itself when every
    ``LC_MESSAGES`` folder in it can be written, else ``hk-labour-archive/locales-<digest of the
    folder's path>`` in the user's cache (``$XDG_CACHE_HOME``, ``~/.cache``; the system's temporary
    folder, per user, if that fails). One cache folder per installation: two installed versions
    never read each other's catalogs."""
    locales_dir = Path(locales_dir).resolve()
    folders = {po.parent for po in locales_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po")}
    if all(_can_write(folder) for folder in folders):
        return locales_dir
    name = "locales-" + hashlib.sha256(str(locales_dir).encode()).hexdigest()[:16]
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    for base in (
        Path(cache) / "hk-labour-archive",
        Path(tempfile.gettempdir()) / f"hk-labour-archive-{os.getuid()}",
    ):
        if _private_folder(base) is not None:
            return base / name
    raise OSError(f"no writable folder for the compiled translations of {locales_dir}")


def compile_catalogs(locales_dir: Path = LOCALES_DIR) -> list[Path]:
    """Compile every ``.po`` under ``locales_dir`` whose ``.mo`` is missing or stale, into
    :func:`compiled_dir` (the same ``<locale>/LC_MESSAGES/`` layout).

    Returns the ``.mo`` files written. Safe to call from several processes: each file is written
    to a temporary name and renamed into place.
    """
    written: list[Path] = []
    with _compile_lock:
        locales_dir = Path(locales_dir)
        out_dir = compiled_dir(locales_dir)
        for po_path in sorted(locales_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
            mo_path = out_dir / po_path.relative_to(locales_dir).with_suffix(".mo")
            if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                continue
            mo_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            with po_path.open("rb") as fh:
                catalog = read_po(fh, locale=po_path.parent.parent.name)
            compiled = io.BytesIO()
            write_mo(compiled, catalog, use_fuzzy=False)
            # 0644: the catalog is no secret (a temporary file would otherwise be 0600).
            write_atomically(mo_path, compiled.getvalue(), mode=0o644)
            written.append(mo_path)
    if written:
        _translations.cache_clear()
    return written


@lru_cache(maxsize=8)
def _translations(lang: str) -> gettext.NullTranslations:
    if lang == "en":
        return gettext.NullTranslations()
    compile_catalogs()
    return gettext.translation(
        DOMAIN,
        localedir=str(compiled_dir()),
        languages=[BABEL_LOCALES[lang]],
        fallback=True,
    )


def normalise_lang(value: str | None) -> str | None:
    """``zh``/``en`` from a URL value or a browser locale (``zh-HK``, ``en-GB`` …); None if neither."""
    if not value:
        return None
    low = str(value).strip().lower().replace("_", "-")
    if low.startswith("zh") or low in ("繁體中文", "中文"):
        return "zh"
    if low.startswith("en") or low == "english":
        return "en"
    return None


def detect_lang(query_value: str | None, browser_locale: str | None) -> str:
    """The interface language: the URL's ``lang`` wins, then the browser's locale, then Chinese."""
    return normalise_lang(query_value) or normalise_lang(browser_locale) or DEFAULT_LANG


class I18n:
    """One visitor's interface language: translation plus date, number and time formatting."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGS else DEFAULT_LANG
        self.locale = BABEL_LOCALES[self.lang]
        self._t = _translations(self.lang)

    # -- translation ------------------------------------------------------------------------
    def _(self, message: str) -> str:
        return self._t.gettext(message)

    gettext = _

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._t.ngettext(singular, plural, n)

    def pick(self, zh: str | None, en: str | None) -> str:
        """The text in the interface language, falling back to the other one."""
        first, second = (zh, en) if self.lang == "zh" else (en, zh)
        return (first or second or "").strip()

    @property
    def html_lang(self) -> str:
        return "zh-Hant-HK" if self.lang == "zh" else "en-GB"

    # -- numbers and dates ------------------------------------------------------------------
    def number(self, value: float | int, *, decimals: int = 0) -> str:
        fmt = "#,##0" + ("." + "0" * decimals if decimals else "")
        return babel_numbers.format_decimal(value, format=fmt, locale=self.locale)

    def date(self, value: str | date | None) -> str:
        """A catalog date (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``) or a ``date`` in this locale."""
        if value is None or value == "":
            return self._("date unknown")
        if isinstance(value, date):
            return babel_dates.format_date(value, "medium", locale=self.locale)
        text = str(value)
        try:
            parts = [int(p) for p in text[:10].split("-")]
            if len(parts) == 1:
                return babel_dates.format_skeleton("y", date(parts[0], 1, 1), locale=self.locale)
            if len(parts) == 2:
                return babel_dates.format_skeleton(
                    "yMMM", date(parts[0], parts[1], 1), locale=self.locale
                )
            return babel_dates.format_date(date(*parts[:3]), "medium", locale=self.locale)
        except (ValueError, TypeError):
            return text

    def year(self, year: int | str | None) -> str:
        if year in (None, ""):
            return self._("date unknown")
        return babel_dates.format_skeleton("y", date(int(year), 1, 1), locale=self.locale)

    def duration(self, seconds: float | None) -> str:
        """A length of time in words: ``1 小時 5 分鐘`` / ``1 hr 5 min``."""
        if seconds is None:
            return self._("length unknown")
        total = int(round(seconds))
        hours, rest = divmod(total, 3600)
        minutes, secs = divmod(rest, 60)
        parts: list[str] = []
        if hours:
            parts.append(self.ngettext("{n} hr", "{n} hr", hours).format(n=self.number(hours)))
        if minutes:
            parts.append(
                self.ngettext("{n} min", "{n} min", minutes).format(n=self.number(minutes))
            )
        if not hours and (secs or not parts):
            parts.append(self.ngettext("{n} sec", "{n} sec", secs).format(n=self.number(secs)))
        return " ".join(parts)

    def hours(self, seconds: float) -> str:
        return self._("{n} hours").format(n=self.number(seconds / 3600, decimals=1))

    def language_name(self, code: str | None) -> str:
        names = {
            "yue": self._("Cantonese"),
            "zh": self._("Mandarin"),
            "en": self._("English"),
            "auto": self._("Not specified"),
        }
        return names.get(code or "auto", code or "")

    def locale_display(self) -> str:
        return Locale.parse(self.locale).display_name or self.locale


def clock(seconds: float | None) -> str:
    """``H:MM:SS`` (or ``M:SS`` under an hour): the same in both languages."""
    total = max(0, int(seconds or 0))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


# Files whose strings the portal shows, and the gettext keywords they use.
UI_SOURCES = (
    "archive/portal/navigation.py",
    "archive/portal/ui.py",
    "archive/portal/ui_staff.py",
    "archive/portal/hub_ui.py",
    "archive/portal/ui_search.py",
    "archive/portal/ui_disclosure.py",
    "archive/portal/ui_event_recording.py",
    "archive/portal/ui_editor.py",
    "archive/portal/ui_speakers.py",
    "archive/portal/i18n.py",
    "archive/portal/views/*.py",
    "archive/portal/lite/*.py",
)
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}


def extract_messages(
    root: Path = SOURCE_ROOT,
) -> dict[str | tuple[str, str], list[str]]:
    """Every message id the portal's code marks for translation, with where it is used.

    A plural message is a ``(singular, plural)`` tuple. Used by the tests (every id must have a
    Hong Kong Chinese translation) and to refresh ``messages.po`` when strings change.
    """
    from babel.messages.extract import extract_from_file

    found: dict[str | tuple[str, str], list[str]] = {}
    for pattern in UI_SOURCES:
        for path in sorted(Path(root).glob(pattern)):
            for lineno, message, _comments, _context in extract_from_file(
                "python", str(path), keywords=KEYWORDS
            ):
                found.setdefault(message, []).append(f"{path.relative_to(root)}:{lineno}")
    return found
