"""Staff: add a recording, from a file (streamed to disk by the upload route) or from a link.

The page never downloads, converts or transcribes anything itself: the form queues an ingest job
and returns at once; ``archive worker`` does the work and the Jobs page shows it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from archive.catalog.models import COLLECTIONS, normalise_date
from archive.core.errors import ArchiveError, InputError, NotFoundError
from archive.core.text_safety import md
from archive.hub.recordings import attach_recording, attachable_event, recording_options
from archive.ingest.intake import IngestOptions, is_url
from archive.ingest.jobs import submit_ingest
from archive.media.store import hash_file
from archive.portal import ui, ui_staff
from archive.portal.i18n import N_
from archive.portal.sessions import check_upload

t = ui.page_i18n()
_ = t._
who = ui_staff.require_staff(t)
cat = ui.catalog()
settings = ui.settings()

SOURCES = ("file", "link")
SOURCE_LABELS = {"file": N_("Upload a file"), "link": N_("Paste a link")}
UPLOAD_ERRORS = {
    "too-large": N_("The file is larger than the upload limit of {limit}."),
    "not-media": N_("That file is not an audio or video recording we can read."),
    "forbidden": N_("Your session has ended. Please log in again."),
    "network": N_("The upload was interrupted. Check the connection and try again."),
    "aborted": N_("The upload was cancelled."),
}
_ASSETS = Path(ui.__file__).resolve().parent
UPLOAD_HTML = (
    '<div class="hku"><input type="file" accept="audio/*,video/*" hidden>'
    '<div class="hku-row"><button type="button" class="hku-pick"></button>'
    '<span class="hku-name"></span></div>'
    '<div class="hku-row"><button type="button" class="hku-send" disabled></button>'
    '<button type="button" class="hku-stop" hidden></button>'
    '<progress value="0" max="1" hidden></progress><span class="hku-status" role="status"></span></div></div>'
)
UPLOAD_CSS = """
.hku { font-family: inherit; display: flex; flex-direction: column; gap: .6rem; }
.hku-row { display: flex; flex-wrap: wrap; align-items: center; gap: .6rem; }
.hku button { font: inherit; padding: .4rem .9rem; border-radius: .5rem; cursor: pointer;
  border: 1px solid rgba(49, 51, 63, .25); background: var(--st-background-color, #fff);
  color: var(--st-text-color, #31333f); }
.hku button.hku-send { background: var(--st-primary-color, #b3261e); color: #fff; border-color: transparent; }
.hku button:disabled { opacity: .45; cursor: default; }
.hku progress { flex: 1 1 12rem; height: .8rem; accent-color: var(--st-primary-color, #b3261e); }
.hku-name, .hku-status { font-size: .9rem; color: var(--st-text-color, #31333f); }
"""


@st.cache_resource(show_spinner=False)
def _upload_component() -> Any:
    return st.components.v2.component(
        "hk_archive.upload",
        html=UPLOAD_HTML,
        css=UPLOAD_CSS,
        js=(_ASSETS / "portal_upload.js").read_text(encoding="utf-8"),
    )


def _size(n: int) -> str:
    if n >= 1024**3:
        return f"{n / 1024**3:.1f} GB"
    if n >= 1024**2:
        return f"{n / 1024**2:.0f} MB"
    return f"{t.number(n)} B"


def _split_list(text: str) -> tuple[str, ...]:
    parts = [p.strip() for p in text.replace("、", ",").replace("，", ",").split(",")]
    return tuple(p for p in parts if p)


st.header(_("Add a recording"), anchor=False)
st.caption(
    _(
        "Upload a file or paste a link, then describe the recording. The download and the transcript "
        "are made in the background: follow them on the Jobs page."
    )
)

# ?event=ID (the event form's "A file from this computer"): the recording becomes that event's
# when its job is done, with the event's titles, speakers and date filled in to start with.
event = None
if st.query_params.get("event"):
    try:
        event = attachable_event(cat, st.query_params["event"])
    except ArchiveError as exc:
        st.error(ui.error_message(t, exc), icon=":material/error:")
        st.caption(md(str(exc)))  # which event, and why (cancelled, has its recording)
if event is not None:
    st.info(
        _(
            "This recording becomes the recording of the event “{title}” ({date}) when its job is done."
        ).format(
            title=md(t.pick(event.title_zh, event.title_en) or event.id), date=event.local_date
        ),
        icon=":material/event:",
    )
    if st.session_state.get("upload_event_prefilled") != event.id:
        inherited = recording_options(event)
        st.session_state.update(
            meta_title_zh=inherited.title_zh or "", meta_title_en=inherited.title_en or "",
            meta_desc_zh=inherited.description_zh or "", meta_desc_en=inherited.description_en or "",
            meta_collection=inherited.collection, meta_date=inherited.date or "",
            meta_speakers=", ".join(inherited.speakers),
        )  # fmt: skip
        if inherited.language in ui_staff.LANGUAGE_CHOICES:
            st.session_state["meta_language"] = inherited.language
        st.session_state["upload_event_prefilled"] = event.id

queued = st.session_state.pop("upload_queued", None)
if queued:
    st.success(_("Queued as job {n}.").format(n=queued), icon=":material/check:")
    st.page_link(
        ui_staff.STAFF_PAGES["jobs"],
        label=_("Follow it on the Jobs page"),
        icon=":material/pending_actions:",
        query_params={"lang": t.lang},
    )

source = st.segmented_control(
    _("Where the recording comes from"),
    SOURCES,
    format_func=lambda s: _(SOURCE_LABELS[s]),
    key="upload_source",
    default="file",
    required=True,
)

ready = st.session_state.get("upload_ready")
url = ""
if source == "file":
    generation = st.session_state.setdefault("upload_widget_n", 0)
    result = _upload_component()(
        key=f"upload_widget_{generation}",
        data={
            "token": ui_staff.staff_upload_token(),
            "max_bytes": settings.max_upload_bytes,
            "labels": {
                "choose": _("Choose a file…"),
                "send": _("Upload"),
                "sending": _("Uploading… {pct}%"),
                "done": _("Uploaded."),
                "cancel": _("Cancel"),
                "too_large": _("The file is larger than the upload limit of {limit}.").format(
                    limit=_size(settings.max_upload_bytes)
                ),
            },
        },
        on_uploaded_change=lambda: None,
        on_failed_change=lambda: None,
    )
    st.caption(
        _("Audio or video, up to {limit}. The type is read from the file's content.").format(
            limit=_size(settings.max_upload_bytes)
        )
    )
    uploaded = getattr(result, "uploaded", None)
    failed = getattr(result, "failed", None)
    if isinstance(uploaded, dict) and uploaded.get("upload_id"):
        try:
            checked = check_upload(settings, str(uploaded["upload_id"]), who)
        except NotFoundError:
            st.error(_("That upload could not be found. Please upload the file again."))
        else:
            # Hashed once, here: bytes already archived make no new item, and staff must know
            # that before typing details that would otherwise be silently dropped.
            before = st.session_state.get("upload_ready") or {}
            if before.get("id") == str(uploaded["upload_id"]) and "existing" in before:
                existing_id = before["existing"]  # hashed on an earlier run
            else:
                found = cat.item_by_original_sha(hash_file(checked.path)[0])
                existing_id = found.id if found is not None else None
            ready = {
                "id": str(uploaded["upload_id"]),
                "name": checked.display_name,
                "size": checked.size,
                "mime": checked.mime,
                "existing": existing_id,
            }
            st.session_state["upload_ready"] = ready
    elif isinstance(failed, dict):
        message = UPLOAD_ERRORS.get(
            str(failed.get("error")), N_("The upload failed. Please try again.")
        )
        st.error(_(message).format(limit=_size(settings.max_upload_bytes)), icon=":material/error:")
    if ready:
        st.info(
            _("Ready: {name} ({size}, {mime}).").format(
                name=md(ready["name"]), size=_size(int(ready["size"])), mime=md(ready["mime"])
            ),
            icon=":material/attach_file:",
        )
        if ready.get("existing") and cat.find_item(ready["existing"]) is not None:
            same = cat.get_item(ready["existing"])
            st.warning(
                _(
                    "This file is already in the archive as “{title}”. Adding it makes no new "
                    "item; the details below can be applied to that item from the Jobs page "
                    "once the job is done."
                ).format(title=md(t.pick(same.title_zh, same.title_en) or same.id)),
                icon=":material/content_copy:",
            )
            st.page_link(
                ui.PAGES["item"], label=_("Open the existing recording"),
                icon=":material/open_in_new:", query_params={"item": same.id, "lang": t.lang},
            )  # fmt: skip
else:
    url = st.text_input(
        _("Link to the recording"),
        key="upload_url",
        placeholder="https://",
        help=_("A page with a video or audio player, or a direct link to a media file."),
    ).strip()

with st.form("upload_meta", clear_on_submit=False, enter_to_submit=False):
    st.subheader(_("About the recording"), anchor=False)
    left, right = st.columns(2)
    title_zh = left.text_input(_("Title (Chinese)"), key="meta_title_zh", max_chars=300)
    title_en = right.text_input(_("Title (English)"), key="meta_title_en", max_chars=300)
    desc_zh = left.text_area(_("Description (Chinese)"), key="meta_desc_zh", height=100)
    desc_en = right.text_area(_("Description (English)"), key="meta_desc_en", height=100)
    collection = left.selectbox(
        _("Collection"),
        COLLECTIONS,
        format_func=lambda c: ui.collection_label(t, c),
        key="meta_collection",
    )
    date = right.text_input(
        _("Date recorded"),
        key="meta_date",
        placeholder="2024-06-04",
        help=_("YYYY, YYYY-MM or YYYY-MM-DD"),
    )
    speakers = left.text_input(_("Speakers (separate with commas)"), key="meta_speakers")
    tags = right.text_input(_("Tags (separate with commas)"), key="meta_tags")
    language = left.selectbox(
        _("Spoken language"),
        ui_staff.LANGUAGE_CHOICES,
        format_func=t.language_name,
        key="meta_language",
    )
    visibility = right.selectbox(
        _("Who may see it"),
        ("staff", "members", "public"),
        format_func=lambda v: ui_staff.visibility_label(t, v),
        key="meta_visibility",
        help=_("Staff only until it has been reviewed is the safe choice."),
    )
    transcribe = left.checkbox(_("Transcribe the speech"), value=True, key="meta_transcribe")
    translate = right.checkbox(
        _("Add a machine English translation"), value=True, key="meta_translate"
    )
    wide_ok = st.checkbox(
        _("If members or the public may see it: I have checked what it says and who speaks"),
        key="meta_wide_ok",
    )
    submitted = st.form_submit_button(_("Add to the archive"), type="primary", key="meta_submit")

if submitted:
    problem = None
    if source == "file" and not ready:
        problem = _("Upload a file first.")
    elif source == "link" and not is_url(url):
        problem = _("Paste a link that starts with http:// or https://.")
    elif not (title_zh.strip() or title_en.strip()):
        problem = _("Give the recording a title in Chinese or English.")
    elif date.strip():
        try:
            normalise_date(date)
        except InputError:
            problem = _("The date must be YYYY, YYYY-MM or YYYY-MM-DD.")
    # Wider than staff is never one click: what it means, and an explicit tick.
    widening = ui_staff.widening_warning(t, "staff", visibility)
    if not problem and widening and not wide_ok:
        problem = (
            widening + " " + _("Tick the box above the button to confirm, or choose Staff only.")
        )
    if problem:
        st.error(problem, icon=":material/error:")
    elif ui_staff.live_staff(t, who) is not None:  # the session as it is now, not at page load
        try:
            if source == "file":
                upload = check_upload(settings, ready["id"], who)
                location, original = str(upload.path), upload.display_name
            else:
                location, original = url, None
            options = IngestOptions(
                title_zh=title_zh.strip() or None,
                title_en=title_en.strip() or None,
                description_zh=desc_zh.strip() or None,
                description_en=desc_en.strip() or None,
                collection=collection,
                date=date.strip() or None,
                speakers=_split_list(speakers),
                tags=_split_list(tags),
                visibility=visibility,
                language=language,
                transcribe=transcribe,
                translate=translate and transcribe,
                created_by=who.username or "staff",
                original_name=original,
            )
            if event is not None:
                job = attach_recording(
                    settings, cat, event.id, location, options,
                    delete_source=source == "file", created_by=who.username or "staff",
                ).job  # fmt: skip
            else:
                job = submit_ingest(
                    settings,
                    cat,
                    location,
                    options,
                    delete_source=source == "file",
                    created_by=who.username or "staff",
                )
        except NotFoundError:
            st.session_state.pop("upload_ready", None)
            st.error(_("That upload could not be found. Please upload the file again."))
        except ArchiveError as exc:
            st.error(ui.error_message(t, exc), icon=":material/error:")
        else:
            # The upload is the job's now: forget it here and give the widget a fresh state.
            st.session_state.pop("upload_ready", None)
            st.session_state["upload_widget_n"] = st.session_state.get("upload_widget_n", 0) + 1
            for key in ("meta_title_zh", "meta_title_en", "meta_desc_zh", "meta_desc_en", "meta_date",
                        "meta_speakers", "meta_tags", "upload_url"):  # fmt: skip
                st.session_state.pop(key, None)
            st.session_state["upload_queued"] = job.id
            if event is not None:  # attached: the next recording on this page is no longer its
                st.session_state.pop("upload_event_prefilled", None)
                del st.query_params["event"]
            st.rerun()
