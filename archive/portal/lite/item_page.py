"""The light item page: native player, the transcript as ``?t=`` links, the chosen moment's citation.

``/lite/item/ID?t=SECONDS&rev=N&style=S&lang=…``. ``t`` chooses the segment that starts at or
contains the moment (:func:`archive.catalog.cite.segment_at`, the rule of the portal's caption and
"Cite this"), never its neighbour; each row links its own start as
:func:`archive.core.moments.moment_param` writes it (to the millisecond, rounded up) and carries the
anchor ``t=START``, so the page scrolls to it without JavaScript. The player is a native
``<audio controls>`` (or ``<video>``) whose source is the portal's own signed
``/files/media/…`` URL with a ``#t=`` media fragment; ``lite-player.js``, when it runs, only
highlights the row being spoken and seeks in place.

Everything is read as the request's viewer: :func:`archive.catalog.access.visible_item` /
``visible_revision`` (redacted rows blank below staff, withheld speakers as labels), the signed
URLs minted for that viewer and session, and :func:`archive.catalog.cite.build_citation` for the
same viewer.
"""

from __future__ import annotations

from archive.catalog.access import visible_item, visible_revision
from archive.catalog.cite import build_citation, render, segment_at
from archive.core.errors import ArchiveError, NotFoundError
from archive.core.moments import moment_param
from archive.portal.i18n import N_, clock
from archive.portal.lite.context import LiteContext, part
from archive.portal.lite.layout import collection_name, titles
from archive.portal.routes.files import media_url, subtitle_url
from archive.portal.ui import item_duration, playable_media
from archive.preservation.mirror_pages import escape, moment_text
from transcripts.segments import Segment
from transcripts.turns import turn_starts

__all__ = ["STYLES", "item_body", "parse_time"]

STYLES = {"chicago": "Chicago", "apa": "APA", "mla": "MLA", "bibtex": "BibTeX", "ris": "RIS"}
# How many rows the first paint (archive.portal.lite.first_paint) shows from the chosen one.
FIRST_PAINT_ROWS = 30
# A light item page shows this many rows, from this many before the chosen one: a page stays
# well under 100 KB however long the talk (about 400 bytes a row).
PAGE_ROWS = 150
ROWS_BEFORE = 10


def parse_time(value: str | None) -> float | None:
    """``?t=`` as seconds (``75``, ``75.5``, ``1:15``, ``1:02:03``); None when unreadable."""
    if value is None or not str(value).strip():
        return None
    total = 0.0
    try:
        for piece in str(value).strip().split(":"):
            total = total * 60 + float(piece)
    except ValueError:
        return None
    if total != total or total in (float("inf"), float("-inf")):
        return None
    return max(0.0, total)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def _player(ctx: LiteContext, item_id: str, at: float | None) -> str:
    media = playable_media(ctx.catalog, item_id)
    if media is None:
        return f'<p class="lede">{escape(ctx.t._("This item is a transcript, with no recording to play."))}</p>'
    src = media_url(ctx.settings, item_id, media.role, ctx.viewer, ctx.session)
    fragment = f"#t={moment_param(at)}" if at else ""
    tag = "video" if media.has_video else "audio"
    # preload="none": on a slow link the page is the transcript; the recording comes when played
    # (metadata alone cost a short talk's page 100 kB).
    return (
        f'<div class="player"><{tag} id="player" controls preload="none" '
        f'src="{escape(src + fragment)}"></{tag}></div>'
    )


def _window(segments: list[Segment], chosen: Segment | None, size: int, before: int) -> int:
    """Where the rows shown start: ``before`` rows ahead of the chosen one (or the top)."""
    if chosen is None:
        return 0
    at = next((i for i, s in enumerate(segments) if s is chosen), 0)
    if before == 0:  # the first paint: from the chosen row itself
        return at
    # A page near the end still shows a full window.
    return max(0, min(at - before, len(segments) - size))


def _rows(
    ctx: LiteContext,
    item_id: str,
    segments: list[Segment],
    chosen: Segment | None,
    rev_param: int | None,
    *,
    size: int,
    before: int,
) -> str:
    """The transcript rows in view: ``size`` rows from a little before the chosen one, with
    links to the parts before and after (so a two-hour talk stays a page of about 60 KB)."""
    _ = ctx.t._
    rows = []
    seen: set[str] = set()
    start_at = _window(segments, chosen, size, before)
    shown = segments[start_at : start_at + size]
    link = f"/item/{part(item_id)}"
    # The first row shown names its speaker too: the turn's start may be on another page.
    turns = turn_starts(shown)
    for s, turn in zip(shown, turns, strict=True):
        moment = moment_text(s.start)
        anchor = f' id="t={moment}"' if moment not in seen else ""
        seen.add(moment)
        href = ctx.href(link, {"t": moment, "rev": rev_param}, f"t={moment}")
        current = ' class="current" aria-current="true"' if s is chosen else ""
        if s.redacted and not (s.text_zh or s.text_en):
            text = f'<span class="redacted">{escape(_("[This passage has been removed from the public transcript.]"))}</span>'
        else:
            parts = []
            if s.text_zh:
                parts.append(f'<span class="zh" lang="zh-Hant-HK">{escape(s.text_zh)}</span>')
            if s.text_en:
                machine = (
                    f' <span class="machine">({escape(_("machine translation"))})</span>'
                    if s.en_machine
                    else ""
                )
                parts.append(f'<span class="en" lang="en">{escape(s.text_en)}{machine}</span>')
            text = "".join(parts)
        speaker = f'<span class="speaker">{escape(s.speaker)}:</span> ' if turn else ""
        rows.append(
            f'<li{anchor}{current} data-start="{s.start:.3f}" data-end="{s.end:.3f}">'
            f'<a class="ts" href="{escape(href)}">{clock(s.start)}</a>{speaker}{text}</li>'
        )
    parts = []
    if start_at > 0:
        earlier = segments[max(0, start_at - size + before)].start
        href = ctx.href(link, {"t": moment_text(earlier), "rev": rev_param}, "transcript")
        parts.append(
            f'<p class="pager"><a rel="prev" href="{escape(href)}">{escape(_("Earlier in the transcript"))}</a></p>'
        )
    parts.append('<ol class="segments">\n' + "\n".join(rows) + "\n</ol>")
    if start_at + size < len(segments):
        later = (
            segments[start_at + size + before].start
            if start_at + size + before < len(segments)
            else segments[-1].start
        )
        href = ctx.href(link, {"t": moment_text(later), "rev": rev_param}, "transcript")
        parts.append(
            f'<p class="pager"><a rel="next" href="{escape(href)}">{escape(_("Later in the transcript"))}</a></p>'
        )
    return "".join(parts)


def _citation(
    ctx: LiteContext,
    item_id: str,
    revision: int | None,
    at: float | None,
    style: str,
    link_rev: int | None,
) -> str:
    """The citation of the chosen moment in ``style``; the other styles' links keep the page's
    moment and (only when the page was asked for one) its revision."""
    _ = ctx.t._
    base = ctx.settings.public_url or ctx.origin or ""
    try:
        citation = build_citation(
            ctx.catalog, ctx.settings, item_id, at=at, viewer=ctx.viewer,
            revision=revision, base_url=base,
        )  # fmt: skip
        text = render(citation, style)
    except (ArchiveError, ImportError):
        return f"<p>{escape(_('Citations are not available yet.'))}</p>"
    styles = " ".join(
        f"<strong>{name}</strong>"
        if key == style
        else f'<a href="{escape(ctx.href(f"/item/{part(item_id)}", {"t": moment_param(at) if at else None, "rev": link_rev, "style": key}))}">{name}</a>'
        for key, name in STYLES.items()
    )
    when = (
        _("Points to {time} in transcript revision {rev}.").format(
            time=clock(at), rev=ctx.t.number(revision) if revision is not None else "—"
        )
        if at is not None
        else ""
    )
    link = citation.permalink
    permalink = (
        f'<p>{escape(_("Permalink"))}: <a href="{escape(link)}">{escape(link)}</a></p>'
        if link.startswith(("http://", "https://", "/", "?"))
        else ""
    )
    return (
        f'<section class="cite" id="cite"><h2>{escape(_("Cite this"))}</h2>'
        f'<p class="styles">{styles}</p><pre class="citation">{escape(text)}</pre>'
        f'<p class="date">{escape(when)}</p>{permalink}</section>'
    )


def _downloads(ctx: LiteContext, item_id: str, revision: int) -> str:
    _ = ctx.t._
    links = []
    for fmt, label in (("srt", "SRT"), ("vtt", "WebVTT"), ("txt", _("Text"))):
        url = subtitle_url(ctx.settings, item_id, revision, fmt, "both", ctx.viewer, ctx.session)
        links.append(
            f'<a href="{escape(url)}" download="{escape(f"{item_id}.r{revision}.{fmt}")}">{escape(label)}</a>'
        )
    return f'<h2>{escape(_("Download the transcript"))}</h2><p class="downloads">{" · ".join(links)}</p>'


def item_body(ctx: LiteContext, item_id: str, *, first_paint: bool = False) -> tuple[str, str]:
    """``(title, body HTML)`` of one item for the request's viewer; NotFoundError when the item
    does not exist or is above the viewer (the same answer). ``first_paint``: the title, player
    and the transcript from the chosen moment on, without citation or downloads."""
    _ = ctx.t._
    stored = visible_item(ctx.catalog, item_id, ctx.viewer)
    asked_rev = _int(ctx.params.get("rev"))
    try:
        item, rev = visible_revision(ctx.catalog, item_id, ctx.viewer, asked_rev)
    except NotFoundError:
        item, rev = stored, None
        if asked_rev is not None:
            try:
                item, rev = visible_revision(ctx.catalog, item_id, ctx.viewer, None)
            except NotFoundError:
                rev = None
    segments = list(rev.segments) if rev is not None else []
    at = parse_time(ctx.params.get("t"))
    chosen = segment_at(segments, at) if at is not None and segments else None
    duration = item_duration(ctx.catalog, item_id)
    first, second = titles(ctx, item.title_zh, item.title_en, item.id)
    heading = (
        f"<h1>{escape(first)}"
        + (f'<span class="second">{escape(second)}</span>' if second else "")
        + "</h1>"
    )
    sep = "、" if ctx.lang == "zh" else ", "
    meta = [(_("Collection"), escape(collection_name(ctx, item.collection)))]
    if item.recorded_date:
        meta.append((_("Recorded"), escape(ctx.t.date(item.recorded_date))))
    if duration:
        meta.append((_("Duration"), escape(ctx.t.duration(duration))))
    if item.speakers:
        meta.append((_("Speakers"), escape(sep.join(item.speakers))))
    if item.tags:
        meta.append((_("Tags"), escape(sep.join(item.tags))))
    meta_html = (
        '<dl class="meta">'
        + "".join(f"<dt>{escape(k)}</dt><dd>{v}</dd>" for k, v in meta)
        + "</dl>"
    )
    player = _player(ctx, item_id, chosen.start if chosen is not None else at)
    rev_param = rev.revision if rev is not None and asked_rev is not None else None
    if not segments:
        transcript = f"<p>{escape(_('This recording has no transcript yet.'))}</p>"
    else:
        size, before = (FIRST_PAINT_ROWS, 0) if first_paint else (PAGE_ROWS, ROWS_BEFORE)
        transcript = _rows(ctx, item_id, segments, chosen, rev_param, size=size, before=before)
    heading_t = f'<h2 id="transcript">{escape(_("Transcript"))}</h2>'
    if first_paint:
        body = f'<article class="item">{heading}{meta_html}{heading_t}{transcript}</article>'
        return first, body
    description = ctx.t.pick(item.description_zh, item.description_en)
    desc = (
        '<p class="description">'
        + "<br>".join(escape(line) for line in description.splitlines())
        + "</p>"
        if description
        else ""
    )
    style = ctx.params.get("style") if ctx.params.get("style") in STYLES else "chicago"
    cite_at = chosen.start if chosen is not None else at
    if cite_at is not None and duration:
        cite_at = min(cite_at, duration)
    cite = _citation(
        ctx, item_id, rev.revision if rev is not None else None, cite_at, style, rev_param
    )
    downloads = _downloads(ctx, item_id, rev.revision) if rev is not None else ""
    notes = ""
    if rev is not None and asked_rev is not None and rev.revision != asked_rev:
        note = _("Transcript revision {rev} doesn't exist; showing the latest.")
        notes = f'<p class="lede">{escape(note.format(rev=asked_rev))}</p>'
    body = (
        f'<article class="item" data-item-id="{escape(item.id)}">{heading}{notes}{meta_html}{desc}'
        f"{player}{heading_t}{transcript}{cite}{downloads}</article>"
    )
    return first, body


# Marked for the catalog: strings this module translates inside f-strings, which the
# extractor (archive.portal.i18n.extract_messages) does not read.
_MARKED = (
    N_("Earlier in the transcript"),
    N_("Later in the transcript"),
    N_("Text"),
    N_("This item is a transcript, with no recording to play."),
    N_("[This passage has been removed from the public transcript.]"),
    N_("machine translation"),
    N_("Citations are not available yet."),
    N_("Permalink"),
    N_("Cite this"),
    N_("Download the transcript"),
    N_("This recording has no transcript yet."),
    N_("Transcript"),
)
