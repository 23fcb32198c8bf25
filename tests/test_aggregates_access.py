"""Aggregates and feeds show only what the viewer may see (issue 11, findings 4 and 5 and the Browse
cache): a series with nothing the viewer may see answers byte for byte like an id that does not
exist, on every route; "Also searched" names a form of the data folder's own glossary only where it
occurs in text the viewer may read; the cached Browse list, facets, counts and hours chart drop a
withdrawn item at the next run.

Real parts only: a real catalog and media store in a temporary folder, the feed routes over a real
socket (uvicorn), the portal through Streamlit's AppTest, the command line as a subprocess.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import run_cli
from portal_harness import archive_home, new_session, open_page, texts
from test_feeds import serving

from archive.catalog import Catalog
from archive.config import load_settings
from archive.events import create_event, create_series, set_item_series

SECRET_TITLE = "Kwai Chung informants"
SECRET_DESCRIPTION = "Interviews with the dockers who spoke to us in 2025"


@dataclass(frozen=True)
class Hub:
    home: Path
    settings: object
    catalog: Catalog


@pytest.fixture(scope="module")
def hub(tmp_path_factory) -> Iterator[Hub]:
    """Series of every kind: ``open`` (a public recording), ``secret`` (a staff-only recording, a
    recording embargoed until next year, a members-only event), ``empty`` (nothing at all)."""
    home = tmp_path_factory.mktemp("aggregates") / "home"
    settings = load_settings(home).ensure()
    catalog = Catalog.open(settings)
    create_series(catalog, "open", title_zh="公開系列", title_en="Open series")
    create_series(
        catalog,
        "secret",
        title_zh="葵涌線人",
        title_en=SECRET_TITLE,
        description_en=SECRET_DESCRIPTION,
    )
    create_series(catalog, "empty", title_en="Nothing yet")
    public = catalog.create_item(title_en="A public talk", visibility="public")
    set_item_series(catalog, public.id, "open")
    staff = catalog.create_item(title_en="Raw interview", visibility="staff")
    set_item_series(catalog, staff.id, "secret")
    later = (datetime.now(UTC) + timedelta(days=365)).date().isoformat()
    embargoed = catalog.create_item(
        title_en="Embargoed interview",
        visibility="staff",
        embargo_until=later,
        embargo_visibility="public",
    )
    set_item_series(catalog, embargoed.id, "secret")
    create_event(
        settings,
        catalog,
        title_en="Members' briefing",
        start=f"{datetime.now(UTC).year + 1}-07-10 20:00",
        tz="Europe/London",
        duration_minutes=60,
        visibility="members",
        series_id="secret",
    )
    yield Hub(home, settings, catalog)
    catalog.close()


def _raw(base: str, path: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, every header but ``date`` (in order) and the body, read off the socket."""
    url = urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
        headers = [(k.lower(), v) for k, v in response.getheaders() if k.lower() != "date"]
        return response.status, headers, body
    finally:
        conn.close()


@pytest.fixture(scope="module")
def feeds(hub) -> Iterator[str]:
    from starlette.applications import Starlette

    from archive.feeds_web import feed_routes

    with serving(Starlette(routes=feed_routes(hub.settings))) as base:
        yield base


@pytest.mark.parametrize("feed", ["podcast.xml", "events.ics"])
@pytest.mark.parametrize("series_id", ["secret", "empty"])
def test_a_hidden_series_feed_is_byte_for_byte_an_unknown_one(feeds, feed, series_id):
    unknown = _raw(feeds, f"/feeds/series/nope/{feed}")
    hidden = _raw(feeds, f"/feeds/series/{series_id}/{feed}")
    assert unknown[0] == 404
    assert hidden == unknown
    assert SECRET_TITLE.encode() not in hidden[2]


@pytest.mark.parametrize("feed", ["podcast.xml", "events.ics"])
def test_a_series_with_public_content_has_its_feeds(feeds, feed):
    status, _, body = _raw(feeds, f"/feeds/series/open/{feed}")
    assert status == 200 and b"Open series" in body


def test_series_page_of_a_hidden_series_reads_as_an_unknown_one(hub):
    def page(series_id: str, lang: str) -> tuple[str, list[str]]:
        at = open_page(new_session(lang=lang), "series", series=series_id, lang=lang)
        links = [f"{p.proto.label} {p.proto.query_string}" for p in at.get("page_link")]
        return texts(at), links

    with archive_home(hub.home):
        for lang in ("en", "zh"):
            unknown = page("nope", lang)
            for series_id in ("secret", "empty"):
                assert page(series_id, lang) == unknown
        listing = texts(open_page(new_session(lang="en"), "series", lang="en"))
        assert "Open series" in listing
        assert SECRET_TITLE not in listing and "Nothing yet" not in listing


@pytest.mark.parametrize("role", ["public", "members"])
def test_event_list_of_a_hidden_series_reads_as_an_unknown_one(hub, role):
    unknown = run_cli(hub.home, "event", "list", "--series", "nope", "--role", role, "--json")
    hidden = run_cli(hub.home, "event", "list", "--series", "empty", "--role", role, "--json")
    assert unknown.returncode != 0 and unknown.stderr.startswith("error: no series 'nope'")
    assert (hidden.returncode, hidden.stdout) == (unknown.returncode, unknown.stdout)
    assert hidden.stderr.replace("'empty'", "'nope'") == unknown.stderr
    secret = run_cli(hub.home, "event", "list", "--series", "secret", "--role", role, "--json")
    if role == "public":  # a members-only event, a staff-only and an embargoed recording
        assert secret.stderr.replace("'secret'", "'nope'") == unknown.stderr
    else:  # members see the briefing
        assert secret.returncode == 0
        assert [e["title_en"] for e in json.loads(secret.stdout)] == ["Members' briefing"]
