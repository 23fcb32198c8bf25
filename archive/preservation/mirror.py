"""The public archive as a plain static website: any web host, a mirror site or a USB stick.

``build_mirror()`` writes, for public items only (as :class:`archive.catalog.access.Viewer` ``public`` sees
them, embargoes included)::

    index.html  en/index.html            home page and search (``?q=QUERY``), 繁體中文 / English
    browse.html  en/browse.html          every collection, series and item
    collections/<c>.html  series/<id>.html   (and under en/)
    items/<id>.html  en/items/<id>.html  player (``#t=SECONDS``), both transcript tracks, downloads,
                                         citations
    media/<id>-<digest>.m4a              the public audio (redacted spans silenced)
    subtitles/<id>.<zh|en>.<srt|vtt|txt> subtitle and text downloads
    assets/                              style, scripts, the folding table and the glossary
    pagefind/                            the search index (Pagefind, extended build for Chinese)
    mirror.json                          what made this folder, and the files it wrote

Search runs in the browser. Every text is indexed in its *folded* form (:func:`transcripts.chinese.fold`:
Simplified, lower-case, half-width), and the page folds the query with the same table (generated
from OpenCC's dictionaries into ``assets/fold.json``), so Traditional, Hong Kong and Simplified
spellings all meet; glossary terms named in a query are also searched in their other forms, so
``dock strike`` finds 碼頭工人罷工. Each transcript segment is a section of its item's search record
whose anchor is ``#t=SECONDS``: a hit opens the item at that second.

Nothing private leaves: items above ``public`` are never read, redacted segments are dropped
(not blanked) from pages, subtitles and the index, the audio is the redaction module's public
rendition (redacted spans silenced; without that module an item with redactions gets no audio),
and accounts, the audit log and originals are never touched. Pages load nothing from other hosts.

Running it again rewrites only files whose bytes changed and removes the files it wrote before
that are no longer wanted; an item whose catalog state is unchanged is not even rendered again.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import json
import multiprocessing
import os
import re
import shutil
import subprocess
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from archive.catalog.access import Viewer, present_item, present_segments
from archive.catalog.db import Catalog
from archive.catalog.models import Item
from archive.core.config import Settings
from archive.core.errors import ArchiveError, ConfigError, InputError, MediaError, NotFoundError
from transcripts.chinese import fold
from transcripts.segments import Segment

__all__ = [
    "MIRROR_FORMAT",
    "MirrorError",
    "MirrorReport",
    "build_mirror",
    "fold_table",
]

MIRROR_FORMAT = "hk-labour-archive-mirror/1"
MARKER = "mirror.json"
# Bump when the pages' HTML changes: every item page is then rendered again.
TEMPLATE_VERSION = 2
ASSETS = Path(__file__).with_name("mirror_assets")
CITATION_STYLES = ("chicago", "apa", "mla", "bibtex", "ris")
STYLE_NAMES = {"chicago": "Chicago", "apa": "APA", "mla": "MLA", "bibtex": "BibTeX", "ris": "RIS"}
SUBTITLE_FORMATS = ("srt", "vtt", "txt")
LATEST_ON_HOME = 20
# Citations are rendered by citeproc (a quarter of a second per item): beyond this many items to
# render, they are made in a pool of processes.
POOL_THRESHOLD = 40

ProgressFn = Callable[[str, int, int], None]

COLLECTION_NAMES = {
    "webinar": ("網上研討會", "Webinars"),
    "interview": ("訪問", "Interviews"),
    "strike-anniversary": ("罷工周年紀念", "Strike anniversaries"),
    "other": ("其他", "Other"),
}

UI = {
    "zh": {
        "lang": "zh-Hant-HK",
        "name": "繁體中文",
        "mirror": "公開檔案鏡像",
        "search": "搜尋",
        "placeholder": "搜尋錄音及逐字稿（繁、簡、英文皆可）",
        "browse": "瀏覽",
        "latest": "最新加入",
        "collections": "類別",
        "series": "系列",
        "all_items": "全部項目",
        "items": "項",
        "date": "日期",
        "collection": "類別",
        "speakers": "講者",
        "tags": "標籤",
        "duration": "長度",
        "transcript": "逐字稿",
        "no_transcript": "這個項目暫時沒有逐字稿。",
        "downloads": "下載",
        "subtitles_zh": "中文字幕",
        "subtitles_en": "英文字幕",
        "audio": "錄音",
        "cite": "引用",
        "permalink": "永久連結",
        "moment": "此刻的連結",
        "machine": "機器翻譯",
        "chapters": "章節",
        "no_audio": "這個項目沒有公開的錄音。",
        "nojs": "搜尋需要 JavaScript。你仍可瀏覽全部項目。",
        "footer": "這是 {org} 公開檔案的靜態鏡像，只收錄公開項目，可放在任何網站主機或 USB 手指上使用。",
        "updated": "最後更新",
        "other_lang": "English",
    },
    "en": {
        "lang": "en",
        "name": "English",
        "mirror": "Public archive mirror",
        "search": "Search",
        "placeholder": "Search recordings and transcripts (Chinese or English)",
        "browse": "Browse",
        "latest": "Latest additions",
        "collections": "Collections",
        "series": "Series",
        "all_items": "All items",
        "items": "items",
        "date": "Date",
        "collection": "Collection",
        "speakers": "Speakers",
        "tags": "Tags",
        "duration": "Length",
        "transcript": "Transcript",
        "no_transcript": "This item has no transcript yet.",
        "downloads": "Downloads",
        "subtitles_zh": "Chinese subtitles",
        "subtitles_en": "English subtitles",
        "audio": "Audio",
        "cite": "Cite",
        "permalink": "Permalink",
        "moment": "Link to this moment",
        "machine": "machine translation",
        "chapters": "Chapters",
        "no_audio": "This item has no public recording.",
        "nojs": "Search needs JavaScript. You can still browse every item.",
        "footer": "A static mirror of the public archive of {org}: public items only, usable from any web host "
        "or a USB stick.",
        "updated": "Last updated",
        "other_lang": "繁體中文",
    },
}


class MirrorError(ArchiveError):
    """The mirror cannot be written where asked, or its search index cannot be built."""


@dataclass(frozen=True)
class MirrorReport:
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


# -- writing only what changed -----------------------------------------------------------------


@dataclass
class _Out:
    """Writes files under the mirror, each only when its bytes differ from what is there."""

    root: Path
    produced: dict[str, int] = field(default_factory=dict)  # relative path → size
    written: int = 0
    unchanged: int = 0

    def put(self, rel: str, data: bytes | str) -> None:
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


# -- what goes in ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Series:
    id: str
    title_zh: str
    title_en: str
    description_zh: str
    description_en: str
    slug: str


@dataclass(frozen=True)
class _Entry:
    """One public item with everything its pages need."""

    item: Item
    revision: int | None
    segments: tuple[Segment, ...]  # public segments only: redacted ones are not here at all
    media: Path | None
    media_rel: str | None
    duration: float | None
    series: _Series | None
    fingerprint: str


def _slug(series_id: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_-]{1,64}", series_id):
        return series_id
    return hashlib.sha256(series_id.encode()).hexdigest()[:16]


def _load_series(catalog: Catalog) -> dict[str, _Series]:
    try:
        rows = catalog.conn.execute("SELECT * FROM series").fetchall()
    except Exception:  # a catalog from before series existed
        return {}
    return {
        r["id"]: _Series(
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
        from archive.media.renditions import public_rendition
    except ImportError:
        if catalog.redaction_spans(item_id):
            return None
        audio = catalog.get_media(item_id, "audio")
        if audio is None:
            return None
        path = (settings.home / audio.path).resolve()
        return path if path.is_relative_to(settings.home.resolve()) and path.is_file() else None
    try:
        return public_rendition(settings, catalog, item_id, "audio")
    except (NotFoundError, MediaError):
        return None


def _gather(settings: Settings, catalog: Catalog, base_url: str | None) -> list[_Entry]:
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
            _Entry(
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
    from archive.catalog.cite import build_citation, render
    from archive.catalog.db import Catalog
    from archive.core.config import load_settings

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


def _all_citations(
    settings: Settings, item_ids: list[str], base_url: str | None, workers: int
) -> dict[str, dict[str, str]]:
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


# -- HTML --------------------------------------------------------------------------------------


# The mirror is served by whatever static host an organisation has, which may send no policy of
# its own: each page carries one, allowing only its own site (Pagefind compiles its WebAssembly
# index reader, hence 'wasm-unsafe-eval'; the favicon is an empty data: URL; item pages play
# their audio from a blob: the page fetched from the mirror itself).
MIRROR_CSP = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
    "img-src 'self' data:; media-src 'self' blob:; connect-src 'self'; font-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'"
)


def _e(text: object) -> str:
    return html.escape(str(text or ""), quote=True)


def _clock(seconds: float | None) -> str:
    whole = int(seconds or 0)
    h, m, s = whole // 3600, whole % 3600 // 60, whole % 60
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def _moment(seconds: float) -> str:
    """A segment's start for a ``#t=`` link: whole seconds when whole, else to the hundredth
    (``3.2``), so a link starts the player exactly where the sentence starts."""
    text = f"{max(0.0, seconds):.2f}".rstrip("0").rstrip(".")
    return text or "0"


def _titles(item: Item, lang: str) -> tuple[str, str]:
    first, second = (
        (item.title_en, item.title_zh) if lang == "en" else (item.title_zh, item.title_en)
    )
    first = first or second or item.id
    return first, (second if second and second != first else "")


def _collection_name(collection: str, lang: str) -> str:
    zh, en = COLLECTION_NAMES.get(collection, (collection, collection))
    return en if lang == "en" else zh


def _series_name(series: _Series, lang: str) -> str:
    first, second = (
        (series.title_en, series.title_zh) if lang == "en" else (series.title_zh, series.title_en)
    )
    return first or second or series.id


@dataclass(frozen=True)
class _Page:
    """Where a page sits: ``rel`` under the mirror root, in language ``lang``."""

    rel: str  # e.g. "items/abc.html" (the zh page); the en page is "en/" + rel
    lang: str

    @property
    def path(self) -> str:
        return self.rel if self.lang == "zh" else f"en/{self.rel}"

    @property
    def root(self) -> str:
        return "../" * self.path.count("/")

    @property
    def home(self) -> str:
        """The prefix of this language's pages, relative to this page."""
        return self.root + ("en/" if self.lang == "en" else "")

    @property
    def other(self) -> str:
        return self.root + (self.rel if self.lang == "en" else f"en/{self.rel}")


def _layout(
    page: _Page,
    title: str,
    body: str,
    organisation: str,
    base_url: str | None,
    updated: str,
    scripts: Iterable[str] = (),
    search_page: bool = False,
) -> str:
    t = UI[page.lang]
    other_lang = "en" if page.lang == "zh" else "zh"
    canonical = (
        f'\n<link rel="canonical" href="{_e(base_url + "/" + page.path)}">' if base_url else ""
    )
    script_tags = "".join(
        f'\n<script src="{page.root}assets/{name}" defer></script>' for name in scripts
    )
    # Item pages carry no date of the whole mirror: they are rewritten only when the item changes.
    updated_line = f"\n<p>{t['updated']}: {_e(updated)}</p>" if updated else ""
    form_id = ' id="search-form"' if search_page else ""
    input_id = ' id="search-input"' if search_page else ""
    return f"""<!doctype html>
<html lang="{t["lang"]}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta http-equiv="Content-Security-Policy" content="{MIRROR_CSP}">
<title>{_e(title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{page.root}assets/mirror.css">
<link rel="alternate" hreflang="{UI[other_lang]["lang"]}" href="{_e(page.other)}">{canonical}{script_tags}
</head>
<body data-root="{page.root}" data-lang="{page.lang}">
<header class="site">
<a class="home" href="{page.home}index.html">{_e(organisation)}</a>
<nav><a href="{page.home}browse.html">{t["browse"]}</a> <a href="{_e(page.other)}" hreflang="{UI[other_lang]["lang"]}" lang="{UI[other_lang]["lang"]}">{t["other_lang"]}</a></nav>
<form class="search"{form_id} action="{page.home}index.html" method="get" role="search">
<input type="search" name="q"{input_id} placeholder="{_e(t["placeholder"])}" aria-label="{_e(t["search"])}">
<button type="submit">{t["search"]}</button>
</form>
</header>
<main>
{body}
</main>
<footer class="site">
<p>{_e(t["footer"].format(org=organisation))}</p>{updated_line}
</footer>
</body>
</html>
"""


def _item_list(entries: Iterable[_Entry], page: _Page) -> str:
    rows = []
    for entry in entries:
        first, second = _titles(entry.item, page.lang)
        extra = f' <span class="second">{_e(second)}</span>' if second else ""
        date = (
            f' <span class="date">{_e(entry.item.recorded_date)}</span>'
            if entry.item.recorded_date
            else ""
        )
        dur = f' <span class="dur">{_clock(entry.duration)}</span>' if entry.duration else ""
        rows.append(
            f'<li><a href="{page.home}items/{entry.item.id}.html">{_e(first)}</a>{extra}{date}{dur}</li>'
        )
    return '<ul class="items">\n' + "\n".join(rows) + "\n</ul>"


def _item_page(
    entry: _Entry,
    page: _Page,
    citations: dict[str, str],
    organisation: str,
    base_url: str | None,
    subtitle_files: dict[str, list[str]],
) -> str:
    t = UI[page.lang]
    item = entry.item
    first, second = _titles(item, page.lang)
    heading = (
        f"<h1>{_e(first)}"
        + (f'<span class="second">{_e(second)}</span>' if second else "")
        + "</h1>"
    )
    meta: list[tuple[str, str]] = []
    if item.recorded_date:
        meta.append((t["date"], _e(item.recorded_date)))
    meta.append(
        (
            t["collection"],
            f'<a href="{page.home}collections/{item.collection}.html">{_e(_collection_name(item.collection, page.lang))}</a>',
        )
    )
    if entry.series:
        meta.append(
            (
                t["series"],
                f'<a href="{page.home}series/{entry.series.slug}.html">{_e(_series_name(entry.series, page.lang))}</a>',
            )
        )
    if item.speakers:
        meta.append(
            (
                t["speakers"],
                _e("、".join(item.speakers) if page.lang == "zh" else ", ".join(item.speakers)),
            )
        )
    if item.tags:
        meta.append((t["tags"], _e(", ".join(item.tags))))
    if entry.duration:
        meta.append((t["duration"], _clock(entry.duration)))
    meta_html = (
        '<dl class="meta">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in meta) + "</dl>"
    )
    descriptions = [
        d for d in ((item.description_zh, "zh-Hant-HK"), (item.description_en, "en")) if d[0]
    ]
    if page.lang == "en":
        descriptions.reverse()
    desc_html = "".join(
        f'<p class="description" lang="{lang}">'
        + "<br>".join(_e(line) for line in text.splitlines())
        + "</p>"
        for text, lang in descriptions
    )
    if entry.media_rel:
        tracks = []
        for track, label, srclang in (("zh", "中文", "zh-Hant-HK"), ("en", "English", "en")):
            if f"subtitles/{item.id}.{track}.vtt" in subtitle_files.get(track, []):
                tracks.append(
                    f'<track kind="subtitles" srclang="{srclang}" label="{label}" '
                    f'src="{page.root}subtitles/{item.id}.{track}.vtt">'
                )
        player = (
            f'<div class="player"><audio id="player" controls preload="auto" src="{page.root}{entry.media_rel}">'
            + "".join(tracks)
            + "</audio></div>"
        )
    else:
        player = f'<p class="lede">{t["no_audio"]}</p>'
    chapters = ""
    if item.chapters:
        rows = "".join(
            f'<li><a class="ts" href="#t={_moment(float(c.get("start") or 0))}">{_clock(c.get("start"))}</a> {_e(c.get("title", ""))}</li>'
            for c in item.chapters
        )
        chapters = f"<h2>{t['chapters']}</h2><ul>{rows}</ul>"
    # The transcript: both tracks of every public segment, each with the id "t=START", so that
    # #t= links also work without JavaScript.
    seen_ids: set[str] = set()
    seg_rows = []
    for s in entry.segments:
        moment = _moment(s.start)
        anchor = f' id="t={moment}"' if moment not in seen_ids else ""
        seen_ids.add(moment)
        parts = []
        if s.text_zh:
            parts.append(f'<span class="zh" lang="zh-Hant-HK">{_e(s.text_zh)}</span>')
        if s.text_en:
            machine = f' <span class="machine">({t["machine"]})</span>' if s.en_machine else ""
            parts.append(f'<span class="en" lang="en">{_e(s.text_en)}{machine}</span>')
        speaker = f'<span class="speaker">{_e(s.speaker)}:</span> ' if s.speaker else ""
        seg_rows.append(
            f'<li{anchor} data-start="{s.start:.3f}" data-end="{s.end:.3f}"><a class="ts" href="#t={moment}">'
            f"{_clock(s.start)}</a>{speaker}{''.join(parts)}</li>"
        )
    transcript = f"<h2>{t['transcript']}</h2>" + (
        '<ol class="segments">\n' + "\n".join(seg_rows) + "\n</ol>"
        if seg_rows
        else f"<p>{t['no_transcript']}</p>"
    )
    links = []
    for track in ("zh", "en"):
        files = subtitle_files.get(track, [])
        if files:
            label = t[f"subtitles_{track}"]
            links.append(
                f"<li>{label}: "
                + " ".join(
                    f'<a href="{page.root}{f}" download>{f.rsplit(".", 1)[1].upper()}</a>'
                    for f in files
                )
                + "</li>"
            )
    if entry.media_rel:
        links.append(
            f'<li>{t["audio"]}: <a href="{page.root}{entry.media_rel}" download>M4A</a></li>'
        )
    downloads = (
        f'<h2>{t["downloads"]}</h2><ul class="downloads">{"".join(links)}</ul>' if links else ""
    )
    permalink = citations.get("permalink", "")
    cite_blocks = "".join(
        f"<details{' open' if style == 'chicago' else ''}><summary>{STYLE_NAMES[style]}</summary>"
        f'<pre class="citation">{_e(citations.get(style, ""))}</pre></details>'
        for style in CITATION_STYLES
    )
    moment = (
        f'<p>{t["moment"]}: <a id="moment-link" href="#t=0">#t=0</a></p>' if entry.media_rel else ""
    )
    cite = (
        f"<h2>{t['cite']}</h2>"
        + (
            f'<p>{t["permalink"]}: <a href="{_e(permalink)}">{_e(permalink)}</a></p>'
            if permalink.startswith("http")
            else ""
        )
        + moment
        + cite_blocks
    )
    body = (
        f'<article class="item" data-item-id="{item.id}" data-revision="{entry.revision or ""}">'
        f"{heading}{meta_html}{desc_html}{player}{chapters}{transcript}{downloads}{cite}</article>"
    )
    return _layout(page, first, body, organisation, base_url, "", scripts=("item.js",))


def _subtitles(entry: _Entry) -> dict[str, bytes]:
    from transcripts.subtitles import export

    out: dict[str, bytes] = {}
    if not entry.segments:
        return out
    for track in ("zh", "en"):
        if not any(s.text(track).strip() for s in entry.segments):
            continue
        for fmt in SUBTITLE_FORMATS:
            out[f"subtitles/{entry.item.id}.{track}.{fmt}"] = export(
                entry.segments, fmt, track
            ).encode("utf-8")
    return out


def _search_document(entry: _Entry) -> str:
    """What Pagefind indexes for one item (never written to the mirror as a page).

    Visible text is the original (it is what a result shows); the folded copy after it is what
    queries, folded the same way in the browser, match. Each segment is a heading whose id is
    ``t=START``, so Pagefind returns it as a sub-result linking to that moment.
    """
    item = entry.item
    meta = {
        "item": item.id,
        "title_zh": item.title_zh,
        "title_en": item.title_en,
        "date": item.recorded_date or "",
        "collection": item.collection,
    }
    meta_tags = "".join(
        f'<span data-pagefind-meta="{key}:{_e(value)}"></span>'
        for key, value in meta.items()
        if value
    )
    about = " ".join(
        [
            item.title_zh,
            item.title_en,
            item.description_zh,
            item.description_en,
            " ".join(item.speakers),
            " ".join(item.tags),
        ]
    )
    sections = []
    for s in entry.segments:
        shown = " ".join(p for p in (s.text_zh, s.text_en) if p)
        sections.append(f'<h2 id="t={_moment(s.start)}">{_e(shown)}</h2><p>{_e(fold(shown))}</p>')
    return (
        '<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>'
        f"{_e(item.title_zh or item.title_en or item.id)}</title></head><body><main data-pagefind-body>"
        f"{meta_tags}<h1>{_e(fold(item.title_zh + ' ' + item.title_en))}</h1><p>{_e(fold(about))}</p>"
        + "".join(sections)
        + "</main></body></html>"
    )


# -- the folding table and the glossary for the browser ----------------------------------------


_HAN_BLOCKS = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x3007, 0x3007))


@lru_cache(maxsize=1)
def fold_table() -> dict[str, str]:
    """Every Han character that :func:`fold` changes, and to what: OpenCC's Hong Kong/Traditional →
    Simplified character conversions (plus compatibility ideographs). Folding is character by
    character, so no phrase table is needed; other characters are folded in the page itself
    (NFKC and lower case), exactly as ``fold`` does."""
    table: dict[str, str] = {}
    for start, end in _HAN_BLOCKS:
        chars = "".join(chr(c) for c in range(start, end + 1))
        folded = fold(chars)  # same length: one character per character
        for a, b in zip(chars, folded, strict=True):
            if a != b:
                table[a] = b
    # Non-Han characters whose folding a browser's NFKC + toLowerCase would do differently are
    # rare; the full-width Latin letters and digits are checked here to be sure.
    for code in range(0xFF01, 0xFF5F):
        ch = chr(code)
        expected = fold(ch)
        normal = unicodedata.normalize("NFKC", ch).lower()
        if expected != normal:
            table[ch] = expected
    return table


def _glossary_for_browser(settings: Settings, corpus: str) -> list[list[list[str]]]:
    """Glossary entries as ``[[zh forms], [en forms], [zh as written], [en as written]]``: the first
    two folded like the index (for matching), the last two for showing what was also searched.
    The shipped glossary is public already; entries from the data folder's own glossary go in
    only when one of their forms occurs in the public text."""
    try:
        from indexer.glossary import BUILTIN_GLOSSARY, parse_glossary
    except ImportError:
        return []
    out: list[list[list[str]]] = []
    sources = [(BUILTIN_GLOSSARY, False), (settings.home / "glossary.tsv", True)]
    for path, local in sources:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        entries, _ = parse_glossary(text, str(path))
        for entry in entries:
            zh = _forms(entry.zh)
            en = _forms(entry.en)
            if local and not any(folded in corpus for folded, _ in zh + en):
                continue
            if zh or en:
                out.append(
                    [[f for f, _ in zh], [f for f, _ in en], [w for _, w in zh], [w for _, w in en]]
                )
    return out


def _forms(forms: Iterable[str]) -> list[tuple[str, str]]:
    """(folded, as written) pairs, one per folded form, longest first."""
    seen: dict[str, str] = {}
    for form in forms:
        if form.strip():
            seen.setdefault(fold(form).strip(), form.strip())
    return sorted(seen.items(), key=lambda pair: len(pair[0]), reverse=True)


# -- Pagefind ----------------------------------------------------------------------------------


def _build_search(out: _Out, documents: list[tuple[str, str]], tmp_parent: Path) -> None:
    """Index the search documents with the Pagefind program and put its bundle under pagefind/.

    The documents are written to a scratch folder and indexed by the command-line program (its
    Python service API costs a round trip per document: twenty times slower here). One index
    for both interface languages, with Chinese word segmentation (the extended build).
    """
    from pagefind.service import get_executable

    executable = get_executable()
    if executable is None:
        raise ConfigError("the Pagefind program is missing: pip install 'pagefind[extended]'")
    with tempfile.TemporaryDirectory(dir=tmp_parent, prefix="pagefind-") as tmp:
        site, target = Path(tmp) / "site", Path(tmp) / "pagefind"
        for url, document in documents:
            path = site / url
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(document, encoding="utf-8")
        result = subprocess.run(
            [str(executable), "--site", str(site), "--output-path", str(target), "--force-language", "zh", "--quiet"],
            capture_output=True, text=True, timeout=3600,
        )  # fmt: skip
        if result.returncode != 0 or not (target / "pagefind.js").is_file():
            detail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
            raise MirrorError(f"the search index could not be built: {detail[0]}")
        for path in sorted(target.rglob("*")):
            if path.is_file():
                out.put(f"pagefind/{path.relative_to(target).as_posix()}", path.read_bytes())


# -- the whole mirror --------------------------------------------------------------------------


def _check_destination(settings: Settings, dest: Path) -> dict[str, Any]:
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
    previous = _check_destination(settings, dest_path)
    dest_path.mkdir(parents=True, exist_ok=True)
    out = _Out(dest_path)
    organisation = settings.organisation
    entries = _gather(settings, catalog, base)
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
    citations = _all_citations(settings, [e.item.id for e in todo], citation_base, workers)
    items_record: dict[str, Any] = {}
    for n, entry in enumerate(entries, start=1):
        item_id = entry.item.id
        if item_id not in todo_ids:
            files = prev_items[item_id]["files"]
            for rel in files:
                out.keep(rel)
            items_record[item_id] = prev_items[item_id]
            continue
        files: list[str] = []
        subtitles = _subtitles(entry)
        for rel, data in subtitles.items():
            out.put(rel, data)
            files.append(rel)
        by_track = {track: [r for r in subtitles if f".{track}." in r] for track in ("zh", "en")}
        if entry.media is not None and entry.media_rel:
            out.put_file(entry.media_rel, entry.media)
            files.append(entry.media_rel)
        for lang in ("zh", "en"):
            page = _Page(f"items/{item_id}.html", lang)
            out.put(
                page.path, _item_page(entry, page, citations[item_id], organisation, base, by_track)
            )
            files.append(page.path)
        items_record[item_id] = {"fingerprint": entry.fingerprint, "files": files}
        if progress and (n % 20 == 0 or n == len(entries)):
            progress("pages", n, len(entries))

    _write_lists(out, entries, organisation, base, updated)
    for asset in sorted(ASSETS.iterdir()):
        if asset.is_file():
            out.put(f"assets/{asset.name}", asset.read_bytes())
    out.put(
        "assets/fold.json",
        json.dumps(fold_table(), ensure_ascii=False, separators=(",", ":"), sort_keys=True),
    )
    corpus = fold(
        "\n".join(
            " ".join(
                [e.item.title_zh, e.item.title_en, e.item.description_zh, e.item.description_en]
            )
            + "\n"
            + "\n".join(f"{s.text_zh} {s.text_en}" for s in e.segments)
            for e in entries
        )
    )
    out.put(
        "assets/glossary.json",
        json.dumps(
            _glossary_for_browser(settings, corpus), ensure_ascii=False, separators=(",", ":")
        ),
    )
    if base:
        out.put("sitemap.xml", _sitemap(base, entries))

    search_started = time.monotonic()
    if progress:
        progress("search", 0, 1)
    _build_search(
        out,
        [(f"items/{e.item.id}.html", _search_document(e)) for e in entries],
        Path(tempfile.gettempdir()),
    )
    search_seconds = time.monotonic() - search_started
    if progress:
        progress("search", 1, 1)

    # Files written by the last run and not wanted now: an item no longer public, an old index.
    removed = 0
    for rel in previous.get("files", {}):
        if rel not in out.produced and _safe_rel(rel):
            try:
                (dest_path / rel).unlink()
                removed += 1
            except FileNotFoundError:
                pass
    _remove_empty_dirs(dest_path)
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


def _safe_rel(rel: str) -> bool:
    parts = Path(rel).parts
    return bool(parts) and not Path(rel).is_absolute() and ".." not in parts


def _remove_empty_dirs(root: Path) -> None:
    for folder in sorted(
        (p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True
    ):
        with contextlib.suppress(OSError):  # not empty: still in use
            folder.rmdir()


def _write_lists(
    out: _Out, entries: list[_Entry], organisation: str, base: str | None, updated: str
) -> None:
    """Home pages, the browse pages, and one page per collection and per series."""
    by_collection: dict[str, list[_Entry]] = {}
    by_series: dict[str, tuple[_Series, list[_Entry]]] = {}
    for entry in entries:
        by_collection.setdefault(entry.item.collection, []).append(entry)
        if entry.series:
            by_series.setdefault(entry.series.slug, (entry.series, []))[1].append(entry)
    collections = [c for c in COLLECTION_NAMES if c in by_collection] + sorted(
        c for c in by_collection if c not in COLLECTION_NAMES
    )
    series_list = sorted(
        by_series.values(), key=lambda sv: (sv[0].title_en or sv[0].title_zh, sv[0].id)
    )
    for lang in ("zh", "en"):
        t = UI[lang]

        def nav(page: _Page, lang: str = lang, t: dict[str, str] = t) -> str:
            cols = "".join(
                f'<li><a href="{page.home}collections/{c}.html">{_e(_collection_name(c, lang))}</a> '
                f'<span class="date">{len(by_collection[c])} {t["items"]}</span></li>'
                for c in collections
            )
            sers = "".join(
                f'<li><a href="{page.home}series/{s.slug}.html">{_e(_series_name(s, lang))}</a> '
                f'<span class="date">{len(members)} {t["items"]}</span></li>'
                for s, members in series_list
            )
            return (
                f'<div class="columns"><section><h2>{t["collections"]}</h2><ul>{cols}</ul></section>'
                + (f"<section><h2>{t['series']}</h2><ul>{sers}</ul></section>" if sers else "")
                + "</div>"
            )

        home = _Page("index.html", lang)
        body = (
            f'<h1>{_e(organisation)}<span class="second">{t["mirror"]}</span></h1>'
            f'<div id="results" aria-live="polite"></div>'
            f'<noscript><p class="lede">{t["nojs"]} <a href="{home.home}browse.html">{t["browse"]}</a></p></noscript>'
            f'<div id="home-content">{nav(home)}<h2>{t["latest"]}</h2>{_item_list(entries[:LATEST_ON_HOME], home)}'
            f'<p><a href="{home.home}browse.html">{t["all_items"]} ({len(entries)})</a></p></div>'
        )
        out.put(
            home.path,
            _layout(
                home,
                f"{organisation} · {t['mirror']}",
                body,
                organisation,
                base,
                updated,
                scripts=("search.js",),
                search_page=True,
            ),
        )
        browse = _Page("browse.html", lang)
        body = f"<h1>{t['browse']}</h1>{nav(browse)}<h2>{t['all_items']} ({len(entries)})</h2>{_item_list(entries, browse)}"
        out.put(
            browse.path,
            _layout(browse, f"{t['browse']} · {organisation}", body, organisation, base, updated),
        )
        for c in collections:
            page = _Page(f"collections/{c}.html", lang)
            name = _collection_name(c, lang)
            body = f"<h1>{_e(name)}</h1>{_item_list(by_collection[c], page)}"
            out.put(
                page.path,
                _layout(page, f"{name} · {organisation}", body, organisation, base, updated),
            )
        for series, members in series_list:
            page = _Page(f"series/{series.slug}.html", lang)
            name = _series_name(series, lang)
            description = series.description_en if lang == "en" else series.description_zh
            description = description or (
                series.description_zh if lang == "en" else series.description_en
            )
            body = (
                f"<h1>{_e(name)}</h1>"
                + (f'<p class="lede">{_e(description)}</p>' if description else "")
                + _item_list(members, page)
            )
            out.put(
                page.path,
                _layout(page, f"{name} · {organisation}", body, organisation, base, updated),
            )


def _sitemap(base: str, entries: list[_Entry]) -> str:
    urls = ["index.html", "en/index.html", "browse.html", "en/browse.html"]
    for e in entries:
        urls += [f"items/{e.item.id}.html", f"en/items/{e.item.id}.html"]
    body = "".join(f"<url><loc>{_e(base + '/' + quote(u))}</loc></url>\n" for u in urls)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{body}</urlset>\n'
