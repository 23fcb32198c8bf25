"""Where a speaker's turn begins in a transcript: the rows that name their speaker.

A reader of the player, the light portal or the mirror sees the speaker's name where the speaker
changes, not on every line. :func:`turn_starts` is the one rule: a segment begins a turn when it
has a speaker and the segment before it (in the order given) had another, or none. The first row
of a part of a transcript shown alone (a page of the light portal) begins one whenever it has a
speaker, since the rows above it are not on screen.

It reads only ``speaker``: the caller passes segments as the reader may see them (below staff a
withheld speaker is already its label, :func:`archive.catalog.access.visible_revision`).
"""

from __future__ import annotations

from collections.abc import Iterable

from .segments import Segment

__all__ = ["turn_starts"]


def turn_starts(segments: Iterable[Segment]) -> list[bool]:
    """For each segment, whether it begins a speaker's turn (and so is labelled with its name)."""
    starts: list[bool] = []
    previous = ""
    for segment in segments:
        starts.append(bool(segment.speaker) and segment.speaker != previous)
        previous = segment.speaker
    return starts
