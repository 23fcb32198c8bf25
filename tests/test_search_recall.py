"""Cross-language recall through the glossary (issue 19, point 4), on every search engine.

A query finds in the other language whatever the glossary says is the same thing as what it finds
in its own:

* a Chinese query finds Chinese text that contains it inside a longer term (``紮鐵`` in ``紮鐵工人``),
  so it also searches the English of every glossary entry whose Chinese term contains it
  (``bar-benders``), in Traditional or Simplified (``扎铁``);
* an English query finds every form of its word family in English text (``bar bending``,
  ``bar-benders'``, ``bar benders``, ``bar-bender``): it searches every glossary entry whose English
  term is of the same family, with its Chinese terms.

Only glossary entries expand a query (a Chinese fragment that is no glossary term adds nothing),
at most :data:`indexer.glossary.MAX_ENTRIES_PER_TERM` of them per term, and below staff a form
from the data folder's own glossary expands only where the role may read it.

Real parts: a real catalog in a tmp folder, the real index of each engine, the shipped glossary
(``indexer/glossary.tsv``: ``紮鐵 / bar bending`` and ``紮鐵工人 / bar-benders`` are two entries) and
a local ``glossary.tsv`` in the data folder.
"""

from __future__ import annotations

import pytest
from search_corpus import Archive, make_archive

from indexer.glossary import MAX_ENTRIES_PER_TERM, load_glossary
from indexer.query import parse_query
from transcripts.segments import Segment

# uid -> (Chinese track, English track, language)
PUBLIC = {
    # English only: what a Chinese query can reach only through the glossary
    "en-benders": ("", "Striking bar-benders' families joined the march.", "en"),
    "en-bending": ("", "Bar bending is hard work in the summer sun.", "en"),
    "en-dock": ("", "The dock workers met at the container terminal.", "en"),
    # Chinese only: what an English query can reach only through the glossary
    "zh-trade": ("紮鐵嘅工作好辛苦。", "", "zh"),
    "zh-workers": ("好多紮鐵工人今日冇開工。", "", "zh"),
}
STAFF_ONLY = {"sec-crew": ("", "The quokka rebar crew met at night.", "en")}
# Staff's own entry: its Chinese term contains 紮鐵, its English is said only in a staff-only item.
LOCAL_GLOSSARY = "crew\t紮鐵夜班隊\tquokka rebar crew\tstaff's own name for a team\n"


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory, engine: str) -> Archive:
    archive = make_archive(tmp_path_factory.mktemp("home"), keys=[], glossary=False, engine=engine)
    (archive.settings.home / "glossary.tsv").write_text(LOCAL_GLOSSARY, encoding="utf-8")
    for visibility, segments in (("public", PUBLIC), ("staff", STAFF_ONLY)):
        item = archive.catalog.create_item(title_en="Untitled", visibility=visibility)
        archive.catalog.add_revision(
            item.id,
            [
                Segment(i, i + 1, zh, en, lang, uid=uid)
                for i, (uid, (zh, en, lang)) in enumerate(segments.items())
            ],
            origin="whisper",
        )
        archive.index.update_item(archive.catalog, item.id)
    return archive


def _uids(archive: Archive, query: str, role: str = "public") -> set[str]:
    return archive.uids(query, role=role)


@pytest.mark.parametrize("query", ["紮鐵", "扎铁", "紥鐵"])
def test_a_chinese_term_finds_the_english_of_longer_terms_containing_it(
    archive: Archive, query: str
) -> None:
    """紮鐵 (the trade) is inside 紮鐵工人 (bar-benders): Chinese text saying 紮鐵工人 is found by
    substring, so the English bar-benders segment is found too, in any script."""
    results = archive.search(query, per_page=100, hits_per_item=100)
    assert "bar-benders" in results.expansions
    found = {h.uid for g in results.groups for h in g.hits}
    assert {"en-benders", "en-bending", "zh-trade", "zh-workers"} <= found
    assert "en-dock" not in found


@pytest.mark.parametrize("query", ["bar bending", "bar-benders'", "bar benders", "bar-bender"])
def test_an_english_query_finds_its_word_family_in_both_languages(
    archive: Archive, query: str
) -> None:
    """Every form of the family finds every other form in English text, and the Chinese of both
    glossary entries (紮鐵 and 紮鐵工人) in Chinese-only text."""
    results = archive.search(query, per_page=100, hits_per_item=100)
    found = {h.uid for g in results.groups for h in g.hits}
    assert {"en-benders", "en-bending", "zh-trade", "zh-workers"} <= found, (query, found)
    assert {"紮鐵", "紮鐵工人"} & set(results.expansions)
    assert "en-dock" not in found


def test_a_chinese_fragment_that_is_no_glossary_term_pulls_no_english(archive: Archive) -> None:
    """Containment is anchored on glossary terms: 紮鐵 is one and pulls bar-benders; 鐵工 is only
    a fragment of 紮鐵工人 (no entry has it) and adds nothing, though it finds that Chinese text."""
    assert "bar-benders" in archive.search("紮鐵").expansions
    fragment = archive.search("鐵工", per_page=100, hits_per_item=100)
    assert fragment.expansions == []
    assert {h.uid for g in fragment.groups for h in g.hits} == {"zh-workers"}


def test_a_staff_only_entry_expands_for_staff_and_not_for_the_public(archive: Archive) -> None:
    """The local entry 紮鐵夜班隊 / quokka rebar crew contains 紮鐵: staff's 紮鐵 searches its
    English and finds the staff-only segment; the public's 紮鐵 neither uses nor names it."""
    staff = archive.search("紮鐵", role="staff", per_page=100, hits_per_item=100)
    assert "quokka rebar crew" in staff.expansions
    assert "sec-crew" in {h.uid for g in staff.groups for h in g.hits}
    public = archive.search("紮鐵", role="public", per_page=100, hits_per_item=100)
    assert "quokka rebar crew" not in public.expansions
    assert "紮鐵夜班隊" not in public.expansions
    assert "bar-benders" in public.expansions  # the shipped entries still expand
    members = archive.search("扎铁", role="members", per_page=100, hits_per_item=100)
    assert "quokka rebar crew" not in members.expansions


def test_expansion_is_bounded_per_term() -> None:
    """香港 is inside 40-odd entries' Chinese terms: only the first MAX_ENTRIES_PER_TERM entries
    (the term's own, then the shortest containing terms) add their English forms."""
    glossary = load_glossary(paths=None)
    containing = [
        e for e in glossary.entries if any("香港" in z for z in e.zh) and e.zh[0] != "香港"
    ]
    assert len(containing) > MAX_ENTRIES_PER_TERM
    parsed = parse_query("香港", glossary, [], fields={"body": 1.0})
    english = {f for f in parsed.expansions if f.isascii()}
    contributing = [e for e in glossary.entries if english & set(e.en)]
    assert "Hong Kong Island" in english  # 香港島, the shortest term containing 香港
    assert 1 < len(contributing) <= MAX_ENTRIES_PER_TERM


@pytest.mark.parametrize(
    "dropped", ["紮鐵工人", "紮鐵", "紮鐵工友", "bar-benders", "Hong Kong", "香港職工會聯盟"]
)
def test_a_narrowed_glossary_expands_as_one_built_afresh(dropped: str) -> None:
    """Below staff the glossary is narrowed per search (:meth:`Glossary.without_forms`), which
    carries the containment over instead of making it again: it must expand every term exactly
    as a glossary built from the narrowed entries does."""
    from indexer.glossary import Glossary, form_key

    glossary = load_glossary(paths=None)
    glossary.find(list(form_key("紮鐵")))  # the containment is made, and then carried over
    narrowed = glossary.without_forms({form_key(dropped)})
    fresh = Glossary.from_entries(narrowed.entries)
    for query in (
        "紮鐵",
        "扎铁",
        "紥鐵",
        "香港",
        "bar bending",
        "bar-benders",
        "紮鐵工友",
        "職工會",
        "工會",
        "聯盟",
    ):
        assert parse_query(query, narrowed, [], fields={"body": 1.0}).expansions == (
            parse_query(query, fresh, [], fields={"body": 1.0}).expansions
        ), (dropped, query)
    assert dropped not in parse_query(dropped, narrowed, [], fields={"body": 1.0}).expansions
