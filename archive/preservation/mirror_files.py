"""The mirror's folder: which folder may hold a mirror, and writing into it only what changed.

A mirror is published as it is, so :func:`check_destination` refuses any folder that is (or
holds) the data folder, and any non-empty folder not made by ``archive mirror`` (its
``mirror.json`` record, :data:`MARKER`, says which). :class:`MirrorFiles` writes each file only
when its bytes differ, atomically, and keeps the list of what this run produced, so that
:func:`remove_stale` can delete what the last run wrote and this one no longer wants.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archive.core.config import Settings
from archive.core.errors import ArchiveError

__all__ = [
    "MARKER",
    "MIRROR_FORMAT",
    "MirrorError",
    "MirrorFiles",
    "check_destination",
    "remove_stale",
]

MIRROR_FORMAT = "hk-labour-archive-mirror/1"
MARKER = "mirror.json"


class MirrorError(ArchiveError):
    """The mirror cannot be written where asked, or its search index cannot be built."""


@dataclass
class MirrorFiles:
    """Writes files under the mirror, each only when its bytes differ from what is there."""

    root: Path
    produced: dict[str, int] = field(default_factory=dict)  # relative path → size
    written: int = 0
    unchanged: int = 0

    def put(self, rel: str, data: bytes | str) -> None:
        """Write ``data`` (text as UTF-8) at ``rel`` under the mirror, unless it is there already."""
        raw = data.encode("utf-8") if isinstance(data, str) else data
        path = self.root / rel
        self.produced[rel] = len(raw)
        try:
            if path.stat().st_size == len(raw) and path.read_bytes() == raw:
                self.unchanged += 1
                return
        except OSError:
            pass
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(raw)
        os.replace(tmp, path)  # a reader (a web server) sees the old file or the new, never half
        self.written += 1

    def put_file(self, rel: str, source: Path) -> None:
        """A media file; its name carries a digest of its content, so the same name and size
        means the same file and it is not copied again."""
        path = self.root / rel
        size = source.stat().st_size
        self.produced[rel] = size
        try:
            if path.stat().st_size == size:
                self.unchanged += 1
                return
        except OSError:
            pass
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        shutil.copyfile(source, tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
        self.written += 1

    def keep(self, rel: str) -> None:
        """A file from the last run that is still wanted as it is."""
        self.produced[rel] = (self.root / rel).stat().st_size
        self.unchanged += 1


def check_destination(settings: Settings, dest: Path) -> dict[str, Any]:
    """The previous run's record (empty for a new folder); refuses any other folder."""
    home = settings.home.resolve()
    resolved = dest.resolve()
    if resolved == home or resolved.is_relative_to(home):
        raise MirrorError(
            f"the mirror destination {dest} is inside the data folder {home}: choose a folder elsewhere"
        )
    if home.is_relative_to(resolved):
        raise MirrorError(
            f"the mirror destination {dest} contains the data folder {home}: it would be published"
        )
    if not dest.exists():
        return {}
    if not dest.is_dir():
        raise MirrorError(f"{dest} is a file, not a folder")
    marker = dest / MARKER
    if marker.is_file():
        try:
            record = json.loads(marker.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise MirrorError(
                f"{marker} is damaged ({exc}): remove the folder or choose another"
            ) from exc
        if record.get("format") == MIRROR_FORMAT:
            return record
    if any(dest.iterdir()):
        raise MirrorError(
            f"{dest} is not empty and is not a mirror made by `archive mirror`: choose a new or empty folder"
        )
    return {}


def remove_stale(root: Path, previous: dict[str, Any], files: MirrorFiles) -> int:
    """Delete the files the last run wrote (``previous["files"]``) that this run did not produce
    (an item no longer public, an old search index), then any folder left empty; returns how many
    files were removed. Only paths inside the mirror are ever touched."""
    removed = 0
    for rel in previous.get("files", {}):
        if rel not in files.produced and _safe_rel(rel):
            try:
                (root / rel).unlink()
                removed += 1
            except FileNotFoundError:
                pass
    _remove_empty_dirs(root)
    return removed


def _safe_rel(rel: str) -> bool:
    parts = Path(rel).parts
    return bool(parts) and not Path(rel).is_absolute() and ".." not in parts


def _remove_empty_dirs(root: Path) -> None:
    for folder in sorted(
        (p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True
    ):
        with contextlib.suppress(OSError):  # not empty: still in use
            folder.rmdir()
