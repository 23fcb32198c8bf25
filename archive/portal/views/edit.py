"""Staff: correct a transcript while listening, mark it reviewed, redact words, sentences or
spans, set who may see the recording.

URL: ``/edit?item=ID&p=PAGE``. The transcript is shown a page of segments at a time (a two-hour
talk has 1,500). Changes typed on any page are kept until *Save*, which stores them all as one new
revision (:func:`archive.workspace.editing.apply_edits`, author and time recorded; older revisions stay
citable). Saving checks that nobody else saved since this page loaded the transcript; if someone
did, nothing is overwritten. Split and merge save at once, together with anything still unsaved.
Redactions and visibility are not revisions: they apply at once and go into the audit log.

The player above the transcript (:func:`archive.portal.ui_editor.editor_player`) follows the
segment being edited: the one whose *Listen* was pressed, or whose text field has the focus.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import streamlit as st

from archive.catalog.audit import audit_log
from archive.catalog.models import overlaps
from archive.core.errors import ArchiveError, InputError, NotFoundError
from archive.core.text_safety import md
from archive.jobs.queue import enqueue
from archive.portal import ui, ui_disclosure, ui_editor, ui_speakers, ui_staff
from archive.portal.i18n import N_, clock
from archive.workspace.disclosure import speaker_name_warnings
from archive.workspace.editing import (
    MIN_PART_SECONDS,
    EditText,
    MarkReviewed,
    Merge,
    RenameSpeaker,
    ReplaceText,
    SetSpeaker,
    Split,
    apply_edits,
    revision_history,
)
from archive.workspace.visibility import (
    list_redactions,
    redact,
    redact_segment,
    redact_words,
    set_visibility,
    span_label,
    unredact,
)

t = ui.page_i18n()
_ = t._
who = ui_staff.require_staff(t)
cat = ui.catalog()
settings = ui.settings()
actor = who.username or "staff"

PAGE_SIZE = 25
FIELDS = ("text_zh", "text_en", "speaker", "reviewed")
AUDIT_ACTIONS = {
    "visibility": N_("Visibility changed"),
    "embargo-lifted": N_("Embargo ended"),
    "redact": N_("Segment redacted"),
    "unredact": N_("Redaction removed"),
    "withhold-speaker": N_("Speaker's name withheld"),
    "unwithhold-speaker": N_("Speaker named again"),
    "source-public": N_("Source link shown or hidden"),
    "speaker-set": N_("Speaker set"),
    "speaker-rename": N_("Speaker renamed"),
    "speaker-merge": N_("Speakers merged"),
}
OP_LABELS = {
    "text": N_("Text edited"),
    "replace": N_("Text replaced"),
    "split": N_("Segment split"),
    "merge": N_("Segments merged"),
    "speaker": N_("Speaker set"),
    "rename-speaker": N_("Speaker renamed"),
    "merge-speakers": N_("Speakers merged"),
    "reviewed": N_("Review mark"),
}


# -- which item ---------------------------------------------------------------------------------
item_id = (st.query_params.get("item") or "").strip()
if not item_id:
    st.header(_("Edit transcripts"), anchor=False)
    find = st.text_input(_("Find a recording by title or id"), key="edit_pick_find").strip().lower()
    items = cat.list_items(role="staff")
    if find:
        items = [
            i for i in items if find in (i.title_zh or "").lower() or find in (i.title_en or "").lower()
            or find in i.id
        ]  # fmt: skip
    items = sorted(items, key=lambda i: i.created_at or "", reverse=True)[:100]
    if not items:
        st.info(_("No recordings match."), icon=":material/search_off:")
    for item in items:
        st.page_link(
            ui_staff.STAFF_PAGES["edit"],
            label=f"{md(t.pick(item.title_zh, item.title_en) or item.id)} · "
            f"{ui_staff.visibility_label(t, item.effective_visibility())}",
            icon=":material/edit_note:",
            query_params={"item": item.id, "lang": t.lang},
        )
    st.stop()

item = cat.find_item(item_id)
if item is None:
    st.error(
        _("There is no recording with the id {id}.").format(id=md(item_id)), icon=":material/error:"
    )
    st.stop()

# -- the revision this page edits ----------------------------------------------------------------
BASE_KEY = f"edit_base_{item_id}"
PENDING_KEY = f"edit_pending_{item_id}"
latest = cat.latest_revision_number(item_id)
if st.session_state.get(BASE_KEY) is None or st.session_state.get(BASE_KEY) > (latest or 0):
    st.session_state[BASE_KEY] = latest
base: int | None = st.session_state[BASE_KEY]
pending: dict[str, dict[str, Any]] = st.session_state.setdefault(PENDING_KEY, {})
rev = cat.get_revision(item_id, base) if base else None
segments = list(rev.segments) if rev is not None else []
by_uid = {s.uid: s for s in segments}
# Redactions are spans of the recording: a segment overlapping one is hidden below staff.
redactions = list_redactions(cat, item_id)


WARNINGS_KEY = "edit_speaker_warnings"


def _notice(kind: str, text: str) -> None:
    st.session_state["edit_notice"] = (kind, text)


def _original(uid: str, field: str) -> Any:
    return getattr(by_uid[uid], field)


def _remember(uid: str, field: str, key: str) -> None:
    """Widget callback: keep a typed change until Save (it survives turning the page)."""
    value = st.session_state.get(key)
    changes = pending.setdefault(uid, {})
    if value == _original(uid, field):
        changes.pop(field, None)
    else:
        changes[field] = value
    if not changes:
        pending.pop(uid, None)


def _pending_edits() -> list[Any]:
    edits: list[Any] = []
    for uid, changes in pending.items():
        if uid not in by_uid:
            continue
        if "text_zh" in changes or "text_en" in changes:
            edits.append(
                EditText(uid, text_zh=changes.get("text_zh"), text_en=changes.get("text_en"))
            )
        if "speaker" in changes:
            edits.append(SetSpeaker(uid, str(changes["speaker"])))
        if "reviewed" in changes:
            edits.append(MarkReviewed(uid, bool(changes["reviewed"])))
    return edits


@ui_staff.staff_callback(t, who)  # checked when it runs, not at the last run
def _save(extra: list[Any] | None = None, summary: str | None = None) -> None:
    """Store every unsaved change (plus a split or merge) as one new revision."""
    edits = _pending_edits() + list(extra or [])
    if not edits:
        _notice("info", _("There is nothing to save."))
        return
    notices: list[str] = []
    try:
        saved = apply_edits(
            cat, settings, item_id, edits, author=actor, base_revision=base or 0,
            summary=summary, notices=notices,
        )  # fmt: skip
    except InputError as exc:
        moved = cat.latest_revision_number(item_id)
        if moved != base:
            _notice(
                "error",
                _(
                    "Someone else saved revision {n} while you were editing. Nothing was overwritten: "
                    "use “Load the latest revision”, then make your changes again."
                ).format(n=moved),
            )
        else:
            _notice(
                "error", _("That change could not be saved: {reason}").format(reason=md(str(exc)))
            )
        return
    except ArchiveError as exc:
        _notice("error", ui.error_message(t, exc))
        return
    pending.clear()
    if saved.revision == base:
        _notice("info", _("Nothing changed, so no new revision was made."))
        return
    st.session_state[BASE_KEY] = saved.revision
    _notice("success", _("Saved as revision {n}.").format(n=saved.revision))
    # A renamed withheld speaker stays withheld (said here); a new name close to a name another
    # item withholds is for staff to judge.
    named = [e.speaker for e in edits if isinstance(e, SetSpeaker)]
    named += [e.new for e in edits if isinstance(e, RenameSpeaker)]
    st.session_state[WARNINGS_KEY] = [
        _("Withholding kept: {text}").format(text=n) for n in notices
    ] + [
        _("Check this name: {text}").format(text=w)
        for w in speaker_name_warnings(cat, item_id, named)
    ]


def _load_latest() -> None:
    pending.clear()
    st.session_state[BASE_KEY] = cat.latest_revision_number(item_id)


def _split(uid: str, key: str) -> None:
    _save([Split(uid, float(st.session_state.get(key) or 0))])


def _merge(uid: str, next_uid: str) -> None:
    _save([Merge(uid, next_uid)])


def _silence_later() -> None:
    # The silenced public copy is rebuilt by the worker (ffmpeg on a long recording takes a
    # while); until then the media route builds it on first request, never serving the original.
    job = cat.create_job(
        "public-media", payload={"item_id": item_id}, item_id=item_id, created_by=actor
    )
    enqueue(settings, job)


@ui_staff.staff_callback(t, who)  # checked when it runs, not at the last run
def _redact(uid: str, key: str) -> None:
    # The span of the segment as this page shows it (the revision being edited).
    seg = by_uid[uid]
    try:
        redact(cat, settings, item_id, start=seg.start, end=seg.end, actor=actor, origin_uid=uid,
               reason=st.session_state.get(key) or "", rebuild_media=False)  # fmt: skip
        _silence_later()
        _notice("success", _("Redacted. Only staff can read or hear this segment now."))
    except ArchiveError as exc:
        _notice("error", _("That change could not be saved: {reason}").format(reason=md(str(exc))))


@ui_staff.staff_callback(t, who)  # checked when it runs, not at the last run
def _redact_words(uid: str, key: str, reason_key: str) -> None:
    try:
        redact_words(cat, settings, item_id, uid=uid, text=st.session_state.get(key) or "",
                     actor=actor, reason=st.session_state.get(reason_key) or "",
                     rebuild_media=False)  # fmt: skip
        _silence_later()
        _notice("success", _("Redacted. Below staff these words are masked; the rest stays."))
    except ArchiveError as exc:
        _notice("error", _("That change could not be saved: {reason}").format(reason=md(str(exc))))


@ui_staff.staff_callback(t, who)  # checked when it runs, not at the last run
def _redact_span() -> None:
    """The Visibility tab's "Redact" form: some words of a segment, all of it, or a time range."""
    get = st.session_state.get
    if not get("red_confirm"):
        _notice("error", _("Tick the box to confirm the redaction first. Nothing was redacted."))
        return
    uid, mode, reason = get("red_segment"), get("red_mode") or "words", get("red_reason") or ""
    common: dict[str, Any] = {"actor": actor, "reason": reason, "rebuild_media": False}
    try:
        if mode == "words":
            also = [get("red_also")] if (get("red_also") or "").strip() else []
            redact_words(cat, settings, item_id, uid=uid, text=get("red_words") or "", also=also,
                         **common)  # fmt: skip
            done = _("Redacted. Below staff these words are masked; the rest stays.")
        elif mode == "time":
            redact(cat, settings, item_id, start=get("red_from"), end=get("red_to"), **common)
            done = _("Redacted. Only staff can read or hear this span now.")
        else:
            redact_segment(cat, settings, item_id, uid=uid, **common)
            done = _("Redacted. Only staff can read or hear this segment now.")
    except ArchiveError as exc:
        _notice("error", _("That change could not be saved: {reason}").format(reason=md(str(exc))))
        return
    _silence_later()
    st.session_state["red_confirm"] = False
    st.session_state["red_form_open"] = False
    _notice("success", done)


LINE_KEY = f"edit_line_{item_id}"


def _listen(uid: str) -> None:
    """A segment's *Listen*: the player moves to it and plays it."""
    _line_uid, n, _play = st.session_state.get(LINE_KEY) or (None, 0, False)
    st.session_state[LINE_KEY] = (uid, n + 1, True)


def _open_redact_form() -> None:
    st.session_state["red_form_open"] = not st.session_state.get("red_form_open")


@ui_staff.staff_callback(t, who)  # checked when it runs, not at the last run
def _unredact(redaction_id: int) -> None:
    try:
        unredact(cat, settings, item_id, redaction_id, actor=actor, rebuild_media=False)
        _silence_later()
        _notice("success", _("The redaction was removed."))
    except ArchiveError as exc:
        _notice("error", _("That change could not be saved: {reason}").format(reason=md(str(exc))))


def _replace() -> None:
    old, new = (
        st.session_state.get("edit_replace_old", ""),
        st.session_state.get("edit_replace_new", ""),
    )
    track = st.session_state.get("edit_replace_track")
    _save([ReplaceText(old, new, None if track == "both" else track)])


def _rename() -> None:
    _save(
        [
            RenameSpeaker(
                st.session_state.get("edit_rename_old", ""),
                st.session_state.get("edit_rename_new", ""),
            )
        ]
    )


# -- header -----------------------------------------------------------------------------------------
st.header(md(t.pick(item.title_zh, item.title_en) or item.id), anchor=False)
st.caption(
    _("{id} · {visibility} · editing revision {rev} (latest {latest})").format(
        id=item.id,
        visibility=ui_staff.visibility_text(
            t, item.visibility, item.embargo_until, item.embargo_visibility
        ),
        rev=base or "–",
        latest=latest or "–",
    )
)
st.page_link(
    ui.PAGES["item"], label=_("Open the recording page"), icon=":material/play_circle:",
    query_params={"item": item_id, "lang": t.lang},
)  # fmt: skip
notice = st.session_state.pop("edit_notice", None)
if notice:
    {"success": st.success, "error": st.error, "info": st.info}.get(notice[0], st.info)(notice[1])
for warning in st.session_state.pop(WARNINGS_KEY, None) or ():
    st.warning(md(warning), icon=":material/person_off:")  # names are outside text: escaped
if latest and base and latest != base:
    st.warning(
        _("Revision {n} was saved by someone else after you opened this transcript.").format(
            n=latest
        ),
        icon=":material/sync_problem:",
    )
    st.button(_("Load the latest revision"), key="edit_load_latest", on_click=_load_latest,
              help=_("Unsaved changes on this page will be dropped."))  # fmt: skip

# Keyed: the tab open stays open through a widget's rerun (the Visibility tab's choices rerun).
transcript_tab, visibility_tab, history_tab = st.tabs(
    [_("Transcript"), _("Visibility and redactions"), _("Revisions and audit log")], key="edit_tab"
)

# -- transcript -----------------------------------------------------------------------------------------
with transcript_tab:
    if rev is None:
        st.info(
            _(
                "This recording has no transcript yet. If it is being transcribed, see the Jobs page."
            )
        )
    else:
        tools = st.container(
            horizontal=True, vertical_alignment="bottom", gap="small", key="edit_tools"
        )
        with tools:
            find = st.text_input(_("Find in the transcript"), key="edit_find", width=260).strip()
            only_open = st.checkbox(_("Only segments not yet reviewed"), key="edit_only_open")
            with st.popover(_("Correct a name everywhere"), icon=":material/find_replace:"):
                st.text_input(_("Replace"), key="edit_replace_old")
                st.text_input(_("With"), key="edit_replace_new")
                st.segmented_control(
                    _("In"), ("both", "zh", "en"), key="edit_replace_track", default="both", required=True,
                    format_func=lambda v: {"both": _("Both"), "zh": _("Chinese"), "en": _("English")}[v],
                )  # fmt: skip
                st.button(
                    _("Replace everywhere and save"), key="edit_replace_go", on_click=_replace
                )
                st.divider()
                speakers = sorted({s.speaker for s in segments if s.speaker})
                st.selectbox(_("Speaker name"), speakers or [""], key="edit_rename_old")
                st.text_input(_("Rename to"), key="edit_rename_new")
                st.button(_("Rename everywhere and save"), key="edit_rename_go", on_click=_rename)

        ui_speakers.speakers_section(
            t, item=item, segments=segments, base=base, save=_save, listen=_listen, notify=_notice
        )
        shown = [
            (i, s) for i, s in enumerate(segments)
            if (not only_open or not s.reviewed)
            and (not find or find.lower() in f"{s.text_zh}\n{s.text_en}\n{s.speaker}".lower())
        ]  # fmt: skip
        pages = max(1, -(-len(shown) // PAGE_SIZE))
        try:
            wanted = int(st.query_params.get("p") or 1)
        except ValueError:
            wanted = 1
        page_no = min(max(1, wanted), pages)
        on_page = [s for _i, s in shown[(page_no - 1) * PAGE_SIZE : page_no * PAGE_SIZE]]
        # The player: the staff media (the file route checks the viewer again on each request),
        # on the segment being edited (the last *Listen*, else the first on this page).
        line_uid, line_n, line_play = st.session_state.get(LINE_KEY) or (None, 0, False)
        line = by_uid.get(line_uid) or (on_page[0] if on_page else None)
        media = ui.playable_media(cat, item_id)
        st.html(ui_editor.PLAYER_BOX_CSS)
        with st.container(key="edit_player_box"):
            ui_editor.editor_player(
                t, key=f"edit_player_{item_id}",
                src=ui.signed_media_url(item_id, media.role) if media else None,
                kind="video" if media and media.has_video else "audio",
                segments=on_page, line=line, line_n=line_n, play=line_play,
            )  # fmt: skip
            st.caption(ui_editor.shortcuts_help(t))
        nav_row = st.container(
            horizontal=True, vertical_alignment="center", gap="small", key="edit_pager"
        )
        with nav_row:
            st.caption(
                t.ngettext(
                    "{n} segment · page {page} of {pages}",
                    "{n} segments · page {page} of {pages}",
                    len(shown),
                ).format(n=t.number(len(shown)), page=page_no, pages=pages),
                width="content",
            )
            if page_no > 1:
                st.page_link(ui_staff.STAFF_PAGES["edit"], label=_("Previous"), icon=":material/chevron_left:",
                             query_params={"item": item_id, "p": str(page_no - 1), "lang": t.lang})  # fmt: skip
            if page_no < pages:
                st.page_link(ui_staff.STAFF_PAGES["edit"], label=_("Next"), icon=":material/chevron_right:",
                             query_params={"item": item_id, "p": str(page_no + 1), "lang": t.lang})  # fmt: skip
            st.space("stretch")
            count = sum(len(c) for c in pending.values())
            if count:
                st.caption(t.ngettext("{n} unsaved change", "{n} unsaved changes", count).format(n=count),
                           width="content")  # fmt: skip
            st.button(_("Save"), key="edit_save_top", type="primary", on_click=_save, icon=":material/save:",
                      disabled=not count)  # fmt: skip

        for index, seg in shown[(page_no - 1) * PAGE_SIZE : page_no * PAGE_SIZE]:
            uid = seg.uid
            mine = pending.get(uid, {})
            covering = [r for r in redactions if overlaps(seg.start, seg.end, r.start, r.end)]
            is_redacted = bool(covering)
            with st.container(border=True, key=f"seg_{uid}"):
                head = st.container(horizontal=True, vertical_alignment="center", gap="small")
                with head:
                    badge = (
                        _("Redacted") if any(not r.texts for r in covering) else _("Words redacted")
                    )
                    st.markdown(
                        f"`{clock(seg.start)}–{clock(seg.end)}`"
                        + (f" 🔒 **{md(badge)}**" if is_redacted else ""),
                        width="content",
                    )
                    st.button(
                        _("Listen"), key=f"ed_listen_{uid}", on_click=_listen, args=(uid,),
                        icon=":material/headphones:", help=_("Play this segment in the player"),
                    )  # fmt: skip
                    key = f"ed_speaker_{base}_{uid}"
                    st.text_input(
                        _("Speaker"), value=mine.get("speaker", seg.speaker), key=key, width=220,
                        label_visibility="collapsed", placeholder=_("Speaker"),
                        on_change=_remember, args=(uid, "speaker", key),
                    )  # fmt: skip
                    key = f"ed_reviewed_{base}_{uid}"
                    st.checkbox(
                        _("Reviewed"), value=bool(mine.get("reviewed", seg.reviewed)), key=key,
                        on_change=_remember, args=(uid, "reviewed", key),
                    )  # fmt: skip
                    st.space("stretch")
                    with st.popover(_("More"), icon=":material/more_horiz:"):
                        low, high = seg.start + MIN_PART_SECONDS, seg.end - MIN_PART_SECONDS
                        if high > low:
                            key = f"ed_split_at_{base}_{uid}"
                            st.number_input(
                                _("Split at (seconds)"), min_value=float(round(low, 2)),
                                max_value=float(round(high, 2)), value=float(round((seg.start + seg.end) / 2, 2)),
                                step=0.1, key=key, format="%.2f",
                            )  # fmt: skip
                            st.button(_("Split here and save"), key=f"ed_split_{base}_{uid}", on_click=_split,
                                      args=(uid, key))  # fmt: skip
                        if index + 1 < len(segments):
                            st.button(_("Merge with the next segment and save"), key=f"ed_merge_{base}_{uid}",
                                      on_click=_merge, args=(uid, segments[index + 1].uid))  # fmt: skip
                        st.divider()
                        if is_redacted:
                            for r in covering:
                                st.caption(
                                    _("Redacted {span}").format(span=span_label(r.start, r.end))
                                )
                                if r.reason:
                                    st.caption(_("Reason: {reason}").format(reason=md(r.reason)))
                                st.button(_("Remove the redaction"), key=f"ed_unredact_{r.id}_{uid}",
                                          on_click=_unredact, args=(r.id,))  # fmt: skip
                        if not any(not r.texts for r in covering):
                            key = f"ed_reason_{uid}"
                            st.text_input(_("Why (staff only)"), key=key, max_chars=500)
                            st.button(_("Redact this segment"), key=f"ed_redact_{uid}", on_click=_redact,
                                      args=(uid, key), icon=":material/visibility_off:")  # fmt: skip
                            words_key = f"ed_words_{uid}"
                            st.text_input(
                                _("Or only these words (exactly as in the text)"), key=words_key
                            )
                            st.button(_("Redact these words"), key=f"ed_redact_words_{uid}",
                                      on_click=_redact_words, args=(uid, words_key, key))  # fmt: skip
                cols = st.columns(2)
                key = f"ed_zh_{base}_{uid}"
                cols[0].text_area(
                    _("Chinese"), value=mine.get("text_zh", seg.text_zh), key=key, height="content",
                    on_change=_remember, args=(uid, "text_zh", key),
                )  # fmt: skip
                key = f"ed_en_{base}_{uid}"
                cols[1].text_area(
                    _("English") + (f" ({_('machine translation')})" if seg.en_machine else ""),
                    value=mine.get("text_en", seg.text_en), key=key, height="content",
                    on_change=_remember, args=(uid, "text_en", key),
                )  # fmt: skip

        if shown:
            bottom = st.container(
                horizontal=True, vertical_alignment="center", gap="small", key="edit_bottom"
            )
            with bottom:
                st.text_input(
                    _("What you changed (optional)"), key="edit_summary", max_chars=500, width=400
                )
                st.space("stretch")
                st.button(
                    _("Save"), key="edit_save", type="primary", icon=":material/save:",
                    on_click=lambda: _save(summary=st.session_state.get("edit_summary") or None),
                )  # fmt: skip
        else:
            st.info(_("No segments match."), icon=":material/search_off:")


# -- visibility ---------------------------------------------------------------------------------------
line_uid_for_form = (st.session_state.get(LINE_KEY) or (None,))[0]


VIS_PENDING = "vis_pending"  # a widening change waiting for its second, explicit step


def _chosen_visibility() -> dict[str, object]:
    embargo = bool(st.session_state.get("vis_embargo"))
    until = st.session_state.get("vis_until")
    return {
        "level": st.session_state.get("vis_level"),
        "embargo_until": until.isoformat() if embargo and isinstance(until, date) else None,
        "embargo_visibility": st.session_state.get("vis_then") if embargo else None,
    }


def _widening_text(chosen: dict[str, object]) -> str | None:
    """What the change would mean, when it lets more people see the recording now or on the
    embargo's date; None when it narrows or keeps the audience."""
    level = str(chosen["level"])
    now = ui_staff.widening_warning(t, item.visibility, level)
    later = (
        ui_staff.widening_warning(t, item.visibility, str(chosen["embargo_visibility"]))
        if chosen["embargo_visibility"]
        else None
    )
    if now:
        return now
    if later:
        return later + " " + _("This happens on the embargo's date, without anyone acting.")
    return None


@ui_staff.staff_callback(t, who)  # checked when it runs, not at the last run
def _save_visibility(chosen: dict[str, object]) -> None:
    st.session_state.pop(VIS_PENDING, None)
    try:
        set_visibility(
            cat, settings, item_id, str(chosen["level"]), actor=actor,
            embargo_until=chosen["embargo_until"], embargo_visibility=chosen["embargo_visibility"],
        )  # fmt: skip
    except InputError:
        _notice(
            "error",
            _(
                "An embargo needs a date in the future and a wider level to open to (for example Staff only, then Public)."
            ),
        )
        return
    except ArchiveError as exc:
        _notice("error", ui.error_message(t, exc))
        return
    _notice("success", _("Visibility saved."))


def _request_visibility() -> None:
    """Save a change that narrows the audience at once; one that widens it waits for a second,
    explicit step that says what it means (anyone on the internet, or every member)."""
    chosen = _chosen_visibility()
    if _widening_text(chosen):
        st.session_state[VIS_PENDING] = chosen
        return
    _save_visibility(chosen)


def _cancel_visibility() -> None:
    st.session_state.pop(VIS_PENDING, None)


with visibility_tab:
    st.markdown(
        _("Now: **{visibility}**").format(
            visibility=ui_staff.visibility_text(
                t, item.visibility, item.embargo_until, item.embargo_visibility
            )
        )
    )
    levels = ("public", "members", "staff")
    vis_pending = st.session_state.get(VIS_PENDING)
    with st.container(border=True):
        # No st.form: the embargo's date and level show only once the embargo is ticked, which
        # needs the page to run again when the box changes.
        st.radio(
            _("Who may see this recording"), levels, index=levels.index(item.visibility), key="vis_level",
            format_func=lambda v: ui_staff.visibility_label(t, v), horizontal=True,
            disabled=bool(vis_pending),
        )  # fmt: skip
        st.checkbox(
            _("Open it wider on a date (embargo)"),
            value=bool(item.embargo_until),
            key="vis_embargo",
            disabled=bool(vis_pending),
        )
        if st.session_state.get("vis_embargo"):
            tomorrow = datetime.now(UTC).date() + timedelta(days=1)
            current_until = None
            if item.embargo_until:
                try:
                    current_until = date.fromisoformat(item.embargo_until[:10])
                except ValueError:
                    current_until = None
            st.date_input(
                _("Embargo ends on"), value=max(current_until or tomorrow, tomorrow), min_value=tomorrow,
                key="vis_until", format="YYYY-MM-DD", disabled=bool(vis_pending),
            )  # fmt: skip
            st.radio(
                _("Then visible to"), ("members", "public"), key="vis_then", horizontal=True,
                index=1 if (item.embargo_visibility or "public") == "public" else 0,
                format_func=lambda v: ui_staff.visibility_label(t, v), disabled=bool(vis_pending),
            )  # fmt: skip
        if vis_pending:
            st.warning(_widening_text(vis_pending) or "")
            yes, no = st.columns(2)
            yes.button(
                _("Yes, save it"), key="vis_confirm", type="primary",
                on_click=_save_visibility, args=(vis_pending,),
            )  # fmt: skip
            no.button(_("No, keep it as it is"), key="vis_cancel", on_click=_cancel_visibility)
        else:
            st.button(
                _("Save visibility"), key="vis_save", type="primary", on_click=_request_visibility
            )
    st.subheader(_("Redacted spans"), anchor=False)
    st.button(
        _("Redact"), key="red_open", on_click=_open_redact_form, icon=":material/visibility_off:",
        help=_("Hide some words of a segment, a whole segment or a time range below staff"),
    )  # fmt: skip
    if st.session_state.get("red_form_open"):
        ui_editor.span_redaction_form(t, segments, _redact_span, chosen=line_uid_for_form)
    if not redactions:
        st.caption(_("Nothing in this recording is redacted."))
    else:
        rows = []
        for r in redactions:
            # What the revision being edited says in the span (staff see it to know what is hidden).
            hidden = [s for s in segments if overlaps(s.start, s.end, r.start, r.end)]
            rows.append(
                {
                    _("Id"): r.id,
                    _("Time"): span_label(r.start, r.end),
                    # A text-span redaction hides only its words: those are what it hides.
                    _("Text"): " / ".join(r.texts)
                    if r.texts
                    else " ".join(s.text_zh or s.text_en for s in hidden),
                    _("Hides"): _("Words") if r.texts else _("Whole segments"),
                    _("Reason"): r.reason,
                    _("By"): r.created_by,
                    _("When (UTC)"): r.created_at[:16].replace("T", " "),
                }
            )
        st.dataframe(rows, hide_index=True, key="edit_redactions_table")
    ui_disclosure.disclosure_controls(t, item)

# -- history and audit ------------------------------------------------------------------------------------
with history_tab:
    st.subheader(_("Revisions"), anchor=False)
    try:
        history = revision_history(cat, item_id, who)
    except NotFoundError:
        history = []
    for entry in history[:50]:
        label = _("Revision {n} · {who} · {when}").format(
            n=entry.revision,
            who=entry.author or entry.origin,
            when=entry.created_at[:16].replace("T", " "),
        )
        with st.expander(
            md(label + (f" — {entry.summary}" if entry.summary else "")),
            key=f"rev_{entry.revision}",
        ):
            st.page_link(
                ui.PAGES["item"], label=_("Open this revision (citable)"), icon=":material/link:",
                query_params={"item": item_id, "rev": str(entry.revision), "lang": t.lang},
            )  # fmt: skip
            for change in entry.changes[:200]:
                op = _(OP_LABELS.get(change.get("op", ""), change.get("op", "")))
                before, after = change.get("before"), change.get("after")
                st.markdown(
                    f"- **{md(op)}** {md(change.get('uid') or '')}: "
                    f"{md(str(before)[:300])} → {md(str(after)[:300])}"
                )
    st.subheader(_("Audit log"), anchor=False)
    entries = audit_log(cat, item_id, viewer=who, limit=200)
    if not entries:
        st.caption(_("No visibility changes or redactions yet."))
    else:
        st.dataframe(
            [
                {
                    _("When (UTC)"): e.at[:19].replace("T", " "),
                    _("Who"): e.actor,
                    _("What"): _(AUDIT_ACTIONS.get(e.action, e.action)),
                    _("Segment"): e.target,
                    _("From"): e.old_value or "",
                    _("To"): e.new_value or "",
                }
                for e in entries
            ],
            hide_index=True,
            key="edit_audit_table",
        )
