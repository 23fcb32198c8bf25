"""Bilingual (Traditional Chinese / English) search over the archive's items and transcripts.

>>> from indexer import SearchIndex, SearchFilters
>>> index = SearchIndex.open(settings)
>>> index.update_item(catalog, item_id)           # after ingest, an edit or a visibility change
>>> results = index.search("碼頭工人罷工", role="members", filters=SearchFilters(year=2013))
>>> results.groups[0].hits[0].highlights["zh"]    # '…<mark>碼頭工人罷工</mark>…'

See :mod:`indexer.index` (storage, safety, the choice of engine), :mod:`indexer.engine` (what
an engine does: :mod:`indexer.whoosh_engine`, the default, or tantivy), :mod:`indexer.results`
(what a search returns),
:mod:`indexer.analysis` (Chinese/English analysis), :mod:`indexer.query` (the query language)
and :mod:`indexer.glossary` (cross-language expansion).
"""

from .index import SearchIndex, search
from .results import Hit, ItemGroup, SearchFilters, SearchResults, VerifyProblem

__all__ = [
    "Hit",
    "ItemGroup",
    "SearchFilters",
    "SearchIndex",
    "SearchResults",
    "VerifyProblem",
    "search",
]
