"""The webinar hub's pieces shared by the portal's event pages: the viewer's time zone, event cards,
"Add to calendar" buttons, subscribe links and the embedded recording player.

Times come from :func:`archive.hub.times.format_event_time` (Babel, ``zh_Hant_HK`` / ``en_GB``);
nothing here formats a date or time by hand. The viewer's zone is, in order: ``?tz=`` in the URL,
the zone chosen earlier in this session, the browser's (``st.context.timezone``), then the
language's (Hong Kong for Chinese, London for English). A chosen zone other than the browser's is
kept in the URL, so a link keeps it.

Everything an event page reads goes through :func:`archive.hub.events.visible_event` /
:func:`archive.hub.events.list_events` with the session's viewer; nothing here widens access.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

import streamlit as st

from archive.catalog.access import Viewer
from archive.catalog.db import Catalog
from archive.catalog.models import Item
from archive.core.errors import ArchiveError, InputError
from archive.core.text_safety import attr, html_text, md
from archive.hub.events import Event, event_recording, pending_attachment
from archive.hub.feeds import event_ics, events_ics_path, podcast_path
from archive.hub.series import Series, get_series
from archive.hub.times import check_timezone, format_event_time
from archive.portal import ui
from archive.portal.i18n import N_, I18n
from archive.portal.routes.files import transcript_url

__all__ = [
    "COMMON_ZONES",
    "event_card",
    "event_ics_button",
    "event_times_html",
    "hub_css",
    "link_params",
    "recording_player",
    "series_title",
    "subscribe_links",
    "tz_picker",
    "viewer_tz",
    "zone_label",
]

# The zones the archive's audience lives in, first; then every other zone, A–Z.
COMMON_ZONES = (
    "Europe/London",
    "Asia/Hong_Kong",
    "America/Toronto",
    "Asia/Taipei",
    "Australia/Sydney",
    "America/Vancouver",
    "Europe/Berlin",
    "Europe/Dublin",
    "Europe/Amsterdam",
    "Europe/Paris",
    "America/New_York",
    "America/Los_Angeles",
    "Australia/Melbourne",
    "Pacific/Auckland",
    "Asia/Tokyo",
    "Asia/Singapore",
    "UTC",
)
LANG_ZONES = {"zh": "Asia/Hong_Kong", "en": "Europe/London"}
TZ_WIDGET = "hub_tz_pick"
TZ_CHOSEN = "hub_tz"

STATUS_LABELS = {
    "scheduled": N_("Scheduled"),
    "postponed": N_("Postponed"),
    "cancelled": N_("Cancelled"),
    "held": N_("Took place"),
}
VISIBILITY_LABELS = {
    "members": N_("Members' event"),
    "staff": N_("Staff only (not announced)"),
}


def hub_css() -> None:
    st.html(
        """
<style>
.hk-when { font-weight: 600; }
.hk-when-org, .hk-when-old { color: #555; font-size: .92rem; }
.hk-when-old s, .hk-cancelled s { color: #666; }  /* #777 is 4.48:1 on white, under AA's 4.5 */
.hk-day { font-weight: 400; color: #7a1a14; font-size: .85rem; white-space: nowrap; }
.hk-badge.postponed { background: #fff3cd; color: #6b4e00; }
.hk-badge.cancelled { background: #b3261e; color: #fff; }
.hk-badge.held { background: #e6e6e6; color: #333; }
.hk-badge.members, .hk-badge.staff { background: #e3ecf7; color: #123d6b; }
.hk-subscribe { display: flex; flex-wrap: wrap; gap: .5rem; margin: .2rem 0 .6rem 0; }
.hk-subscribe a { display: inline-block; padding: .3rem .75rem; border: 1px solid rgba(49, 51, 63, .2);
  border-radius: .5rem; text-decoration: none; color: inherit !important; font-size: .9rem; }
.hk-subscribe a:hover { border-color: #b3261e; color: #b3261e !important; }
/* Event titles wrap on a phone instead of being cut without an ellipsis: every list of events
   and recordings (Home's too; tests/test_event_title_wrap.py). */
[class*="st-key-home_event_"] [data-testid="stPageLink"] p,
[class*="st-key-home_item_"] [data-testid="stPageLink"] p,
[class*="st-key-upcoming_"] [data-testid="stPageLink"] p,
[class*="st-key-past_"] [data-testid="stPageLink"] p,
[class*="st-key-series_"] [data-testid="stPageLink"] p { white-space: normal; overflow: visible; }
.hk-poster img { max-width: 100%; max-height: 28rem; border-radius: .4rem; }
</style>
"""
    )


# -- the viewer's time zone ----------------------------------------------------------------------
def _zone(name: object) -> str | None:
    if not isinstance(name, str) or not name:
        return None
    try:
        return check_timezone(name).key
    except InputError:
        return None


def browser_tz(lang: str) -> str:
    """The browser's zone, else the interface language's."""
    try:
        reported = st.context.timezone
    except Exception:  # no browser (bare mode)
        reported = None
    return _zone(reported) or LANG_ZONES.get(lang, "Europe/London")


def viewer_tz(t: I18n) -> str:
    """The zone this page shows times in (see the module's docstring)."""
    from_url = st.query_params.get("tz")
    zone = _zone(from_url)
    if zone:
        st.session_state[TZ_CHOSEN] = zone
        return zone
    if from_url is not None:  # not a zone: drop it rather than keep a broken link
        del st.query_params["tz"]
    chosen = _zone(st.session_state.get(TZ_CHOSEN))
    if chosen:
        st.query_params["tz"] = chosen
        return chosen
    return browser_tz(t.lang)


@lru_cache(maxsize=1)
def zone_options() -> tuple[str, ...]:
    known = {z for z in available_timezones() if _zone(z)}
    rest = sorted(known - set(COMMON_ZONES))
    return tuple(z for z in COMMON_ZONES if z in known) + tuple(rest)


@lru_cache(maxsize=4096)
def zone_label(zone: str, locale: str) -> str:
    """``London (Europe/London)`` / ``倫敦（Europe/London）``: the city as the locale names it."""
    from babel.dates import get_timezone_location

    try:
        city = get_timezone_location(ZoneInfo(zone), locale=locale, return_city=True)
    except Exception:
        city = ""
    if not city or city == zone or "/" in city:  # no name of its own (UTC, Etc/…)
        return zone
    return f"{city}（{zone}）" if locale.startswith("zh") else f"{city} ({zone})"


def _tz_changed(lang: str) -> None:
    zone = _zone(st.session_state.get(TZ_WIDGET))
    if zone is None:
        return
    if zone == browser_tz(lang):
        st.session_state[TZ_CHOSEN] = None
        if "tz" in st.query_params:
            del st.query_params["tz"]
    else:
        st.session_state[TZ_CHOSEN] = zone
        st.query_params["tz"] = zone


def tz_picker(t: I18n, tz: str) -> None:
    """The "Show times in" select box (common zones first), seeded with the zone in force."""
    options = zone_options()
    if tz not in options:
        options = (tz, *options)
    # Always seeded: each page has its own select box under this key, and a new one would
    # otherwise start on its first option.
    st.session_state[TZ_WIDGET] = tz
    st.selectbox(
        t._("Show times in"),
        options,
        key=TZ_WIDGET,
        format_func=lambda z: zone_label(z, t.locale),
        on_change=_tz_changed,
        args=(t.lang,),
        width=330,
        help=t._("Times follow your browser's time zone; choose another to see them there."),
    )


def link_params(t: I18n, **extra: str) -> dict[str, str]:
    """Query parameters of a link to another hub page: the language, a chosen zone, ``extra``."""
    params = {"lang": t.lang}
    if st.query_params.get("tz"):
        params["tz"] = st.query_params["tz"]
    return params | extra


# -- showing events ---------------------------------------------------------------------------------
def series_title(t: I18n, series: Series) -> str:
    return t.pick(series.title_zh, series.title_en) or series.id


def _series_of(cat: Catalog, event: Event) -> Series | None:
    if not event.series_id:
        return None
    try:
        return get_series(cat, event.series_id)
    except ArchiveError:
        return None


def event_title(t: I18n, event: Event) -> str:
    return t.pick(event.title_zh, event.title_en) or event.id


def day_note(t: I18n, days: int) -> str:
    if days == 1:
        return t._("the next day where you are")
    if days == -1:
        return t._("the day before where you are")
    if days:
        return t._("{n} days apart").format(n=t.number(abs(days)))
    return ""


def event_times_html(t: I18n, event: Event, tz: str) -> str:
    """The time in the viewer's zone, the organiser's beside it, and the old time if postponed."""
    times = format_event_time(event, tz, t.locale)
    viewer = times["viewer_parts"]
    struck = event.status == "cancelled"
    shown = html_text(times["viewer"])
    if struck:
        shown = f"<s>{shown}</s>"
    note = day_note(t, times["day_offset"])
    out = [
        f'<div class="hk-when" data-tz="{attr(viewer["tz"])}">'
        f'<time datetime="{attr(viewer["start"])}">{shown}</time>'
        + (f' <span class="hk-day">({html_text(note)})</span>' if note else "")
        + "</div>"
    ]
    if not times["same_offset"]:
        organiser = times["organiser_parts"]
        out.append(
            f'<div class="hk-when-org" data-tz="{attr(organiser["tz"])}">'
            + html_text(t._("Organiser's time: {time}").format(time=times["organiser"]))
            + "</div>"
        )
    if event.status == "postponed" and times.get("previous_viewer"):
        old = f"<s>{html_text(times['previous_viewer'])}</s>"
        out.append(
            '<div class="hk-when-old">'
            + html_text(t._("Postponed from {time}")).replace(html_text("{time}"), old)
            + "</div>"
        )
    return "".join(out)


def event_badges_html(t: I18n, event: Event) -> str:
    parts = []
    if event.status != "scheduled":
        label = t._(STATUS_LABELS.get(event.status, event.status))
        parts.append(f'<span class="hk-badge {attr(event.status)}">{html_text(label)}</span>')
    if event.visibility != "public":
        label = t._(VISIBILITY_LABELS.get(event.visibility, event.visibility))
        parts.append(f'<span class="hk-badge {attr(event.visibility)}">{html_text(label)}</span>')
    return "".join(parts)


def place_text(t: I18n, event: Event) -> str:
    return t._("Online") if event.is_online else event.place


def event_meta_html(t: I18n, event: Event, series: Series | None) -> str:
    sep = "、" if t.lang == "zh" else ", "
    meta = [place_text(t, event)]
    if event.languages:
        meta.append(sep.join(t.language_name(code) for code in event.languages))
    if event.speakers:
        meta.append(sep.join(event.speakers))
    if series is not None:
        meta.append(t._("Series: {title}").format(title=series_title(t, series)))
    return f'<span class="hk-meta">{html_text(" · ".join(meta))}</span>'


def event_ics_bytes(event: Event, series: Series | None = None) -> bytes:
    s = ui.settings()
    return event_ics(
        event,
        base_url=s.public_url or ui.request_origin(),
        organisation=s.organisation,
        series=series,
    )


def event_ics_button(t: I18n, event: Event, *, key: str, series: Series | None = None) -> None:
    """ "Add to calendar": the event's ``.ics`` for this viewer (members get a members' join link).

    A public event's file is public material and may go through Streamlit's ``/media/``. Any other
    event's file (its join link is for members) is a link to the archive's own route, signed for
    this viewer and checked again when fetched: Streamlit serves ``/media/`` to anyone with the URL.
    """
    if event.visibility != "public":
        from archive.portal.routes.files import calendar_url

        url = ui.stable_url(
            ("calendar", event.id),
            lambda: calendar_url(ui.settings(), event.id, ui.viewer(), ui.session_token()),
        )
        st.link_button(t._("Add to calendar"), url, key=key, icon="📅")
        return
    st.download_button(
        t._("Add to calendar"),
        event_ics_bytes(event, series),
        file_name=f"{event.id}.ics",
        mime="text/calendar",
        key=key,
        icon="📅",
        on_click="ignore",
    )


def is_over(event: Event, now: datetime | None = None) -> bool:
    return event.end < (now or datetime.now(UTC))


def event_card(
    t: I18n,
    cat: Catalog,
    who: Viewer,
    event: Event,
    tz: str,
    *,
    key: str,
    calendar: bool = True,
) -> None:
    """One event in a list: title (a link to its page), status, times, place, calendar, recording."""
    series = _series_of(cat, event)
    with st.container(border=True, key=key):
        title = md(event_title(t, event))
        if event.status == "cancelled":
            title = f"~~{title}~~"
        st.page_link(
            ui.PAGES["event"],
            label=title,
            icon="📅",
            query_params=link_params(t, event=event.id),
        )
        st.markdown(
            event_badges_html(t, event)
            + event_times_html(t, event, tz)
            + event_meta_html(t, event, series),
            unsafe_allow_html=True,
        )
        over = is_over(event)
        recording = event_recording(cat, event, who) if event.item_id else None
        row = st.container(horizontal=True, gap="small", vertical_alignment="center")
        with row:
            if recording is not None:
                playable = ui.playable_media(cat, recording.id) is not None
                st.page_link(
                    ui.PAGES["event"],
                    label=t._("Recording available") if playable else t._("Transcript available"),
                    icon=ui.PLAY_ICON if playable else ui.TEXT_ICON,
                    query_params=link_params(t, event=event.id),
                )
            elif over and event.status != "cancelled" and pending_attachment(cat, event.id):
                st.caption(t._("The recording is being processed."))
            if calendar and not over and event.status != "cancelled":
                event_ics_button(t, event, key=f"{key}_ics", series=series)


def webcal_url(origin: str, path: str) -> str:
    """``webcal://host/path``: the calendar subscription form of ``origin`` + ``path``."""
    host = origin.split("://", 1)[-1].rstrip("/")
    return f"webcal://{host}{path}"


def subscribe_links(t: I18n, series_id: str | None = None, *, podcast: bool = False) -> None:
    """Links to the public calendar feed (and podcast) of all events or of one series."""
    path = events_ics_path(series_id)
    origin = ui.settings().public_url or ui.request_origin()
    # webcal: makes phones and desktop calendars offer to subscribe (not to download once); it
    # needs the whole address, so it is offered only when the portal knows its own.
    webcal = webcal_url(origin, path) if origin else None
    anchors = [
        f'<a href="{attr(webcal or path)}" data-feed="ics">'
        f"{html_text(t._('Subscribe to the calendar'))}</a>"
    ]
    if podcast:
        anchors.append(
            f'<a href="{attr(podcast_path(series_id=series_id))}" '
            f'data-feed="podcast">{html_text(t._("Podcast feed"))}</a>'
        )
    st.markdown('<div class="hk-subscribe">' + "".join(anchors) + "</div>", unsafe_allow_html=True)
    st.caption(
        t._(
            "Add the calendar link to your calendar app to follow changes (public events only). "
            "Postponements and cancellations update there too."
        )
    )
    if webcal and origin:
        # st.code carries Streamlit's own copy button: the address to paste into a calendar app.
        st.caption(t._("Or copy the calendar address:"))
        st.code(origin.rstrip("/") + path, language=None, wrap_lines=True)


def recording_card(t: I18n, cat: Catalog, item: Item, *, key: str) -> None:
    """One recording in a list (Home, a series): its title as a link, then its badges."""
    with st.container(key=key):
        st.page_link(
            ui.PAGES["item"],
            label=md(t.pick(item.title_zh, item.title_en) or item.id),
            icon=ui.item_icon(cat, item.id),
            query_params={"item": item.id, "lang": t.lang},
        )
        st.markdown(ui.item_badges(t, item, ui.item_duration(cat, item.id)), unsafe_allow_html=True)


# -- the recording --------------------------------------------------------------------------------
def recording_player(t: I18n, cat: Catalog, who: Viewer, item: Item, *, key: str) -> None:
    """The portal's own player (``ui.player``) with the item's transcript, from the start."""

    media = ui.playable_media(cat, item.id)
    revision = cat.latest_revision_number(item.id)
    src = ui.signed_media_url(item.id, media.role) if media else None
    cues = (
        ui.stable_url(
            ("cues", item.id, revision),
            lambda: transcript_url(ui.settings(), item.id, revision, who, ui.session_token()),
        )
        if revision
        else None
    )
    _ = t._
    tracks = []
    if media and media.has_video and revision:
        shown, rev = ui.revision_for(item.id, revision)
        tracks = ui.video_tracks(t, shown, rev)
    ui.player(
        key=key,
        src=src,
        kind="video" if media and media.has_video else "audio",
        cues_url=cues,
        seek={"t": 0, "n": 1, "play": False},
        mode="both",
        find="",
        t=t,
        tracks=tracks,
        text_only=media is None and ui.is_text_only(cat, item.id),
    )
    if not media:
        ui.no_media_note(t, cat, item.id)


def describe(value: Any) -> str:
    """A description (outside text, several lines) for an ``unsafe_allow_html`` block."""
    return html_text(value, lines=True)
