"""The stages after ingest, for one item: transcribe (+ convert, + English track), then index.

Kept apart from the job machinery (:mod:`archive.ingest.jobs`) so that ``--wait``, the worker and
the demo builder all run the same code.
"""

from __future__ import annotations

from collections.abc import Callable

from archive.catalog.db import Catalog
from archive.catalog.models import TranscriptRevision
from archive.core.config import Settings
from archive.core.errors import NotFoundError
from archive.core.paths import MEDIA_FOLDER, confined_file
from archive.media.store import SILENCE_MAX_VOLUME_DB
from indexer import SearchIndex
from transcripts.speaker_carry import carry_speakers

__all__ = ["reindex_item", "transcribe_item"]


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
    """Run the speech model on an item's audio derivative and store the result as a new revision.

    A re-transcription keeps the speakers' names of the revision before it, by time
    (:func:`transcripts.speaker_carry.carry_speakers`)."""
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
        # Read under the write lock: a save made while the model ran is the one carried from.
        previous = catalog.latest_revision_number(item_id)
        segments = result.segments
        if previous is not None:
            segments = carry_speakers(catalog.get_revision(item_id, previous).segments, segments)
        revision = catalog.add_revision(
            item_id,
            segments,
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
    SearchIndex.open(settings).update_item(catalog, item_id)
