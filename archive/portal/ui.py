"""Shared pieces of the portal's pages: resources, the visitor's session, language, chrome, errors.

Pages stay thin: they read the URL, call the packages (catalog, access, indexer, cite, subtitles)
and lay out widgets. Everything a page reads goes through :mod:`archive.catalog.access` with the session's
:class:`~archive.catalog.access.Viewer` (public visitors: ``Viewer("public")``; a later login sets another).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import streamlit as st

from archive.catalog.access import Viewer, present_item, privacy_key, visible_item, visible_revision
from archive.catalog.cite import build_citation, render
from archive.catalog.db import Catalog
from archive.catalog.models import Item, MediaFile
from archive.core.errors import (
    AccessDeniedError,
    ArchiveError,
    ConfigError,
    IndexError_,
    InputError,
    NotFoundError,
    SearchLimitError,
)
from archive.core.text_safety import attr, html_text
from archive.portal.i18n import (
    LANG_NAMES,
    LANGS,
    N_,
    I18n,
    clock,
    detect_lang,
    normalise_lang,
)
from archive.portal.resources import catalog, settings
from archive.portal.routes.files import TOKEN_TTL, media_url, subtitle_url
from archive.portal.ui_staff import TOKEN_KEY, current_viewer

__all__ = [
    "COLLECTION_LABELS",
    "I18n",
    "PAGES",
    "catalog",
    "chrome",
    "clock",
    "collection_label",
    "guard",
    "item_duration",
    "page_i18n",
    "pager",
    "playable_media",
    "settings",
    "signed_media_url",
    "video_tracks",
    "viewer",
]

log = logging.getLogger("archive.portal")

COLLECTION_LABELS = {
    "webinar": N_("Webinars"),
    "interview": N_("Interviews"),
    "strike-anniversary": N_("Strike anniversaries"),
    "other": N_("Other"),
}
# Browser-playable containers: anything else is played from the audio derivative.
PLAYABLE_VIDEO = ("video/mp4", "video/webm", "video/ogg")


# The page files (relative to archive/portal/navigation.py), by name: the navigation builds the navigation from these.
PAGES = {
    "search": "views/search.py",
    "browse": "views/browse.py",
    "item": "views/item.py",
    "about": "views/about.py",
    "home": "views/home.py",
    "upcoming": "views/upcoming.py",
    "event": "views/event.py",
    "series": "views/series.py",
    "events_admin": "views/events_admin.py",
}


# -- the visitor's session ------------------------------------------------------------------
def viewer(*, fresh: bool = False) -> Viewer:
    """The session's checked viewer: logged in (see :mod:`archive.portal.ui_staff`), else public;
    ``fresh`` re-checks the session now (the entry script does, once per run)."""

    return current_viewer(fresh=fresh)


def current_lang() -> str:
    """The interface language: ``?lang=`` wins, then this session's choice, then the browser."""
    from_url = normalise_lang(st.query_params.get("lang"))
    if from_url:
        lang = from_url
    elif st.session_state.get("lang") in LANGS:
        lang = st.session_state["lang"]
    else:
        lang = detect_lang(None, _browser_locale())
    st.session_state["lang"] = lang
    if st.query_params.get("lang") != lang:
        st.query_params["lang"] = lang
    return lang


def request_origin() -> str | None:
    """``scheme://host[:port]`` of the page as the visitor's browser sees it (for permalinks)."""
    from urllib.parse import urlsplit

    try:
        url = st.context.url
    except Exception:
        return None
    parts = urlsplit(url or "")
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return None


def _browser_locale() -> str | None:
    try:
        return st.context.locale
    except Exception:  # no browser (AppTest, bare mode)
        return None


def page_i18n() -> I18n:
    """The session's :class:`I18n` (language decided by :func:`current_lang`)."""
    lang = st.session_state.get("lang") or current_lang()
    return I18n(lang)


def _switch_lang() -> None:
    chosen = st.session_state.get("lang_switch")
    if chosen in LANGS:
        st.session_state["lang"] = chosen
        st.query_params["lang"] = chosen


# -- chrome -------------------------------------------------------------------------------
def css(t: I18n) -> str:
    return """
<style>
.zh { font-family: "Source Sans", "Noto Sans CJK HK", "Noto Sans CJK TC", "Noto Sans HK", "PingFang HK",
  "PingFang TC", "Microsoft JhengHei", sans-serif; }
mark { background: #ffe08a; color: inherit; padding: 0 .1em; border-radius: .15em; }
.hk-snippet { line-height: 1.55; margin: 0; padding: .1rem 0 .45rem 0; }
.hk-snippet .en { color: #444; }
.hk-badge { display: inline-block; font-size: .75rem; padding: .05rem .45rem; border-radius: .6rem;
  background: #f1e4e3; color: #7a1a14; margin-right: .3rem; white-space: nowrap; }
.hk-badge.demo { background: #fff3cd; color: #6b4e00; border: 1px solid #e6cf7a; }
.hk-other-title { color: #555; font-size: .95rem; margin-top: -.4rem; }
.hk-meta { color: #555; font-size: .9rem; }
.hk-dls { display: flex; flex-wrap: wrap; gap: .5rem; }
.hk-dl { display: inline-block; padding: .35rem .8rem; border: 1px solid rgba(49, 51, 63, .2);
  border-radius: .5rem; text-decoration: none; color: inherit !important; font-size: .9rem; }
.hk-dl::before { content: "⤓ "; }
.hk-dl:hover { border-color: #b3261e; color: #b3261e !important; }
[data-testid="InputInstructions"] { display: none; }
/* Streamlit fades captions with opacity .6 (#828180 on white: 3.9:1, and its links fade too);
   WCAG AA wants 4.5:1 for text this size. Solid, in the meta lines' grey instead: 7.5:1 on white,
   6.6:1 on a tinted box. (The portal's theme is light whatever the browser prefers.) */
[data-testid="stCaptionContainer"] { opacity: 1; color: #555; }
/* Keyboard focus always shows (WCAG 2.4.7), in one strong colour (6.5:1 on white): Streamlit draws
   no ring on its page links (the header, the search hits) nor on its scrolling main region (a tab
   stop), only a faint one on its buttons (the main menu's is 1.3:1), and marks a focused text box
   only by a darker border. */
a:focus-visible, button:focus-visible, summary:focus-visible,
[data-testid="stPageLink-NavLink"]:focus-visible {
  outline: 2px solid #b3261e; outline-offset: 2px; border-radius: .25rem; }
[data-testid="stMain"]:focus-visible { outline: 2px solid #b3261e; outline-offset: -2px; }
[data-testid="stTextInputRootElement"]:focus-within { outline: 2px solid #b3261e; outline-offset: 1px; }
@media (max-width: 640px) {
  .block-container { padding-left: .8rem; padding-right: .8rem; padding-top: 4rem; }
  h1 { font-size: 1.75rem !important; }
}
</style>
"""


_DOC_LANG_JS = """
export default function (component) {
  const lang = component.data && component.data.lang;
  if (lang && document.documentElement.lang !== lang) document.documentElement.lang = lang;
}
"""


@st.cache_resource(show_spinner=False)
def _doc_lang_component() -> Any:
    return st.components.v2.component(
        "hk_archive.doc_lang", html="", css=":host { display: none; }", js=_DOC_LANG_JS
    )


def lite_link(t: I18n, page_path: str) -> str:
    """The header's link to the light version of the page being read (its light twin, with the
    page's query parameters: a search, an item at a moment), as an inert HTML anchor."""
    from archive.portal.lite_links import lite_for_portal

    href = lite_for_portal(page_path, {**st.query_params.to_dict(), "lang": t.lang})
    label = t._("Light version")
    return f'<a class="hk-lite-link" href="{attr(href)}" target="_self">{html_text(label)}</a>'


def chrome(t: I18n, nav: dict[str, Any], page_path: str = "") -> None:
    """The header every page shares: name, page links (keeping the language), language switch,
    and the light version of this page (``page_path``: the page's ``url_path``)."""
    st.html(css(t))
    # The document language picks the right CJK glyphs and tells screen readers what they read.
    # A component (its script a blob: module), not an inline <script>: the CSP allows no inline
    # script (archive.portal.routes.headers).
    _doc_lang_component()(key="hk_doc_lang", data={"lang": t.html_lang})
    s = settings()
    top = st.container(horizontal=True, vertical_alignment="center", gap="small", key="hk_header")
    with top:
        # The organisation's name leads home (page_link labels are Markdown, not HTML).
        st.page_link(nav["home"], label=f"**{t._(s.organisation)}**", query_params={"lang": t.lang})
        st.space("stretch")
        for name, label, icon in (
            ("upcoming", N_("Events"), "📅"),
            ("series", N_("Series"), "🗂️"),
            ("search", N_("Search"), "🔍"),
            ("browse", N_("Browse"), "🎞️"),
            ("about", N_("About"), "ℹ️"),
        ):
            st.page_link(nav[name], label=t._(label), icon=icon, query_params={"lang": t.lang})
        st.markdown(lite_link(t, page_path), unsafe_allow_html=True, width="content")
        if st.session_state.get("lang_switch") != t.lang:
            st.session_state["lang_switch"] = t.lang
        st.segmented_control(
            t._("Interface language"),
            LANGS,
            format_func=LANG_NAMES.get,
            key="lang_switch",
            required=True,
            on_change=_switch_lang,
            label_visibility="collapsed",
        )


# -- errors ---------------------------------------------------------------------------------
def error_message(t: I18n, exc: BaseException) -> str:
    """A translated, plain-words message for an error from the packages (no traceback)."""
    if isinstance(exc, NotFoundError):
        return t._("We couldn't find that. It may have been moved, or it isn't public.")
    if isinstance(exc, AccessDeniedError):
        return t._("You don't have access to this.")
    if isinstance(exc, SearchLimitError):
        return t._(
            "That search needs too much work right now. Please try again in a moment, or search "
            "for whole words."
        )
    if isinstance(exc, IndexError_):
        return t._("Search is temporarily unavailable. Please try again in a few minutes.")
    if isinstance(exc, InputError):
        return t._("That request wasn't understood. Please check it and try again.")
    if isinstance(exc, ConfigError):
        return t._("The archive is not set up correctly. Please tell the archive's staff.")
    return t._(
        "Something went wrong. Please try again; if it keeps happening, tell the archive's staff."
    )


@contextmanager
def guard(t: I18n, *, what: str | None = None) -> Iterator[None]:
    """Show an archive error as one translated sentence; log anything unexpected, show no traceback."""
    try:
        yield
    except ArchiveError as exc:
        st.error(error_message(t, exc), icon="⚠️")
    except Exception as exc:  # the edge of the portal: never a traceback to a visitor
        log.exception("portal error%s", f" in {what}" if what else "")
        st.error(error_message(t, exc), icon="⚠️")


def archive_ready(t: I18n) -> bool:
    """Open the data folder and catalog; on failure say so in plain words (no traceback)."""
    try:
        settings()
        catalog()
    except ArchiveError as exc:
        st.title(t._("Hong Kong Labour Rights Archive"), anchor=False)
        st.error(error_message(t, exc), icon="⚠️")
        return False
    except Exception as exc:
        log.exception("the portal cannot open the archive")
        st.error(error_message(t, exc), icon="⚠️")
        return False
    return True


def on_script_error(exc: Exception) -> bool:
    """``st.App`` hook: anything that still escapes a page is logged, not shown."""
    log.error("uncaught portal error", exc_info=exc)
    try:
        t = page_i18n()
        st.error(error_message(t, exc), icon="⚠️")
    except Exception:
        st.error("Something went wrong. / 出現問題。")
    return True


# -- items and media --------------------------------------------------------------------------
def collection_label(t: I18n, collection: str) -> str:
    return t._(COLLECTION_LABELS.get(collection, COLLECTION_LABELS["other"]))


def playable_media(cat: Catalog, item_id: str) -> MediaFile | None:
    """What the player plays: a browser-playable video original, else the audio derivative."""
    original = cat.get_media(item_id, "original")
    if original is not None and original.has_video and (original.mime or "") in PLAYABLE_VIDEO:
        return original
    audio = cat.get_media(item_id, "audio")
    if audio is not None:
        return audio
    if original is not None and (original.mime or "").startswith(("audio/", "video/")):
        return original
    return None


# The public pages' icons are emoji, drawn by the visitor's own fonts: a single Material icon would
# make the browser fetch Streamlit's 375 kB icon font, seconds on a slow link (issue 19; measured
# by bench/slow_link.py). Staff pages keep Material icons.
PLAY_ICON = "▶️"
TEXT_ICON = "📄"


def item_icon(cat: Catalog, item_id: str) -> str:
    """A recording's icon in lists: a play button only when there is something to play (a
    subtitle-only item is text, and must not promise sound)."""
    return PLAY_ICON if playable_media(cat, item_id) is not None else TEXT_ICON


def is_text_only(cat: Catalog, item_id: str) -> bool:
    """An item with no media at all (subtitles or a transcript brought in alone)."""
    return cat.get_media(item_id, "original") is None and cat.get_media(item_id, "audio") is None


def no_media_note(t: I18n, cat: Catalog, item_id: str) -> None:
    """Under a player with nothing to play: a text-only item says it is text; a recording whose
    file the browser cannot play says that."""
    if is_text_only(cat, item_id):
        st.info(t._("This item is a transcript, with no recording to play."), icon=TEXT_ICON)
    else:
        st.warning(t._("This recording can't be played here."), icon="🔇")


def item_duration(cat: Catalog, item_id: str) -> float | None:
    for role in ("audio", "original"):
        media = cat.get_media(item_id, role)
        if media is not None and media.duration:
            return media.duration
    return None


def stable_url(key: tuple[Any, ...], make: Callable[[], str]) -> str:
    """A signed URL kept for this session and viewer until half its life is gone.

    Signatures carry a timestamp, so a fresh one differs on every run; the player must get the
    same URL on every rerun or it reloads the media.
    """
    who = viewer()
    cache: dict[tuple[Any, ...], tuple[float, str]] = st.session_state.setdefault(
        "_signed_urls", {}
    )
    full_key = (*key, who.role, who.username)
    hit = cache.get(full_key)
    if hit is None or time.time() - hit[0] > TOKEN_TTL / 2:
        hit = (time.time(), make())
        cache[full_key] = hit
    return hit[1]


def video_tracks(t: I18n, item: Item, rev: Any) -> list[dict[str, str]]:
    """A video's captions (WCAG 1.2.2) for :func:`player`: revision ``rev`` of its transcript as
    WebVTT from the archive's own checked subtitle route (redactions applied there as everywhere),
    the spoken language's track as captions, the other as subtitles; a track with no text is left
    out. The visitor turns them on in the player's controls."""
    who = viewer()
    spoken = "en" if item.language == "en" else "zh"
    tracks = []
    for track, label in (("zh", N_("Chinese")), ("en", N_("English"))):
        if not any(getattr(seg, f"text_{track}") for seg in rev.segments):
            continue
        url = stable_url(
            ("vtt", item.id, rev.revision, track),
            lambda track=track: subtitle_url(
                settings(), item.id, rev.revision, "vtt", track, who, session_token()
            ),
        )
        tracks.append(
            {
                "src": url,
                "srclang": "en" if track == "en" else "zh-Hant-HK",
                "label": t._(label),
                "kind": "captions" if track == spoken else "subtitles",
            }
        )
    return tracks


def session_token() -> str | None:
    """This browser session's log-in token (None when nobody is logged in): signed file links of a
    logged-in viewer are bound to it (:func:`archive.portal.routes.files.UrlSigner.sign`)."""
    token = st.session_state.get(TOKEN_KEY)
    return token if isinstance(token, str) and token else None


def signed_media_url(item_id: str, role: str) -> str:
    """The signed URL streaming one media file of an item to this session's viewer."""
    return stable_url(
        ("media", item_id, role),
        lambda: media_url(settings(), item_id, role, viewer(), session_token()),
    )


def parse_time(value: str | None) -> float | None:
    """``?t=`` as seconds: ``75``, ``75.5``, ``1:15``, ``1:02:03`` or ``1h2m3s``; None if unreadable."""
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip().lower()
    try:
        if ":" in text:
            total = 0.0
            for part in text.split(":"):
                total = total * 60 + float(part)
            return max(0.0, total)
        if text[-1:] in "hms" and not text.replace(".", "").isdigit():
            total, number = 0.0, ""
            for ch in text:
                if ch.isdigit() or ch == ".":
                    number += ch
                elif ch in "hms" and number:
                    total += float(number) * {"h": 3600, "m": 60, "s": 1}[ch]
                    number = ""
                else:
                    return None
            return max(0.0, total + (float(number) if number else 0))
        return max(0.0, float(text))
    except ValueError:
        return None


@dataclass(frozen=True)
class BrowseRow:
    id: str
    title_zh: str
    title_en: str
    collection: str
    recorded_date: str | None
    year: int | None
    language: str
    speakers: tuple[str, ...]
    tags: tuple[str, ...]
    is_demo: bool
    duration: float | None


def browse_rows(role: str) -> list[BrowseRow]:
    """Every item this role may see, with its duration: what Browse lists, counts, offers as
    facets and charts.

    Cached per role *and* catalog change stamp (:meth:`archive.catalog.db.Catalog.change_stamp`):
    any change to an item's visibility, embargo, metadata, media or redactions bumps it in the
    change's own transaction, and an ended embargo changes it too, so the next page run reads the
    catalog again. No time-to-live: a withdrawn item is never shown from the cache.
    """
    return _browse_rows(role, catalog().change_stamp())


@st.cache_data(show_spinner=False, max_entries=16)
def _browse_rows(role: str, stamp: tuple[int, int]) -> list[BrowseRow]:
    del stamp  # only the cache key: a new stamp is a new entry
    cat = catalog()
    who = Viewer(role)
    durations: dict[str, float] = {}
    for media in cat.list_media():
        if media.duration and (media.role == "audio" or media.item_id not in durations):
            durations[media.item_id] = media.duration
    return [
        BrowseRow(
            id=item.id,
            title_zh=item.title_zh,
            title_en=item.title_en,
            collection=item.collection,
            recorded_date=item.recorded_date,
            year=item.year,
            language=item.language,
            speakers=item.speakers,
            tags=item.tags,
            is_demo=item.is_demo,
            duration=durations.get(item.id),
        )
        for item in (
            # present_item: withheld speakers as their labels (facets and filters included).
            present_item(stored, who)
            for stored in cat.list_items(role=role)
            if who.may_see(stored)  # embargoes: list_items knows only the stored level
        )
    ]


def revision_for(item_id: str, revision: int | None) -> tuple[Item, Any]:
    """The item and one transcript revision as this session's viewer may read them.

    Access is checked on every call (:func:`archive.catalog.access.visible_item`); the revision's
    segments, which never change once stored, are kept in memory per revision, viewer level and
    set of redactions, so a rerun (a click on a timestamp) does not parse 1,500 segments again.
    """

    cat = catalog()
    who = viewer()
    item = visible_item(cat, item_id, who)
    number = revision if revision is not None else cat.latest_revision_number(item_id)
    if number is None:
        raise NotFoundError(f"item {item_id} has no transcript")
    return item, _revision(item_id, int(number), who.role, who.username, privacy_key(cat, item_id))


@st.cache_resource(ttl=600, max_entries=32, show_spinner=False)
def _revision(
    item_id: str, number: int, role: str, username: str | None, redacted: tuple[Any, ...]
) -> Any:
    return visible_revision(catalog(), item_id, Viewer(role, username), number)[1]


def citation_text(
    item_id: str, revision: int | None, at: float, style: str, base_url: str | None
) -> str:
    """``archive.catalog.cite``'s citation for this viewer, cached (rendering CSL takes ~0.1 s).

    The cache key holds everything the text depends on, redactions included, so a redaction
    shows at once; the item's visibility is checked by the page before this is asked.
    """
    who = viewer()
    redacted = privacy_key(catalog(), item_id)
    return _citation_text(item_id, revision, at, style, base_url, who.role, who.username, redacted)


@st.cache_data(ttl=600, max_entries=1024, show_spinner=False)
def _citation_text(
    item_id: str,
    revision: int | None,
    at: float,
    style: str,
    base_url: str | None,
    role: str,
    username: str | None,
    redacted: tuple[Any, ...],
) -> str:
    citation = build_citation(
        catalog(),
        settings(),
        item_id,
        at=at,
        viewer=Viewer(role, username),
        revision=revision,
        base_url=base_url,
    )
    return render(citation, style)


def item_badges(t: I18n, item: Item, duration: float | None = None) -> str:
    parts = [f'<span class="hk-badge">{html_text(collection_label(t, item.collection))}</span>']
    if item.is_demo:
        parts.append('<span class="hk-badge demo">Demo / 示範</span>')
    meta = [t.date(item.recorded_date), t.language_name(item.language)]
    if duration:
        meta.append(t.duration(duration))
    if item.speakers:
        meta.append("、".join(item.speakers) if t.lang == "zh" else ", ".join(item.speakers))
    # Speakers are outside text: the whole line goes through the one escaping path.
    return "".join(parts) + f'<span class="hk-meta">{html_text(" · ".join(meta))}</span>'


# -- URL <-> widget state --------------------------------------------------------------------
def pager(t: I18n, prefix: str, page: int, pages: int) -> None:
    """Previous / "Page n of m" / Next under a list; ``{prefix}_page`` in session state holds the page.

    Keys: ``{prefix}_paging`` (the row), ``{prefix}_prev``, ``{prefix}_next``. Nothing when one page.
    """
    if pages <= 1:
        return
    _ = t._

    def _go(delta: int) -> None:
        st.session_state[f"{prefix}_page"] = max(1, min(pages, page + delta))

    nav = st.container(
        horizontal=True, vertical_alignment="center", gap="medium", key=f"{prefix}_paging"
    )
    with nav:
        st.button(
            _("Previous"),
            key=f"{prefix}_prev",
            disabled=page <= 1,
            on_click=_go,
            args=(-1,),
            icon="⬅️",
        )
        st.markdown(
            _("Page {page} of {pages}").format(page=t.number(page), pages=t.number(pages)),
            width="content",
        )
        st.button(
            _("Next"),
            key=f"{prefix}_next",
            disabled=page >= pages,
            on_click=_go,
            args=(1,),
            icon="➡️",
            icon_position="right",
        )


def url_to_state(page: str, params: dict[str, tuple[str, Any, Callable[[str], Any]]]) -> None:
    """Seed widget keys from the URL when the URL changed from outside (a link, back, a reload).

    ``params`` maps a query parameter to ``(widget key, default, parse)``.
    """
    for param, (key, default, parse) in params.items():
        raw = st.query_params.get(param)
        marker = f"_url_{page}_{param}"
        if marker not in st.session_state or st.session_state[marker] != raw:
            try:
                value = parse(raw) if raw not in (None, "") else default
            except (ValueError, TypeError):
                value = default
            st.session_state[key] = value
            st.session_state[marker] = raw


def state_to_url(page: str, values: dict[str, tuple[Any, Any]]) -> None:
    """Write widget values to the URL (``param -> (value, default)``); defaults are left out."""
    for param, (value, default) in values.items():
        text = None if value in (None, "", default) else str(value)
        if st.query_params.get(param) != text:
            if text is None:
                if param in st.query_params:
                    del st.query_params[param]
            else:
                st.query_params[param] = text
        st.session_state[f"_url_{page}_{param}"] = text


# -- the player --------------------------------------------------------------------------------
_ASSETS = __import__("pathlib").Path(__file__).resolve().parent
PLAYER_HTML = (
    '<div class="hkp"><div class="hkp-grid"><div class="hkp-media"></div>'
    '<div class="hkp-cues" role="list" aria-busy="true"></div></div></div>'
)


@st.cache_resource(show_spinner=False)
def _player_component() -> Any:
    return st.components.v2.component(
        "hk_archive.player",
        html=PLAYER_HTML,  # constant: the media element lives across reruns
        css=(_ASSETS / "portal_player.css").read_text(encoding="utf-8"),
        js=(_ASSETS / "portal_player.js").read_text(encoding="utf-8"),
    )


def player(
    *,
    key: str,
    src: str | None,
    kind: str,
    cues_url: str | None,
    seek: dict[str, Any] | None,
    mode: str,
    find: str,
    t: I18n,
    tracks: list[dict[str, str]] | None = None,
    on_position: Callable[[], None] | None = None,
    text_only: bool = False,
) -> Any:
    """Mount the player; returns its state (``.position``: the last position the visitor chose).

    Its words come from ``t``, in the visitor's language. ``tracks`` are a video's text tracks
    (``src``, ``srclang``, ``label``, ``kind``: captions or subtitles).
    """
    _ = t._
    labels = {
        "transcript": _("Transcript"),
        "player": _("Player"),
        "play_from": _("Play from"),
        "no_zh": _("(no Chinese text)"),
        "no_en": _("(no English text)"),
        "machine": _("machine translation"),
        "redacted": _("[This passage has been removed from the public transcript.]"),
        "no_matches": _("No segment matches your search."),
        "empty": _("This recording has no transcript yet."),
        "load_error": _("The transcript could not be loaded. Please reload the page."),
        "no_media": (
            _("This item is a transcript, with no recording to play.")
            if text_only
            else _("This recording can't be played here.")
        ),
    }
    component = _player_component()
    return component(
        key=key,
        data={
            "src": src,
            "kind": kind,
            "cues_url": cues_url,
            "seek": seek,
            "mode": mode,
            "find": find,
            "labels": labels,
            "tracks": tracks or [],
        },
        default={"position": None},
        on_position_change=on_position or (lambda: None),
    )


@st.cache_resource(show_spinner=False)
def favicon() -> Any:
    """The tab icon, drawn here: Streamlit fetches Material and emoji icons from another host."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((2, 2, 62, 62), radius=14, fill=(179, 38, 30, 255))
    draw.rounded_rectangle((25, 12, 39, 38), radius=7, fill=(255, 255, 255, 255))
    draw.arc((17, 22, 47, 46), start=0, end=180, fill=(255, 255, 255, 255), width=4)
    draw.rectangle((30, 45, 34, 53), fill=(255, 255, 255, 255))
    draw.rectangle((23, 51, 41, 54), fill=(255, 255, 255, 255))
    return image
