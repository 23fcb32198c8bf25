"""The catalog's records and the rules on their values, without any database.

Frozen dataclasses for what the catalog hands out (:class:`Item`, :class:`MediaFile`,
:class:`TranscriptRevision`, :class:`Job`), the allowed values of their fields (collections,
languages, visibility levels, job states) and the small rules every layer applies to them: which
role may see which level (:func:`role_allows`), when an embargo ends (:func:`embargo_instant`),
whether a time range touches a span (:func:`overlaps`), dates as the catalog stores them
(:func:`normalise_date`) and the timestamp format (:func:`now_utc`). Reading and writing them is
:mod:`archive.catalog.db`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from archive.core.config import ROLES
from archive.core.errors import InputError
from transcripts.segments import Segment

__all__ = [
    "COLLECTIONS",
    "ITEM_EDITABLE",
    "JOB_STATES",
    "LANGUAGES",
    "VISIBILITIES",
    "Item",
    "Job",
    "MediaFile",
    "TranscriptRevision",
    "embargo_instant",
    "normalise_date",
    "now_utc",
    "overlaps",
    "role_allows",
]

COLLECTIONS = ("webinar", "interview", "strike-anniversary", "other")
LANGUAGES = ("auto", "yue", "zh", "en")
VISIBILITIES = ROLES
JOB_STATES = ("queued", "running", "done", "failed", "cancelled")


def now_utc() -> str:
    """The current time in UTC as the catalog stores it: ISO 8601, whole seconds, ``+00:00``."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def role_allows(role: str, visibility: str) -> bool:
    """Whether a viewer of ``role`` may see something marked ``visibility``."""
    return ROLES.index(role) >= ROLES.index(visibility)


def overlaps(start: float, end: float, span_start: float, span_end: float) -> bool:
    """Whether the time range ``start``–``end`` shares a positive length with a span.

    Ranges that only touch (one ends where the other starts) do not overlap. A range of zero
    length (a point) overlaps a span it falls inside (start included, end excluded).
    """
    if end <= start:
        return span_start <= start < span_end
    return start < span_end and end > span_start


def embargo_instant(value: str) -> str:
    """An ``embargo_until`` value as an instant comparable with :func:`now_utc` strings.

    A bare date (``YYYY-MM-DD``) means midnight UTC at the start of that day; a full timestamp
    is returned as it is.
    """
    return f"{value}T00:00:00+00:00" if len(value) == 10 else value


def normalise_date(text: str) -> str:
    """Accept YYYY, YYYY-MM, YYYY-MM-DD or yt-dlp's YYYYMMDD; return the ISO form."""
    raw = str(text).strip()
    if len(raw) == 8 and raw.isdigit():
        raw = f"{raw[:4]}-{raw[4:6]}-{raw[6:]}"
    for fmt, width in (("%Y-%m-%d", 10), ("%Y-%m", 7), ("%Y", 4)):
        try:
            datetime.strptime(raw, fmt)
        except ValueError:
            continue
        if len(raw) == width:
            return raw
    raise InputError(f"the date {text!r} is not YYYY, YYYY-MM or YYYY-MM-DD")


@dataclass(frozen=True)
class Item:
    """One archived recording's details (a row of ``items``); lists are tuples, so it is hashable."""

    id: str
    title_zh: str = ""
    title_en: str = ""
    description_zh: str = ""
    description_en: str = ""
    collection: str = "other"
    recorded_date: str | None = None
    speakers: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    language: str = "auto"
    detected_language: str | None = None
    visibility: str = "staff"
    embargo_until: str | None = None
    embargo_visibility: str | None = None
    source_url: str | None = None
    uploader: str | None = None
    chapters: tuple[dict[str, Any], ...] = ()
    is_demo: bool = False
    created_at: str = ""
    updated_at: str = ""
    series_id: str | None = None
    source_public: bool = False
    # (name, label) pairs: below staff the label stands for the name (archive.catalog.access.present_item).
    withheld_speakers: tuple[tuple[str, str], ...] = ()

    @property
    def year(self) -> int | None:
        if self.recorded_date and self.recorded_date[:4].isdigit():
            return int(self.recorded_date[:4])
        return None

    def effective_visibility(self, at: datetime | None = None) -> str:
        """The level in force now: an embargoed item takes its chosen level once the date passes."""
        if self.embargo_until and self.embargo_visibility:
            moment = (at or datetime.now(UTC)).isoformat(timespec="seconds")
            if moment >= embargo_instant(self.embargo_until):
                return self.embargo_visibility
        return self.visibility

    @property
    def title(self) -> str:
        return self.title_en or self.title_zh or self.id

    def to_dict(self) -> dict[str, Any]:
        return {
            f.name: (
                list(getattr(self, f.name))
                if isinstance(getattr(self, f.name), tuple)
                else getattr(self, f.name)
            )
            for f in fields(self)
        }


# The fields of Item that create_item and update_item accept (``id`` is chosen once, on create).
ITEM_EDITABLE = (
    "title_zh",
    "title_en",
    "description_zh",
    "description_en",
    "collection",
    "recorded_date",
    "speakers",
    "tags",
    "language",
    "detected_language",
    "visibility",
    "embargo_until",
    "embargo_visibility",
    "source_url",
    "uploader",
    "chapters",
    "is_demo",
    "series_id",
    "source_public",
    "withheld_speakers",
)


@dataclass(frozen=True)
class MediaFile:
    """A stored media file of an item: its original or the audio derivative (a row of ``media``)."""

    id: int
    item_id: str
    role: str  # "original" or "audio" (the playback/transcription derivative)
    sha256: str
    size: int
    duration: float | None
    container: str | None
    streams: tuple[dict[str, Any], ...]
    mime: str | None
    path: str  # relative to the data folder
    original_name: str | None
    created_at: str

    @property
    def has_video(self) -> bool:
        return any(s.get("codec_type") == "video" for s in self.streams)


@dataclass(frozen=True)
class TranscriptRevision:
    """One numbered revision of an item's transcript, with its segments when read with them."""

    id: int
    item_id: str
    revision: int
    origin: str  # whisper | subtitles | edit | source-subtitles
    model: str | None
    decode_language: str | None
    author: str
    summary: str
    changes: tuple[dict[str, Any], ...]
    created_at: str
    segments: tuple[Segment, ...] = field(default=(), repr=False)
    # The item's redaction spans ``(start, end)`` when the segments were read: what decided
    # each segment's ``redacted`` flag (empty when read without segments).
    redactions: tuple[tuple[float, float], ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class Job:
    """A queued, running or finished background job (a row of ``jobs``)."""

    id: int
    kind: str
    item_id: str | None
    state: str
    phase: str
    progress: float
    message: str
    error: str | None
    payload: dict[str, Any]
    result: dict[str, Any]
    attempts: int
    worker: str | None
    created_by: str
    created_at: str
    started_at: str | None
    heartbeat_at: str | None
    finished_at: str | None

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}
