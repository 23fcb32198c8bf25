"""Owner-only files and folders: the data folder, its contents, bags and restored folders.

Everything the archive keeps is private (password hashes, staff-only transcripts, withheld names,
keys), and the machine it runs on may have other local users. So the data folder and every folder
in it are ``0700`` and every file ``0600`` (:data:`PRIVATE_DIR`, :data:`PRIVATE_FILE`), whatever
the umask of the process that made them:

- what this software creates is *created* with those modes (:func:`private_dir`,
  :func:`private_file`, :func:`private_opener` for ``open(..., opener=...)``), never made readable
  first and narrowed afterwards;
- what a library creates inside such a folder (SQLite's ``-wal``/``-shm`` take the database
  file's mode; Whoosh, tantivy and bagit write their own files) is unreachable by anyone else the
  moment it appears (its folder is ``0700``) and is narrowed afterwards by :func:`tighten_tree`;
- a data folder made by an earlier version (``0755``, ``catalog.sqlite`` ``0644``) is narrowed
  when it is opened (:func:`secure_folder`), which says what it changed, once.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from pathlib import Path

__all__ = [
    "PRIVATE_DIR",
    "PRIVATE_FILE",
    "private_dir",
    "private_file",
    "private_opener",
    "secure_folder",
    "tighten",
    "tighten_tree",
    "write_atomically",
]

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600

log = logging.getLogger("archive.filemodes")


def private_dir(path: str | os.PathLike[str]) -> Path:
    """``path`` as an owner-only folder: made ``0700`` if missing (missing parents the usual way:
    they are not the archive's), and narrowed to ``0700`` if it is there and open to others."""
    folder = Path(path)
    if not folder.is_dir():
        folder.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile
            folder.mkdir(mode=PRIVATE_DIR)
    tighten(folder)
    return folder


def private_file(path: str | os.PathLike[str]) -> bool:
    """Create ``path`` as an empty ``0600`` file unless it exists (then it is left as it is: see
    :func:`tighten`); whether it was made. SQLite takes an empty file as a new database, and
    gives its ``-wal`` and ``-shm`` files the database file's mode."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, PRIVATE_FILE)
    except FileExistsError:
        return False
    try:
        os.fchmod(fd, PRIVATE_FILE)  # exactly 0600, whatever the umask took away
    finally:
        os.close(fd)
    return True


def private_opener(path: str, flags: int) -> int:
    """An ``opener`` for :func:`open`: a file it creates is ``0600`` from the start."""
    fd = os.open(path, flags | os.O_CLOEXEC, PRIVATE_FILE)
    with contextlib.suppress(OSError):  # a file we do not own keeps its mode
        os.fchmod(fd, PRIVATE_FILE)
    return fd


def tighten(path: str | os.PathLike[str]) -> bool:
    """Take away every group and other permission from ``path`` (a folder becomes ``0700``, a
    file ``0600``); symlinks are left alone. Whether anything changed."""
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        return False
    if stat.S_ISLNK(found.st_mode):
        return False
    if stat.S_IMODE(found.st_mode) & 0o077 == 0:
        return False  # already owner-only (a read-only file stays read-only)
    wanted = PRIVATE_DIR if stat.S_ISDIR(found.st_mode) else PRIVATE_FILE
    try:
        os.chmod(path, wanted)
    except PermissionError:
        return False  # not ours to change
    return True


def tighten_tree(root: str | os.PathLike[str]) -> int:
    """:func:`tighten` ``root`` and everything under it (symlinks not followed); how many paths
    changed."""
    changed = int(tighten(root))
    for folder, dirs, files in os.walk(root):
        for name in (*dirs, *files):
            changed += tighten(os.path.join(folder, name))
    return changed


def secure_folder(home: str | os.PathLike[str]) -> str | None:
    """Narrow a data folder that is open to other users: the folder itself, then (once) everything
    in it. Returns a note saying what was done (also logged), or None when it was already private.

    Only a folder found open is walked, so opening a private data folder costs one ``stat``."""
    folder = Path(home)
    try:
        mode = stat.S_IMODE(folder.stat().st_mode)
    except FileNotFoundError:
        return None
    if mode & 0o077 == 0:
        return None
    changed = tighten_tree(folder)
    if changed <= 1:
        # Only the folder itself was open (a new, empty --home made with the umask): nothing in
        # it was readable, so there is nothing to tell the operator.
        return None
    note = (
        f"note: the data folder {folder} was readable by other users of this machine (mode "
        f"{mode:04o}); it and {changed - 1} path(s) in it are now owner-only (folders 0700, "
        "files 0600)"
    )
    log.warning(note)
    return note


def write_atomically(target: Path, data: bytes, *, mode: int = PRIVATE_FILE) -> None:
    """Write ``data`` to ``target`` through a temporary file beside it, renamed over it: a reader
    (a web server publishing the folder, another process) sees the old file or the new one, never
    half. The file gets ``mode`` before it appears under its name; nothing is left on failure."""
    import tempfile

    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
