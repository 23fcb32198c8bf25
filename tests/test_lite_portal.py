"""The light portal at ``/lite/…``: plain pages from the live catalog, in both languages, with exact
moments, working without JavaScript.

A real archive (the demo recordings plus ``planted_data``'s series and events) served by ``archive
serve`` on 127.0.0.1, fetched over HTTP as a browser would; one real headless Chromium run with
JavaScript turned off follows a search hit to its moment, and one with it on checks that the
player's following along marks the row it seeks to. The portal's own header offers the light
twin of the page being read (AppTest).
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from pathlib import Path

import planted_data
import portal_data
import pytest
from portal_harness import (
    RecordedSession,
    archive_home,
    launch_chromium,
    new_session,
    open_page,
    require_chromium,
)

from archive.catalog.db import Catalog

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


@pytest.fixture(scope="module")
def lite(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("lite")
    planted = planted_data.build(home)
    # A two-hour talk's transcript (1,500 rows, text only): the page must stay light.
    cat = Catalog.open(planted.arch.settings)
    long = cat.create_item(
        title_zh="長講座", title_en="A long talk", collection="webinar", visibility="public"
    )
    cat.add_revision(long.id, portal_data.long_segments(), origin="subtitles")
    cat.close()
    planted.arch.ids["long"] = long.id
    with portal_data.Portal(home) as portal:
        yield planted, portal


def get(portal, path: str, headers: dict[str, str] | None = None) -> tuple[int, str, dict]:
    request = urllib.request.Request(portal.url + path, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode("utf-8"), dict(response.headers)
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode("utf-8"), dict(err.headers)


def current_row(page: str) -> str:
    """The ``data-start`` of the transcript row marked as the chosen one."""
    found = re.findall(r'<li[^>]*class="current"[^>]*data-start="([0-9.]+)"', page)
    assert len(found) == 1, found
    return found[0]


def light_paths(planted) -> list[str]:
    ids = planted.arch.ids
    return [
        "/lite/",
        "/lite/search?q=strike",
        "/lite/browse",
        f"/lite/item/{ids['dock']}",
        "/lite/events",
        f"/lite/event/{planted.upcoming}",
        f"/lite/event/{planted.past}",
        "/lite/series",
        f"/lite/series/{planted.series}",
    ]


@pytest.mark.parametrize(
    ("lang", "html_lang", "word"), [("zh", "zh-Hant-HK", "瀏覽"), ("en", "en-GB", "Browse")]
)
def test_every_light_page_renders_in_both_languages_as_plain_html(lite, lang, html_lang, word):
    planted, portal = lite
    for path in light_paths(planted):
        sep = "&" if "?" in path else "?"
        status, page, headers = get(portal, f"{path}{sep}lang={lang}")
        assert status == 200, (path, page[-500:])
        assert f'<html lang="{html_lang}">' in page, path
        assert f">{word}</a>" in page, path  # the header's links, in this language
        assert "Content-Security-Policy" in headers or "content-security-policy" in headers
        # Plain HTML: the only script any light page loads is the player's, on an item page.
        scripts = re.findall(r"<script[^>]*>", page)
        expected = ['<script src="/lite/static/lite-player.js" defer>'] if "/item/" in path else []
        assert scripts == expected, (path, scripts)
        assert len(page.encode()) <= 100_000, path
        # The other language and the full version are one link away.
        other = "en" if lang == "zh" else "zh"
        assert f"lang={other}" in page and 'class="full"' in page, path


def test_a_moment_selects_the_segment_at_or_containing_it_never_its_neighbour(lite):
    planted, portal = lite
    dock = planted.arch.ids["dock"]
    # The dock talk's rows: 0-1.6, 1.8-3.4, 3.6-5.2, 5.4-7.0, ...
    cases = {"5.4": "5.400", "6.95": "5.400", "5.3995": "5.400", "3.6": "3.600", "1.8": "1.800"}
    for asked, expected in cases.items():
        status, page, _headers = get(portal, f"/lite/item/{dock}?t={asked}&lang=en")
        assert status == 200
        assert current_row(page) == expected, asked
    status, page, _headers = get(portal, f"/lite/item/{dock}?t=5.4&lang=en")
    # The native player starts at the chosen row's own start, to the millisecond.
    assert re.search(r'<audio id="player" controls[^>]*src="/files/media/[^"#]+#t=5\.4"', page)
    # Every row links its fractional start, and carries it as its anchor.
    assert f'href="/lite/item/{dock}?t=5.4&amp;lang=en#t=5.4"' in page
    assert f'href="/lite/item/{dock}?t=1.8&amp;lang=en#t=1.8"' in page
    assert 'id="t=5.4"' in page and 'id="t=3.6"' in page
    # The citation quotes the chosen segment, at its moment.
    cite = page[page.index('<section class="cite"') :]
    assert "eight million dollars donated" in cite and "forty days" not in cite
    assert "0:05" in cite


def test_a_two_hour_transcript_is_a_light_page_around_its_moment(lite):
    planted, portal = lite
    long = planted.arch.ids["long"]
    segments = portal_data.long_segments()
    target = segments[1234]  # start 5923.2 s: a fractional moment deep in the talk
    status, page, _headers = get(portal, f"/lite/item/{long}?t={target.start}&lang=en")
    assert status == 200
    assert len(page.encode()) <= 100_000
    assert current_row(page) == f"{target.start:.3f}"
    assert f"Part {1235}: " in page and "Part 1: " not in page
    # The parts before and after are one link away, each opening at a moment of its own.
    earlier = re.search(r'<a rel="prev" href="([^"]+)"', page).group(1)
    later = re.search(r'<a rel="next" href="([^"]+)"', page).group(1)
    before = get(portal, earlier.replace("&amp;", "&"))[1]
    after = get(portal, later.replace("&amp;", "&"))[1]
    assert f"Part {1224}: " in before and f"Part {1385}: " in after
    status, page, _headers = get(portal, f"/lite/item/{long}?lang=en")
    assert "Part 1: " in page and len(page.encode()) <= 100_000


def test_citation_styles_and_revision_links_keep_the_moment(lite):
    planted, portal = lite
    dock = planted.arch.ids["dock"]
    status, page, _headers = get(portal, f"/lite/item/{dock}?t=5.4&style=bibtex&lang=en")
    assert status == 200 and "@" in page[page.index('<pre class="citation">') :][:200]
    assert f"/lite/item/{dock}?t=5.4&amp;style=apa&amp;lang=en" in page


def test_search_hits_link_their_exact_moments(lite):
    planted, portal = lite
    dock = planted.arch.ids["dock"]
    status, page, _headers = get(portal, "/lite/search?q=strike&lang=en")
    assert status == 200
    assert f'href="/lite/item/{dock}?t=5.4&amp;lang=en#t=5.4"' in page
    assert "<mark>strike</mark>" in page
    assert 'value="strike"' in page  # the box keeps the query
    status, page, _headers = get(portal, "/lite/search?q=%E7%A2%BC%E9%A0%AD&lang=zh")
    assert status == 200 and "<mark>碼頭</mark>" in page
    status, page, _headers = get(portal, "/lite/search?q=qqqzzzxxy&lang=en")
    assert status == 200 and "No results for" in page


def test_browse_filters_by_collection_and_unknown_ids_are_not_found(lite):
    planted, portal = lite
    ids = planted.arch.ids
    status, page, _headers = get(portal, "/lite/browse?collection=webinar&lang=en")
    assert status == 200
    assert f"/lite/item/{ids['dock']}?" in page and f"/lite/item/{ids['bar']}?" not in page
    for path in ("/lite/item/nope", "/lite/event/nope", "/lite/series/nope"):
        status, page, _headers = get(portal, path + "?lang=en")
        assert status == 404 and "Not found" in page, path


def test_events_and_series_pages(lite):
    planted, portal = lite
    status, page, _headers = get(portal, "/lite/events?lang=en")
    assert status == 200
    assert f"/lite/event/{planted.upcoming}?" in page and f"/lite/event/{planted.past}?" in page
    status, page, _headers = get(portal, f"/lite/event/{planted.past}?lang=en")
    assert status == 200 and f'href="/lite/item/{planted.item}?lang=en"' in page
    status, page, _headers = get(portal, f"/lite/event/{planted.upcoming}?lang=en")
    assert 'href="https://meet.example.org/planted"' in page  # the join link staff set
    status, page, _headers = get(portal, f"/lite/series/{planted.series}?lang=zh")
    assert status == 200
    assert f"/lite/item/{planted.item}?" in page and f"/lite/event/{planted.past}?" in page


def test_the_portal_header_offers_the_light_twin_of_the_page(lite):
    planted, _portal = lite
    dock = planted.arch.ids["dock"]
    with archive_home(planted.arch.settings.home):
        at = new_session(lang="en")
        open_page(at, "search", lang="en", q="strike")
        links = " ".join(str(m.value) for m in at.markdown)
        assert 'href="/lite/search?q=strike&amp;lang=en"' in links
        open_page(at, "item", lang="en", item=dock, t="5.4")
        links = " ".join(str(m.value) for m in at.markdown)
        assert f'href="/lite/item/{dock}?t=5.4&amp;lang=en"' in links


@pytest.mark.browser
def test_without_javascript_a_hit_opens_its_moment_and_with_it_the_row_follows(lite):
    require_chromium()
    planted, portal = lite
    dock = planted.arch.ids["dock"]
    with launch_chromium(ARTIFACTS) as browser:
        plain = RecordedSession(browser, locale="en-GB", java_script_enabled=False)
        page = plain.page
        page.goto(portal.url + "/lite/search?q=strike&lang=en")
        page.locator(f'a.ts[href*="/lite/item/{dock}?t=5.4"]').first.click()
        page.wait_for_url(re.compile(r".*t=5\.4.*"))
        row = page.locator("ol.segments li.current")
        assert row.get_attribute("data-start") == "5.400"
        assert row.is_visible()
        assert page.locator("audio#player").get_attribute("src").endswith("#t=5.4")
        assert page.locator("pre.citation").is_visible()
        # The search box works as a form too.
        page.fill('input[name="q"]', "碼頭")
        page.press('input[name="q"]', "Enter")
        page.wait_for_url(re.compile(r".*/lite/search\?q=.*"))
        assert page.locator("ol.hits mark").count() > 0
        assert not plain.outside_requests()
        plain.page.screenshot(path=str(ARTIFACTS / "lite-no-js.png"))
        plain.context.close()

        scripted = RecordedSession(browser, locale="en-GB")
        page = scripted.page
        page.goto(portal.url + f"/lite/item/{dock}?lang=en")
        page.locator('a.ts[href*="t=3.6"]').first.click()
        page.wait_for_function(
            "() => document.querySelector('ol.segments li.current')?.dataset.start === '3.600'"
        )
        # It seeked there and plays on: the position is inside that row (3.6-5.2).
        assert 3.59 <= page.evaluate("document.getElementById('player').currentTime") < 5.2
        assert "t=3.6" in page.url  # the address names the moment, for copying
        assert not scripted.errors and not scripted.outside_requests()
        scripted.context.close()


def test_light_pages_read_the_catalog_live(lite):
    """A change in the catalog shows on the very next request: nothing is cached per process."""
    planted, portal = lite
    bar = planted.arch.ids["bar"]
    assert get(portal, f"/lite/item/{bar}?lang=en")[0] == 200
    cat = Catalog.open(planted.arch.settings)
    try:
        cat.update_item(bar, visibility="staff")
        assert get(portal, f"/lite/item/{bar}?lang=en")[0] == 404
        assert f"/lite/item/{bar}?" not in get(portal, "/lite/browse?lang=en")[1]
    finally:
        cat.update_item(bar, visibility="public")
        cat.close()


def test_the_light_item_page_does_not_fetch_the_recording_until_it_is_played(lite):
    """A light page stays light (issue 19, point 5: ≤ 100 kB): the player fetches nothing, not
    even the recording's metadata, until the reader presses play."""
    planted, portal = lite
    _status, page, _headers = get(portal, f"/lite/item/{planted.arch.ids['dock']}?t=5.4")
    players = re.findall(r"<(?:audio|video) [^>]*>", page)
    assert players and all('preload="none"' in p for p in players), players
