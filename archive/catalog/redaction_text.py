"""Redacting words inside a segment: find the words however they are written, and mask them.

A *text-span* redaction (:mod:`archive.workspace.visibility`) is a span of the recording plus the
words said in it (one form or several: the Chinese words and the same words in English). Below
staff, every segment of every revision that overlaps its span is shown with those words replaced
by :data:`MARK`, while the rest of the sentence stays. What this module promises:

* **Found however written.** The words are matched by :func:`match_key`: compatibility forms
  unified (NFKC), Traditional, Hong Kong and Simplified characters folded alike, case folded, and
  everything but letters and digits ignored, so a later revision, a re-transcription or a subtitle
  import that spells or spaces them differently is still masked.
* **Safety first where they cannot be found.** A track (Chinese, English, the decoder's raw text)
  of an overlapping segment in which no form of the words can be found is hidden whole: a
  translation says the same thing in other words, and a re-transcription may have heard them
  differently. A segment in none of whose tracks they can be found is hidden whole
  (``Segment.redacted``), exactly as a time-range redaction hides it.
* **Word timings** overlapping the span are dropped, and all of them when the words still stand
  in what is left.

:func:`mask_segment` is what :func:`archive.catalog.access.present_segments` applies below staff;
the search index applies it for every role (:mod:`indexer.schema`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence

from archive.catalog.models import overlaps
from transcripts.chinese import fold
from transcripts.segments import Segment

__all__ = ["MARK", "TRACK_FIELDS", "find_spans", "mask_segment", "mask_text", "match_key"]

# What stands in the text for the masked words: the same for any length (the length of a name
# must not be told) and in neither language.
MARK = "█████"
TRACK_FIELDS = ("text_zh", "text_en", "text_raw")


def _keyed(text: str) -> tuple[str, list[int]]:
    """``text``'s match key and, for each of its characters, the index in ``text`` it came from."""
    chars: list[str] = []
    where: list[int] = []
    for i, c in enumerate(text):
        for k in fold(unicodedata.normalize("NFKC", c)).casefold():
            if k.isalnum():
                chars.append(k)
                where.append(i)
    return "".join(chars), where


def match_key(text: str) -> str:
    """What identifies words however they are written (see the module); "" when nothing is left."""
    return _keyed(str(text or ""))[0]


def find_spans(text: str, forms: Iterable[str]) -> list[tuple[int, int]]:
    """Where any of ``forms`` stands in ``text``: ``(first, stop)`` character ranges of ``text``,
    sorted and merged. A form with no letters or digits finds nothing."""
    key, where = _keyed(text)
    found: list[tuple[int, int]] = []
    for form in forms:
        needle = match_key(form)
        if not needle:
            continue
        at = key.find(needle)
        while at >= 0:
            found.append((where[at], where[at + len(needle) - 1] + 1))
            at = key.find(needle, at + 1)
    merged: list[tuple[int, int]] = []
    for a, b in sorted(found):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def mask_text(text: str, forms: Iterable[str]) -> str | None:
    """``text`` with every occurrence of any form replaced by :data:`MARK`; None when none is in
    it (the caller hides the track whole)."""
    spans = find_spans(text, forms)
    if not spans:
        return None
    out, at = [], 0
    for a, b in spans:
        out.append(text[at:a])
        out.append(MARK)
        at = b
    out.append(text[at:])
    return "".join(out)


def mask_segment(segment: Segment) -> Segment:
    """The segment as it is shown below staff under its text-span redactions
    (``segment.partial_redactions``): the words masked in each track, a track where they cannot be
    found emptied, and the segment marked ``redacted`` (hidden whole) when they are in none.
    A segment with no text-span redaction comes back unchanged."""
    parts = segment.partial_redactions
    if not parts:
        return segment
    if segment.redacted:  # hidden whole anyway; the words it carries go too
        return segment.with_(partial_redactions=())
    fields = {name: getattr(segment, name) for name in TRACK_FIELDS}
    words = list(segment.words)
    for start, end, forms in parts:
        found_any = False
        for name, value in fields.items():
            if not value.strip():
                continue
            masked = mask_text(value, forms)
            fields[name] = masked if masked is not None else ""
            found_any = found_any or masked is not None
        if not found_any:
            return segment.with_(redacted=True, partial_redactions=())
        words = [w for w in words if not overlaps(w.start, w.end, start, end)]
        if find_spans("".join(w.text for w in words), forms):
            words = []
    if not any(fields[name].strip() for name in ("text_zh", "text_en")):
        return segment.with_(redacted=True, partial_redactions=())
    return segment.with_(**fields, words=tuple(words), partial_redactions=())


def mask_segments(segments: Sequence[Segment]) -> tuple[Segment, ...]:
    """:func:`mask_segment` of each."""
    return tuple(mask_segment(s) for s in segments)
