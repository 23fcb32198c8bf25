"""Choosing the search engine, and the Whoosh engine behind the engine seam.

An archive's engine is chosen once (``ARCHIVE_SEARCH_ENGINE`` for a new index), recorded in the
index folder, shown by ``archive index verify`` and changed only by ``archive index rebuild
--engine``. The Whoosh engine compiles the engine-neutral query tree into exactly the Whoosh
queries the query language built before the seam existed.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from conftest import run_cli
from search_corpus import Archive, make_archive
from whoosh import query as wq

from archive.core.config import SEARCH_ENGINES, load_settings
from archive.core.errors import ConfigError
from indexer import SearchIndex
from indexer import query_tree as qt
from indexer.engine import ENGINE_NAMES, load_engine
from indexer.query import parse_query
from indexer.schema import SEGMENT_FIELDS
from indexer.whoosh_engine import Excluding, compile_query

TANTIVY_MERGED = importlib.util.find_spec("indexer.tantivy_engine") is not None


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    return make_archive(tmp_path / "home", keys=["dock", "bar"])


def _engine_file(index: SearchIndex) -> str:
    return (index.root / (index.current_generation() or "") / "ENGINE").read_text().strip()


# -- the setting ---------------------------------------------------------------------------------
def test_the_setting_names_the_same_engines_as_the_indexer() -> None:
    assert SEARCH_ENGINES == ENGINE_NAMES


def test_the_setting_defaults_to_whoosh_and_reads_any_case(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ARCHIVE_SEARCH_ENGINE", raising=False)
    assert load_settings(tmp_path).search_engine == "whoosh"
    monkeypatch.setenv("ARCHIVE_SEARCH_ENGINE", " Tantivy ")
    assert load_settings(tmp_path).search_engine == "tantivy"


def test_an_unknown_engine_setting_is_a_plain_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARCHIVE_SEARCH_ENGINE", "lucene")
    with pytest.raises(ConfigError, match="ARCHIVE_SEARCH_ENGINE must be one of whoosh, tantivy"):
        load_settings(tmp_path)
    proc = run_cli(tmp_path / "home", "index", "verify", env={"ARCHIVE_SEARCH_ENGINE": "lucene"})
    assert proc.returncode != 0
    assert proc.stderr.startswith("error:") and "lucene" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_an_unknown_engine_name_is_refused() -> None:
    with pytest.raises(ConfigError, match="unknown search engine 'lucene'"):
        load_engine("lucene")


# -- the recorded choice ---------------------------------------------------------------------------
def test_a_new_index_records_its_engine(archive: Archive) -> None:
    assert archive.index.engine_name() == "whoosh"
    assert _engine_file(archive.index) == "whoosh"


def test_the_recorded_engine_wins_over_the_setting(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = archive.uids("dock strike")
    monkeypatch.setenv("ARCHIVE_SEARCH_ENGINE", "tantivy")
    index = SearchIndex.open(load_settings(archive.settings.home))
    assert index.default_engine == "tantivy"
    assert index.engine_name() == "whoosh"
    assert index.rebuild(archive.catalog) > 0  # no engine given: the recorded one
    assert _engine_file(index) == "whoosh"
    assert archive.uids("dock strike") == before != set()


def test_a_generation_from_before_engines_is_whoosh(archive: Archive) -> None:
    before = archive.uids("碼頭工人罷工")
    (archive.index.root / (archive.index.current_generation() or "") / "ENGINE").unlink()
    fresh = SearchIndex(archive.index.root, archive.settings.home, default_engine="tantivy")
    assert fresh.engine_name() == "whoosh"
    found = fresh.search("碼頭工人罷工", per_page=100, hits_per_item=100)
    assert {h.uid for g in found.groups for h in g.hits} == before != set()


def test_verify_names_the_engine(archive: Archive) -> None:
    plain = run_cli(archive.settings.home, "index", "verify")
    assert plain.returncode == 0
    assert "The search index (whoosh engine) agrees with the catalog (2 items)" in plain.stdout
    as_json = run_cli(archive.settings.home, "index", "verify", "--json")
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    assert data["engine"] == "whoosh" and data["agrees"] is True and data["items"] == 2
    assert data["generation"] == archive.index.current_generation()
    archive.catalog.update_item(archive.built.ids["bar"], visibility="staff")
    drifted = run_cli(archive.settings.home, "index", "verify", "--json")
    assert drifted.returncode == 1
    problems = json.loads(drifted.stdout)["problems"]
    assert [p["item_id"] for p in problems] == [archive.built.ids["bar"]]


def test_rebuild_with_an_engine(archive: Archive) -> None:
    """Until the tantivy engine is merged, asking for it is one plain error and changes nothing;
    once it is, the rebuild switches the archive to it with the same results."""
    before = archive.uids("dock strike")
    generation = archive.index.current_generation()
    proc = run_cli(archive.settings.home, "index", "rebuild", "--engine", "tantivy")
    if not TANTIVY_MERGED:
        assert proc.returncode != 0
        assert proc.stderr.strip() == (
            "error: the tantivy search engine is not available in this installation"
        )
        assert archive.index.current_generation() == generation
        assert archive.index.engine_name() == "whoosh"
    else:
        assert proc.returncode == 0, proc.stderr
        assert "(tantivy engine, switched from whoosh to tantivy)" in proc.stdout
        assert archive.index.engine_name() == "tantivy"
    assert archive.uids("dock strike") == before != set()
    back = run_cli(archive.settings.home, "index", "rebuild", "--engine", "whoosh")
    assert back.returncode == 0, back.stderr
    assert "items" in back.stderr  # the progress lines
    assert "(whoosh engine" in back.stdout
    assert archive.index.engine_name() == "whoosh"
    assert archive.uids("dock strike") == before


def test_rebuild_refuses_an_engine_it_does_not_know(archive: Archive) -> None:
    proc = run_cli(archive.settings.home, "index", "rebuild", "--engine", "lucene")
    assert proc.returncode == 2 and "lucene" in proc.stderr


# -- the Whoosh engine's queries ---------------------------------------------------------------------
def test_words_become_the_whoosh_queries_built_before_the_seam() -> None:
    parsed = parse_query("dock strike", None, [], fields=SEGMENT_FIELDS)
    words = wq.And([wq.Or([wq.Term("body", "dock")]), wq.Or([wq.Term("body", "strike")])])
    phrase = wq.Or([wq.Phrase("body", ["dock", "strike"], boost=2.0)])
    assert compile_query(parsed.query) == wq.AndMaybe(words, phrase)


def test_exclusions_and_years_compile_to_excluding_and_an_or_of_terms() -> None:
    parsed = parse_query("dock -strike year:2013-2014", None, [], fields=SEGMENT_FIELDS)
    compiled = compile_query(parsed.query)
    expected = wq.And(
        [
            Excluding(wq.Or([wq.Term("body", "dock")]), wq.Or([wq.Term("body", "strike")])),
            wq.Or([wq.Term("year", "2013"), wq.Term("year", "2014")]),
        ]
    )
    assert compiled == expected
    assert type(compiled.subqueries[0]) is Excluding  # the fixed matcher, not Whoosh's AndNot


def test_a_bare_not_never_reaches_the_engine() -> None:
    with pytest.raises(TypeError):
        compile_query(qt.Not(qt.Term("body", "dock")))
