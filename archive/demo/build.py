"""The demo archive: real speech from ``../shared/fixtures`` transcribed by the real model, plus items
made from subtitle files, and the hub's series and events (:mod:`archive.demo.hub`), so every page
of the portal has something to show.

The headline dock-strike talk keeps its own text (``demo_data/dock-strike-sample.srt``) and plays
public sample speech from the fixtures laid into its cue slots (:mod:`archive.demo.talk_audio`);
its description says so and cites the clips' sources and licences. Without the fixtures folder
the demo still builds, with a note: the subtitle items and the hub, the talk as text only.

Every demo item has ``is_demo`` set and "(demo)" / "（示範）" in its titles: nobody should mistake it
for the organisation's own material.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from archive.catalog.db import Catalog
from archive.catalog.models import Item
from archive.core.config import Settings
from archive.demo.hub import build_demo_hub
from archive.demo.talk_audio import (
    AUDIO_NOTE_EN,
    AUDIO_NOTE_ZH,
    DOCK_STRIKE_CLIPS,
    TALK_AUDIO_NAME,
    DemoClip,
    compose_talk_audio,
)
from archive.ingest.intake import IngestOptions
from archive.ingest.jobs import ingest_and_transcribe
from archive.ingest.pipeline import reindex_item
from transcripts.subtitles import read_subtitles

__all__ = ["DEMO_RECORDINGS", "DEMO_SUBTITLES", "build_demo", "default_fixtures"]

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class DemoEntry:
    path: str  # relative to the fixtures folder (or to archive/demo/demo_data for ours)
    title_zh: str
    title_en: str
    collection: str
    language: str
    date: str
    speakers: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    description_en: str = ""
    description_zh: str = ""
    visibility: str = "public"
    # Fixture clips laid into the cue slots of a subtitle item: its playable demo recording.
    clips: tuple[DemoClip, ...] = ()


DEMO_RECORDINGS = (
    DemoEntry(
        "en/jfk.flac",
        "甘迺迪就職演說節錄（示範）",
        "Kennedy inaugural address, excerpt (demo)",
        "other",
        "en",
        "1961-01-20",
        ("John F. Kennedy",),
        ("speech", "demo"),
        "A public-domain recording used to demonstrate English transcription.",
        "公有領域錄音，用作示範英語轉錄。",
    ),
    DemoEntry(
        "video/auto-editor_example.mp4",
        "影片示範：英語講話（示範）",
        "Video example: English talk (demo)",
        "webinar",
        "en",
        "2022-05-01",
        (),
        ("video", "demo"),
        "A short video with English speech and pauses (Unlicense), showing video playback.",
        "一段有停頓的英語講話短片，示範影片播放。",
    ),
    DemoEntry(
        "zh/sensevoice_test_zh.wav",
        "普通話示範：開放時間（示範）",
        "Mandarin example: opening hours (demo)",
        "interview",
        "zh",
        "2024-03-01",
        (),
        ("mandarin", "demo"),
        "A short Mandarin clip (MIT) from the SenseVoice test set.",
        "SenseVoice 測試集的普通話短片。",
    ),
    DemoEntry(
        "zh/sensevoice_sample.wav",
        "普通話示範：濱海新區（示範）",
        "Mandarin example: Binhai New Area (demo)",
        "interview",
        "zh",
        "2024-03-02",
        (),
        ("mandarin", "demo"),
    ),
    DemoEntry(
        "zh/cosyvoice_zero_shot_prompt.wav",
        "普通話示範：希望你以後（示範）",
        "Mandarin example: a wish (demo)",
        "other",
        "zh",
        "2024-07-01",
        (),
        ("mandarin", "demo"),
    ),
    DemoEntry(
        "yue/sensevoice_test_yue.wav",
        "粵語示範：表達唔到（示範）",
        "Cantonese example: hard to express (demo)",
        "interview",
        "yue",
        "2024-06-04",
        (),
        ("cantonese", "demo"),
    ),
)

# Items made from subtitle files alone (no recording held).
DEMO_SUBTITLES = (
    DemoEntry(
        "subs/sherpa_lei-jun-test.zh-Hans.srt",
        "字幕示範：一段演講的機器字幕（示範）",
        "Subtitle example: machine subtitles of a speech (demo)",
        "other",
        "zh",
        "2023-01-01",
        (),
        ("subtitles", "demo"),
        "Imported from a Simplified Chinese SRT (Apache-2.0); no recording is held.",
        "由簡體中文 SRT 字幕匯入；本庫未存錄音。",
    ),
    DemoEntry(
        "@demo_data/dock-strike-sample.srt",
        "2013 年碼頭工人罷工：示範文字（示範）",
        "The 2013 dock strike: sample text (demo)",
        "strike-anniversary",
        "yue",
        "2013-05-06",
        ("Demo narrator",),
        ("dock strike", "demo"),
        "The text was written for this demo from public facts about the 2013 strike.",
        "文字根據 2013 年罷工的公開資料為示範而寫。",
        clips=DOCK_STRIKE_CLIPS,
    ),
)


def default_fixtures() -> Path:
    """``$ARCHIVE_FIXTURES``, else ``../shared/fixtures`` beside the checkout this package is in
    (``archive/demo/`` is two folders below it), else beside the working directory."""
    env = os.environ.get("ARCHIVE_FIXTURES")
    if env:
        return Path(env)
    beside_checkout = HERE.parents[2] / "shared" / "fixtures"
    if beside_checkout.is_dir():
        return beside_checkout
    return Path.cwd().parent / "shared" / "fixtures"


def build_demo(
    settings: Settings,
    catalog: Catalog,
    *,
    fixtures: Path | None = None,
    force: bool = False,
    echo: Callable[[str], None] = print,
    recordings: Sequence[DemoEntry] = DEMO_RECORDINGS,
) -> list[Item]:
    """Build the demo archive when the catalog is empty (or always, with ``force``).

    ``recordings`` are the fixtures transcribed by the real model (all of them by default)."""

    if catalog.item_ids() and not force:
        return []
    folder = fixtures or default_fixtures()
    if not folder.is_dir():
        # A fresh clone without ../shared still gets a demo: what needs no fixture.
        echo(
            f"note: the fixtures folder {folder} is missing (set ARCHIVE_FIXTURES, or put the "
            "project's shared/ folder beside the checkout): the demo is built without recordings, "
            "and its dock-strike talk is text only"
        )
        recordings = ()
    built: list[Item] = []
    for entry in recordings:
        path = folder / entry.path
        if not path.exists():
            echo(f"skipped {entry.path}: not found")
            continue
        echo(f"demo: {entry.title_en}")
        outcome, _job = ingest_and_transcribe(settings, catalog, str(path), _options(entry))
        if outcome.duplicate:
            continue
        built.append(catalog.get_item(outcome.item.id))
    for entry in DEMO_SUBTITLES:
        path = HERE / entry.path[1:] if entry.path.startswith("@") else folder / entry.path
        if not path.exists():
            echo(f"skipped {entry.path}: not found")
            continue
        echo(f"demo: {entry.title_en}")
        item = (
            _with_demo_audio(settings, catalog, entry, path, folder, echo) if entry.clips else None
        )
        built.append(item or _text_only(settings, catalog, entry, path))
    build_demo_hub(settings, catalog, built, echo=echo)
    return built


def _options(entry: DemoEntry, **changes: object) -> IngestOptions:
    values: dict[str, object] = {
        "title_zh": entry.title_zh,
        "title_en": entry.title_en,
        "description_zh": entry.description_zh,
        "description_en": entry.description_en,
        "collection": entry.collection,
        "date": entry.date,
        "speakers": entry.speakers,
        "tags": entry.tags,
        "visibility": entry.visibility,
        "language": entry.language,
        "is_demo": True,
        "created_by": "demo",
    }
    return IngestOptions(**(values | changes))  # type: ignore[arg-type]


def _with_demo_audio(
    settings: Settings,
    catalog: Catalog,
    entry: DemoEntry,
    subtitles: Path,
    fixtures: Path,
    echo: Callable[[str], None],
) -> Item | None:
    """The subtitle item with its fixture clips as its recording (ingested like any file, the
    subtitles as its transcript: no model run); None, with a note, when the clips can't be had."""
    with tempfile.TemporaryDirectory(prefix="demo-audio-") as work:
        audio, why = compose_talk_audio(fixtures, Path(work) / TALK_AUDIO_NAME, entry.clips)
        if audio is None:
            echo(f"note: {entry.title_en} is text only: its demo audio could not be made ({why})")
            return None
        outcome, _job = ingest_and_transcribe(
            settings,
            catalog,
            str(audio),
            _options(
                entry,
                description_en=f"{AUDIO_NOTE_EN}\n\n{entry.description_en}".strip(),
                description_zh=f"{AUDIO_NOTE_ZH}\n\n{entry.description_zh}".strip(),
                subtitles=str(subtitles),
                original_name=TALK_AUDIO_NAME,
            ),
        )
    return catalog.get_item(outcome.item.id)


def _text_only(settings: Settings, catalog: Catalog, entry: DemoEntry, path: Path) -> Item:
    segments = read_subtitles(path)
    # A talk that would have had demo audio says that it has none.
    no_audio_en = " No recording is held." if entry.clips else ""
    no_audio_zh = "本庫未存錄音。" if entry.clips else ""
    with catalog.transaction():
        item = catalog.create_item(
            title_zh=entry.title_zh,
            title_en=entry.title_en,
            description_zh=entry.description_zh + no_audio_zh,
            description_en=entry.description_en + no_audio_en,
            collection=entry.collection,
            recorded_date=entry.date,
            speakers=list(entry.speakers),
            tags=list(entry.tags),
            visibility=entry.visibility,
            language=entry.language,
            is_demo=True,
        )
        catalog.add_revision(
            item.id,
            segments,
            origin="subtitles",
            author="demo",
            summary=f"imported from {path.name}",
        )
    reindex_item(settings, catalog, item.id)
    return catalog.get_item(item.id)
