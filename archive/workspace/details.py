"""An item's descriptive details (titles, descriptions, collection, date, speakers, tags,
language, visibility) changed by staff, each change audited.

Its first use: an upload or link whose bytes are already archived becomes no new item, and the
details typed with it would be lost. :func:`details_not_applied` says which of them differ from
the existing item (the ingest job keeps that list), and :func:`apply_details` applies them when
staff choose to, one audit row per field (``details``), the visibility through
:func:`archive.workspace.visibility.set_visibility` (its own audit row and index rules).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from archive.catalog.audit import check_actor, write_audit
from archive.catalog.db import Catalog
from archive.catalog.models import Item
from archive.core.config import Settings
from archive.core.errors import InputError
from archive.ingest.intake import DETAIL_FIELDS, details_not_applied
from archive.ingest.pipeline import reindex_item
from archive.workspace.visibility import set_visibility

__all__ = ["DETAIL_FIELDS", "apply_details", "details_not_applied"]


def _json(value: Any) -> Any:
    return list(value) if isinstance(value, (tuple, list)) else value


def apply_details(
    settings: Settings, catalog: Catalog, item_id: str, changes: Mapping[str, Any], *, actor: str
) -> Item:
    """Apply ``changes`` (``{item field: value}``, as :func:`details_not_applied` gives them) to
    the item, each field audited; the search index follows."""
    actor = check_actor(actor)
    unknown = set(changes) - set(DETAIL_FIELDS.values())
    if unknown:
        raise InputError(f"these are not an item's details: {', '.join(sorted(unknown))}")
    fields = {k: tuple(v) if isinstance(v, list) else v for k, v in changes.items()}
    visibility = fields.pop("visibility", None)
    if fields:
        with catalog.transaction() as conn:
            before = catalog.get_item(item_id)
            catalog.update_item(item_id, **fields)
            for field, value in fields.items():
                write_audit(
                    conn, actor=actor, action="details", item_id=item_id, target=field,
                    old_value=json.dumps(_json(getattr(before, field)), ensure_ascii=False),
                    new_value=json.dumps(_json(value), ensure_ascii=False),
                )  # fmt: skip
        reindex_item(settings, catalog, item_id)
    if visibility is not None:
        set_visibility(catalog, settings, item_id, str(visibility), actor=actor)
    return catalog.get_item(item_id)
