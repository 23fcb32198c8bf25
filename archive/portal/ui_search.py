"""The search page's body, shared by Search (``/search``) and Home (``/?q=…``).

Home shows results in place rather than switching to Search: ``st.switch_page`` waits two
message-flush intervals before the rerun (about 150 ms measured), on every search typed on Home.

Every search is a link: ``/?q=…&collection=…&year=…&speaker=…&language=…&page=…&lang=…``.
Searches are not logged (no query, no address).
"""

from __future__ import annotations

import math

import streamlit as st

from archive.catalog.access import present_item
from archive.core.errors import ArchiveError
from archive.core.moments import moment_param
from archive.core.text_safety import html_text, marked_html, md
from archive.portal import ui
from archive.portal.i18n import N_, clock

__all__ = ["render", "start_from_home"]

PER_PAGE = 10
FACETS = (
    ("collection", "search_collection", N_("Collection")),
    ("year", "search_year", N_("Year")),
    ("lang", "search_lang", N_("Language")),
    ("speaker", "search_speaker", N_("Speaker")),
)
SUGGESTIONS = ("碼頭工人罷工", "紮鐵", "minimum wage", "collective bargaining")


def start_from_home() -> None:
    """Home's search button (a callback, so it runs before the page): a fresh search at ``?q=``.

    Home then renders the results itself; filters and paging of an earlier search are cleared.
    """
    query = (st.session_state.get("home_q") or "").strip()
    if not query:
        return
    st.query_params["q"] = query
    st.session_state["search_q"] = query
    st.session_state["search_page"] = 1
    for _param, key, _label in FACETS:
        st.session_state[key] = None


def render() -> None:
    """Lay out the search box, facets, results and paging for the query in the URL or box."""
    t = ui.page_i18n()
    _ = t._
    who = ui.viewer()

    ui.url_to_state(
        "search",
        {
            "q": ("search_q", "", str),
            "collection": ("search_collection", None, str),
            "year": ("search_year", None, str),
            "language": ("search_lang", None, str),
            "speaker": ("search_speaker", None, str),
            "page": ("search_page", 1, int),
        },
    )

    def _submit() -> None:
        st.session_state["search_page"] = 1

    def _clear_filters() -> None:
        for _param, key, _label in FACETS:
            st.session_state[key] = None
        st.session_state["search_page"] = 1

    def _set_query(text: str) -> None:
        st.session_state["search_q"] = text
        st.session_state["search_page"] = 1
        _clear_filters()

    with st.form("search_form", border=False, enter_to_submit=True):
        box = st.container(horizontal=True, vertical_alignment="bottom", gap="small")
        with box:
            st.text_input(
                _("Search the archive"),
                key="search_q",
                placeholder=_("Search talks in Chinese or English, e.g. 碼頭罷工 or dock strike"),
                max_chars=300,
            )
            st.form_submit_button(_("Search"), type="primary", icon="🔍", on_click=_submit)

    query = (st.session_state.get("search_q") or "").strip()
    page = max(1, int(st.session_state.get("search_page") or 1))
    chosen = {param: st.session_state.get(key) for param, key, _label in FACETS}

    def _url() -> None:
        ui.state_to_url(
            "search",
            {
                "q": (query, ""),
                "collection": (chosen["collection"], None),
                "year": (chosen["year"], None),
                "language": (chosen["lang"], None),
                "speaker": (chosen["speaker"], None),
                "page": (page, 1),
            },
        )

    if not query:
        _url()
        st.markdown(_("Find the moment a speaker said something, in any talk, in either language."))
        st.caption(_("Try one of these:"))
        row = st.container(horizontal=True, gap="small", key="search_suggestions")
        with row:
            for n, text in enumerate(SUGGESTIONS):
                st.button(
                    text, key=f"suggest_{n}", on_click=_set_query, args=(text,), type="tertiary"
                )
        st.caption(
            _(
                'Tips: put a phrase in quotes ("dock strike"); a search in Chinese also finds the English '
                "translation and the other way round."
            )
        )
        st.stop()

    try:
        from indexer import SearchFilters, SearchIndex

        index = SearchIndex.open(ui.settings())
        filters = SearchFilters(
            collection=chosen["collection"],
            year=int(chosen["year"]) if chosen["year"] else None,
            lang=chosen["lang"],
            speaker=chosen["speaker"],
        )
        with st.spinner(_("Searching…"), show_time=False):
            results = index.search(
                query, role=who.role, filters=filters, page=page, per_page=PER_PAGE
            )
    except ImportError:
        st.warning(
            _("Search is not available yet. You can still browse the archive."),
            icon="🚧",
        )
        st.page_link(
            ui.PAGES["browse"], label=_("Browse the archive"), query_params={"lang": t.lang}
        )
        st.stop()
    except (ArchiveError, ValueError) as exc:
        st.error(
            ui.error_message(t, exc if isinstance(exc, ArchiveError) else ArchiveError()),
            icon="⚠️",
        )
        st.stop()

    if results.pages and page > results.pages:
        page = results.pages
    _url()

    # -- facets --------------------------------------------------------------------------------
    def _facet_label(param: str, value: str) -> str:
        if param == "collection":
            return ui.collection_label(t, value)
        if param == "lang":
            return {"zh": _("Chinese speech"), "en": _("English speech")}.get(value, value)
        if param == "year":
            return t.year(value)
        return value

    active = sum(1 for v in chosen.values() if v)
    label = _("Filters") if not active else _("Filters ({n} on)").format(n=t.number(active))
    with st.expander(label, icon="🔽", expanded=bool(active)):
        cols = st.columns(4)
        for col, (param, key, flabel) in zip(cols, FACETS, strict=True):
            counts = {str(v): c for v, c in (results.facets or {}).get(param, [])}
            options = list(counts)
            current = st.session_state.get(key)
            if current and current not in counts:
                options.insert(0, current)
            with col:
                st.selectbox(
                    _(flabel),
                    options,
                    index=None,
                    key=key,
                    placeholder=_("Any"),
                    on_change=_submit,
                    format_func=lambda v, p=param, c=counts: (
                        f"{_facet_label(p, v)} ({t.number(c[v])})" if v in c else _facet_label(p, v)
                    ),
                )
        if active:
            st.button(
                _("Clear filters"),
                key="search_clear",
                on_click=_clear_filters,
                icon="✖️",
            )

    # -- summary, notices -------------------------------------------------------------------------
    if results.limited == "too_many_words":
        from indexer.query import MAX_TERMS  # the search package is there: it just answered

        st.info(
            _(
                "Your search has too many words to run. Please search for {n} words or fewer."
            ).format(n=t.number(MAX_TERMS)),
            icon="ℹ️",
        )
    elif results.limited == "prefixes_cut":
        st.info(
            _(
                "Some single characters or word beginnings match too many words, so only part of "
                "them was searched. Type whole words for complete results."
            ),
            icon="ℹ️",
        )
    elif results.notice:
        st.info(
            _(
                "Your search had a character the search doesn't understand, so it was read as plain words."
            ),
            icon="ℹ️",
        )
    if results.expansions:
        st.caption(_("Also searched: {terms}").format(terms=md(" · ".join(results.expansions))))

    if not results.total_items:
        # The query comes from the URL: a crafted link must not make this heading fetch anything.
        st.subheader(_("No results for “{query}”").format(query=md(query)), anchor=False)
        tips = [
            _("Check the spelling, or use fewer words."),
            _("Try the other script or language: 罷工 / strike, 碼頭 / dock."),
        ]
        if active:
            tips.insert(0, _("Remove some filters."))
        st.markdown("\n".join(f"- {md(tip)}" for tip in tips))
        if active:
            st.button(_("Clear filters"), key="search_clear_empty", on_click=_clear_filters)
        st.page_link(
            ui.PAGES["browse"], label=_("Browse all recordings"), query_params={"lang": t.lang}
        )
        st.stop()

    st.caption(
        _("{hits} in {items}").format(
            hits=t.ngettext("{n} passage", "{n} passages", results.total_hits).format(
                n=t.number(results.total_hits)
            ),
            items=t.ngettext("{n} recording", "{n} recordings", results.total_items).format(
                n=t.number(results.total_items)
            ),
        )
    )

    # -- results ---------------------------------------------------------------------------------
    cat = ui.catalog()
    for g, group in enumerate(results.groups):
        playable = ui.playable_media(cat, group.item_id) is not None
        with st.container(border=True, key=f"result_{g}"):
            title = t.pick(group.title_zh, group.title_en)
            other = group.title_en if t.lang == "zh" else group.title_zh
            marked = group.title_highlight or {}
            marked_other = marked.get("en" if t.lang == "zh" else "zh")
            st.page_link(
                ui.PAGES["item"],
                label=f"**{md(title)}**",
                query_params={"item": group.item_id, "lang": t.lang},
                icon=ui.PLAY_ICON if playable else ui.TEXT_ICON,
            )
            item = cat.find_item(group.item_id)
            badges = (
                ui.item_badges(t, present_item(item, who))
                if item is not None and who.may_see(item)
                else ""
            )
            if other and other != title:
                shown_other = (
                    marked_html(marked_other)
                    if marked_other and "<mark>" in marked_other
                    else html_text(other)
                )
                # Language of parts (WCAG 3.1.2): screen readers switch voice for it.
                other_lang = "en" if t.lang == "zh" else "zh-Hant-HK"
                badges = (
                    f'<span class="hk-meta" lang="{other_lang}">{shown_other}</span><br>' + badges
                )
            count = getattr(group, "hit_count", 0) or len(group.hits)
            badges += '<span class="hk-meta"> · {}</span>'.format(
                html_text(
                    t.ngettext("{n} passage", "{n} passages", count).format(n=t.number(count))
                )
            )
            st.markdown(badges, unsafe_allow_html=True)
            for h, hit in enumerate(group.hits):
                line = st.container(
                    horizontal=True,
                    wrap=False,
                    gap="small",
                    vertical_alignment="top",
                    key=f"hit_{g}_{h}",
                )
                with line:
                    st.page_link(
                        ui.PAGES["item"],
                        label=clock(hit.start),
                        query_params={
                            "item": hit.item_id,
                            "t": moment_param(hit.start),
                            "lang": t.lang,
                        },
                        help=(_("Play from {time}") if playable else _("Read from {time}")).format(
                            time=clock(hit.start)
                        ),
                        icon="▶️" if playable else "📄",
                    )
                    # The index's highlights are HTML-escaped, not Markdown-inert: re-escaped
                    # here, the <mark> spans kept.
                    marks = hit.highlights or {}
                    zh = marked_html(marks["zh"]) if marks.get("zh") else html_text(hit.text_zh)
                    en = marked_html(marks["en"]) if marks.get("en") else html_text(hit.text_en)
                    parts = []
                    # Who said it (the index holds a withheld speaker's label only).
                    spoke = (
                        f'<span class="hk-speaker">{html_text(hit.speaker)}:</span> '
                        if hit.speaker
                        else ""
                    )
                    if zh:
                        parts.append(f'<span class="zh" lang="zh-Hant-HK">{zh}</span>')
                    if en:
                        parts.append(f'<span class="en" lang="en">{en}</span>')
                    st.markdown(
                        '<div class="hk-snippet">' + spoke + "<br>".join(parts) + "</div>",
                        unsafe_allow_html=True,
                    )

    # -- paging ------------------------------------------------------------------------------------
    pages = max(1, results.pages or math.ceil(results.total_items / PER_PAGE))
    ui.pager(t, "search", page, pages)
