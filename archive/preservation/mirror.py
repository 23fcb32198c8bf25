"""The public archive as a plain static website: any web host, a mirror site or a USB stick.

``build_mirror()`` writes, for public items only (as :class:`archive.catalog.access.Viewer` ``public`` sees
them, embargoes included)::

    index.html  en/index.html            home page and search (``?q=QUERY``), 繁體中文 / English
    browse.html  en/browse.html          every collection, series and item
    collections/<c>.html  series/<id>.html   (and under en/)
    items/<id>.html  en/items/<id>.html  player (``#t=SECONDS``), both transcript tracks, downloads,
                                         citations
    media/<id>-<digest>.m4a              the public audio (redacted spans silenced, no original tags)
    subtitles/<id>.<zh|en>.<srt|vtt|txt> subtitle and text downloads
    assets/                              style, scripts, the folding table and the glossary
    pagefind/                            the search index (Pagefind, extended build for Chinese)
    mirror.json                          what made this folder, and the files it wrote

Search runs in the browser, on an index of the *folded* text (Traditional, Hong Kong and Simplified
spellings all meet; glossary terms widen a query): :mod:`archive.preservation.mirror_search`.

This module runs the stages and keeps the record; each stage has its own module:

- :mod:`archive.preservation.mirror_gather`: what the public may see (items, presented
  segments, public audio, citations), with a fingerprint per item;
- :mod:`archive.preservation.mirror_pages`: the HTML pages, downloads, assets and their CSP;
- :mod:`archive.preservation.mirror_search`: the Pagefind index and the folding table and
  glossary the browser queries with;
- :mod:`archive.preservation.mirror_files`: the folder (which may be written, only changed
  files rewritten, stale ones removed).

Nothing private leaves: items above ``public`` are never read, redacted segments are dropped
(not blanked) from pages, subtitles and the index, the audio is the redaction module's public
rendition (redacted spans silenced, none of the original's tags; without that module an item
with redactions gets no audio),
and accounts, the audit log and originals are never touched. Pages load nothing from other hosts.

Running it again rewrites only files whose bytes changed and removes the files it wrote before
that are no longer wanted; an item whose catalog state is unchanged is not even rendered again.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archive.catalog.db import Catalog
from archive.core.config import Settings
from archive.core.errors import InputError
from archive.preservation.mirror_files import (
    MARKER,
    MIRROR_FORMAT,
    MirrorFiles,
    check_destination,
    remove_stale,
)
from archive.preservation.mirror_gather import TEMPLATE_VERSION, all_citations, gather
from archive.preservation.mirror_pages import sitemap, write_assets, write_item, write_lists
from archive.preservation.mirror_search import build_search, search_document, write_search_aids

__all__ = [
    "MirrorReport",
    "ProgressFn",
    "build_mirror",
]

# phase ("pages" or "search"), done, total
ProgressFn = Callable[[str, int, int], None]


@dataclass(frozen=True)
class MirrorReport:
    """What one run of :func:`build_mirror` did."""

    path: Path
    items: int
    written: int  # files whose bytes changed (or are new)
    unchanged: int
    removed: int
    rendered_items: int  # item pages made again (the rest were unchanged in the catalog)
    seconds: float
    search_seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "items": self.items,
            "written": self.written,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "rendered_items": self.rendered_items,
            "seconds": round(self.seconds, 3),
            "search_seconds": round(self.search_seconds, 3),
        }


def _check_base_url(base_url: str | None) -> str | None:
    if not base_url:
        return None
    if not re.match(r"^https?://[^\s/?#]+(/[^\s?#]*)?$", base_url):
        raise InputError(f"the base URL must look like https://host/path, not {base_url!r}")
    return base_url.rstrip("/")


def build_mirror(
    settings: Settings,
    catalog: Catalog,
    dest: str | os.PathLike[str],
    *,
    base_url: str | None = None,
    progress: ProgressFn | None = None,
    workers: int = 2,
) -> MirrorReport:
    """Write (or bring up to date) the static public mirror in ``dest``."""
    started = time.monotonic()
    dest_path = Path(dest).expanduser().absolute()
    base = _check_base_url(base_url)
    previous = check_destination(settings, dest_path)
    dest_path.mkdir(parents=True, exist_ok=True)
    out = MirrorFiles(dest_path)
    organisation = settings.organisation
    entries = gather(settings, catalog, base)
    updated = max((e.item.updated_at for e in entries), default="")[:10]
    citation_base = base or settings.public_url

    # Item pages: only items whose catalog state changed since the last run are rendered again.
    prev_items: dict[str, Any] = previous.get("items", {})
    todo = [
        e
        for e in entries
        if prev_items.get(e.item.id, {}).get("fingerprint") != e.fingerprint
        or not all((dest_path / rel).is_file() for rel in prev_items[e.item.id].get("files", []))
    ]
    todo_ids = {e.item.id for e in todo}
    citations = all_citations(settings, [e.item.id for e in todo], citation_base, workers)
    items_record: dict[str, Any] = {}
    for n, entry in enumerate(entries, start=1):
        item_id = entry.item.id
        if item_id not in todo_ids:
            files = prev_items[item_id]["files"]
            for rel in files:
                out.keep(rel)
            items_record[item_id] = prev_items[item_id]
            continue
        files = write_item(out, entry, citations[item_id], organisation, base)
        items_record[item_id] = {"fingerprint": entry.fingerprint, "files": files}
        if progress and (n % 20 == 0 or n == len(entries)):
            progress("pages", n, len(entries))

    write_lists(out, entries, organisation, base, updated)
    write_assets(out)
    write_search_aids(out, settings, entries)
    if base:
        out.put("sitemap.xml", sitemap(base, entries))

    search_started = time.monotonic()
    if progress:
        progress("search", 0, 1)
    build_search(
        out,
        [(f"items/{e.item.id}.html", search_document(e)) for e in entries],
        Path(tempfile.gettempdir()),
    )
    search_seconds = time.monotonic() - search_started
    if progress:
        progress("search", 1, 1)

    # Files written by the last run and not wanted now: an item no longer public, an old index.
    removed = remove_stale(dest_path, previous, out)
    record = {
        "format": MIRROR_FORMAT,
        "about": "A static mirror of the public archive, written by `archive mirror`. Public items only.",
        "organisation": organisation,
        "base_url": base,
        "template_version": TEMPLATE_VERSION,
        "items": items_record,
        "files": dict(sorted(out.produced.items())),
    }
    out.put(MARKER, json.dumps(record, ensure_ascii=False, indent=1, sort_keys=True))
    return MirrorReport(
        path=dest_path,
        items=len(entries),
        written=out.written,
        unchanged=out.unchanged,
        removed=removed,
        rendered_items=len(todo),
        seconds=time.monotonic() - started,
        search_seconds=search_seconds,
    )
