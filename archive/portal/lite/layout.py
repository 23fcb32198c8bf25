"""The light pages' frame and shared pieces: one HTML document per page, escaped in one place.

Every outside text goes through :func:`archive.preservation.mirror_pages.escape` (the static
mirror's one escaping path: HTML with quotes), search highlights through
:func:`archive.core.text_safety.marked_html`; links are built by
:meth:`~archive.portal.lite.context.LiteContext.href` and so are always same-origin paths. The
page loads the mirror's own style sheet and the light one, both from ``/lite/static/``, and no
inline script or style: the portal's Content-Security-Policy holds.
"""

from __future__ import annotations

from collections.abc import Iterable

from archive.catalog.models import Item
from archive.portal.i18n import N_
from archive.portal.lite.context import LiteContext
from archive.portal.lite_links import lite_href, part
from archive.preservation.mirror_pages import escape

__all__ = [
    "STATIC",
    "collection_name",
    "document",
    "full_link",
    "item_list",
    "other_lang_link",
    "titles",
]

STATIC = "/lite/static/"
COLLECTIONS = {
    "webinar": N_("Webinars"),
    "interview": N_("Interviews"),
    "strike-anniversary": N_("Strike anniversaries"),
    "other": N_("Other"),
}


def collection_name(ctx: LiteContext, collection: str) -> str:
    return ctx.t._(COLLECTIONS.get(collection, COLLECTIONS["other"]))


def titles(ctx: LiteContext, zh: str | None, en: str | None, fallback: str = "") -> tuple[str, str]:
    """The title in the reader's language and the other one (empty when the same or missing)."""
    first = ctx.t.pick(zh, en) or fallback
    other = ((en if ctx.lang == "zh" else zh) or "").strip()
    return first, (other if other and other != first else "")


def other_lang_link(ctx: LiteContext, path: str, params: dict[str, str]) -> str:
    other = "en" if ctx.lang == "zh" else "zh"
    href = lite_href(path, {**params, "lang": other, "tz": ctx.tz})
    name, code = ("English", "en") if other == "en" else ("繁體中文", "zh-Hant-HK")
    return f'<a href="{escape(href)}" hreflang="{code}" lang="{code}">{name}</a>'


def full_link(ctx: LiteContext, full_path: str) -> str:
    """The link to the same page in the full (Streamlit) portal."""
    return f'<a class="full" href="{escape(full_path)}">{escape(ctx.t._("Full version"))}</a>'


def document(
    ctx: LiteContext,
    *,
    title: str,
    body: str,
    path: str,
    params: dict[str, str],
    full_path: str,
    scripts: Iterable[str] = (),
    query: str = "",
) -> str:
    """A whole light page: header (home, search box, page links, the other language, the full
    version), ``body`` (already escaped HTML), footer."""
    _ = ctx.t._
    org = _(ctx.settings.organisation)
    script_tags = "".join(f'<script src="{STATIC}{name}" defer></script>' for name in scripts)
    nav = " ".join(
        f'<a href="{escape(ctx.href(p))}">{escape(_(label))}</a>'
        for p, label in (
            ("/search", N_("Search")),
            ("/browse", N_("Browse")),
            ("/events", N_("Events")),
            ("/series", N_("Series")),
        )
    )
    return f"""<!doctype html>
<html lang="{ctx.t.html_lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{escape(title)} · {escape(org)}</title>
<link rel="icon" href="{STATIC}favicon.svg">
<link rel="stylesheet" href="{STATIC}mirror.css">
<link rel="stylesheet" href="{STATIC}lite.css">{script_tags}
</head>
<body class="lite">
<header class="site">
<a class="home" href="{escape(ctx.href("/"))}">{escape(org)}</a>
<nav>{nav} {other_lang_link(ctx, path, params)} {full_link(ctx, full_path)}</nav>
<form class="search" action="/lite/search" method="get" role="search">
<input type="search" name="q" value="{escape(query)}" placeholder="{escape(_("Search talks in Chinese or English, e.g. 碼頭罷工 or dock strike"))}" aria-label="{escape(_("Search the archive"))}" maxlength="300">
<input type="hidden" name="lang" value="{ctx.lang}">
<button type="submit">{escape(_("Search"))}</button>
</form>
</header>
<main>
{body}
</main>
<footer class="site">
<p>{escape(_("This is the light version of the archive: plain pages that work on slow connections and without JavaScript."))} {full_link(ctx, full_path)}</p>
</footer>
</body>
</html>
"""


def item_list(ctx: LiteContext, items: Iterable[Item], durations: dict[str, float]) -> str:
    """A list of recordings: title (and the other language's), date, length."""
    from archive.portal.i18n import clock

    rows = []
    for item in items:
        first, second = titles(ctx, item.title_zh, item.title_en, item.id)
        extra = f' <span class="second">{escape(second)}</span>' if second else ""
        date = (
            f' <span class="date">{escape(ctx.t.date(item.recorded_date))}</span>'
            if item.recorded_date
            else ""
        )
        length = durations.get(item.id)
        dur = f' <span class="dur">{clock(length)}</span>' if length else ""
        href = ctx.href(f"/item/{part(item.id)}")
        rows.append(f'<li><a href="{escape(href)}">{escape(first)}</a>{extra}{date}{dur}</li>')
    if not rows:
        return f'<p class="lede">{escape(ctx.t._("No recordings yet."))}</p>'
    return '<ul class="items">\n' + "\n".join(rows) + "\n</ul>"


# Marked for the catalog: strings this module translates inside f-strings, which the
# extractor (archive.portal.i18n.extract_messages) does not read.
_MARKED = (
    N_("Full version"),
    N_("Search talks in Chinese or English, e.g. 碼頭罷工 or dock strike"),
    N_("Search the archive"),
    N_(
        "This is the light version of the archive: plain pages that work on slow connections and without JavaScript."
    ),
    N_("No recordings yet."),
)
