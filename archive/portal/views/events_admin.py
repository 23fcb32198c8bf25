"""Staff: announce an event, edit it, postpone, cancel or mark it held, attach its recording link.

URL: ``/events_admin?lang=…`` (a new event) or ``/events_admin?event=ID`` (one event). Staff only:
anyone else is told so and sees nothing. The forms only call the hub (:mod:`archive.hub.events`,
:mod:`archive.hub.recordings` and their neighbours); a recording is *queued* for ``archive worker``
(the portal never runs an ingest itself). Problems are shown as plain translated sentences; a time
that happens twice (when the clocks go back) is asked about, never guessed.
"""

from __future__ import annotations

import tempfile
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import streamlit as st
from babel.dates import format_time

from archive.core.errors import ArchiveError, InputError, NotFoundError
from archive.core.text_safety import md
from archive.hub.events import (
    EVENT_LANGUAGES,
    Event,
    cancel_event,
    check_join_url,
    create_event,
    get_event,
    hold_event,
    postpone_event,
    start_is_past,
    update_event,
)
from archive.hub.posters import POSTER_MAX_BYTES, POSTER_MAX_MB, check_poster
from archive.hub.series import list_series
from archive.hub.times import local_to_utc
from archive.portal import hub_ui, ui, ui_staff
from archive.portal.i18n import N_
from archive.portal.ui_event_recording import VISIBILITIES, VISIBILITY_HELP, recording_form

t = ui.page_i18n()
_ = t._
cat = ui.catalog()
who = ui.viewer()
settings = ui.settings()

# What widening who can see an event means, said before it is saved (staff < members < public).
WIDER_MEANS = {
    "members": N_("Every member will be able to see this event and its join link once you save."),
    "public": N_(
        "Anyone on the internet will be able to see this event, its join link and its poster once "
        "you save, and it goes into the public calendar and podcast feeds."
    ),
}
PLACES = ("online", "in-person")
PLACE_LABELS = {"online": N_("Online"), "in-person": N_("In person")}

hub_ui.hub_css()
if not who.is_staff:
    ui_staff.lost_staff_notice(t)
    st.error(_("This page is for the archive's staff."), icon=":material/lock:")
    st.stop()


# -- helpers ---------------------------------------------------------------------------------------
def _flash(message: str) -> None:
    st.session_state["admin_flash"] = message


def _show_flash() -> None:
    message = st.session_state.pop("admin_flash", None)
    if message:
        st.success(message, icon=":material/check_circle:")


def _wall(day: date | None, clock_time: time | None) -> str | None:
    if day is None or clock_time is None:
        return None
    return f"{day:%Y-%m-%d} {clock_time:%H:%M}"


def _time_problem(wall: str, zone: str) -> str | None:
    """None when the time exists once; ``"twice"`` when it happens twice; else a message."""
    try:
        local_to_utc(wall, zone)
        return None
    except InputError:
        pass
    try:
        local_to_utc(wall, zone, 0)  # succeeds only for a time that happens twice
        return "twice"
    except InputError:
        return _(
            "{time} doesn't exist in {zone}: the clocks go forward then. Choose another time."
        ).format(time=wall, zone=zone)


def _save_upload(upload: Any) -> str | None:
    """A poster upload as a temporary file for the library to check and store."""
    if upload is None:
        return None
    settings.ensure()
    suffix = Path(upload.name or "poster").suffix.lower()[:8]
    with tempfile.NamedTemporaryFile(
        dir=settings.tmp_dir, prefix="poster-", suffix=suffix, delete=False
    ) as fh:
        fh.write(upload.getvalue())
    return fh.name


def _speakers(text: str) -> list[str]:
    for sep in ("、", "\n", ";", "；", "，"):
        text = text.replace(sep, ",")
    return [s.strip() for s in text.split(",") if s.strip()]


def _run(action: dict[str, Any], fold: int | None = None) -> Event | None:
    """Call the library for a checked form; on a time that happens twice, ask which."""
    if ui_staff.live_staff(t, who) is None:  # the session as it is now, not at page load
        return None
    kind, values = action["kind"], dict(action["values"])
    if kind in ("create", "edit"):
        # A start already over is saved only once staff said so (the confirmation below).
        values["refuse_past"] = not action.get("confirmed")
        if kind == "create" and action.get("confirmed") and action.get("past"):
            values["held"] = True  # it took place: recorded as held, not announced as to come
    poster = values.get("poster")
    try:
        if kind == "create":
            event = create_event(settings, cat, fold=fold, **values)
        elif kind == "edit":
            event = update_event(settings, cat, action["event_id"], fold=fold, **values)
        else:
            event = postpone_event(cat, action["event_id"], values["start"], fold=fold)
    except InputError as exc:
        if (
            fold is None
            and values.get("start")
            and values.get("tz")
            and _time_problem(values["start"], values["tz"]) == "twice"
        ):
            st.session_state["admin_pending"] = action
            return None
        st.error(_("The event was not saved: please check the form."), icon=":material/error:")
        st.caption(md(str(exc)))
        return None
    except ArchiveError as exc:
        st.error(ui.error_message(t, exc), icon=":material/error:")
        return None
    if poster:
        Path(poster).unlink(missing_ok=True)
    st.session_state.pop("admin_pending", None)
    return event


def _done(event: Event, message: str) -> None:
    _flash(message)
    st.switch_page(ui.PAGES["events_admin"], query_params={"event": event.id, "lang": t.lang})


def _ask_fold() -> None:
    """A time that happens twice: which one? (The form's values wait in the session.)"""
    pending = st.session_state.get("admin_pending")
    here = (st.query_params.get("event") or "").strip() or None
    if not pending or pending.get("event_id") != here:  # asked on another event's page
        return
    wall, zone = pending["values"]["start"], pending["values"]["tz"]
    firsts = [local_to_utc(wall, zone, fold) for fold in (0, 1)]
    labels = [
        format_time(moment, "full", tzinfo=ZoneInfo(zone), locale=t.locale) for moment in firsts
    ]
    with st.container(border=True, key="admin_fold_box"):
        st.warning(
            _(
                "{time} happens twice in {zone}: the clocks go back that night. Which one do you mean?"
            ).format(time=wall, zone=zone),
            icon=":material/help:",
        )
        fold = st.radio(
            _("Which time"),
            (0, 1),
            format_func=lambda f: (
                _("The first, {time}") if f == 0 else _("The second, {time}")
            ).format(time=labels[f]),
            key="admin_fold",
            index=None,
        )
        row = st.container(horizontal=True, gap="small")
        with row:
            confirm = st.button(_("Save with this time"), key="admin_fold_ok", type="primary")
            drop = st.button(_("Change the time"), key="admin_fold_cancel")
    if drop:
        st.session_state.pop("admin_pending", None)
        st.rerun()
    if confirm:
        if fold is None:
            st.error(_("Choose one of the two times."))
            return
        event = _run(pending, fold=fold)
        if event is not None:
            done = {
                "create": _("The event is announced."),
                "postpone": _("The event is postponed."),
            }
            _done(event, done.get(pending["kind"], _("The event is saved.")))


def _submit(action: dict[str, Any], twice: bool, warnings: list[str], done: str) -> None:
    """Save a checked form, or first ask which time (``twice``) or for a confirmation."""
    if twice and "start" in action["values"]:
        st.session_state["admin_pending"] = action
    elif warnings:
        st.session_state["admin_confirm"] = {**action, "warnings": warnings}
    else:
        saved = _run(action)
        if saved is not None:
            _done(saved, done)


def _ask_confirm() -> None:
    """A past start or a wider audience: said in words, saved only on an explicit yes."""
    pending = st.session_state.get("admin_confirm")
    here = (st.query_params.get("event") or "").strip() or None
    if not pending or pending.get("event_id") != here:  # asked on another event's page
        return
    with st.container(border=True, key="admin_confirm_box"):
        for warning in pending["warnings"]:
            st.warning(warning, icon=":material/warning:")
        row = st.container(horizontal=True, gap="small")
        with row:
            confirm = st.button(
                _("Yes, record it as a past event")
                if pending["kind"] == "create" and pending.get("past")
                else _("Yes, save it"),
                key="admin_confirm_ok",
                type="primary",
            )
            drop = st.button(_("No, go back to the form"), key="admin_confirm_cancel")
    if drop:
        st.session_state.pop("admin_confirm", None)
        st.rerun()
    if confirm:
        action = {k: v for k, v in pending.items() if k != "warnings"} | {"confirmed": True}
        event = _run(action)
        if event is not None:
            st.session_state.pop("admin_confirm", None)
            if pending["kind"] == "create":
                message = (
                    _("The past event is recorded.")
                    if pending.get("past")
                    else _("The event is announced.")
                )
            else:
                message = _("The event is saved.")
            _done(event, message)


def _warnings(current: Event | None, values: dict[str, Any], start_past: bool) -> list[str]:
    """What staff must confirm before this form is saved: a start already over, a wider audience."""
    warnings = []
    if start_past:
        wall, zone = values["start"], values["tz"]
        warnings.append(
            (
                _(
                    "{time} ({zone}) is in the past. An announcement is for an event to come: "
                    "saved, it is listed as already over and nobody can join it. If it did take "
                    "place, record it as a past event; if not, go back and correct the date."
                )
                if current is None
                else _(
                    "The new start, {time} ({zone}), is in the past: the event will be listed as "
                    "already over. Go back and correct the date unless that is what you mean."
                )
            ).format(time=wall, zone=zone)
        )
    before = current.visibility if current is not None else None
    after = values.get("visibility")
    if before is not None and VISIBILITIES.index(after) > VISIBILITIES.index(before):
        warnings.append(
            _("You are widening who can see this event, from {old} to {new}.").format(
                old=_(VISIBILITY_HELP[before]), new=_(VISIBILITY_HELP[after])
            )
            + " "
            + _(WIDER_MEANS[after])
        )
    return warnings


def _event_form(prefix: str, current: Event | None) -> dict[str, Any] | None:
    """The announcement form (new or edit); returns checked values for the library, or None."""
    series = list_series(cat)
    series_ids = [s.id for s in series]
    titles = {s.id: hub_ui.series_title(t, s) for s in series}
    zones = hub_ui.zone_options()
    if current is not None:
        local = current.local_start
        start_day, start_time, zone = local.date(), local.time().replace(tzinfo=None), current.tz
    else:
        start_day = date.today() + timedelta(days=14)
        start_time, zone = time(19, 0), "Europe/London"
    with st.form(f"{prefix}_form", border=True, enter_to_submit=False):
        cols = st.columns(2)
        title_zh = cols[0].text_input(
            _("Title (Chinese)"),
            value=current.title_zh if current else "",
            key=f"{prefix}_title_zh",
        )
        title_en = cols[1].text_input(
            _("Title (English)"),
            value=current.title_en if current else "",
            key=f"{prefix}_title_en",
        )
        description_zh = cols[0].text_area(
            _("Description (Chinese)"),
            value=current.description_zh if current else "",
            key=f"{prefix}_description_zh",
        )
        description_en = cols[1].text_area(
            _("Description (English)"),
            value=current.description_en if current else "",
            key=f"{prefix}_description_en",
        )
        when = st.columns(4)
        day = when[0].date_input(
            _("Date (organiser's)"), value=start_day, key=f"{prefix}_date", format="YYYY-MM-DD"
        )
        clock = when[1].time_input(
            _("Time (organiser's)"), value=start_time, key=f"{prefix}_time", step=300
        )
        tz = when[2].selectbox(
            _("Organiser's time zone"),
            zones,
            index=zones.index(zone) if zone in zones else 0,
            key=f"{prefix}_tz",
            format_func=lambda z: hub_ui.zone_label(z, t.locale),
        )
        minutes = when[3].number_input(
            _("Length (minutes)"),
            min_value=1,
            max_value=7 * 24 * 60,
            value=current.duration_minutes if current else 90,
            step=15,
            key=f"{prefix}_minutes",
        )
        about = st.columns(2)
        languages = about[0].multiselect(
            _("Languages spoken"),
            EVENT_LANGUAGES,
            default=list(current.languages) if current else [],
            format_func=t.language_name,
            key=f"{prefix}_languages",
        )
        speakers = about[1].text_input(
            _("Speakers (separated by commas)"),
            value=", ".join(current.speakers) if current else "",
            key=f"{prefix}_speakers",
        )
        series_id = about[0].selectbox(
            _("Series"),
            series_ids,
            index=series_ids.index(current.series_id)
            if current and current.series_id in series_ids
            else None,
            placeholder=_("No series"),
            format_func=lambda sid: titles.get(sid, sid),
            key=f"{prefix}_series",
        )
        visibility = about[1].selectbox(
            _("Who can see it"),
            VISIBILITIES,
            index=VISIBILITIES.index(current.visibility) if current else 0,
            format_func=lambda v: _(VISIBILITY_HELP[v]),
            key=f"{prefix}_visibility",
        )
        where = st.columns(3)
        place_kind = where[0].radio(
            _("Where"),
            PLACES,
            index=PLACES.index(current.place_kind) if current else 0,
            format_func=lambda p: _(PLACE_LABELS[p]),
            key=f"{prefix}_place",
            horizontal=True,
        )
        city = where[1].text_input(
            _("City (in person)"), value=current.city if current else "", key=f"{prefix}_city"
        )
        venue = where[2].text_input(
            _("Venue (in person)"), value=current.venue if current else "", key=f"{prefix}_venue"
        )
        join_url = st.text_input(
            _("Join or registration link"),
            value=(current.join_url or "") if current else "",
            key=f"{prefix}_join",
            placeholder="https://",
        )
        st.caption(
            _(
                "Members-only events show this link to members only; it is never shown to the public."
            )
        )
        poster = st.file_uploader(
            _("Poster (PNG, JPEG or WebP, up to {size} MB)").format(size=POSTER_MAX_MB),
            type=["png", "jpg", "jpeg", "webp"],
            key=f"{prefix}_poster",
            max_upload_size=POSTER_MAX_MB,
        )
        remove_poster = False
        if current is not None and current.poster_path:
            remove_poster = st.checkbox(_("Remove the poster"), key=f"{prefix}_remove_poster")
        submitted = st.form_submit_button(
            _("Save changes") if current else _("Announce the event"), type="primary"
        )
    if not submitted or ui_staff.live_staff(t, who) is None:
        return None

    problems: list[str] = []
    if not (title_zh.strip() or title_en.strip()):
        problems.append(_("Give the event a title in Chinese, English or both."))
    wall = _wall(day, clock)
    twice = False
    start_past = False
    if wall is None:
        problems.append(_("Give the date and time."))
    else:
        problem = _time_problem(wall, tz)
        twice = problem == "twice"
        if problem and not twice:
            problems.append(problem)
        elif problem is None:
            start_past = start_is_past(local_to_utc(wall, tz))
    if place_kind == "in-person" and not city.strip():
        problems.append(_("An event in person needs a city."))
    try:
        check_join_url(join_url.strip() or None)
    except InputError:
        problems.append(
            _("The join link must be a full web address starting with https:// or http://.")
        )
    poster_file = _save_upload(poster)
    if poster_file:
        too_big = Path(poster_file).stat().st_size > POSTER_MAX_BYTES
        try:
            check_poster(poster_file)
        except InputError:
            Path(poster_file).unlink(missing_ok=True)
            poster_file = None
            problems.append(
                _(
                    "The poster is {size} MB: the limit is {limit} MB. Make it smaller (a JPEG "
                    "or WebP of the same picture usually is) and try again."
                ).format(size=f"{poster.size / 1024**2:.1f}", limit=POSTER_MAX_MB)
                if too_big
                else _(
                    "The poster must be a PNG, JPEG or WebP image of at most {limit} MB."
                ).format(limit=POSTER_MAX_MB)
            )
    if problems:
        if poster_file:
            Path(poster_file).unlink(missing_ok=True)
        for problem in problems:
            st.error(problem, icon=":material/error:")
        return None

    values: dict[str, Any] = {
        "title_zh": title_zh,
        "title_en": title_en,
        "description_zh": description_zh,
        "description_en": description_en,
        "duration_minutes": int(minutes),
        "languages": list(languages),
        "speakers": _speakers(speakers),
        "series_id": series_id or "",
        "place": "online"
        if place_kind == "online"
        else ", ".join(p for p in (city.strip(), venue.strip()) if p),
        "join_url": join_url.strip(),
        "visibility": visibility,
    }
    if current is None:
        values |= {"start": wall, "tz": tz}
        values["join_url"] = values["join_url"] or None
        values["series_id"] = series_id
        if poster_file:
            values["poster"] = poster_file
    else:
        # The time is passed only when it changed: an unchanged time that happens twice stays
        # the one it was.
        if wall != current.local_start.strftime("%Y-%m-%d %H:%M") or tz != current.tz:
            values |= {"start": wall, "tz": tz}
        else:
            start_past = False  # an unchanged start is not asked about again
        if poster_file:
            values["poster"] = poster_file
        elif remove_poster:
            values["remove_poster"] = True
    return {
        "kind": "create" if current is None else "edit",
        "values": values,
        "twice": twice,
        "past": start_past,
        "warnings": _warnings(current, values, start_past),
    }


# -- a new event -------------------------------------------------------------------------------------
event_id = (st.query_params.get("event") or "").strip()
if not event_id:
    st.header(_("New event"), anchor=False)
    st.caption(
        _(
            "Write the announcement once, in both languages. The time is the organiser's: "
            "every viewer sees it in their own time zone too."
        )
    )
    _show_flash()
    checked = _event_form("new", None)
    if checked is not None:
        action = {
            "kind": "create",
            "values": checked["values"],
            "event_id": None,
            "past": checked["past"],
        }
        _submit(action, checked["twice"], checked["warnings"], _("The event is announced."))
    _ask_fold()
    _ask_confirm()
    st.stop()

# -- one event ----------------------------------------------------------------------------------------
try:
    event = get_event(cat, event_id)
except NotFoundError:
    st.error(_("We couldn't find that event. It may have been moved, or it isn't public."))
    st.stop()

st.header(_("Manage: {title}").format(title=md(hub_ui.event_title(t, event))), anchor=False)
st.markdown(
    hub_ui.event_badges_html(t, event) + hub_ui.event_times_html(t, event, hub_ui.viewer_tz(t)),
    unsafe_allow_html=True,
)
top = st.container(horizontal=True, gap="medium", key="admin_links")
with top:
    st.page_link(
        ui.PAGES["event"],
        label=_("View the event page"),
        icon=":material/visibility:",
        query_params={"event": event.id, "lang": t.lang},
    )
    st.page_link(
        ui.PAGES["events_admin"],
        label=_("New event"),
        icon=":material/add_circle:",
        query_params={"lang": t.lang},
    )
_show_flash()

edit_tab, postpone_tab, status_tab, recording_tab = st.tabs(
    [_("Edit"), _("Postpone"), _("Cancel or mark held"), _("Recording")]
)
prefix = f"edit_{event.id}_{event.sequence}"
with edit_tab:
    checked = _event_form(prefix, event)
    if checked is not None:
        action = {
            "kind": "edit",
            "values": checked["values"],
            "event_id": event.id,
            "past": checked["past"],
        }
        _submit(action, checked["twice"], checked["warnings"], _("The event is saved."))
    _ask_confirm()

with postpone_tab:
    if event.status in ("cancelled", "held"):
        st.caption(_("A cancelled event, or one that took place, cannot be postponed."))
    else:
        later = event.local_start + timedelta(days=7)
        with st.form(f"postpone_{event.id}_{event.sequence}", border=True):
            cols = st.columns(2)
            new_day = cols[0].date_input(
                _("New date (organiser's)"),
                value=later.date(),
                key=f"postpone_date_{event.sequence}",
                format="YYYY-MM-DD",
            )
            new_time = cols[1].time_input(
                _("New time (organiser's)"),
                value=later.time().replace(tzinfo=None),
                key=f"postpone_time_{event.sequence}",
                step=300,
            )
            st.caption(_("In the organiser's time zone, {zone}.").format(zone=event.tz))
            postpone = st.form_submit_button(_("Postpone the event"), type="primary")
        if postpone:
            wall = _wall(new_day, new_time)
            problem = _time_problem(wall, event.tz) if wall else _("Give the date and time.")
            if problem and problem != "twice":
                st.error(problem, icon=":material/error:")
            elif problem is None and local_to_utc(wall, event.tz) <= event.start:
                st.error(
                    _(
                        "A postponed event must move to a later time. To correct the time, edit "
                        "the event instead."
                    ),
                    icon=":material/error:",
                )
            else:
                action = {
                    "kind": "postpone",
                    "values": {"start": wall, "tz": event.tz},
                    "event_id": event.id,
                }
                if problem == "twice":
                    st.session_state["admin_pending"] = action
                else:
                    moved = _run(action)
                    if moved is not None:
                        _done(moved, _("The event is postponed."))

with status_tab:
    if event.status == "cancelled":
        st.caption(_("This event has been cancelled."))
    else:
        confirm = st.checkbox(
            _("Yes, cancel this event (calendars that have it will drop it)"),
            key=f"cancel_confirm_{event.id}",
            disabled=event.status == "held",
        )
        row = st.container(horizontal=True, gap="small")
        with row:
            cancel = st.button(
                _("Cancel the event"),
                key=f"cancel_{event.id}",
                disabled=event.status == "held" or not confirm,
            )
            held = st.button(
                _("Mark as held"), key=f"hold_{event.id}", disabled=event.status == "held"
            )
        try:
            if (cancel or held) and ui_staff.live_staff(t, who) is None:
                pass  # refused, and said so
            elif cancel:
                _done(cancel_event(cat, event.id), _("The event is cancelled."))
            elif held:
                _done(hold_event(cat, event.id), _("The event is marked as held."))
        except ArchiveError as exc:
            st.error(ui.error_message(t, exc), icon=":material/error:")
            st.caption(md(str(exc)))

with recording_tab:
    recording_form(t, who, cat, settings, event, _done)

_ask_fold()
