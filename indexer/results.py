"""What a search hands back, and the engine-neutral parts of putting it together.

The values callers get (:class:`SearchFilters` in, :class:`SearchResults` of :class:`ItemGroup` and
:class:`Hit` out, :class:`VerifyProblem` from a check), what the index knows of each item
(:class:`ItemMeta`), and the steps that need no search engine: the facet counts over the matching
items (:func:`facet_counts`), a hit's permalink, the notice shown above results. None of it reads an
index: :mod:`indexer.index` fills these from Whoosh.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from archive.core.moments import moment_param

from .schema import CatalogState

__all__ = [
    "Hit",
    "ItemGroup",
    "ItemMeta",
    "SearchFilters",
    "SearchResults",
    "VerifyProblem",
    "empty_facets",
    "facet_counts",
    "join_notes",
    "permalink",
]


@dataclass(frozen=True)
class SearchFilters:
    collection: str | None = None
    year: int | str | None = None  # 2019 or "2014-2019"
    lang: str | None = None  # zh | en
    speaker: str | None = None


@dataclass(frozen=True)
class Hit:
    item_id: str
    start: float
    end: float
    text_zh: str
    text_en: str
    lang: str
    title_zh: str
    title_en: str
    permalink: str
    score: float
    highlights: dict[str, str]
    speaker: str = ""
    uid: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "item_id": self.item_id,
            "start": self.start,
            "end": self.end,
            "text_zh": self.text_zh,
            "text_en": self.text_en,
            "lang": self.lang,
            "speaker": self.speaker,
            "uid": self.uid,
            "title_zh": self.title_zh,
            "title_en": self.title_en,
            "permalink": self.permalink,
            "score": self.score,
            "highlights": dict(self.highlights),
        }


@dataclass(frozen=True)
class ItemGroup:
    item_id: str
    title_zh: str
    title_en: str
    collection: str
    year: int | None
    score: float
    hits: list[Hit]
    title_highlight: dict[str, str] | None = None
    hit_count: int = 0  # matching segments in this item (``hits`` shows the best few)
    permalink: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "item_id": self.item_id,
            "title_zh": self.title_zh,
            "title_en": self.title_en,
            "collection": self.collection,
            "year": self.year,
            "score": self.score,
            "hit_count": self.hit_count,
            "permalink": self.permalink,
            "title_highlight": self.title_highlight,
            "hits": [h.to_dict() for h in self.hits],
        }


@dataclass(frozen=True)
class SearchResults:
    query: str
    notice: str | None
    expansions: list[str]
    total_items: int
    total_hits: int
    page: int
    pages: int
    groups: list[ItemGroup]
    facets: dict[str, list[tuple[str, int]]]
    role: str = "public"
    exact: bool = True  # False: more than MAX_SCORED segments matched; counts cover the best ones
    expanded_terms: int = 0  # indexed terms the search's prefixes expanded to (indexer.limits)
    # What a limit did to this search (indexer.limits), for pages to say in their language:
    # "" nothing, "too_many_words" refused before it ran, "prefixes_cut" prefixes searched in part.
    limited: str = ""

    @property
    def hits(self) -> list[Hit]:
        return [h for g in self.groups for h in g.hits]

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "role": self.role,
            "notice": self.notice,
            "expansions": list(self.expansions),
            "total_items": self.total_items,
            "total_hits": self.total_hits,
            "page": self.page,
            "pages": self.pages,
            "groups": [g.to_dict() for g in self.groups],
            "facets": {k: [list(p) for p in v] for k, v in self.facets.items()},
            "exact": self.exact,
        }


@dataclass(frozen=True)
class VerifyProblem:
    item_id: str  # "" for a problem with the whole index
    problem: str


@dataclass(frozen=True)
class ItemMeta:
    """What the index holds of an item beside its documents: details for grouping and facets,
    and the catalog state it was built from (None in an index written before states were kept)."""

    title_zh: str
    title_en: str
    collection: str
    year: int | None
    lang: str
    speakers: tuple[str, ...]
    state: CatalogState | None


def permalink(item_id: str, start: float) -> str:
    """The portal link to ``item_id`` at ``start`` seconds (to the millisecond, never negative)."""
    return f"?item={item_id}&t={moment_param(start)}"


def facet_counts(
    order: list[str],
    items: dict[str, ItemMeta],
    langs: dict[str, set[str]],
    speakers: dict[str, set[str]],
) -> dict[str, list[tuple[str, int]]]:
    """Counts of matching *items* per value (what a viewer gets by choosing the value)."""
    counters: dict[str, Counter[str]] = {
        k: Counter() for k in ("collection", "year", "lang", "speaker")
    }
    collection, year, lang, speaker = (
        counters[k] for k in ("collection", "year", "lang", "speaker")
    )
    no_values: set[str] = set()
    for item_id in order:
        meta = items.get(item_id)
        if meta is not None:
            if meta.collection:
                collection[meta.collection] += 1
            if meta.year:
                year[str(meta.year)] += 1
        for value in langs.get(item_id, no_values):
            lang[value] += 1
        for value in speakers.get(item_id, no_values):
            speaker[value] += 1
    return {
        name: sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
        for name, counter in counters.items()
    }


def empty_facets() -> dict[str, list[tuple[str, int]]]:
    """The facets of a search that matched nothing: every facet present, with no values."""
    return {"collection": [], "year": [], "lang": [], "speaker": []}


def join_notes(notice: str | None, more: list[str]) -> str | None:
    """The query's notice followed by the filters' notes, each a sentence (None: nothing to say)."""
    parts = [p for p in [notice, *(m[0].upper() + m[1:] + "." for m in more)] if p]
    return " ".join(parts) if parts else None
