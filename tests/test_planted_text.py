"""Planted text stays text: Markdown, HTML, autolinks and reference-style links in every outside
field, and in ``?q=``, ``?t=``, ``?tz=`` and ``?lang=``, never become a link, an image or a request.

An adversary publishes a page that staff archive by URL, or sends readers a crafted link to the
real archive. Three walls are checked separately, with real parts only:

1. :mod:`archive.core.text_safety` — every Markdown body the portal hands Streamlit (through AppTest) is
   rendered by a CommonMark parser with raw HTML on, as Streamlit's is: no ``<a>``/``<img>``/
   ``<script>`` toward the tracker, and no text that GFM would turn into a link.
2. Real Chromium visiting Home, Search (a matching query and a no-result query carrying the
   payload), Browse, the item page, both event pages, the series page and the events list: no
   element points at the tracker, zero requests to any host but 127.0.0.1, no CSP violation, and
   the payload is on the page as text.
3. :mod:`archive.portal.routes.headers` — the Content-Security-Policy and friends on a page, a static file, a
   file route, a feed and a 404.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import planted_data
import portal_data
import pytest
from planted_data import TRACKER, payload, visible_part
from portal_harness import (
    RecordedSession,
    archive_home,
    launch_chromium,
    log_in,
    new_session,
    open_page,
    require_chromium,
)

from archive.catalog.access import Viewer
from archive.catalog.db import Catalog
from archive.core.text_safety import WORD_JOINER, attr, html_text, link_url, marked_html, md
from archive.workspace.accounts import add_user

ARTIFACTS = Path(__file__).resolve().parent / "artifacts" / "planted"
QUERY = "zzqxv " + payload("query")  # matches nothing: the "No results for …" heading echoes it
AUTOLINKABLE = re.compile(
    rf"(?i)(?:https?://|www\.)[^\s]*{re.escape(TRACKER)}|@{re.escape(TRACKER)}"
)


# -- the escaping functions ---------------------------------------------------------------------
def _render(markdown: str) -> tuple[list[tuple[str, dict[str, str]]], str]:
    """``markdown`` as Streamlit renders it (CommonMark, raw HTML allowed): its tags and its text."""
    from markdown_it import MarkdownIt

    rendered = MarkdownIt("commonmark", {"html": True}).enable("strikethrough").render(markdown)
    return _parse_html(rendered)


def _parse_html(markup: str) -> tuple[list[tuple[str, dict[str, str]]], str]:
    tags: list[tuple[str, dict[str, str]]] = []
    text: list[str] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):
            tags.append((tag, {k: v or "" for k, v in attrs}))

        def handle_startendtag(self, tag, attrs):
            tags.append((tag, {k: v or "" for k, v in attrs}))

        def handle_data(self, data):
            text.append(data)

    parser = Collect(convert_charrefs=True)
    parser.feed(markup)
    parser.close()
    return tags, "".join(text)


def _problems(markdown: str) -> list[str]:
    """What in ``markdown`` would reach the tracker once rendered."""
    tags, text = _render(markdown)
    found = []
    for tag, attrs in tags:
        if tag in ("script", "iframe", "object", "embed", "base", "link", "meta"):
            found.append(f"<{tag}>")
        for name, value in attrs.items():
            if TRACKER in value:
                found.append(f"<{tag} {name}={value!r}>")
    found.extend(f"autolink {m.group(0)!r}" for m in AUTOLINKABLE.finditer(text))
    return found


def test_md_output_renders_as_exactly_the_text():
    raw = payload("unit")
    for markdown in (md(raw), f"**{md(raw)}**", f"- {md(raw)}"):
        assert _problems(markdown) == []
        _tags, text = _render(markdown)
        assert visible_part("unit") in text.replace(WORD_JOINER, "")
    # Backslash-escaping (the old hub_ui.md) is not enough inside an HTML block: it shows and fails.
    old_md = re.sub(r"([\\`*_{}\[\]()#+\-.!~|<>$:])", r"\\\1", raw)
    assert _problems(f'<div class="x">{old_md}</div>') != []


@pytest.mark.parametrize("wrap", ["<div>{}</div>", '<span class="a">{}</span>', "{}", "a\n\n{}"])
def test_html_text_is_inert_in_an_html_block_inline_html_and_markdown(wrap):
    raw = payload("unit")
    markdown = wrap.format(html_text(raw, lines=True))
    assert _problems(markdown) == []
    _tags, text = _render(markdown)
    assert visible_part("unit") in text.replace(WORD_JOINER, "")
    # The old way (html.escape) leaves the Markdown image live.
    import html

    assert _problems(wrap.format(html.escape(raw).replace("\n", "<br>"))) != []


def test_leading_spaces_and_blank_lines_start_no_code_block_or_paragraph():
    tags, text = _render(md("    ![x](http://tracker.example/a.png)\n\n# heading"))
    assert [t for t, _a in tags] == ["p"]
    assert "    ![x](http://tracker.example/a.png)  # heading" in text.replace(WORD_JOINER, "")


def test_attr_and_marked_html():
    tags, _text = _parse_html(f'<img alt="{attr(payload("alt"))}" src="/x">')
    assert len(tags) == 1 and tags[0][1]["alt"] == payload("alt").replace("\n", " ")
    marked = "&lt;b&gt; <mark>planted</mark> ![p](http://tracker.example/m.png) <mark>x</mark>"
    out = marked_html(marked)
    assert out.count("<mark>") == 2 and _problems(f"<div>{out}</div>") == []
    _tags, text = _render(f"<div>{out}</div>")
    assert "<b> planted ![p](http://tracker.example/m.png) x" in text.replace(WORD_JOINER, "")


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://meet.example.org/j/1", True),
        ("http://meet.example.org", True),
        ("javascript:alert(1)", False),
        ("JAVASCRIPT:alert(1)", False),
        ("data:text/html,<b>x</b>", False),
        ("//tracker.example/x", False),
        ("/relative", False),
        ("https://", False),
        ("https://a.example/ x", False),
        (None, False),
    ],
)
def test_link_url_takes_http_and_https_only(url, ok):
    assert (link_url(url) is not None) is ok


# -- the portal through AppTest -----------------------------------------------------------------
@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> planted_data.Planted:
    return planted_data.build(tmp_path_factory.mktemp("planted"))


def _markdown_bodies(at) -> list[str]:
    """Every string of the page Streamlit reads as Markdown: bodies (markdown, headings, captions,
    alerts), labels (page links, buttons, widgets, expanders, tabs), help texts and the options of
    radio, pills and segmented controls. Select box options are plain text and left out."""
    bodies: list[str] = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        kind = getattr(node, "type", "")
        if proto is not None and kind not in ("code", "text", "html", "bidi_component"):
            for field, value in proto.ListFields():
                if field.name in ("body", "label", "help", "caption") and isinstance(value, str):
                    bodies.append(value)
                if field.name == "options" and kind in ("button_group", "radio"):
                    bodies.extend(getattr(o, "content", o) for o in value if o)
        children = getattr(node, "children", None)
        if isinstance(children, dict):
            for child in children.values():
                walk(child)

    walk(at._tree)
    return [b for b in bodies if isinstance(b, str)]


def _check_page(at, shown: list[str]) -> None:
    bodies = _markdown_bodies(at)
    problems = [(b[:120], p) for b in bodies for p in _problems(b)]
    assert problems == []
    text = "\n".join(_render(b)[1] for b in bodies).replace(WORD_JOINER, "")
    missing = [name for name in shown if visible_part(name) not in text]
    assert missing == []


PAGES = {
    # page, params, fields whose planted text the page shows (in English; "zh" fields in Chinese)
    "home": (None, {}, ["title_{lang}", "speaker", "event_title_{lang}", "city", "venue"]),
    "home-search": (None, {"q": planted_data.WORD}, ["title_{lang}", "speaker"]),
    "search": ("search", {"q": planted_data.WORD}, ["title_{lang}", "cue_zh", "cue_en"]),
    "browse": ("browse", {}, ["title_{lang}", "speaker"]),
    "item": (
        "item",
        {"item": "{item}"},
        ["title_{lang}", "description_{lang}", "speaker", "tag", "chapter_{lang}", "chapter_title"],
    ),
    "event": (
        "event",
        {"event": "{upcoming}"},
        ["event_title_{lang}", "event_description_{lang}", "city", "venue", "event_speaker"],
    ),
    "past-event": ("event", {"event": "{past}"}, ["past_title_{lang}", "past_description_{lang}"]),
    "series": (
        "series",
        {"series": "planted"},
        ["series_title_{lang}", "series_description_{lang}", "event_title_{lang}", "title_{lang}"],
    ),
    "series-list": ("series", {}, ["series_title_{lang}", "series_description_{lang}"]),
    "upcoming": ("upcoming", {}, ["event_title_{lang}", "past_title_{lang}"]),
}


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("name", list(PAGES))
def test_every_planted_field_is_shown_as_text_on_every_page(planted, name, lang):
    page, params, fields = PAGES[name]
    ids = {"item": planted.item, "upcoming": planted.upcoming, "past": planted.past}
    with archive_home(planted.arch.settings.home):
        at = new_session(lang=lang)
        query = {k: v.format(**ids) for k, v in params.items()}
        open_page(at, page, lang=lang, **query)
        _check_page(at, [f.format(lang=lang) for f in fields])


def test_the_search_echo_and_url_parameters_stay_text(planted):
    with archive_home(planted.arch.settings.home):
        at = new_session(lang="en")
        open_page(at, None, lang="en", q=QUERY)
        headings = [h.value for h in at.subheader]
        assert any("No results for" in h for h in headings), headings
        _check_page(at, ["query"])
        # ?t=, ?tz= and ?lang= carrying the payload: read as nothing, never shown as markup.
        for page, params in (
            ("item", {"item": planted.item, "t": payload("t")}),
            ("event", {"event": planted.upcoming, "tz": payload("tz")}),
            ("upcoming", {"tz": payload("tz")}),
            ("search", {"q": planted_data.WORD, "speaker": payload("speaker_param")}),
            ("browse", {"speaker": payload("speaker_param"), "tag": payload("tag_param")}),
        ):
            open_page(at, page, lang="en", **params)
            _check_page(at, [])
        fresh = new_session(lang="en")
        fresh.query_params["lang"] = payload("lang")
        fresh.run()
        assert not fresh.exception
        _check_page(fresh, [])


def test_a_join_link_is_a_link_only_when_it_is_http(planted):
    settings = planted.arch.settings
    cat = Catalog.open(settings)
    try:
        # A row written by an older version or a restored bag: not through check_join_url.
        with cat.transaction() as conn:
            conn.execute(
                "UPDATE events SET join_url = ?, place_kind = 'online' WHERE id = ?",
                ("javascript:fetch('http://tracker.example/join')", planted.upcoming),
            )
        with archive_home(settings.home):
            at = new_session(lang="en")
            open_page(at, "event", lang="en", event=planted.upcoming)
            assert at.get("link_button") == []
        from archive.hub.events import visible_event
        from archive.hub.feeds import event_ics

        ics = event_ics(visible_event(cat, planted.upcoming, Viewer("public")))
        assert b"javascript" not in ics.lower() and b"CONFERENCE" not in ics
        with cat.transaction() as conn:
            conn.execute(
                "UPDATE events SET join_url = ? WHERE id = ?",
                ("https://meet.example.org/planted", planted.upcoming),
            )
        with archive_home(settings.home):
            at = new_session(lang="en")
            open_page(at, "event", lang="en", event=planted.upcoming)
            assert [b.proto.url for b in at.get("link_button")] == [
                "https://meet.example.org/planted"
            ]
    finally:
        with cat.transaction() as conn:
            conn.execute(
                "UPDATE events SET join_url = ?, place_kind = 'in-person' WHERE id = ?",
                ("https://meet.example.org/planted", planted.upcoming),
            )
        cat.close()


def test_a_planted_source_link_is_one_link_and_no_image(planted):
    """The item's source link (its display is another question) holds no live Markdown."""
    source = f"https://source.example/a/![p](http://{TRACKER}/source_url/md.png)"
    cat = Catalog.open(planted.arch.settings)
    try:
        # Marked public by staff: the only way a visitor sees a source link at all.
        cat.update_item(planted.item, source_url=source, source_public=True)
        with archive_home(planted.arch.settings.home):
            at = new_session(lang="en")
            open_page(at, "item", lang="en", item=planted.item)
        bodies = [b for b in _markdown_bodies(at) if "source.example" in b]
        assert len(bodies) == 1
        tags, text = _render(bodies[0])
        assert [(t, a.get("href")) for t, a in tags if t in ("a", "img")] == [("a", source)]
        assert source in text.replace(WORD_JOINER, "")
    finally:
        cat.update_item(planted.item, source_url=None, source_public=False)
        cat.close()


def test_staff_pages_show_planted_text_as_text(planted):
    """Staff read the same outside text: the editor (its list, header, history), the event form's
    page and the jobs list (a failed download's title, error and message come from a source)."""
    settings = planted.arch.settings
    cat = Catalog.open(settings)
    try:
        add_user(cat, "planted-staff", "staff", "a long staff password 1", actor="test")
        job = cat.create_job(
            "ingest",
            payload={
                "source": f"http://{TRACKER}/job_source",
                "options": {"title_en": payload("job_title"), "title_zh": payload("job_title")},
            },
            created_by="planted-staff",
        )
        cat.update_job(
            job.id, state="failed", error=payload("job_error"), message=payload("job_message")
        )
    finally:
        cat.close()
    with archive_home(settings.home):
        at = log_in(new_session(lang="en", timeout=90), "planted-staff", "a long staff password 1")
        for page, params, fields in (
            ("edit", {}, ["title_en"]),
            ("edit", {"item": planted.item}, ["title_en"]),
            ("edit", {"item": payload("item_param")}, ["item_param"]),
            ("events_admin", {"event": planted.upcoming}, ["event_title_en"]),
            ("jobs", {}, ["job_title", "job_error"]),
        ):
            open_page(at, page, lang="en", **params)
            _check_page(at, fields)


# -- a real Chromium ------------------------------------------------------------------------------
SETTLED = """() => {
  const app = document.querySelector('[data-testid=stApp]');
  return !!app && app.getAttribute('data-test-script-state') === 'notRunning'
    && !document.querySelector('[data-stale=true]')
    && !document.querySelector('[data-testid^=stSkeleton], [data-testid=stAppSkeleton]');
}"""

# Every element (shadow roots included) with a URL attribute toward the tracker, and all the text.
POINTING = """(tracker) => {
  const out = [], texts = [];
  const visit = (root) => {
    for (const el of root.querySelectorAll('*')) {
      for (const name of ['src', 'href', 'srcset', 'poster', 'data', 'action', 'background']) {
        const v = el.getAttribute && el.getAttribute(name);
        if (v && v.includes(tracker)) out.push(el.tagName + ' ' + name + '=' + v);
      }
      if (el.shadowRoot) { texts.push(el.shadowRoot.textContent); visit(el.shadowRoot); }
    }
  };
  visit(document);
  return { pointing: out, text: document.body.innerText + '\\n' + texts.join('\\n') };
}"""

CSP_LISTENER = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(e.violatedDirective + ' ' + e.blockedURI);
});
"""


@pytest.fixture(scope="module")
def portal(planted):
    require_chromium()
    with portal_data.Portal(planted.arch.settings.home) as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    with launch_chromium(ARTIFACTS, fresh=True) as chromium:
        yield chromium


class Visit(RecordedSession):
    def __init__(self, browser, base: str, *, locale: str = "en-GB") -> None:
        super().__init__(browser, locale=locale, timezone_id="Europe/London")
        self.base = base
        self.console: list[str] = []
        self.page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        self.page.add_init_script(CSP_LISTENER)

    def open(self, path: str, *, wait_for: str | None = None) -> dict:
        self.page.goto(self.base + path)
        self.page.wait_for_function(SETTLED, timeout=30_000)
        if wait_for:
            self.page.get_by_text(wait_for, exact=False).first.wait_for()
            self.page.wait_for_function(SETTLED, timeout=30_000)
        return self.look()

    def look(self) -> dict:
        self.page.wait_for_timeout(300)  # let images that would be fetched start (none should)
        return self.page.evaluate(POINTING, TRACKER)

    def violations(self) -> list[str]:
        reported = self.page.evaluate("window.__csp || []")
        logged = [c for c in self.console if "Content Security Policy" in c]
        return [*reported, *logged]


def _assert_clean(visit: Visit, seen: dict, shown: list[str], name: str) -> None:
    visit.page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    assert seen["pointing"] == [], name
    text = seen["text"].replace(WORD_JOINER, "")
    missing = [field for field in shown if visible_part(field) not in text]
    assert missing == [], name
    assert visit.outside_requests() == [], name
    assert visit.violations() == [], (name, visit.violations())
    assert visit.errors == [], name


@pytest.mark.browser
def test_chromium_requests_nothing_from_any_other_host(planted, portal, browser):
    visit = Visit(browser, portal.url)
    try:
        seen = visit.open("/?lang=en", wait_for="Latest recordings")
        _assert_clean(visit, seen, ["title_en", "speaker", "event_title_en", "city"], "home")

        seen = visit.open(f"/?lang=en&q={planted_data.WORD}", wait_for="planted title_en")
        visit.page.locator(".hk-snippet mark").first.wait_for()
        _assert_clean(visit, seen, ["title_en", "cue_zh", "cue_en"], "search-hit")

        from urllib.parse import quote

        seen = visit.open(f"/?lang=en&q={quote(QUERY)}", wait_for="No results for")
        _assert_clean(visit, seen, ["query"], "search-none")

        seen = visit.open("/browse?lang=en", wait_for="planted title_en")
        visit.page.get_by_label("Speaker").first.click()
        visit.page.get_by_role("option", name=re.compile("planted speaker")).first.click()
        visit.page.wait_for_function(SETTLED)
        visit.page.get_by_text("Archive hours by year").first.click()  # the Vega chart
        visit.page.locator("[data-testid=stVegaLiteChart] canvas, .vega-embed").first.wait_for()
        seen = visit.look()
        _assert_clean(visit, seen, ["title_en", "speaker"], "browse")

        seen = visit.open(f"/item?item={planted.item}&lang=en", wait_for="About this recording")
        visit.page.locator(".hkp-row").first.wait_for()
        visit.page.get_by_text("Chapters").first.click()
        visit.page.wait_for_function(SETTLED)
        seen = visit.look()
        item_fields = ["title_en", "title_zh", "description_en", "description_zh", "speaker"]
        item_fields += ["tag", "chapter_en", "chapter_title", "cue_zh", "cue_en", "cue_speaker"]
        _assert_clean(visit, seen, item_fields, "item")
        # The player still plays, under the policy.
        visit.page.locator(".hkp-row .hkp-ts").first.click()
        visit.page.wait_for_function(
            """() => { const h = [...document.querySelectorAll('*')].find(e => e.shadowRoot
                 && e.shadowRoot.querySelector('.hkp-el'));
               const m = h && h.shadowRoot.querySelector('.hkp-el');
               return m && m.currentTime > 0.3; }""",
            timeout=30_000,
        )

        seen = visit.open(f"/event?event={planted.upcoming}&lang=en", wait_for="About this event")
        event_fields = ["event_title_en", "event_title_zh", "event_description_en", "city"]
        _assert_clean(visit, seen, [*event_fields, "venue", "event_speaker"], "event")

        seen = visit.open(f"/event?event={planted.past}&lang=en", wait_for="Recording")
        visit.page.locator(".hkp-row").first.wait_for()
        seen = visit.look()
        _assert_clean(visit, seen, ["past_title_en", "past_description_en"], "past-event")

        seen = visit.open("/series?series=planted&lang=en", wait_for="Recordings")
        _assert_clean(visit, seen, ["series_title_en", "series_description_en"], "series")

        seen = visit.open("/upcoming?lang=zh", wait_for="planted event_title_zh")
        _assert_clean(visit, seen, ["event_title_zh", "past_title_zh"], "upcoming-zh")

        seen = visit.open(f"/item?item={planted.item}&lang=zh&t=1", wait_for="planted title_zh")
        _assert_clean(visit, seen, ["title_zh", "description_zh"], "item-zh")

        # The pages without planted text, under the same policy: no violation either.
        for path, wait_for in (
            ("/about?lang=en", "About the archive"),
            ("/search?lang=en", "Try one of these"),
            ("/login?lang=en", "User name"),
        ):
            seen = visit.open(path, wait_for=wait_for)
            _assert_clean(visit, seen, [], path.split("?")[0].strip("/"))
    finally:
        visit.close()


# -- the headers ----------------------------------------------------------------------------------
def _get(url: str) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(url, headers={"Range": "bytes=0-99"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}


def _directives(policy: str) -> dict[str, list[str]]:
    out = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


@pytest.mark.browser
def test_every_kind_of_response_carries_a_strict_policy(planted, portal):
    from archive.portal.routes.files import media_url

    index = urllib.request.urlopen(portal.url + "/", timeout=30).read().decode()
    script = re.search(r'src="\./(static/js/[^"]+\.js)"', index).group(1)
    urls = {
        "page": "/",
        "static": "/" + script,
        "file": media_url(planted.arch.settings, planted.item, "audio", Viewer("public")),
        "feed": "/feeds/events.ics",
        "missing file": "/files/media/nothing-here",
        "missing streamlit media": "/media/nothing-here.png",  # Streamlit's own 404
        "health": "/_stcore/health",
    }
    for name, path in urls.items():
        status, headers = _get(portal.url + path)
        if name.startswith("missing"):
            assert status == 404, (name, status)
        else:
            assert status in (200, 206), (name, status)
        policy = headers.get("content-security-policy", "")
        d = _directives(policy)
        assert d.get("default-src") == ["'self'"], (name, policy)
        for directive in ("img-src", "media-src", "font-src", "connect-src", "frame-src"):
            assert d.get(directive, ["'self'"])[0] == "'self'", (name, directive)
        for directive, values in d.items():
            for value in values:
                # Only keywords, hashes and the page's own blob:/data: URLs: never another host.
                assert value.startswith("'") or value in ("blob:", "data:"), (name, value)
            assert "'unsafe-eval'" not in values, (name, directive)
        assert "'unsafe-inline'" not in d["script-src"], name
        assert d["object-src"] == ["'none'"] and d["frame-ancestors"] == ["'none'"], name
        assert d["base-uri"] == ["'self'"] and d["form-action"] == ["'self'"], name
        assert headers.get("x-content-type-options") == "nosniff", name
        assert headers.get("referrer-policy") == "no-referrer", name


def test_the_middleware_streams_and_replaces_weaker_headers():
    """Plain ASGI: each body chunk goes out as it comes (media is never buffered), a route's own
    weaker Referrer-Policy is replaced, and a websocket scope passes through untouched."""
    import asyncio
    import threading

    from starlette.responses import StreamingResponse

    from archive.portal.routes.headers import SecurityHeaders, content_security_policy

    async def chunks():
        for n in range(5):
            yield b"x" * (n + 1)

    async def route(scope, receive, send):
        if scope["type"] == "websocket":
            await send({"type": "websocket.accept"})
            return
        response = StreamingResponse(chunks(), headers={"Referrer-Policy": "same-origin"})
        await response(scope, receive, send)

    app = SecurityHeaders(route)
    sent: list[dict] = []

    def run(coroutine) -> None:
        # In a thread of its own: the Chromium tests' Playwright keeps a loop in this one.
        worker = threading.Thread(target=asyncio.run, args=(coroutine,))
        worker.start()
        worker.join(timeout=30)
        assert not worker.is_alive()

    async def receive():
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""}
    run(app(scope, receive, send))
    start = sent[0]
    headers = {k.decode(): v.decode() for k, v in start["headers"]}
    assert headers["content-security-policy"] == content_security_policy()
    assert headers["referrer-policy"] == "no-referrer"
    assert [k for k, _v in start["headers"]].count(b"referrer-policy") == 1
    bodies = [m["body"] for m in sent[1:] if m.get("body")]
    assert bodies == [b"x" * (n + 1) for n in range(5)]

    sent.clear()
    run(app({"type": "websocket", "path": "/_stcore/stream", "headers": []}, receive, send))
    assert sent == [{"type": "websocket.accept"}]


def test_a_crash_behind_the_middleware_still_answers_with_the_policy():
    """Starlette's ServerErrorMiddleware sits outside every user middleware: an exception in a
    route (ours or Streamlit's) was answered by it with a 500 that carried no policy. Now the
    middleware answers the 500 itself, with every header, and lets the error go on to be logged."""
    import asyncio
    import threading

    from starlette.middleware.errors import ServerErrorMiddleware

    from archive.portal.routes.headers import SecurityHeaders, content_security_policy

    async def broken(scope, receive, send):
        raise RuntimeError("a bug in a route")

    app = ServerErrorMiddleware(SecurityHeaders(broken))  # the order st.App builds
    sent: list[dict] = []
    raised: list[BaseException] = []

    async def receive():
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    async def call() -> None:
        scope = {"type": "http", "method": "GET", "path": "/x", "headers": [], "query_string": b""}
        try:
            await app(scope, receive, send)
        except RuntimeError as err:
            raised.append(err)

    worker = threading.Thread(target=asyncio.run, args=(call(),))
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive()
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 500
    headers = {k.decode(): v.decode() for k, v in sent[0]["headers"]}
    assert headers["content-security-policy"] == content_security_policy()
    assert b"a bug in a route" not in b"".join(m.get("body", b"") for m in sent[1:])
    assert raised  # still reported (logged by the server), not swallowed
    assert sum(1 for m in sent if m["type"] == "http.response.start") == 1
