"""The glossary: loading the staff-edited TSV (tolerantly), and cross-language expansion."""

from __future__ import annotations

from pathlib import Path

import pytest
from search_corpus import Archive, make_archive

from indexer.analysis import analyze
from indexer.glossary import BUILTIN_GLOSSARY, load_glossary, parse_glossary

SMALL = """\
# a comment line
union\t香港職工會聯盟|職工盟|职工盟\tHong Kong Confederation of Trade Unions|HKCTU|CTU\tdissolved 2021

event\t碼頭工人罷工\tdock strike|dockers' strike\t2013
broken line with no tabs
person  李卓人  Lee Cheuk-yan  typed with spaces
trade\t紮鐵工人\t\tno English yet
empty\t\t\tnothing at all
odd\t!!!|國安法\tNational Security Law\tone unusable form
"""


def test_parse_small_glossary_tolerates_bad_lines() -> None:
    entries, warnings = parse_glossary(SMALL, "small.tsv")
    by_zh = {e.zh[0]: e for e in entries}
    assert set(by_zh) == {"香港職工會聯盟", "碼頭工人罷工", "李卓人", "紮鐵工人", "國安法"}
    assert by_zh["香港職工會聯盟"].en == ("Hong Kong Confederation of Trade Unions", "HKCTU", "CTU")
    assert by_zh["李卓人"].en == ("Lee Cheuk-yan",)
    assert by_zh["國安法"].zh == ("國安法",)
    text = "\n".join(warnings)
    assert "small.tsv:5: skipped" in text  # the line with no tabs and no column gaps
    assert "small.tsv:6: columns separated by spaces" in text
    assert "small.tsv:7: no English form" in text
    assert "small.tsv:8: skipped: no Chinese or English form" in text
    assert "small.tsv:9: ignored form" in text
    assert by_zh["碼頭工人罷工"].source == "small.tsv:4"


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("碼頭工人罷工", "碼頭工人罷工"),
        ("码头工人罢工", "碼頭工人罷工"),  # Simplified finds the Traditional entry
        ("Dock Strikes", "碼頭工人罷工"),  # case and stemming
        ("职工盟", "香港職工會聯盟"),
        ("hkctu", "香港職工會聯盟"),
        ("Lee Cheuk Yan", "李卓人"),
    ],
)
def test_lookup_any_form_any_script(tmp_path: Path, typed: str, canonical: str) -> None:
    path = tmp_path / "g.tsv"
    path.write_text(SMALL, encoding="utf-8")
    glossary = load_glossary(paths=[path])
    assert [e.zh[0] for e in glossary.lookup(typed)] == [canonical]


def test_find_longest_match_in_token_sequence(tmp_path: Path) -> None:
    path = tmp_path / "g.tsv"
    path.write_text(SMALL, encoding="utf-8")
    glossary = load_glossary(paths=[path])
    keys = ["the", "dock", "strike", "and", "hkctu"]
    found = [(m.start, m.end, m.entry.zh[0]) for m in glossary.find(keys)]
    assert found == [(1, 3, "碼頭工人罷工"), (4, 5, "香港職工會聯盟")]


def test_home_file_extends_and_edits_are_picked_up(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    before = load_glossary(home)
    assert not before.lookup("quokkaism")
    (home / "glossary.tsv").write_text("term\t袋鼠主義\tquokkaism\tlocal\n", encoding="utf-8")
    after = load_glossary(home)
    assert [e.zh for e in after.lookup("quokkaism")] == [("袋鼠主義",)]
    assert len(after) == len(before) + 1


def test_unreadable_file_is_a_warning_not_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tsv"
    bad.write_bytes(b"\xff\xfe\x00garbage\x80")
    glossary = load_glossary(paths=[bad])
    assert len(glossary) == 0 and glossary.warnings


def test_shipped_glossary_has_the_issue_entries() -> None:
    if not BUILTIN_GLOSSARY.exists():
        pytest.skip("indexer/glossary.tsv has not been written yet")
    glossary = load_glossary(paths=[BUILTIN_GLOSSARY])
    assert not [w for w in glossary.warnings if "skipped" in w]
    for zh, en in [
        ("職工盟", "HKCTU"),
        ("職工盟", "Hong Kong Confederation of Trade Unions"),
        ("國安法", "National Security Law"),
        ("碼頭工人罷工", "dock strike"),
        ("紮鐵工人", "bar-benders"),
        ("李卓人", "Lee Cheuk-yan"),
    ]:
        entries = glossary.lookup(zh)
        assert entries, zh
        assert any(en in e.en for e in entries), (zh, en)


# -- expansion in searches ------------------------------------------------------------------


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory, engine: str) -> Archive:
    return make_archive(tmp_path_factory.mktemp("home"), engine=engine)


@pytest.mark.parametrize(
    ("query", "role", "finds", "expansion"),
    [
        # English query finds Chinese-only wording through the glossary ...
        ("dock strike", "public", "sec-02", "碼頭工人罷工"),  # staff-only segment, see below
        ('"bar-benders"', "public", "bar-01", "紮鐵工人"),
        ("Lee Cheuk-yan", "public", "dock-04", "李卓人"),
        ("National Security Law", "members", "nsl-01", "國安法"),
        ("HKCTU", "public", "dock-03", "職工盟"),
        # ... and the reverse
        ("碼頭工人罷工", "public", "dock-01", "dock strike"),
        ("紮鐵工人", "public", "bar-03", "bar-benders"),
        ("李卓人", "public", "dock-04", "Lee Cheuk-yan"),
        ("國安法", "members", "nsl-01", "National Security Law"),
        ("職工盟", "public", "dock-05", "HKCTU"),  # dock-05 says HKCTU inside Chinese text
        ("香港職工會聯盟", "members", "nsl-01", "HKCTU"),
    ],
)
def test_glossary_both_ways(
    archive: Archive, query: str, role: str, finds: str, expansion: str
) -> None:
    role = "staff" if finds.startswith("sec") else role
    results = archive.search(query, role=role, per_page=100, hits_per_item=100)
    assert expansion in results.expansions
    assert finds in {h.uid for g in results.groups for h in g.hits}


def test_expansion_found_through_text_only_in_other_language(tmp_path: Path, engine: str) -> None:
    # A segment with Chinese only (no English track) is found by the English glossary term.
    from transcripts.segments import Segment

    archive = make_archive(tmp_path / "home", keys=[], engine=engine)
    item = archive.catalog.create_item(title_en="Untitled", visibility="public")
    archive.catalog.add_revision(
        item.id, [Segment(0, 4, "紮鐵工人喺中環集會。", "", "zh", uid="zh-only")], origin="whisper"
    )
    archive.index.update_item(archive.catalog, item.id)
    results = archive.search('"bar-benders"')
    hit = results.groups[0].hits[0]
    assert hit.uid == "zh-only"
    assert hit.highlights == {"zh": "<mark>紮鐵工人</mark>喺中環集會。", "en": ""}


@pytest.mark.parametrize(
    ("typed", "expands_to"),
    [
        ("bar-benders", "紮鐵工人"),
        ("bar-bender", "紮鐵工人"),
        ("bar-benders'", "紮鐵工人"),
        ("Bar Benders", "紮鐵工人"),
        # The shipped glossary has "bar bending" (the trade, 紮鐵) exactly: that entry wins.
        ("bar-bending", "紮鐵"),
        ("bar bend", "紮鐵"),
    ],
)
def test_inflected_forms_of_an_english_entry_find_it(
    tmp_path: Path, engine: str, typed: str, expands_to: str
) -> None:
    """Every inflection of the entry "bar-benders" expands to its Chinese forms and finds a
    segment that says it only in Chinese, on each engine."""
    from transcripts.segments import Segment

    archive = make_archive(tmp_path / "home", keys=[], engine=engine)
    item = archive.catalog.create_item(title_en="Untitled", visibility="public")
    archive.catalog.add_revision(
        item.id, [Segment(0, 4, "紮鐵工人喺中環集會。", "", "zh", uid="zh-only")], origin="whisper"
    )
    archive.index.update_item(archive.catalog, item.id)
    results = archive.search(typed)
    assert expands_to in results.expansions
    assert [h.uid for g in results.groups for h in g.hits] == ["zh-only"]


def test_an_agent_noun_is_found_by_its_verb_and_inflections() -> None:
    """The test corpus's glossary has only "bar-benders|bar benders": its other inflections, the
    verb's included, find that entry; a single word keeps its -er."""
    from search_corpus import GLOSSARY_TSV

    from indexer.glossary import Glossary

    entries, _ = parse_glossary(GLOSSARY_TSV)
    glossary = Glossary.from_entries(entries)
    for typed in ("bar-bender", "bar-benders'", "bar-bending", "bar bend", "Bar-Bended"):
        assert [e.zh[0] for e in glossary.lookup(typed)] == ["紮鐵工人"], typed
        assert glossary.has_form(tuple(t.text for t in analyze(typed, tail_unigrams=False)))
    assert glossary.lookup("bar") == []


def test_an_exact_form_wins_over_an_inflected_one() -> None:
    """ "bar-benders" is the trade (紮鐵工人), "bar bending" the industry (紮鐵): each finds its own
    entry first; only a form no entry has exactly is matched by its inflection."""
    from indexer.glossary import load_glossary as load

    glossary = load(None)
    assert glossary.lookup("bar-benders")[0].zh[0] == "紮鐵工人"
    assert glossary.lookup("bar-bender")[0].zh[0] == "紮鐵工人"
    assert glossary.lookup("bar bending")[0].zh[0] == "紮鐵"
    assert glossary.lookup("leader") == []  # single words keep their -er


def test_no_expansion_reported_without_match(archive: Archive) -> None:
    assert archive.search("forty days").expansions == []


def test_expansions_highlighted(archive: Archive) -> None:
    results = archive.search("dock strike")
    hit = next(h for g in results.groups for h in g.hits if h.uid == "dock-01")
    assert "<mark>碼頭工人罷工</mark>" in hit.highlights["zh"]
    assert (
        "<mark>dock strike</mark>" in hit.highlights["en"]
        or "<mark>dock</mark>" in hit.highlights["en"]
    )


def test_expansion_can_be_switched_off(archive: Archive) -> None:
    # dock-03 says 職工盟 / HKCTU, never 香港職工會聯盟: only the glossary connects them.
    expanded = archive.search("香港職工會聯盟", per_page=100, hits_per_item=100)
    assert "dock-03" in {h.uid for g in expanded.groups for h in g.hits}
    plain = archive.search("香港職工會聯盟", expand=False, per_page=100, hits_per_item=100)
    assert plain.expansions == []
    assert "dock-03" not in {h.uid for g in plain.groups for h in g.hits}


WAGES = "law\t最低工資|法定最低工資|最低工資條例\tminimum wage|statutory minimum wage|SMW\t2011\n"


@pytest.mark.parametrize(
    ("typed", "searched_as"),
    [
        # every longer form contains a shorter one: listed as searched, no matcher of its own
        ("最低工資", {("最低", "低工", "工资"), ("minimum", "wage"), ("smw",)}),
        ("minimum wage", {("最低", "低工", "工资"), ("smw",)}),
        ("法定最低工資", {("法定", "定最", "最低", "低工", "工资"), ("最低", "低工", "工资")}),
    ],
)
def test_forms_containing_a_shorter_form_add_no_matcher(
    tmp_path: Path, typed: str, searched_as: set[tuple[str, ...]]
) -> None:
    from indexer import query_tree as qt
    from indexer.query import parse_query

    def leaves(node):
        for part in getattr(node, "parts", ()):
            yield from leaves(part)
        for name in ("required", "optional", "positive", "negative"):
            if hasattr(node, name):
                yield from leaves(getattr(node, name))
        if isinstance(node, qt.Term | qt.Phrase):
            yield node

    path = tmp_path / "g.tsv"
    path.write_text(WAGES, encoding="utf-8")
    parsed = parse_query(typed, load_glossary(paths=[path]), [], fields={"body": 1.0})
    assert {"法定最低工資", "statutory minimum wage"} - {typed} <= set(parsed.expansions)
    phrases = {
        tuple(q.words) if isinstance(q, qt.Phrase) else (q.text,) for q in leaves(parsed.query)
    }
    assert searched_as <= phrases
    assert ("statutori", "minimum", "wage") not in phrases
    assert ("最低", "低工", "工资", "资条", "条例") not in phrases
