"""The transcript editor's operations: one save of any number of edits makes one new revision.

An edit is a frozen dataclass naming a segment by its ``uid`` (stable across revisions):

* :class:`EditText` — new Chinese and/or English text (kept exactly as typed: a staff correction is
  not run through OpenCC; editing the English marks it as no longer machine-made);
* :class:`Split` — cut a segment at a time; the first half keeps the uid, the second gets a new one;
* :class:`Merge` — join a segment with the one right after it (the merged one keeps the first uid);
* :class:`SetSpeaker`, :class:`RenameSpeaker` (one name everywhere), :class:`MergeSpeakers` (one
  speaker's segments given to another who is already there), :class:`ReplaceText` (correct a
  misheard name in every segment), :class:`MarkReviewed`.

Every change of who spoke (set, rename, merge) is also written to the audit log, by the author of
the save, in the save's own transaction.

:func:`apply_edits` checks the save against the revision the editor opened (``base_revision``): if
someone saved in between, nothing is written and the editor is told to reload. It stores the new
revision with its author, a summary and a list of changes (``op``, ``uid``, ``before``, ``after``),
and re-indexes that one item. Redactions need no care here: they are spans of the recording, not
segments, so both halves of a split redacted segment, or a merge with one, overlap the span and stay
hidden (see :mod:`archive.workspace.visibility`).

``TranscriptRevision.changes`` holds before/after text, including that of redacted segments: it is
staff-only data. :func:`revision_history` is the form to show anyone else (no changes at all).

>>> rev = catalog.get_revision(item_id)
>>> apply_edits(catalog, settings, item_id,
...             [EditText(uid, text_zh="李卓人"), MarkReviewed(uid)],
...             author="alice", base_revision=rev.revision)
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from archive.catalog.access import Viewer, visible_item
from archive.catalog.audit import check_actor, write_audit
from archive.catalog.db import Catalog
from archive.catalog.models import TranscriptRevision
from archive.core.config import Settings
from archive.core.errors import InputError, NotFoundError
from archive.ingest.pipeline import reindex_item
from archive.workspace.disclosure import follow_speaker_edits
from transcripts.segments import Segment, new_uid

__all__ = [
    "Edit",
    "EditText",
    "HistoryEntry",
    "MarkReviewed",
    "Merge",
    "MergeSpeakers",
    "RenameSpeaker",
    "ReplaceText",
    "SetSpeaker",
    "Split",
    "apply_edits",
    "revision_history",
]

MAX_TEXT = 5000
MAX_SPEAKER = 100
MIN_PART_SECONDS = 0.05  # a split leaves at least this much on each side


@dataclass(frozen=True)
class EditText:
    """Replace a segment's Chinese and/or English text (None: leave that track as it is)."""

    uid: str
    text_zh: str | None = None
    text_en: str | None = None


@dataclass(frozen=True)
class Split:
    """Cut segment ``uid`` at ``at`` seconds (strictly inside it).

    ``zh_at`` / ``en_at`` are character positions where each track's text is cut (what the editor
    gets from the cursor). Left out, a track is cut at the same fraction of its length as the time,
    moved to the nearest sentence break, comma or space within a few characters.
    """

    uid: str
    at: float
    zh_at: int | None = None
    en_at: int | None = None


@dataclass(frozen=True)
class Merge:
    """Join ``uid_first`` and the segment right after it, ``uid_second``."""

    uid_first: str
    uid_second: str


@dataclass(frozen=True)
class SetSpeaker:
    uid: str
    speaker: str  # "" clears it


@dataclass(frozen=True)
class RenameSpeaker:
    """Every segment spoken by ``old`` is given the speaker name ``new``."""

    old: str
    new: str


@dataclass(frozen=True)
class MergeSpeakers:
    """Every segment spoken by ``source`` is given to ``target``, a speaker already in the
    transcript (diarization heard one person as two)."""

    source: str
    target: str


@dataclass(frozen=True)
class ReplaceText:
    """Replace the literal text ``old`` with ``new`` in every segment (``track``: zh, en or both)."""

    old: str
    new: str
    track: str | None = None


@dataclass(frozen=True)
class MarkReviewed:
    uid: str
    reviewed: bool = True


Edit = (
    EditText
    | Split
    | Merge
    | SetSpeaker
    | RenameSpeaker
    | MergeSpeakers
    | ReplaceText
    | MarkReviewed
)

# Change records that say who spoke, and the audit action each one is logged as.
SPEAKER_AUDIT = {
    "speaker": "speaker-set",
    "rename-speaker": "speaker-rename",
    "merge-speakers": "speaker-merge",
}


@dataclass(frozen=True)
class HistoryEntry:
    """One revision as listed in the editor's history (``changes`` only for staff)."""

    revision: int
    origin: str
    author: str | None
    summary: str
    created_at: str
    changes: tuple[dict[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "revision": self.revision,
            "origin": self.origin,
            "author": self.author,
            "summary": self.summary,
            "created_at": self.created_at,
            "changes": list(self.changes),
        }


# -- text helpers -----------------------------------------------------------------------------
def _clean_text(text: str, what: str) -> str:
    if not isinstance(text, str):
        raise InputError(f"{what} must be text")
    # Exactly as typed, minus what no one types on purpose: NUL/control characters and the
    # surrounding whitespace. NFC so that the same name typed on two keyboards is one name.
    text = unicodedata.normalize("NFC", text)
    text = "".join(c for c in text if c in "\n\t" or unicodedata.category(c) != "Cc").strip()
    if len(text) > MAX_TEXT:
        raise InputError(f"{what} may have at most {MAX_TEXT} characters")
    return text


def _clean_speaker(name: str) -> str:
    name = " ".join(_clean_text(name, "a speaker name").split())
    if len(name) > MAX_SPEAKER:
        raise InputError(f"a speaker name may have at most {MAX_SPEAKER} characters")
    return name


_BREAK_AFTER = set("。！？；，、：.!?;,:")


def _cut_position(text: str, fraction: float) -> int:
    """Where to cut ``text`` for a time cut at ``fraction``: after the nearest punctuation or space."""
    if not text:
        return 0
    guess = round(len(text) * fraction)
    window = max(3, len(text) // 10)
    best: int | None = None
    for pos in range(max(1, guess - window), min(len(text), guess + window) + 1):
        is_break = text[pos - 1] in _BREAK_AFTER or text[pos - 1].isspace()
        if is_break and (best is None or abs(pos - guess) < abs(best - guess)):
            best = pos
    return min(len(text), max(0, best if best is not None else guess))


def _join(first: str, second: str) -> str:
    if not first or not second:
        return first or second
    # Chinese runs on without a space; Latin text (and mixed) gets one.
    if _is_cjk(first[-1]) and _is_cjk(second[0]):
        return first + second
    return f"{first} {second}"


def _is_cjk(char: str) -> bool:
    return bool(re.match(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]", char))


# -- applying ---------------------------------------------------------------------------------
class _Draft:
    """The segments being edited, in order, plus the change records."""

    def __init__(self, segments: Sequence[Segment]) -> None:
        self.segments = list(segments)
        self.changes: list[dict[str, Any]] = []
        self.counts: dict[str, int] = {}

    def index(self, uid: str) -> int:
        for i, seg in enumerate(self.segments):
            if seg.uid == uid:
                return i
        raise InputError(f"there is no segment {uid} in this transcript")

    def record(self, op: str, uid: str, before: Any, after: Any, **extra: Any) -> None:
        self.changes.append({"op": op, "uid": uid, "before": before, "after": after, **extra})
        self.counts[op] = self.counts.get(op, 0) + 1

    def apply(self, edit: Edit) -> None:
        if isinstance(edit, EditText):
            self._text(edit)
        elif isinstance(edit, Split):
            self._split(edit)
        elif isinstance(edit, Merge):
            self._merge(edit)
        elif isinstance(edit, SetSpeaker):
            i = self.index(edit.uid)
            seg, name = self.segments[i], _clean_speaker(edit.speaker)
            if seg.speaker != name:
                self.segments[i] = seg.with_(speaker=name)
                self.record("speaker", seg.uid, seg.speaker, name)
        elif isinstance(edit, RenameSpeaker):
            old, new = _clean_speaker(edit.old), _clean_speaker(edit.new)
            if not old:
                raise InputError("say which speaker name to rename")
            hits = [i for i, s in enumerate(self.segments) if s.speaker == old]
            if not hits:
                raise InputError(f"no segment has the speaker {old!r}")
            for i in hits:
                self.segments[i] = self.segments[i].with_(speaker=new)
            if old != new:
                self.record("rename-speaker", "", old, new, segments=len(hits))
        elif isinstance(edit, MergeSpeakers):
            self._merge_speakers(edit)
        elif isinstance(edit, ReplaceText):
            self._replace(edit)
        elif isinstance(edit, MarkReviewed):
            i = self.index(edit.uid)
            seg = self.segments[i]
            if seg.reviewed != bool(edit.reviewed):
                self.segments[i] = seg.with_(reviewed=bool(edit.reviewed))
                self.record("reviewed", seg.uid, seg.reviewed, bool(edit.reviewed))
        else:
            raise InputError(f"unknown edit {type(edit).__name__}")

    def _set_text(self, i: int, track: str, text: str, op: str) -> None:
        seg = self.segments[i]
        field = f"text_{track}"
        before = getattr(seg, field)
        if before == text:
            return
        changes: dict[str, Any] = {field: text}
        if track == "en":
            changes["en_machine"] = False  # a person wrote it now
        if seg.lang == track:
            # Word timings belong to the decoded words; after a correction they no longer match.
            changes["words"] = ()
        self.segments[i] = seg.with_(**changes)
        self.record(op, seg.uid, before, text, field=field)

    def _text(self, edit: EditText) -> None:
        i = self.index(edit.uid)
        if edit.text_zh is None and edit.text_en is None:
            raise InputError("an edit needs new Chinese or English text")
        if edit.text_zh is not None:
            self._set_text(i, "zh", _clean_text(edit.text_zh, "the Chinese text"), "text")
        if edit.text_en is not None:
            self._set_text(i, "en", _clean_text(edit.text_en, "the English text"), "text")

    def _merge_speakers(self, edit: MergeSpeakers) -> None:
        source, target = _clean_speaker(edit.source), _clean_speaker(edit.target)
        if not source or not target:
            raise InputError("say which speaker to merge into which")
        if source == target:
            raise InputError(f"{source!r} cannot be merged into itself")
        hits = [i for i, s in enumerate(self.segments) if s.speaker == source]
        if not hits:
            raise InputError(f"no segment has the speaker {source!r}")
        if not any(s.speaker == target for s in self.segments):
            raise InputError(f"no segment has the speaker {target!r}")
        for i in hits:
            self.segments[i] = self.segments[i].with_(speaker=target)
        self.record("merge-speakers", "", source, target, segments=len(hits))

    def _replace(self, edit: ReplaceText) -> None:
        old = _clean_text(edit.old, "the text to replace")
        new = _clean_text(edit.new, "the replacement")
        if not old:
            raise InputError("say which text to replace")
        tracks = (edit.track,) if edit.track else ("zh", "en")
        if any(t not in ("zh", "en") for t in tracks):
            raise InputError("the track is zh or en")
        found = 0
        for i, seg in enumerate(self.segments):
            for track in tracks:
                text = seg.text(track)
                if old in text:
                    found += 1
                    self._set_text(i, track, text.replace(old, new), "replace")
                    seg = self.segments[i]
        if not found:
            raise InputError(f"{old!r} is not in the transcript")

    def _split(self, edit: Split) -> None:
        i = self.index(edit.uid)
        seg = self.segments[i]
        at = float(edit.at)
        if not (seg.start + MIN_PART_SECONDS <= at <= seg.end - MIN_PART_SECONDS):
            raise InputError(
                f"a split must fall inside the segment ({seg.start:.2f}-{seg.end:.2f} s), not at {at:.2f} s"
            )
        fraction = (at - seg.start) / (seg.end - seg.start)
        cuts = {}
        for track, given in (("zh", edit.zh_at), ("en", edit.en_at)):
            text = seg.text(track)
            if given is None:
                cuts[track] = _cut_position(text, fraction)
            elif not 0 <= int(given) <= len(text):
                raise InputError(f"the {track} cut position must be between 0 and {len(text)}")
            else:
                cuts[track] = int(given)
        zh, en = seg.text_zh, seg.text_en
        raw_cut = cuts["zh"] if seg.lang == "zh" else cuts["en"]
        raw_cut = (
            raw_cut if len(seg.text_raw) == len(seg.text(seg.lang or "zh")) else len(seg.text_raw)
        )
        second_uid = new_uid()
        first = seg.with_(
            end=at,
            text_zh=zh[: cuts["zh"]].strip(),
            text_en=en[: cuts["en"]].strip(),
            text_raw=seg.text_raw[:raw_cut].strip(),
            words=tuple(w for w in seg.words if (w.start + w.end) / 2 < at),
        )
        second = seg.with_(
            start=at,
            uid=second_uid,
            text_zh=zh[cuts["zh"] :].strip(),
            text_en=en[cuts["en"] :].strip(),
            text_raw=seg.text_raw[raw_cut:].strip(),
            words=tuple(w for w in seg.words if (w.start + w.end) / 2 >= at),
        )
        self.segments[i : i + 1] = [first, second]
        self.record(
            "split", seg.uid, {"start": seg.start, "end": seg.end, "text_zh": zh, "text_en": en},
            {"at": at, "new_uid": second_uid}, new_uid=second_uid,
        )  # fmt: skip

    def _merge(self, edit: Merge) -> None:
        i = self.index(edit.uid_first)
        j = self.index(edit.uid_second)
        if j != i + 1:
            raise InputError("only a segment and the one right after it can be merged")
        a, b = self.segments[i], self.segments[j]
        merged = a.with_(
            end=max(a.end, b.end),
            text_zh=_join(a.text_zh, b.text_zh),
            text_en=_join(a.text_en, b.text_en),
            text_raw=_join(a.text_raw, b.text_raw),
            en_machine=a.en_machine or b.en_machine,
            reviewed=a.reviewed and b.reviewed,
            speaker=a.speaker or b.speaker,
            words=a.words + b.words,
        )
        self.segments[i : j + 1] = [merged]
        self.record(
            "merge", a.uid,
            {"uids": [a.uid, b.uid], "text_zh": [a.text_zh, b.text_zh], "text_en": [a.text_en, b.text_en]},
            {"text_zh": merged.text_zh, "text_en": merged.text_en}, removed_uid=b.uid,
        )  # fmt: skip

    def summary(self) -> str:
        names = {
            "text": "text edit", "replace": "replacement", "split": "split", "merge": "merge",
            "speaker": "speaker change", "rename-speaker": "speaker rename", "reviewed": "review mark",
            "merge-speakers": "speaker merge",
        }  # fmt: skip
        parts = []
        for op, n in self.counts.items():
            word = names.get(op, op)
            parts.append(f"{n} {word}{'' if n == 1 else 's'}")
        return ", ".join(parts)


def apply_edits(
    catalog: Catalog,
    settings: Settings,
    item_id: str,
    edits: Sequence[Edit],
    *,
    author: str,
    base_revision: int,
    summary: str | None = None,
    notices: list[str] | None = None,
) -> TranscriptRevision:
    """Apply ``edits`` in order to revision ``base_revision`` and store the result as a new revision.

    All or nothing: an invalid edit (unknown uid, a split outside the segment, merging segments that
    are not neighbours …) raises InputError and nothing is saved. When the edits change nothing, no
    revision is made and the current one is returned. InputError if the transcript has moved on
    since ``base_revision`` (someone else saved): reload and redo the edits.

    A withheld speaker stays withheld through the save, renamed or re-spelt
    (:func:`archive.workspace.disclosure.follow_speaker_edits`); what that did is appended to
    ``notices``, one sentence each, for the editor to show.
    """

    author = check_actor(author)
    if not edits:
        raise InputError("there are no edits to save")
    catalog.get_item(item_id)
    with catalog.transaction():
        # Checked under the write lock: two editors cannot both pass this test for one revision.
        latest = catalog.latest_revision_number(item_id)
        if latest is None:
            raise NotFoundError(f"item {item_id} has no transcript to edit")
        if int(base_revision) != latest:
            raise InputError(
                f"the transcript changed since you opened it (revision {latest}); reload"
            )
        current = catalog.get_revision(item_id, latest)
        draft = _Draft(current.segments)
        for edit in edits:
            draft.apply(edit)
        if not draft.changes:
            return current
        text = " ".join(str(summary or "").split())[:500] or draft.summary()
        # Segments come back from the catalog with .redacted set; the flag is not stored per
        # revision (redactions are spans in their own table), so it is cleared, not carried.
        revision = catalog.add_revision(
            item_id,
            [s.with_(redacted=False) for s in draft.segments],
            origin="edit",
            author=author,
            summary=text,
            changes=draft.changes,
            model=current.model,
            decode_language=current.decode_language,
        )
        for change in draft.changes:
            if change["op"] in SPEAKER_AUDIT:
                write_audit(
                    catalog.conn, actor=author, action=SPEAKER_AUDIT[change["op"]],
                    item_id=item_id, target=change["uid"] or str(change["before"]),
                    old_value=str(change["before"]), new_value=str(change["after"]),
                )  # fmt: skip
        # Before the index sees the new names: a renamed withheld speaker is indexed by its label.
        noted = follow_speaker_edits(
            catalog, item_id, current.segments, draft.segments, actor=author
        )
        if notices is not None:
            notices.extend(noted)
        # Indexed before the commit: an edit often removes words (a name corrected away); if
        # the index cannot follow, the save fails and can be retried.
        reindex_item(settings, catalog, item_id)
    return catalog.get_revision(item_id, revision.revision)


def revision_history(catalog: Catalog, item_id: str, viewer: Viewer) -> list[HistoryEntry]:
    """The revisions of an item's transcript, newest first, as ``viewer`` may see them.

    Staff get each revision's changes (with before/after text, redacted segments included) and
    author; anyone else gets numbers, dates and summaries only — a change record can quote a
    segment that is redacted now, and staff names are not for the public.
    """
    visible_item(catalog, item_id, viewer)
    out = []
    for rev in reversed(catalog.list_revisions(item_id)):
        out.append(
            HistoryEntry(
                revision=rev.revision,
                origin=rev.origin,
                author=rev.author if viewer.is_staff else None,
                summary=rev.summary if viewer.is_staff else "",
                created_at=rev.created_at,
                changes=rev.changes if viewer.is_staff else (),
            )
        )
    return out
