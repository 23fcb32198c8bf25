"""Paths named by the catalog, confined to the folder they belong to.

The catalog names files by a path relative to the data folder (``media.path``,
``events.poster_path``). A catalog can be wrong (restored from a bag, edited by hand, damaged), so
nothing that serves or restores a file trusts such a path. Two checks, one rule:

- :func:`confined_name` — the text alone: relative, normalised (no ``.``, ``..`` or empty parts, no
  backslash, no NUL), and inside ``folder`` (``media`` for media files, ``media/posters`` for
  posters). Restore checks every path of a bag's catalog with it before anything is written.
- :func:`confined_file` — at serve time as well: the name passes :func:`confined_name` *and* the
  file, with every symlink resolved, is a regular file inside the (resolved) folder. Anything else
  is :class:`NotFoundError`, which every file route answers as a plain 404.

So a media row pointing at ``catalog.sqlite``, ``../secret.key``, ``/etc/passwd`` or a symlink out
of ``media/`` is never served, whatever the catalog says.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from archive.core.errors import NotFoundError

__all__ = ["MEDIA_FOLDER", "POSTER_FOLDER", "confined_file", "confined_name", "file_inside"]

MEDIA_FOLDER = "media"  # every media file (originals, derivatives, silenced public copies)
POSTER_FOLDER = "media/posters"  # event posters (archive.hub.posters.store_poster)


def confined_name(rel: str, folder: str) -> bool:
    """Whether ``rel`` (a path from the catalog, ``/``-separated) names something strictly inside
    ``folder`` (a ``/``-separated path relative to the data folder) without leaving it."""
    if not isinstance(rel, str) or not rel or "\\" in rel or "\0" in rel:
        return False
    if rel.startswith("/") or (len(rel) > 1 and rel[1] == ":"):  # absolute, or a drive letter
        return False
    parts = rel.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return False
    base = folder.split("/")
    return len(parts) > len(base) and parts[: len(base)] == base


def confined_file(home: str | os.PathLike[str], rel: str, folder: str) -> Path:
    """The file that catalog path ``rel`` names under data folder ``home``, resolved; NotFoundError
    unless it is a regular file that stays inside ``folder`` once every symlink is followed."""
    if not confined_name(rel, folder):
        raise NotFoundError("no such file")
    return file_inside(home, Path(home) / rel, folder)


def file_inside(home: str | os.PathLike[str], path: str | os.PathLike[str], folder: str) -> Path:
    """``path`` (absolute, e.g. a silenced copy the archive made) resolved; NotFoundError unless it
    is a regular file inside ``folder`` of data folder ``home`` once every symlink is followed."""
    root = (Path(home) / folder).resolve()
    path = Path(path).resolve()
    if not path.is_relative_to(root) or path == root:
        raise NotFoundError("no such file")
    try:
        mode = path.stat().st_mode
    except OSError:
        raise NotFoundError("no such file") from None
    if not stat.S_ISREG(mode):
        raise NotFoundError("no such file")
    return path
