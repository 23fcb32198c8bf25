"""Transcript editing: one save is one revision; uids survive; redactions (spans of the recording)
hold across splits and merges without any copying."""

from __future__ import annotations

import pytest

from archive.catalog.access import Viewer
from archive.catalog.audit import audit_log
from archive.core.errors import InputError, NotFoundError
from archive.workspace.editing import (
    EditText,
    MarkReviewed,
    Merge,
    RenameSpeaker,
    ReplaceText,
    SetSpeaker,
    Split,
    apply_edits,
    revision_history,
)
from archive.workspace.visibility import list_redactions, redact_segment
from transcripts.segments import Segment, Word


@pytest.fixture
def item(catalog):
    made = catalog.create_item(title_en="Bus drivers' union meeting", visibility="public")
    catalog.add_revision(
        made.id,
        [
            Segment(0.0, 4.0, text_zh="我哋今日講下巴士司機嘅工時。", lang="zh", text_raw="我们今天讲下巴士司机的工时。",
                    speaker="SPEAKER 1", uid="aaaaaaaaaaaa",
                    words=(Word(0.0, 1.0, "我哋"), Word(1.0, 2.5, "今日"), Word(2.5, 4.0, "工時"))),
            Segment(4.0, 9.0, text_en="Drivers work twelve hours, sometimes fourteen.", lang="en",
                    speaker="SPEAKER 2", uid="bbbbbbbbbbbb", en_machine=False),
            Segment(9.0, 12.0, text_zh="陳大文話佢唔夠瞓。", text_en="Chan Tai-man says he cannot sleep.", lang="zh",
                    en_machine=True, speaker="SPEAKER 1", uid="cccccccccccc"),
        ],
        origin="whisper",
    )  # fmt: skip
    return made


def _segments(catalog, item_id, revision=None):
    return {s.uid: s for s in catalog.get_revision(item_id, revision).segments}


def test_text_edit_makes_one_revision_and_keeps_the_old_one(catalog, settings, item) -> None:
    rev = apply_edits(
        catalog, settings, item.id,
        [EditText("cccccccccccc", text_zh="陈大文话佢唔够瞓。", text_en="Chan Tai-man says he never sleeps enough."),
         MarkReviewed("cccccccccccc")],
        author="alice", base_revision=1,
    )  # fmt: skip
    assert rev.revision == 2 and rev.origin == "edit" and rev.author == "alice"
    assert rev.summary == "2 text edits, 1 review mark"
    seg = _segments(catalog, item.id)["cccccccccccc"]
    # Kept exactly as typed: a staff correction is not converted to Traditional characters.
    assert seg.text_zh == "陈大文话佢唔够瞓。"
    assert seg.en_machine is False and seg.reviewed is True
    assert {"op": "text", "uid": "cccccccccccc", "before": "陳大文話佢唔夠瞓。", "after": "陈大文话佢唔够瞓。",
            "field": "text_zh"} in rev.changes  # fmt: skip
    old = _segments(catalog, item.id, 1)["cccccccccccc"]
    assert old.text_zh == "陳大文話佢唔夠瞓。" and old.reviewed is False
    assert [r.revision for r in catalog.list_revisions(item.id)] == [1, 2]


def test_editing_the_spoken_track_drops_stale_word_timings(catalog, settings, item) -> None:
    apply_edits(catalog, settings, item.id, [EditText("aaaaaaaaaaaa", text_zh="我哋今日講巴士司機工時。")],
                author="alice", base_revision=1)  # fmt: skip
    assert _segments(catalog, item.id)["aaaaaaaaaaaa"].words == ()
    assert len(_segments(catalog, item.id, 1)["aaaaaaaaaaaa"].words) == 3


def test_stale_base_revision_is_refused_and_nothing_saved(catalog, settings, item) -> None:
    apply_edits(
        catalog, settings, item.id, [MarkReviewed("aaaaaaaaaaaa")], author="alice", base_revision=1
    )
    with pytest.raises(InputError, match=r"changed since you opened it \(revision 2\); reload"):
        apply_edits(
            catalog,
            settings,
            item.id,
            [MarkReviewed("bbbbbbbbbbbb")],
            author="bob",
            base_revision=1,
        )
    assert catalog.latest_revision_number(item.id) == 2
    assert _segments(catalog, item.id)["bbbbbbbbbbbb"].reviewed is False


def test_all_or_nothing(catalog, settings, item) -> None:
    with pytest.raises(InputError, match="no segment"):
        apply_edits(catalog, settings, item.id, [EditText("aaaaaaaaaaaa", text_zh="改"), MarkReviewed("nope")],
                    author="alice", base_revision=1)  # fmt: skip
    assert catalog.latest_revision_number(item.id) == 1
    with pytest.raises(InputError):
        apply_edits(catalog, settings, item.id, [], author="alice", base_revision=1)
    with pytest.raises(NotFoundError):
        apply_edits(
            catalog, settings, "nosuchitem", [MarkReviewed("x")], author="alice", base_revision=1
        )


def test_nothing_changed_makes_no_revision(catalog, settings, item) -> None:
    rev = apply_edits(catalog, settings, item.id, [SetSpeaker("aaaaaaaaaaaa", "SPEAKER 1")],
                      author="alice", base_revision=1)  # fmt: skip
    assert rev.revision == 1 and catalog.latest_revision_number(item.id) == 1


def test_split_at_a_time_and_character_positions(catalog, settings, item) -> None:
    rev = apply_edits(catalog, settings, item.id, [Split("aaaaaaaaaaaa", 2.5, zh_at=4)],
                      author="alice", base_revision=1)  # fmt: skip
    segs = rev.segments
    assert [s.uid for s in segs][0] == "aaaaaaaaaaaa" and len(segs) == 4
    first, second = segs[0], segs[1]
    assert (first.start, first.end, second.start, second.end) == (0.0, 2.5, 2.5, 4.0)
    assert first.text_zh == "我哋今日" and second.text_zh == "講下巴士司機嘅工時。"
    assert second.uid not in ("aaaaaaaaaaaa", "bbbbbbbbbbbb", "cccccccccccc")
    assert second.speaker == "SPEAKER 1"
    assert [w.text for w in first.words] == ["我哋", "今日"] and [w.text for w in second.words] == [
        "工時"
    ]
    assert rev.changes[0]["op"] == "split" and rev.changes[0]["new_uid"] == second.uid


def test_split_without_positions_cuts_at_a_nearby_break(catalog, settings, item) -> None:
    rev = apply_edits(
        catalog, settings, item.id, [Split("bbbbbbbbbbbb", 7.0)], author="alice", base_revision=1
    )
    by_start = {s.start: s for s in rev.segments}
    assert by_start[4.0].text_en == "Drivers work twelve hours,"
    assert by_start[7.0].text_en == "sometimes fourteen."


def test_split_outside_the_segment_is_refused(catalog, settings, item) -> None:
    for at in (4.0, 9.0, 3.0, 12.0):
        with pytest.raises(InputError, match="inside the segment"):
            apply_edits(
                catalog, settings, item.id, [Split("bbbbbbbbbbbb", at)], author="a", base_revision=1
            )


def test_merge_neighbours_only(catalog, settings, item) -> None:
    with pytest.raises(InputError, match="right after"):
        apply_edits(
            catalog,
            settings,
            item.id,
            [Merge("aaaaaaaaaaaa", "cccccccccccc")],
            author="a",
            base_revision=1,
        )
    rev = apply_edits(
        catalog,
        settings,
        item.id,
        [Merge("bbbbbbbbbbbb", "cccccccccccc")],
        author="a",
        base_revision=1,
    )
    merged = _segments(catalog, item.id)["bbbbbbbbbbbb"]
    assert "cccccccccccc" not in _segments(catalog, item.id)
    assert (merged.start, merged.end) == (4.0, 12.0)
    assert merged.text_zh == "陳大文話佢唔夠瞓。"
    assert (
        merged.text_en
        == "Drivers work twelve hours, sometimes fourteen. Chan Tai-man says he cannot sleep."
    )
    assert rev.changes[0]["removed_uid"] == "cccccccccccc"


def test_chinese_is_joined_without_a_space(catalog, settings, item) -> None:
    apply_edits(
        catalog,
        settings,
        item.id,
        [EditText("bbbbbbbbbbbb", text_zh="司機做十二個鐘，")],
        author="a",
        base_revision=1,
    )
    apply_edits(
        catalog,
        settings,
        item.id,
        [Merge("bbbbbbbbbbbb", "cccccccccccc")],
        author="a",
        base_revision=2,
    )
    assert (
        _segments(catalog, item.id)["bbbbbbbbbbbb"].text_zh == "司機做十二個鐘，陳大文話佢唔夠瞓。"
    )


def test_speakers_rename_and_replace(catalog, settings, item) -> None:
    rev = apply_edits(
        catalog, settings, item.id,
        [RenameSpeaker("SPEAKER 1", "Lee Cheuk-yan"), SetSpeaker("bbbbbbbbbbbb", "陳大文"),
         ReplaceText("Chan Tai-man", "Chan Siu-ming", track="en")],
        author="alice", base_revision=1,
    )  # fmt: skip
    segs = _segments(catalog, item.id)
    assert [segs[u].speaker for u in ("aaaaaaaaaaaa", "bbbbbbbbbbbb", "cccccccccccc")] == [
        "Lee Cheuk-yan", "陳大文", "Lee Cheuk-yan"]  # fmt: skip
    assert segs["cccccccccccc"].text_en == "Chan Siu-ming says he cannot sleep."
    assert segs["cccccccccccc"].text_zh == "陳大文話佢唔夠瞓。"  # the zh track was not asked for
    assert next(c for c in rev.changes if c["op"] == "rename-speaker")["segments"] == 2
    with pytest.raises(InputError, match="no segment has the speaker"):
        apply_edits(
            catalog,
            settings,
            item.id,
            [RenameSpeaker("SPEAKER 9", "x")],
            author="a",
            base_revision=2,
        )
    with pytest.raises(InputError, match="not in the transcript"):
        apply_edits(
            catalog, settings, item.id, [ReplaceText("Mong Kok", "x")], author="a", base_revision=2
        )


def test_split_of_a_redacted_segment_keeps_both_halves_redacted(catalog, settings, item) -> None:
    red = redact_segment(
        catalog,
        settings,
        item.id,
        uid="cccccccccccc",
        actor="alice",
        reason="names a driver",
        rebuild_media=False,
    )
    rev = apply_edits(
        catalog, settings, item.id, [Split("cccccccccccc", 10.5)], author="alice", base_revision=1
    )
    second = next(s for s in rev.segments if s.start == 10.5)
    assert second.uid != "cccccccccccc"
    assert [s.redacted for s in rev.segments] == [False, False, True, True]
    public = Viewer("public")
    from archive.catalog.access import visible_revision

    _, seen = visible_revision(catalog, item.id, public)
    assert all(not s.text_zh and not s.text_en for s in seen.segments if s.start >= 9.0)
    # The span did it alone: no redaction or audit row was added by the split.
    assert list_redactions(catalog, item.id) == [red]
    assert [e.action for e in audit_log(catalog, item.id)] == ["redact"]


def test_merge_with_a_redacted_segment_is_redacted(catalog, settings, item) -> None:
    redact_segment(
        catalog, settings, item.id, uid="cccccccccccc", actor="alice", rebuild_media=False
    )
    apply_edits(
        catalog,
        settings,
        item.id,
        [Merge("bbbbbbbbbbbb", "cccccccccccc")],
        author="alice",
        base_revision=1,
    )
    from archive.catalog.access import visible_revision

    _, seen = visible_revision(catalog, item.id, Viewer("members"))
    merged = next(s for s in seen.segments if s.uid == "bbbbbbbbbbbb")
    assert merged.text_en == "" and merged.text_zh == ""


def test_history_hides_changes_below_staff(catalog, settings, item) -> None:
    redact_segment(
        catalog, settings, item.id, uid="cccccccccccc", actor="alice", rebuild_media=False
    )
    apply_edits(catalog, settings, item.id, [EditText("cccccccccccc", text_en="Secret name Kwun-Tong-canary")],
                author="alice", base_revision=1)  # fmt: skip
    staff = revision_history(catalog, item.id, Viewer("staff"))
    assert staff[0].revision == 2 and staff[0].author == "alice"
    assert "Kwun-Tong-canary" in repr(staff)
    public = revision_history(catalog, item.id, Viewer("public"))
    assert [e.revision for e in public] == [2, 1]
    assert "Kwun-Tong-canary" not in repr(public) and "alice" not in repr(public)
    catalog.update_item(item.id, visibility="staff")
    with pytest.raises(NotFoundError):
        revision_history(catalog, item.id, Viewer("members"))


def test_the_search_index_follows_an_edit(catalog, settings, item) -> None:
    indexer = pytest.importorskip("indexer")
    index = indexer.SearchIndex.open(settings)
    index.update_item(catalog, item.id)
    assert index.search("fourteen", role="public").total_items == 1
    apply_edits(catalog, settings, item.id, [EditText("bbbbbbbbbbbb", text_en="Drivers work sixteen hours.")],
                author="alice", base_revision=1)  # fmt: skip
    assert index.search("fourteen", role="public").total_items == 0
    found = index.search("sixteen", role="public")
    assert [g.item_id for g in found.groups] == [item.id]


def test_a_failed_index_update_saves_nothing(catalog, settings, item) -> None:
    from archive.core.errors import IndexError_

    pytest.importorskip("indexer").SearchIndex.open(settings)
    current = settings.index_dir / "CURRENT"
    good = current.read_text()
    (settings.index_dir / "gen-broken").mkdir()
    current.write_text("gen-broken\n")
    try:
        with pytest.raises(IndexError_):
            apply_edits(catalog, settings, item.id, [EditText("cccccccccccc", text_en="Someone says so.")],
                        author="alice", base_revision=1)  # fmt: skip
    finally:
        current.write_text(good)
    assert catalog.latest_revision_number(item.id) == 1
    assert (
        apply_edits(
            catalog, settings, item.id, [MarkReviewed("cccccccccccc")], author="a", base_revision=1
        ).revision
        == 2
    )
