"""Speakers named once per item (issue 20, point 2), from the command line as a person runs it.

``archive speakers ITEM [--json]`` lists the speakers with talk time, turns and first words
(computed from fractional times); ``speakers name`` and ``speakers merge`` and ``edit speaker``
each make exactly one new revision and one audit entry; bad requests are refused with a clear
error and nothing stored. And point 1: a re-transcription keeps the speakers' names, by time.
"""

from __future__ import annotations

import json

import pytest
from conftest import run_cli

from archive.catalog.audit import audit_log
from transcripts.segments import Segment
from transcripts.speaker_carry import carry_speakers


@pytest.fixture
def item_id(catalog):
    item = catalog.create_item(title_en="Dock strike meeting", visibility="public")
    catalog.add_revision(item.id, [
        Segment(0.25, 1.75, text_en="Good evening, comrades.", lang="en", speaker="Speaker 1", uid="a1a1a1a1a1a1"),
        Segment(1.75, 2.5, text_en="And welcome.", lang="en", speaker="Speaker 1", uid="a2a2a2a2a2a2"),
        Segment(2.5, 6.125, text_zh="我喺碼頭做咗二十年。", lang="zh", speaker="Speaker 2", uid="b1b1b1b1b1b1"),
        Segment(6.125, 7.0, text_en="Thank you.", lang="en", speaker="Speaker 1", uid="a3a3a3a3a3a3"),
        Segment(7.0, 9.4, text_en="We will not go back.", lang="en", speaker="Speaker 3", uid="c1c1c1c1c1c1"),
        Segment(9.4, 10.0, text_en="Never.", lang="en", speaker="Speaker 2", uid="b2b2b2b2b2b2"),
    ], origin="whisper")  # fmt: skip
    return item.id


def _ok(proc) -> str:
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _err(proc) -> str:
    assert proc.returncode != 0 and "Traceback" not in proc.stderr, proc.stderr
    return proc.stderr


def test_the_list_says_talk_time_turns_and_first_words(home, item_id) -> None:
    data = json.loads(_ok(run_cli(home, "speakers", item_id, "--json")))
    rows = {r["name"]: r for r in data["speakers"]}
    assert [r["name"] for r in data["speakers"]] == ["Speaker 1", "Speaker 2", "Speaker 3"]
    one, two, three = rows["Speaker 1"], rows["Speaker 2"], rows["Speaker 3"]
    # 1.5 + 0.75 + 0.875 seconds, in two turns (the first two segments are one turn).
    assert (one["talk_seconds"], one["turns"], one["segments"]) == (3.125, 2, 3)
    assert (two["talk_seconds"], two["turns"]) == (4.225, 2)
    assert (three["talk_seconds"], three["turns"]) == (2.4, 1)
    assert one["first_words"] == "Good evening, comrades."
    assert two["first_words"] == "我喺碼頭做咗二十年。"
    assert (one["first_start"], two["first_start"]) == (0.25, 2.5)
    # The first turn long enough to tell the voice by (>= 3 s): Speaker 2's first one; Speaker
    # 1 has none that long, so its longest (0.25-2.5).
    assert (two["play_start"], two["play_end"], two["play_uid"]) == (2.5, 6.125, "b1b1b1b1b1b1")
    assert (one["play_start"], one["play_end"]) == (0.25, 2.5)
    text = _ok(run_cli(home, "speakers", "list", item_id))
    assert "Speaker 2" in text and "0:04.22" in text and "2 turns" in text


def test_naming_a_speaker_makes_one_revision_and_one_audit_entry(home, item_id, catalog) -> None:
    before = catalog.latest_revision_number(item_id)
    out = json.loads(_ok(run_cli(home, "speakers", "name", item_id, "Speaker 2", "Lee Cheuk-yan",
                                 "--author", "alice", "--json")))  # fmt: skip
    assert out["revision"] == before + 1
    rev = catalog.get_revision(item_id)
    assert rev.revision == before + 1 and rev.author == "alice"
    assert [s.speaker for s in rev.segments if s.uid.startswith("b")] == ["Lee Cheuk-yan"] * 2
    assert {s.speaker for s in rev.segments if not s.uid.startswith("b")} == {
        "Speaker 1", "Speaker 3",
    }  # fmt: skip
    entries = [e for e in audit_log(catalog, item_id) if e.action.startswith("speaker-")]
    assert [(e.action, e.actor, e.old_value, e.new_value) for e in entries] == [
        ("speaker-rename", "alice", "Speaker 2", "Lee Cheuk-yan")
    ]
    listed = json.loads(_ok(run_cli(home, "speakers", item_id, "--json")))
    assert [r["name"] for r in listed["speakers"]] == ["Speaker 1", "Lee Cheuk-yan", "Speaker 3"]


def test_merging_two_speakers_and_reassigning_one_segment(home, item_id, catalog) -> None:
    base = catalog.latest_revision_number(item_id)
    _ok(run_cli(home, "speakers", "merge", item_id, "Speaker 3", "Speaker 1", "--author", "bob"))
    rev = catalog.get_revision(item_id)
    assert rev.revision == base + 1
    assert {s.uid: s.speaker for s in rev.segments}["c1c1c1c1c1c1"] == "Speaker 1"
    assert "Speaker 3" not in {s.speaker for s in rev.segments}
    # One segment given to another speaker, spelt another way: the transcript's own spelling.
    _ok(run_cli(home, "edit", "speaker", item_id, "b2b2b2b2b2b2", "speaker 1", "--author", "bob"))
    rev = catalog.get_revision(item_id)
    assert rev.revision == base + 2
    speakers = {s.uid: s.speaker for s in rev.segments}
    assert (speakers["b2b2b2b2b2b2"], speakers["b1b1b1b1b1b1"]) == ("Speaker 1", "Speaker 2")
    entries = [e for e in audit_log(catalog, item_id) if e.action.startswith("speaker-")]
    assert [(e.action, e.target, e.old_value, e.new_value) for e in entries] == [
        ("speaker-set", "b2b2b2b2b2b2", "Speaker 2", "Speaker 1"),
        ("speaker-merge", "Speaker 3", "Speaker 3", "Speaker 1"),
    ]
    listed = json.loads(_ok(run_cli(home, "speakers", item_id, "--json")))
    one = next(r for r in listed["speakers"] if r["name"] == "Speaker 1")
    # 3.125 + 2.4 (merged) + 0.6 (reassigned); turns: 0.25-2.5, 6.125-10.0.
    assert (one["talk_seconds"], one["turns"]) == (6.125, 2)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("speakers", "nosuchitem"), "error: no item nosuchitem"),
        (("speakers", "name", "ITEM", "Speaker 9", "Lee"), "has no speaker 'Speaker 9'"),
        (("speakers", "name", "ITEM", "Speaker 2", "  "), "may not be empty"),
        (("speakers", "name", "ITEM", "Speaker 2", "speaker 1"), "archive speakers merge"),
        (("speakers", "merge", "ITEM", "Speaker 1", "speaker 1"), "cannot be merged into itself"),
        (("speakers", "merge", "ITEM", "Speaker 1", "Nobody"), "has no speaker 'Nobody'"),
        (("edit", "speaker", "ITEM", "ffffffffffff", "Speaker 1"), "no segment ffffffffffff"),
    ],
)
def test_bad_requests_are_refused_and_nothing_is_stored(
    home, item_id, catalog, args, message
) -> None:
    before = catalog.latest_revision_number(item_id)
    audited = len(audit_log(catalog, item_id))
    stderr = _err(run_cli(home, *(item_id if a == "ITEM" else a for a in args)))
    assert message in stderr and stderr.startswith("error: ")
    assert catalog.latest_revision_number(item_id) == before
    assert len(audit_log(catalog, item_id)) == audited


def test_every_speakers_command_has_help_with_an_example(home) -> None:
    for sub in ((), ("list",), ("name",), ("merge",)):
        out = _ok(run_cli(home, "speakers", *sub, "--help"))
        assert "Example:" in out and "archive speakers" in out


def test_a_re_transcription_keeps_the_speakers_names_by_time() -> None:
    named = [
        Segment(0.0, 4.0, text_en="Hello.", speaker="Lee Cheuk-yan"),
        Segment(4.0, 9.0, text_en="Thanks.", speaker="Chan Tai-man"),
        Segment(9.0, 12.0, text_en="Bye.", speaker="Lee Cheuk-yan"),
    ]
    # Whisper alone: no speakers; boundaries moved. Longest overlap wins.
    plain = carry_speakers(named, [
        Segment(0.0, 3.0, uid="n1"), Segment(3.0, 8.5, uid="n2"), Segment(8.5, 12.0, uid="n3"),
        Segment(20.0, 21.0, uid="n4"),
    ])  # fmt: skip
    assert [s.speaker for s in plain] == ["Lee Cheuk-yan", "Chan Tai-man", "Lee Cheuk-yan", ""]
    assert [s.uid for s in plain] == ["n1", "n2", "n3", "n4"]
    # New diarization labels: each label takes the name it overlaps most, each name once.
    labelled = carry_speakers(named, [
        Segment(0.0, 4.5, speaker="Speaker 2"), Segment(4.5, 9.0, speaker="Speaker 1"),
        Segment(9.0, 12.0, speaker="Speaker 2"), Segment(12.0, 14.0, speaker="Speaker 3"),
    ])  # fmt: skip
    assert [s.speaker for s in labelled] == [
        "Lee Cheuk-yan", "Chan Tai-man", "Lee Cheuk-yan", "Speaker 3",
    ]  # fmt: skip


def test_re_transcribing_with_the_real_model_keeps_the_name_given(
    home, settings, catalog, fixtures_dir
) -> None:
    from staff_helpers import item_with_media

    from archive.ingest.pipeline import transcribe_item

    item = item_with_media(settings, catalog, fixtures_dir, "en/jfk.flac", [
        Segment(0.0, 11.0, text_en="(to be transcribed)", lang="en", speaker="Speaker 1"),
    ])  # fmt: skip
    _ok(run_cli(home, "speakers", "name", item.id, "Speaker 1", "John F. Kennedy"))
    rev = transcribe_item(settings, catalog, item.id, translate=False)
    assert rev.revision == 3 and rev.origin == "whisper" and len(rev.segments) >= 1
    assert "country" in " ".join(s.text_en for s in rev.segments).lower()  # really re-heard
    assert {s.speaker for s in rev.segments} == {"John F. Kennedy"}


def test_a_segment_without_a_speaker_ends_a_turn(home, catalog) -> None:
    item = catalog.create_item(title_en="Phone-in", visibility="public")
    catalog.add_revision(item.id, [
        Segment(0.0, 2.0, text_en="First.", speaker="Speaker 1"),
        Segment(2.0, 3.0, text_en="(caller, unheard)"),
        Segment(3.0, 4.5, text_en="Second.", speaker="Speaker 1"),
    ], origin="whisper")  # fmt: skip
    data = json.loads(_ok(run_cli(home, "speakers", item.id, "--json")))
    assert [(r["name"], r["talk_seconds"], r["turns"]) for r in data["speakers"]] == [
        ("Speaker 1", 3.5, 2)
    ]
