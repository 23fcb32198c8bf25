"""The staff commands as a person runs them: visibility, redact, unredact, audit, segments, edit, history."""

from __future__ import annotations

import getpass
import json
from datetime import UTC, datetime, timedelta

import pytest
from conftest import run_cli

from transcripts.segments import Segment


@pytest.fixture
def item_id(catalog):
    item = catalog.create_item(title_en="Catering workers' meeting", visibility="staff")
    catalog.add_revision(item.id, [
        Segment(0.0, 4.0, text_en="Welcome everyone.", lang="en", speaker="SPEAKER 1", uid="c1c1c1c1c1c1"),
        Segment(4.0, 8.0, text_en="Mrs Tam from the canteen said so.", lang="en", uid="c2c2c2c2c2c2"),
        Segment(8.0, 12.0, text_zh="多謝大家。", lang="zh", speaker="SPEAKER 1", uid="c3c3c3c3c3c3"),
    ], origin="whisper")  # fmt: skip
    catalog.close()
    return item.id


def _ok(proc):
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_visibility_redaction_and_audit_from_the_command_line(home, item_id) -> None:
    future = (datetime.now(UTC) + timedelta(days=10)).date().isoformat()
    out = _ok(run_cli(home, "visibility", item_id, "members", "--embargo-until", future, "--then", "public",
                      "--actor", "alice", "--json"))  # fmt: skip
    data = json.loads(out)
    assert (data["visibility"], data["embargo_until"], data["effective_visibility"]) == (
        "members",
        future,
        "members",
    )
    assert f"redacted 0:04.00–0:08.00 of {item_id} (redaction 1)" in _ok(
        run_cli(home, "redact", item_id, "--at", "5.5", "--reason", "a name")
    )
    bad = run_cli(home, "redact", item_id, "--at", "5.5", "--uid", "c2c2c2c2c2c2")
    assert bad.returncode == 1 and bad.stderr == (
        "error: give the span as --at SECONDS, --uid UID or --from SECONDS --to SECONDS\n"
    )
    again = run_cli(home, "redact", item_id, "--uid", "c2c2c2c2c2c2")
    assert again.returncode == 1 and again.stderr == (
        f"error: 0:04.00–0:08.00 of item {item_id} is already redacted (redaction 1)\n"
    )
    half = run_cli(home, "redact", item_id, "--from", "6")
    assert half.returncode == 1 and half.stderr == (
        "error: an explicit span needs both --from and --to\n"
    )
    segments = json.loads(_ok(run_cli(home, "segments", item_id, "--json")))["segments"]
    assert [s["redacted"] for s in segments] == [False, True, False]
    listed = json.loads(_ok(run_cli(home, "redactions", item_id, "--json")))
    assert [(r["id"], r["start"], r["end"], r["reason"], r["origin_uid"]) for r in listed] == [
        (1, 4.0, 8.0, "a name", "c2c2c2c2c2c2")
    ]
    assert "0:04.00–0:08.00" in _ok(run_cli(home, "redactions", item_id))
    _ok(run_cli(home, "unredact", item_id, "--at", "6", "--actor", "bob"))
    assert _ok(run_cli(home, "redactions", item_id)) == f"nothing of {item_id} is redacted\n"
    entries = json.loads(_ok(run_cli(home, "audit", item_id, "--json")))
    assert [(e["actor"], e["action"]) for e in entries] == [
        ("bob", "unredact"), (f"cli:{getpass.getuser()}", "redact"), ("alice", "visibility")]  # fmt: skip
    assert (
        entries[2]["old_value"] == "staff"
        and entries[2]["new_value"] == f"members until {future}, then public"
    )
    text = _ok(run_cli(home, "audit"))
    assert "visibility" in text and "redact" in text
    closing = run_cli(
        home, "visibility", item_id, "public", "--embargo-until", future, "--then", "staff"
    )
    assert closing.returncode == 1 and closing.stderr.startswith(
        "error: an embargo opens an item up"
    )


def test_editing_from_the_command_line(home, item_id) -> None:
    saved = json.loads(_ok(run_cli(home, "edit", "text", item_id, "c2c2c2c2c2c2", "--en", "Mrs Tam from the kitchen said so.",
                                   "--author", "alice", "--json")))  # fmt: skip
    assert (
        saved["revision"] == 2
        and saved["changes"][0]["after"] == "Mrs Tam from the kitchen said so."
    )
    stale = run_cli(home, "edit", "review", item_id, "c1c1c1c1c1c1", "--base-revision", "1")
    assert stale.returncode == 1
    assert (
        stale.stderr == "error: the transcript changed since you opened it (revision 2); reload\n"
    )
    out = _ok(run_cli(home, "edit", "split", item_id, "c1c1c1c1c1c1", "--at", "2", "--en-at", "8"))
    assert out.startswith(f"saved revision 3 of {item_id}: 1 split")
    _ok(run_cli(home, "edit", "rename-speaker", item_id, "SPEAKER 1", "Lee Cheuk-yan"))
    _ok(run_cli(home, "edit", "review", item_id, "c2c2c2c2c2c2", "c3c3c3c3c3c3"))
    _ok(run_cli(home, "edit", "replace", item_id, "kitchen", "canteen", "--track", "en"))
    segments = json.loads(_ok(run_cli(home, "segments", item_id, "--json")))
    assert segments["revision"] == 6
    rows = segments["segments"]
    assert [r["text_en"] for r in rows[:2]] == ["Welcome", "everyone."]
    assert rows[0]["uid"] == "c1c1c1c1c1c1" and rows[1]["uid"] != "c1c1c1c1c1c1"
    assert {r["speaker"] for r in rows if r["uid"] != "c2c2c2c2c2c2"} == {"Lee Cheuk-yan"}
    assert rows[2]["text_en"] == "Mrs Tam from the canteen said so." and rows[2]["reviewed"]
    merge = _ok(run_cli(home, "edit", "merge", item_id, rows[0]["uid"], rows[1]["uid"]))
    assert "1 merge" in merge
    history = json.loads(_ok(run_cli(home, "history", item_id, "--json")))
    assert [h["revision"] for h in history] == [7, 6, 5, 4, 3, 2, 1]
    assert history[-2]["author"] == "alice" and history[-1]["origin"] == "whisper"
    old = json.loads(_ok(run_cli(home, "show", item_id, "--rev", "1", "--json")))
    assert (
        old["segments"][1]["text_en"] == "Mrs Tam from the canteen said so."
    )  # revision 1 unchanged
    nothing = run_cli(home, "edit", "text", item_id, "nosuchuid", "--en", "x")
    assert (
        nothing.returncode == 1
        and nothing.stderr == "error: there is no segment nosuchuid in this transcript\n"
    )
