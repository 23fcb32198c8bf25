"""The query language: words, phrases, OR, exclusion, prefixes, field filters, malformed input,
ranking, grouping and paging."""

from __future__ import annotations

import re

import pytest
from search_corpus import Archive, make_archive

from archive.core.moments import moment_param
from indexer import SearchFilters
from indexer.query import parse_query


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory, engine: str) -> Archive:
    return make_archive(tmp_path_factory.mktemp("home"), engine=engine)


@pytest.mark.parametrize(
    ("query", "expected", "absent"),
    [
        # all words must match (in one segment)
        ("dock strike", {"dock-01"}, {"dock-02", "bar-01"}),
        ("碼頭 加薪", {"dock-02"}, {"dock-01", "dock-08"}),
        ("workers pay", {"dock-02", "dock-06"}, {"dock-03"}),
        # exact phrases, both languages
        ('"container terminal"', {"dock-02"}, {"dock-01"}),
        ('"terminal container"', set(), {"dock-02"}),
        ("「貨櫃碼頭」", {"dock-02"}, {"dock-01"}),
        ("“pay rise”", {"dock-02", "dock-06"}, {"dock-01"}),
        # OR
        ("中環 OR 葵涌", {"bar-03", "dock-02"}, {"dock-01"}),
        ("(heat OR forty) days", {"dock-01"}, {"bar-04"}),
        # exclusion
        ("罷工 -碼頭", {"dock-03", "bar-01", "ann-01"}, {"dock-01"}),
        ('strike -"strike fund"', {"dock-01", "bar-03"}, {"dock-03", "dock-05"}),
        ("strike -(fund OR dock)", {"bar-03", "dock-08"}, {"dock-01", "dock-03"}),
        # prefixes
        ("outsourc*", {"dock-06"}, {"dock-01"}),
        ("rall*", {"bar-02"}, {"bar-01"}),
        ("罷*", {"dock-01", "bar-01"}, {"dock-02"}),
    ],
)
def test_query_language(archive: Archive, query: str, expected: set[str], absent: set[str]) -> None:
    results = archive.search(query, per_page=100, hits_per_item=100)
    assert results.notice is None, results.notice
    uids = {h.uid for g in results.groups for h in g.hits}
    assert expected <= uids
    assert not (absent & uids)


@pytest.mark.parametrize(
    ("query", "kw", "items"),
    [
        ("strike collection:interview", {}, {"bar"}),
        ("strike", {"filters": SearchFilters(collection="interview")}, {"bar"}),
        ('罷工 speaker:"Chan Wai-ming"', {}, {"bar"}),
        ("罷工 speaker:chan", {}, {"bar"}),
        ("罷工", {"filters": SearchFilters(speaker="Lee Cheuk-yan")}, {"dock", "anniv"}),
        ("strike year:2017", {}, {"bar"}),
        ("strike year:2017-2019", {}, {"bar", "anniv", "seamen"}),
        ("strike", {"filters": SearchFilters(year=2023)}, {"dock"}),
        ("罷工 lang:en", {}, {"bar", "anniv", "dock"}),  # dock-04 is spoken in English
        ("罷工 工人 lang:en", {}, {"bar", "anniv", "dock"}),
        ("collection:interview", {}, {"bar"}),  # filters alone list the items
    ],
)
def test_field_filters(archive: Archive, query: str, kw: dict, items: set[str]) -> None:
    assert archive.items(query, **kw) == items


def test_lang_filter_selects_segments(archive: Archive) -> None:
    results = archive.search("罷工 lang:en", per_page=100, hits_per_item=100)
    assert {h.lang for g in results.groups for h in g.hits} == {"en"}
    assert "dock-04" in {h.uid for g in results.groups for h in g.hits}


MALFORMED = [
    '"dock strike',  # unbalanced quote
    "dock strike”",
    "(dock strike",  # unbalanced brackets
    "dock strike)",
    "((()))",
    "OR",  # lone operators
    "dock OR",
    "OR OR strike",
    "-",
    "dock -",
    "-strike",
    "strike OR -dock",
    "collection:",
    "!@#$%^&*()_+={}[]|\\:;'<>,.?/~`" * 33,  # ~1,000 characters of punctuation
    "。，、；：？！…—·「」『』（）《》〈〉" * 50,
    "🔥✊🏽👷‍♀️",  # emoji only
    "✊ strike 🔥",  # emoji around a word
    "",
    "   ",
    "*",
    "罷工" * 400,  # very long
    "a" * 1000,
    "\x00\x1b[31mstrike",
]


@pytest.mark.parametrize("query", MALFORMED)
def test_malformed_queries_never_fail(archive: Archive, query: str) -> None:
    results = archive.search(query)
    assert results.page == 1
    assert isinstance(results.total_items, int)
    for group in results.groups:
        for hit in group.hits:
            assert "<script" not in hit.highlights["zh"]


@pytest.mark.parametrize(
    ("query", "finds"),
    [
        ('"dock strike', "dock-01"),
        ("(dock strike", "dock-01"),
        ("dock strike)", "dock-01"),
        ("dock OR", "dock-01"),
        ("OR OR dock", "dock-01"),
        ("-strike dock", None),  # well-formed: excludes
        ("-strike", "dock-01"),
        ("dock -", "dock-01"),
    ],
)
def test_fallback_searches_plain_words_and_says_so(
    archive: Archive, query: str, finds: str | None
) -> None:
    results = archive.search(query, per_page=100, hits_per_item=100)
    uids = {h.uid for g in results.groups for h in g.hits}
    if finds is None:
        assert results.notice is None
        assert "dock-01" not in uids
    else:
        assert finds in uids
        assert results.notice and "plain words" in results.notice


@pytest.mark.parametrize("query", ["", "   ", "🔥✊", "!!!???", "((()))", "*"])
def test_nothing_searchable_says_so(archive: Archive, query: str) -> None:
    results = archive.search(query)
    assert results.total_items == 0 and results.groups == []
    assert results.notice


def test_emoji_around_words_is_ignored_with_a_note(archive: Archive) -> None:
    results = archive.search("✊ strike 🔥", per_page=100)
    assert results.total_hits > 0
    assert results.notice and "ignored" in results.notice.lower()


def test_highlights_escape_html() -> None:
    from indexer.highlight import highlight_html

    spec = parse_query("strike").highlight
    assert (
        highlight_html("<b>strike</b> & co", spec)
        == "&lt;b&gt;<mark>strike</mark>&lt;/b&gt; &amp; co"
    )


def test_phrase_ranks_above_scattered_words(archive: Archive) -> None:
    # "strike fund" as a phrase (dock-03, dock-05) must outrank segments with both words apart.
    results = archive.search("fund strike", per_page=100, hits_per_item=100)
    hits = sorted((h for g in results.groups for h in g.hits), key=lambda h: -h.score)
    assert results.groups[0].item_id == archive.built.ids["dock"]
    ordered = [h.uid for h in hits]
    assert set(ordered[:2]) == {"dock-03", "dock-05"}


def test_title_match_ranks_first(archive: Archive) -> None:
    results = archive.search("oral history")
    assert results.groups[0].item_id == archive.built.ids["bar"]
    assert results.groups[0].title_highlight is not None
    assert "<mark>oral</mark>" in results.groups[0].title_highlight["en"]


def test_item_without_transcript_found_by_title_and_description(archive: Archive) -> None:
    results = archive.search("seamen")
    assert [g.item_id for g in results.groups] == [archive.built.ids["seamen"]]
    assert results.groups[0].hits == []
    assert archive.items("一九二二年") == {"seamen"}


def test_results_shape(archive: Archive) -> None:
    results = archive.search("罷工", per_page=2)
    assert results.total_items >= 4 and results.pages == -(-results.total_items // 2)
    assert len(results.groups) == 2
    scores = [g.score for g in results.groups]
    assert scores == sorted(scores, reverse=True)
    hit = results.groups[0].hits[0]
    # The moment keeps its fraction: a link cut to whole seconds would open the line before.
    assert re.fullmatch(r"\?item=[a-z0-9]+&t=\d+(\.\d+)?", hit.permalink)
    assert hit.permalink == f"?item={hit.item_id}&t={moment_param(hit.start)}"
    assert hit.title_zh and hit.title_en and hit.text_zh
    assert "<mark>罷工</mark>" in hit.highlights["zh"]
    for group in results.groups:
        assert [h.score for h in group.hits] == sorted((h.score for h in group.hits), reverse=True)
    data = hit.to_dict()
    for key in ("item_id", "start", "end", "text_zh", "text_en", "lang", "title_zh", "title_en",
                "permalink", "score", "highlights"):  # fmt: skip
        assert key in data
    assert set(results.facets) == {"collection", "year", "lang", "speaker"}


def test_paging_covers_every_item_once(archive: Archive) -> None:
    first = archive.search("罷工", per_page=2, page=1)
    seen = []
    for page in range(1, first.pages + 1):
        seen.extend(g.item_id for g in archive.search("罷工", per_page=2, page=page).groups)
    assert len(seen) == len(set(seen)) == first.total_items
    assert archive.search("罷工", per_page=2, page=first.pages + 5).groups == []


def test_facets_count_items(archive: Archive) -> None:
    results = archive.search("罷工")
    facets = {k: dict(v) for k, v in results.facets.items()}
    assert facets["collection"]["webinar"] == 1  # dock (nsl is members-only)
    assert facets["collection"]["interview"] == 1
    assert facets["year"]["2023"] == 1
    assert facets["lang"]["zh"] >= 2
    assert facets["speaker"]["Lee Cheuk-yan"] == 2  # dock and anniv
    assert sum(facets["collection"].values()) == results.total_items


def test_words_typed_together_prefer_segments_where_they_are_a_phrase(
    tmp_path, engine: str
) -> None:
    # "apart" says strike three more times, so on the words alone it scores higher; the phrase
    # preference (applied to the best matches after the search) must put "together" first.
    from transcripts.segments import Segment

    archive = make_archive(tmp_path / "home", keys=[], engine=engine)
    item = archive.catalog.create_item(title_en="Untitled", visibility="public")
    segments = [
        Segment(0, 4, "", "Strike, strike, strike! The fund paid for the strike.", "en", uid="apart"),
        Segment(4, 8, "", "They set up a strike fund for the dockers and their families.", "en", uid="together"),
    ]  # fmt: skip
    archive.catalog.add_revision(item.id, segments, origin="whisper")
    archive.index.update_item(archive.catalog, item.id)
    typed = archive.search("strike fund", per_page=100, hits_per_item=100)
    ranked = sorted((h for g in typed.groups for h in g.hits), key=lambda h: -h.score)
    assert [h.uid for h in ranked] == ["together", "apart"]
    # Reversed, the words are a phrase nowhere: the words alone decide.
    reversed_ = archive.search("fund strike", per_page=100, hits_per_item=100)
    ranked = sorted((h for g in reversed_.groups for h in g.hits), key=lambda h: -h.score)
    assert [h.uid for h in ranked] == ["apart", "together"]
