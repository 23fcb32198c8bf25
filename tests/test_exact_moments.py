"""Exact moments: every link, permalink, citation and ``--at`` selects the segment chosen, never
the one before it, with segments that start at fractions of a second (12.4 s), before and after a
redaction; in the catalog, the command line, the search index, the portal and the static mirror."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import portal_data
import pytest
from conftest import run_cli
from portal_harness import archive_home, new_session, open_page, texts

from archive.catalog.access import Viewer
from archive.catalog.cite import build_citation, parse_moment, permalink, segment_at
from archive.catalog.db import Catalog
from archive.core.config import load_settings
from archive.core.moments import MOMENT_EPSILON, moment_param
from indexer.results import permalink as hit_permalink
from transcripts.segments import Segment

ITEM = "m0ment5abc"
# Starts at fractions, touching segments, one pause, starts whose float forms are inexact.
SEGMENTS = [
    Segment(1.2, 7.6, "第一句。", "The first line.", lang="zh", uid="s1"),
    Segment(7.6, 12.4, "第二句。", "The second line.", lang="zh", uid="s2"),
    Segment(12.4, 18.354, "第三句。", "The third line.", lang="zh", uid="s3"),
    Segment(18.354, 20.005, "第四句。", "The fourth line.", lang="zh", uid="s4"),
    Segment(22.1, 25.3, "第五句。", "The fifth line.", lang="zh", uid="s5"),
    Segment(25.3 + 0.1 + 0.2, 31.0, "第六句。", "The sixth line.", lang="zh", uid="s6"),
]


def t_of(link: str) -> float:
    """The ``t`` a link carries, read as the portal reads it."""
    (value,) = parse_qs(urlsplit(link).query)["t"]
    return parse_moment(value)


@pytest.mark.parametrize(
    "seconds", [0.0, 1.2, 7.6, 12.4, 18.354, 20.005, 25.6, 0.1 + 0.2, 3599.9995, 7.0004]
)
def test_moment_param_is_never_before_the_moment_and_keeps_its_fraction(seconds):
    text = moment_param(seconds)
    assert float(text) + MOMENT_EPSILON > seconds  # never before it (beyond float noise)
    assert float(text) - seconds < 0.001 + 1e-9  # and at most a millisecond after
    assert not text.endswith(".") and (text == "0" or not text.endswith("0") or "." not in text)


@pytest.mark.parametrize("segment", SEGMENTS, ids=lambda s: s.uid)
def test_a_link_to_each_segment_opens_that_segment(segment):
    for link in (
        permalink(ITEM, revision=1, at=segment.start),
        hit_permalink(ITEM, segment.start),
    ):
        chosen = segment_at(SEGMENTS, t_of(link))
        assert chosen is not None and chosen.uid == segment.uid, (link, chosen)


@pytest.fixture
def catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for name in ("ARCHIVE_PUBLIC_URL", "ARCHIVE_HOME"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(tmp_path / "home")
    cat = Catalog.open(settings)
    cat.create_item(
        id=ITEM, title_en="Moments", title_zh="時刻", collection="webinar", visibility="public"
    )
    cat.add_revision(ITEM, SEGMENTS, origin="whisper")
    cat.settings = settings  # type: ignore[attr-defined]  # carried for the tests below
    yield cat
    cat.close()


@pytest.mark.parametrize("segment", SEGMENTS, ids=lambda s: s.uid)
def test_citing_each_segment_start_quotes_it_and_links_it(catalog, segment):
    citation = build_citation(
        catalog,
        catalog.settings,
        ITEM,
        at=segment.start,
        viewer=Viewer("public"),
        base_url="https://archive.example.org",
    )
    assert citation.quote is not None and citation.quote.uid == segment.uid
    again = segment_at(SEGMENTS, t_of(citation.permalink))
    assert again is not None and again.uid == segment.uid


def test_after_a_redaction_a_link_to_the_redacted_moment_quotes_nothing_not_its_neighbour(catalog):
    from archive.workspace.visibility import redact

    redact(catalog, catalog.settings, ITEM, start=7.6, end=12.4, actor="staff", rebuild_media=False)
    citation = build_citation(
        catalog, catalog.settings, ITEM, at=7.6, viewer=Viewer("public"), base_url=None
    )
    assert citation.quote_redacted and citation.quote is None
    # The segment after the redaction is quoted from its own start, not the redacted one.
    after = build_citation(
        catalog, catalog.settings, ITEM, at=12.4, viewer=Viewer("public"), base_url=None
    )
    assert after.quote is not None and after.quote.uid == "s3"
    assert t_of(after.permalink) >= 12.4


def test_cli_cite_at_a_fraction_quotes_and_links_that_segment(catalog):
    done = run_cli(catalog.settings.home, "cite", ITEM, "--at", "12.4", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["quote"]["uid"] == "s3"
    assert "t=12.4&" in data["permalink"]
    done = run_cli(catalog.settings.home, "cite", ITEM, "--at", "0:18.354", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["quote"]["uid"] == "s4"


def test_mirror_anchors_open_their_own_segments(catalog, tmp_path):
    from archive.preservation.mirror import build_mirror

    site = tmp_path / "site"
    build_mirror(catalog.settings, catalog, site)
    page = next(site.rglob(f"{ITEM}*.html")).read_text(encoding="utf-8")
    rows = re.findall(r'<li id="t=([0-9.]+)" data-start="([0-9.]+)"', page)
    assert len(rows) == len(SEGMENTS)
    for anchor, start in rows:
        chosen = segment_at(SEGMENTS, float(anchor))
        assert chosen is not None and abs(chosen.start - float(start)) < 0.001, (anchor, chosen)


# -- the portal ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("moments-portal")
    arch = portal_data.build(home, long_talk=False, extra=0)
    with archive_home(home):
        yield arch


def test_item_at_a_fractional_t_captions_and_cites_that_segment(portal):
    # The dock talk's fourth line starts at 5.4 s; the third ends at 5.2 s.
    item = portal.ids["dock"]
    at = open_page(new_session(lang="en"), "item", item=item, t="5.4", lang="en")
    shown = texts(at)
    assert "0:05: The strike won wide public support" in shown, shown
    chicago = at.code[0].value
    assert f"item={item}&t=5.4&rev=1" in chicago
    assert "The strike won wide public support" in chicago
    assert "Container terminal workers" not in chicago  # the sentence before is not quoted


def test_search_hit_links_carry_the_segment_start_exactly(portal):
    at = open_page(new_session(lang="en"), "search", q="eight million dollars", lang="en")
    starts = []
    for link in at.get("page_link"):
        query = parse_qs(link.proto.query_string)
        if query.get("item") == [portal.ids["dock"]] and "t" in query:
            starts.append(query["t"][0])
    assert starts == ["5.4"], starts
