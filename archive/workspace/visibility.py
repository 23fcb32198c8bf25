"""Who may see an item (public / members / staff, with an optional embargo) and redacted spans.

Every change here writes an audit row (who, when, from, to) in the same transaction as the change,
then brings the search index up to date for that one item and, for redactions, the silenced public
copy of its media (:mod:`archive.media.renditions`).

An embargo keeps an item at its current level until a date, then opens it to the chosen level
(``set_visibility(…, "staff", embargo_until="2026-06-04", embargo_visibility="public")``). Only
*opening* embargoes are accepted: the search index holds a snapshot of each item's level, refreshed
by :func:`apply_embargoes`; between the date and that refresh the index errs on the side of hiding.
An embargo that would *close* an item at a date would instead leave it findable until the refresh.

A redaction is a span of the recording (seconds from–to), not a segment: every segment of every
revision that overlaps it at all (old, citable revisions, and the ones a later edit, subtitle
import or transcription makes, whatever their uids) is hidden whole below staff — both tracks, the
raw text, words and speaker — (:meth:`archive.catalog.db.Catalog.get_revision` sets
``Segment.redacted``), and the span is silenced in the media they hear. Lifting one is audited.

A *text-span* redaction (:func:`redact_words`) hides only some words of a segment: the span is
where they are said (from the segment's word timings, else the whole segment) and it keeps the
words themselves (one form or several, e.g. the Chinese and the English). Below staff every
segment of every revision overlapping the span shows the words masked and the rest of the sentence
(:mod:`archive.catalog.redaction_text`: a track where they cannot be found is hidden whole), and
the span is silenced. The audit log names the span, never the words.

>>> set_visibility(catalog, settings, item_id, "members", actor="alice")
>>> redact(catalog, settings, item_id, start=754.2, end=759.8, actor="alice",
...        reason="names a worker's relative")
>>> [e.action for e in audit_log(catalog, item_id)]
['redact', 'visibility']
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from archive.catalog.audit import AuditEntry, audit_log, check_actor, write_audit
from archive.catalog.db import Catalog
from archive.catalog.models import Item, Job, embargo_instant, now_utc, overlaps, role_allows
from archive.catalog.redaction_text import TRACK_FIELDS, find_spans, match_key
from archive.core.config import ROLES, Settings
from archive.core.errors import InputError, NotFoundError
from archive.core.plugins import JobProgress, PeriodicTask
from archive.ingest.pipeline import reindex_item
from archive.media.renditions import refresh_public_media
from transcripts.segments import Segment

__all__ = [
    "AuditEntry",
    "Redaction",
    "apply_embargoes",
    "audit_log",
    "describe_visibility",
    "embargo_job",
    "get_redaction",
    "list_redactions",
    "redact",
    "redact_segment",
    "redact_words",
    "redactions_overlapping",
    "segment_at",
    "set_visibility",
    "span_label",
    "unredact",
]

log = logging.getLogger(__name__)

MAX_REASON = 500


def span_label(start: float, end: float) -> str:
    """``0:04.20–0:07.00``: a span as staff read it (hours shown from one hour on)."""

    def stamp(seconds: float) -> str:
        hundredths = round(seconds * 100)
        minutes, rest = divmod(hundredths, 6000)
        hours, minutes = divmod(minutes, 60)
        secs = f"{rest // 100:02d}.{rest % 100:02d}"
        return f"{hours}:{minutes:02d}:{secs}" if hours else f"{minutes}:{secs}"

    return f"{stamp(start)}–{stamp(end)}"


@dataclass(frozen=True)
class Redaction:
    """A span of a recording hidden below staff: text of every revision, and the sound."""

    id: int
    item_id: str
    start: float  # seconds
    end: float
    reason: str
    created_by: str
    created_at: str
    origin_uid: str | None = None  # the segment it was made from (information only)
    # A text-span redaction's words (forms of them); empty: the overlapping segments go whole.
    texts: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return span_label(self.start, self.end)

    @property
    def target(self) -> str:
        """How the audit log names it: ``redaction 3 (0:04.20–0:07.00)``, with ``, words`` for
        a text-span one (never the words themselves)."""
        return f"redaction {self.id} ({self.label}{', words' if self.texts else ''})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "item_id": self.item_id,
            "start": self.start,
            "end": self.end,
            "reason": self.reason,
            "created_by": self.created_by,
            "created_at": self.created_at,
            "origin_uid": self.origin_uid,
            "texts": list(self.texts),
        }


def describe_visibility(
    visibility: str, embargo_until: str | None, embargo_visibility: str | None
) -> str:
    """The audit form of an item's level: ``members`` or ``staff until 2026-06-04, then public``."""
    if embargo_until and embargo_visibility:
        return f"{visibility} until {embargo_until}, then {embargo_visibility}"
    return visibility


def _describe(item: Item) -> str:
    return describe_visibility(item.visibility, item.embargo_until, item.embargo_visibility)


def _check_embargo_date(value: str, now: datetime) -> str:
    text = str(value).strip()
    try:
        if len(text) == 10:
            datetime.strptime(text, "%Y-%m-%d")
        else:
            moment = datetime.fromisoformat(text)
            if moment.tzinfo is None:
                raise ValueError
            text = moment.astimezone(UTC).isoformat(timespec="seconds")
    except ValueError as exc:
        raise InputError(
            f"the embargo date {value!r} is not YYYY-MM-DD (or an ISO time with a zone)"
        ) from exc
    if embargo_instant(text) <= now.isoformat(timespec="seconds"):
        raise InputError(f"the embargo date {text} has already passed")
    return text


def _reindex(settings: Settings, catalog: Catalog, item_id: str) -> None:
    reindex_item(settings, catalog, item_id)


def set_visibility(
    catalog: Catalog,
    settings: Settings,
    item_id: str,
    visibility: str,
    *,
    actor: str,
    embargo_until: str | None = None,
    embargo_visibility: str | None = None,
    now: datetime | None = None,
) -> Item:
    """Set who may see an item now and, optionally, the level it opens to at ``embargo_until``.

    Without an embargo any earlier embargo is cleared: the item is exactly what was asked.
    ``embargo_until`` is a date (midnight UTC at its start) or an ISO time with a zone.
    """
    actor = check_actor(actor)
    if visibility not in ROLES:
        raise InputError(f"visibility must be one of {', '.join(ROLES)}, not {visibility!r}")
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    if bool(embargo_until) != bool(embargo_visibility):
        raise InputError("an embargo needs both a date and the level it opens to (--then)")
    if embargo_until and embargo_visibility:
        if embargo_visibility not in ROLES:
            raise InputError(f"the level after the embargo must be one of {', '.join(ROLES)}")
        if role_allows(embargo_visibility, visibility):
            raise InputError(
                f"an embargo opens an item up: after it the level must be wider than {visibility}"
            )
        embargo_until = _check_embargo_date(embargo_until, moment)
    widening = False
    with catalog.transaction() as conn:
        before = catalog.get_item(item_id)
        wanted = (visibility, embargo_until or None, embargo_visibility or None)
        if (before.visibility, before.embargo_until, before.embargo_visibility) != wanted:
            catalog.update_item(
                item_id,
                visibility=visibility,
                embargo_until=wanted[1],
                embargo_visibility=wanted[2],
            )
            write_audit(
                conn, actor=actor, action="visibility", item_id=item_id,
                old_value=_describe(before), new_value=describe_visibility(*wanted),
            )  # fmt: skip
            after = catalog.get_item(item_id)
            # Wider: the new level lets in a lower role than the old one did.
            widening = ROLES.index(after.effective_visibility()) < ROLES.index(
                before.effective_visibility()
            )
            if not widening:
                # Hiding: the index is updated before the change commits, so a failed index
                # update undoes the change (an error to retry) instead of leaving the item
                # findable by people who may no longer see it.
                _reindex(settings, catalog, item_id)
    if widening:
        # Opening up: index after the commit; if that fails the index errs on hiding.
        _reindex(settings, catalog, item_id)
    return catalog.get_item(item_id)


def apply_embargoes(
    settings: Settings, catalog: Catalog, *, now: datetime | None = None
) -> list[str]:
    """Open every item whose embargo date has passed; returns their ids.

    The item takes its after-embargo level for good (the embargo fields are cleared, an
    ``embargo-lifted`` audit row written by ``system:embargo``) and is re-indexed, so the search
    index, lists and feeds that read the stored level all agree. Safe to run as often as liked.
    The worker runs it every ten minutes (``archive.jobs.queue.PERIODIC_TASKS``).
    """
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    stamp = moment.isoformat(timespec="seconds")
    due = [
        row["id"]
        for row in catalog.conn.execute(
            "SELECT id, embargo_until FROM items WHERE embargo_until IS NOT NULL AND embargo_visibility IS NOT NULL"
        )
        if embargo_instant(row["embargo_until"]) <= stamp
    ]
    opened = []
    for item_id in due:
        with catalog.transaction() as conn:
            item = catalog.find_item(item_id)
            if item is None or not (item.embargo_until and item.embargo_visibility):
                continue  # changed meanwhile by someone else
            if embargo_instant(item.embargo_until) > stamp:
                continue
            catalog.update_item(
                item_id,
                visibility=item.embargo_visibility,
                embargo_until=None,
                embargo_visibility=None,
            )
            write_audit(
                conn, actor="system:embargo", action="embargo-lifted", item_id=item_id,
                old_value=_describe(item), new_value=item.embargo_visibility,
            )  # fmt: skip
        opened.append(item_id)
        _reindex(settings, catalog, item_id)
        log.info("embargo of %s lifted", item_id)
    return opened


# Every ten minutes, the worker lifts the embargoes whose date has passed.
EMBARGO_TASK = PeriodicTask("archive.embargoes", {"minute": "*/10"}, apply_embargoes)


def embargo_job(
    settings: Settings, catalog: Catalog, job: Job, report: JobProgress
) -> dict[str, Any]:
    """Job handler (kind ``embargoes``): :func:`apply_embargoes` as a queued job."""
    return {"opened": apply_embargoes(settings, catalog)}


# -- redactions ---------------------------------------------------------------------------------
def _row_redaction(row: Any) -> Redaction:
    return Redaction(
        id=int(row["id"]),
        item_id=row["item_id"],
        start=float(row["start"]),
        end=float(row["end"]),
        reason=row["reason"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        origin_uid=row["origin_uid"],
        texts=tuple(json.loads(row["texts"])) if row["texts"] is not None else (),
    )


_COLUMNS = 'id, item_id, start, "end", reason, created_by, created_at, origin_uid, texts'


def list_redactions(catalog: Catalog, item_id: str) -> list[Redaction]:
    """The item's redactions, in the order they play."""
    return [
        _row_redaction(r)
        for r in catalog.conn.execute(
            f'SELECT {_COLUMNS} FROM redactions WHERE item_id = ? ORDER BY start, "end", id',
            (item_id,),
        )
    ]


def get_redaction(catalog: Catalog, item_id: str, redaction_id: int) -> Redaction:
    """One redaction of the item; NotFoundError when the item has no redaction with that id."""
    row = catalog.conn.execute(
        f"SELECT {_COLUMNS} FROM redactions WHERE item_id = ? AND id = ?",
        (item_id, int(redaction_id)),
    ).fetchone()
    if row is None:
        raise NotFoundError(f"item {item_id} has no redaction {redaction_id}")
    return _row_redaction(row)


def redactions_overlapping(
    catalog: Catalog, item_id: str, start: float, end: float | None = None
) -> list[Redaction]:
    """The item's redactions that cover the moment ``start`` (``end`` None) or overlap the range
    ``start``–``end`` (a segment's span), by the same rule that hides segments."""
    stop = start if end is None else end
    return [r for r in list_redactions(catalog, item_id) if overlaps(start, stop, r.start, r.end)]


def segment_at(catalog: Catalog, item_id: str, seconds: float) -> Segment:
    """The latest revision's segment playing at ``seconds`` (for ``--at`` and the editor)."""
    rev = catalog.get_revision(item_id)
    for seg in rev.segments:
        if seg.start <= seconds < seg.end:
            return seg
    raise NotFoundError(f"no segment of item {item_id} plays at {seconds:g} s")


def _segment_by_uid(catalog: Catalog, item_id: str, uid: str) -> Segment:
    for seg in catalog.get_revision(item_id).segments:
        if seg.uid == uid:
            return seg
    raise NotFoundError(f"the latest transcript of item {item_id} has no segment {uid}")


def _refresh_media(settings: Settings, catalog: Catalog, item_id: str, rebuild_media: bool) -> None:
    # Stale silenced copies go at once either way (a new name is computed from the new spans, so
    # they would never be served again); building the new ones can wait for the first listener.
    refresh_public_media(settings, catalog, item_id, build=rebuild_media)


def _check_span(start: Any, end: Any) -> tuple[float, float]:
    try:
        a, b = float(start), float(end)
    except (TypeError, ValueError) as exc:
        raise InputError("a redaction's start and end are numbers of seconds") from exc
    if not (math.isfinite(a) and math.isfinite(b)) or a < 0:
        raise InputError("a redaction starts at 0 s or later and ends at a finite time")
    # Kept exactly as given, not rounded: a span made from a segment must end exactly where the
    # next segment starts, or it would hide that neighbour too.
    if b <= a:
        raise InputError(f"a redaction must end after it starts ({a:g} s to {b:g} s)")
    return a, b


def redact(
    catalog: Catalog,
    settings: Settings,
    item_id: str,
    *,
    start: float,
    end: float,
    actor: str,
    reason: str = "",
    rebuild_media: bool = True,
    origin_uid: str | None = None,
    texts: tuple[str, ...] = (),
) -> Redaction:
    """Hide the span ``start``–``end`` (seconds) of a recording from everyone below staff.

    Every segment of every revision (past ones, and ones made later) that overlaps the span is
    hidden whole, in both tracks, on every route; the span is silenced in the media they hear.
    InputError when one earlier redaction already covers the whole span. ``origin_uid`` (the
    segment it was made from, if any) is kept for information only. With ``texts`` (use
    :func:`redact_words`) only those words are hidden of the segments overlapping the span.
    """
    actor = check_actor(actor)
    reason = " ".join(str(reason or "").split())
    if len(reason) > MAX_REASON:
        raise InputError(f"a redaction reason may have at most {MAX_REASON} characters")
    start, end = _check_span(start, end)
    catalog.get_item(item_id)
    with catalog.transaction() as conn:
        covering = conn.execute(
            'SELECT id FROM redactions WHERE item_id = ? AND start <= ? AND "end" >= ? '
            # A text-span redaction hides only words: it does not cover a whole-span one.
            "AND (texts IS NULL OR texts = ?) ORDER BY id LIMIT 1",
            (item_id, start, end, _texts_json(texts) if texts else None),
        ).fetchone()
        if covering:
            raise InputError(
                f"{span_label(start, end)} of item {item_id} is already redacted "
                f"(redaction {covering[0]})"
            )
        stamp = now_utc()
        cur = conn.execute(
            'INSERT INTO redactions (item_id, start, "end", reason, created_by, created_at, '
            "origin_uid, texts) VALUES (?,?,?,?,?,?,?,?)",
            (item_id, start, end, reason, actor, stamp, origin_uid,
             _texts_json(texts) if texts else None),
        )  # fmt: skip
        made = Redaction(int(cur.lastrowid or 0), item_id, start, end, reason, actor, stamp,
                         origin_uid, tuple(texts))  # fmt: skip
        write_audit(
            conn, actor=actor, action="redact", item_id=item_id, target=made.target,
            old_value="visible", new_value=f"redacted: {reason}" if reason else "redacted", at=stamp,
        )  # fmt: skip
        # Indexed before the commit: if the index cannot be updated, the redaction is not made
        # (an error to retry) rather than made while the sentence stays searchable.
        _reindex(settings, catalog, item_id)
    _refresh_media(settings, catalog, item_id, rebuild_media)
    return made


def redact_segment(
    catalog: Catalog,
    settings: Settings,
    item_id: str,
    *,
    actor: str,
    at: float | None = None,
    uid: str | None = None,
    reason: str = "",
    rebuild_media: bool = True,
) -> Redaction:
    """Redact the span of one segment of the latest revision: the one playing at ``at`` seconds,
    or the one with ``uid`` (what ``archive redact --at`` and the editor's button do)."""
    if (at is None) == (uid is None):
        raise InputError("say which segment: a moment or a segment id")
    seg = (
        segment_at(catalog, item_id, float(at))
        if at is not None
        else _segment_by_uid(catalog, item_id, str(uid))
    )
    return redact(
        catalog, settings, item_id, start=seg.start, end=seg.end, actor=actor, reason=reason,
        rebuild_media=rebuild_media, origin_uid=seg.uid,
    )  # fmt: skip


def _texts_json(texts: tuple[str, ...] | list[str]) -> str:
    return json.dumps(list(texts), ensure_ascii=False)


_TRACK_NAMES = {"zh": "Chinese", "en": "English"}


def _words_span(seg: Segment, forms: tuple[str, ...]) -> tuple[float, float]:
    """Where ``forms`` are said in ``seg``: from its word timings when they hold the words, else
    the whole segment (exactly its bounds, not rounded: a neighbour must not be touched)."""
    words = [w for w in seg.words if w.end > w.start]
    owner: list[int] = []
    for i, w in enumerate(words):
        owner.extend([i] * len(match_key(w.text)))
    joined = match_key("".join(w.text for w in words))
    hit: list[int] = []
    for form in forms:
        needle = match_key(form)
        at = joined.find(needle) if needle and len(owner) == len(joined) else -1
        while at >= 0:
            hit.extend((owner[at], owner[at + len(needle) - 1]))
            at = joined.find(needle, at + 1)
    if not hit:
        return seg.start, seg.end
    return max(seg.start, words[min(hit)].start), min(seg.end, words[max(hit)].end)


def redact_words(
    catalog: Catalog,
    settings: Settings,
    item_id: str,
    *,
    actor: str,
    at: float | None = None,
    uid: str | None = None,
    text: str | None = None,
    chars: tuple[int, int] | None = None,
    track: str = "zh",
    also: tuple[str, ...] | list[str] = (),
    reason: str = "",
    rebuild_media: bool = True,
) -> Redaction:
    """Hide some words of one segment of the latest revision below staff, keeping the rest.

    The segment is the one playing at ``at`` seconds or the one with ``uid``; the words are
    ``text`` as they stand in it, or the characters ``chars = (first, stop)`` of its ``track``
    (``zh`` or ``en``) text. ``also`` gives other forms of the same words (the English of a
    Chinese name) to mask wherever they stand. InputError, and nothing stored, when the words are
    empty, outside the text, or not in the segment.
    """
    if (at is None) == (uid is None):
        raise InputError("say which segment: a moment or a segment id")
    seg = (
        segment_at(catalog, item_id, float(at))
        if at is not None
        else _segment_by_uid(catalog, item_id, str(uid))
    )
    where = f"segment {seg.uid} ({span_label(seg.start, seg.end)})"
    if (text is None) == (chars is None):
        raise InputError("say which words to redact: their text or a range of characters")
    if chars is not None:
        if track not in _TRACK_NAMES:
            raise InputError(f"the track is zh or en, not {track!r}")
        field_text = seg.text(track)
        try:
            first, stop = int(chars[0]), int(chars[1])
        except (TypeError, ValueError, IndexError) as exc:
            raise InputError("a range of characters is two whole numbers, FIRST:STOP") from exc
        if not 0 <= first < stop <= len(field_text):
            raise InputError(
                f"characters {first}–{stop} are not a range inside the {_TRACK_NAMES[track]} "
                f"text of {where}, which has {len(field_text)} characters (0–{len(field_text)}, "
                "first before stop)"
            )
        text = field_text[first:stop]
    words = " ".join(str(text or "").split())
    if not words:
        raise InputError(f"say which words of {where} to redact: the text given is empty")
    forms = (words, *(f for f in (" ".join(str(a).split()) for a in also) if f))
    for form in forms:
        if not match_key(form):
            raise InputError("the words to redact must hold a letter or a digit")
        if not any(find_spans(getattr(seg, name), (form,)) for name in TRACK_FIELDS):
            raise InputError(
                f"the words to redact are not in the text of {where} as the latest revision has "
                "it; copy them exactly from it"
            )
    start, end = _words_span(seg, forms)
    return redact(
        catalog, settings, item_id, start=start, end=end, actor=actor, reason=reason,
        rebuild_media=rebuild_media, origin_uid=seg.uid, texts=forms,
    )  # fmt: skip


def unredact(
    catalog: Catalog,
    settings: Settings,
    item_id: str,
    redaction_id: int,
    *,
    actor: str,
    rebuild_media: bool = True,
) -> Redaction:
    """Lift one redaction (by its id): what only it hid shows again to those who may see the
    item. The lifting is in the audit log (who, when, which span, its reason).
    NotFoundError when the item has no such redaction."""
    actor = check_actor(actor)
    catalog.get_item(item_id)
    with catalog.transaction() as conn:
        lifted = get_redaction(catalog, item_id, redaction_id)
        conn.execute("DELETE FROM redactions WHERE id = ?", (lifted.id,))
        write_audit(
            conn, actor=actor, action="unredact", item_id=item_id, target=lifted.target,
            old_value=f"redacted: {lifted.reason}" if lifted.reason else "redacted",
            new_value="visible",
        )  # fmt: skip
    # Showing text again: indexed after the commit (a failure leaves it hidden, not exposed).
    _reindex(settings, catalog, item_id)
    _refresh_media(settings, catalog, item_id, rebuild_media)
    return lifted
