"""One recording: the player starting at ``?t=``, the transcript following it, downloads, citation.

URL: ``/item?item=ID&t=SECONDS&rev=N&lang=zh|en&track=zh|en|both``. ``rev`` pins a transcript
revision (citations link to one); without it the latest is shown.
"""

from __future__ import annotations

import streamlit as st

from archive.catalog.access import visible_item
from archive.catalog.cite import segment_at
from archive.core.errors import ArchiveError, NotFoundError
from archive.core.moments import moment_param
from archive.core.text_safety import attr, html_text, md
from archive.portal import ui
from archive.portal.i18n import N_, clock
from archive.portal.routes.files import subtitle_url, transcript_url
from transcripts.exports import spoken_track, tracks_with_text

t = ui.page_i18n()
_ = t._
cat = ui.catalog()
who = ui.viewer()

TRACKS = ("zh", "en", "both")
TRACK_LABELS = {"zh": N_("Chinese"), "en": N_("English"), "both": N_("Both")}
STYLES = ("chicago", "apa", "mla", "bibtex", "ris", "csl-json")
STYLE_LABELS = {
    "chicago": "Chicago",
    "apa": "APA",
    "mla": "MLA",
    "bibtex": "BibTeX",
    "ris": "RIS",
    "csl-json": "CSL-JSON",
}
STYLE_CODE_LANG = {"bibtex": "latex", "csl-json": "json", "ris": None}
FORMATS = (("srt", "SRT"), ("vtt", "WebVTT"), ("txt", N_("Text")), ("json", "JSON"))

# Phones only (the width where ui.css makes the page's padding narrow). The title block is
# tighter, and the two transcript controls share one row with their visible labels hidden: the
# labels Streamlit draws are aria-hidden copies (the radio group and the text box carry their names
# as aria-label), so screen readers lose nothing, and the find box shows a search icon and its
# placeholder. Together this lifts the player from ~590 px down to the upper half of a 844 px
# screen (tests/test_phone_player.py). The player's own CSS keeps the media pinned while the page
# scrolls through the transcript.
PHONE_CSS = """
<style>
@media (max-width: 640px) {
  .st-key-item_head { gap: .5rem; }
  .st-key-item_head h1 { font-size: 1.45rem !important; line-height: 1.25; padding: .2rem 0 .3rem 0; }
  .st-key-item_head .hk-other-title { margin: 0; font-size: .9rem; }
  .st-key-item_controls { flex-wrap: nowrap; gap: .5rem; }
  .st-key-item_controls [data-testid="stWidgetLabel"] {
    position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%);
    white-space: nowrap; }
  .st-key-item_controls .st-key-item_find { flex: 1 1 6rem; min-width: 6rem; width: auto !important; }
}
</style>
"""


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


item_id = (st.query_params.get("item") or "").strip()
if not item_id:
    st.info(_("Choose a recording from Search or Browse."), icon="ℹ️")
    st.page_link(ui.PAGES["browse"], label=_("Browse the archive"), query_params={"lang": t.lang})
    st.stop()

try:
    item = visible_item(cat, item_id, who)
except NotFoundError:
    st.error(_("We couldn't find that recording. It may have been moved, or it isn't public."))
    st.page_link(ui.PAGES["search"], label=_("Search the archive"), query_params={"lang": t.lang})
    st.stop()

# -- which revision --------------------------------------------------------------------------
asked_rev = _int_or_none(st.query_params.get("rev"))
rev = None
rev_note = None
try:
    item, rev = ui.revision_for(item_id, asked_rev)
except NotFoundError:
    if asked_rev is not None:
        rev_note = _("Transcript revision {rev} doesn't exist; showing the latest.").format(
            rev=asked_rev
        )
        try:
            item, rev = ui.revision_for(item_id, None)
        except NotFoundError:
            rev = None
latest_rev = cat.latest_revision_number(item_id)
segments = rev.segments if rev is not None else ()
# A single-language recording is shown as such: no "(no Chinese text)" on every line of an
# English talk, and no track switch that could only show an empty column.
present = tracks_with_text(segments) or ("zh", "en")
spoken = spoken_track(
    segments, item.language if item.language != "auto" else item.detected_language
)

# -- title and metadata -----------------------------------------------------------------------
# On a phone the player must be in the first screen (issue 19): the title block and the transcript
# controls above it are made compact there (see PHONE_CSS), so a visitor opening a search hit sees,
# and hears, the player without scrolling.
st.html(PHONE_CSS)
title = t.pick(item.title_zh, item.title_en)
other_title = item.title_en if t.lang == "zh" else item.title_zh
duration = ui.item_duration(cat, item_id)
with st.container(key="item_head"):
    st.title(md(title), anchor=False)
    if other_title and other_title != title:
        st.markdown(
            f'<p class="hk-other-title" lang="{"en" if t.lang == "zh" else "zh-Hant-HK"}">'
            f"{html_text(other_title)}</p>",
            unsafe_allow_html=True,
        )
    st.markdown(ui.item_badges(t, item, duration), unsafe_allow_html=True)
if rev_note:
    st.warning(rev_note, icon="🕘")
if rev is not None and latest_rev and rev.revision != latest_rev:
    st.info(
        _(
            "You are reading transcript revision {rev}, as cited. The latest is revision {latest}."
        ).format(rev=t.number(rev.revision), latest=t.number(latest_rev)),
        icon="🕘",
    )
    st.page_link(
        ui.PAGES["item"],
        label=_("Show the latest revision"),
        query_params={"item": item_id, "lang": t.lang},
    )

# -- URL state: start time, track, find -----------------------------------------------------
requested_t = ui.parse_time(st.query_params.get("t"))
ui.url_to_state(
    "item",
    {
        "track": ("item_track", "both", lambda v: v if v in TRACKS else "both"),
        "find": ("item_find", "", str),
    },
)

controls = st.container(
    horizontal=True, vertical_alignment="bottom", gap="medium", key="item_controls"
)
with controls:
    if len(present) > 1:
        track = st.segmented_control(
            _("Transcript"),
            TRACKS,
            format_func=lambda v: _(TRACK_LABELS[v]),
            key="item_track",
            required=True,
        )
    else:
        track = present[0]
        st.caption(
            _("Transcript in English only.") if track == "en" else _("Transcript in Chinese only."),
        )
    find = st.text_input(
        _("Find in transcript"),
        key="item_find",
        placeholder=_("A word or phrase"),
        icon="🔎",  # an emoji: a Material icon would make every visitor fetch the 375 kB font
        width=320,
    )
find = (find or "").strip()
ui.state_to_url(
    "item", {"track": (track, "both" if len(present) > 1 else track), "find": (find, "")}
)

if find:
    needle = find.lower()
    count = sum(
        1
        for s in segments
        if needle
        in (
            (s.text_zh if track != "en" else "") + "\n" + (s.text_en if track != "zh" else "")
        ).lower()
    )
    st.caption(
        t.ngettext("{n} segment matches", "{n} segments match", count).format(n=t.number(count))
    )

# -- the player -------------------------------------------------------------------------------
# A seek is sent to the browser only when the URL's time changed from outside (a search hit, a
# citation, a chapter): reruns caused by the player itself never move it.
seek_state = st.session_state.setdefault("item_seek", {"key": None, "t": None, "n": 0})
player_key = f"player_{item_id}"
reported = None
state = st.session_state.get(player_key)
if state is not None:
    try:
        reported = state.get("position")
    except AttributeError:
        reported = None
page_key = (item_id, rev.revision if rev else None)
if seek_state["key"] != page_key or (requested_t != seek_state["t"] and requested_t != reported):
    seek_state.update(
        key=page_key, t=requested_t, n=seek_state["n"] + 1, play=requested_t is not None
    )

media = ui.playable_media(cat, item_id)
src = ui.signed_media_url(item_id, media.role) if media else None
cues = (
    ui.stable_url(
        ("cues", item_id, rev.revision),
        lambda: transcript_url(ui.settings(), item_id, rev.revision, who, ui.session_token()),
    )
    if rev is not None
    else None
)

tracks = ui.video_tracks(t, item, rev) if media and media.has_video and rev is not None else []

result = ui.player(
    key=player_key,
    src=src,
    kind="video" if media and media.has_video else "audio",
    cues_url=cues,
    seek={"t": seek_state["t"] or 0, "n": seek_state["n"], "play": bool(seek_state.get("play"))},
    tracks=tracks,
    mode=track,
    find=find,
    t=t,
    text_only=media is None and ui.is_text_only(cat, item_id),
)
position = getattr(result, "position", None)
if position is not None and position != requested_t:
    moment = float(position)
    st.query_params["t"] = moment_param(moment)
    seek_state["t"] = float(moment_param(moment))
else:
    moment = float(requested_t or 0)

if not media:
    ui.no_media_note(t, cat, item_id)
if rev is None:
    st.info(_("This recording has no transcript yet."), icon="🔇")
else:
    # The same rule as "Cite this" below and `archive cite --at`: the caption names the segment
    # that the citation quotes.
    current = segment_at(segments, moment)
    if current is not None and (current.text_zh or current.text_en):
        st.caption(
            _("At {time}: {text}").format(
                time=clock(moment), text=md(t.pick(current.text_zh, current.text_en))
            )
        )

# -- chapters -------------------------------------------------------------------------------
if item.chapters:
    with st.expander(_("Chapters"), icon="📑"):
        for chapter in item.chapters:
            start = float(chapter.get("start") or chapter.get("start_time") or 0)
            label = (
                t.pick(chapter.get("title_zh"), chapter.get("title_en"))
                or chapter.get("title")
                or ""
            )
            st.page_link(
                ui.PAGES["item"],
                label=f"{clock(start)} {md(label)}",
                query_params={"item": item_id, "t": moment_param(start), "lang": t.lang}
                | ({"rev": str(rev.revision)} if asked_rev and rev else {}),
            )

# -- about this recording ----------------------------------------------------------------------
left, right = st.columns([3, 2], gap="large")
with left:
    st.subheader(_("About this recording"), anchor=False)
    description = t.pick(item.description_zh, item.description_en)
    other_description = item.description_en if t.lang == "zh" else item.description_zh
    if description:
        st.markdown(html_text(description, lines=True), unsafe_allow_html=True)
    if other_description and other_description != description:
        st.markdown(
            f'<p class="hk-other-title" lang="{"en" if t.lang == "zh" else "zh-Hant-HK"}">'
            + html_text(other_description, lines=True)
            + "</p>",
            unsafe_allow_html=True,
        )
    facts = [
        (_("Collection"), ui.collection_label(t, item.collection)),
        (_("Recorded"), t.date(item.recorded_date)),
        (_("Language"), t.language_name(item.language)),
        (_("Duration"), t.duration(duration)),
        (
            _("Speakers"),
            ("、" if t.lang == "zh" else ", ").join(item.speakers) or _("Not recorded"),
        ),
    ]
    if item.tags:
        facts.append((_("Tags"), ("、" if t.lang == "zh" else ", ").join(item.tags)))
    if rev is not None:
        facts.append(
            (
                _("Transcript"),
                _("revision {rev} of {latest}, {count} segments").format(
                    rev=t.number(rev.revision),
                    latest=t.number(latest_rev or rev.revision),
                    count=t.number(len(segments)),
                ),
            )
        )
    if item.is_demo:
        facts.append(
            (_("Note"), "Demo / 示範 — " + _("a demonstration item, not archive material"))
        )
    st.markdown(
        "\n".join(f"- **{md(k)}:** {md(v)}" for k, v in facts),
        unsafe_allow_html=True,
    )
    if item.source_url:
        source_label = _("Source")
        st.markdown(
            f'**{md(source_label)}:** <a href="{attr(item.source_url)}" '
            f'rel="noopener noreferrer nofollow" target="_blank">{html_text(item.source_url)}</a>',
            unsafe_allow_html=True,
        )
        st.caption(_("The source link leads to another website."))

with right:
    st.subheader(_("Download the transcript"), anchor=False)
    if rev is None:
        st.caption(_("Nothing to download yet."))
    else:
        # Only tracks with text are offered (an empty file helps nobody); the default is the
        # reader's language where the recording has it, else the language it is spoken in.
        dl_choices = (*present, "both") if len(present) > 1 else present
        if st.session_state.get("item_dl_track") not in (None, *dl_choices):
            del st.session_state["item_dl_track"]  # chosen on another recording's page
        dl_track = st.segmented_control(
            _("Track"),
            dl_choices,
            format_func=lambda v: _(TRACK_LABELS[v]),
            key="item_dl_track",
            default=t.lang if t.lang in dl_choices else spoken,
            required=True,
        )
        if any(s.en_machine and s.text_en for s in segments) and dl_track != "zh":
            st.caption(_("English marked [MT] is a machine translation."))
        # Served by the archive's own route (archive.portal.routes.files): signed for this viewer, access checked
        # again when fetched, made on request (nothing kept in memory per visitor).
        anchors = []
        for fmt, label in FORMATS:
            url = subtitle_url(
                ui.settings(), item_id, rev.revision, fmt, dl_track, who, ui.session_token()
            )
            name = f"{item_id}.r{rev.revision}.{dl_track}.{fmt}"
            anchors.append(
                f'<a class="hk-dl" href="{attr(url)}" download="{attr(name)}" '
                f'data-format="{fmt}">{html_text(_(label) if fmt == "txt" else label)}</a>'
            )
        st.markdown('<div class="hk-dls">' + "".join(anchors) + "</div>", unsafe_allow_html=True)

    # -- cite this -------------------------------------------------------------------------
    st.subheader(_("Cite this"), anchor=False)
    style = st.segmented_control(
        _("Citation style"),
        STYLES,
        format_func=STYLE_LABELS.get,
        key="item_cite_style",
        default="chicago",
        required=True,
    )
    try:
        settings = ui.settings()
        cite_at = min(moment, duration) if duration else moment
        text = ui.citation_text(
            item_id,
            rev.revision if rev is not None else None,
            cite_at,
            style,
            settings.public_url or ui.request_origin(),
        )
        st.code(text, language=STYLE_CODE_LANG.get(style), wrap_lines=True)
        st.caption(
            _("Points to {time} in transcript revision {rev}.").format(
                time=clock(moment), rev=t.number(rev.revision) if rev is not None else "—"
            )
        )
    except ImportError:
        st.caption(_("Citations are not available yet."))
    except ArchiveError as exc:
        st.error(ui.error_message(t, exc))
