"""The ingest and transcription jobs: how they are queued and what the worker does with them.

Declared to the queue as job kinds ``ingest`` and ``transcribe`` (entry point group
``archive.job_handlers``). When an ingest job has archived its item, the packages that want to
know are told through the ``archive.item_archived`` hooks (the hub links a recording to its event
that way); nothing here knows who they are.

>>> job = submit_ingest(settings, catalog, "talk.mp4", IngestOptions(title_en="Dock strike"))
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from archive.catalog.db import Catalog
from archive.catalog.models import Job
from archive.core.config import Settings
from archive.core.plugins import declared
from archive.ingest.intake import (
    IngestOptions,
    IngestOutcome,
    check_link,
    check_local_source,
    details_not_applied,
    ingest,
    is_url,
)
from archive.ingest.pipeline import reindex_item, transcribe_item
from archive.jobs.queue import Reporter, enqueue, run_job
from archive.media.store import probe
from transcripts.subtitles import read_subtitles

__all__ = [
    "ingest_and_transcribe",
    "handle_ingest",
    "handle_transcribe",
    "submit_ingest",
    "submit_transcription",
]


def submit_ingest(
    settings: Settings,
    catalog: Catalog,
    source: str,
    options: IngestOptions,
    *,
    delete_source: bool = False,
    created_by: str = "system",
) -> Job:
    """Queue an ingest; returns at once. Checks what can be checked without fetching first."""
    if not is_url(source):
        path = check_local_source(Path(source).expanduser()).resolve()
        # A file that is not media (notes.mp4 holding text) is refused now, in the words the
        # worker would use, rather than as a job that fails later where nobody is looking.
        probe(path)
        source = str(path)
    else:
        # A link to the server's own network is refused now too (the worker checks every hop).
        check_link(settings, source, options)
    if options.subtitles:
        read_subtitles(Path(options.subtitles))
        options = type(options).from_payload(
            {**options.to_payload(), "subtitles": str(Path(options.subtitles).resolve())}
        )
    job = catalog.create_job(
        "ingest",
        payload={"source": source, "options": options.to_payload(), "delete_source": delete_source},
        created_by=created_by,
    )
    enqueue(settings, job)
    return job


def submit_transcription(
    settings: Settings,
    catalog: Catalog,
    item_id: str,
    *,
    translate: bool = True,
    created_by: str = "system",
    enqueue_now: bool = True,
) -> Job:
    catalog.get_item(item_id)
    job = catalog.create_job(
        "transcribe",
        payload={"item_id": item_id, "translate": translate},
        item_id=item_id,
        created_by=created_by,
    )
    if enqueue_now:
        enqueue(settings, job)
    return job


def handle_ingest(
    settings: Settings, catalog: Catalog, job: Job, report: Reporter
) -> dict[str, Any]:
    """Job kind ``ingest``: archive the source, then queue its transcription (or index it)."""
    options = IngestOptions.from_payload(job.payload["options"])
    source = job.payload["source"]
    try:
        outcome = ingest(settings, catalog, source, options, progress=report)
    finally:
        if job.payload.get("delete_source"):
            # An upload handed over by the portal: ours to remove once it is archived or refused.
            Path(source).unlink(missing_ok=True)
    catalog.update_job(job.id, item_id=outcome.item.id)
    # Whoever asked to hear of it (an announced event waiting for its recording) is told as soon
    # as the item exists.
    for hook in declared("archive.item_archived").values():
        hook(catalog, outcome.item.id, job.payload)
    result: dict[str, Any] = {"item_id": outcome.item.id, "duplicate": outcome.duplicate}
    if outcome.duplicate:
        # The same bytes are already archived: nothing new was made, and the details typed with
        # this upload were not applied. Kept here so the Jobs page can say so and offer them.
        result["not_applied"] = details_not_applied(outcome.item, job.payload["options"])
    if outcome.needs_transcription:
        follow = submit_transcription(
            settings,
            catalog,
            outcome.item.id,
            translate=options.translate,
            created_by=job.created_by,
        )
        result["transcribe_job"] = follow.id
    else:
        reindex_item(settings, catalog, outcome.item.id)
    return result


def handle_transcribe(
    settings: Settings, catalog: Catalog, job: Job, report: Reporter
) -> dict[str, Any]:
    """Job kind ``transcribe``: a new machine revision of the item, then its index entry."""
    revision = transcribe_item(
        settings,
        catalog,
        job.payload["item_id"],
        translate=job.payload.get("translate", True),
        progress=report,
    )
    reindex_item(settings, catalog, job.payload["item_id"])
    return {
        "item_id": job.payload["item_id"],
        "revision": revision.revision,
        "segments": len(revision.segments),
    }


def ingest_and_transcribe(
    settings: Settings,
    catalog: Catalog,
    source: str,
    options: IngestOptions,
    *,
    progress: Callable[[str, float], None] | None = None,
    on_item: Callable[[IngestOutcome], None] | None = None,
) -> tuple[IngestOutcome, Job | None]:
    """Ingest in this process, then transcribe (or just index) it: ``archive ingest --wait``.

    Nothing is queued before the recording is safely catalogued, so a bad source leaves no job
    behind. ``on_item(outcome)`` runs between ingest and transcription (the hub links an event
    there, before the transcript is indexed). Returns the ingest outcome and the transcription
    job (None when nothing needed transcribing).
    """
    outcome = ingest(settings, catalog, source, options, progress=progress)
    if on_item is not None:
        on_item(outcome)
    job: Job | None = None
    if outcome.needs_transcription:
        job = submit_transcription(
            settings, catalog, outcome.item.id, translate=options.translate, enqueue_now=False
        )
        job = run_job(settings, catalog, job.id, display=progress)
    else:
        reindex_item(settings, catalog, outcome.item.id)
    return outcome, job
