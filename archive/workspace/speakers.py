"""The speakers of one item: who they are, how long each spoke, and naming them once.

Diarization (or a person) puts a speaker on each segment ("Speaker 2"). Staff then name each
speaker once for the whole item, merge two that are one person, or give one segment to another
speaker. Each of those is one new revision through the editor's own path
(:func:`archive.workspace.editing.apply_edits`: checked against the revision it was meant for,
re-indexed, a withheld speaker kept withheld through a rename), and each is in the audit log
(``speaker-rename``, ``speaker-merge``, ``speaker-set``). The revision's summary names no one
("1 speaker rename"): a withheld person's name belongs in staff-only places only. A later
re-transcription keeps the names (:mod:`transcripts.speaker_carry`).

:func:`speaker_summary` reads the speakers as a viewer may: below staff a withheld speaker is its
label (two spellings of one withheld person are one row), and a redacted segment counts for no one.

>>> for s in speaker_summary(cat, "k3v9x2m4qa", Viewer("staff")):
...     print(s.name, s.talk_seconds, s.turns, s.first_words)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from archive.catalog.access import Viewer, speaker_key, visible_revision, withheld_label
from archive.catalog.db import Catalog
from archive.catalog.models import TranscriptRevision
from archive.core.config import Settings
from archive.core.errors import InputError, NotFoundError
from archive.workspace.editing import MergeSpeakers, RenameSpeaker, SetSpeaker, apply_edits
from transcripts.segments import Segment

__all__ = [
    "FIRST_WORDS",
    "PLAY_SECONDS",
    "SpeakerSummary",
    "merge_speakers",
    "merging_edit",
    "name_speaker",
    "naming_edit",
    "reassign_segment_speaker",
    "speaker_summary",
    "summarize",
]

FIRST_WORDS = 60  # characters of a speaker's first words shown in the list
PLAY_SECONDS = 8.0  # how much of a speaker's first long turn the editor plays
LONG_TURN = 3.0  # a turn at least this long is long enough to tell a voice by


@dataclass(frozen=True)
class SpeakerSummary:
    """One speaker of an item as a viewer may read it.

    ``name`` is what the transcript says (below staff, a withheld speaker's label); ``turns``
    counts runs of consecutive segments by this speaker; ``play_start``/``play_end``: a few
    seconds of the first turn of at least :data:`LONG_TURN` seconds (else the longest turn),
    and ``play_uid`` the segment that starts it. ``withheld``: the label shown below staff
    (staff only; None otherwise)."""

    name: str
    talk_seconds: float
    turns: int
    segments: int
    first_start: float
    first_words: str
    play_start: float
    play_end: float
    play_uid: str
    withheld: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("talk_seconds", "first_start", "play_start", "play_end"):
            data[key] = round(data[key], 3)
        return data


def _words(seg: Segment) -> str:
    first = seg.text(seg.lang) if seg.lang in ("zh", "en") else ""
    return first or seg.text_zh or seg.text_en


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= FIRST_WORDS else text[: FIRST_WORDS - 1].rstrip() + "…"


def _turns(segments: Sequence[Segment]) -> list[list[Segment]]:
    """Runs of consecutive segments (in time order) by one speaker; a segment without a speaker
    ends a run (it may be someone else)."""
    runs: list[list[Segment]] = []
    for seg in segments:
        if runs and seg.speaker and runs[-1][-1].speaker == seg.speaker:
            runs[-1].append(seg)
        else:
            runs.append([seg])
    return [r for r in runs if r[0].speaker]


def summarize(
    segments: Sequence[Segment], withheld: dict[str, str] | None = None
) -> tuple[SpeakerSummary, ...]:
    """The speakers of ``segments`` (already as the viewer may read them; those without a
    speaker count for no one but end a turn), in order of first appearance. ``withheld``:
    name -> label, for staff's view."""
    ordered = sorted(segments, key=lambda s: (s.start, s.end))
    runs = _turns(ordered)
    out = []
    for name in dict.fromkeys(r[0].speaker for r in runs):
        mine = [r for r in runs if r[0].speaker == name]
        said = [s for r in mine for s in r]
        long = next((r for r in mine if r[-1].end - r[0].start >= LONG_TURN), None)
        play = long or max(mine, key=lambda r: r[-1].end - r[0].start)
        start = play[0].start
        words = next((w for w in (_words(s) for s in said) if w.strip()), "")
        out.append(
            SpeakerSummary(
                name=name,
                talk_seconds=sum(max(0.0, s.end - s.start) for s in said),
                turns=len(mine),
                segments=len(said),
                first_start=said[0].start,
                first_words=_shorten(words),
                play_start=start,
                play_end=min(play[-1].end, start + PLAY_SECONDS),
                play_uid=play[0].uid,
                withheld=(withheld or {}).get(name),
            )
        )
    return tuple(out)


def speaker_summary(
    catalog: Catalog, item_id: str, viewer: Viewer, *, revision: int | None = None
) -> tuple[SpeakerSummary, ...]:
    """The speakers of an item's transcript (the latest revision, or ``revision``) as ``viewer``
    may read them. NotFoundError for an unknown item, one above the viewer, or no transcript."""
    _item, rev = visible_revision(catalog, item_id, viewer, revision)
    # Below staff a redacted segment has no speaker left and counts for no one, not even as a
    # break between two turns (what it would say is who spoke there).
    segments = [s for s in rev.segments if viewer.is_staff or not s.redacted]
    withheld: dict[str, str] = {}
    if viewer.is_staff:
        stored = catalog.get_item(item_id)
        for seg in segments:
            label = withheld_label(stored, seg.speaker) if seg.speaker else None
            if label is not None:
                withheld[seg.speaker] = label
    return summarize(segments, withheld)


def _current(catalog: Catalog, item_id: str, base_revision: int | None) -> TranscriptRevision:
    catalog.get_item(item_id)  # NotFoundError: no item …
    latest = catalog.latest_revision_number(item_id)
    if latest is None:
        raise NotFoundError(f"item {item_id} has no transcript")
    return catalog.get_revision(item_id, latest if base_revision is None else base_revision)


def _speaker_of(segments: Sequence[Segment], item_id: str, label: str) -> str:
    """The speaker ``label`` names in ``segments``: exactly, else the one spelling it by
    :func:`speaker_key` ("speaker 2" for "Speaker 2")."""
    names = list(dict.fromkeys(s.speaker for s in segments if s.speaker))
    label = " ".join(str(label or "").split())
    if not label:
        raise InputError("say which speaker (its label or name, as `archive speakers ITEM` lists)")
    if label in names:
        return label
    same = [n for n in names if speaker_key(n) == speaker_key(label)]
    if len(same) == 1:
        return same[0]
    listed = ", ".join(repr(n) for n in names) or "none"
    raise InputError(f"item {item_id} has no speaker {label!r} (its speakers: {listed})")


def naming_edit(segments: Sequence[Segment], item_id: str, label: str, name: str) -> RenameSpeaker:
    """The edit that names speaker ``label`` ``name`` in ``segments``, checked: InputError for an
    unknown speaker, an empty name, or the name of another speaker (that is a merge)."""
    old = _speaker_of(segments, item_id, label)
    new = " ".join(str(name or "").split())
    if not new:
        raise InputError("give the speaker's name (it may not be empty)")
    others = {speaker_key(s.speaker) for s in segments if s.speaker and s.speaker != old}
    if speaker_key(new) in others:
        raise InputError(
            f"another speaker of item {item_id} is already {new!r}; if they are one person: "
            f"archive speakers merge {item_id} {old!r} {new!r}"
        )
    return RenameSpeaker(old, new)


def merging_edit(
    segments: Sequence[Segment], item_id: str, source: str, target: str
) -> MergeSpeakers:
    """The edit that gives speaker ``source``'s segments to ``target``, checked: InputError for
    an unknown speaker or a speaker merged into itself."""
    old, into = _speaker_of(segments, item_id, source), _speaker_of(segments, item_id, target)
    if old == into:
        raise InputError(f"{old!r} cannot be merged into itself")
    return MergeSpeakers(old, into)


def name_speaker(
    catalog: Catalog,
    settings: Settings,
    item_id: str,
    label: str,
    name: str,
    *,
    actor: str,
    base_revision: int | None = None,
    notices: list[str] | None = None,
) -> TranscriptRevision:
    """Give speaker ``label`` the name ``name`` in every segment: one new revision (audited as
    ``speaker-rename``). A name another speaker of the item already has is refused (that is a
    merge: :func:`merge_speakers`). A withheld speaker stays withheld under its new name, and a
    name withheld on this item is shown as its label below staff."""
    rev = _current(catalog, item_id, base_revision)
    edit = naming_edit(rev.segments, item_id, label, name)
    return apply_edits(
        catalog, settings, item_id, [edit], author=actor, base_revision=rev.revision,
        notices=notices,
    )  # fmt: skip


def merge_speakers(
    catalog: Catalog,
    settings: Settings,
    item_id: str,
    source: str,
    target: str,
    *,
    actor: str,
    base_revision: int | None = None,
    notices: list[str] | None = None,
) -> TranscriptRevision:
    """Give every segment of speaker ``source`` to speaker ``target`` (one person heard as two):
    one new revision (audited as ``speaker-merge``). A withheld ``source`` makes ``target``
    withheld too, under the same label (the safe side: staff may name it again)."""
    rev = _current(catalog, item_id, base_revision)
    edit = merging_edit(rev.segments, item_id, source, target)
    return apply_edits(
        catalog, settings, item_id, [edit], author=actor, base_revision=rev.revision,
        notices=notices,
    )  # fmt: skip


def reassign_segment_speaker(
    catalog: Catalog,
    settings: Settings,
    item_id: str,
    uid: str,
    name: str,
    *,
    actor: str,
    base_revision: int | None = None,
    notices: list[str] | None = None,
) -> TranscriptRevision:
    """Give one segment (by uid) the speaker ``name`` ("" clears it): one new revision (audited
    as ``speaker-set``). ``name`` may be a label or a name already in the transcript, spelt any
    way :func:`speaker_key` takes as it, or a new one."""
    rev = _current(catalog, item_id, base_revision)
    if not any(s.uid == uid for s in rev.segments):
        raise InputError(f"there is no segment {uid} in item {item_id} (see: archive segments)")
    wanted = " ".join(str(name or "").split())
    known = {speaker_key(s.speaker): s.speaker for s in rev.segments if s.speaker}
    wanted = known.get(speaker_key(wanted), wanted) if wanted else ""
    return apply_edits(
        catalog, settings, item_id, [SetSpeaker(uid, wanted)], author=actor,
        base_revision=rev.revision, notices=notices,
    )  # fmt: skip
