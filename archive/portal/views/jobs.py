"""Staff: the background jobs (downloads, transcription, checks) with their progress, in plain words.

The list refreshes itself every few seconds (a fragment: only this part of the page reruns). The
work is done by ``archive worker``; this page only reads the catalog's jobs table and can retry a
failed job or cancel a waiting or running one.
"""

from __future__ import annotations

import streamlit as st

from archive.catalog.models import Job
from archive.core.errors import ArchiveError
from archive.core.text_safety import md
from archive.jobs.queue import cancel_job, enqueue, retry_job
from archive.portal import ui, ui_staff
from archive.portal.i18n import N_
from archive.preservation.fixity import last_fixity_run
from archive.workspace.details import apply_details

t = ui.page_i18n()
_ = t._
who = ui_staff.require_staff(t)
cat = ui.catalog()
settings = ui.settings()

REFRESH_SECONDS = 2.0
KIND_LABELS = {
    "ingest": N_("Add a recording"),
    "transcribe": N_("Transcribe"),
    "public-media": N_("Silence redacted speech"),
    "embargoes": N_("Open embargoed items"),
    "fixity": N_("Check stored files"),
}
STATE_LABELS = {
    "queued": N_("Waiting"),
    "running": N_("Running"),
    "done": N_("Done"),
    "failed": N_("Failed"),
    "cancelled": N_("Cancelled"),
}
STATE_ICONS = {
    "queued": ":material/schedule:",
    "running": ":material/autorenew:",
    "done": ":material/check_circle:",
    "failed": ":material/error:",
    "cancelled": ":material/cancel:",
}
PHASE_LABELS = {
    "download": N_("Downloading: {pct}%"),
    "store": N_("Storing and converting: {pct}%"),
    "transcribe": N_("Transcribing: {pct}% of the audio"),
    "translate": N_("Translating into English: {pct}% of the audio"),
    "public-media": N_("Silencing redacted speech: {pct}%"),
    "fixity": N_("Checking files: {pct}%"),
}
FIELD_LABELS = {
    "title_zh": N_("Chinese title"),
    "title_en": N_("English title"),
    "description_zh": N_("Chinese description"),
    "description_en": N_("English description"),
    "collection": N_("collection"),
    "recorded_date": N_("date"),
    "speakers": N_("speakers"),
    "tags": N_("tags"),
    "language": N_("language"),
    "visibility": N_("who may see it"),
}
SHOWN = {
    "active": (N_("Waiting and running"), ("queued", "running")),
    "failed": (N_("Failed"), ("failed",)),
    "all": (N_("All"), None),
}


def _title(job: Job) -> str:
    """What the job is about, for a person: the recording's title, else the file name or link."""
    if job.item_id:
        item = cat.find_item(job.item_id)
        if item is not None:
            return t.pick(item.title_zh, item.title_en) or job.item_id
    options = job.payload.get("options") or {}
    name = t.pick(options.get("title_zh"), options.get("title_en"))
    if name:
        return name
    if options.get("original_name"):
        return str(options["original_name"])
    source = str(job.payload.get("source") or "")
    return source if source.startswith(("http://", "https://")) else ""


@ui_staff.staff_callback(t, who)  # checked when it runs, not at the last run
def _apply_details(job_id: int) -> None:
    """Button callback: the details typed with an upload of already archived bytes, applied to
    the existing item (audited), once."""
    job = cat.get_job(job_id)
    changes = dict(job.result.get("not_applied") or {})
    if not job.item_id or not changes:
        return
    try:
        apply_details(settings, cat, job.item_id, changes, actor=who.username or "staff")
        cat.update_job(job_id, result={**job.result, "not_applied": {}, "applied": changes})
        st.session_state["jobs_notice"] = ("ok", _("The new details are applied."))
    except ArchiveError as exc:
        st.session_state["jobs_notice"] = ("error", ui.error_message(t, exc))


@ui_staff.staff_callback(t, who)  # checked when it runs, not at the last run
def _act(action: str, job_id: int) -> None:
    """Button callback: retry or cancel; the outcome is shown on the next run of the list."""
    try:
        if action == "retry":
            retry_job(settings, cat, job_id)
            st.session_state["jobs_notice"] = (
                "ok",
                _("Job {n} is waiting to run again.").format(n=job_id),
            )
        else:
            cancel_job(cat, job_id)
            st.session_state["jobs_notice"] = ("ok", _("Job {n} was cancelled.").format(n=job_id))
    except ArchiveError:
        st.session_state["jobs_notice"] = (
            "error",
            _(
                "Job {n} can no longer be changed: it has moved on. The list below is up to date."
            ).format(n=job_id),
        )


@ui_staff.staff_callback(t, who)  # checked when it runs, not at the last run
def _start_fixity() -> None:
    job = cat.create_job("fixity", payload={}, created_by=who.username or "staff")
    enqueue(settings, job)
    st.session_state["jobs_notice"] = (
        "ok",
        _("Job {n} will check the stored files.").format(n=job.id),
    )


ACTORS = {
    # Who started a job when it was no person: the archive's own names, said in words.
    "system": N_("Started by the system"),
    "demo": N_("Added with the demonstration data"),
    "portal": N_("Started from the portal"),
    "staff": N_("Started by staff"),
}


def _started_by(actor: str) -> str:
    """ "Started by …" in the interface language: the system and the other built-in actors in
    words, a command-line user as such, a person by their user name (outside text, escaped)."""
    if actor in ACTORS:
        return _(ACTORS[actor])
    if actor.startswith("cli:"):
        return _("Started on the command line by {name}").format(name=md(actor[4:]))
    return _("Started by {name}").format(name=md(actor))


def _job_card(job: Job) -> None:
    with st.container(border=True, key=f"job_card_{job.id}"):
        head = st.container(horizontal=True, vertical_alignment="center", gap="small")
        with head:
            st.markdown(
                f"{STATE_ICONS.get(job.state, '')} **{_(STATE_LABELS.get(job.state, job.state))}** · "
                f"{_(KIND_LABELS.get(job.kind, job.kind))} · #{job.id}",
                width="content",
            )
            st.space("stretch")
            if job.state in ("failed", "cancelled"):
                st.button(
                    _("Retry"), key=f"job_retry_{job.id}", icon=":material/replay:",
                    on_click=_act, args=("retry", job.id),
                )  # fmt: skip
            if job.state in ("queued", "running"):
                st.button(
                    _("Cancel"), key=f"job_cancel_{job.id}", icon=":material/close:",
                    on_click=_act, args=("cancel", job.id),
                )  # fmt: skip
        title = _title(job)
        if title:
            # A title or link from a source page is outside text (cut before it is escaped).
            st.markdown(f"**{md(title)}**" if len(title) < 200 else md(title[:200]))
        if job.state == "running":
            pct = int(round(job.progress * 100))
            label = PHASE_LABELS.get(job.phase)
            text = _(label).format(pct=pct) if label else _("Starting…")
            st.progress(max(0.0, min(1.0, job.progress)), text=text)
        elif job.state == "queued":
            st.caption(_("Waiting for the worker to start it."))
        if job.state == "failed" and job.error:
            st.error(_("It failed: {reason}").format(reason=md(job.error)), icon=":material/error:")
        if job.message and job.state != "done":
            st.caption(md(job.message))
        if job.state == "done" and job.result.get("duplicate"):
            pending = job.result.get("not_applied") or {}
            st.warning(
                _(
                    "Already in the archive: this file is the same recording as the item "
                    "below, so no new item was made."
                )
                + (
                    " "
                    + _("The details typed with it were not applied: {fields}.").format(
                        fields=md(", ".join(_(FIELD_LABELS.get(f, f)) for f in pending))
                    )
                    if pending
                    else ""
                ),
                icon=":material/content_copy:",
            )
            if pending:
                st.button(
                    _("Apply the new details to it"), key=f"job_apply_{job.id}",
                    icon=":material/published_with_changes:",
                    on_click=_apply_details, args=(job.id,),
                )  # fmt: skip
        meta = [
            _started_by(job.created_by),
            job.created_at[:16].replace("T", " "),
        ]
        if job.state == "done" and job.result.get("transcribe_job"):
            meta.append(_("transcription is job {n}").format(n=job.result["transcribe_job"]))
        st.caption(" · ".join(meta) + " (UTC)")
        if job.item_id and cat.find_item(job.item_id) is not None:
            links = st.container(horizontal=True, gap="small")
            with links:
                st.page_link(
                    ui.PAGES["item"], label=_("Open the recording"), icon=":material/play_circle:",
                    query_params={"item": job.item_id, "lang": t.lang},
                )  # fmt: skip
                st.page_link(
                    ui_staff.STAFF_PAGES["edit"], label=_("Edit the transcript"), icon=":material/edit_note:",
                    query_params={"item": job.item_id, "lang": t.lang},
                )  # fmt: skip


st.header(_("Jobs"), anchor=False)
st.caption(
    _("Downloads, transcription and checks run in the background; this list updates by itself.")
)
shown = st.segmented_control(
    _("Show"),
    tuple(SHOWN),
    format_func=lambda k: _(SHOWN[k][0]),
    key="jobs_shown",
    default="all",
    required=True,
)


@st.fragment(run_every=REFRESH_SECONDS)
def job_list() -> None:
    notice = st.session_state.pop("jobs_notice", None)
    if notice:
        (st.success if notice[0] == "ok" else st.warning)(notice[1])
    jobs = cat.list_jobs(states=SHOWN[shown][1], limit=40)
    if not jobs:
        st.info(_("No jobs to show."), icon=":material/inbox:")
        return
    for job in jobs:
        _job_card(job)


job_list()

# -- the last check of the stored files ---------------------------------------------------------
st.subheader(_("Stored files"), anchor=False)
run = last_fixity_run(cat)
if run is None:
    st.caption(_("The stored files have not been checked yet."))
elif run.ok:
    st.success(
        _("Last check {when}: all {n} files checked were intact.").format(
            when=run.finished_at[:16].replace("T", " "), n=t.number(run.checked)
        ),
        icon=":material/verified:",
    )
else:
    st.error(
        _(
            "Last check {when}: {bad} of {n} files have a problem. Tell the archive's administrator."
        ).format(
            when=run.finished_at[:16].replace("T", " "),
            bad=t.number(len(run.problems)),
            n=t.number(run.checked),
        ),
        icon=":material/report:",
    )
st.button(
    _("Check stored files now"),
    key="jobs_fixity",
    on_click=_start_fixity,
    icon=":material/fact_check:",
)
