"""Media as a viewer below staff may hear it: redacted sentences silenced.

A redaction is a span of the recording: it hides the *text* of every segment that overlaps it below
staff (see :mod:`archive.catalog.access`); the recording must not say it aloud either. For any viewer below
staff, an item with redactions is played from a **public rendition**: a copy of the media with
every redacted span silenced (ffmpeg's ``volume`` filter with a timeline ``enable`` expression),
the video stream copied as is, subtitle/data streams, chapters and container metadata dropped (an
embedded subtitle track would carry the redacted words).

Renditions are cached as ``media/public/<item_id>-<digest>.<ext>``; the digest covers the source
file's sha256, the silenced spans and :data:`RENDITION_VERSION`, so a changed redaction gives a new
name and a stale file is never served (edits of the transcript move no span). Old files
of the item are removed whenever renditions are refreshed. Files are written under ``tmp/`` and
renamed into place, so a reader never gets half a file. Staff get the original.

The silenced spans are the redaction spans (:meth:`archive.catalog.db.Catalog.redaction_spans`),
widened by :data:`PAD_SECONDS` on each side and merged: segment boundaries are approximate, and a
redacted name's first syllable must not survive at the edge. If the rendition cannot be built, the
viewer gets an error, never the unsilenced original.

>>> path, mime = media_for_viewer(settings, catalog, item_id, Viewer("public"), "audio")
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from archive.catalog.access import Viewer, visible_item
from archive.catalog.db import Catalog
from archive.catalog.models import Job, MediaFile
from archive.core.config import Settings
from archive.core.errors import MediaError, NotFoundError
from archive.core.filemodes import PRIVATE_FILE, private_dir
from archive.core.paths import MEDIA_FOLDER, confined_file
from archive.core.plugins import JobProgress
from archive.media.store import _ffmpeg_reason, _require, probe

__all__ = [
    "PAD_SECONDS",
    "RENDITION_VERSION",
    "media_for_viewer",
    "public_media_job",
    "public_rendition",
    "redacted_spans",
    "refresh_public_media",
]

PAD_SECONDS = 0.3
# Bump when the way renditions are made changes: every cached one is then rebuilt.
RENDITION_VERSION = 1
MEDIA_ROLES = ("audio", "original")
_MIME = {"m4a": "audio/mp4", "mp4": "video/mp4", "mkv": "video/x-matroska"}


def public_dir(settings: Settings) -> Path:
    return settings.media_dir / "public"


def redacted_spans(
    catalog: Catalog, item_id: str, pad: float = PAD_SECONDS
) -> list[tuple[float, float]]:
    """Sorted, merged ``(start, end)`` spans to silence, in seconds (empty: nothing redacted)."""
    spans = sorted((max(0.0, a - pad), b + pad) for a, b in catalog.redaction_spans(item_id))
    merged: list[tuple[float, float]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    # Rounded outward to milliseconds: stable names, and never a narrower span than asked.
    return [(int(a * 1000) / 1000, -int(-b * 1000) / 1000) for a, b in merged]


def _extension(media: MediaFile) -> str:
    return "mp4" if media.role == "original" and media.has_video else "m4a"


def _rendition_name(
    item_id: str, media: MediaFile, spans: list[tuple[float, float]], ext: str
) -> str:
    key = json.dumps([RENDITION_VERSION, media.role, media.sha256, spans])
    return f"{item_id}-{hashlib.sha256(key.encode()).hexdigest()[:24]}.{ext}"


def _source_path(settings: Settings, media: MediaFile) -> Path:
    # The path comes from the catalog, which may be damaged or restored from a hostile bag: it
    # must name a regular file inside media/, symlinks followed (never catalog.sqlite or a key).
    return confined_file(settings.home, media.path, MEDIA_FOLDER)


def _current_names(settings: Settings, catalog: Catalog, item_id: str) -> set[str]:
    spans = redacted_spans(catalog, item_id)
    if not spans:
        return set()
    names = set()
    for role in MEDIA_ROLES:
        media = catalog.get_media(item_id, role)
        if media is not None:
            names.add(_rendition_name(item_id, media, spans, _extension(media)))
            if media.role == "original" and media.has_video:
                names.add(_rendition_name(item_id, media, spans, "mkv"))
    return names


def _remove_stale(settings: Settings, catalog: Catalog, item_id: str) -> list[Path]:
    keep = _current_names(settings, catalog, item_id)
    removed = []
    folder = public_dir(settings)
    if folder.is_dir():
        for path in folder.glob(f"{item_id}-*"):
            if path.name not in keep:
                path.unlink(missing_ok=True)
                removed.append(path)
    return removed


def public_rendition(settings: Settings, catalog: Catalog, item_id: str, role: str) -> Path:
    """The file a viewer below staff gets for ``role`` (``audio`` or ``original``).

    The original file when nothing in the item is redacted; otherwise the silenced copy, built now
    if it is not cached (this takes about as long as re-encoding the sound track).
    """
    if role not in MEDIA_ROLES:
        raise NotFoundError("no such file")
    media = catalog.get_media(item_id, role)
    if media is None:
        raise NotFoundError("no such file")
    source = _source_path(settings, media)
    spans = redacted_spans(catalog, item_id)
    if not spans:
        return source
    folder = public_dir(settings)
    ext = _extension(media)
    for candidate in (ext, "mkv") if ext == "mp4" else (ext,):
        cached = folder / _rendition_name(item_id, media, spans, candidate)
        if cached.is_file():
            return cached
    private_dir(folder)
    target = folder / _rendition_name(item_id, media, spans, ext)
    try:
        _build(settings, source, target, spans, media)
    except MediaError:
        if ext != "mp4":
            raise
        # Some video codecs cannot be copied into MP4; Matroska takes any of them.
        target = folder / _rendition_name(item_id, media, spans, "mkv")
        _build(settings, source, target, spans, media)
    _remove_stale(settings, catalog, item_id)
    return target


def _silence_filter(spans: list[tuple[float, float]]) -> str:
    condition = "+".join(f"between(t,{a:.3f},{b:.3f})" for a, b in spans)
    return f"volume=enable='{condition}':volume=0"


def _build(
    settings: Settings,
    source: Path,
    target: Path,
    spans: list[tuple[float, float]],
    media: MediaFile,
) -> None:
    ffmpeg = _require("ffmpeg")
    ext = target.suffix.lstrip(".")
    fd, tmp_name = tempfile.mkstemp(dir=settings.tmp_dir, prefix="public-", suffix=f".{ext}")
    os.close(fd)
    tmp = Path(tmp_name)
    video = (
        ["-map", "0:V?", "-c:v", "copy"]
        if media.role == "original" and media.has_video
        else ["-vn"]
    )
    audio_rate = ["-b:a", "64k"] if media.role == "audio" else ["-b:a", "160k"]
    command = [
        ffmpeg, "-nostdin", "-hide_banner", "-v", "error", "-y", "-i", str(source),
        *video, "-map", "0:a",
        # No subtitle, data or attachment streams, chapters or tags: any of them may carry text.
        "-sn", "-dn", "-map_metadata", "-1", "-map_chapters", "-1",
        "-af", _silence_filter(spans), "-c:a", "aac", *audio_rate,
        *(["-movflags", "+faststart"] if ext in ("mp4", "m4a") else []),
        str(tmp),
    ]  # fmt: skip
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=6 * 3600)
        if result.returncode != 0:
            raise MediaError(
                f"the public copy of the recording could not be made ({_ffmpeg_reason(result.stderr)})"
            )
        made = probe(tmp, "the public copy")
        if media.duration and made.duration < media.duration * 0.95 - 1.0:
            raise MediaError("the public copy of the recording came out shorter than the original")
        os.chmod(tmp, PRIVATE_FILE)
        os.replace(tmp, target)  # same file system: readers see the whole file or none
    finally:
        tmp.unlink(missing_ok=True)


def refresh_public_media(
    settings: Settings, catalog: Catalog, item_id: str, *, build: bool = True
) -> list[Path]:
    """After redactions changed: drop stale renditions and,
    with ``build``, make the new ones now. Returns the current rendition files."""
    _remove_stale(settings, catalog, item_id)
    if not build or not redacted_spans(catalog, item_id):
        return []
    return [
        public_rendition(settings, catalog, item_id, role)
        for role in MEDIA_ROLES
        if catalog.get_media(item_id, role) is not None
    ]


def media_for_viewer(
    settings: Settings, catalog: Catalog, item_id: str, viewer: Viewer, role: str
) -> tuple[Path, str]:
    """The file and MIME type to stream for one media file of an item to ``viewer``.

    NotFoundError when the item does not exist or is above the viewer's role (the same error, so
    a private item's existence does not leak), or has no such media. Staff get the original file;
    everyone else the silenced public rendition when anything in the item is redacted.
    """
    visible_item(catalog, item_id, viewer)
    if role not in MEDIA_ROLES:
        raise NotFoundError("no such file")
    media = catalog.get_media(item_id, role)
    if media is None:
        raise NotFoundError("no such file")
    if viewer.is_staff:
        return _source_path(settings, media), media.mime or "application/octet-stream"
    path = public_rendition(settings, catalog, item_id, role)
    if path.parent == public_dir(settings):
        return path, _MIME.get(path.suffix.lstrip("."), "application/octet-stream")
    return path, media.mime or "application/octet-stream"


def public_media_job(
    settings: Settings, catalog: Catalog, job: Job, report: JobProgress
) -> dict[str, Any]:
    """Job handler (kind ``public-media``, payload ``{"item_id": …}``): rebuild an item's renditions."""
    item_id = job.payload["item_id"]
    report("public-media", 0.0)
    built = refresh_public_media(settings, catalog, item_id)
    report("public-media", 1.0)
    return {"item_id": item_id, "renditions": [p.name for p in built]}
