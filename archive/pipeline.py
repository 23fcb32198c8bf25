"""The stages after ingest, for one item: transcribe (+ convert, + English track), then index.

Kept apart from the job machinery so that ``--wait``, the worker and the demo builder all run the
same code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .catalog import Catalog, TranscriptRevision
from .config import Settings
from .errors import NotFoundError
from .media import SILENCE_MAX_VOLUME_DB
from .paths import MEDIA_FOLDER, confined_file

__all__ = ["ingest_and_transcribe", "reindex_item", "transcribe_item"]


def _is_silent(catalog: Catalog, item_id: str) -> bool:
    audio = catalog.get_media(item_id, "audio")
    if audio is None or not audio.streams:
        return False
    peak = audio.streams[0].get("max_volume_db")
    return peak is not None and peak < SILENCE_MAX_VOLUME_DB


def transcribe_item(
    settings: Settings,
    catalog: Catalog,
    item_id: str,
    *,
    translate: bool = True,
    progress: Callable[[str, float], None] | None = None,
) -> TranscriptRevision:
    """Run the speech model on an item's audio derivative and store the result as a new revision."""
    from transcripts.model import model_name

    item = catalog.get_item(item_id)
    audio = catalog.get_media(item_id, "audio")
    if audio is None:
        raise NotFoundError(f"item {item_id} has no audio to transcribe")
    if _is_silent(catalog, item_id):
        # A recording with no sound above -60 dBFS: nothing to hear, and Whisper would only
        # invent text on silence. An empty transcript is the truthful result.
        if progress:
            progress("transcribe", 1.0)
        return catalog.add_revision(
            item_id,
            (),
            origin="whisper",
            model=model_name(settings),
            summary="no speech (silent recording)",
        )
    from transcripts.transcribe import TranscribeOptions, transcribe

    options = TranscribeOptions(language=item.language, translate=translate)
    # The path comes from the catalog; still, only a file inside media/ is ever sent to the model.
    source = confined_file(settings.home, audio.path, MEDIA_FOLDER)
    result = transcribe(source, options, settings=settings, on_progress=progress)
    with catalog.transaction():
        revision = catalog.add_revision(
            item_id,
            result.segments,
            origin="whisper",
            model=result.model,
            decode_language=result.decode_language,
            summary="machine transcript",
        )
        # The spoken language (yue stays yue); the decoding language is kept on the revision.
        if result.spoken_language or result.decode_language:
            catalog.update_item(
                item_id, detected_language=result.spoken_language or result.decode_language
            )
    return revision


def reindex_item(settings: Settings, catalog: Catalog, item_id: str) -> None:
    """Bring the search index in step with the catalog for one item (incremental)."""
    try:
        from indexer import SearchIndex
    except ImportError:  # the search index is not part of this build yet
        return
    SearchIndex.open(settings).update_item(catalog, item_id)


def ingest_and_transcribe(
    settings: Settings,
    catalog: Catalog,
    source: str,
    options: Any,
    *,
    progress: Callable[[str, float], None] | None = None,
    on_item: Callable[[Any], None] | None = None,
) -> tuple[Any, Any]:
    """Ingest in this process, then transcribe (or just index) it: ``archive ingest --wait``.

    Nothing is queued before the recording is safely catalogued, so a bad source leaves no job
    behind. ``on_item(outcome)`` runs between ingest and transcription (the hub links an event
    there, before the transcript is indexed). Returns the ingest outcome and the transcription
    job (None when nothing needed transcribing).
    """
    from .ingest import ingest
    from .jobs import run_job, submit_transcription

    outcome = ingest(settings, catalog, source, options, progress=progress)
    if on_item is not None:
        on_item(outcome)
    job = None
    if outcome.needs_transcription:
        job = submit_transcription(
            settings, catalog, outcome.item.id, translate=options.translate, enqueue_now=False
        )
        job = run_job(settings, catalog, job.id, display=progress)
    else:
        reindex_item(settings, catalog, outcome.item.id)
    return outcome, job
