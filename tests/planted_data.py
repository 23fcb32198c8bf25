"""A real archive whose every outside text field carries planted Markdown, HTML and links.

Used by ``test_planted_text.py``: one public recording (titles, descriptions, speakers, tags,
chapters, transcript cues and the cue speaker all planted), a series and two events (title,
description, city, venue, speakers planted; the past one has the recording attached), beside the
ordinary demo archive of ``portal_data``. Every planted URL points at ``tracker.example`` with the
field's name in its path, so a request or a link in a page says which field leaked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import portal_data

from archive.catalog.db import Catalog
from archive.hub.events import create_event, link_recording
from archive.hub.series import create_series
from transcripts.segments import Segment

TRACKER = "tracker.example"
WORD = "planted"  # a word every planted field holds, so a search finds them


def payload(name: str) -> str:
    """Markdown image, raw HTML, a script, autolinks and a reference-style image, all to the tracker."""
    base = f"http://{TRACKER}/{name}"
    return (
        f'{WORD} {name} ![p]({base}/md.png) <img src="{base}/raw.png"> '
        f"<script>fetch('{base}/js')</script> <{base}/auto> {base}/bare www.{TRACKER}/{name} "
        f"*em* $x$ :red[c] ![r][1]\n\n[1]: {base}/ref.png"
    )


def visible_part(name: str) -> str:
    """A piece of :func:`payload` that must be on the page as text, exactly."""
    return f'![p](http://{TRACKER}/{name}/md.png) <img src="http://{TRACKER}/{name}/raw.png">'


@dataclass
class Planted:
    arch: portal_data.DemoArchive
    item: str
    upcoming: str
    past: str
    series: str = "planted"
    fields: dict[str, str] = field(default_factory=dict)


def build(home: Path) -> Planted:
    arch = portal_data.build(home, long_talk=False, extra=0)
    settings = arch.settings
    cat = Catalog.open(settings)
    item = cat.create_item(
        title_zh=payload("title_zh"),
        title_en=payload("title_en"),
        description_zh=payload("description_zh"),
        description_en=payload("description_en"),
        collection="webinar",
        recorded_date="2024-05-01",
        speakers=[payload("speaker")],
        tags=[payload("tag")],
        language="en",
        visibility="public",
        chapters=[
            {"start": 0, "title_zh": payload("chapter_zh"), "title_en": payload("chapter_en")},
            {"start": 2, "title": payload("chapter_title")},
        ],
    )
    path, sha, size = portal_data._store(settings, portal_data.FIXTURES / "en" / "jfk.flac")
    cat.add_media(
        item.id,
        role="audio",
        sha256=sha,
        size=size,
        path=path,
        duration=11.0,
        container="flac",
        mime="audio/flac",
        streams=[{"codec_type": "audio", "codec_name": "flac"}],
    )
    cat.add_revision(
        item.id,
        [
            Segment(
                start=0.0,
                end=5.0,
                text_zh=payload("cue_zh"),
                text_en=payload("cue_en"),
                speaker=payload("cue_speaker"),
                lang="en",
            ),
            Segment(start=5.0, end=11.0, text_zh="第二句。", text_en="The second line.", lang="en"),
        ],
        origin="subtitles",
    )
    create_series(
        cat,
        "planted",
        title_zh=payload("series_title_zh"),
        title_en=payload("series_title_en"),
        description_zh=payload("series_description_zh"),
        description_en=payload("series_description_en"),
    )
    year = datetime.now(UTC).year
    common = dict(
        tz="Europe/London",
        duration_minutes=90,
        speakers=[payload("event_speaker")],
        series_id="planted",
        place_kind="in-person",
        city=payload("city"),
        venue=payload("venue"),
        visibility="public",
    )
    upcoming = create_event(
        settings,
        cat,
        title_zh=payload("event_title_zh"),
        title_en=payload("event_title_en"),
        description_zh=payload("event_description_zh"),
        description_en=payload("event_description_en"),
        start=f"{year + 1}-07-10 20:00",
        join_url="https://meet.example.org/planted",
        **common,
    )
    past = create_event(
        settings,
        cat,
        title_zh=payload("past_title_zh"),
        title_en=payload("past_title_en"),
        description_zh=payload("past_description_zh"),
        description_en=payload("past_description_en"),
        start=f"{year - 1}-03-01 19:00",
        **common,
    )
    link_recording(cat, past.id, item.id)
    from indexer import SearchIndex

    SearchIndex.open(settings).rebuild(cat)
    cat.close()
    return Planted(arch=arch, item=item.id, upcoming=upcoming.id, past=past.id)
