"""What staff let out about an item beyond its content: withheld speakers and the source link.

:mod:`archive.catalog.access` applies both below staff (``present_item``, ``present_segments``); this
module is how staff change them, each change in the audit log (the ``archive item`` commands are in
:mod:`archive.workspace.redaction_commands`):

* **Withheld speakers.** ``withhold_speaker(..., "Chan Tai-man", "Interviewee A")``: from then on
  anyone below staff reads "Interviewee A" wherever the item names that speaker (its page, Browse,
  search, feeds, citations, the mirror, ``archive show/export --role public``). The search index
  holds only the label (:func:`indexer.schema.item_documents`), so the change re-indexes the item
  before it commits: a failed index update undoes it rather than leave the name findable.
* **Source link.** ``set_source_public(..., True)``: staff have checked that the link the item
  was fetched from may be shown; it is still shown below staff without credentials, fragment or
  any query parameter but a few harmless ones (:func:`archive.catalog.access.public_source_url`).

A withheld name is matched exactly (after collapsing spaces). A speaker renamed later in the
transcript editor is a new name: withhold it again.
"""

from __future__ import annotations

from archive.catalog.audit import check_actor, write_audit
from archive.catalog.db import Catalog
from archive.catalog.models import Item
from archive.core.config import Settings
from archive.core.errors import InputError, NotFoundError
from archive.ingest.pipeline import reindex_item

__all__ = [
    "MAX_LABEL",
    "item_speaker_names",
    "set_source_public",
    "unwithhold_speaker",
    "withhold_speaker",
]

MAX_LABEL = 80


def _clean(text: str, what: str) -> str:
    value = " ".join(str(text or "").split())
    if not value:
        raise InputError(f"give {what}")
    if len(value) > MAX_LABEL or any(ord(c) < 32 for c in value):
        raise InputError(f"{what} may have at most {MAX_LABEL} characters, on one line")
    return value


def item_speaker_names(catalog: Catalog, item_id: str) -> list[str]:
    """Every speaker name an item has: its speaker list, then the latest transcript's speakers."""
    item = catalog.get_item(item_id)
    names = list(item.speakers)
    try:
        segments = catalog.get_revision(item_id).segments
    except NotFoundError:
        segments = ()
    for seg in segments:
        if seg.speaker and seg.speaker not in names:
            names.append(seg.speaker)
    return names


def _reindex(settings: Settings, catalog: Catalog, item_id: str) -> None:
    reindex_item(settings, catalog, item_id)


def withhold_speaker(
    catalog: Catalog, settings: Settings, item_id: str, name: str, label: str, *, actor: str
) -> Item:
    """Show ``label`` instead of ``name`` below staff, everywhere (audited; re-indexed)."""
    actor = check_actor(actor)
    name, label = _clean(name, "the speaker's name"), _clean(label, "a label")
    names = item_speaker_names(catalog, item_id)
    if name not in names:
        raise InputError(f"item {item_id} has no speaker {name!r}")
    if label == name or label in names:
        raise InputError("the label must not be one of the item's speaker names")
    with catalog.transaction() as conn:
        before = catalog.get_item(item_id)
        pairs = dict(before.withheld_speakers)
        if label in (v for k, v in pairs.items() if k != name):
            raise InputError(f"another withheld speaker of this item is already {label!r}")
        old = pairs.get(name)
        pairs[name] = label
        catalog.update_item(item_id, withheld_speakers=list(pairs.items()))
        write_audit(
            conn, actor=actor, action="withhold-speaker", item_id=item_id, target=name,
            old_value=old, new_value=label,
        )  # fmt: skip
        # Hiding: the index holds only the label before the change commits.
        _reindex(settings, catalog, item_id)
    return catalog.get_item(item_id)


def unwithhold_speaker(
    catalog: Catalog, settings: Settings, item_id: str, name: str, *, actor: str
) -> Item:
    """Name ``name`` again below staff (audited; re-indexed after the change commits)."""
    actor = check_actor(actor)
    name = _clean(name, "the speaker's name")
    with catalog.transaction() as conn:
        before = catalog.get_item(item_id)
        pairs = dict(before.withheld_speakers)
        if name not in pairs:
            raise InputError(f"{name!r} is not withheld on item {item_id}")
        label = pairs.pop(name)
        catalog.update_item(item_id, withheld_speakers=list(pairs.items()))
        write_audit(
            conn, actor=actor, action="unwithhold-speaker", item_id=item_id, target=name,
            old_value=label, new_value=None,
        )  # fmt: skip
    _reindex(settings, catalog, item_id)
    return catalog.get_item(item_id)


def set_source_public(catalog: Catalog, item_id: str, public: bool, *, actor: str) -> Item:
    """Whether viewers below staff may see the item's (cleaned) source link (audited)."""
    actor = check_actor(actor)
    with catalog.transaction() as conn:
        before = catalog.get_item(item_id)
        if before.source_public != bool(public):
            catalog.update_item(item_id, source_public=bool(public))
            write_audit(
                conn, actor=actor, action="source-public", item_id=item_id,
                old_value="yes" if before.source_public else "no",
                new_value="yes" if public else "no",
            )  # fmt: skip
    return catalog.get_item(item_id)
