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

Withholding is of a person, not a spelling. Names are matched by
:func:`archive.catalog.access.speaker_key` (case, spaces, punctuation and Traditional or Simplified
script do not count), and one label may stand for several names: the spellings the person has had.
A save in the transcript editor keeps the withholding (:func:`follow_speaker_edits`): a segment
whose withheld speaker is renamed or re-spelt takes its new name under the same label, and so does
a new name close to a withheld one of the item (:func:`archive.workspace.speaker_names.close_names`),
each such change audited and reported to the editor. ``unwithhold`` names one spelling again;
the person's other spellings stay withheld. What withholding cannot rewrite (free text, other
items and events) :func:`archive.workspace.speaker_names.where_named` lists for staff.
"""

from __future__ import annotations

from collections.abc import Sequence

from archive.catalog.access import speaker_key, withheld_label
from archive.catalog.audit import check_actor, write_audit
from archive.catalog.db import Catalog
from archive.catalog.models import Item
from archive.core.config import Settings
from archive.core.errors import InputError, NotFoundError
from archive.ingest.pipeline import reindex_item
from archive.workspace.speaker_names import Place, close_names, where_named, withheld_near
from transcripts.segments import Segment

__all__ = [
    "MAX_LABEL",
    "follow_speaker_edits",
    "item_speaker_names",
    "set_source_public",
    "unwithhold_speaker",
    "speaker_name_warnings",
    "withheld_people",
    "withheld_places",
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


def withheld_people(item: Item) -> dict[str, tuple[str, ...]]:
    """Each withheld person of an item: label -> the names (spellings) it stands for."""
    people: dict[str, list[str]] = {}
    for name, label in item.withheld_speakers:
        people.setdefault(label, []).append(name)
    return {label: tuple(names) for label, names in people.items()}


def withhold_speaker(
    catalog: Catalog, settings: Settings, item_id: str, name: str, label: str, *, actor: str
) -> Item:
    """Show ``label`` instead of ``name`` below staff, everywhere (audited; re-indexed).

    ``name`` may be typed in any spelling :func:`~archive.catalog.access.speaker_key` takes as
    the item's speaker's. Withholding an already withheld person again changes the label of all
    its spellings."""
    actor = check_actor(actor)
    name, label = _clean(name, "the speaker's name"), _clean(label, "a label")
    names = item_speaker_names(catalog, item_id)
    found = [n for n in names if speaker_key(n) == speaker_key(name)]
    if not found:
        raise InputError(f"item {item_id} has no speaker {name!r}")
    name = name if name in found else found[0]
    if speaker_key(label) in {speaker_key(n) for n in names}:
        raise InputError("the label must not be one of the item's speaker names")
    with catalog.transaction() as conn:
        before = catalog.get_item(item_id)
        old = withheld_label(before, name)
        spellings = {speaker_key(n) for n in found}
        if old is not None:
            spellings |= {speaker_key(n) for n in withheld_people(before).get(old, ())}
        taken = {lb for n, lb in before.withheld_speakers if speaker_key(n) not in spellings}
        if label in taken:
            raise InputError(f"another withheld speaker of this item is already {label!r}")
        pairs = [(n, lb) for n, lb in before.withheld_speakers if speaker_key(n) not in spellings]
        kept = [n for n, _ in before.withheld_speakers if speaker_key(n) in spellings]
        for spelling in dict.fromkeys([*kept, name]):
            pairs.append((spelling, label))
        catalog.update_item(item_id, withheld_speakers=pairs)
        write_audit(
            conn, actor=actor, action="withhold-speaker", item_id=item_id, target=name,
            old_value=old, new_value=label,
        )  # fmt: skip
        # Hiding: the index holds only the label before the change commits.
        _reindex(settings, catalog, item_id)
    return catalog.get_item(item_id)


def withheld_places(catalog: Catalog, item_id: str, name: str) -> list[Place]:
    """Where else the archive names the withheld speaker ``name`` of ``item_id`` (every spelling
    of the person): what the withhold command and page warn staff of."""
    item = catalog.get_item(item_id)
    label = withheld_label(item, name)
    spellings = withheld_people(item).get(label, ()) if label is not None else ()
    return where_named(catalog, item_id, [name, *spellings])


def unwithhold_speaker(
    catalog: Catalog, settings: Settings, item_id: str, name: str, *, actor: str
) -> Item:
    """Name ``name`` again below staff (audited; re-indexed after the change commits). Only that
    spelling: other names the same label stands for stay withheld."""
    actor = check_actor(actor)
    name = _clean(name, "the speaker's name")
    key = speaker_key(name)
    with catalog.transaction() as conn:
        before = catalog.get_item(item_id)
        gone = [(n, lb) for n, lb in before.withheld_speakers if speaker_key(n) == key]
        if not gone:
            raise InputError(f"{name!r} is not withheld on item {item_id}")
        pairs = [(n, lb) for n, lb in before.withheld_speakers if speaker_key(n) != key]
        catalog.update_item(item_id, withheld_speakers=pairs)
        write_audit(
            conn, actor=actor, action="unwithhold-speaker", item_id=item_id, target=name,
            old_value=gone[0][1], new_value=None,
        )  # fmt: skip
    _reindex(settings, catalog, item_id)
    return catalog.get_item(item_id)


def follow_speaker_edits(
    catalog: Catalog,
    item_id: str,
    before: Sequence[Segment],
    after: Sequence[Segment],
    *,
    actor: str,
) -> list[str]:
    """Keep a withheld speaker withheld through an editor's save (call inside its transaction,
    before the item is re-indexed); returns what it did, one sentence each, for the editor.

    A segment (by uid) whose speaker was withheld and now has another name: the new name joins
    the person's spellings, under the same label (a rename is of the person). A name the save
    brings in that is close to a withheld one of this item (:func:`close_names`): the same.
    Each addition is audited as ``withhold-speaker``."""
    item = catalog.get_item(item_id)
    if not item.withheld_speakers:
        return []
    old_speaker = {s.uid: s.speaker for s in before}
    known = {speaker_key(s.speaker) for s in before if s.speaker}
    added: dict[str, tuple[str, str]] = {}  # new name -> (label, why)
    for seg in after:
        name = seg.speaker
        if not name or withheld_label(item, name) is not None or name in added:
            continue
        was = old_speaker.get(seg.uid, "")
        label = withheld_label(item, was) if was else None
        if label is not None:
            added[name] = (label, f"renamed from a withheld speaker ({was!r})")
            continue
        if speaker_key(name) in known:
            continue  # already stood in the transcript before this save: staff's own choice
        near = [(n, lb) for n, lb in item.withheld_speakers if close_names(name, n)]
        if near:
            added[name] = (near[0][1], f"close to the withheld name {near[0][0]!r}")
    if not added:
        return []
    pairs = list(item.withheld_speakers) + [(n, lb) for n, (lb, _) in added.items()]
    catalog.update_item(item_id, withheld_speakers=pairs)
    notes = []
    for name, (label, why) in added.items():
        write_audit(
            catalog.conn, actor=actor, action="withhold-speaker", item_id=item_id, target=name,
            old_value=None, new_value=label,
        )  # fmt: skip
        notes.append(
            f"{name!r} is withheld too, shown below staff as {label!r}: {why}. If this is "
            f"someone else: archive item unwithhold {item_id} {name!r}"
        )
    return notes


def speaker_name_warnings(catalog: Catalog, item_id: str, names: Sequence[str]) -> list[str]:
    """What the editor warns of when a save gives speakers ``names``: each one that is, or comes
    close to, a name another item withholds (withholding is per item: staff decide whether it is
    the same person here). This item's own close names :func:`follow_speaker_edits` withholds."""
    out = []
    for match in withheld_near(catalog, names):
        if match.item_id == item_id:
            continue
        hint = (
            f"withhold it here too: archive item withhold {item_id} {match.name!r} --label LABEL"
            if item_id
            else f"name them here by that label, {match.label!r}, not by name"
        )
        out.append(
            f"the speaker name {match.name!r} is close to {match.withheld!r}, withheld on item "
            f"{match.item_id} as {match.label!r}; if it is the same person, {hint}"
        )
    return out


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
