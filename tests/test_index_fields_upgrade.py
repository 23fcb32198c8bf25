"""An index written before a field was added keeps working and is rebuilt by repair.

Issue 20 added the ``speaker_key`` field (``speaker:`` by the whole name, however it is typed). An
archive upgraded in place still holds the generation its older version wrote: searching it must
not fail (tantivy refuses a query on a field its schema lacks), ``archive index verify`` must say
so, and ``repair`` (the worker's nightly task) must rebuild it with the new fields. Real catalog,
real Whoosh and tantivy indexes.
"""

from __future__ import annotations

import pytest
import tantivy
from search_corpus import make_archive

from indexer.index import FIELDS_FILE, FIELDS_PROBLEM, FIELDS_VERSION, fields_version
from indexer.query_tree import Or, Term
from indexer.tantivy_fields import compile_query


@pytest.mark.parametrize("engine", ["whoosh", "tantivy"])
def test_a_generation_without_its_fields_version_is_reported_and_rebuilt(tmp_path, engine):
    archive = make_archive(tmp_path / "home", engine=engine)
    index = archive.index
    generation = index.root / index.current_generation()
    assert fields_version(generation) == FIELDS_VERSION
    assert index.verify(archive.catalog) == []
    (generation / FIELDS_FILE).unlink()  # as an older version wrote it
    assert [p.problem for p in index.verify(archive.catalog)] == [FIELDS_PROBLEM]
    before = archive.uids("罷工")
    assert before  # still searched meanwhile
    repaired = index.repair(archive.catalog)
    assert [p.problem for p in repaired] == [FIELDS_PROBLEM]
    rebuilt = index.root / index.current_generation()
    assert rebuilt != generation and fields_version(rebuilt) == FIELDS_VERSION
    assert index.verify(archive.catalog) == [] and archive.uids("罷工") == before


def test_a_tantivy_query_on_a_field_the_index_lacks_matches_nothing_instead_of_failing(tmp_path):
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("text_en", stored=True)
    schema = builder.build()
    index = tantivy.Index(schema, path=str(tmp_path))
    writer = index.writer(15_000_000, 1)
    writer.add_document(tantivy.Document(text_en="the strike fund"))
    writer.commit()
    index.reload()
    searcher = index.searcher()
    lacking = compile_query(Term("speaker_key", "leecheukyan"), schema)
    assert searcher.search(lacking, 10).count == 0
    either = compile_query(Or((Term("text_en", "strike"), Term("speaker_key", "x"))), schema)
    assert searcher.search(either, 10).count == 1
