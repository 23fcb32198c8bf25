"""The portal's pages through Streamlit's AppTest: the real app on a real archive (SQLite, media
files, a search index of each engine), in both interface languages. No mocks."""

from __future__ import annotations

import json
import os
import re

import portal_data
import pytest
from portal_harness import archive_home, new_session, open_page, shown, texts
from streamlit.testing.v1 import AppTest


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory, engine: str) -> portal_data.DemoArchive:
    home = tmp_path_factory.mktemp("portal-home")
    arch = portal_data.build(home, engine=engine)
    with archive_home(home):
        yield arch


def run(page: str = "search", **params: str) -> AppTest:
    """Open ``page`` with ``params`` in its URL, through the app's own navigation and chrome, in a
    new session; "home" is the default page (Search is /search). Before the page, the entry script
    runs in ``lang`` (Chinese if not given), as a visitor's browser does when it opens a link."""
    at = new_session(lang=params.get("lang", "zh"))
    return open_page(at, None if page == "home" else page, **params)


def links(at: AppTest) -> list[dict[str, str]]:
    """The query parameters of every in-app link on the page."""
    out = []
    for link in at.get("page_link"):
        query = link.proto.query_string if hasattr(link.proto, "query_string") else ""
        out.append(
            dict(p.split("=", 1) for p in query.split("&") if "=" in p) | {"_page": link.proto.page}
        )
    return out


def player_data(at: AppTest) -> dict:
    players = [e for e in at.get("bidi_component") if e.proto.component_name == "hk_archive.player"]
    assert len(players) == 1
    return json.loads(players[0].proto.json)


# -- search ---------------------------------------------------------------------------------
def test_search_in_chinese_shows_grouped_highlighted_results(archive):
    at = run(q="碼頭", lang="zh")
    shown = texts(at)
    assert "<mark>碼頭</mark>" in shown
    assert "碼頭工人罷工十周年" in shown  # the title, in the interface language first
    assert "Dock strike, ten years on" in shown  # and the other one
    assert "在 3 個錄音中找到" in shown  # the summary is Chinese
    assert "內部會議記錄" not in shown and "Internal meeting" not in shown  # staff only
    hits = [link for link in links(at) if "t" in link]
    assert hits and all(link["item"] in archive.ids.values() for link in hits)
    assert all(link["lang"] == "zh" for link in hits)
    dock_hits = [link for link in hits if link["item"] == archive.ids["dock"]]
    assert dock_hits and dock_hits[0]["t"] == "0"
    assert at.query_params["q"] == "碼頭"


def test_search_in_english_finds_the_chinese_side_too(archive):
    at = run(q="picket lines", lang="en")
    shown = texts(at)
    assert "<mark>picket</mark>" in shown
    assert "工會的角色好重要" in shown  # the Chinese text of the same segment
    assert "Dock strike, ten years on" in shown
    assert "1 passage in 1 recording" in shown
    assert "Search the archive" in [w.label for w in at.text_input]


def test_search_in_simplified_chinese_finds_the_traditional_text(archive):
    at = run(q="码头工人", lang="zh")
    shown = texts(at)
    assert "<mark>碼頭工人</mark>" in shown
    assert "碼頭工人罷工十周年" in shown
    assert at.query_params["q"] == "码头工人"


def test_search_box_submits_and_puts_the_query_in_the_url(archive):
    at = run(lang="en")
    assert "Try one of these:" in texts(at)
    at.text_input(key="search_q").set_value("bar-benders")
    at.button[0].click()  # the form's submit button
    at.run()
    assert not at.exception
    assert at.query_params["q"] == "bar-benders"
    assert "Bar-benders' strike anniversary" in texts(at)


def test_search_suggestion_runs_a_search(archive):
    at = run(lang="zh")
    at.button(key="suggest_1").click().run()
    assert not at.exception
    assert at.query_params["q"] == "紮鐵"
    assert "紮鐵工人罷工周年紀念" in texts(at)


def test_search_with_no_results_explains_what_to_try(archive):
    at = run(q="zzqqxx", lang="zh")
    shown = texts(at)
    assert "找不到「zzqqxx」的結果" in shown
    assert "請檢查拼寫" in shown
    at = run(q="zzqqxx", lang="en")
    assert "No results for “zzqqxx”" in texts(at)


def test_search_facets_filter_and_are_linkable(archive):
    at = run(q="工會", lang="en")
    assert "Page 1 of 2" in texts(at)
    collection = at.selectbox(key="search_collection")
    assert "interview" in collection.options[0] or "Interviews" in " ".join(collection.options)
    collection.set_value("webinar").run()
    assert not at.exception
    assert at.query_params["collection"] == "webinar"
    shown = texts(at)
    assert "Union oral history" not in shown
    assert "Dock strike, ten years on" in shown
    # The same search from its link gives the same page.
    again = run(q="工會", collection="webinar", lang="en")
    assert "Union oral history" not in texts(again) and "Dock strike, ten years on" in texts(again)


def test_search_paging(archive):
    at = run(q="工會", lang="zh")
    assert "第 1 頁，共 2 頁" in texts(at)
    first = {link["item"] for link in links(at) if "item" in link}
    at.button(key="search_next").click().run()
    assert not at.exception
    assert at.query_params["page"] == "2"
    assert "第 2 頁，共 2 頁" in texts(at)
    second = {link["item"] for link in links(at) if "item" in link}
    assert first and second and not first & second


def test_odd_query_is_answered_not_crashed(archive):
    at = run(q='"unbalanced AND (', lang="en")
    assert not at.exception
    assert "Traceback" not in texts(at)


def test_old_style_permalink_opens_the_item(archive):
    at = run(item=archive.ids["dock"], t="5", lang="en")
    assert [shown(t.value) for t in at.title] == ["Dock strike, ten years on"]


# -- language ---------------------------------------------------------------------------------
def test_language_switch_in_one_click_is_kept_in_the_url(archive):
    at = run(q="碼頭", lang="en")
    assert "Search the archive" in [w.label for w in at.text_input]
    at.segmented_control(key="lang_switch").set_value("zh").run()
    assert not at.exception
    assert at.query_params["lang"] == "zh"
    assert "搜尋檔案館" in [w.label for w in at.text_input]
    assert "在 3 個錄音中找到" in texts(at)


def test_language_comes_from_the_url_and_defaults_to_chinese(archive):
    at = run()
    assert at.query_params["lang"] == "zh"
    assert "搜尋檔案館" in [w.label for w in at.text_input]
    at = run(lang="en-GB")
    assert at.query_params["lang"] == "en"


# -- item ------------------------------------------------------------------------------------
def test_item_page_starts_at_t_with_the_transcript(archive):
    item = archive.ids["dock"]
    at = run("item", item=item, t="5", lang="zh")
    assert [t.value for t in at.title] == ["碼頭工人罷工十周年"]
    data = player_data(at)
    assert data["seek"]["t"] == 5.0 and data["seek"]["play"] is True
    assert data["src"].startswith("/files/media/")
    assert data["cues_url"].startswith("/files/transcript/")
    assert data["kind"] == "audio" and data["mode"] == "both"
    shown = texts(at)
    assert "0:05：貨櫃碼頭的工人每日工作二十四小時輪班。" in shown  # the segment playing at t
    assert "Demo / 示範" in shown
    assert "2023年3月28日" in shown and "粵語" in shown and "李卓人" in shown
    assert "https://example.org/webinars/dock-strike-10" in shown
    assert "二零一三年葵涌貨櫃碼頭罷工十周年網上研討會。" in shown  # both descriptions
    assert "A webinar marking ten years since the 2013 Kwai Chung" in shown


def test_item_video_and_track_toggle_and_find(archive):
    at = run("item", item=archive.ids["interview"], lang="en")
    assert player_data(at)["kind"] == "video"
    at.segmented_control(key="item_track").set_value("en").run()
    assert player_data(at)["mode"] == "en"
    assert at.query_params["track"] == "en"
    at.text_input(key="item_find").set_value("union").run()
    assert not at.exception
    assert player_data(at)["find"] == "union"
    assert "1 segment matches" in texts(at)
    assert at.query_params["find"] == "union"


def test_two_hour_item_keeps_its_transcript_off_the_websocket(archive):
    at = run("item", item=archive.ids["long"], t="3600", lang="zh")
    data = player_data(at)
    assert data["seek"]["t"] == 3600.0
    assert len(json.dumps(data)) < 5000  # the 1,500 cues are fetched by the browser, once
    assert "1,500 段" in texts(at)


def test_item_honours_rev_and_says_so(archive):
    item = archive.ids["bar"]
    at = run("item", item=item, rev="1", t="3", lang="zh")
    shown = texts(at)
    assert "你正在閱讀引文所指的文字稿第 1 版。最新為第 2 版。" in shown
    assert "rev=1" in [c.value for c in at.code][0]
    data = player_data(at)
    latest = run("item", item=item, t="3", lang="zh")
    assert player_data(latest)["cues_url"] != data["cues_url"]
    assert "rev=2" in [c.value for c in latest.code][0]
    missing = run("item", item=item, rev="9", lang="en")
    assert "Transcript revision 9 doesn't exist; showing the latest." in texts(missing)


def test_item_hidden_or_unknown_is_a_plain_message(archive):
    for item in (archive.ids["secret"], "nosuchitem"):
        at = run("item", item=item, lang="zh")
        assert [e.value for e in at.error] == ["找不到這個錄音。它可能已被移動，或並未公開。"]
        assert not [
            e for e in at.get("bidi_component") if e.proto.component_name == "hk_archive.player"
        ]
    at = run("item", lang="en")
    assert "Choose a recording from Search or Browse." in texts(at)


def test_item_without_a_recording_still_shows_and_cites_its_text(archive):
    item = archive.ids["textonly"]
    at = run("item", item=item, t="4", lang="en")
    data = player_data(at)
    assert data["src"] is None and data["cues_url"].startswith("/files/transcript/")
    assert "This item is a transcript, with no recording to play." in texts(at)
    assert data["labels"]["no_media"] == "This item is a transcript, with no recording to play."
    assert f"item={item}&t=4&rev=1" in at.code[0].value
    assert "length unknown" in texts(at)


def test_item_bad_parameters_do_not_break_the_page(archive):
    at = run("item", item=archive.ids["dock"], t="soon", rev="x", track="klingon", lang="xx")
    assert player_data(at)["seek"]["t"] == 0
    assert player_data(at)["mode"] == "both"


def download_links(at: AppTest) -> dict[str, tuple[str, str]]:
    """format -> (signed URL, file name) of the page's download links."""
    html_text = "\n".join(str(m.value) for m in at.markdown if "hk-dl" in str(m.value))
    return {
        fmt: (url, name)
        for url, name, fmt in re.findall(
            r'href="([^"]+)" download="([^"]+)" data-format="(\w+)"', html_text
        )
    }


def test_downloads_offer_every_format_for_either_track(archive):
    item = archive.ids["dock"]
    at = run("item", item=item, lang="zh")
    got = download_links(at)
    assert sorted(got) == ["json", "srt", "txt", "vtt"]
    assert {name for _url, name in got.values()} == {
        f"{item}.r1.zh.{ext}" for ext in ("srt", "vtt", "txt", "json")
    }
    assert all(url.startswith("/files/subtitles/") for url, _name in got.values())
    assert "純文字" in texts(at)
    at.segmented_control(key="item_dl_track").set_value("en").run()
    assert download_links(at)["srt"][1] == f"{item}.r1.en.srt"
    # A pinned revision downloads that revision.
    pinned = run("item", item=archive.ids["bar"], rev="1", lang="en")
    assert download_links(pinned)["vtt"][1] == f"{archive.ids['bar']}.r1.en.vtt"
    # What the links deliver is checked over real HTTP in test_portal_http.py.


def test_cite_this_points_to_the_moment_in_every_style(archive):
    item = archive.ids["dock"]
    at = run("item", item=item, t="5", lang="en")
    chicago = at.code[0].value
    assert f"item={item}&t=5&rev=1" in chicago
    assert "Dock Strike, Ten Years on" in chicago or "Dock strike, ten years on" in chicago
    seen = {}
    for style in ("apa", "mla", "bibtex", "ris", "csl-json"):
        at.segmented_control(key="item_cite_style").set_value(style).run()
        assert not at.exception
        seen[style] = at.code[0].value
        assert "t=5" in seen[style]
    assert seen["bibtex"].lstrip().startswith("@")
    assert re.search(r"^TY  - ", seen["ris"], re.M)
    assert json.loads(seen["csl-json"])[0]["URL"].endswith(f"item={item}&t=5&rev=1")
    assert "Points to 0:05 in transcript revision 1." in texts(at)


# -- browse and about -------------------------------------------------------------------------
def test_browse_lists_collections_filters_sorts_and_charts(archive):
    at = run("browse", lang="zh")
    shown = texts(at)
    assert "瀏覽檔案館" in shown
    assert "內部會議記錄" not in shown
    assert "第 1 頁，共 1 頁" not in shown  # 17 public items fit one page of 20
    assert "17 個錄音" in shown
    assert at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")
    at.session_state["browse_collection"] = "webinar"
    at.run()
    assert at.query_params["collection"] == "webinar"
    shown = texts(at)
    assert "2 個錄音" in shown and "工會口述歷史" not in shown
    at.selectbox(key="browse_sort").set_value("oldest").run()
    titles = [p.proto.label for p in at.get("page_link") if "item=" in p.proto.query_string]
    assert titles[0].startswith("**香港勞工運動兩小時講座")  # 2021 before 2023
    assert at.query_params["sort"] == "oldest"


def test_browse_filters_by_speaker_and_empty_state(archive):
    at = run("browse", lang="en", speaker="Carol Ng")
    shown = texts(at)
    assert "1 recording" in shown and "Interview: a union organiser in exile" in shown
    at = run("browse", lang="en", speaker="Carol Ng", collection="webinar")
    assert "No recordings match these filters." in texts(at)


def test_about_page_in_both_languages(archive):
    assert "Searches are not logged with your address." in texts(run("about", lang="en"))
    assert "搜尋不會連同你的網絡位址記錄。" in texts(run("about", lang="zh"))


def test_a_broken_data_folder_is_a_plain_message_not_a_traceback(archive, tmp_path):
    import streamlit as st

    not_a_folder = tmp_path / "data"
    not_a_folder.write_text("this is a file")
    old = os.environ["ARCHIVE_HOME"]
    os.environ["ARCHIVE_HOME"] = str(not_a_folder)
    st.cache_resource.clear()
    try:
        for lang, message in (
            ("zh", "檔案館的設定有問題，請通知檔案館職員。"),
            ("en", "The archive is not set up correctly. Please tell the archive's staff."),
        ):
            for page in ("search", "item", "browse"):
                at = run(page, lang=lang, q="x", item="y")
                assert [e.value for e in at.error] == [message]
    finally:
        os.environ["ARCHIVE_HOME"] = old
        st.cache_resource.clear()
