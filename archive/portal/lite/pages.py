"""The light pages other than an item's: Home, Search, Browse, Events, an event, Series, a series.

Each function takes the request's :class:`~archive.portal.lite.context.LiteContext` and returns
``(title, body HTML)``; :mod:`archive.portal.lite.routes` wraps it in the page frame, and
:mod:`archive.portal.lite.first_paint` puts the same body into the Streamlit shell. Lists come
from the same role-aware readers as the portal's pages: ``Catalog.list_items`` filtered by
``Viewer.may_see`` and presented by :func:`archive.catalog.access.present_item`, the role's own
search index, :func:`archive.hub.events.list_events` / ``visible_event`` (an event's speakers as
its recording's labels below staff) and the hub's series readers.
"""

from __future__ import annotations

from datetime import UTC, datetime

from archive.catalog.access import present_item
from archive.catalog.models import Item
from archive.core.errors import ArchiveError, InputError, NotFoundError, SearchLimitError
from archive.core.moments import moment_param
from archive.core.text_safety import link_url, marked_html
from archive.hub.events import Event, event_recording, list_events, visible_event
from archive.hub.series import items_in_series, visible_series, visible_series_list
from archive.hub.times import format_event_time
from archive.portal.hub_ui import STATUS_LABELS, VISIBILITY_LABELS
from archive.portal.i18n import N_, clock
from archive.portal.lite.context import LiteContext, part
from archive.portal.lite.layout import collection_name, item_list, titles
from archive.preservation.mirror_pages import escape

__all__ = [
    "browse_body",
    "event_body",
    "events_body",
    "home_body",
    "search_body",
    "series_body",
    "series_list_body",
]

PER_PAGE = 10
BROWSE_PER_PAGE = 50
HOME_RECORDINGS = 6
HOME_EVENTS = 3
PAST_SHOWN = 20


def _durations(ctx: LiteContext) -> dict[str, float]:
    out: dict[str, float] = {}
    for media in ctx.catalog.list_media():
        if media.duration and (media.role == "audio" or media.item_id not in out):
            out[media.item_id] = media.duration
    return out


def _visible_items(ctx: LiteContext, **kwargs) -> list[Item]:  # type: ignore[no-untyped-def]
    who = ctx.viewer
    return [
        present_item(stored, who)
        for stored in ctx.catalog.list_items(role=who.role, **kwargs)
        if who.may_see(stored)  # embargoes: list_items knows only the stored level
    ]


# -- events --------------------------------------------------------------------------------
def _event_line(ctx: LiteContext, event: Event) -> str:
    _ = ctx.t._
    title = ctx.t.pick(event.title_zh, event.title_en) or event.id
    when = format_event_time(event, ctx.tz or event.tz, ctx.t.locale)["viewer"]
    badges = []
    if event.status != "scheduled":
        badges.append(_(STATUS_LABELS.get(event.status, event.status)))
    if event.visibility != "public":
        badges.append(_(VISIBILITY_LABELS.get(event.visibility, event.visibility)))
    badge = "".join(f' <span class="badge">{escape(b)}</span>' for b in badges)
    sep = "、" if ctx.lang == "zh" else ", "
    speakers = (
        f' <span class="second">{escape(sep.join(event.speakers))}</span>' if event.speakers else ""
    )
    title_html = f"<s>{escape(title)}</s>" if event.status == "cancelled" else escape(title)
    href = ctx.href(f"/event/{part(event.id)}")
    return (
        f'<li><a href="{escape(href)}">{title_html}</a>{badge}'
        f' <span class="date">{escape(when)}</span>{speakers}</li>'
    )


def _event_list(ctx: LiteContext, events: list[Event], empty: str) -> str:
    if not events:
        return f'<p class="lede">{escape(empty)}</p>'
    return '<ul class="items events">' + "".join(_event_line(ctx, e) for e in events) + "</ul>"


def home_body(ctx: LiteContext) -> tuple[str, str]:
    _ = ctx.t._
    org = _(ctx.settings.organisation)
    events = list_events(
        ctx.catalog, viewer=ctx.viewer, upcoming=True,
        statuses=["scheduled", "postponed"], limit=HOME_EVENTS,
    )  # fmt: skip
    items = _visible_items(ctx, order="created_at DESC, id DESC", limit=HOME_RECORDINGS * 3)
    body = (
        f"<h1>{escape(org)}</h1>"
        f'<p class="lede">{escape(_("Find the moment a speaker said something, in any talk, in either language."))}</p>'
        f"<h2>{escape(_('Upcoming events'))}</h2>"
        + _event_list(ctx, events, _("No events are announced at the moment."))
        + f'<p><a href="{escape(ctx.href("/events"))}">{escape(_("All events"))}</a> · '
        f'<a href="{escape(ctx.href("/series"))}">{escape(_("Series"))}</a></p>'
        f"<h2>{escape(_('Latest recordings'))}</h2>"
        + item_list(ctx, items[:HOME_RECORDINGS], _durations(ctx))
        + f'<p><a href="{escape(ctx.href("/browse"))}">{escape(_("Browse all recordings"))}</a></p>'
    )
    return org, body


def events_body(ctx: LiteContext) -> tuple[str, str]:
    _ = ctx.t._
    now = datetime.now(UTC)
    upcoming = list_events(ctx.catalog, viewer=ctx.viewer, upcoming=True, now=now)
    past = list_events(ctx.catalog, viewer=ctx.viewer, upcoming=False, now=now)
    more = (
        f'<p class="date">{escape(_("Showing the latest {shown} of {total} past events.").format(shown=ctx.t.number(PAST_SHOWN), total=ctx.t.number(len(past))))}</p>'
        if len(past) > PAST_SHOWN
        else ""
    )
    body = (
        f"<h1>{escape(_('Events'))}</h1><h2>{escape(_('Upcoming'))}</h2>"
        + _event_list(ctx, upcoming, _("No events are announced at the moment."))
        + f"<h2>{escape(_('Past events'))}</h2>"
        + _event_list(ctx, past[:PAST_SHOWN], _("No past events yet."))
        + more
    )
    return _("Events"), body


def event_body(ctx: LiteContext, event_id: str) -> tuple[str, str]:
    """One event; NotFoundError when it does not exist or is above the viewer (same answer)."""
    _ = ctx.t._
    event = visible_event(ctx.catalog, event_id, ctx.viewer)
    first, second = titles(ctx, event.title_zh, event.title_en, event.id)
    times = format_event_time(event, ctx.tz or event.tz, ctx.t.locale)
    sep = "、" if ctx.lang == "zh" else ", "
    facts = [(_("When"), times["viewer"])]
    if not times["same_offset"]:
        facts.append((_("Organiser's time"), times["organiser"]))
    if event.status != "scheduled":
        facts.append((_("Status"), _(STATUS_LABELS.get(event.status, event.status))))
    facts.append((_("Where"), _("Online") if event.is_online else event.place))
    if event.speakers:
        facts.append((_("Speakers"), sep.join(event.speakers)))
    if event.languages:
        facts.append((_("Language"), sep.join(ctx.t.language_name(c) for c in event.languages)))
    meta = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts)
    description = ctx.t.pick(event.description_zh, event.description_en)
    desc = (
        '<p class="description">'
        + "<br>".join(escape(x) for x in description.splitlines())
        + "</p>"
        if description
        else ""
    )
    join = link_url(event.join_url)
    over = event.end < datetime.now(UTC)
    join_html = (
        f'<p><a class="join" href="{escape(join)}" rel="noopener noreferrer nofollow">{escape(_("Join online"))}</a></p>'
        if join and not over and event.status != "cancelled"
        else ""
    )
    recording = event_recording(ctx.catalog, event, ctx.viewer)
    rec_html = (
        f'<p><a href="{escape(ctx.href(f"/item/{part(recording.id)}"))}">{escape(_("Watch or listen to the recording"))}</a></p>'
        if recording is not None
        else ""
    )
    heading = (
        f"<h1>{escape(first)}"
        + (f'<span class="second">{escape(second)}</span>' if second else "")
        + "</h1>"
    )
    body = f'<article class="event">{heading}<dl class="meta">{meta}</dl>{desc}{join_html}{rec_html}</article>'
    return first, body


# -- series --------------------------------------------------------------------------------
def series_list_body(ctx: LiteContext) -> tuple[str, str]:
    _ = ctx.t._
    rows = []
    for series in visible_series_list(ctx.catalog, ctx.viewer):
        name = ctx.t.pick(series.title_zh, series.title_en) or series.id
        rows.append(
            f'<li><a href="{escape(ctx.href(f"/series/{part(series.id)}"))}">{escape(name)}</a></li>'
        )
    listing = (
        '<ul class="items">' + "".join(rows) + "</ul>"
        if rows
        else f'<p class="lede">{escape(_("No series yet."))}</p>'
    )
    return _("Series"), f"<h1>{escape(_('Series'))}</h1>{listing}"


def series_body(ctx: LiteContext, series_id: str) -> tuple[str, str]:
    """One series; NotFoundError when the viewer may see nothing in it (as for an unknown id)."""
    _ = ctx.t._
    try:
        series = visible_series(ctx.catalog, series_id, ctx.viewer)
    except InputError:  # the hub's "no such series", for unknown and unseen alike
        raise NotFoundError(f"no series {series_id}") from None
    name = ctx.t.pick(series.title_zh, series.title_en) or series.id
    description = ctx.t.pick(series.description_zh, series.description_en)
    items = items_in_series(ctx.catalog, series.id, ctx.viewer)
    items = [i for i in items if ctx.viewer.may_see(i)]
    events = list_events(ctx.catalog, viewer=ctx.viewer, series_id=series.id)
    body = (
        f"<h1>{escape(name)}</h1>"
        + (f'<p class="lede">{escape(description)}</p>' if description else "")
        + f"<h2>{escape(_('Recordings'))}</h2>"
        + item_list(ctx, items, _durations(ctx))
        + f"<h2>{escape(_('Events'))}</h2>"
        + _event_list(ctx, events, _("No events are announced at the moment."))
    )
    return name, body


# -- browse --------------------------------------------------------------------------------
def _pager(ctx: LiteContext, path: str, params: dict[str, str], page: int, pages: int) -> str:
    if pages <= 1:
        return ""
    _ = ctx.t._
    links = []
    if page > 1:
        links.append(
            f'<a rel="prev" href="{escape(ctx.href(path, {**params, "page": page - 1}))}">{escape(_("Previous"))}</a>'
        )
    links.append(
        escape(
            _("Page {page} of {pages}").format(page=ctx.t.number(page), pages=ctx.t.number(pages))
        )
    )
    if page < pages:
        links.append(
            f'<a rel="next" href="{escape(ctx.href(path, {**params, "page": page + 1}))}">{escape(_("Next"))}</a>'
        )
    return '<p class="pager">' + " · ".join(links) + "</p>"


def _page_number(ctx: LiteContext) -> int:
    try:
        return max(1, int(ctx.params.get("page") or 1))
    except ValueError:
        return 1


def browse_body(ctx: LiteContext) -> tuple[str, str]:
    _ = ctx.t._
    items = _visible_items(ctx)
    collections = sorted({i.collection for i in items})
    chosen = ctx.params.get("collection")
    chosen = chosen if chosen in collections else None
    shown = [i for i in items if chosen is None or i.collection == chosen]
    page = _page_number(ctx)
    pages = max(1, -(-len(shown) // BROWSE_PER_PAGE))
    page = min(page, pages)
    filters = [
        f"<strong>{escape(collection_name(ctx, c))}</strong>"
        if c == chosen
        else f'<a href="{escape(ctx.href("/browse", {"collection": c}))}">{escape(collection_name(ctx, c))}</a>'
        for c in collections
    ]
    if chosen:
        filters.insert(0, f'<a href="{escape(ctx.href("/browse"))}">{escape(_("All"))}</a>')
    count = ctx.t.ngettext("{n} recording", "{n} recordings", len(shown)).format(
        n=ctx.t.number(len(shown))
    )
    params = {"collection": chosen} if chosen else {}
    body = (
        f"<h1>{escape(_('Browse'))}</h1>"
        f'<p class="filters">{escape(_("Collection"))}: {" · ".join(filters)}</p>'
        f'<p class="date">{escape(count)}</p>'
        + item_list(
            ctx, shown[(page - 1) * BROWSE_PER_PAGE : page * BROWSE_PER_PAGE], _durations(ctx)
        )
        + _pager(ctx, "/browse", params, page, pages)
    )
    return _("Browse"), body


# -- search --------------------------------------------------------------------------------
def search_body(ctx: LiteContext) -> tuple[str, str]:
    """The hits for ``?q=`` as the viewer's role searches (its own index), with paging."""
    _ = ctx.t._
    query = (ctx.params.get("q") or "").strip()[:300]
    if not query:
        tips = _(
            'Tips: put a phrase in quotes ("dock strike"); a search in Chinese also finds the English translation and the other way round.'
        )
        return _("Search"), (
            f"<h1>{escape(_('Search'))}</h1>"
            f'<p class="lede">{escape(_("Find the moment a speaker said something, in any talk, in either language."))}</p>'
            f'<p class="date">{escape(tips)}</p>'
        )
    page = _page_number(ctx)
    try:
        from indexer import SearchFilters, SearchIndex

        collection = ctx.params.get("collection") or None
        results = SearchIndex.open(ctx.settings).search(
            query, role=ctx.viewer.role, filters=SearchFilters(collection=collection),
            page=page, per_page=PER_PAGE,
        )  # fmt: skip
    except ImportError:
        return (
            _("Search"),
            f'<p class="lede">{escape(_("Search is not available yet. You can still browse the archive."))}</p>',
        )
    except SearchLimitError:
        return (
            _("Search"),
            f'<p class="lede">{escape(_("That search needs too much work right now. Please try again in a moment, or search for whole words."))}</p>',
        )
    except (ArchiveError, ValueError):
        return (
            _("Search"),
            f'<p class="lede">{escape(_("Search is temporarily unavailable. Please try again in a few minutes."))}</p>',
        )
    parts = [f"<h1>{escape(_('Search'))}</h1>"]
    if results.expansions:
        parts.append(
            f'<p class="date">{escape(_("Also searched: {terms}").format(terms=" · ".join(results.expansions)))}</p>'
        )
    if not results.total_items:
        parts.append(f"<h2>{escape(_('No results for “{query}”').format(query=query))}</h2>")
        parts.append(
            f'<p><a href="{escape(ctx.href("/browse"))}">{escape(_("Browse all recordings"))}</a></p>'
        )
        return _("Search"), "".join(parts)
    summary = _("{hits} in {items}").format(
        hits=ctx.t.ngettext("{n} passage", "{n} passages", results.total_hits).format(
            n=ctx.t.number(results.total_hits)
        ),
        items=ctx.t.ngettext("{n} recording", "{n} recordings", results.total_items).format(
            n=ctx.t.number(results.total_items)
        ),
    )
    parts.append(f'<p class="date" id="hits-summary">{escape(summary)}</p><ol class="hits">')
    for group in results.groups:
        first, second = titles(ctx, group.title_zh, group.title_en, group.item_id)
        item_href = ctx.href(f"/item/{part(group.item_id)}")
        parts.append(
            f'<li class="hit-group"><h3><a href="{escape(item_href)}">{escape(first)}</a>'
            + (f' <span class="second">{escape(second)}</span>' if second else "")
            + f'</h3><p class="date">{escape(collection_name(ctx, group.collection))}</p><ul class="segments">'
        )
        for hit in group.hits:
            moment = moment_param(hit.start)
            href = ctx.href(f"/item/{part(hit.item_id)}", {"t": moment}, f"t={moment}")
            marks = hit.highlights or {}
            zh = marked_html(marks["zh"]) if marks.get("zh") else escape(hit.text_zh)
            en = marked_html(marks["en"]) if marks.get("en") else escape(hit.text_en)
            text = (f'<span class="zh" lang="zh-Hant-HK">{zh}</span>' if zh else "") + (
                f'<span class="en" lang="en">{en}</span>' if en else ""
            )
            who = f'<span class="speaker">{escape(hit.speaker)}:</span> ' if hit.speaker else ""
            parts.append(
                f'<li><a class="ts" href="{escape(href)}">{clock(hit.start)}</a>{who}{text}</li>'
            )
        parts.append("</ul></li>")
    parts.append("</ol>")
    pages = max(1, results.pages or 1)
    parts.append(_pager(ctx, "/search", {"q": query}, min(page, pages), pages))
    return _("Search"), "".join(parts)


# Marked for the catalog: strings this module translates inside f-strings, which the
# extractor (archive.portal.i18n.extract_messages) does not read.
_MARKED = (
    N_("Find the moment a speaker said something, in any talk, in either language."),
    N_("Upcoming events"),
    N_("All events"),
    N_("Latest recordings"),
    N_("Browse all recordings"),
    N_("Showing the latest {shown} of {total} past events."),
    N_("Upcoming"),
    N_("Past events"),
    N_("Join online"),
    N_("Watch or listen to the recording"),
    N_("No series yet."),
    N_("Recordings"),
    N_("Previous"),
    N_("Next"),
    N_("All"),
    N_("Collection"),
    N_("Search is not available yet. You can still browse the archive."),
    N_(
        "That search needs too much work right now. Please try again in a moment, or search for whole words."
    ),
    N_("Search is temporarily unavailable. Please try again in a few minutes."),
    N_("Also searched: {terms}"),
    N_("No results for “{query}”"),
)
