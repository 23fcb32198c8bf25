"""The staff editor's *Speakers* section (issue 20, point 2), through Streamlit's AppTest.

One row per speaker with talk time, turns and first words; naming a speaker there saves one new
revision (audited) in which every segment of that speaker has the name; a merge the same; a bad
name is refused with nothing stored; each speaker's *Play* moves the editor's player to the
start of that speaker's first long turn and plays it; a withheld speaker's row says its label.
"""

from __future__ import annotations

import json

import pytest
from portal_harness import archive_home, log_in, new_session, open_page, texts

from archive.catalog.audit import audit_log
from archive.catalog.db import Catalog
from archive.core.config import load_settings
from archive.workspace.accounts import add_user
from archive.workspace.disclosure import withhold_speaker
from transcripts.segments import Segment

PASSWORD = "correct horse battery"


@pytest.fixture
def arch(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    settings = load_settings(home).ensure()
    cat = Catalog.open(settings)
    add_user(cat, "staff1", "staff", PASSWORD, actor="test")
    item = cat.create_item(title_en="Kwai Chung dock meeting", visibility="public")
    cat.add_revision(item.id, [
        Segment(0.5, 1.25, text_en="Hello.", lang="en", speaker="Speaker 1", uid="a1a1a1a1a1a1"),
        Segment(1.25, 2.0, text_zh="大家好。", lang="zh", speaker="Speaker 2", uid="b1b1b1b1b1b1"),
        Segment(2.0, 6.75, text_en="Tonight we vote on the strike.", lang="en", speaker="Speaker 1", uid="a2a2a2a2a2a2"),
        Segment(6.75, 11.5, text_zh="我哋支持罷工。", lang="zh", speaker="Speaker 2", uid="b2b2b2b2b2b2"),
        Segment(11.5, 13.0, text_en="Agreed.", lang="en", speaker="Speaker 3", uid="c1c1c1c1c1c1"),
    ], origin="whisper")  # fmt: skip
    cat.close()
    with archive_home(home):
        yield settings, item.id


def _editor(item_id: str):
    at = log_in(new_session(lang="en", timeout=90), "staff1", PASSWORD)
    return open_page(at, "edit", lang="en", item=item_id)


def _player_line(at) -> dict:
    found = [
        e for e in at.get("bidi_component") if e.proto.component_name == "hk_archive.editor_player"
    ]
    assert len(found) == 1
    return json.loads(found[0].proto.json)["line"]


def test_naming_a_speaker_in_the_editor_makes_one_audited_revision(arch) -> None:
    settings, item_id = arch
    at = _editor(item_id)
    shown = texts(at)
    assert "Speakers (3)" in [e.label for e in at.expander]
    # Speaker 2: 0.75 + 4.75 s = 5.5 s, two turns, first words in Chinese.
    assert "6 sec · 2 turns · first at 0:01" in shown and "“大家好。”" in shown
    at.text_input(key="spk_name_1_1").input("Lee Cheuk-yan")
    at.button(key="spk_name_go_1_1").click().run()
    assert not at.exception
    assert "Saved as revision 2." in texts(at)
    cat = Catalog.open(settings)
    try:
        rev = cat.get_revision(item_id)
        assert rev.revision == 2 and rev.author == "staff1"
        assert {s.uid: s.speaker for s in rev.segments} == {
            "a1a1a1a1a1a1": "Speaker 1", "b1b1b1b1b1b1": "Lee Cheuk-yan",
            "a2a2a2a2a2a2": "Speaker 1", "b2b2b2b2b2b2": "Lee Cheuk-yan",
            "c1c1c1c1c1c1": "Speaker 3",
        }  # fmt: skip
        entries = [e for e in audit_log(cat, item_id) if e.action.startswith("speaker-")]
        assert [(e.action, e.actor, e.old_value, e.new_value) for e in entries] == [
            ("speaker-rename", "staff1", "Speaker 2", "Lee Cheuk-yan")
        ]
    finally:
        cat.close()
    # The page now edits revision 2: its rows follow, and a merge saves revision 3.
    assert "Lee Cheuk-yan" in texts(at)
    at.selectbox(key="spk_merge_2_2").select("Speaker 1")
    at.button(key="spk_merge_go_2_2").click().run()
    assert "Saved as revision 3." in texts(at)
    cat = Catalog.open(settings)
    try:
        assert {s.speaker for s in cat.get_revision(item_id).segments} == {
            "Speaker 1", "Lee Cheuk-yan",
        }  # fmt: skip
    finally:
        cat.close()


def test_an_empty_or_taken_name_is_refused_and_nothing_saved(arch) -> None:
    settings, item_id = arch
    at = _editor(item_id)
    at.button(key="spk_name_go_1_0").click().run()
    assert "may not be empty" in texts(at)
    at.text_input(key="spk_name_1_0").input("speaker 3")
    at.button(key="spk_name_go_1_0").click().run()
    assert "archive speakers merge" in texts(at)
    cat = Catalog.open(settings)
    try:
        assert cat.latest_revision_number(item_id) == 1
    finally:
        cat.close()


def test_each_speakers_play_button_starts_the_player_at_their_first_long_turn(arch) -> None:
    _settings, item_id = arch
    at = _editor(item_id)
    before = _player_line(at)
    # Speaker 1's first turn (0.5-1.25) is short; the first long one starts at 2.0.
    at.button(key="spk_play_1_0").click().run()
    line = _player_line(at)
    assert (line["uid"], line["start"], line["play"]) == ("a2a2a2a2a2a2", 2.0, True)
    assert line["n"] == before["n"] + 1
    at.button(key="spk_play_1_1").click().run()
    assert (_player_line(at)["uid"], _player_line(at)["start"]) == ("b2b2b2b2b2b2", 6.75)
    # Speaker 3 has no long turn: its longest (its only) one.
    at.button(key="spk_play_1_2").click().run()
    assert _player_line(at)["start"] == 11.5


def test_a_withheld_speakers_row_says_its_label(arch) -> None:
    settings, item_id = arch
    cat = Catalog.open(settings)
    try:
        withhold_speaker(cat, settings, item_id, "Speaker 3", "Interviewee A", actor="test")
    finally:
        cat.close()
    at = _editor(item_id)
    assert "Shown below staff as “Interviewee A”" in texts(at)
