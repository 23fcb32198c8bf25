"""Accessibility of the public portal in a real headless Chromium (Debian's), driven by Playwright.

Three promises:

- **No WCAG 2.2 A/AA violations that axe-core finds** on every public page (Home, Search with
  results and with a filter, Browse, Events, an event, the series and one series, a recording with
  its player and transcript (audio, video, and a transcript with missing and removed lines), a
  past event with its recording, About, Log in), in both interface languages, at desktop
  (1280 x 900) and phone (390 x 844) widths, each page checked a screenful at a time. axe-core is the npm package pinned in ``package.json``, installed by
  ``make setup`` into ``node_modules/`` (git-ignored). Nothing is excluded: a failure prints each
  violation's rule, impact, help text and the elements it names.
- **Keyboard only**: with Tab, Shift+Tab, Enter and Space (no mouse), a visitor searches, opens a
  hit and hears it from the hit's moment, and every element the keyboard reaches shows its focus.
- **Captions**: a video carries its transcript as caption tracks.

The page's Content-Security-Policy is not loosened for axe (the test checks it is the portal's
own): axe's source is run with ``page.evaluate``, which Playwright sends over the DevTools protocol
(``Runtime.evaluate``), outside the page's script-src; no ``<script>`` element is added.
Screenshots of the keyboard steps go to ``tests/artifacts/a11y/`` (git-ignored).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import portal_data
import pytest
from portal_harness import ROOT, RecordedSession, launch_chromium, require_chromium

from archive.catalog.db import Catalog
from archive.hub.events import cancel_event, create_event, link_recording
from archive.hub.series import create_series
from archive.workspace.visibility import redact
from transcripts.segments import Segment

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent / "artifacts" / "a11y"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
Y = datetime.now(UTC).year + 1

SETTLED = """() => {
  const app = document.querySelector('[data-testid=stApp]');
  return !!app && app.getAttribute('data-test-script-state') === 'notRunning'
    && !document.querySelector('[data-stale=true]')
    && !document.querySelector('[data-testid^=stSkeleton], [data-testid=stAppSkeleton]');
}"""

# The element that has the keyboard focus, followed into open shadow roots (the player), and
# whether its focus is drawn: an outline or a ring (box-shadow) on it or on one of the two
# wrappers Streamlit draws a widget's frame with.
FOCUSED = """() => {
  let e = document.activeElement;
  while (e && e.shadowRoot && e.shadowRoot.activeElement) e = e.shadowRoot.activeElement;
  if (!e || e === document.body) return null;
  let shown = null;
  let box = e;
  for (let depth = 0; box && depth < 3 && !shown; depth++, box = box.parentElement) {
    const cs = getComputedStyle(box);
    if (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 1) {
      shown = 'outline ' + cs.outlineStyle + ' ' + cs.outlineWidth + ' ' + cs.outlineColor;
    } else if (cs.boxShadow && cs.boxShadow !== 'none') {
      shown = 'ring ' + cs.boxShadow;
    }
  }
  const r = e.getBoundingClientRect();
  // Not hidden by anything drawn over it, a sticky header say (WCAG 2.4.11): what is on top at
  // the middle of its visible part is it, inside it, or holds it (a widget's frame).
  const x = (Math.max(r.left, 0) + Math.min(r.right, innerWidth)) / 2;
  const y = (Math.max(r.top, 0) + Math.min(r.bottom, innerHeight)) / 2;
  const top = e.getRootNode().elementFromPoint(x, y);
  const unobscured = !!top && (top === e || e.contains(top) || top.contains(e));
  return {
    unobscured, on: top ? top.tagName.toLowerCase() + '.' + String(top.className).slice(0, 40) : null,
    tag: e.tagName.toLowerCase(), label: e.getAttribute('aria-label'), href: e.getAttribute('href'),
    text: (e.innerText || '').trim().slice(0, 60), testid: e.getAttribute('data-testid'),
    focusVisible: e.matches(':focus-visible'), shown, onScreen: r.width > 0 && r.height > 0,
    box: {x: r.x, y: r.y, width: r.width, height: r.height},
  };
}"""

# The player's media element and transcript, from inside its shadow root.
PLAYER = """() => {
  const host = [...document.querySelectorAll('*')].find(e => e.shadowRoot && e.shadowRoot.querySelector('.hkp'));
  if (!host) return null;
  const root = host.shadowRoot;
  const media = root.querySelector('.hkp-el');
  const current = root.querySelector('.hkp-row.current');
  return { t: media ? media.currentTime : null, paused: media ? media.paused : null,
           current: current ? Number(current.dataset.start) : null,
           rows: root.querySelectorAll('.hkp-row').length };
}"""


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory):
    """The real portal on an archive with recordings, a series, upcoming, cancelled and past
    events (the past one's recording is an item): every public page has content."""
    require_chromium()
    home = tmp_path_factory.mktemp("a11y")
    arch = portal_data.build(home, long_talk=False, extra=2)
    settings = arch.settings
    cat = Catalog.open(settings)
    create_series(cat, "uk-tour", title_zh="英國巡迴講座", title_en="UK tour")
    ids = dict(arch.ids)
    ids["event"] = create_event(
        settings,
        cat,
        title_zh="碼頭工人罷工：曼徹斯特場",
        title_en="Dock strike: the Manchester talk",
        description_zh="十年後回望葵涌罷工。",
        description_en="Looking back at the Kwai Chung strike, ten years on.",
        start=f"{Y}-07-10 20:00",
        tz="Europe/London",
        duration_minutes=90,
        series_id="uk-tour",
        join_url="https://meet.example.org/dock-public",
        languages=["yue", "en"],
        speakers=["李卓人", "Carol Ng"],
        visibility="public",
    ).id
    cancelled = create_event(
        settings,
        cat,
        title_zh="取消了的講座",
        title_en="The cancelled talk",
        start=f"{Y}-08-01 19:00",
        tz="Europe/London",
        duration_minutes=60,
        visibility="public",
    )
    cancel_event(cat, cancelled.id)
    ids["past"] = create_event(
        settings,
        cat,
        title_zh="碼頭罷工十周年網上研討會",
        title_en="Dock strike webinar, ten years on",
        start="2023-03-28 19:00",
        tz="Asia/Hong_Kong",
        duration_minutes=60,
        series_id="uk-tour",
        visibility="public",
    ).id
    link_recording(cat, ids["past"], arch.ids["dock"])
    # A transcript with the player's faded lines: a track missing on a line, a passage removed.
    gaps = cat.create_item(
        title_zh="缺字示範",
        title_en="A transcript with gaps",
        collection="other",
        recorded_date="2020",
        language="yue",
        visibility="public",
    )
    cat.add_revision(
        gaps.id,
        [
            Segment(start=0, end=3, text_zh="只有中文的一句。", text_en="", lang="zh"),
            Segment(start=3, end=6, text_zh="", text_en="Only English here.", lang="en"),
            Segment(start=6, end=9, text_zh="這句會刪去。", text_en="Removed.", speaker="陳"),
        ],
        origin="subtitles",
    )
    redact(cat, settings, gaps.id, start=6, end=9, actor="staff", rebuild_media=False)
    ids["gaps"] = gaps.id
    cat.close()
    with portal_data.Portal(home) as running:
        yield ids, running


@pytest.fixture(scope="module")
def browser():
    with launch_chromium(ARTIFACTS, fresh=True) as chromium:
        yield chromium


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.is_file():
        pytest.fail(f"axe-core is not installed ({AXE} is missing): run `make setup`")
    return AXE.read_text(encoding="utf-8")


def public_pages(ids: dict[str, str]) -> list[tuple[str, str, str]]:
    """(name, path without ``lang``, a selector shown once the page has its content)."""
    return [
        ("home", "/?", ".hk-when time"),
        ("search", "/?q=strike&", ".hk-snippet mark"),
        ("search-filtered", "/search?q=strike&collection=webinar&", ".hk-snippet mark"),
        ("browse", "/browse?", "a[href*='item=']"),
        ("events", "/upcoming?", ".hk-when time"),
        ("event", f"/event?event={ids['event']}&", ".hk-when time"),
        ("all-series", "/series?", "a[href*='series=']"),
        ("series", "/series?series=uk-tour&", "a[href*='event=']"),
        ("item-audio", f"/item?item={ids['dock']}&t=5&", ".hkp-row.current"),
        ("item-video", f"/item?item={ids['interview']}&", ".hkp-row.current"),
        ("past-event", f"/event?event={ids['past']}&", ".hkp-row.current"),
        ("item-gaps", f"/item?item={ids['gaps']}&", ".hkp-redacted"),
        ("about", "/about?", "h1, h2"),
        ("login", "/login?", "input[type=password]"),
    ]


# Streamlit's page scrolls inside its main region, and axe skips text scrolled out of view there:
# the page is checked a screenful at a time, from the top to the bottom. (The transcript's own
# scrolling list is checked where it stands: its rows off screen are styled as the ones shown.)
SCROLL_STEPS = """() => {
  const main = document.querySelector('[data-testid=stMain]');
  const box = main && main.scrollHeight > main.clientHeight + 1 ? main : document.scrollingElement;
  const steps = [];
  const stride = Math.max(200, Math.floor(box.clientHeight * 0.8));
  for (let top = 0; top < box.scrollHeight - box.clientHeight + stride; top += stride) {
    steps.push(Math.min(top, box.scrollHeight - box.clientHeight));
  }
  return [...new Set(steps)];
}"""
SCROLL_TO = """top => new Promise(done => {
  const main = document.querySelector('[data-testid=stMain]');
  const box = main && main.scrollHeight > main.clientHeight + 1 ? main : document.scrollingElement;
  box.scrollTop = top;
  requestAnimationFrame(() => requestAnimationFrame(done));
})"""


def axe_violations(page, source: str) -> list[dict]:
    """Run axe-core in ``page`` with the WCAG 2.2 A/AA rules at each screenful; its violations,
    one per rule with every element it named."""
    # Runtime.evaluate (DevTools), not a <script> element: the page's CSP stays as served.
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(source)
    found: dict[str, dict] = {}
    for top in page.evaluate(SCROLL_STEPS):
        page.evaluate(SCROLL_TO, top)
        result = page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags},"
            " resultTypes: ['violations']})",
            WCAG_TAGS,
        )
        for v in result["violations"]:
            seen = found.setdefault(v["id"], {**v, "nodes": []})
            known = {str(n["target"]) for n in seen["nodes"]}
            seen["nodes"] += [n for n in v["nodes"] if str(n["target"]) not in known]
    page.evaluate(SCROLL_TO, 0)
    return list(found.values())


def describe(where: str, violations: list[dict]) -> list[str]:
    lines = []
    for v in violations:
        targets = "; ".join(" ".join(map(str, n["target"])) for n in v["nodes"][:8])
        lines.append(f"{where}: {v['id']} ({v['impact']}) {v['help']} -- {targets}")
    return lines


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_every_public_page_has_no_wcag_violations(portal, browser, axe_source, phone):
    ids, running = portal
    problems: list[str] = []
    checked = 0
    for lang, locale in (("en", "en-GB"), ("zh", "zh-HK")):
        s = RecordedSession(browser, locale=locale, phone=phone, timezone_id="Europe/London")
        page = s.page
        try:
            for name, path, ready in public_pages(ids):
                response = page.goto(f"{running.url}{path}lang={lang}")
                # The policy axe runs under is the portal's own, not loosened.
                policy = response.headers.get("content-security-policy", "")
                assert "script-src 'self'" in policy and "unsafe-eval'" not in policy.replace(
                    "wasm-unsafe-eval", ""
                ), policy
                page.locator(ready).first.wait_for()
                page.wait_for_function(SETTLED)
                # Streamlit's index.html says lang="en"; the portal's component sets the page's
                # language as it mounts (archive.portal.ui.chrome): bounded wait, then checked.
                page.wait_for_function(
                    "l => document.documentElement.lang === l",
                    arg="en-GB" if lang == "en" else "zh-Hant-HK",
                )
                if name.startswith("search"):
                    # Language of parts (3.1.2, which axe cannot judge): a hit's title in the
                    # other language says which it is.
                    other = "zh-Hant-HK" if lang == "en" else "en"
                    assert page.locator(f".hk-meta[lang='{other}']").count() > 0
                where = f"{name} [{'phone' if phone else 'desktop'}, {lang}]"
                problems += describe(where, axe_violations(page, axe_source))
                checked += 1
            assert not s.errors, s.errors
            assert not s.outside_requests(), s.outside_requests()
        finally:
            s.close()
    assert checked == 2 * len(public_pages(ids))
    assert not problems, "axe-core found WCAG 2.2 A/AA violations:\n" + "\n".join(problems)


def test_axe_reports_a_planted_violation(portal, browser, axe_source):
    """The check above can fail: the same run finds a low-contrast line planted in a real page."""
    _ids, running = portal
    s = RecordedSession(browser, locale="en-GB")
    try:
        s.page.goto(f"{running.url}/about?lang=en")
        s.page.locator("h1, h2").first.wait_for()
        s.page.wait_for_function(SETTLED)
        s.page.evaluate(
            "() => { const p = document.createElement('p'); p.id = 'planted';"
            " p.textContent = 'Faint words'; p.style.color = '#bbb';"
            " document.querySelector('[data-testid=stMain]').appendChild(p); }"
        )
        found = describe("about", axe_violations(s.page, axe_source))
        assert any("color-contrast (serious)" in line and "#planted" in line for line in found), (
            found
        )
    finally:
        s.close()


class Keyboard:
    """A visitor with only a keyboard: every key press that moves the focus is checked to land on
    an element that shows it."""

    def __init__(self, page) -> None:
        self.page = page
        self.visited: list[dict] = []
        self.media_pixels: bytes | None = None

    def focused(self) -> dict | None:
        return self.page.evaluate(FOCUSED)

    def press(self, key: str) -> dict | None:
        self.page.keyboard.press(key)
        now = self.focused()
        if key in ("Tab", "Shift+Tab") and now is not None:
            self.visited.append(now)
            assert now["onScreen"] and now["unobscured"], now
            if now["tag"] in ("video", "audio"):
                # Inside the media element, the focus moves over the browser's own controls (play,
                # timeline, volume …), in a closed shadow root the page can neither read nor style:
                # each Tab there must visibly change the controls (the media is paused, so only the
                # focus ring moves). The element itself, focused, shows the browser's outline.
                pixels = self.page.screenshot(clip=now["box"], animations="disabled")
                assert pixels != self.media_pixels, f"the focus did not visibly move in {now}"
                self.media_pixels = pixels
                assert now["shown"] or not now["focusVisible"], now
            else:
                self.media_pixels = None
                assert now["shown"], f"the keyboard focus is not visible on {now}"
        return now

    def tab_to(self, wanted, *, limit: int = 60, back: bool = False) -> dict:
        """Tab (or Shift+Tab) until the focused element is ``wanted(focused)``."""
        for _ in range(limit):
            now = self.press("Shift+Tab" if back else "Tab")
            if now is not None and wanted(now):
                return now
        raise AssertionError(f"never reached; visited: {self.visited[-limit:]}")


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_keyboard_only_search_open_a_hit_and_play_from_its_moment(portal, browser, phone):
    ids, running = portal
    s = RecordedSession(browser, locale="en-GB", phone=phone)
    width = "phone" if phone else "desktop"
    page = s.page
    keys = Keyboard(page)
    try:
        page.goto(f"{running.url}/?lang=en")
        page.wait_for_function(SETTLED)
        page.get_by_label("Search the archive").wait_for()

        # 1. The first Tab offers to skip the header; on to the search box; type; Enter.
        first = keys.press("Tab")
        assert first and first["testid"] == "stSkipToContent", first
        keys.tab_to(lambda f: f["label"] == "Search the archive")
        page.keyboard.type("exile")
        keys.press("Enter")
        page.wait_for_url(lambda url: "q=exile" in url)
        page.locator(".hk-snippet mark").first.wait_for()
        page.wait_for_function(SETTLED)
        page.screenshot(path=str(ARTIFACTS / f"01-keyboard-results-{width}.png"))

        # 2. Tab to the interview's hit (a moment inside it, not its start); Enter opens it.
        hit = keys.tab_to(
            lambda f: (
                bool(f["href"]) and f"item={ids['interview']}" in f["href"] and "t=" in f["href"]
            )
        )
        start = float(parse_qs(urlsplit(hit["href"]).query)["t"][0])
        assert start > 0, hit
        page.screenshot(path=str(ARTIFACTS / f"02-keyboard-hit-focused-{width}.png"))
        keys.press("Enter")
        page.wait_for_url(
            lambda url: f"item={ids['interview']}" in url and f"t={int(start)}" in url
        )
        page.locator(".hkp-row.current").wait_for()

        # 3. It plays from the hit's moment (Enter was the visitor's gesture): at or after the
        #    hit's start, advancing, the hit's row marked current.
        page.wait_for_function(
            "s => { const p = (" + PLAYER + ")(); return p && !p.paused && p.t >= s + 0.3; }",
            arg=start,
        )
        state = page.evaluate(PLAYER)
        assert start <= state["t"] < start + 15 and state["current"] == start, state

        # 4. The player itself answers the keyboard: Tab to it, Space pauses.
        media = keys.tab_to(lambda f: f["tag"] in ("video", "audio"))
        assert media["label"] == "Player", media
        keys.press("Space")
        page.wait_for_function("() => (" + PLAYER + ")().paused")

        # 5. Tab into the transcript to the hit's line and Enter: it plays from that moment again.
        label = f"Play from {int(start) // 60}:{int(start) % 60:02d}"
        stamp = keys.tab_to(lambda f: f["label"] == label)
        assert stamp["tag"] == "button", stamp
        page.screenshot(path=str(ARTIFACTS / f"03-keyboard-transcript-focused-{width}.png"))
        keys.press("Enter")
        page.wait_for_function(
            "s => { const p = (" + PLAYER + ")(); return p && !p.paused && p.t >= s + 0.3; }",
            arg=start,
        )
        state = page.evaluate(PLAYER)
        assert start <= state["t"] < start + 15 and state["current"] == start, state

        # 6. Shift+Tab walks back through the transcript with the focus shown.
        back = keys.tab_to(lambda f: (f["label"] or "").startswith("Play from 0:12"), back=True)
        assert back["focusVisible"], back
        assert len(keys.visited) >= 10
        assert not s.errors, s.errors
        assert not s.outside_requests(), s.outside_requests()
    finally:
        s.close()


def test_a_video_has_captions_from_its_transcript(portal, browser, axe_source):
    """A video carries its transcript as caption tracks (WCAG 1.2.2), loaded from the archive's own
    route under the page's CSP: the spoken language as captions, the other as subtitles."""
    ids, running = portal
    s = RecordedSession(browser, locale="en-GB")
    page = s.page
    try:
        page.goto(f"{running.url}/item?item={ids['interview']}&lang=en")
        page.locator(".hkp-row.current").wait_for()
        tracks = page.evaluate(
            """() => {
          const host = [...document.querySelectorAll('*')].find(e => e.shadowRoot && e.shadowRoot.querySelector('.hkp'));
          return [...host.shadowRoot.querySelectorAll('video track')].map(t => ({kind: t.kind, srclang: t.srclang,
            label: t.label, src: t.getAttribute('src')}));
        }"""
        )
        assert [(t["kind"], t["srclang"], t["label"]) for t in tracks] == [
            ("subtitles", "zh-Hant-HK", "Chinese"),
            ("captions", "en", "English"),
        ], tracks
        assert all(t["src"].startswith("/files/") for t in tracks), tracks
        # Turned on (as the controls' captions button does), the English captions load and say
        # what the transcript says.
        first = page.evaluate(
            """() => new Promise((done, fail) => {
          const host = [...document.querySelectorAll('*')].find(e => e.shadowRoot && e.shadowRoot.querySelector('.hkp'));
          const el = host.shadowRoot.querySelector('video track[kind=captions]');
          el.addEventListener('load', () => done(el.track.cues.length ? el.track.cues[0].text : null));
          el.addEventListener('error', () => fail(new Error('the captions did not load')));
          el.track.mode = 'hidden';
        })"""
        )
        # A machine translation says so in the captions too (transcripts.exports.MACHINE_MARK).
        # The cue names its speaker in a WebVTT voice span (cue.text keeps the tag).
        assert first == "<v Carol Ng>[MT] I started working with the union in the 1990s.", first
        page.evaluate(axe_source)
        result = page.evaluate(
            "() => axe.run(document, {runOnly: {type: 'rule', values: ['video-caption']}})"
        )
        assert result["passes"] and not result["violations"] and not result["incomplete"], result
        assert not s.errors, s.errors
        assert not s.outside_requests(), s.outside_requests()
    finally:
        s.close()
