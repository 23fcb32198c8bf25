"""An event's poster image: checked from its bytes, stored once under its digest.

Only PNG, JPEG and WebP are taken, recognised by content rather than by name (every browser shows
them and none can carry script, unlike SVG), up to :data:`POSTER_MAX_BYTES`. A poster is checked
(:func:`check_poster`) before anything of its event is written, and stored
(:func:`store_poster`) as ``media/posters/<sha256>.<ext>`` under the data folder, atomically, so
the same image announced twice is one file. Reading a stored poster back is
:func:`archive.hub.events.poster_file`, confined to that folder.

>>> poster = check_poster("poster.png")
>>> store_poster(settings, poster)
'media/posters/9f2c….png'
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from archive.core.config import Settings
from archive.core.errors import InputError

__all__ = ["POSTER_MAX_BYTES", "POSTER_TYPES", "Poster", "check_poster", "store_poster"]

# Only formats every browser shows and none can carry script (no SVG).
POSTER_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}
POSTER_MAX_BYTES = 10 * 1024**2


@dataclass(frozen=True)
class Poster:
    """A poster image checked from its content, not yet stored."""

    data: bytes
    mime: str
    extension: str
    sha256: str


def check_poster(path: str | os.PathLike[str]) -> Poster:
    """Read a poster and check from its bytes that it is a PNG, JPEG or WebP image."""
    import filetype

    source = Path(path).expanduser()
    if not source.is_file():
        raise InputError(f"the poster {source} does not exist or is not a file")
    size = source.stat().st_size
    if size == 0:
        raise InputError(f"the poster {source.name} is empty")
    if size > POSTER_MAX_BYTES:
        raise InputError(
            f"the poster {source.name} is {size / 1024**2:.1f} MB, over the limit of "
            f"{POSTER_MAX_BYTES // 1024**2} MB"
        )
    data = source.read_bytes()
    kind = filetype.guess(data[:8192])
    if kind is None or kind.mime not in POSTER_TYPES:
        found = f" (it looks like {kind.mime})" if kind else ""
        raise InputError(f"the poster {source.name} is not a PNG, JPEG or WebP image{found}")
    return Poster(
        data=data,
        mime=kind.mime,
        extension=POSTER_TYPES[kind.mime],
        sha256=hashlib.sha256(data).hexdigest(),
    )


def store_poster(settings: Settings, poster: Poster) -> str:
    """Write the poster to ``media/posters/<sha256>.<ext>`` (atomically); its path in the folder."""
    folder = settings.media_dir / "posters"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{poster.sha256}.{poster.extension}"
    if not target.is_file():
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".poster-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(poster.data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return str(target.relative_to(settings.home))
