"""What the public may see, gathered for the mirror: items, their presented segments, media and
citations, each as :class:`MirrorEntry`.

Items are read as :class:`archive.catalog.access.Viewer` ``public`` sees them (embargoes
included, withheld speakers as their labels, no source link); redacted segments are dropped, not
blanked; the audio is the redaction module's public rendition (redacted spans silenced, none of
the original's tags; without that module an item with redactions gets no audio). Each entry carries a fingerprint of all it
shows, so an item whose catalog state is unchanged need not be rendered again.

Citations are rendered by citeproc (a quarter of a second per item), so :func:`all_citations`
makes them in a pool of fresh processes when there are many.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from archive.catalog.access import Viewer, present_item, present_segments
from archive.catalog.cite import build_citation, render
from archive.catalog.db import Catalog
from archive.catalog.models import Item
from archive.core.config import Settings, load_settings
from archive.core.errors import MediaError, NotFoundError
from archive.media.renditions import public_rendition
from transcripts.segments import Segment

__all__ = [
    "CITATION_STYLES",
    "TEMPLATE_VERSION",
    "MirrorEntry",
    "MirrorSeries",
    "all_citations",
    "gather",
]

# Bump when the pages' HTML (archive.preservation.mirror_pages) changes: it is part of every
# entry's fingerprint, so every item page is then rendered again.
TEMPLATE_VERSION = 2
CITATION_STYLES = ("chicago", "apa", "mla", "bibtex", "ris")
# Citations are rendered by citeproc (a quarter of a second per item): beyond this many items to
# render, they are made in a pool of processes.
POOL_THRESHOLD = 40


@dataclass(frozen=True)
class MirrorSeries:
    """A series as the mirror shows it; ``slug`` names its page (``series/<slug>.html``)."""

    id: str
    title_zh: str
    title_en: str
    description_zh: str
    description_en: str
    slug: str


@dataclass(frozen=True)
class MirrorEntry:
    """One public item with everything its pages need."""

    item: Item
    revision: int | None
    segments: tuple[Segment, ...]  # public segments only: redacted ones are not here at all
    media: Path | None
    media_rel: str | None
    duration: float | None
    series: MirrorSeries | None
    fingerprint: str


def _slug(series_id: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_-]{1,64}", series_id):
        return series_id
    return hashlib.sha256(series_id.encode()).hexdigest()[:16]


def _load_series(catalog: Catalog) -> dict[str, MirrorSeries]:
    try:
        rows = catalog.conn.execute("SELECT * FROM series").fetchall()
    except Exception:  # a catalog from before series existed
        return {}
    return {
        r["id"]: MirrorSeries(
            r["id"],
            r["title_zh"],
            r["title_en"],
            r["description_zh"],
            r["description_en"],
            _slug(r["id"]),
        )
        for r in rows
    }


def _public_media(settings: Settings, catalog: Catalog, item_id: str) -> Path | None:
    """The audio a public visitor may hear, or None. Never the unsilenced file of an item with
    redactions."""
    try:
        return public_rendition(settings, catalog, item_id, "audio")
    except (NotFoundError, MediaError):
        return None


def gather(settings: Settings, catalog: Catalog, base_url: str | None) -> list[MirrorEntry]:
    """Every item the public may see, as the public sees it, newest recording first."""
    viewer = Viewer("public")
    series = _load_series(catalog)
    entries = []
    for stored in catalog.list_items(role="staff"):
        if not viewer.may_see(stored):  # the effective visibility: embargoes count
            continue
        # As the public reads it: withheld speakers as their labels, no source link.
        item = present_item(stored, viewer)
        try:
            rev = catalog.get_revision(item.id)
            shown = present_segments(stored, rev.segments, viewer)
            revision, segments = rev.revision, tuple(s for s in shown if not s.redacted)
        except NotFoundError:
            revision, segments = None, ()
        media = _public_media(settings, catalog, item.id)
        media_rel = None
        if media is not None:
            digest = hashlib.sha256(f"{media.name}:{media.stat().st_size}".encode()).hexdigest()[
                :16
            ]
            media_rel = f"media/{item.id}-{digest}{media.suffix}"
        audio = catalog.get_media(item.id, "audio")
        item_series = series.get(item.series_id) if item.series_id else None
        fingerprint = hashlib.sha256(
            json.dumps(
                [
                    TEMPLATE_VERSION,
                    base_url,
                    settings.organisation,
                    settings.public_url,
                    item.to_dict(),
                    revision,
                    [
                        [
                            s.uid,
                            s.start,
                            s.end,
                            s.text_zh,
                            s.text_en,
                            s.speaker,
                            s.en_machine,
                            s.lang,
                        ]
                        for s in segments
                    ],
                    media_rel,
                    audio.duration if audio else None,
                    item_series.__dict__ if item_series else None,
                ],
                ensure_ascii=False,
                sort_keys=True,
                default=str,
            ).encode()
        ).hexdigest()
        entries.append(
            MirrorEntry(
                item,
                revision,
                segments,
                media,
                media_rel,
                audio.duration if audio else None,
                item_series,
                fingerprint,
            )
        )
    entries.sort(
        key=lambda e: (e.item.recorded_date or "", e.item.created_at, e.item.id), reverse=True
    )
    return entries


# -- citations (slow: made in worker processes for many items) ---------------------------------


def _citations(home: str, item_ids: list[str], base_url: str | None) -> dict[str, dict[str, str]]:
    # Run in a spawned worker too: it opens its own catalog from the data folder's path.
    settings = load_settings(home)
    catalog = Catalog(settings.catalog_path)
    out: dict[str, dict[str, str]] = {}
    try:
        for item_id in item_ids:
            citation = build_citation(
                catalog, settings, item_id, at=None, viewer=Viewer("public"), base_url=base_url
            )
            out[item_id] = {"permalink": citation.permalink} | {
                s: render(citation, s) for s in CITATION_STYLES
            }
    finally:
        catalog.close()
    return out


def all_citations(
    settings: Settings, item_ids: list[str], base_url: str | None, workers: int
) -> dict[str, dict[str, str]]:
    """Each item's public citations: ``{item id: {"permalink": …, style: text for each of
    CITATION_STYLES}}``, made in ``workers`` processes when there are many items."""
    if len(item_ids) < POOL_THRESHOLD or workers < 2:
        return _citations(str(settings.home), item_ids, base_url)
    chunks = [item_ids[i : i + 20] for i in range(0, len(item_ids), 20)]
    out: dict[str, dict[str, str]] = {}
    # Fresh interpreters, not forks: the caller may have threads (a web server, a worker).
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("spawn")
    ) as pool:
        for part in pool.map(
            _citations, [str(settings.home)] * len(chunks), chunks, [base_url] * len(chunks)
        ):
            out.update(part)
    return out
