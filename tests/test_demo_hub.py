"""The demo archive shows the webinar hub: on a fresh demo, Home lists the next events, Events and
an event page have content, and the series page joins a past talk to its recording.

The demo is built by ``build_demo`` itself with a fixtures folder that holds no recordings (the
real-speech items need the Whisper model; they are covered by the slow tests), so it makes the
subtitle items it always can, then the hub. Pages through Streamlit's AppTest on the real app.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from portal_harness import archive_home, new_session, open_page, texts

from archive.catalog.access import Viewer
from archive.catalog.db import Catalog
from archive.core.config import load_settings
from archive.demo.build import build_demo
from archive.demo.hub import DEMO_SERIES_ID
from archive.hub.events import list_events


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Catalog]]:
    home = tmp_path_factory.mktemp("demo-home")
    no_recordings = tmp_path_factory.mktemp("no-fixtures")
    settings = load_settings(home).ensure()
    catalog = Catalog.open(settings)
    built = build_demo(settings, catalog, fixtures=no_recordings, echo=lambda _m: None)
    assert [i.title_en for i in built] == ["The 2013 dock strike: sample text (demo)"]
    with archive_home(home):
        yield home, catalog
    catalog.close()


def test_demo_events_are_dated_from_today_one_online_one_in_person(demo) -> None:
    _home, catalog = demo
    upcoming = list_events(catalog, viewer=Viewer("public"), upcoming=True)
    assert [e.place_kind for e in upcoming] == ["online", "in-person"]
    today = date.today()
    starts = [date.fromisoformat(e.start_utc[:10]) for e in upcoming]
    assert today + timedelta(days=13) <= starts[0] <= today + timedelta(days=15)
    assert today + timedelta(days=29) <= starts[1] <= today + timedelta(days=31)
    assert all("(demo)" in e.title_en and "示範" in e.title_zh for e in upcoming)


def test_the_demo_series_has_a_past_talk_whose_recording_is_an_item(demo) -> None:
    _home, catalog = demo
    past = list_events(catalog, viewer=Viewer("public"), upcoming=False, series_id=DEMO_SERIES_ID)
    assert len(past) == 1 and past[0].status == "held"
    item = catalog.get_item(past[0].item_id)
    assert item.is_demo and item.title_en == "The 2013 dock strike: sample text (demo)"


def test_home_events_event_and_series_pages_have_content(demo) -> None:
    _home, catalog = demo
    home = open_page(new_session(lang="en"), None, lang="en")
    shown = texts(home)
    assert "No events are announced at the moment" not in shown
    assert "Online talk: organising after the strike (demo)" in shown

    events = open_page(new_session(lang="en"), "upcoming", lang="en")
    shown = texts(events)
    assert "London meeting: the bar-benders' strike remembered (demo)" in shown
    assert "The dock strike, ten years on (demo)" in shown  # past events are listed too

    online = list_events(catalog, viewer=Viewer("public"), upcoming=True)[0]
    page = open_page(new_session(lang="zh"), "event", event=online.id, lang="zh")
    assert [t.value for t in page.title] == ["網上講座：罷工之後的工會組織（示範）"]

    series = open_page(new_session(lang="en"), "series", series=DEMO_SERIES_ID, lang="en")
    shown = texts(series)
    assert "Dock strike anniversary talks (demo)" in shown
    assert "The 2013 dock strike: sample text (demo)" in shown  # the recording, in the series


def test_the_default_fixtures_are_the_shared_folder_beside_the_checkout(monkeypatch) -> None:
    """What `make run` builds the demo from (the package moved down a folder once and lost it)."""
    from archive.demo.build import default_fixtures

    monkeypatch.delenv("ARCHIVE_FIXTURES", raising=False)
    root = Path(__file__).resolve().parent.parent
    assert default_fixtures() == root.parent / "shared" / "fixtures"
    assert (default_fixtures() / "SOURCES.md").is_file()
