"""What a copy of a recording served below staff may say about itself: only what the archive writes.

A recording reaches the archive with its makers' container metadata: artist, comment, a GPS
location, creation time, the camera or encoder, chapters with their own titles, tags on every
stream (a handler name, a track title). Any of them can name a person staff later withhold, or say
where a recording was made. Every copy served below staff (:mod:`archive.media.renditions`) is
therefore made with all of it dropped, and given only:

* the item's **title** from the catalog (``title_zh | title_en``), and
* the item's own **chapters** from the catalog,

both with every withheld speaker's name replaced by its label
(:func:`archive.catalog.access.label_names_in_text`). :func:`strip_arguments` are the ffmpeg
options that do this (``-map_metadata`` from the archive's own FFMETADATA file only, no stream
tags, ``+bitexact`` so no encoder version), and :func:`check_clean` reads the made file back with
ffprobe and refuses it if it carries any tag but these and the few the muxer writes of itself (the
MP4 brands, a stream's handler and language, Matroska's durations): a future ffmpeg that copied
something new would make the copy fail, never leak.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from archive.catalog.access import label_names_in_text
from archive.catalog.models import Item
from archive.core.errors import MediaError

__all__ = ["ArchiveTags", "archive_tags", "check_clean", "ffmetadata", "strip_arguments"]

# Tags ffmpeg's MP4 and Matroska muxers write of their own, never taken from the input (with
# ``-map_metadata:s -1`` and ``+bitexact``): a value outside these sets is refused.
_MUXER_FORMAT_TAGS = {"major_brand", "minor_version", "compatible_brands"}
_MUXER_FORMAT_VALUES = {"encoder": re.compile(r"Lavf")}  # Matroska under +bitexact: no version
_MUXER_STREAM_VALUES = {
    "language": re.compile(r"und|eng"),  # eng: the MP4 chapter track's
    "handler_name": re.compile(r"SoundHandler|VideoHandler|SubtitleHandler"),
    "vendor_id": re.compile(r"\[0\]\[0\]\[0\]\[0\]"),
    "encoder": re.compile(r"Lavc [a-z0-9_]+"),  # Matroska under +bitexact: the codec, no version
    "duration": re.compile(r"\d+:\d{2}:\d{2}(\.\d+)?"),  # Matroska's length of each stream
}


@dataclass(frozen=True)
class ArchiveTags:
    """The title and chapters (start, end, title in seconds) the archive writes into a copy."""

    title: str
    chapters: tuple[tuple[float, float, str], ...]

    def key(self) -> list[object]:
        """For the copy's cache name: a changed title, chapter or withheld name is a new copy."""
        return [self.title, [list(c) for c in self.chapters]]


def archive_tags(item: Item, duration: float | None) -> ArchiveTags:
    """The item's title and chapters as a viewer below staff may read them inside the file.

    ``item`` is the catalog's (with its withheld speakers). Chapters are sorted, each ends where
    it says or where the next begins (the last at ``duration``), and ones that start past the end
    or are empty are left out: a muxer refuses chapters that overlap or run backwards.
    """
    title = " | ".join(t for t in (item.title_zh.strip(), item.title_en.strip()) if t)
    starts: list[tuple[float, float | None, str]] = []
    for chapter in item.chapters:
        try:
            start = float(chapter.get("start"))
            end = float(chapter["end"]) if chapter.get("end") is not None else None
        except (TypeError, ValueError):
            continue
        starts.append((max(0.0, start), end, str(chapter.get("title") or "")))
    starts.sort(key=lambda c: c[0])
    limit = float(duration) if duration and duration > 0 else None
    chapters = []
    for n, (start, end, text) in enumerate(starts):
        following = starts[n + 1][0] if n + 1 < len(starts) else limit
        candidates = [v for v in (end, following, limit) if v is not None]
        stop = min(candidates) if candidates else start
        if limit is not None and start >= limit or stop <= start:
            continue
        chapters.append((round(start, 3), round(stop, 3), label_names_in_text(item, text)))
    return ArchiveTags(title=label_names_in_text(item, title), chapters=tuple(chapters))


def _escape(value: str) -> str:
    # FFMETADATA: '=', ';', '#', '\\' and line breaks are escaped with a backslash; control
    # characters have no place in a title.
    value = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", value)
    return re.sub(r"([=;#\\\n])", r"\\\1", value.replace("\r", ""))


def ffmetadata(tags: ArchiveTags) -> str:
    """The archive's tags as an FFMETADATA file (ffmpeg ``-f ffmetadata -i FILE``)."""
    lines = [";FFMETADATA1"]
    if tags.title:
        lines.append(f"title={_escape(tags.title)}")
    for start, end, title in tags.chapters:
        lines += [
            "[CHAPTER]",
            "TIMEBASE=1/1000",
            f"START={round(start * 1000)}",
            f"END={round(end * 1000)}",
            f"title={_escape(title)}",
        ]
    return "\n".join(lines) + "\n"


def strip_arguments(metadata_input: int) -> list[str]:
    """ffmpeg output options: tags and chapters only from input ``metadata_input`` (the
    FFMETADATA file), none from any stream, no encoder version (``+bitexact``)."""
    return [
        "-map_metadata", str(metadata_input), "-map_metadata:s", "-1",
        "-map_chapters", str(metadata_input), "-fflags", "+bitexact",
    ]  # fmt: skip


def check_clean(path: Path, tags: ArchiveTags, ffprobe: str) -> None:
    """MediaError unless ``path`` carries the archive's tags and nothing else (see the module)."""
    result = subprocess.run(
        [ffprobe, "-v", "error", "-of", "json", "-show_format", "-show_streams", "-show_chapters",
         str(path)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    if result.returncode != 0:
        raise MediaError("the public copy of the recording could not be read back")
    data = json.loads(result.stdout or "{}")
    foreign: list[str] = []
    for key, value in ((data.get("format") or {}).get("tags") or {}).items():
        allowed = _MUXER_FORMAT_VALUES.get(key)
        if key in _MUXER_FORMAT_TAGS or (key == "title" and value == tags.title):
            continue
        if allowed is None or not allowed.fullmatch(str(value)):
            foreign.append(f"format:{key}")
    for stream in data.get("streams") or []:
        for key, value in (stream.get("tags") or {}).items():
            allowed = _MUXER_STREAM_VALUES.get(key.lower())
            if allowed is None or not allowed.fullmatch(str(value)):
                foreign.append(f"stream {stream.get('index')}:{key}")
    titles = [(c.get("tags") or {}).get("title", "") for c in data.get("chapters") or []]
    if titles and titles != [c[2] for c in tags.chapters]:
        foreign.append("chapters")
    for chapter in data.get("chapters") or []:
        foreign += [f"chapter:{k}" for k in (chapter.get("tags") or {}) if k != "title"]
    if foreign:
        # Only the tags' names: their values may be exactly what must not be shown.
        raise MediaError(
            "the public copy of the recording kept tags of the original file "
            f"({', '.join(sorted(set(foreign)))}); it is not served"
        )
