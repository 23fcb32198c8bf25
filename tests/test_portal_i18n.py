"""The portal's two languages: the Hong Kong Chinese catalog is complete, compiles, and formats."""

from __future__ import annotations

import gettext
import os
import re
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from babel.messages.pofile import read_po

from archive.portal.i18n import (
    LOCALES_DIR,
    I18n,
    clock,
    compile_catalogs,
    compiled_dir,
    detect_lang,
    extract_messages,
)

PO = LOCALES_DIR / "zh_Hant_HK" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"\{[a-z_]*\}")


def _catalog():
    with PO.open("rb") as fh:
        return read_po(fh, locale="zh_Hant_HK")


def test_every_message_the_portal_shows_has_a_hong_kong_chinese_translation():
    used = extract_messages()
    assert len(used) > 100  # the extraction really saw the pages
    catalog = _catalog()
    missing = []
    for msgid, where in used.items():
        key = msgid[0] if isinstance(msgid, tuple) else msgid
        message = catalog.get(key)
        text = message.string if message is not None else None
        if isinstance(text, tuple):
            text = text[0]
        if not text or (message is not None and message.fuzzy):
            missing.append(f"{key!r} ({where[0]})")
    assert not missing, "add these to messages.po:\n" + "\n".join(missing)


def test_translations_keep_placeholders_and_use_traditional_characters():
    simplified_only = set("们这说会对时们国为东车马门问见发语后还进过间开")
    for message in _catalog():
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in strings:
            assert set(PLACEHOLDER.findall(ids[0])) == set(PLACEHOLDER.findall(text)), message.id
            assert not simplified_only & set(text), (message.id, text)


def test_catalogs_compile_when_missing_or_stale(tmp_path):
    folder = tmp_path / "locales" / "zh_Hant_HK" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    shutil.copy(PO, folder / "messages.po")
    written = compile_catalogs(tmp_path / "locales")
    assert written == [folder / "messages.mo"]
    assert compile_catalogs(tmp_path / "locales") == []  # up to date: nothing to do
    time.sleep(0.01)
    (folder / "messages.po").touch()
    later = time.time() + 5
    import os

    os.utime(folder / "messages.po", (later, later))
    assert compile_catalogs(tmp_path / "locales") == [folder / "messages.mo"]
    compile_catalogs()
    assert (PO.with_suffix(".mo")).exists()


@contextmanager
def _read_only(folder: Path):
    """``folder`` made read-only as an installed package's can be: by its mode, and (root ignores
    modes) as an immutable folder; checked by trying to write in it."""
    folder.chmod(0o555)
    immutable = os.getuid() == 0
    if immutable:
        subprocess.run(["chattr", "+i", str(folder)], check=True)
    try:
        try:
            tempfile.mkstemp(dir=folder)
        except OSError:
            pass
        else:
            raise AssertionError(f"{folder} is still writable")
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        folder.chmod(0o755)


def test_catalogs_compile_into_the_users_cache_when_the_package_is_read_only(tmp_path, monkeypatch):
    locales = tmp_path / "site-packages" / "locales"
    folder = locales / "zh_Hant_HK" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    shutil.copy(PO, folder / "messages.po")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with _read_only(folder):
        written = compile_catalogs(locales)
        out = compiled_dir(locales)
        assert out.parent == tmp_path / "cache" / "hk-labour-archive"
        assert written == [out / "zh_Hant_HK" / "LC_MESSAGES" / "messages.mo"]
        assert not (folder / "messages.mo").exists()
        assert compile_catalogs(locales) == []  # up to date: nothing to do
        zh = gettext.translation("messages", localedir=str(out), languages=["zh_Hant_HK"])
        assert zh.gettext("Search") == "搜尋"


def test_sessions_translate_independently():
    zh, en = I18n("zh"), I18n("en")
    assert zh._("Search") == "搜尋" and en._("Search") == "Search"
    assert zh._("Search") == "搜尋"  # one language's session does not switch the other's
    assert zh.ngettext("{n} recording", "{n} recordings", 3).format(n=3) == "3 個錄音"
    assert en.ngettext("{n} recording", "{n} recordings", 1).format(n=1) == "1 recording"


def test_dates_numbers_and_durations_in_both_languages():
    zh, en = I18n("zh"), I18n("en")
    assert zh.date("2013-05-06") == "2013年5月6日" and en.date("2013-05-06") == "6 May 2013"
    assert zh.date("2013-05") == "2013年5月" and en.date("2013-05") == "May 2013"
    assert zh.date("2007") == "2007年" and en.date("2007") == "2007"
    assert zh.date(None) == "日期不詳" and en.date(None) == "date unknown"
    assert zh.number(1234567) == "1,234,567" and en.number(1500) == "1,500"
    assert zh.duration(3725) == "1 小時 2 分鐘" and en.duration(3725) == "1 hr 2 min"
    assert zh.duration(42) == "42 秒" and en.duration(None) == "length unknown"
    assert zh.hours(5400) == "1.5 小時" and en.hours(7200) == "2.0 hours"
    assert zh.language_name("yue") == "粵語" and en.language_name("zh") == "Mandarin"
    assert clock(75) == "1:15" and clock(3725) == "1:02:05"
    assert zh.pick("碼頭", "Dock") == "碼頭" and en.pick("碼頭", "Dock") == "Dock"
    assert en.pick("碼頭", "") == "碼頭"


def test_language_detection():
    assert detect_lang("en", "zh-HK") == "en"
    assert detect_lang(None, "zh-TW") == "zh"
    assert detect_lang(None, "en-US") == "en"
    assert detect_lang("klingon", "fr-FR") == "zh"  # the archive's first language
    assert detect_lang(None, None) == "zh"


def test_po_file_is_in_the_repository_and_mo_is_not():
    assert PO.exists()
    ignored = (Path(__file__).resolve().parents[1] / ".gitignore").read_text()
    assert "*.mo" in ignored
