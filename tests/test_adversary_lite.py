"""The adversary's sweep of the light portal (``/lite/…``) and of the first paint in the portal's
page shells, with the canaries of ``tests/test_adversary_routes.py``: a staff-only item, a sentence
redacted in an earlier revision, a withheld speaker (also named in the speaker list of the event
its recording belongs to), and a staff-only event. Anonymous visitors, members and staff demoted
after logging in get zero occurrences on every page, in both languages, in search hits, citations,
event lists and shells; staff see each one (the control).

Then planted text (``tests/planted_data.py``) on every light page: it stays text, no element
points at the tracker, and no page loads or links anything from another host; every answer carries
the portal's Content-Security-Policy.
"""

from __future__ import annotations

import html
import re
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote, urlsplit

import planted_data
import portal_data
import pytest
import streamlit
from planted_data import TRACKER, visible_part
from test_adversary_routes import (  # noqa: F401  (sweep: the shared archive, a fixture)
    LABEL,
    PROBES,
    REDACTED,
    STAFF_ONLY,
    VIEWERS,
    WITHHELD,
    _leaks,
    sweep,
)
from test_planted_text import _parse_html

from archive.catalog.db import Catalog
from archive.hub.events import create_event, link_recording
from archive.portal.routes.headers import content_security_policy

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
STREAMLIT_INLINE_SCRIPTS = len(
    INLINE_SCRIPT.findall(
        (Path(streamlit.__file__).parent / "static" / "index.html").read_text(encoding="utf-8")
    )
)


@pytest.fixture(scope="module")
def events(sweep):  # noqa: F811
    """A public event whose recording is the interview (its speakers name the withheld person)
    and a staff-only event titled with the staff-only canary."""
    cat = Catalog.open(sweep.settings)
    try:
        public = create_event(
            sweep.settings, cat, title_en="Organisers in exile", title_zh="流亡中的組織者",
            start="2022-11-01 19:00", tz="Asia/Hong_Kong", duration_minutes=60,
            speakers=[WITHHELD[1], WITHHELD[0], "Lee Cheuk-yan"], visibility="public",
        )  # fmt: skip
        link_recording(cat, public.id, sweep.arch.ids["interview"])
        hidden = create_event(
            sweep.settings, cat, title_en=f"{STAFF_ONLY[1]} planning", title_zh=STAFF_ONLY[1],
            start="2031-01-01 10:00", tz="Asia/Hong_Kong", duration_minutes=60,
            visibility="staff",
        )  # fmt: skip
    finally:
        cat.close()
    return public.id, hidden.id


def _paths(sweep, events) -> list[str]:  # noqa: F811
    ids = sweep.arch.ids
    at = f"{sweep.redacted_at:.3f}"
    dock, interview, secret = ids["dock"], ids["interview"], ids["secret"]
    public, hidden = events
    light = ["/lite/", "/lite/browse", "/lite/events", "/lite/series"]
    light += [f"/lite/search?q={quote(p)}" for p in PROBES]
    light += [f"/lite/item/{dock}?rev={r}" for r in ("1", "2")]
    light += [
        f"/lite/item/{dock}?t={at}&rev={r}&style={s}"
        for r in ("1", "2")
        for s in ("chicago", "apa", "bibtex")
    ]
    light += [
        f"/lite/item/{dock}?t={at}",
        f"/lite/item/{interview}",
        f"/lite/item/{interview}?rev=1",
    ]
    light += [
        f"/lite/item/{secret}",
        f"/lite/item/{secret}?rev=1",
        f"/lite/event/{public}",
        f"/lite/event/{hidden}",
    ]
    shells = [f"/?q={quote(p)}" for p in PROBES] + [f"/search?q={quote(p)}" for p in PROBES]
    shells += [f"/item?item={dock}&t={at}&rev=1", f"/item?item={interview}", f"/item?item={secret}"]
    shells += [
        "/",
        "/browse",
        "/upcoming",
        f"/event?event={public}",
        f"/event?event={hidden}",
        "/series",
    ]
    return [
        f"{p}{'&' if '?' in p else '?'}lang={lang}" for p in light + shells for lang in ("zh", "en")
    ]


@pytest.mark.parametrize("who", VIEWERS)
def test_no_light_page_or_first_paint_shows_a_canary(sweep, events, who):  # noqa: F811
    served = 0
    for path in _paths(sweep, events):
        status, body = sweep.get(path, who)
        served += status == 200
        found = _leaks(body)
        assert not found, (who, path, found)
    assert served > len(PROBES) * 4  # the public pages were served: these are not refusals
    # What they see instead: the label, on the item and on the event its recording belongs to.
    ids = sweep.arch.ids
    for path in (
        f"/lite/item/{ids['interview']}?lang=en",
        f"/lite/event/{events[0]}?lang=en",
        "/lite/events?lang=en",
    ):
        assert LABEL in html.unescape(sweep.get(path, who)[1].decode()), path


def test_staff_see_every_canary_on_the_light_pages(sweep, events):  # noqa: F811
    seen = "".join(sweep.get(p, "staff")[1].decode() for p in _paths(sweep, events))
    missing = [c for c in (REDACTED[0], STAFF_ONLY[1], *WITHHELD) if not _leaks(seen, (c,))]
    assert not missing


def _off_site(tags, origin: str) -> list[str]:
    """Attributes that point anywhere but this archive (relative links are its own)."""
    bad = []
    for tag, attrs in tags:
        for name in ("src", "href", "action", "poster", "data", "srcset"):
            value = attrs.get(name)
            if value is None:
                continue
            parts = urlsplit(value)
            # A relative link ("/lite/…", "./static/…", "?t=…") stays on this origin.
            if parts.scheme in ("", "http", "https") and parts.netloc in ("", origin):
                continue
            bad.append(f"<{tag} {name}={value!r}>")
    return bad


def test_every_light_answer_has_the_policy_and_points_only_here(sweep, events):  # noqa: F811
    origin = urlsplit(sweep.portal.url).netloc
    for path in _paths(sweep, events)[::3] + [
        "/lite/static/lite.css",
        "/lite/static/nope",
        "/lite/item/nope",
    ]:
        request = urllib.request.Request(sweep.portal.url + path)
        try:
            response = urllib.request.urlopen(request, timeout=60)
        except urllib.error.HTTPError as err:
            response = err
        with response:
            assert response.headers["Content-Security-Policy"] == content_security_policy(), path
            body = response.read().decode("utf-8", "replace")
        if path.startswith("/lite/static/"):
            continue
        tags, _text = _parse_html(body)
        assert not _off_site(tags, origin), (path, _off_site(tags, origin))


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("planted-lite")
    built = planted_data.build(home)
    with portal_data.Portal(home) as portal:
        yield built, portal


def test_planted_text_stays_text_on_every_light_page(planted):
    built, portal = planted
    origin = urlsplit(portal.url).netloc
    crafted = quote(planted_data.payload("param"))
    pages = {
        f"/lite/item/{built.item}": (
            "title_zh",
            "title_en",
            "cue_zh",
            "cue_en",
            "cue_speaker",
            "speaker",
            "tag",
        ),
        f"/lite/item/{built.item}?t=1": ("cue_en",),
        f"/lite/event/{built.upcoming}": (
            "event_title_zh",
            "event_title_en",
            "event_speaker",
            "city",
            "venue",
        ),
        f"/lite/event/{built.past}": ("past_title_zh", "past_title_en"),
        f"/lite/series/{built.series}": ("series_title_zh", "series_title_en"),
        "/lite/events": ("event_title_zh", "event_title_en"),
        "/lite/series": ("series_title_zh", "series_title_en"),
        "/lite/search?q=planted": (),
        f"/lite/search?q={quote(planted_data.payload('query'))}": ("query",),
        "/lite/browse": ("title_zh", "title_en"),
        "/lite/": (),
        # A crafted link: every parameter carries the payload; none comes back as markup or link.
        f"/lite/item/{built.item}?t={crafted}&rev={crafted}&style={crafted}&tz={crafted}": (),
        f"/lite/search?q={crafted}&page={crafted}&collection={crafted}&tz={crafted}": (),
        f"/lite/browse?collection={crafted}&page={crafted}": (),
        f"/lite/events?tz={crafted}": (),
        f"/item?item={built.item}&t={crafted}&rev={crafted}&tz={crafted}": (),
        f"/?q={crafted}&tz={crafted}": (),
        "/?q=planted": (),
        f"/item?item={built.item}": ("title_zh", "title_en", "cue_zh"),
    }
    for path, fields in pages.items():
        for lang in ("zh", "en"):
            url = f"{portal.url}{path}{'&' if '?' in path else '?'}lang={lang}"
            with urllib.request.urlopen(url, timeout=60) as response:
                body = response.read().decode("utf-8")
            tags, text = _parse_html(body)
            if not path.startswith("/lite/"):  # a shell: Streamlit's own inline scripts, no more
                assert len(INLINE_SCRIPT.findall(body)) == STREAMLIT_INLINE_SCRIPTS, path
            for tag, attrs in tags:
                # The tracker may stand only where a query is echoed as text, the search box's
                # value: never in a link (a search link spells it %2E-encoded), never in any other
                # attribute (an event handler, a style, a srcset).
                for name, value in attrs.items():
                    if TRACKER in value and not (tag == "input" and name == "value"):
                        raise AssertionError((path, tag, name, value))
                if tag == "script" and path.startswith("/lite/"):
                    # Only the archive's own file: nothing planted runs.
                    assert attrs.get("src", "").startswith("/lite/static/"), (path, attrs)
                assert tag not in ("img", "iframe", "object", "embed", "base"), (path, tag, attrs)
            assert not _off_site(
                [
                    (t, a)
                    for t, a in tags
                    if not a.get("href", "").startswith("https://meet.example.org/")
                ],
                origin,
            ), path
            own = [f for f in fields if f.endswith(f"_{lang}") or not f.endswith(("_zh", "_en"))]
            for name in own:
                assert visible_part(name) in text, (path, lang, name)
