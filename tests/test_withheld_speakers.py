"""Withheld speakers: below staff the label staff chose stands for the name, on every route.

A real archive (SQLite, media, Whoosh), the real CLI, the portal's pages through AppTest, the
portal over real HTTP, the feeds, citations in every style and the static mirror. The interview's
speaker, renamed "Lam Wing-sze" (a name in no shipped glossary), is withheld as "Interviewee A":
the name must occur zero times in anything a public or members viewer can get, while staff still
see it.
"""

from __future__ import annotations

import gzip
import json
import urllib.error
import urllib.request
import zlib
from pathlib import Path

import portal_data
import pytest
from conftest import run_cli
from portal_harness import archive_home, log_in, new_session, open_page, texts

NAME = "Lam Wing-sze"
LABEL = "Interviewee A"
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def arch(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("withheld")
    built = portal_data.build(home, long_talk=False, extra=0)
    from archive.catalog.db import Catalog
    from archive.workspace.accounts import add_user

    cat = Catalog.open(built.settings)
    interview = built.ids["interview"]
    portal_data.name_every_speaker(built.settings, cat, interview, NAME)
    add_user(cat, "ed", "staff", PASSWORD, actor="test")
    add_user(cat, "mo", "members", PASSWORD, actor="test")
    cat.close()
    done = run_cli(
        home, "item", "withhold", built.ids["interview"], NAME, "--label", LABEL, "--actor", "ed"
    )
    assert done.returncode == 0, done.stderr
    with archive_home(home):
        yield built


def _everything(at) -> str:
    """The page's text and every option of its choice widgets (facets, filters)."""
    parts = [texts(at)]
    for kind in ("selectbox", "multiselect", "radio", "segmented_control", "pills"):
        for widget in at.get(kind):
            parts.extend(str(o) for o in getattr(widget, "options", []) or [])
            parts.append(str(getattr(widget, "value", "")))
    for element in at.get("bidi_component"):
        parts.append(element.proto.json)
    return "\n".join(parts)


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


# -- the command line ---------------------------------------------------------------------------
def test_withholding_is_audited_and_checked(arch) -> None:
    home, item = arch.home, arch.ids["interview"]
    audit = run_cli(home, "audit", item, "--json")
    assert audit.returncode == 0, audit.stderr
    rows = [r for r in json.loads(audit.stdout) if r["action"] == "withhold-speaker"]
    assert rows and rows[0]["actor"] == "ed" and rows[0]["new_value"] == LABEL
    refused = run_cli(
        home, "item", "withhold", item, "Nobody Here", "--label", "X", "--actor", "ed"
    )
    assert refused.returncode != 0 and refused.stderr.startswith("error:")
    assert "Traceback" not in refused.stderr


@pytest.mark.parametrize("role", ["public", "members"])
def test_show_and_export_below_staff_carry_only_the_label(arch, role: str) -> None:
    item = arch.ids["interview"]
    show = run_cli(arch.home, "show", item, "--role", role, "--json")
    assert show.returncode == 0, show.stderr
    assert NAME not in show.stdout and LABEL in show.stdout
    assert "withheld_speakers" not in json.loads(show.stdout)
    for fmt in ("json", "srt", "vtt", "txt"):
        out = run_cli(arch.home, "export", item, "--role", role, "--format", fmt, "--track", "en")
        assert out.returncode == 0, out.stderr
        assert NAME not in out.stdout
    staff = run_cli(arch.home, "show", item, "--role", "staff", "--json")
    assert NAME in staff.stdout


# -- citations ------------------------------------------------------------------------------------
def test_citations_in_every_style_name_only_the_label(arch) -> None:
    from archive.catalog.access import Viewer
    from archive.catalog.cite import STYLES, build_citation, render
    from archive.catalog.db import Catalog

    cat = Catalog.open(arch.settings)
    item = arch.ids["interview"]
    for role in ("public", "members"):
        for at in (None, 13.0):
            citation = build_citation(
                cat, arch.settings, item, at=at, viewer=Viewer(role), base_url="https://a.example"
            )
            for style in STYLES:
                text = render(citation, style)
                assert NAME not in text, (role, style)
            assert LABEL in render(citation, "chicago")
    staff = build_citation(
        cat,
        arch.settings,
        item,
        at=13.0,
        viewer=Viewer("staff", "ed"),
        base_url="https://a.example",
    )
    assert NAME in render(staff, "chicago")
    out = run_cli(arch.home, "cite", item, "--at", "0:13", "--style", "apa", "--role", "public")
    assert out.returncode == 0 and NAME not in out.stdout


# -- search ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["public", "members"])
def test_search_neither_finds_nor_counts_the_name(arch, role: str) -> None:
    from indexer import SearchIndex

    index = SearchIndex.open(arch.settings)
    for query in (f'speaker:"{NAME}"', f'"{NAME}"', "Wing-sze", "speaker:Lam"):
        results = index.search(query, role=role, per_page=50)
        assert results.total_items == 0, query
    found = index.search(f'speaker:"{LABEL}"', role=role, per_page=50)
    assert arch.ids["interview"] in {g.item_id for g in found.groups}
    everything = index.search("union exile bargaining", role=role, per_page=50)
    assert everything.total_items >= 1
    dumped = json.dumps(everything.to_dict(), ensure_ascii=False)
    assert NAME not in dumped and LABEL in dumped
    assert NAME not in dict(everything.facets["speaker"])


# -- feeds ----------------------------------------------------------------------------------------
def test_feeds_name_only_the_label(arch) -> None:
    from archive.catalog.db import Catalog
    from archive.hub.feeds import podcast_feed, rss_feed

    cat = Catalog.open(arch.settings)
    feeds = [
        rss_feed(arch.settings, cat, base_url="https://a.example"),
        rss_feed(arch.settings, cat, base_url="https://a.example", atom=True),
        podcast_feed(arch.settings, cat, base_url="https://a.example"),
        podcast_feed(arch.settings, cat, base_url="https://a.example", collection="interview"),
    ]
    for data in feeds:
        assert NAME.encode() not in data
    assert any(LABEL.encode() in data for data in feeds)


# -- the static mirror ----------------------------------------------------------------------------
def _file_texts(folder: Path):
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        yield path, data
        for unpack in (gzip.decompress, zlib.decompress):
            try:
                yield path, unpack(data)
            except Exception:  # not that kind of file
                continue


def test_mirror_names_only_the_label(arch, tmp_path: Path) -> None:
    site = tmp_path / "site"
    out = run_cli(arch.home, "mirror", str(site))
    assert out.returncode == 0, out.stderr
    seen_label = False
    for path, data in _file_texts(site):
        assert NAME.encode() not in data, path
        seen_label = seen_label or LABEL.encode() in data
    assert seen_label


# -- the portal -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("page", "params"),
    [
        ("item", {"item": "interview"}),
        ("item", {"item": "interview", "rev": "1"}),
        ("item", {"item": "interview", "rev": "2"}),
        ("browse", {}),
        ("browse", {"speaker": LABEL}),
        ("search", {"q": "union"}),
        ("search", {"q": f'speaker:"{NAME}"'}),
        ("home", {}),
    ],
)
def test_pages_below_staff_show_only_the_label(arch, page: str, params: dict[str, str]) -> None:
    params = {k: arch.ids.get(v, v) if k == "item" else v for k, v in params.items()}
    for member in (False, True):
        at = new_session(lang="en")
        if member:
            log_in(at, "mo", PASSWORD)
        open_page(at, None if page == "home" else page, lang="en", **params)
        # The viewer's own query is echoed back ("No results for …"): not a leak.
        shown = _everything(at).replace(params.get("q", "\0"), "")
        assert NAME not in shown, (page, params, member)
        if page == "item" or params.get("speaker"):
            assert LABEL in shown


def test_staff_see_the_name_on_the_page(arch) -> None:
    at = new_session(lang="en")
    log_in(at, "ed", PASSWORD)
    open_page(at, "item", item=arch.ids["interview"], lang="en")
    assert NAME in _everything(at)


def test_the_editor_withholds_and_names_again(arch) -> None:
    from archive.catalog.db import Catalog

    item = arch.ids["bar"]
    # Browse's list is cached: warm it with the name, as a visitor would just before.
    assert "紮鐵工會" in _everything(open_page(new_session(lang="en"), "browse", lang="en"))
    at = new_session(lang="en")
    log_in(at, "ed", PASSWORD)
    open_page(at, "edit", item=item, lang="en")
    at.selectbox(key="withhold_name").select("紮鐵工會")
    at.text_input(key="withhold_label").input("Union B")
    at.button(key="withhold_save").click().run()
    assert not at.exception
    stored = Catalog.open(arch.settings).get_item(item)
    assert stored.withheld_speakers == (("紮鐵工會", "Union B"),)
    public = new_session(lang="en")
    open_page(public, "item", item=item, lang="en")
    assert "紮鐵工會" not in _everything(public) and "Union B" in _everything(public)
    browse = _everything(open_page(new_session(lang="en"), "browse", lang="en"))
    assert "紮鐵工會" not in browse and "Union B" in browse
    at.button(key="unwithhold_0").click().run()
    assert Catalog.open(arch.settings).get_item(item).withheld_speakers == ()


# -- the file routes and feeds over real HTTP -------------------------------------------------------
def test_http_routes_carry_only_the_label(arch) -> None:
    from archive.catalog.access import Viewer
    from archive.portal.routes.files import subtitle_url, transcript_url

    item = arch.ids["interview"]
    public = Viewer("public")
    with portal_data.Portal(arch.home) as portal:
        urls = [
            transcript_url(arch.settings, item, 0, public),
            *(
                subtitle_url(arch.settings, item, 1, fmt, track, public)
                for fmt in ("srt", "vtt", "json", "txt")
                for track in ("zh", "en")
            ),
            "/feeds/rss.xml",
            "/feeds/atom.xml",
            "/feeds/podcast.xml",
            "/feeds/podcast/interview.xml",
            f"/feeds/transcripts/{item}.en.vtt",
            f"/feeds/chapters/{item}.json",
        ]
        bodies = []
        for url in urls:
            status, body = _get(portal.url + url)
            assert status in (200, 404), url
            assert NAME.encode() not in body, url
            bodies.append(body)
        transcript = json.loads(bodies[0])
        assert {cue[5] for cue in transcript["cues"]} == {LABEL}
