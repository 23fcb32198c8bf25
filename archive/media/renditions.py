"""Media as a viewer below staff may hear it: redacted sentences silenced, no tags of the original.

Everyone below staff is played from a **public rendition**, never the stored file: a copy of the
media with the original's container metadata (artist, comment, GPS location, creation time,
encoder, its chapters, every stream's tags) dropped and only what the archive writes itself put
in (the item's title and chapters, withheld speakers as their labels: :mod:`archive.media.tags`),
subtitle and data streams dropped (an embedded subtitle track would carry the redacted words),
and H.264/HEVC SEI messages dropped from the picture (an encoder's user data can hold any text).
Without redactions the streams are copied as they are; with redactions the sound is re-encoded
with every redacted span silenced (ffmpeg's ``volume`` filter with a timeline ``enable``
expression) and the picture still copied. Each copy is read back and refused if any foreign tag
survived. Staff get the original, byte for byte.

Renditions are cached as ``media/public/<item_id>-<digest>.<ext>``; the digest covers the source
file's sha256, the silenced spans, the title and chapters written and :data:`RENDITION_VERSION`, so
a changed redaction, title, chapter or withheld name gives a new name and a stale file is never
served (edits of the transcript move no span). Old files of the item are removed whenever a
rendition is made or renditions are refreshed. Files are written under ``tmp/`` and renamed into
place, so a reader never gets half a file.

The silenced spans are the redaction spans (:meth:`archive.catalog.db.Catalog.redaction_spans`),
widened by :data:`PAD_SECONDS` on each side and merged: segment boundaries are approximate, and a
redacted name's first syllable must not survive at the edge. If the rendition cannot be built, the
viewer gets an error, never the original.

>>> path, mime = media_for_viewer(settings, catalog, item_id, Viewer("public"), "audio")
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

from archive.catalog.access import Viewer, visible_item
from archive.catalog.db import Catalog
from archive.catalog.models import Job, MediaFile
from archive.core.config import Settings
from archive.core.errors import MediaError, NotFoundError
from archive.core.filemodes import PRIVATE_FILE, private_dir
from archive.core.media_formats import ffmpeg_input_args, file_url
from archive.core.paths import MEDIA_FOLDER, confined_file
from archive.core.plugins import JobProgress
from archive.media.store import _ffmpeg_reason, _require, probe
from archive.media.tags import ArchiveTags, archive_tags, check_clean, ffmetadata, strip_arguments

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
# 2: always made below staff, tags of the original dropped, the archive's title and chapters in.
RENDITION_VERSION = 2
MEDIA_ROLES = ("audio", "original")
_MIME = {"m4a": "audio/mp4", "mp4": "video/mp4", "mkv": "video/x-matroska"}
# SEI NAL unit types (H.264: 6; HEVC: prefix 39, suffix 40): an encoder's user data lives there.
_SEI_TYPES = {"h264": "6", "hevc": "39|40"}
# One build of a file at a time in this process: the browser's parallel Range requests for a
# first play would otherwise each make the same copy.
_BUILDING: dict[str, threading.Lock] = {}
_BUILDING_LOCK = threading.Lock()


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
    item_id: str,
    media: MediaFile,
    spans: list[tuple[float, float]],
    tags: ArchiveTags,
    ext: str,
) -> str:
    key = json.dumps(
        [RENDITION_VERSION, media.role, media.sha256, spans, tags.key()], ensure_ascii=False
    )
    return f"{item_id}-{hashlib.sha256(key.encode()).hexdigest()[:24]}.{ext}"


def _tags(catalog: Catalog, item_id: str, media: MediaFile) -> ArchiveTags:
    item = catalog.find_item(item_id)  # the catalog's: it knows the withheld names
    if item is None:
        raise NotFoundError("no such file")
    return archive_tags(item, media.duration)


def _source_path(settings: Settings, media: MediaFile) -> Path:
    # The path comes from the catalog, which may be damaged or restored from a hostile bag: it
    # must name a regular file inside media/, symlinks followed (never catalog.sqlite or a key).
    return confined_file(settings.home, media.path, MEDIA_FOLDER)


def _candidates(media: MediaFile) -> tuple[str, ...]:
    # Some video codecs cannot be copied into MP4; Matroska takes any of them.
    ext = _extension(media)
    return (ext, "mkv") if ext == "mp4" else (ext,)


def _current_names(settings: Settings, catalog: Catalog, item_id: str) -> set[str]:
    spans = redacted_spans(catalog, item_id)
    names = set()
    for role in MEDIA_ROLES:
        media = catalog.get_media(item_id, role)
        if media is not None:
            try:
                tags = _tags(catalog, item_id, media)
            except NotFoundError:
                return set()  # the item is gone: none of its copies is current
            for ext in _candidates(media):
                names.add(_rendition_name(item_id, media, spans, tags, ext))
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

    Always a copy (see the module): made now if it is not cached. Without redactions that is a
    copy of the streams (about as long as reading the file); with redactions the sound track is
    re-encoded.
    """
    if role not in MEDIA_ROLES:
        raise NotFoundError("no such file")
    media = catalog.get_media(item_id, role)
    if media is None:
        raise NotFoundError("no such file")
    source = _source_path(settings, media)
    spans = redacted_spans(catalog, item_id)
    tags = _tags(catalog, item_id, media)
    folder = public_dir(settings)
    names = [_rendition_name(item_id, media, spans, tags, ext) for ext in _candidates(media)]
    with _BUILDING_LOCK:
        lock = _BUILDING.setdefault(names[0], threading.Lock())
    with lock:
        for name in names:
            if (folder / name).is_file():
                return folder / name
        private_dir(folder)
        target = _build_first(settings, source, folder, names, spans, media, tags)
    with _BUILDING_LOCK:
        _BUILDING.pop(names[0], None)
    _remove_stale(settings, catalog, item_id)
    return target


def _build_first(
    settings: Settings,
    source: Path,
    folder: Path,
    names: list[str],
    spans: list[tuple[float, float]],
    media: MediaFile,
    tags: ArchiveTags,
) -> Path:
    """Try each way of making the copy in turn (streams copied first where nothing is silenced,
    then the sound re-encoded, then Matroska); the first that works is kept."""
    video = media.role == "original" and media.has_video
    ways: list[tuple[str, bool]] = []  # (file name, copy the sound as it is)
    for name in names:
        if not spans and (video or media.role == "audio"):
            ways.append((name, True))
        ways.append((name, False))
    failure: MediaError | None = None
    for name, copy_sound in ways:
        try:
            _build(settings, source, folder / name, spans, media, tags, copy_sound=copy_sound)
            return folder / name
        except MediaError as exc:
            failure = failure or exc
    assert failure is not None
    raise failure


def _silence_filter(spans: list[tuple[float, float]]) -> str:
    condition = "+".join(f"between(t,{a:.3f},{b:.3f})" for a, b in spans)
    return f"volume=enable='{condition}':volume=0"


def _video_arguments(media: MediaFile) -> list[str]:
    if not (media.role == "original" and media.has_video):
        return ["-vn"]
    arguments = ["-map", "0:V?", "-c:v", "copy"]
    pictures = [
        s for s in media.streams if s.get("codec_type") == "video" and not s.get("attached_pic")
    ]
    for n, stream in enumerate(pictures):
        sei = _SEI_TYPES.get(str(stream.get("codec_name")))
        if sei:
            arguments += [f"-bsf:v:{n}", f"filter_units=remove_types={sei}"]
    return arguments


def _build(
    settings: Settings,
    source: Path,
    target: Path,
    spans: list[tuple[float, float]],
    media: MediaFile,
    tags: ArchiveTags,
    *,
    copy_sound: bool,
) -> None:
    ffmpeg = _require("ffmpeg")
    ext = target.suffix.lstrip(".")
    fd, tmp_name = tempfile.mkstemp(dir=settings.tmp_dir, prefix="public-", suffix=f".{ext}")
    os.close(fd)
    tmp = Path(tmp_name)
    fd, meta_name = tempfile.mkstemp(dir=settings.tmp_dir, prefix="public-", suffix=".txt")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(ffmetadata(tags))
    meta = Path(meta_name)
    if copy_sound:
        sound = ["-c:a", "copy"]
    else:
        rate = "64k" if media.role == "audio" else "160k"
        silence = ["-af", _silence_filter(spans)] if spans else []
        sound = [*silence, "-c:a", "aac", "-b:a", rate, "-flags:a", "+bitexact"]
    command = [
        # The stored file, read as the container it was probed as (archive.core.media_formats),
        # then the archive's own tags and chapters (written above, read as nothing but a file).
        ffmpeg, "-nostdin", "-hide_banner", "-v", "error", "-y",
        *ffmpeg_input_args(source, media.container or None),
        "-protocol_whitelist", "file", "-f", "ffmetadata", "-i", file_url(meta),
        *_video_arguments(media), "-map", "0:a",
        # No subtitle, data or attachment streams, and no tags or chapters but the archive's own:
        # any of them may carry text.
        "-sn", "-dn", *strip_arguments(1), *sound,
        *(["-movflags", "+faststart"] if ext in ("mp4", "m4a") else []),
        file_url(tmp),
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
        check_clean(tmp, tags, _require("ffprobe"))
        os.chmod(tmp, PRIVATE_FILE)
        os.replace(tmp, target)  # same file system: readers see the whole file or none
    finally:
        tmp.unlink(missing_ok=True)
        meta.unlink(missing_ok=True)


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
    everyone else the public rendition (no tags of the original; redacted spans silenced).
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
    return path, _MIME.get(path.suffix.lstrip("."), "application/octet-stream")


def public_media_job(
    settings: Settings, catalog: Catalog, job: Job, report: JobProgress
) -> dict[str, Any]:
    """Job handler (kind ``public-media``, payload ``{"item_id": …}``): rebuild an item's renditions."""
    item_id = job.payload["item_id"]
    report("public-media", 0.0)
    built = refresh_public_media(settings, catalog, item_id)
    report("public-media", 1.0)
    return {"item_id": item_id, "renditions": [p.name for p in built]}
