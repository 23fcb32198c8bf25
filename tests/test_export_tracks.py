"""Exports write the track a recording is spoken in, refuse an empty one naming those that exist,
write both languages together (bilingual SRT/VTT cues, a two-column text, JSON with both texts),
and mark machine-translated English in every format; the item page shows a single-language
recording as such and offers only tracks with text."""

from __future__ import annotations

import json
from pathlib import Path

import portal_data
import pysubs2
import pytest
from conftest import run_cli
from portal_harness import archive_home, new_session, open_page, texts

from archive.catalog.db import Catalog
from archive.core.config import load_settings
from archive.core.errors import InputError
from archive.portal.routes.files import transcript_payload
from archive.workspace.visibility import redact
from transcripts.exports import export, require_text, spoken_track, tracks_with_text
from transcripts.segments import Segment

ENGLISH = [
    Segment(0.4, 3.25, "", "We organised the night shift first.", lang="en", uid="e1"),
    Segment(3.25, 7.1, "", "Then the crane drivers joined us.", lang="en", uid="e2"),
]
CANTONESE = [
    Segment(
        0.0, 2.5, "我哋喺碼頭罷工。", "We went on strike at the docks.", lang="zh", en_machine=True
    ),
    Segment(2.5, 5.0, "為咗權益。", "For our rights.", lang="zh", en_machine=False),
    Segment(5.0, 6.0, "呢句刪咗。", "This one is removed.", lang="zh", redacted=True),
]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("ARCHIVE_PUBLIC_URL", "ARCHIVE_HOME"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(tmp_path / "home")
    cat = Catalog.open(settings)
    cat.create_item(id="englishtalk", title_en="Night shift", language="en", visibility="public")
    cat.add_revision("englishtalk", ENGLISH, origin="whisper")
    cat.create_item(id="dockstrike", title_zh="碼頭", language="yue", visibility="public")
    cat.add_revision("dockstrike", [s.with_(redacted=False) for s in CANTONESE], origin="whisper")
    redact(cat, settings, "dockstrike", start=5.0, end=6.0, actor="staff", rebuild_media=False)
    cat.close()
    return settings.home


# -- the command line ---------------------------------------------------------------------------
def test_an_english_talk_exports_its_english_track_by_default(home: Path, tmp_path: Path):
    out = tmp_path / "talk.srt"
    done = run_cli(home, "export", "englishtalk", "--format", "srt", "-o", str(out))
    assert done.returncode == 0, done.stderr
    cues = pysubs2.SSAFile.from_string(out.read_text(encoding="utf-8"))
    assert [c.plaintext for c in cues] == [s.text_en for s in ENGLISH]
    assert "track en" in done.stderr


def test_a_cantonese_talk_exports_chinese_by_default(home: Path):
    done = run_cli(home, "export", "dockstrike", "--format", "txt")
    assert done.returncode == 0, done.stderr
    assert "我哋喺碼頭罷工。" in done.stdout and "strike" not in done.stdout


def test_an_empty_track_is_refused_naming_the_tracks_that_exist(home: Path, tmp_path: Path):
    out = tmp_path / "empty.srt"
    done = run_cli(home, "export", "englishtalk", "--track", "zh", "-o", str(out))
    assert done.returncode != 0
    assert "en (English)" in done.stderr and "--track" in done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists()


def test_both_tracks_together_in_srt_vtt_text_and_json(home: Path):
    srt = run_cli(home, "export", "dockstrike", "--track", "both", "--format", "srt")
    assert srt.returncode == 0, srt.stderr
    cues = pysubs2.SSAFile.from_string(srt.stdout)
    assert [c.text.split(r"\N") for c in cues] == [
        ["我哋喺碼頭罷工。", "[MT] We went on strike at the docks."],
        ["為咗權益。", "For our rights."],
    ]
    vtt = run_cli(home, "export", "dockstrike", "--track", "both", "--format", "vtt").stdout
    assert vtt.startswith("WEBVTT") and "NOTE [MT] = machine translation" in vtt
    assert "為咗權益。\nFor our rights." in vtt
    txt = run_cli(home, "export", "dockstrike", "--track", "both", "--format", "txt").stdout
    rows = [line.split("\t") for line in txt.splitlines() if not line.startswith("#")]
    assert rows[0] == ["time", "中文", "English"]
    assert rows[1:] == [
        ["[00:00:00]", "我哋喺碼頭罷工。", "[MT] We went on strike at the docks."],
        ["[00:00:02]", "為咗權益。", "For our rights."],
    ]
    data = json.loads(
        run_cli(home, "export", "dockstrike", "--track", "both", "--format", "json").stdout
    )
    assert [(s["text_zh"], s["text_en"], s["machine_translation"]) for s in data["segments"]] == [
        ("我哋喺碼頭罷工。", "We went on strike at the docks.", True),
        ("為咗權益。", "For our rights.", False),
    ]
    for written in (srt.stdout, vtt, txt, json.dumps(data, ensure_ascii=False)):
        assert "呢句刪咗" not in written and "removed" not in written


@pytest.mark.parametrize("fmt", ["srt", "vtt", "txt"])
def test_machine_translation_is_marked_in_every_text_format_and_only_there(fmt: str):
    text = export(CANTONESE, fmt, "en")
    assert "[MT] We went on strike at the docks." in text
    assert "[MT] For our rights." not in text and "For our rights." in text
    assert "[MT]" not in export(ENGLISH, fmt, "en")  # a person's English carries no mark
    assert "[MT]" not in export(CANTONESE, fmt, "zh")


def test_the_spoken_track_follows_the_language_then_the_segments():
    assert spoken_track(ENGLISH, "auto") == "en"
    assert spoken_track(ENGLISH, "yue") == "en"  # only English has text: nothing else to write
    assert spoken_track(CANTONESE, "en") == "en"  # staff said so
    assert spoken_track(CANTONESE, None) == "zh"
    assert tracks_with_text(ENGLISH) == ("en",)
    assert tracks_with_text(CANTONESE) == ("zh", "en")
    with pytest.raises(InputError, match="no text to export"):
        require_text([CANTONESE[2]], "both")


def test_the_player_is_told_which_english_is_a_machine_translation():
    cues = transcript_payload(CANTONESE)["cues"]
    assert [c[7] for c in cues] == [1, 0, 0]


# -- the item page ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("export-tracks-portal")
    arch = portal_data.build(home, long_talk=False, extra=0)
    cat = Catalog.open(load_settings(home))
    cat.create_item(id="englishonly", title_en="Night shift", language="en", visibility="public")
    cat.add_revision("englishonly", ENGLISH, origin="whisper")
    cat.close()
    with archive_home(home):
        yield arch


def test_an_english_only_item_is_shown_as_such_and_offers_only_english(portal):
    at = open_page(new_session(lang="en"), "item", item="englishonly", lang="en")
    shown = texts(at)
    assert "Transcript in English only." in shown
    assert "item_track" not in {w.key for w in at.get("segmented_control")}
    download = at.segmented_control(key="item_dl_track")
    assert list(download.options) == ["English"] and download.value == "en"


def test_a_bilingual_item_offers_both_tracks_and_explains_the_mark(portal):
    at = open_page(new_session(lang="en"), "item", item=portal.ids["dock"], lang="en")
    keys = {w.key for w in at.get("segmented_control")}
    assert "item_track" in keys
    download = at.segmented_control(key="item_dl_track")
    assert list(download.options) == ["Chinese", "English", "Both"]
    assert download.value == "en"  # the reader's language, which this recording has
    zh_reader = open_page(new_session(lang="zh"), "item", item="englishonly", lang="zh")
    assert zh_reader.segmented_control(key="item_dl_track").value == "en"  # all there is
    download.set_value("en").run()
    assert "English marked [MT] is a machine translation." in texts(at)
