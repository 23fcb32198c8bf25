"""Chinese and English analysis: folding, bigrams, stemming, highlights on the original text.

Also the measurement behind the choice of character bigrams (recorded in
``indexer/analysis.py``): :func:`measure` runs the same labelled queries through four ways of
cutting Chinese text into terms and counts the expected hits each finds.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from search_corpus import SEGMENTS, Archive, make_archive

from indexer.analysis import analyze, fold

# -- folding ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("碼頭工人罷工", "码头工人罢工"),  # Traditional / Simplified
        ("裏面", "裡面"),  # Hong Kong / Taiwan-standard variant
        ("裏面", "里面"),
        ("綫", "線"),  # HK variant of 線
        ("綫", "线"),
        ("著", "着"),
        ("紮鐵", "扎铁"),
        ("職工盟", "职工盟"),
        ("ＨＫＣＴＵ", "hkctu"),  # full-width Latin
        ("Café", "cafe"),  # accents
        ("KWAI Chung", "kwai chung"),
    ],
)
def test_fold_meets_variants(a: str, b: str) -> None:
    assert fold(a) == fold(b)


@pytest.mark.parametrize(
    "text", ["碼頭工人罷工", "Ｌｅｅ ＣＨＥＵＫ-yan", "ﬁn 𠝹 ㈱ Ǆ", "😀 罷工 🙂"]
)
def test_fold_keeps_length(text: str) -> None:
    # Offsets in the folded text must be offsets in the original, for highlighting.
    assert len(fold(text)) == len(text)


def test_bigrams_positions_and_tail_unigram() -> None:
    toks = analyze("碼頭工人罷工")
    assert [(t.text, t.pos) for t in toks] == [
        ("码头", 0),
        ("头工", 1),
        ("工人", 2),
        ("人罢", 3),
        ("罢工", 4),
        ("工", 4),  # the run's last character, at the last bigram's position
    ]
    # Spans point into the original string.
    assert [("碼頭工人罷工"[t.start : t.end]) for t in toks][:2] == ["碼頭", "頭工"]


def test_mixed_text_tokens() -> None:
    toks = analyze("我哋喺 HKCTU 嘅辦公室開會，討論 strike fund。")
    texts = [t.text for t in toks if not t.han]
    assert texts == ["hkctu", "strike", "fund"]
    assert "办公" in [t.text for t in toks]
    positions = [t.pos for t in toks if len(t.text) != 1 or not t.han]
    assert positions == sorted(positions)


@pytest.mark.parametrize(
    ("words", "same"),
    [
        (["strike", "strikes", "striking", "Strike", "STRIKES"], True),
        (["organiser", "organisers"], True),
        (["union", "unions"], True),
        (["strike", "struck"], False),  # irregular: Porter stemming does not join these
    ],
)
def test_stemming(words: list[str], same: bool) -> None:
    stems = {analyze(w)[0].text for w in words}
    assert (len(stems) == 1) is same


def test_hyphenated_names_split() -> None:
    assert [t.text for t in analyze("Lee Cheuk-yan", stem=False)] == ["lee", "cheuk", "yan"]
    assert [t.pos for t in analyze("Lee Cheuk-yan")] == [t.pos for t in analyze("Lee Cheuk Yan")]


# -- the measurement: bigrams vs other ways of cutting Chinese text ----------------------------

# Queries in Traditional, Simplified and Hong Kong variant forms. A segment is an expected hit when
# it contains the query word (in any script): what a person searching for that word wants.
MEASURE_QUERIES = [
    "罷工", "碼頭", "码头工人", "工人罷工", "碼頭工人罷工", "職工盟", "职工盟", "紮鐵",
    "扎铁工人", "紮鐵工人罷工", "國安法", "国安法", "工會", "工会干事", "加薪", "外判工人",
    "裡面", "里面", "集體談判", "罢工基金", "李卓人", "解散", "中環", "貨櫃碼頭",
    "工人", "香港", "我哋", "罷工工人", "工資", "紮鐵師傅",
]  # fmt: skip


def _segment_texts() -> dict[str, str]:
    return {seg[6]: seg[2] for segs in SEGMENTS.values() for seg in segs}


def _expected(query: str, texts: dict[str, str]) -> set[str]:
    return {uid for uid, text in texts.items() if fold(query) in fold(text)}


def _phrase_hits(
    cut: Callable[[str], list[tuple[int, str]]], query: str, texts: dict[str, str]
) -> set[str]:
    """Positional phrase matching, exactly as a Whoosh phrase query over the terms ``cut`` makes."""
    q = cut(query)
    if not q:
        return set()
    base = q[0][0]
    wanted = [(p - base, t) for p, t in q]
    out = set()
    for uid, text in texts.items():
        doc = set(cut(text))
        if any(all((p + off, t) in doc for off, t in wanted) for p, _ in doc):
            out.add(uid)
    return out


def _cut_default(text: str) -> list[tuple[int, str]]:
    # Whoosh's RegexTokenizer (\w+): a run of Han characters is one token.
    return [(i, m.group()) for i, m in enumerate(re.finditer(r"\w+", fold(text)))]


def _cut_unigram(text: str) -> list[tuple[int, str]]:
    return [
        (i, ch) for i, ch in enumerate(c for c in fold(text) if not c.isspace() and c.isalnum())
    ]


def _cut_bigram(text: str, query: bool = False) -> list[tuple[int, str]]:
    return [(t.pos, t.text) for t in analyze(text, tail_unigrams=not query)]


def measure(name: str) -> tuple[int, int, int]:
    """(expected hits found, expected hits, false hits) for one way of cutting text."""
    texts = _segment_texts()
    if name == "jieba":
        import jieba

        def cut(text: str) -> list[tuple[int, str]]:
            return [(i, w) for i, w in enumerate(w for w in jieba.lcut(fold(text)) if w.strip())]
    else:
        cut = {"default": _cut_default, "unigram": _cut_unigram}.get(name, _cut_bigram)
    found = total = false = 0
    for query in MEASURE_QUERIES:
        expected = _expected(query, texts)
        if name == "bigram":
            hits = _phrase_hits(lambda t, q=query: _cut_bigram(t, query=(t == q)), query, texts)
        else:
            hits = _phrase_hits(cut, query, texts)
        total += len(expected)
        found += len(hits & expected)
        false += len(hits - expected)
    return found, total, false


def test_bigrams_find_every_expected_hit() -> None:
    found, total, false = measure("bigram")
    assert total >= 50  # the labelled set is not trivially small
    assert (found, false) == (total, 0)


@pytest.mark.parametrize("name", ["default", "unigram"])
def test_bigrams_beat_or_equal_the_alternatives(name: str) -> None:
    bigram = measure("bigram")
    other = measure(name)
    assert bigram[0] >= other[0]
    if name == "default":
        assert other[0] < bigram[0] / 2  # whole-run tokens miss most words inside sentences


def test_bigrams_beat_jieba() -> None:
    import jieba  # noqa: F401  (a test dependency: bigrams are measured against a word segmenter)

    assert measure("jieba")[0] < measure("bigram")[0]


# -- on a real index ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory, engine: str) -> Archive:
    return make_archive(tmp_path_factory.mktemp("home"), engine=engine)


@pytest.mark.parametrize(
    ("queries", "expected"),
    [
        (("码头工人罢工", "碼頭工人罷工"), {"dock-01"}),
        (("罢工基金", "罷工基金"), {"dock-03"}),
        (("职工盟", "職工盟"), {"dock-03"}),  # nsl-01 too, but that item is members-only
        (("里面", "裡面", "裏面"), {"dock-06"}),  # the text has the HK form 裏
        (("扎铁工人", "紮鐵工人"), {"bar-01", "bar-03"}),
        (("国安法", "國安法"), set()),  # members-only item: none for the public
    ],
)
def test_same_hits_in_every_script(
    archive: Archive, queries: tuple[str, ...], expected: set[str]
) -> None:
    for query in queries:
        uids = {u for u in archive.uids(query) if u in _segment_texts()}
        assert expected <= uids, query
        # Glossary expansions may add more hits, but every script must give the same ones.
        assert uids == {u for u in archive.uids(queries[0]) if u in _segment_texts()}, query


@pytest.mark.parametrize(
    ("query", "expected", "absent"),
    [
        ("工人罷工", {"dock-01"}, {"dock-02"}),  # starts inside the bigram 人罷 of 碼頭工人罷工
        ("頭工人", {"dock-01"}, {"dock-02", "dock-03"}),  # a phrase across two words
        ("「罷工工人」", {"dock-03", "ann-01"}, {"dock-01"}),
        ('"strike fund"', {"dock-03", "dock-05"}, {"dock-01"}),
        ('"工人 罷工"', set(), {"dock-01"}),  # space in a quoted phrase: non-adjacent runs
    ],
)
def test_phrases_across_bigram_boundaries(
    archive: Archive, query: str, expected: set[str], absent: set[str]
) -> None:
    uids = archive.uids(query)
    assert expected <= uids
    assert not (absent & uids)


def test_highlight_lands_on_original_traditional_text(archive: Archive) -> None:
    results = archive.search("码头工人罢工")
    hit = next(h for g in results.groups for h in g.hits if h.uid == "dock-01")
    assert hit.highlights["zh"] == "二零一三年嘅<mark>碼頭工人罷工</mark>維持咗四十日。"
    variant = archive.search("裡面")
    hit = next(h for g in variant.groups for h in g.hits if h.uid == "dock-06")
    assert "<mark>裏面</mark>" in hit.highlights["zh"]


def test_mixed_chinese_english_segment(archive: Archive) -> None:
    # dock-05's Chinese track has English words in it.
    assert "dock-05" in archive.uids("HKCTU 辦公室")
    assert "dock-05" in archive.uids('"HKCTU 嘅辦公室"')
    hit = next(
        h for g in archive.search("分配 strike").groups for h in g.hits if h.uid == "dock-05"
    )
    assert (
        "<mark>strike</mark>" in hit.highlights["zh"]
        and "<mark>分配</mark>" in hit.highlights["zh"]
    )


@pytest.mark.parametrize("query", ["strike", "strikes", "striking", "STRIKE"])
def test_stemmed_queries_find_all_forms(archive: Archive, query: str) -> None:
    assert {"dock-01", "dock-03", "bar-03", "dock-08"} <= archive.uids(query)


@pytest.mark.parametrize(
    "query", ["Lee Cheuk-yan", "Lee Cheuk Yan", "lee cheuk-yan", '"Lee Cheuk Yan"']
)
def test_hyphenated_names(archive: Archive, query: str) -> None:
    assert "dock-04" in archive.uids(query)


def test_accent_folding_in_queries(archive: Archive) -> None:
    assert "dock-02" in archive.uids("Kwai Chüng")
