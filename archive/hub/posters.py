"""An event's poster image: checked from its bytes, stored once under its digest.

Only PNG, JPEG and WebP are taken, recognised by content rather than by name (every browser shows
them and none can carry script, unlike SVG), up to :data:`POSTER_MAX_BYTES`. A poster is checked
(:func:`check_poster`) before anything of its event is written, and stored
(:func:`store_poster`) as ``media/posters/<sha256>.<ext>`` under the data folder, atomically, so
the same image announced twice is one file. Reading a stored poster back is
:func:`archive.hub.events.poster_file`, confined to that folder.

The stored poster is the file staff gave, untouched. Everyone below staff is served
:func:`public_poster` instead: the same picture decoded and written anew by Pillow, with no EXIF
(a camera's GPS position, an artist's name, a description), no XMP, no comment, no text chunks and
no colour profile (converted to sRGB first); an EXIF rotation is applied to the pixels before it
goes. Copies are cached as ``media/public/posters/<digest>.<ext>`` (the digest of the stored bytes).

>>> poster = check_poster("poster.png")
>>> store_poster(settings, poster)
'media/posters/9f2c….png'
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from archive.core.config import Settings
from archive.core.errors import InputError

__all__ = [
    "POSTER_MAX_BYTES",
    "POSTER_MAX_MB",
    "POSTER_TYPES",
    "Poster",
    "check_poster",
    "clean_image",
    "public_poster",
    "store_poster",
]

# Only formats every browser shows and none can carry script (no SVG).
POSTER_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}
# The one poster limit: the portal's form states it, Streamlit's uploader (server.maxUploadSize,
# archive.portal.streamlit_settings) and the upload route's body limit follow it, and
# check_poster enforces it for the portal and the CLI alike. Streamlit keeps an upload in a portal
# process's memory and its upload route is open to any session, so it stays small: a poster is
# shown as a web image (public copies are re-encoded anyway), and 1 MB holds a screen-sized one.
POSTER_MAX_MB = 1
POSTER_MAX_BYTES = POSTER_MAX_MB * 1024**2
# Bump when the way public copies are made changes: every cached one is then made again.
PUBLIC_POSTER_VERSION = 1
_PIL_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP"}


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
            f"{POSTER_MAX_MB} MB"
        )
    data = source.read_bytes()
    kind = filetype.guess(data[:8192])
    if kind is None or kind.mime not in POSTER_TYPES:
        found = f" (it looks like {kind.mime})" if kind else ""
        raise InputError(f"the poster {source.name} is not a PNG, JPEG or WebP image{found}")
    try:
        clean_image(data, kind.mime)  # what the public will be shown must be made of it
    except (OSError, ValueError) as exc:
        raise InputError(f"the poster {source.name} cannot be read as an image ({exc})") from exc
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


def clean_image(data: bytes, mime: str) -> bytes:
    """The picture of ``data`` written anew in the same format, with nothing but its pixels.

    OSError or ValueError when it cannot be decoded (Pillow's DecompressionBombError included).
    """
    from PIL import Image, ImageCms, ImageOps

    with Image.open(io.BytesIO(data)) as opened:
        image = ImageOps.exif_transpose(opened)  # the rotation EXIF asked for, into the pixels
        alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
        mode = "RGBA" if alpha and mime != "image/jpeg" else "RGB"
        icc = image.info.get("icc_profile")
        if image.mode not in ("RGB", "RGBA", "CMYK"):
            image = image.convert(mode)
        # A damaged profile: the pixels as they are.
        with contextlib.suppress(ImageCms.PyCMSError, OSError, ValueError):
            if icc:
                image = ImageCms.profileToProfile(
                    image,
                    ImageCms.ImageCmsProfile(io.BytesIO(icc)),
                    ImageCms.createProfile("sRGB"),
                    outputMode=mode,
                )
        image = image.convert(mode)
        # A new image from the bare pixels: nothing of the source's ``info`` comes along.
        pixels = Image.frombytes(mode, image.size, image.tobytes())
    out = io.BytesIO()
    options = {} if mime == "image/png" else {"quality": 90}
    pixels.save(out, format=_PIL_FORMATS[mime], **options)
    return out.getvalue()


def public_poster(settings: Settings, source: Path, mime: str) -> tuple[Path, str]:
    """The copy of a stored poster served below staff (see the module), made now if not cached."""
    if mime not in _PIL_FORMATS:
        raise InputError("a poster is a PNG, JPEG or WebP image")
    data = source.read_bytes()
    digest = hashlib.sha256(f"{PUBLIC_POSTER_VERSION}:".encode() + data).hexdigest()
    folder = settings.media_dir / "public" / "posters"
    target = folder / f"{digest}.{POSTER_TYPES[mime]}"
    if target.is_file():
        return target, mime
    clean = clean_image(data, mime)
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".poster-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(clean)
        os.chmod(tmp, 0o640)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target, mime
