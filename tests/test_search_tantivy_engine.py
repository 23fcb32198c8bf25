"""The tantivy engine (indexer/tantivy_engine.py) on the real documents of the search corpus.

The documents are the search corpus's catalog items through ``indexer.sync.documents_for`` (as
the index writes them); a Whoosh index of the same documents, written with
``indexer.schema.make_schema``, is the reference: for every query of ``COMPARED`` (parsed by
``indexer.query.parse_query``, compiled for Whoosh by ``indexer.whoosh_engine.compile_query``)
both engines must match the same documents for each role.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from search_corpus import GLOSSARY_TSV, Built, build_catalog
from whoosh import index as windex
from whoosh import query as wq

from archive.catalog.db import Catalog
from archive.core.config import load_settings
from archive.core.errors import IndexError_
from indexer import tantivy_engine, tantivy_fields
from indexer.analysis import analyze
from indexer.engine import load_engine
from indexer.glossary import Glossary, parse_glossary
from indexer.query import parse_query
from indexer.query_tree import Excluding, Node, Or, Phrase, Prefix, Term
from indexer.schema import DEFAULT_FIELDS, ITEM_FIELDS, SEGMENT_FIELDS, make_schema
from indexer.sync import documents_for
from indexer.tantivy_engine import TantivyEngine, TantivySnapshot
from indexer.tantivy_fields import STORED_FIELDS
from indexer.whoosh_engine import compile_query

Key = tuple[str, str, str]  # (kind, item key, uid): a document named the same in both engines


class Corpus:
    """The search corpus in a catalog, and both engines' indexes of its documents."""

    def __init__(self, root: Path) -> None:
        settings = load_settings(root / "home").ensure()
        self.catalog = Catalog.open(settings)
        self.built: Built = build_catalog(self.catalog)
        self.keys = {v: k for k, v in self.built.ids.items()}
        self.docs = [
            d for i in self.catalog.item_ids() for d in documents_for(self.catalog, i) or ()
        ]
        entries, _ = parse_glossary(GLOSSARY_TSV)
        self.glossary = Glossary.from_entries(entries, [])
        self.engine = TantivyEngine()
        self.path = root / "tantivy"
        self.engine.create(self.path)
        writer = self.engine.writer(self.path, bulk=True)
        for doc in self.docs:
            writer.add(doc)
        writer.commit()
        whoosh_dir = root / "whoosh"
        whoosh_dir.mkdir()
        self.whoosh = windex.create_in(str(whoosh_dir), make_schema())
        wwriter = self.whoosh.writer()
        for doc in self.docs:
            wwriter.add_document(**doc)
        wwriter.commit()

    def snapshot(self) -> TantivySnapshot:
        return self.engine.snapshot(self.path, "gen-test")

    def key(self, fields: dict[str, Any]) -> Key:
        return (fields["kind"], self.keys[fields["item_id"]], fields.get("uid", ""))

    def tantivy_keys(
        self, tree: Node, role: str | None, snap: TantivySnapshot | None = None
    ) -> list[Key]:
        snap = snap or self.snapshot()
        hits, more = snap.search(tree, role=role, limit=1000)
        assert not more
        return [self.key(snap.stored(doc)) for _score, doc in hits]

    def whoosh_keys(self, q: Node | wq.Query, role: str | None) -> list[Key]:
        if not isinstance(q, wq.Query):
            q = compile_query(q)
        with self.whoosh.searcher() as searcher:
            flt = wq.Term("visible_to", role) if role else None
            results = searcher.search(q, limit=None, filter=flt)
            return [self.key(dict(searcher.stored_fields(n))) for n in results.docs()]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return Corpus(tmp_path_factory.mktemp("tantivy-engine"))


def parsed(corpus: Corpus, text: str, fields: dict[str, float] = DEFAULT_FIELDS) -> Node:
    query = parse_query(text, corpus.glossary, fields=fields).query
    assert query is not None, text
    return query


def keys(text: str) -> tuple[str, ...]:
    """The analysed tokens of ``text`` as a query has them."""
    return tuple(t.text for t in analyze(text, tail_unigrams=False))


def uids(keys: list[Key]) -> set[str]:
    return {uid for kind, _item, uid in keys if kind == "seg"}


# Queries whose matches both engines must agree on, for every role.
COMPARED = [
    "dock strike",
    "碼頭 加薪",
    "workers pay",
    '"container terminal"',
    '"terminal container"',
    "「貨櫃碼頭」",
    "「货柜码头」",
    "碼頭工人",
    "码头工人",
    "中環 OR 葵涌",
    "(heat OR forty) days",
    "罷工 -碼頭",
    'strike -"strike fund"',
    "strike -(fund OR dock)",
    "outsourc*",
    "rall*",
    "罷*",
    "人",
    "罷",
    "strike collection:interview",
    '罷工 speaker:"Chan Wai-ming"',
    "罷工 speaker:chan",
    "strike year:2017-2019",
    "strike (year:2013 OR year:2023)",
    "罷工 lang:en",
    "collection:interview",
    "tag:NSL",
    "quokka",
    "zephyrine",
    "職工盟",
    "HKCTU",
    "Lee Cheuk-yan",
    "李卓人講話",
    "bar-benders",
    "strikes striking",
    "seamen",
    "一九二二年",
    "國安法",
]


@pytest.mark.parametrize("text", COMPARED)
def test_same_documents_as_whoosh(corpus: Corpus, text: str) -> None:
    snap = corpus.snapshot()
    for fields in (DEFAULT_FIELDS, SEGMENT_FIELDS, ITEM_FIELDS):
        query = parsed(corpus, text, fields)
        tree = query
        for role in (None, "members", "public"):
            expected = corpus.whoosh_keys(query, role)
            got = corpus.tantivy_keys(tree, role, snap)
            assert sorted(got) == sorted(expected), (text, fields, role)
    # Every query of the list finds something for staff (a comparison of two empty sets would
    # prove nothing), except the phrase in the wrong order.
    if text != '"terminal container"':
        assert corpus.tantivy_keys((parsed(corpus, text)), None, snap)


def test_chinese_traditional_and_simplified_fold_together(corpus: Corpus) -> None:
    snap = corpus.snapshot()
    traditional = corpus.tantivy_keys((parsed(corpus, "「碼頭工人」")), None, snap)
    simplified = corpus.tantivy_keys((parsed(corpus, "「码头工人」")), None, snap)
    assert traditional == simplified
    assert {"dock-01", "sec-02"} <= uids(traditional)
    # A phrase of bigrams: the four characters in a row, not scattered over the segment.
    assert "dock-02" not in uids(traditional)  # 碼頭 … 工人 apart
    bigram = Phrase("body", ("码头", "头工", "工人"))
    assert {"dock-01", "sec-02"} <= uids(corpus.tantivy_keys(bigram, None, snap))


def test_tail_unigram_at_the_position_of_the_last_bigram(corpus: Corpus) -> None:
    snap = corpus.snapshot()
    # dock-07 ends a run with 人 (我哋係人。): only the tail unigram holds it as a term.
    term = uids(corpus.tantivy_keys(Term("body", "人"), None, snap))
    assert "dock-07" in term
    assert "dock-02" not in term  # 工人要求: 人 only inside bigrams
    # The single-character query (a prefix over bigrams plus the unigram) finds both.
    assert {"dock-07", "dock-02"} <= uids(corpus.tantivy_keys((parsed(corpus, "人")), None, snap))
    # The unigram shares the position of 係人, so a phrase through it is not broken ...
    assert "dock-07" in uids(corpus.tantivy_keys(Phrase("body", keys("我哋係人")), None, snap))
    # ... and a phrase from it continues at the next position: 我哋喺 HKCTU (dock-05).
    after = corpus.tantivy_keys(Phrase("body", keys("喺 HKCTU")), None, snap)
    assert uids(after) == {"dock-05"}
    assert after == corpus.whoosh_keys(wq.Phrase("body", list(keys("喺 HKCTU"))), None)


def test_phrase_never_spans_the_two_tracks(corpus: Corpus) -> None:
    snap = corpus.snapshot()
    # dock-01: "…維持咗四十日。" then the English track "The 2013 dock strike …".
    assert "dock-01" in uids(corpus.tantivy_keys(Phrase("body", ("四十", "十日")), None, snap))
    for words in (("十日", "the"), ("日", "the"), ("十日", "the", "2013")):
        tree = Phrase("body", words)
        assert corpus.tantivy_keys(tree, None, snap) == [], words
        assert corpus.whoosh_keys(wq.Phrase("body", list(words)), None) == []
    assert "dock-01" in uids(corpus.tantivy_keys(Phrase("body", ("the", "2013")), None, snap))


def test_roles_never_see_documents_above_them(corpus: Corpus) -> None:
    snap = corpus.snapshot()
    redacted = Term("body", "quokka")  # ann-02: redacted in a public item, staff only
    assert uids(corpus.tantivy_keys(redacted, None, snap)) == {"ann-02"}
    for role in ("public", "members"):
        assert snap.search(redacted, role=role, limit=10) == ([], False)
        assert not snap.any_match(redacted, role=role)
    assert snap.any_match(redacted, role=None)
    # Counted neither: with one public match and the staff-only one, a limit of 1 is enough.
    both = Or((redacted, Term("body", "tonight")))
    hits, more = snap.search(both, role="public", limit=1)
    assert [snap.stored(d)["uid"] for _s, d in hits] == ["ann-01"] and not more
    assert snap.search(both, role=None, limit=1)[1]
    # Members see the members-only item, the public does not.
    nsl = parsed(corpus, "國安法")
    assert "nsl" in {k[1] for k in corpus.tantivy_keys(nsl, "members", snap)}
    assert "nsl" not in {k[1] for k in corpus.tantivy_keys(nsl, "public", snap)}
    # The role filter adds nothing to the scores.
    strike = parsed(corpus, "strike")
    staff = dict((d, s) for s, d in snap.search(strike, role=None, limit=100)[0])
    for score, doc in snap.search(strike, role="public", limit=100)[0]:
        assert score == pytest.approx(staff[doc])


def test_exclusion_and_prefix(corpus: Corpus) -> None:
    snap = corpus.snapshot()
    excluded = Excluding(Term("body", "strike"), Term("body", "dock"))
    got = uids(corpus.tantivy_keys(excluded, None, snap))
    assert "bar-03" in got and not got & {"dock-01", "sec-02"}
    # An exclusion scores only its positive part.
    positive = dict((d, s) for s, d in snap.search(Term("body", "strike"), role=None, limit=50)[0])
    for score, doc in snap.search(excluded, role=None, limit=50)[0]:
        assert score == pytest.approx(positive[doc])
    assert uids(corpus.tantivy_keys(Prefix("body", "organis"), None, snap)) == {"nsl-02"}
    # Regex syntax in a prefix is text, never a pattern.
    for text in ("a.b", ".*", "(", "[", "\\"):
        assert corpus.tantivy_keys(Prefix("body", text), None, snap) == []


def test_prefix_scores_as_whoosh_prefix(corpus: Corpus, monkeypatch: pytest.MonkeyPatch) -> None:
    snap = corpus.snapshot()
    # One term found ("oral"): that term's BM25, and (as Whoosh) without the prefix's boost.
    prefix = snap.search(Prefix("title", "ora", 4.0), role=None, limit=5)[0]
    assert prefix == snap.search(Term("title", "oral"), role=None, limit=5)[0] and prefix
    # Several terms (strike, striker …): one per term the document holds, times the boost.
    several = snap.search(Prefix("body", "strik", 2.0), role=None, limit=50)[0]
    assert several and {score for score, _ in several} <= {2.0, 4.0, 6.0}
    assert corpus.tantivy_keys(Prefix("body", "zzzq"), None, snap) == []
    # Past MAX_EXPANSIONS terms: a regex query, scoring the boost.
    monkeypatch.setattr(tantivy_fields, "MAX_EXPANSIONS", 0)
    fresh = corpus.snapshot()
    regex = fresh.search(Prefix("body", "strik", 2.0), role=None, limit=50)[0]
    assert {d for _s, d in regex} == {d for _s, d in several}
    assert {score for score, _ in regex} == {2.0}


def test_year_or_filter(corpus: Corpus) -> None:
    tree = parsed(corpus, "strike (year:2017 OR year:2023)")
    assert {k[1] for k in corpus.tantivy_keys(tree, None)} == {"bar", "dock"}


def test_ranking_like_whoosh(corpus: Corpus) -> None:
    snap = corpus.snapshot()
    # A title match ranks above transcript matches.
    hits, _ = snap.search((parsed(corpus, "oral history")), role="public", limit=10)
    assert corpus.key(snap.stored(hits[0][1]))[:2] == ("item", "bar")
    # Words typed together rank higher where they form a phrase (AndMaybe of the phrase).
    hits, _ = snap.search((parsed(corpus, "strike fund")), role=None, limit=10)
    assert {snap.stored(d)["uid"] for _s, d in hits[:2]} == {"dock-03", "dock-05"}
    # Best first, equal scores by document.
    hits, _ = snap.search((parsed(corpus, "罷*")), role=None, limit=100)
    assert hits == sorted(hits, key=lambda pair: (-pair[0], pair[1]))
    # The best document of each query is Whoosh's best (or tied with it).
    for text in ("dock strike", "oral history", "seamen", "罷工", "strike fund", "碼頭工人"):
        query = parsed(corpus, text)
        with corpus.whoosh.searcher() as searcher:
            top = searcher.search(compile_query(query), limit=1)
            expected = corpus.key(dict(searcher.stored_fields(top[0].docnum)))
        hits, _ = snap.search((query), role=None, limit=20)
        best = hits[0][0]
        tied = {corpus.key(snap.stored(d)) for s, d in hits if s == pytest.approx(best)}
        assert expected in tied, text


def test_reads_agree_with_whoosh(corpus: Corpus) -> None:
    snap = corpus.snapshot()
    assert set(STORED_FIELDS) == set(make_schema().stored_names())
    assert snap.doc_count() == len(corpus.docs)
    hits, _ = snap.search(Or((Term("kind", "item"), Term("kind", "seg"))), role=None, limit=1000)
    by_key = {corpus.key(snap.stored(d)): d for _s, d in hits}
    assert len(by_key) == len(corpus.docs)
    with corpus.whoosh.searcher() as searcher:
        for n in searcher.document_numbers():
            fields = dict(searcher.stored_fields(n))
            doc = by_key[corpus.key(fields)]
            assert snap.stored(doc) == fields
            for name in ("kind", "item_id", "lang", "visibility"):
                assert snap.value(name, doc) == (fields.get(name) or "")
    speakers = {snap.value("speaker_facet", d) for d in by_key.values()}
    assert {"Lee Cheuk-yan", "Chan Wai-ming", ""} <= speakers
    counts = Counter(d["item_id"] for d in corpus.docs if d["kind"] == "seg")
    assert snap.segment_counts() == counts
    items = snap.items()
    assert set(items) == set(corpus.built.ids.values())
    dock = items[corpus.built.ids["dock"]]
    assert (dock.title_zh, dock.year, dock.collection) == ("碼頭工人罷工十周年", 2023, "webinar")
    assert dock.speakers == ("Lee Cheuk-yan", "Stanley Ho")
    assert dock.state is not None and dock.state.segments == 8
    seamen = items[corpus.built.ids["seamen"]]
    assert seamen.state is not None and seamen.state.revision == 0
    # matching: which of some documents a query matches, no role involved.
    docs = [d for _s, d in hits]
    matched = snap.matching(Term("body", "quokka"), docs)
    assert {snap.stored(d)["uid"] for d in matched} == {"ann-02"}
    assert snap.matching(Term("body", "strike"), []) == set()


def _doc(item_id: str, kind: str, visibility: str, **more: Any) -> dict[str, Any]:
    roles = {"public": "public members staff", "members": "members staff", "staff": "staff"}
    doc = {
        "kind": kind,
        "item_id": item_id,
        "visibility": visibility,
        "visible_to": roles[visibility],
    }
    doc.update(more)
    if kind == "item":
        doc.setdefault("state", json.dumps([1, visibility, "", "", 1]))
        doc.setdefault("meta", "{}")
    return doc


def test_updates_and_deletions_are_visible_after_commit(tmp_path: Path) -> None:
    engine = load_engine("tantivy")
    assert isinstance(engine, TantivyEngine)
    path = tmp_path / "gen"
    engine.create(path)
    first = engine.snapshot(path, "gen")
    assert first.doc_count() == 0 and first.items() == {} and first.is_current()
    assert first.segment_counts() == Counter() and first.search(
        Term("kind", "seg"), role=None, limit=5
    ) == ([], False)
    writer = engine.writer(path)
    writer.add(_doc("x1", "item", "public", title="Picket line\u2029糾察線"))
    writer.add(_doc("x1", "seg", "public", uid="s1", body="罷工糾察線\u2029the picket line held"))
    # Nothing is visible before the commit.
    assert engine.snapshot(path, "gen").doc_count() == 0
    writer.commit()
    assert not first.is_current()
    second = engine.snapshot(path, "gen")
    assert second.version != first.version and second.is_current()
    picket = Or((Term("body", "picket"), Term("title", "picket", 4.0)))
    assert len(second.search(picket, role="public", limit=10)[0]) == 2
    assert (
        second.search(Phrase("body", ("糾察", "察线")), role=None, limit=10)[0] == []
    )  # not folded
    assert len(second.search(Phrase("body", ("纠察", "察线")), role=None, limit=10)[0]) == 1
    # Replace the item: hidden from the public now.
    writer = engine.writer(path)
    writer.delete_item("x1")
    writer.add(_doc("x1", "item", "staff", title="Picket line"))
    writer.add(_doc("x1", "seg", "staff", uid="s1", body="the picket line held"))
    writer.commit()
    third = engine.snapshot(path, "gen")
    assert third.version not in (first.version, second.version)
    assert third.search(picket, role="public", limit=10) == ([], False)
    assert len(third.search(picket, role=None, limit=10)[0]) == 2
    assert third.items()["x1"].state is not None and third.segment_counts() == Counter({"x1": 1})
    # A cancelled batch changes nothing.
    writer = engine.writer(path)
    writer.delete_item("x1")
    writer.cancel()
    assert third.is_current()
    assert engine.snapshot(path, "gen").doc_count() == 2
    # Deleting the item removes all its documents.
    writer = engine.writer(path)
    writer.delete_item("x1")
    writer.commit()
    last = engine.snapshot(path, "gen")
    assert last.doc_count() == 0 and last.items() == {} and last.segment_counts() == Counter()
    assert not last.any_match(picket, role=None)


def test_a_second_writer_gets_a_plain_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = TantivyEngine()
    path = tmp_path / "gen"
    engine.create(path)
    holder = engine.writer(path)
    monkeypatch.setattr(tantivy_engine, "WRITER_WAIT", 0.2)
    with pytest.raises(IndexError_, match="being written by another process"):
        TantivyEngine().writer(path)
    holder.cancel()
    TantivyEngine().writer(path).cancel()  # free again once the first is done
