"""Text-only items (subtitles or a transcript, no media) are shown as text everywhere: no play
icon in search results or Browse, "Transcript available" (not "Recording available") on their past
event, and the item page says it is a transcript instead of "can't be played here"."""

from __future__ import annotations

import portal_data
import pytest
from portal_harness import archive_home, new_session, open_page, texts

from archive.catalog.db import Catalog
from archive.core.config import load_settings
from archive.hub.events import create_event, link_recording
from archive.portal.ui import PLAY_ICON, TEXT_ICON


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("text-only-portal")
    arch = portal_data.build(home, long_talk=False, extra=0)
    settings = load_settings(home)
    cat = Catalog.open(settings)
    past = create_event(
        settings,
        cat,
        title_en="Text only talk",
        start="2013-05-06 19:00",
        tz="Asia/Hong_Kong",
        duration_minutes=60,
        visibility="public",
    )
    link_recording(cat, past.id, arch.ids["textonly"])
    played = create_event(
        settings,
        cat,
        title_en="Recorded talk",
        start="2013-05-07 19:00",
        tz="Asia/Hong_Kong",
        duration_minutes=60,
        visibility="public",
    )
    link_recording(cat, played.id, arch.ids["dock"])
    cat.close()
    arch.ids["past_event"], arch.ids["played_event"] = past.id, played.id
    with archive_home(home):
        yield arch


def _icons(at, item_id: str) -> set[str]:
    return {
        link.proto.icon
        for link in at.get("page_link")
        if f"item={item_id}" in link.proto.query_string
    }


def test_search_shows_a_text_only_item_as_text_and_a_recording_as_playable(portal):
    at = open_page(new_session(lang="en"), "search", q="forty days", lang="en")
    text_icons = _icons(at, portal.ids["textonly"])
    assert text_icons and PLAY_ICON not in text_icons and TEXT_ICON in text_icons, text_icons
    assert not any("play" in icon or icon == "▶️" for icon in text_icons)  # nor do its hit links
    assert PLAY_ICON in _icons(at, portal.ids["dock"])


def test_browse_shows_a_text_only_item_as_text(portal):
    at = open_page(new_session(lang="en"), "browse", lang="en")
    assert _icons(at, portal.ids["textonly"]) == {TEXT_ICON}
    assert _icons(at, portal.ids["dock"]) == {PLAY_ICON}


def test_the_item_page_says_it_is_a_transcript(portal):
    shown = texts(open_page(new_session(lang="en"), "item", item=portal.ids["textonly"], lang="en"))
    assert "This item is a transcript, with no recording to play." in shown
    assert "can't be played" not in shown


def test_a_past_event_with_a_text_only_recording_promises_no_sound(portal):
    at = open_page(new_session(lang="en"), "upcoming", lang="en")
    shown = texts(at)
    assert "Transcript available" in shown
    assert shown.count("Recording available") == 1  # the dock talk's event, which has sound
