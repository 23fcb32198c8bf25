"""The tantivy side of the index fields: its schema, how a document becomes a tantivy document,
and how an :mod:`indexer.query_tree` node becomes a tantivy query.

Promises:

* **The project's analysis, once.** Text fields are fed to tantivy as pre-tokenised text
  (``PreTokenizedString``): the tokens, positions and offsets of :func:`indexer.analysis.analyze`
  exactly as the Whoosh engine indexes them. The fields are declared with tantivy's
  ``whitespace`` tokenizer (what the tokens would be split by), and tantivy never folds, stems or
  lower-cases anything.
* **The same positions as Whoosh.** Pre-tokenised text carries each token's position, so the
  tail unigram of a Han run sits at the position of the run's last bigram (a one-character query
  finds it, a phrase is never broken by it), and the :data:`~indexer.analysis.POSITION_GAP`
  between the two tracks of a field is a real gap of positions: no phrase spans it. A term, prefix
  or phrase therefore needs no special case here; both engines match the same documents.
* **Keyword fields** (``kind``, ``item_id``, ``lang``, ``collection``, ``year``, ``visibility``,
  ``speaker_facet``) are indexed whole (``raw``), as Whoosh's ``ID`` fields are; ``visible_to``
  holds one term per role, ``speaker_key`` one per speaker. Each of the fields :meth:`~indexer.engine.EngineSnapshot.value` reads
  also has a numeric fast field holding a 63-bit hash of the value (tantivy-py reads only
  numeric fast fields); the snapshot maps hashes back through the field's term dictionary.
* **Stored fields** are kept as one stored-only JSON value (``_stored``), so :meth:`stored` gives back the
  values with the types they were given (floats stay floats).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import tantivy

from .analysis import analyze
from .query_tree import And, AndMaybe, Excluding, Node, Not, Or, Phrase, Prefix, Term

__all__ = [
    "KEYWORD_FIELDS",
    "MAX_EXPANSIONS",
    "STORED_FIELDS",
    "TEXT_FIELDS",
    "VALUE_FIELDS",
    "Expander",
    "code_of",
    "compile_query",
    "make_tantivy_schema",
    "role_filter",
    "to_tantivy_document",
]

# Text field -> whether its words are stemmed (as make_schema's analyzers: names are not).
TEXT_FIELDS: dict[str, bool] = {
    "body": True,
    "title": True,
    "description": True,
    "people": True,
    "tags": True,
    "speaker": False,
}
KEYWORD_FIELDS = (
    "kind",
    "item_id",
    "lang",
    "collection",
    "year",
    "visibility",
    "speaker_facet",
)
VALUE_FIELDS = ("kind", "item_id", "lang", "speaker_facet", "visibility")
# The stored fields of indexer.schema.make_schema (a test checks they stay the same).
STORED_FIELDS = (
    "kind",
    "item_id",
    "uid",
    "start",
    "end",
    "text_zh",
    "text_en",
    "title_zh",
    "title_en",
    "speaker",
    "lang",
    "collection",
    "year",
    "visibility",
    "state",
    "meta",
)
STORED_JSON = "_stored"
_CODE_SUFFIX = "__code"


def code_field(name: str) -> str:
    return name + _CODE_SUFFIX


def code_of(value: str) -> int:
    """The fast-field code of a keyword value: 0 for none, else a 63-bit hash (never 0)."""
    if not value:
        return 0
    digest = hashlib.blake2b(value.encode("utf-8"), digest_size=8).digest()
    return (int.from_bytes(digest, "big") >> 1) or 1


def make_tantivy_schema() -> Any:
    sb = tantivy.SchemaBuilder()
    for name in TEXT_FIELDS:
        sb.add_text_field(name, stored=False, tokenizer_name="whitespace", index_option="position")
    for name in KEYWORD_FIELDS:
        # "freq": keyword matches are scored (as Whoosh scores ID terms), positions not needed.
        sb.add_text_field(
            name, stored=False, tokenizer_name="raw", index_option="freq", fast=name == "item_id"
        )
    sb.add_text_field("visible_to", stored=False, tokenizer_name="whitespace", index_option="basic")
    # One term per speaker's speaker_key, scored as a keyword match (as Whoosh's KEYWORD).
    sb.add_text_field("speaker_key", stored=False, tokenizer_name="whitespace", index_option="freq")
    for name in VALUE_FIELDS:
        sb.add_unsigned_field(code_field(name), stored=False, indexed=False, fast=True)
    # Stored only, never indexed: a bytes field (a text field would put each JSON in the terms).
    sb.add_bytes_field(STORED_JSON, stored=True, indexed=False)
    return sb.build()


def to_tantivy_document(doc: dict[str, Any]) -> Any:
    """One :func:`indexer.schema.item_documents` dict as a tantivy document."""
    out = tantivy.Document()
    for name, stem in TEXT_FIELDS.items():
        text = doc.get(name)
        if not text:
            continue
        toks = analyze(text, stem=stem)
        if toks:
            tokens = [tantivy.Token(t.text, t.pos, t.start, t.end) for t in toks]
            out.add_pre_tokenized_text(name, tantivy.PreTokenizedString(text, tokens))
    for name in KEYWORD_FIELDS:
        value = doc.get(name)
        if value:
            out.add_text(name, str(value))
    if doc.get("visible_to"):
        out.add_text("visible_to", doc["visible_to"])
    if doc.get("speaker_key"):
        out.add_text("speaker_key", doc["speaker_key"])
    for name in VALUE_FIELDS:
        out.add_unsigned(code_field(name), code_of(str(doc.get(name) or "")))
    stored = {k: doc[k] for k in STORED_FIELDS if k in doc}
    out.add_bytes(STORED_JSON, json.dumps(stored, ensure_ascii=False).encode("utf-8"))
    return out


# -- queries -----------------------------------------------------------------------------------
def _boosted(query: Any, boost: float) -> Any:
    return query if boost == 1.0 else tantivy.Query.boost_query(query, boost)


def _escape_regex(text: str) -> str:
    # Tokens are folded letters, digits and Han characters; anything else is escaped anyway so
    # that no prefix can be read as regex syntax.
    return "".join(ch if ch.isalnum() else "\\" + ch for ch in text)


# (field, prefix, limit) -> the indexed terms starting with the prefix (the first ``limit`` in
# code-point order; 0: all)
Expander = Callable[[str, str, int], list[str]]
MAX_EXPANSIONS = 1024


def compile_query(node: Node, schema: Any, expand: Expander | None = None) -> Any:
    """The tantivy query of a tree node (see :mod:`indexer.query_tree` for what each means).

    Scores as Whoosh's: terms and phrases are BM25 per field, ``Or``/``And`` add their parts'
    scores, an exclusion scores nothing, ``boost`` multiplies. A prefix scores as Whoosh's
    ``Prefix`` does when ``expand`` gives its terms: one term found, that term's BM25 (Whoosh
    then drops the boost: kept so, the two engines rank alike); several, one per matching term
    times the boost (Whoosh counts each term's frequency; tantivy's constant scores cannot).
    Without ``expand``, or past :data:`MAX_EXPANSIONS` terms, a regex query scoring the boost.
    """
    q = tantivy.Query
    occur = tantivy.Occur

    def sub(child: Node) -> Any:
        return compile_query(child, schema, expand)

    if isinstance(node, Term):
        try:
            return _boosted(q.term_query(schema, node.field, node.text), node.boost)
        except ValueError:
            # A field added after this index was written (speaker_key): nothing in it can match,
            # as in Whoosh; `archive index repair` rebuilds the index with it.
            return q.empty_query()
    if isinstance(node, Phrase):
        if len(node.words) == 1:
            return _boosted(q.term_query(schema, node.field, node.words[0]), node.boost)
        return _boosted(q.phrase_query(schema, node.field, list(node.words)), node.boost)
    if isinstance(node, Prefix):
        terms = expand(node.field, node.text, node.limit) if expand is not None else None
        if terms is not None and len(terms) <= MAX_EXPANSIONS:
            if not terms:
                return q.empty_query()
            if len(terms) == 1:
                return q.term_query(schema, node.field, terms[0])
            each = [
                (occur.Should, q.const_score_query(q.term_query(schema, node.field, t), 1.0))
                for t in terms
            ]
            return _boosted(q.boolean_query(each), node.boost)
        regex = q.regex_query(schema, node.field, _escape_regex(node.text) + ".*")
        return _boosted(regex, node.boost)
    if isinstance(node, Or):
        parts = [(occur.Should, sub(p)) for p in node.parts]
        return _boosted(q.boolean_query(parts), node.boost)
    if isinstance(node, And):
        parts = [(occur.Must, sub(p)) for p in node.parts]
        return _boosted(q.boolean_query(parts), node.boost)
    if isinstance(node, AndMaybe):
        return q.boolean_query(
            [
                (occur.Must, sub(node.required)),
                (occur.Should, sub(node.optional)),
            ]
        )
    if isinstance(node, Excluding):
        return q.boolean_query(
            [
                (occur.Must, sub(node.positive)),
                (occur.MustNot, sub(node.negative)),
            ]
        )
    if isinstance(node, Not):
        raise ValueError("a bare Not cannot be searched: the parser wraps it in Excluding")
    raise TypeError(f"not a query node: {node!r}")


def role_filter(query: Any, role: str | None, schema: Any) -> Any:
    """``query`` restricted to the documents ``role`` may see (None: staff, every document).

    The role term is a required clause scoring zero: documents above the role are never matched,
    counted or scored, and the scores of the rest are unchanged.
    """
    if role is None:
        return query
    visible = tantivy.Query.const_score_query(
        tantivy.Query.term_query(schema, "visible_to", role), 0.0
    )
    return tantivy.Query.boolean_query([(tantivy.Occur.Must, query), (tantivy.Occur.Must, visible)])
