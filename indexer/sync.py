"""What the index should hold for the catalog, and where it differs: no search engine involved.

An item's documents are built from the catalog's item and its latest revision
(:func:`documents_for`, through :func:`indexer.schema.item_documents`); each item document records
the catalog state it was built from, and :func:`compare_with_catalog` names, in plain words, every
item whose indexed state is not the catalog's. :mod:`indexer.index` writes the documents and
reads the states back from its engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from archive.catalog.db import Catalog
from archive.catalog.models import TranscriptRevision
from archive.core.errors import NotFoundError

from .results import VerifyProblem
from .schema import CatalogState, catalog_state, item_documents

__all__ = ["compare_with_catalog", "documents_for", "latest_revision"]


def latest_revision(catalog: Catalog, item_id: str) -> TranscriptRevision | None:
    """The item's latest transcript revision, with segments (None when it has no transcript)."""
    try:
        return catalog.get_revision(item_id)
    except NotFoundError:
        return None


def documents_for(catalog: Catalog, item_id: str) -> list[dict[str, Any]] | None:
    """The index documents of one item (its item document, then its segments); None if it is gone."""
    try:
        item = catalog.get_item(item_id)
    except NotFoundError:
        return None
    return item_documents(item, latest_revision(catalog, item_id))


def compare_with_catalog(
    catalog: Catalog,
    indexed: Mapping[str, CatalogState | None],
    segment_counts: Mapping[str, int],
) -> list[VerifyProblem]:
    """Every item whose indexed state differs from the catalog, in plain words.

    ``indexed`` maps each item with an item document in the index to the catalog state recorded
    in it (None: none recorded); ``segment_counts`` is how many segment documents each item has.
    """
    problems: list[VerifyProblem] = []
    catalog_ids = catalog.item_ids()
    for item_id in catalog_ids:
        try:
            item = catalog.get_item(item_id)
        except NotFoundError:
            continue
        expected = catalog_state(item, latest_revision(catalog, item_id))
        got = indexed.get(item_id)
        if got is None:
            problems.append(VerifyProblem(item_id, "not in the search index"))
            continue
        if got.revision != expected.revision:
            problems.append(
                VerifyProblem(
                    item_id,
                    f"indexed transcript revision {got.revision}, the catalog has revision "
                    f"{expected.revision}",
                )
            )
        if got.visibility != expected.visibility:
            problems.append(
                VerifyProblem(
                    item_id,
                    f"indexed as visible to {got.visibility}, the catalog says {expected.visibility}",
                )
            )
        if got.redactions != expected.redactions:
            problems.append(VerifyProblem(item_id, "its redactions changed since it was indexed"))
        if got.details != expected.details:
            problems.append(
                VerifyProblem(
                    item_id,
                    "its title, description or other details changed since it was indexed",
                )
            )
        if segment_counts.get(item_id, 0) != expected.segments:
            problems.append(
                VerifyProblem(
                    item_id,
                    f"{segment_counts.get(item_id, 0)} of its {expected.segments} transcript "
                    "segments are in the search index",
                )
            )
    for item_id in sorted(set(indexed) - set(catalog_ids)):
        problems.append(VerifyProblem(item_id, "in the search index but no longer in the catalog"))
    return problems
