"""A withheld speaker stays withheld through the speakers commands (issue 20, points 2 and 4).

Withholding is of a person (names matched by ``speaker_key``): a diarization label withheld before
it was named keeps its label under the name staff give it; a name the item withholds, given to a
label in another spelling, is shown by its label; a withheld speaker merged into another makes
that one withheld too. Below staff ``archive speakers --role`` lists the label only, never the
name, and an item above the role is not found.
"""

from __future__ import annotations

import json

import pytest
from conftest import run_cli

from transcripts.segments import Segment


@pytest.fixture
def item_id(catalog):
    item = catalog.create_item(
        title_en="Interviews at the container terminal", visibility="public",
        speakers=["Lee Cheuk-yan"],
    )  # fmt: skip
    catalog.add_revision(item.id, [
        Segment(0.0, 3.5, text_en="Tell us about the night shift.", lang="en", speaker="Speaker 1", uid="a1a1a1a1a1a1"),
        Segment(3.5, 9.0, text_en="We worked twenty-four hours.", lang="en", speaker="Speaker 2", uid="b1b1b1b1b1b1"),
        Segment(9.0, 12.0, text_en="The union helped.", lang="en", speaker="Speaker 3", uid="c1c1c1c1c1c1"),
    ], origin="whisper")  # fmt: skip
    return item.id


def _ok(proc) -> str:
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _names(home, item_id: str, role: str) -> list[str]:
    out = _ok(run_cli(home, "speakers", item_id, "--role", role, "--json"))
    return [r["name"] for r in json.loads(out)["speakers"]]


def test_a_withheld_label_named_later_stays_withheld_below_staff(home, item_id) -> None:
    _ok(run_cli(home, "item", "withhold", item_id, "Speaker 2", "--label", "Interviewee A"))
    _ok(run_cli(home, "speakers", "name", item_id, "Speaker 2", "Chan Tai-man"))
    for role in ("public", "members"):
        assert _names(home, item_id, role) == ["Speaker 1", "Interviewee A", "Speaker 3"]
        raw = _ok(run_cli(home, "speakers", item_id, "--role", role, "--json"))
        text = _ok(run_cli(home, "speakers", item_id, "--role", role))
        assert "Chan" not in raw and "Chan" not in text and "withheld" not in raw
        shown = _ok(run_cli(home, "show", item_id, "--role", role, "--json"))
        assert "Chan" not in shown
    staff = json.loads(_ok(run_cli(home, "speakers", item_id, "--json")))["speakers"]
    assert [(r["name"], r["withheld"]) for r in staff] == [
        ("Speaker 1", None), ("Chan Tai-man", "Interviewee A"), ("Speaker 3", None),
    ]  # fmt: skip


def test_a_withheld_name_given_in_another_spelling_is_its_label(home, item_id) -> None:
    _ok(run_cli(home, "item", "withhold", item_id, "Lee Cheuk-yan", "--label", "Worker B"))
    _ok(run_cli(home, "speakers", "name", item_id, "Speaker 3", "LEE cheuk yan"))
    assert _names(home, item_id, "public") == ["Speaker 1", "Speaker 2", "Worker B"]
    raw = _ok(run_cli(home, "speakers", item_id, "--role", "public", "--json"))
    assert "cheuk" not in raw.lower()
    assert _names(home, item_id, "staff")[2] == "LEE cheuk yan"


def test_merging_a_withheld_speaker_into_another_keeps_the_person_withheld(home, item_id) -> None:
    _ok(run_cli(home, "item", "withhold", item_id, "Speaker 2", "--label", "Interviewee A"))
    _ok(run_cli(home, "speakers", "name", item_id, "Speaker 3", "Ho Wai-ming"))
    proc = run_cli(home, "speakers", "merge", item_id, "Speaker 2", "Ho Wai-ming")
    _ok(proc)
    assert "withheld too" in proc.stderr  # staff are told
    assert _names(home, item_id, "public") == ["Speaker 1", "Interviewee A"]
    raw = _ok(run_cli(home, "speakers", item_id, "--role", "public", "--json"))
    assert "Ho Wai" not in raw


def test_an_item_above_the_role_is_not_found(home, catalog) -> None:
    item = catalog.create_item(title_en="Staff only", visibility="staff")
    catalog.add_revision(item.id, [Segment(0.0, 2.0, text_en="x", speaker="Speaker 1")],
                         origin="whisper")  # fmt: skip
    proc = run_cli(home, "speakers", item.id, "--role", "members")
    assert proc.returncode != 0 and proc.stderr == f"error: no item {item.id}\n"
    assert _names(home, item.id, "staff") == ["Speaker 1"]


def test_the_revision_summary_names_no_one(home, item_id, catalog) -> None:
    _ok(run_cli(home, "item", "withhold", item_id, "Speaker 2", "--label", "Interviewee A"))
    _ok(run_cli(home, "speakers", "name", item_id, "Speaker 2", "Chan Tai-man"))
    _ok(run_cli(home, "speakers", "merge", item_id, "Speaker 3", "Chan Tai-man"))
    summaries = [r.summary for r in catalog.list_revisions(item_id)]
    assert summaries[-2:] == ["1 speaker rename", "1 speaker merge"]


def test_a_redacted_segment_counts_for_no_one_below_staff(home, item_id) -> None:
    _ok(run_cli(home, "redact", item_id, "--uid", "b1b1b1b1b1b1", "--reason", "a name"))
    public = json.loads(_ok(run_cli(home, "speakers", item_id, "--role", "public", "--json")))
    assert [r["name"] for r in public["speakers"]] == ["Speaker 1", "Speaker 3"]
    assert "twenty-four" not in json.dumps(public)
    staff = json.loads(_ok(run_cli(home, "speakers", item_id, "--json")))
    two = next(r for r in staff["speakers"] if r["name"] == "Speaker 2")
    assert (two["talk_seconds"], two["first_words"]) == (5.5, "We worked twenty-four hours.")
