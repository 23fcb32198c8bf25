"""Keeping the speakers' names through a re-transcription.

A new machine transcript of an item has new segment boundaries and new uids, and either no
speakers at all (Whisper alone) or fresh diarization labels ("Speaker 1", …). The names staff gave
in the previous revision are carried over by time: whoever spoke most of a stretch of the
recording before still spoke it now.

:func:`carry_speakers` promises:

* a new segment **without a speaker** takes the speaker of the previous revision who overlaps it
  longest (none overlapping: it stays without one);
* a new **label** (diarization) becomes the previous name that overlaps that label's segments
  longest in all; each previous name goes to one label only (the label with most overlap wins),
  so two people are never joined into one by a re-transcription; a label that gets no name keeps
  its own, unless that is a name given to another label (then it gets the first free
  "Speaker N");
* everything else about the segments (text, times, uids, words) is left as it is.

Derived from the previous revision's segments rather than from a name table of its own, so that
what staff see in the editor (the segments) is the whole truth of who spoke: a rename, merge or
one-segment change there is carried without any second place to keep in step.
"""

from __future__ import annotations

from collections.abc import Sequence

from transcripts.segments import Segment

__all__ = ["carry_speakers"]


def _overlap(a: Segment, b: Segment) -> float:
    return max(0.0, min(a.end, b.end) - max(a.start, b.start))


def _named_overlaps(seg: Segment, previous: Sequence[Segment]) -> dict[str, float]:
    found: dict[str, float] = {}
    for old in previous:
        if not old.speaker:
            continue
        if seg.end <= seg.start:  # an instant: whoever was speaking at that moment
            amount = 1.0 if old.start <= seg.start < old.end else 0.0
        else:
            amount = _overlap(seg, old)
        if amount > 0:
            found[old.speaker] = found.get(old.speaker, 0.0) + amount
    return found


def _best(found: dict[str, float]) -> str:
    # The longest overlap; on a tie the name that comes first alphabetically (stable output).
    return min(found, key=lambda name: (-found[name], name)) if found else ""


def carry_speakers(previous: Sequence[Segment], new: Sequence[Segment]) -> list[Segment]:
    """``new`` with the speakers' names of ``previous`` carried over by time (see the module)."""
    if not any(s.speaker for s in previous):
        return list(new)
    per_segment = [_named_overlaps(seg, previous) for seg in new]
    # Labels the new transcript brought: total overlap of each label with each previous name.
    by_label: dict[str, dict[str, float]] = {}
    for seg, found in zip(new, per_segment, strict=True):
        if seg.speaker:
            totals = by_label.setdefault(seg.speaker, {})
            for name, amount in found.items():
                totals[name] = totals.get(name, 0.0) + amount
    pairs = sorted(
        ((amount, label, name) for label, t in by_label.items() for name, amount in t.items()),
        key=lambda p: (-p[0], p[1], p[2]),
    )
    mapping: dict[str, str] = {}
    for _amount, label, name in pairs:
        if label not in mapping and name not in mapping.values():
            mapping[label] = name
    given = set(mapping.values())
    taken = given | set(by_label)
    n = 1
    for label in by_label:
        if label in mapping:
            continue
        if label not in given:
            mapping[label] = label
            continue
        while f"Speaker {n}" in taken:
            n += 1
        mapping[label] = f"Speaker {n}"
        taken.add(mapping[label])
    out = []
    for seg, found in zip(new, per_segment, strict=True):
        speaker = mapping[seg.speaker] if seg.speaker else _best(found)
        out.append(seg if speaker == seg.speaker else seg.with_(speaker=speaker))
    return out
