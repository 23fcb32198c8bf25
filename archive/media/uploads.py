"""Files uploaded through the portal: where they land, what they are called, what they contain.

An upload never lands under the name the browser sent. :func:`safe_upload_path` makes a random
name in ``<home>/tmp/uploads/`` (same file system as ``media/``, so ingest can move it atomically);
the sender's name is kept only as display text, cleaned by :func:`display_name`. ``../../etc/passwd``,
``C:\\x\\..\\..\\y``, absolute paths, NUL bytes, control characters and 10 000-character names
all end up as a random name in that one folder.

What a file *is* is read from its bytes, never its extension: :func:`sniff_media_type` asks the
magic-number table of the ``filetype`` package first and then ffprobe, which must find an audio
stream in an allowed single-file container (:mod:`archive.core.media_formats`): a playlist behind
an ID3 header looks like MP3 to the table, but ffprobe refuses it and opens nothing it names.

>>> upload = write_upload_stream(settings, request_chunks, "訪問 2024-06-04.m4a", max_bytes=2 * 1024**3)
>>> upload.path, upload.display_name, upload.mime
(PosixPath('/data/tmp/uploads/3f9c….m4a'), '訪問 2024-06-04.m4a', 'audio/mp4')
"""

from __future__ import annotations

import os
import re
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from archive.core.config import Settings
from archive.core.errors import InputError, MediaError
from archive.media.store import probe

__all__ = [
    "MAX_DISPLAY_NAME",
    "Upload",
    "display_name",
    "safe_upload_path",
    "sniff_media_type",
    "upload_dir",
    "write_upload_stream",
]

MAX_DISPLAY_NAME = 200
_EXT_RE = re.compile(r"^[a-z0-9]{1,8}$")
# Media kinds filetype recognises that are not recordings of sound.
_NOT_RECORDINGS = {"audio/midi"}


@dataclass(frozen=True)
class Upload:
    path: Path  # the random name under tmp/uploads/: hand this to ingest
    display_name: str  # the sender's file name, cleaned, for display only
    size: int
    mime: str  # from the content


def upload_dir(settings: Settings) -> Path:
    folder = settings.tmp_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    return folder


def display_name(original_name: str | bytes | None) -> str:
    """The sender's file name made safe to show: last path component only (``/`` or ``\\``), no
    control or NUL characters, NFC, at most :data:`MAX_DISPLAY_NAME` characters; ``upload`` if
    nothing is left."""
    if isinstance(original_name, bytes):
        original_name = original_name.decode("utf-8", "replace")
    name = unicodedata.normalize("NFC", str(original_name or ""))
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co", "Cn"))
    name = " ".join(name.split()).strip(" .")
    if len(name) > MAX_DISPLAY_NAME:
        stem, dot, ext = name.rpartition(".")
        keep = f".{ext}" if dot and len(ext) <= 8 else ""
        name = name[: MAX_DISPLAY_NAME - len(keep)].rstrip() + keep
    return name or "upload"


def _extension(original_name: str | bytes | None) -> str:
    _, dot, ext = display_name(original_name).rpartition(".")
    ext = ext.lower()
    return f".{ext}" if dot and _EXT_RE.match(ext) else ""


def safe_upload_path(settings: Settings, original_name: str | bytes | None) -> Path:
    """A fresh, unused path in ``tmp/uploads/`` for an upload (a random name; only a short
    alphanumeric extension is taken from ``original_name``, as a hint for people, not for code)."""
    folder = upload_dir(settings).resolve()
    path = folder / f"{secrets.token_hex(16)}{_extension(original_name)}"
    # Belt and braces: by construction the name has no separator, but say so in code too.
    if path.resolve().parent != folder:
        raise InputError("bad upload name")
    return path


def sniff_media_type(path: Path, name: str | None = None) -> str:
    """The MIME type of an audio or video file, from its content; MediaError for anything else.

    ``name`` is how the file is called in the error (the display name, not the random path).
    """
    import filetype

    shown = name or "the file"
    try:
        kind = filetype.guess(str(path))
    except OSError as exc:
        raise MediaError(f"{shown} cannot be read") from exc
    if kind is None:
        raise MediaError(f"{shown} is not an audio or video file")
    if kind.mime.split("/")[0] not in ("audio", "video") or kind.mime in _NOT_RECORDINGS:
        raise MediaError(
            f"{shown} is not an audio or video file (it looks like {kind.extension.upper()})"
        )
    found = probe(Path(path), shown)  # MediaError when there is no playable sound in it
    return found.mime if found.mime != "application/octet-stream" else kind.mime


def _size(n: int) -> str:
    if n >= 1024**3:
        return f"{n / 1024**3:.1f} GB"
    if n >= 1024**2:
        return f"{n / 1024**2:.0f} MB"
    return f"{n:,} bytes"


def write_upload_stream(
    settings: Settings,
    chunks: Iterable[bytes],
    original_name: str | bytes | None,
    max_bytes: int | None = None,
    *,
    check_media: bool = True,
) -> Upload:
    """Stream an upload to a fresh path in ``tmp/uploads/`` and check that it is media.

    Stops as soon as more than ``max_bytes`` (default: ``ARCHIVE_MAX_UPLOAD_MB``) arrive, and on
    any error, including a refused file, the partial file is removed. The caller hands
    ``Upload.path`` to ingest (which takes ownership) with ``Upload.display_name`` as the
    original name.
    """
    limit = settings.max_upload_bytes if max_bytes is None else int(max_bytes)
    shown = display_name(original_name)
    path = safe_upload_path(settings, original_name)
    size = 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise InputError(f"{shown} is larger than the upload limit of {_size(limit)}")
                fh.write(chunk)
        if size == 0:
            raise MediaError(f"{shown} is empty (0 bytes)")
        mime = sniff_media_type(path, shown) if check_media else "application/octet-stream"
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Upload(path=path, display_name=shown, size=size, mime=mime)
