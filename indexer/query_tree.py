"""What a search asks for, in no engine's terms: the tree :mod:`indexer.query` builds and every
engine (:mod:`indexer.engine`) compiles into its own queries.

Terms are already analysed (folded, bigrammed, stemmed by :func:`indexer.analysis.analyze`): an
engine looks them up as they are, it never analyses them again. Fields are the index fields of
:func:`indexer.schema.make_schema` (``body``, ``title``, ``description``, ``people``, ``tags``,
``speaker``, ``collection``, ``year``, ``lang``, ``visible_to`` …).

Meaning, for an engine that compiles the tree:

* :class:`Term` — the field holds the token. :class:`Phrase` — the tokens at consecutive positions
  of one field value (never across the gap between the two tracks, :data:`~indexer.analysis.
  TRACK_SEPARATOR`). :class:`Prefix` — some token of the field starts with ``text`` (with
  ``limit``: one of the first ``limit`` such tokens of the index, in code-point order).
* :class:`Or` — any part; the score adds the matching parts' scores. :class:`And` — every part;
  scores add. :class:`AndMaybe` — ``required`` must match; ``optional`` only adds to the score.
  :class:`Excluding` — ``positive`` without any document ``negative`` matches (never scored).
  :class:`Not` — only inside a sequence being built (the parser turns ``-x`` into an
  :class:`Excluding` of the whole sequence); an engine never receives a bare ``Not``.
* ``boost`` multiplies the node's score.

>>> Or((Term("body", "strike", 1.0), Term("title", "strike", 4.0)))
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["And", "AndMaybe", "Excluding", "Node", "Not", "Or", "Phrase", "Prefix", "Term"]


@dataclass(frozen=True)
class Term:
    field: str
    text: str
    boost: float = 1.0


@dataclass(frozen=True)
class Phrase:
    field: str
    words: tuple[str, ...]
    boost: float = 1.0


@dataclass(frozen=True)
class Prefix:
    field: str
    text: str
    boost: float = 1.0
    limit: int = 0  # at most this many indexed terms, the first in code-point order; 0: no limit


@dataclass(frozen=True)
class Or:
    parts: tuple[Node, ...]
    boost: float = 1.0


@dataclass(frozen=True)
class And:
    parts: tuple[Node, ...]
    boost: float = 1.0


@dataclass(frozen=True)
class AndMaybe:
    required: Node
    optional: Node


@dataclass(frozen=True)
class Excluding:
    positive: Node
    negative: Node


@dataclass(frozen=True)
class Not:
    query: Node


Node = Term | Phrase | Prefix | Or | And | AndMaybe | Excluding | Not
