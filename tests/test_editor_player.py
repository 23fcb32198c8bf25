"""The transcript editor's player (issue 19, point 9): staff listen while they correct.

Through Streamlit's AppTest on the demo archive: the editor mounts its own player component with
the item's media as the signed file route serves it to this staff session, on the segment being
edited (the first of the page, then the one whose *Listen* was pressed), with its buttons and
documented shortcuts in both languages. In a real headless Chromium (``archive serve``): *Play this
line* plays the segment and stops at its end, and focusing a segment's text moves the player.
Before this change the editor had no player at all.
"""

from __future__ import annotations

import json
from pathlib import Path

import portal_data
import pytest
from portal_harness import (
    RecordedSession,
    archive_home,
    launch_chromium,
    log_in,
    new_session,
    open_page,
    require_chromium,
    texts,
)

from archive.catalog.db import Catalog
from archive.core.keys import load_secret
from archive.portal.routes.files import MEDIA_PREFIX, UrlSigner
from archive.portal.ui_editor import EDITOR_PLAYER_HTML

PASSWORD = "correct horse battery"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts" / "editor-player"


@pytest.fixture(scope="module")
def arch(tmp_path_factory: pytest.TempPathFactory) -> portal_data.DemoArchive:
    home = tmp_path_factory.mktemp("editor-player")
    built = portal_data.build_with_accounts(
        home, [("staff1", "staff")], PASSWORD, long_talk=False, extra=0
    )
    with archive_home(home):
        yield built


def _player(at) -> dict:
    found = [
        e for e in at.get("bidi_component") if e.proto.component_name == "hk_archive.editor_player"
    ]
    assert len(found) == 1
    return json.loads(found[0].proto.json)


def test_the_editor_plays_the_staff_media_on_the_segment_being_edited(arch) -> None:
    item = arch.ids["dock"]
    cat = Catalog.open(arch.settings)
    try:
        segments = cat.get_revision(item).segments
        audio = cat.get_media(item, "audio")
    finally:
        cat.close()
    at = log_in(new_session(lang="en", timeout=90), "staff1", PASSWORD)
    open_page(at, "edit", lang="en", item=item)
    data = _player(at)
    # The media as the file route serves it to this staff member in this session.
    assert data["src"].startswith(MEDIA_PREFIX) and data["kind"] == "audio"
    payload, viewer = UrlSigner(load_secret(arch.settings)).check(
        "media", data["src"][len(MEDIA_PREFIX) :]
    )
    assert (payload["i"], payload["m"], viewer.role, viewer.username) == (
        item, audio.role, "staff", "staff1",
    )  # fmt: skip
    assert payload["@s"]  # bound to the session it was minted in
    # The page's segments, so a focused text field makes its segment the line; the first is it.
    assert data["segments"] == {s.uid: [s.start, s.end] for s in segments}
    first = segments[0]
    assert (data["line"]["uid"], data["line"]["start"], data["line"]["end"]) == (
        first.uid, first.start, first.end,
    )  # fmt: skip
    assert data["line"]["play"] is False
    labels = data["labels"]
    assert (labels["play_line"], labels["replay"], labels["play_pause"]) == (
        "Play this line", "Replay 5 s", "Play / pause",
    )  # fmt: skip
    shown = texts(at)
    for key in ("Alt+P", "Alt+L", "Alt+R"):
        assert key in shown
    assert "replay the last 5 seconds" in shown

    # "Listen" on the fourth segment moves the player there and plays it.
    fourth = segments[3]
    at.button(key=f"ed_listen_{fourth.uid}").click().run()
    moved = _player(at)
    assert (moved["line"]["uid"], moved["line"]["start"], moved["line"]["end"]) == (
        fourth.uid, fourth.start, fourth.end,
    )  # fmt: skip
    assert moved["line"]["play"] is True and moved["line"]["n"] == data["line"]["n"] + 1
    assert moved["src"] == data["src"]  # the same URL: the media is not reloaded


def test_the_player_speaks_chinese_and_its_buttons_are_fixed(arch) -> None:
    at = log_in(new_session(lang="zh", timeout=90), "staff1", PASSWORD, lang="zh")
    open_page(at, "edit", lang="zh", item=arch.ids["dock"])
    labels = _player(at)["labels"]
    assert (labels["play_line"], labels["replay"]) == ("播放這一句", "重播 5 秒")
    assert "重播最後 5 秒" in texts(at)
    # The buttons live in the component's constant HTML (the media element survives reruns).
    for name in ("hke-play", "hke-playline", "hke-back", "hke-media"):
        assert f'class="{name}"' in EDITOR_PLAYER_HTML


# -- a real browser ------------------------------------------------------------------------------
STATE = """() => {
  const host = [...document.querySelectorAll('*')].find(e => e.shadowRoot && e.shadowRoot.querySelector('.hke'));
  if (!host) return null;
  const root = host.shadowRoot.querySelector('.hke');
  const m = host.shadowRoot.querySelector('.hke-el');
  return { ready: root.dataset.ready || null, uid: root.dataset.lineUid || null,
           start: Number(root.dataset.lineStart), end: Number(root.dataset.lineEnd),
           stoppedAt: root.dataset.stoppedAt ? Number(root.dataset.stoppedAt) : null,
           paused: m ? m.paused : null, time: m ? m.currentTime : null, src: m ? m.getAttribute('src') : null };
}"""
CLICK = """(name) => {
  const host = [...document.querySelectorAll('*')].find(e => e.shadowRoot && e.shadowRoot.querySelector('.hke'));
  host.shadowRoot.querySelector('.' + name).click();
}"""

CLEAR_STOP = """() => {
  const host = [...document.querySelectorAll('*')].find(e => e.shadowRoot && e.shadowRoot.querySelector('.hke'));
  delete host.shadowRoot.querySelector('.hke').dataset.stoppedAt;
}"""


@pytest.mark.browser
def test_play_this_line_stops_at_the_segment_end_in_chromium(arch) -> None:
    require_chromium()
    item = arch.ids["dock"]
    cat = Catalog.open(arch.settings)
    try:
        segments = cat.get_revision(item).segments
    finally:
        cat.close()
    with portal_data.Portal(arch.settings.home) as portal, launch_chromium(ARTIFACTS) as browser:
        staff = RecordedSession(browser, locale="en-GB")
        page = staff.page
        page.goto(portal.url + "/login?lang=en")
        page.get_by_label("User name").fill("staff1")
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.get_by_text("You are logged in as staff1").wait_for()
        page.goto(portal.url + f"/edit?item={item}&lang=en")
        page.wait_for_function(f"() => {{ const s = ({STATE})(); return s && s.ready; }}")
        # Focusing the third segment's Chinese text makes it the line (the player follows).
        third = segments[2]
        page.locator(f".st-key-ed_zh_1_{third.uid} textarea").focus()
        page.wait_for_function(
            f"(uid) => {{ const s = ({STATE})(); return s && s.uid === uid; }}", arg=third.uid
        )
        page.evaluate(CLICK, "hke-playline")
        page.wait_for_function(
            f"() => {{ const s = ({STATE})(); return s && s.stoppedAt !== null && s.paused; }}",
            timeout=20_000,
        )
        state = page.evaluate(STATE)
        page.screenshot(path=str(ARTIFACTS / "editor-player-en.png"))
        assert (state["start"], state["end"]) == (third.start, third.end)
        # Stopped at the end: not before it, and within a few frames after.
        assert third.end - 0.01 <= state["stoppedAt"] <= third.end + 0.2, state
        assert state["src"].startswith("/files/media/")

        # The shortcuts, typed in the text field: they act on the player and type nothing.
        field = page.locator(f".st-key-ed_zh_1_{third.uid} textarea")
        before = field.input_value()
        field.focus()
        page.keyboard.press("Alt+KeyR")  # back 5 s (to 0 at most) and play
        page.wait_for_function(f"() => {{ const s = ({STATE})(); return s && !s.paused; }}")
        page.keyboard.press("Alt+KeyP")  # pause
        page.wait_for_function(f"() => {{ const s = ({STATE})(); return s && s.paused; }}")
        assert page.evaluate(STATE)["time"] < third.end - 4
        page.evaluate(CLEAR_STOP)
        page.keyboard.press("Alt+KeyL")  # the line again, stopping at its end
        page.wait_for_function(
            f"() => {{ const s = ({STATE})(); return s && s.stoppedAt !== null && s.paused; }}",
            timeout=20_000,
        )
        assert third.end - 0.01 <= page.evaluate(STATE)["stoppedAt"] <= third.end + 0.2
        assert field.input_value() == before
        assert not staff.outside_requests() and not staff.errors, staff.errors
        staff.context.close()
