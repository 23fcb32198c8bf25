"""The demo's headline dock-strike talk plays real speech, labelled as demo material (issue 19, point 7).

``build_demo`` is run into a tmp folder with the real shared fixtures but without the recordings
the Whisper model transcribes (``recordings=()``: those are the slow tests' business), so this
builds in seconds: the talk's audio is made from the fixture clips with the real ffmpeg, ingested
like any file, with its own subtitles as its transcript. Then ffprobe reads the stored file, the
portal's own media route (``archive serve`` on 127.0.0.1) serves it to an anonymous visitor, and
the description names where the speech comes from. Without the fixtures folder the demo still
builds, says why the talk is text only, and the talk says it has no recording.
"""

from __future__ import annotations

import json
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import portal_data
import pytest

from archive.catalog.access import Viewer
from archive.catalog.db import Catalog
from archive.catalog.models import Item
from archive.core.config import Settings, load_settings
from archive.demo.build import build_demo
from archive.demo.hub import DEMO_SERIES_ID, RECORDING_TITLE_EN
from archive.hub.events import list_events
from archive.portal.routes.files import media_url

PUBLIC = Viewer("public")


def _duration(path: Path) -> float:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return float(json.loads(out)["format"]["duration"])


def _headline(catalog: Catalog) -> Item:
    """The past talk of the demo series: its recording is the headline item."""
    past = list_events(catalog, viewer=PUBLIC, upcoming=False, series_id=DEMO_SERIES_ID)
    assert len(past) == 1 and past[0].item_id, past
    return catalog.get_item(past[0].item_id)


@pytest.fixture(scope="module")
def demo(
    tmp_path_factory: pytest.TempPathFactory, fixtures_dir: Path
) -> Iterator[tuple[Path, Settings, Catalog, list[str]]]:
    home = tmp_path_factory.mktemp("demo-media")
    settings = load_settings(home).ensure()
    catalog = Catalog.open(settings)
    notes: list[str] = []
    build_demo(settings, catalog, fixtures=fixtures_dir, recordings=(), echo=notes.append)
    yield home, settings, catalog, notes
    catalog.close()


def test_the_headline_talk_has_a_stored_recording_that_ffprobe_reads(demo) -> None:
    home, _settings, catalog, notes = demo
    item = _headline(catalog)
    assert item.is_demo and item.title_en == RECORDING_TITLE_EN
    roles = {m.role: m for m in catalog.list_media(item.id)}
    assert {"original", "audio"} <= set(roles), roles
    for role in ("original", "audio"):
        stored = home / roles[role].path
        # 53 s: seven cue slots, the last ending with the 11 s English clip.
        assert 52.0 <= _duration(stored) <= 54.0, (role, stored)
    assert not [n for n in notes if n.startswith("note:")], notes
    # Its transcript is still its own text (no model run), the demo line first.
    rev = catalog.get_revision(item.id)
    assert rev is not None and rev.origin == "subtitles" and len(rev.segments) == 7
    assert rev.segments[0].text_en.startswith("Demo:")
    assert rev.segments[-1].end == pytest.approx(53.0)


def test_the_headline_talks_description_names_the_demo_source_and_licences(demo) -> None:
    _home, _settings, catalog, _notes = demo
    item = _headline(catalog)
    en, zh = item.description_en, item.description_zh
    assert en.startswith("Demo: the audio is public sample speech, not a recording of this talk")
    for needed in ("SenseVoice", "CosyVoice", "faster-whisper", "MIT", "Apache-2.0", "SOURCES.md"):
        assert needed in en, needed
    assert zh.startswith("示範：錄音是公開的語音樣本") and "SOURCES.md" in zh


def test_the_portals_media_route_serves_the_headline_talk_to_a_visitor(demo, tmp_path) -> None:
    home, settings, catalog, _notes = demo
    item = _headline(catalog)
    with portal_data.Portal(home) as portal:
        url = portal.url + media_url(settings, item.id, "audio", PUBLIC)
        with urllib.request.urlopen(url, timeout=30) as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("audio/")
            body = response.read()
    served = tmp_path / "served.m4a"
    served.write_bytes(body)
    assert _duration(served) > 50.0


def test_without_the_fixtures_folder_the_demo_builds_and_says_why(tmp_path: Path) -> None:
    settings = load_settings(tmp_path / "home").ensure()
    catalog = Catalog.open(settings)
    notes: list[str] = []
    try:
        built = build_demo(
            settings, catalog, fixtures=tmp_path / "no-such-folder", echo=notes.append
        )
        assert [i.title_en for i in built] == [RECORDING_TITLE_EN]
        assert any("fixtures folder" in n and "text only" in n for n in notes), notes
        item = _headline(catalog)
        assert catalog.list_media(item.id) == []
        assert "No recording is held." in item.description_en
        assert "本庫未存錄音" in item.description_zh
    finally:
        catalog.close()
