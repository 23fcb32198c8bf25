"""The webinar hub's recordings: archiving a talk's recording as the item of its event.

After the talk, :func:`attach_recording` ingests the recording through the ordinary ingest path
(:mod:`archive.ingest`) as an item that inherits the event's titles, speakers, series, date and
collection (``webinar``, :func:`recording_options`), and links it to the event: the event's
permalink then opens the item. With ``wait`` it runs here and links at once. Queued, the ingest job
carries the event id in its payload, and the link is made by the ``archive.item_archived`` hook
:func:`link_archived_recording` when the job has archived the item, or else when the event is next
read (:func:`archive.hub.events.resolve_attachments`), so the queue needs to know nothing of events.

The link itself (:func:`archive.hub.events.link_recording`, one recording per event) and the
reading of a pending attachment live with the events, because reading an event resolves it.

>>> outcome = attach_recording(settings, catalog, event.id, "talk.mp4",
...                            recording_options(event, visibility="public"), wait=True)
>>> get_event(catalog, event.id).item_id == outcome.item_id
True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from archive.catalog.db import Catalog
from archive.catalog.models import Item, Job
from archive.core.config import Settings
from archive.core.errors import InputError
from archive.hub.events import Event, get_event, link_recording, pending_attachment
from archive.ingest.intake import IngestOptions, IngestOutcome
from archive.ingest.jobs import ingest_and_transcribe, submit_ingest

__all__ = [
    "AttachOutcome",
    "attach_recording",
    "attachable_event",
    "link_archived_recording",
    "link_existing_recording",
    "recording_candidates",
    "recording_options",
]


@dataclass(frozen=True)
class AttachOutcome:
    """What :func:`attach_recording` did."""

    event: Event
    item_id: str | None  # None while a queued ingest has not run yet
    duplicate: bool = False  # the same recording was already archived: that item is linked
    job: Job | None = None  # the queued ingest job, or (with wait) the transcription job that ran


def _check_attachable(catalog: Catalog, event_id: str) -> Event:
    event = get_event(catalog, event_id)
    if event.status == "cancelled":
        raise InputError(f"event {event_id} was cancelled: there is no recording to attach")
    if event.item_id is not None:
        raise InputError(f"event {event_id} already has its recording (item {event.item_id})")
    job = pending_attachment(catalog, event_id)
    if job is not None:
        raise InputError(
            f"a recording of event {event_id} is already being archived (job {job.id})"
        )
    return event


def attachable_event(catalog: Catalog, event_id: str) -> Event:
    """The event, when a recording may be attached to it now (not cancelled, no recording yet nor
    one on its way); InputError saying why not, NotFoundError for no such event."""
    return _check_attachable(catalog, event_id)


def link_archived_recording(catalog: Catalog, item_id: str, payload: dict[str, Any]) -> None:
    """Hook ``archive.item_archived``: an ingest job queued for an event (``payload["event_id"]``)
    has archived its recording; link the two at once."""
    if payload.get("event_id"):
        link_recording(catalog, payload["event_id"], item_id)


def recording_candidates(catalog: Catalog) -> list[Item]:
    """The items staff may choose as an event's recording: every item that is not already the
    recording of an event (one event per recording), latest recorded first."""
    taken = {
        row[0]
        for row in catalog.conn.execute("SELECT item_id FROM events WHERE item_id IS NOT NULL")
    }
    return [item for item in catalog.list_items(role="staff") if item.id not in taken]


def link_existing_recording(catalog: Catalog, event_id: str, item_id: str) -> Event:
    """Make an item already in the archive the recording of an event (nothing is ingested): the
    same checks as :func:`attach_recording` (not cancelled, no recording yet nor one on its way),
    then :func:`archive.hub.events.link_recording`. NotFoundError for an item that does not exist."""
    _check_attachable(catalog, event_id)
    catalog.get_item(item_id)
    return link_recording(catalog, event_id, item_id)


def recording_options(event: Event, **overrides: Any) -> IngestOptions:
    """The :class:`~archive.ingest.intake.IngestOptions` of an event's recording: titles, descriptions,
    speakers, the organiser's date of the talk and the ``webinar`` collection come from the event;
    a spoken language too when the event has exactly one. ``overrides`` (None = inherit) are any
    other IngestOptions fields (``visibility``, ``subtitles``, ``transcribe`` …) or replacements.

    Visibility is *not* inherited: like any ingest the recording is staff-only until someone says
    otherwise (``visibility="public"``), because a recording can hold what an announcement did not.
    """
    inherited: dict[str, Any] = {
        "title_zh": event.title_zh or None,
        "title_en": event.title_en or None,
        "description_zh": event.description_zh or None,
        "description_en": event.description_en or None,
        "collection": "webinar",
        "date": event.local_date,
        "speakers": tuple(event.speakers),
        "language": event.languages[0] if len(event.languages) == 1 else "auto",
    }
    given = {k: v for k, v in overrides.items() if v is not None and v != ()}
    return IngestOptions(**{**inherited, **given})


def attach_recording(
    settings: Settings,
    catalog: Catalog,
    event_id: str,
    source: str,
    options: IngestOptions | None = None,
    *,
    wait: bool = False,
    progress: Callable[[str, float], None] | None = None,
    delete_source: bool = False,
    created_by: str = "system",
) -> AttachOutcome:
    """Archive a file or link as the recording of an event, through the normal ingest path.

    ``options`` defaults to :func:`recording_options` of the event. With ``wait`` the ingest and
    transcription run here and the event is linked at once; otherwise an ingest job is queued for
    ``archive worker`` (its payload carries ``event_id``) and the event is linked when read after
    the job is done. A cancelled event, or one that has (or is getting) a recording, is refused
    before anything is fetched. ``delete_source`` and ``created_by`` are
    :func:`~archive.ingest.jobs.submit_ingest`'s (a file uploaded through the portal is the job's
    to remove).
    """
    event = _check_attachable(catalog, event_id)
    options = options if options is not None else recording_options(event)
    if not wait:
        with catalog.transaction():
            # One transaction: the check, the job and its event id are seen together or not at all.
            event = _check_attachable(catalog, event_id)
            job = submit_ingest(
                settings, catalog, source, options,
                delete_source=delete_source, created_by=created_by,
            )  # fmt: skip
            catalog.update_job(job.id, payload={**job.payload, "event_id": event.id})
        return AttachOutcome(
            event=get_event(catalog, event_id), item_id=None, job=catalog.get_job(job.id)
        )

    def link(outcome: IngestOutcome) -> None:
        try:
            link_recording(catalog, event_id, outcome.item.id)
        except InputError as exc:
            if outcome.duplicate:
                raise InputError(
                    f"this recording is already archived as item {outcome.item.id}: {exc}"
                ) from None
            raise InputError(
                f"{exc}; the recording was archived as item {outcome.item.id}"
            ) from None

    outcome, job = ingest_and_transcribe(
        settings, catalog, source, options, progress=progress, on_item=link
    )
    return AttachOutcome(
        event=get_event(catalog, event_id),
        item_id=outcome.item.id,
        duplicate=outcome.duplicate,
        job=job,
    )
