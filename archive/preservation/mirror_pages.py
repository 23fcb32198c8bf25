"""The mirror's pages: static HTML in 繁體中文 and English, the files they link to, and their assets.

For every public item (:class:`archive.preservation.mirror_gather.MirrorEntry`) :func:`write_item`
writes its two pages (player with ``#t=SECONDS`` links, both transcript tracks, downloads,
citations), its subtitle and text downloads and its public audio; :func:`write_lists` writes the
home and browse pages and one page per collection and per series; :func:`write_assets` copies the
style and scripts from ``mirror_assets/``; :func:`sitemap` lists every page for a known base URL.

Pages load nothing from other hosts: each carries its own Content-Security-Policy
(:data:`MIRROR_CSP`), since the static host that serves it may send none. Every text is
HTML-escaped (:func:`escape`); each transcript segment's anchor is ``t=`` and
:func:`moment_text` of its start, which the search index uses too.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from archive.catalog.models import Item
from archive.core.moments import moment_param
from archive.preservation.mirror_files import MirrorFiles
from archive.preservation.mirror_gather import CITATION_STYLES, MirrorEntry, MirrorSeries
from transcripts.subtitles import export
from transcripts.turns import turn_starts

__all__ = [
    "ASSETS",
    "MIRROR_CSP",
    "escape",
    "moment_text",
    "sitemap",
    "write_assets",
    "write_item",
    "write_lists",
]

ASSETS = Path(__file__).with_name("mirror_assets")
STYLE_NAMES = {"chicago": "Chicago", "apa": "APA", "mla": "MLA", "bibtex": "BibTeX", "ris": "RIS"}
SUBTITLE_FORMATS = ("srt", "vtt", "txt")
LATEST_ON_HOME = 20

COLLECTION_NAMES = {
    "webinar": ("網上研討會", "Webinars"),
    "interview": ("訪問", "Interviews"),
    "strike-anniversary": ("罷工週年紀念", "Strike anniversaries"),
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


def escape(text: object) -> str:
    """``text`` as HTML, quotes included (None and empty as nothing)."""
    return html.escape(str(text or ""), quote=True)


def _clock(seconds: float | None) -> str:
    whole = int(seconds or 0)
    h, m, s = whole // 3600, whole % 3600 // 60, whole % 60
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def moment_text(seconds: float) -> str:
    """A segment's start for a ``#t=`` link (:func:`archive.core.moments.moment_param`: to the
    millisecond, rounded up), so a link starts the player in the sentence, never the one before."""
    return moment_param(seconds)


def _titles(item: Item, lang: str) -> tuple[str, str]:
    first, second = (
        (item.title_en, item.title_zh) if lang == "en" else (item.title_zh, item.title_en)
    )
    first = first or second or item.id
    return first, (second if second and second != first else "")


def _collection_name(collection: str, lang: str) -> str:
    zh, en = COLLECTION_NAMES.get(collection, (collection, collection))
    return en if lang == "en" else zh


def _series_name(series: MirrorSeries, lang: str) -> str:
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
        f'\n<link rel="canonical" href="{escape(base_url + "/" + page.path)}">' if base_url else ""
    )
    script_tags = "".join(
        f'\n<script src="{page.root}assets/{name}" defer></script>' for name in scripts
    )
    # Item pages carry no date of the whole mirror: they are rewritten only when the item changes.
    updated_line = f"\n<p>{t['updated']}: {escape(updated)}</p>" if updated else ""
    form_id = ' id="search-form"' if search_page else ""
    input_id = ' id="search-input"' if search_page else ""
    return f"""<!doctype html>
<html lang="{t["lang"]}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta http-equiv="Content-Security-Policy" content="{MIRROR_CSP}">
<title>{escape(title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{page.root}assets/mirror.css">
<link rel="alternate" hreflang="{UI[other_lang]["lang"]}" href="{escape(page.other)}">{canonical}{script_tags}
</head>
<body data-root="{page.root}" data-lang="{page.lang}">
<header class="site">
<a class="home" href="{page.home}index.html">{escape(organisation)}</a>
<nav><a href="{page.home}browse.html">{t["browse"]}</a> <a href="{escape(page.other)}" hreflang="{UI[other_lang]["lang"]}" lang="{UI[other_lang]["lang"]}">{t["other_lang"]}</a></nav>
<form class="search"{form_id} action="{page.home}index.html" method="get" role="search">
<input type="search" name="q"{input_id} placeholder="{escape(t["placeholder"])}" aria-label="{escape(t["search"])}">
<button type="submit">{t["search"]}</button>
</form>
</header>
<main>
{body}
</main>
<footer class="site">
<p>{escape(t["footer"].format(org=organisation))}</p>{updated_line}
</footer>
</body>
</html>
"""


def _item_list(entries: Iterable[MirrorEntry], page: _Page) -> str:
    rows = []
    for entry in entries:
        first, second = _titles(entry.item, page.lang)
        extra = f' <span class="second">{escape(second)}</span>' if second else ""
        date = (
            f' <span class="date">{escape(entry.item.recorded_date)}</span>'
            if entry.item.recorded_date
            else ""
        )
        dur = f' <span class="dur">{_clock(entry.duration)}</span>' if entry.duration else ""
        rows.append(
            f'<li><a href="{page.home}items/{entry.item.id}.html">{escape(first)}</a>{extra}{date}{dur}</li>'
        )
    return '<ul class="items">\n' + "\n".join(rows) + "\n</ul>"


def _item_page(
    entry: MirrorEntry,
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
        f"<h1>{escape(first)}"
        + (f'<span class="second">{escape(second)}</span>' if second else "")
        + "</h1>"
    )
    meta: list[tuple[str, str]] = []
    if item.recorded_date:
        meta.append((t["date"], escape(item.recorded_date)))
    meta.append(
        (
            t["collection"],
            f'<a href="{page.home}collections/{item.collection}.html">{escape(_collection_name(item.collection, page.lang))}</a>',
        )
    )
    if entry.series:
        meta.append(
            (
                t["series"],
                f'<a href="{page.home}series/{entry.series.slug}.html">{escape(_series_name(entry.series, page.lang))}</a>',
            )
        )
    if item.speakers:
        meta.append(
            (
                t["speakers"],
                escape("、".join(item.speakers) if page.lang == "zh" else ", ".join(item.speakers)),
            )
        )
    if item.tags:
        meta.append((t["tags"], escape(", ".join(item.tags))))
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
        + "<br>".join(escape(line) for line in text.splitlines())
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
            f'<li><a class="ts" href="#t={moment_text(float(c.get("start") or 0))}">{_clock(c.get("start"))}</a> {escape(c.get("title", ""))}</li>'
            for c in item.chapters
        )
        chapters = f"<h2>{t['chapters']}</h2><ul>{rows}</ul>"
    # The transcript: both tracks of every public segment, each with the id "t=START", so that
    # #t= links also work without JavaScript.
    seen_ids: set[str] = set()
    seg_rows = []
    for s, turn in zip(entry.segments, turn_starts(entry.segments), strict=True):
        moment = moment_text(s.start)
        anchor = f' id="t={moment}"' if moment not in seen_ids else ""
        seen_ids.add(moment)
        parts = []
        if s.text_zh:
            parts.append(f'<span class="zh" lang="zh-Hant-HK">{escape(s.text_zh)}</span>')
        if s.text_en:
            machine = f' <span class="machine">({t["machine"]})</span>' if s.en_machine else ""
            parts.append(f'<span class="en" lang="en">{escape(s.text_en)}{machine}</span>')
        # The speaker is named where a turn begins, not on every line.
        speaker = f'<span class="speaker">{escape(s.speaker)}:</span> ' if turn else ""
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
        f'<pre class="citation">{escape(citations.get(style, ""))}</pre></details>'
        for style in CITATION_STYLES
    )
    moment = (
        f'<p>{t["moment"]}: <a id="moment-link" href="#t=0">#t=0</a></p>' if entry.media_rel else ""
    )
    cite = (
        f"<h2>{t['cite']}</h2>"
        + (
            f'<p>{t["permalink"]}: <a href="{escape(permalink)}">{escape(permalink)}</a></p>'
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


def _subtitles(entry: MirrorEntry) -> dict[str, bytes]:
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


def write_item(
    out: MirrorFiles,
    entry: MirrorEntry,
    citations: dict[str, str],
    organisation: str,
    base_url: str | None,
) -> list[str]:
    """Write one item's subtitles, audio and two pages; returns the paths written, which the
    next run keeps as they are while the item's fingerprint is unchanged."""
    item_id = entry.item.id
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
        out.put(page.path, _item_page(entry, page, citations, organisation, base_url, by_track))
        files.append(page.path)
    return files


def write_assets(out: MirrorFiles) -> None:
    """The pages' style and scripts, copied from ``mirror_assets/``."""
    for asset in sorted(ASSETS.iterdir()):
        if asset.is_file():
            out.put(f"assets/{asset.name}", asset.read_bytes())


def write_lists(
    out: MirrorFiles, entries: list[MirrorEntry], organisation: str, base: str | None, updated: str
) -> None:
    """Home pages, the browse pages, and one page per collection and per series."""
    by_collection: dict[str, list[MirrorEntry]] = {}
    by_series: dict[str, tuple[MirrorSeries, list[MirrorEntry]]] = {}
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
                f'<li><a href="{page.home}collections/{c}.html">{escape(_collection_name(c, lang))}</a> '
                f'<span class="date">{len(by_collection[c])} {t["items"]}</span></li>'
                for c in collections
            )
            sers = "".join(
                f'<li><a href="{page.home}series/{s.slug}.html">{escape(_series_name(s, lang))}</a> '
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
            f'<h1>{escape(organisation)}<span class="second">{t["mirror"]}</span></h1>'
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
            body = f"<h1>{escape(name)}</h1>{_item_list(by_collection[c], page)}"
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
                f"<h1>{escape(name)}</h1>"
                + (f'<p class="lede">{escape(description)}</p>' if description else "")
                + _item_list(members, page)
            )
            out.put(
                page.path,
                _layout(page, f"{name} · {organisation}", body, organisation, base, updated),
            )


def sitemap(base: str, entries: list[MirrorEntry]) -> str:
    """``sitemap.xml`` for a mirror published at ``base``: the home, browse and item pages."""
    urls = ["index.html", "en/index.html", "browse.html", "en/browse.html"]
    for e in entries:
        urls += [f"items/{e.item.id}.html", f"en/items/{e.item.id}.html"]
    body = "".join(f"<url><loc>{escape(base + '/' + quote(u))}</loc></url>\n" for u in urls)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{body}</urlset>\n'
