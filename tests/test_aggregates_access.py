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
from portal_data import in_process
from portal_harness import archive_home, new_session, open_page, texts

from archive.catalog.db import Catalog
from archive.core.config import load_settings
from archive.hub.events import create_event
from archive.hub.series import create_series, set_item_series

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

    from archive.portal.routes.feeds import feed_routes

    with in_process(Starlette(routes=feed_routes(hub.settings))) as base:
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
                # The light-version link in the header carries the id the visitor asked for.
                shown, links = page(series_id, lang)
                assert (
                    shown.replace(series_id, "nope"),
                    [link.replace(series_id, "nope") for link in links],
                ) == unknown
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


# -- cached lists, facets, counts and the hours chart ------------------------------------------------

CANARY_TITLE = "Canary interview"
CANARY_SPEAKER = "Canary Witness"
CANARY_YEAR = "1989"


def _page_dump(at) -> str:
    """Every element's content on the page (labels, options, captions, chart specs) as text."""
    out: list[str] = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            out.append(str(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(out)


def _chart_years(at) -> set[str]:
    """The years in the hours chart's data (the Arrow tables sent with the Vega-Lite spec)."""
    import pyarrow as pa

    years: set[str] = set()
    charts = [e for e in at.get("vega_lite_chart")] + [e for e in at.get("arrow_vega_lite_chart")]
    for chart in charts:
        for dataset in chart.proto.datasets:
            table = pa.ipc.open_stream(dataset.data.data).read_all()
            if "year" in table.column_names:
                years.update(str(v) for v in table.column("year").to_pylist())
    return years


@pytest.fixture
def portal_archive(tmp_path) -> Iterator[tuple[Path, str]]:
    import portal_data

    home = tmp_path / "home"
    home.mkdir()
    arch = portal_data.build(home, long_talk=False, extra=0)
    cat = Catalog.open(arch.settings)
    canary = cat.create_item(
        title_en=CANARY_TITLE,
        collection="interview",
        recorded_date=f"{CANARY_YEAR}-06-04",
        speakers=[CANARY_SPEAKER],
        tags=["canary-tag"],
        language="en",
        visibility="public",
    )
    path, sha, size = portal_data._store(arch.settings, portal_data.FIXTURES / "en" / "jfk.flac")
    cat.add_media(
        canary.id,
        role="audio",
        sha256=sha,
        size=size,
        path=path,
        duration=3 * 3600.0,  # three hours: the chart and the total show it plainly
        mime="audio/flac",
    )
    cat.close()
    yield home, canary.id


def test_withdrawn_item_leaves_browse_home_and_about_at_the_next_run(portal_archive):
    from archive.workspace.visibility import set_visibility

    home, canary_id = portal_archive
    settings = load_settings(home)
    with archive_home(home):
        browse = open_page(new_session(lang="en"), "browse", lang="en")
        before = _page_dump(browse)
        assert CANARY_TITLE in before and CANARY_SPEAKER in before and "canary-tag" in before
        assert CANARY_YEAR in str(browse.selectbox(key="browse_year").options)
        assert CANARY_YEAR in _chart_years(browse)
        homepage = open_page(new_session(lang="en"), None, lang="en")
        assert CANARY_TITLE in _page_dump(homepage)
        about = open_page(new_session(lang="en"), "about", lang="en")

        cat = Catalog.open(settings)
        set_visibility(cat, settings, canary_id, "staff", actor="alice")
        cat.close()

        for at in (browse.run(), homepage.run(), about.run()):
            assert not at.exception
            shown = _page_dump(at)
            assert CANARY_TITLE not in shown and CANARY_SPEAKER not in shown
            assert "canary-tag" not in shown
        after = _page_dump(browse)
        assert CANARY_YEAR not in str(browse.selectbox(key="browse_year").options)
        assert CANARY_YEAR not in _chart_years(browse) and _chart_years(browse)
        # Counts and hours: four recordings, not five; the canary's three hours are gone.
        assert "4 recordings" in after and "5 recordings" in before
        assert "Interviews (1)" in after and "Interviews (2)" in before
        assert "3.0 hours" in before and "3.0 hours" not in after


def test_every_change_a_viewer_could_see_moves_the_change_stamp(settings, catalog, fixtures_dir):
    import portal_data

    from archive.hub.events import update_event
    from archive.hub.series import update_series
    from archive.workspace.visibility import set_visibility

    stamps = [catalog.change_stamp()]

    def moved() -> bool:
        stamps.append(catalog.change_stamp())
        return stamps[-1] != stamps[-2]

    item = catalog.create_item(title_en="Talk", visibility="public")
    assert moved()
    path, sha, size = portal_data._store(settings, fixtures_dir / "en" / "jfk.flac")
    catalog.add_media(item.id, role="audio", sha256=sha, size=size, path=path, duration=11.0)
    assert moved()
    catalog.add_revision(
        item.id, portal_data._segments([("字", "Words.")], step=2.0), origin="import"
    )
    assert moved()
    set_visibility(catalog, settings, item.id, "members", actor="alice")
    assert moved()
    catalog.update_item(item.id, title_en="Talk, renamed")
    assert moved()
    create_series(catalog, "s1", title_en="A series")
    assert moved()
    update_series(catalog, "s1", title_en="The series")
    assert moved()
    event = create_event(
        settings, catalog, title_en="E", start="2030-01-01 10:00", tz="UTC", duration_minutes=30
    )
    assert moved()
    update_event(settings, catalog, event.id, visibility="public")
    assert moved()
    # An embargo's date opens an item with no write at all: the stamp moves when it passes.
    soon = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    set_visibility(
        catalog, settings, item.id, "staff", actor="alice", embargo_until=soon,
        embargo_visibility="public",
    )  # fmt: skip
    now = catalog.change_stamp()
    assert catalog.change_stamp(at=datetime.now(UTC) + timedelta(days=3)) != now
    # Jobs are not what a viewer sees: queueing one leaves the stamp (and the caches) alone.
    catalog.create_job("ingest", payload={})
    assert catalog.change_stamp() == now


# -- "Also searched" and the data folder's own glossary -------------------------------------------

# Staff added these to the data folder's glossary.tsv. "鷸蚌計劃 / zephyrine plan" is said only in a
# staff-only meeting; "陳大文" nowhere at all; "Mr Quokka" only in a redacted sentence of a public
# talk; "container terminal" is in a public item's description, "Kwai Chung terminal" is nowhere.
LOCAL_GLOSSARY = (
    "person\t陳大文|鷸蚌計劃\tChan Tai-man|zephyrine plan\tthe interviewee at risk and his plan\n"
    "person\t郭先生\tMr Kwok|Mr Quokka\tnamed in a redacted sentence\n"
    "place\t貨櫃碼頭\tcontainer terminal|Kwai Chung terminal\tlocal\n"
)
SECRET_FORMS = ("鷸蚌計劃", "zephyrine", "陳大文", "Kwai Chung terminal", "Quokka", "quokka")


@pytest.fixture(scope="module")
def searchable(tmp_path_factory):
    from search_corpus import make_archive

    archive = make_archive(tmp_path_factory.mktemp("glossary") / "home")
    with (archive.settings.home / "glossary.tsv").open("a", encoding="utf-8") as fh:
        fh.write(LOCAL_GLOSSARY)
    return archive


@pytest.mark.parametrize("role", ["public", "members"])
def test_local_forms_that_name_hidden_text_are_never_revealed(searchable, role):
    for query in ("dock strike", "碼頭工人罷工", "Chan Tai-man", "貨櫃碼頭", "Mr Kwok"):
        results = searchable.search(query, role=role, per_page=100, hits_per_item=100)
        shown = json.dumps(results.to_dict(), ensure_ascii=False)
        for form in SECRET_FORMS:
            assert form not in shown, (query, form)
    # A shipped form is still listed, and so is a local form found in text the viewer may read.
    assert "碼頭工人罷工" in searchable.search("dock strike", role=role).expansions
    assert "container terminal" in searchable.search("貨櫃碼頭", role=role).expansions
    # Zero results: nothing is named at all.
    nothing = searchable.search("Chan Tai-man", role=role)
    assert (nothing.total_hits, nothing.total_items, nothing.expansions) == (0, 0, [])


def test_staff_still_search_with_the_local_glossary(searchable):
    results = searchable.search("Chan Tai-man", role="staff", per_page=100, hits_per_item=100)
    assert {"陳大文", "鷸蚌計劃", "zephyrine plan"} <= set(results.expansions)
    assert "sec-01" in {h.uid for g in results.groups for h in g.hits}  # found through the plan


def test_search_json_on_the_command_line(searchable):
    home = searchable.settings.home
    shipped = run_cli(home, "search", "dock strike", "--json", "--role", "public")
    assert shipped.returncode == 0, shipped.stderr
    assert "碼頭工人罷工" in shipped.stdout
    for query in ("dock strike", "Chan Tai-man"):
        public = run_cli(home, "search", query, "--json", "--role", "public")
        assert public.returncode == 0, public.stderr
        for form in SECRET_FORMS:
            assert form not in public.stdout and form not in public.stderr
    staff = run_cli(home, "search", "Chan Tai-man", "--json", "--role", "staff")
    assert "鷸蚌計劃" in staff.stdout
    staff = run_cli(home, "search", "Mr Kwok", "--json", "--role", "staff")
    assert "Mr Quokka" in staff.stdout + staff.stderr  # staff find the redacted sentence


def test_also_searched_on_the_portal(searchable):
    with archive_home(searchable.settings.home):
        for query in ("dock strike", "Chan Tai-man"):
            at = open_page(new_session(lang="en"), "search", q=query, lang="en")
            shown = _page_dump(at)
            for form in SECRET_FORMS:
                assert form not in shown and form.encode("unicode_escape").decode() not in shown
        at = open_page(new_session(lang="en"), "search", q="dock strike", lang="en")
        also = [c.value for c in at.caption if "Also searched" in str(c.value)]
        assert len(also) == 1 and "碼頭工人罷工" in also[0] and "鷸蚌計劃" not in also[0]
