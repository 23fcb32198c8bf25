"""Visibility, embargoes and redactions: audited, and followed by the search index at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from archive.catalog.access import Viewer, visible_item, visible_revision
from archive.catalog.audit import audit_log
from archive.core.errors import AccessDeniedError, InputError, NotFoundError
from archive.workspace.visibility import (
    apply_embargoes,
    list_redactions,
    redact,
    redact_segment,
    redactions_overlapping,
    segment_at,
    set_visibility,
    unredact,
)
from transcripts.segments import Segment

indexer = pytest.importorskip("indexer")


@pytest.fixture
def item(catalog, settings):
    made = catalog.create_item(
        title_en="Cleaners' strike debrief", visibility="staff", speakers=["Ho Wai-ling"]
    )
    catalog.add_revision(
        made.id,
        [
            Segment(0.0, 5.0, text_en="We talked about wages at the depot.", lang="en", uid="s1s1s1s1s1s1"),
            Segment(5.0, 9.0, text_en="Ms Wong from Sham-Shui-Po-canary told us everything.", lang="en",
                    speaker="Wong Canary-speaker", uid="s2s2s2s2s2s2"),
            Segment(9.0, 14.0, text_en="Then the management agreed to wages talks.", lang="en", uid="s3s3s3s3s3s3"),
        ],
        origin="whisper",
    )  # fmt: skip
    indexer.SearchIndex.open(settings).update_item(catalog, made.id)
    return made


def _search(settings, query, role):
    return indexer.SearchIndex.open(settings).search(query, role=role)


def test_visibility_change_is_audited_and_indexed(catalog, settings, item) -> None:
    assert _search(settings, "wages", "public").total_items == 0
    set_visibility(catalog, settings, item.id, "members", actor="alice")
    assert _search(settings, "wages", "public").total_items == 0
    assert _search(settings, "wages", "members").total_items == 1
    set_visibility(catalog, settings, item.id, "public", actor="bob")
    assert _search(settings, "wages", "public").total_items == 1
    entries = audit_log(catalog, item.id)
    assert [(e.actor, e.action, e.old_value, e.new_value) for e in entries] == [
        ("bob", "visibility", "members", "public"),
        ("alice", "visibility", "staff", "members"),
    ]
    assert all(datetime.fromisoformat(e.at) <= datetime.now(UTC) for e in entries)
    set_visibility(catalog, settings, item.id, "public", actor="bob")  # no change: no audit row
    assert len(audit_log(catalog, item.id)) == 2


def test_visibility_input_is_checked(catalog, settings, item) -> None:
    future = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    past = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    cases = [
        dict(visibility="secret"),
        dict(visibility="staff", embargo_until=future),
        dict(visibility="staff", embargo_until=past, embargo_visibility="public"),
        dict(
            visibility="public", embargo_until=future, embargo_visibility="staff"
        ),  # closing: refused
        dict(visibility="members", embargo_until=future, embargo_visibility="members"),
        dict(visibility="staff", embargo_until="next week", embargo_visibility="public"),
    ]
    for case in cases:
        with pytest.raises(InputError):
            set_visibility(catalog, settings, item.id, actor="alice", **case)
    with pytest.raises(InputError):
        set_visibility(catalog, settings, item.id, "public", actor="  ")
    with pytest.raises(NotFoundError):
        set_visibility(catalog, settings, "nosuchitem", "public", actor="alice")
    assert audit_log(catalog, item.id) == []
    assert catalog.get_item(item.id).visibility == "staff"


def test_embargo_opens_the_item_and_the_index_follows(catalog, settings, item) -> None:
    future = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    set_visibility(catalog, settings, item.id, "staff", actor="alice", embargo_until=future,
                   embargo_visibility="public")  # fmt: skip
    assert audit_log(catalog, item.id)[0].new_value == f"staff until {future}, then public"
    assert apply_embargoes(settings, catalog) == []  # not yet
    assert _search(settings, "wages", "public").total_items == 0
    with pytest.raises(NotFoundError):
        visible_item(catalog, item.id, Viewer("public"))
    later = datetime.now(UTC) + timedelta(days=31)
    assert apply_embargoes(settings, catalog, now=later) == [item.id]
    opened = catalog.get_item(item.id)
    assert (opened.visibility, opened.embargo_until, opened.embargo_visibility) == (
        "public",
        None,
        None,
    )
    assert _search(settings, "wages", "public").total_items == 1
    top = audit_log(catalog, item.id)[0]
    assert (top.actor, top.action, top.new_value) == ("system:embargo", "embargo-lifted", "public")
    assert apply_embargoes(settings, catalog, now=later) == []  # idempotent


def test_setting_visibility_without_embargo_clears_it(catalog, settings, item) -> None:
    future = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    set_visibility(
        catalog,
        settings,
        item.id,
        "staff",
        actor="a",
        embargo_until=future,
        embargo_visibility="members",
    )
    cleared = set_visibility(catalog, settings, item.id, "staff", actor="a")
    assert cleared.embargo_until is None and cleared.embargo_visibility is None
    assert audit_log(catalog, item.id)[0].old_value == f"staff until {future}, then members"


def test_redaction_hides_text_from_search_facets_and_transcript(catalog, settings, item) -> None:
    set_visibility(catalog, settings, item.id, "public", actor="alice")
    assert _search(settings, "Sham-Shui-Po-canary", "public").total_hits == 1
    red = redact_segment(
        catalog, settings, item.id, uid="s2s2s2s2s2s2", actor="alice", reason="identifies a cleaner"
    )
    assert (red.start, red.end, red.origin_uid) == (5.0, 9.0, "s2s2s2s2s2s2")
    assert list_redactions(catalog, item.id) == [red]
    for role in ("public", "members"):
        found = _search(settings, "Sham-Shui-Po-canary", role)
        assert found.total_items == 0 and found.total_hits == 0
        wages = _search(settings, "wages", role)
        assert wages.total_items == 1
        text = repr(wages.to_dict())
        assert "canary" not in text.lower()  # not in hits, highlights or the speaker facet
        _, rev = visible_revision(catalog, item.id, Viewer(role))
        hidden = next(s for s in rev.segments if s.uid == "s2s2s2s2s2s2")
        assert (hidden.text_en, hidden.speaker, hidden.redacted) == ("", "", True)
    assert (
        _search(settings, "Sham-Shui-Po-canary", "staff").total_hits == 1
    )  # staff find what they hid
    entry = audit_log(catalog, item.id)[0]
    assert (entry.action, entry.target, entry.old_value, entry.new_value) == (
        "redact",
        f"redaction {red.id} (0:05.00–0:09.00)",
        "visible",
        "redacted: identifies a cleaner",
    )
    assert "canary" not in repr(audit_log(catalog)).lower()


def test_unredact_and_errors(catalog, settings, item) -> None:
    set_visibility(catalog, settings, item.id, "public", actor="alice")
    with pytest.raises(NotFoundError, match="has no redaction 1"):
        unredact(catalog, settings, item.id, 1, actor="alice")
    red = redact_segment(catalog, settings, item.id, uid="s2s2s2s2s2s2", actor="alice")
    with pytest.raises(InputError, match="already redacted"):
        redact_segment(catalog, settings, item.id, at=6.0, actor="alice")
    with pytest.raises(InputError, match="already redacted"):  # inside a span already redacted
        redact(catalog, settings, item.id, start=5.5, end=8.0, actor="alice")
    with pytest.raises(NotFoundError):
        redact_segment(catalog, settings, item.id, uid="nosuchuid", actor="alice")
    for start, end in ((3.0, 3.0), (-1.0, 2.0), (4.0, float("nan"))):
        with pytest.raises(InputError):
            redact(catalog, settings, item.id, start=start, end=end, actor="alice")
    lifted = unredact(catalog, settings, item.id, red.id, actor="bob")
    assert lifted == red and list_redactions(catalog, item.id) == []
    assert _search(settings, "Sham-Shui-Po-canary", "public").total_hits == 1
    assert [e.action for e in audit_log(catalog, item.id)][:2] == ["unredact", "redact"]


def test_a_partial_span_hides_every_segment_it_touches(catalog, settings, item) -> None:
    set_visibility(catalog, settings, item.id, "public", actor="alice")
    # 4.5 s to 5.5 s: the end of the first segment and the start of the second.
    red = redact(catalog, settings, item.id, start=4.5, end=5.5, actor="alice")
    _, rev = visible_revision(catalog, item.id, Viewer("public"))
    assert [s.redacted for s in rev.segments] == [True, True, False]
    assert [s.text_en for s in rev.segments][:2] == ["", ""]
    assert _search(settings, "Sham-Shui-Po-canary", "public").total_hits == 0
    assert _search(settings, "depot", "members").total_hits == 0
    # Found by a moment inside it, or by a segment's span that overlaps it; touching is not enough.
    assert redactions_overlapping(catalog, item.id, 5.0) == [red]
    assert redactions_overlapping(catalog, item.id, 5.5) == []
    assert redactions_overlapping(catalog, item.id, 5.5, 9.0) == []
    assert redactions_overlapping(catalog, item.id, 0.0, 4.6) == [red]


def test_a_segment_redaction_leaves_its_touching_neighbours_alone(catalog, settings) -> None:
    made = catalog.create_item(title_en="Odd timings", visibility="public")
    catalog.add_revision(made.id, [
        Segment(0.0, 0.56, text_en="One.", lang="en", uid="t1t1t1t1t1t1"),
        Segment(0.56, 3.8400001, text_en="Two.", lang="en", uid="t2t2t2t2t2t2"),
        Segment(3.8400001, 7.1, text_en="Three.", lang="en", uid="t3t3t3t3t3t3"),
    ], origin="whisper")  # fmt: skip
    red = redact_segment(catalog, settings, made.id, uid="t2t2t2t2t2t2", actor="alice")
    assert (red.start, red.end) == (0.56, 3.8400001)
    assert [s.redacted for s in catalog.get_revision(made.id).segments] == [False, True, False]


def test_segment_at(catalog, item) -> None:
    assert segment_at(catalog, item.id, 6.2).uid == "s2s2s2s2s2s2"
    assert segment_at(catalog, item.id, 5.0).uid == "s2s2s2s2s2s2"
    with pytest.raises(NotFoundError):
        segment_at(catalog, item.id, 99)


def test_audit_log_is_staff_only(catalog, settings, item) -> None:
    set_visibility(catalog, settings, item.id, "public", actor="alice")
    for role in ("public", "members"):
        with pytest.raises(AccessDeniedError):
            audit_log(catalog, item.id, viewer=Viewer(role))
    assert len(audit_log(catalog, item.id, viewer=Viewer("staff", "alice"))) == 1


def test_a_failed_index_update_undoes_a_redaction_or_a_hiding(catalog, settings, item) -> None:
    from archive.core.errors import IndexError_

    set_visibility(catalog, settings, item.id, "public", actor="alice")
    current = settings.index_dir / "CURRENT"
    good = current.read_text()
    (settings.index_dir / "gen-broken").mkdir()
    current.write_text("gen-broken\n")  # a generation that is no index: every update fails
    try:
        with pytest.raises(IndexError_):
            redact_segment(catalog, settings, item.id, uid="s2s2s2s2s2s2", actor="alice")
        with pytest.raises(IndexError_):
            set_visibility(catalog, settings, item.id, "staff", actor="alice")
    finally:
        current.write_text(good)
    # Nothing was half-done: no redaction, no level change, no audit row claiming either.
    assert catalog.redaction_spans(item.id) == ()
    assert catalog.get_item(item.id).visibility == "public"
    assert [e.action for e in audit_log(catalog, item.id)] == ["visibility"]
    assert _search(settings, "Sham-Shui-Po-canary", "public").total_hits == 1


def test_the_worker_periodic_task_lifts_a_passed_embargo(catalog, settings, item) -> None:
    from archive.jobs.queue import PERIODIC_TASKS, _periodic_runner

    target = next(t for _, _, t in PERIODIC_TASKS if t.endswith(":apply_embargoes"))
    # An embargo whose date has passed (written directly: set_visibility refuses past dates).
    catalog.update_item(item.id, embargo_until="2020-01-01", embargo_visibility="members")
    assert _search(settings, "wages", "members").total_items == 0  # the index snapshot is stale
    _periodic_runner(settings, target)()
    assert catalog.get_item(item.id).visibility == "members"
    assert _search(settings, "wages", "members").total_items == 1
    assert audit_log(catalog, item.id)[0].actor == "system:embargo"
