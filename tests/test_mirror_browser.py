"""The static mirror served by `python -m http.server` and used in a real headless Chromium
(Debian's), driven by Playwright: searches typed in Simplified, Traditional and English find the
right item and open it at the right second, and no request ever leaves 127.0.0.1."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from portal_harness import launch_chromium, require_chromium
from preserve_data import CANARY_STAFF, Sample, sample_copy

from archive.preservation.mirror import build_mirror

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent / "artifacts" / "mirror"
PLAYER = "() => { const a = document.getElementById('player'); return a ? a.currentTime : null; }"


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sample, str]]:
    require_chromium()
    folder = tmp_path_factory.mktemp("mirror-browser")
    sample = sample_copy(folder)
    site = folder / "site"
    build_mirror(
        sample.settings, sample.catalog, site, base_url="https://mirror.example.org/archive"
    )
    # The very server the documentation tells people to try: python -m http.server.
    server = subprocess.Popen(
        [sys.executable, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", str(site)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        line = server.stdout.readline() if server.stdout else ""
        assert "port" in line, line
        port = int(line.split(" port ")[1].split()[0])
        yield sample, f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)
        sample.catalog.close()


@pytest.fixture(scope="module")
def browser():
    with launch_chromium(ARTIFACTS) as chromium:
        yield chromium


@pytest.fixture
def page(browser, mirror):  # type: ignore[no-untyped-def]
    """A fresh context; every request it makes must go to the mirror's own server."""
    _, base = mirror
    context = browser.new_context()
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    # Each page carries its own Content-Security-Policy; nothing the mirror does may break it.
    tab.on(
        "console",
        lambda message: (
            errors.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield tab
    context.close()
    own = urlsplit(base).netloc
    strangers = [
        u
        for u in requests
        if urlsplit(u).scheme not in ("data", "blob") and urlsplit(u).netloc != own
    ]
    assert requests and strangers == []
    assert errors == []


def _search(page, base: str, query: str, prefix: str = "") -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/{prefix}index.html?q={quote(query)}")
    page.wait_for_function(
        # (A function, not an expression: the page's policy forbids eval, which Playwright's
        # polling of an expression would need.)
        "() => ['done', 'failed'].includes(document.body.dataset.searchState)",
        timeout=30_000,
    )
    assert page.evaluate("() => document.body.dataset.searchState") == "done", page.inner_text(
        "#results"
    )


# (label, query, page language, item, where the matching sentence starts)
CASES = [
    ("Simplified", "码头工人罢工", "", "public_id", "3.2"),
    ("Traditional", "碼頭工人罷工", "", "public_id", "3.2"),
    ("English", "dock strike", "en/", "public_id", "3.2"),
    ("English through the glossary", "minimum wage", "en/", "wage_id", "2.5"),
    ("Simplified, Chinese only", "最低工资", "", "wage_id", "2.5"),
]


@pytest.mark.parametrize(
    ("label", "query", "prefix", "which", "moment"), CASES, ids=[c[0] for c in CASES]
)
def test_a_search_finds_the_item_and_opens_it_at_the_second(
    page: Any,
    mirror: tuple[Sample, str],
    label: str,
    query: str,
    prefix: str,
    which: str,
    moment: str,
) -> None:
    sample, base = mirror
    expected = getattr(sample, which)
    _search(page, base, query, prefix)
    policy = page.locator('meta[http-equiv="Content-Security-Policy"]').get_attribute("content")
    assert "default-src 'self'" in policy and "http" not in policy
    first = page.locator("li.result").first
    assert first.get_attribute("data-item") == expected
    hit = first.locator("a.hit").first
    assert hit.get_attribute("href").endswith(f"items/{expected}.html#t={moment}")
    assert page.locator("li.result mark").count() > 0  # the words found are marked
    page.screenshot(path=str(ARTIFACTS / f"search-{label.replace(' ', '-')}.png"), full_page=True)
    hit.click()
    page.wait_for_url(f"**/{prefix}items/{expected}.html#t={moment}")
    page.wait_for_function(f"() => Math.abs(({PLAYER})() - {moment}) < 0.05", timeout=30_000)
    current = page.locator("ol.segments li.current")
    assert current.count() == 1
    assert float(current.get_attribute("data-start")) == float(moment)
    lang = "en" if prefix else "zh-Hant-HK"
    assert page.evaluate("document.documentElement.lang") == lang


def test_private_text_is_not_found_and_the_portal_permalink_works(page, mirror) -> None:  # type: ignore[no-untyped-def]
    sample, base = mirror
    _search(page, base, CANARY_STAFF)
    assert page.locator("li.result").count() == 0
    _search(page, base, "內部會議紀錄")  # words of the staff-only item's transcript
    found = [
        page.locator("li.result").nth(i).get_attribute("data-item")
        for i in range(page.locator("li.result").count())
    ]
    assert sample.staff_id not in found and "內部會議紀錄" not in page.inner_text("#results")
    # A permalink written for the portal (?item=ID&t=SECONDS) opens the item on the mirror.
    page.goto(f"{base}/?item={sample.public_id}&t=8&rev=2")
    page.wait_for_url(f"**/items/{sample.public_id}.html#t=8")
    page.wait_for_function(f"() => Math.abs(({PLAYER})() - 8) < 0.05", timeout=30_000)
    # Second 8 falls in the silenced gap of the redacted sentence: the sentence starting in it is shown.
    assert page.locator("ol.segments li.current").get_attribute("id") == "t=8.5"
    page.screenshot(path=str(ARTIFACTS / "item-at-8s.png"), full_page=False)


def test_clicking_a_moment_in_the_transcript_moves_the_player(page, mirror) -> None:  # type: ignore[no-untyped-def]
    sample, base = mirror
    page.goto(f"{base}/en/items/{sample.public_id}.html")
    page.locator('ol.segments a.ts[href="#t=8.5"]').click()
    page.wait_for_function(f"() => Math.abs(({PLAYER})() - 8.5) < 0.05", timeout=30_000)
    assert page.locator("ol.segments li.current").get_attribute("id") == "t=8.5"
    # The redacted segment (6.4 s to 8.5 s) is not in the page at all.
    assert page.locator('ol.segments li[data-start="6.400"]').count() == 0
