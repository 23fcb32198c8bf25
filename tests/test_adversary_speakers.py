"""The adversary's sweep for speakers shown everywhere (issue 20, point 4): a withheld *diarized*
speaker's name reaches no page, feed, export, citation, facet, ``speaker:`` query or mirror file
below staff, while the label is shown in each of those places.

The interview is diarized: its first two segments are the withheld person, spelled two ways
("Chan Kam-see", "CHAN Kam-see": one name by ``speaker_key``), the third the interviewer. Below
staff, the player's cues, the light portal, the mirror pages, WebVTT voice tags, SRT and text
prefixes, JSON, feed transcripts, "Cite this" in every style, the search facet and ``speaker:``
must say "Interviewee A" and never the name.

The leak check here reads the raw bytes too: :func:`test_adversary_routes._leaks` removes markup
first (a highlight splits a word), which would also remove a name inside ``<v Chan Kam-see>``.
Routes and helpers are those of :mod:`test_adversary_routes`; staff see the name (the control).
"""

from __future__ import annotations

import html
import json

import portal_data
import pytest
from conftest import run_cli
from portal_harness import archive_home, open_page
from test_adversary_routes import (
    LABEL,
    PASSWORD,
    VIEWERS,
    WITHHELD,
    Sweep,
    _everything,
    _leaks,
    _session,
)

from archive.catalog.db import Catalog
from archive.portal.routes.files import subtitle_url, transcript_url
from archive.workspace.accounts import add_user, authenticate, create_session, set_role
from archive.workspace.disclosure import withhold_speaker

VARIANT = "CHAN Kam-see"  # WITHHELD[1] typed otherwise: the same speaker_key
OTHER = "Carol Ng"  # the interviewer, named
CANARIES = (*WITHHELD, VARIANT)


def _raw_leaks(blob: str | bytes) -> list[str]:
    """The canaries in ``blob`` as a reader sees it, and in its markup (a voice tag's name)."""
    text = blob.decode("utf-8", "replace") if isinstance(blob, bytes) else blob
    raw = html.unescape(html.unescape(text)).casefold()
    return sorted(set(_leaks(text, CANARIES)) | {c for c in CANARIES if c.casefold() in raw})


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("adversary-speakers")
    arch = portal_data.build(home, long_talk=False, extra=0)
    cat = Catalog.open(arch.settings)
    interview = arch.ids["interview"]
    rev = cat.get_revision(interview)
    diarized = [WITHHELD[1], VARIANT, OTHER]
    cat.update_item(interview, speakers=[*WITHHELD, OTHER])
    cat.add_revision(
        interview,
        [s.with_(speaker=diarized[i % 3]) for i, s in enumerate(rev.segments)],
        origin="edit",
        author="staff1",
        summary="diarized",
    )
    withhold_speaker(cat, arch.settings, interview, WITHHELD[0], "受訪者甲", actor="staff1")
    withhold_speaker(cat, arch.settings, interview, WITHHELD[1], LABEL, actor="staff1")
    for name, role in [(n, "staff") for n in ("staff1", "demoted1", "demoted-page-demoted")] + [
        ("member1", "members")
    ]:
        add_user(cat, name, role, PASSWORD, actor="test")
    cookies = {}
    for who, name in (("staff", "staff1"), ("member", "member1"), ("demoted", "demoted1")):
        cookies[who] = create_session(cat, arch.settings, authenticate(cat, name, PASSWORD))
    set_role(cat, "demoted1", "members", actor="test")
    cat.close()
    assert run_cli(home, "index", "rebuild").returncode == 0
    with portal_data.Portal(home) as portal:
        yield Sweep(arch, portal, cookies, 12.0)


def _get(sweep: Sweep, path: str, who: str) -> bytes:
    status, body = sweep.get(path, who)
    assert status == 200, (who, path, status)
    return body


@pytest.mark.parametrize("who", VIEWERS)
def test_player_cues_and_exports_name_the_label_at_each_turn(sweep, who) -> None:
    ids, viewer = sweep.arch.ids, sweep.viewer(who)
    session = sweep.cookies.get(who)
    if who == "demoted":  # its file tokens are refused outright (test_adversary_routes)
        viewer, session = sweep.viewer("anonymous"), None
    item = ids["interview"]
    cues = json.loads(_get(sweep, transcript_url(sweep.settings, item, None, viewer, session), who))
    cues = cues["cues"]
    assert [(c[5], c[8]) for c in cues] == [(LABEL, 1), (LABEL, 0), (OTHER, 1)]
    vtt = _get(sweep, subtitle_url(sweep.settings, item, None, "vtt", "en", viewer, session), who)
    srt = _get(sweep, subtitle_url(sweep.settings, item, None, "srt", "en", viewer, session), who)
    js = _get(sweep, subtitle_url(sweep.settings, item, None, "json", "en", viewer, session), who)
    assert vtt.decode().count(f"<v {LABEL}>") == 2 and f"<v {OTHER}>" in vtt.decode()
    assert srt.decode().count(f"{LABEL}: ") == 2
    assert [s["speaker"] for s in json.loads(js)["segments"]] == [LABEL, LABEL, OTHER]
    for body in (json.dumps(cues, ensure_ascii=False), vtt, srt, js):
        assert not _raw_leaks(body), (who, _raw_leaks(body))


@pytest.mark.parametrize("who", VIEWERS)
def test_light_portal_feeds_and_citations_name_only_the_label(sweep, who) -> None:
    item = sweep.arch.ids["interview"]
    lite = _get(sweep, f"/lite/item/{item}", who).decode()
    # Named where a turn begins, not on every line: twice (the label, the interviewer).
    assert lite.count(f'<span class="speaker">{LABEL}:</span>') == 1, who
    assert lite.count(f'<span class="speaker">{OTHER}:</span>') == 1, who
    for style in ("chicago", "apa", "mla", "bibtex", "ris", "csl-json"):
        page = _get(sweep, f"/lite/item/{item}?t=12&style={style}", who)
        cite = page.decode().split('<pre class="citation">', 1)[1].split("</pre>", 1)[0]
        assert LABEL in html.unescape(cite), (who, style)
        assert not _raw_leaks(page), (who, style, _raw_leaks(page))
    for path in (
        "/feeds/podcast.xml",
        "/feeds/rss.xml",
        f"/feeds/transcripts/{item}.en.vtt",
        f"/feeds/transcripts/{item}.en.srt",
    ):
        body = _get(sweep, path, who)
        assert not _raw_leaks(body), (who, path, _raw_leaks(body))
    vtt = _get(sweep, f"/feeds/transcripts/{item}.en.vtt", who).decode()
    assert f"<v {LABEL}>" in vtt


@pytest.mark.parametrize("role", ["public", "members"])
def test_speaker_query_and_facet_never_reveal_the_name(sweep, role) -> None:
    from indexer import SearchIndex

    index = SearchIndex.open(sweep.settings)

    def total(query: str) -> int:
        return index.search(query, role=role, per_page=50).total_items

    # The name, however spelled, counts as a name nobody has: zero, like a random one.
    nobody = total('speaker:"Wong Tai-sin"')
    assert nobody == 0
    for spelled in (*WITHHELD, VARIANT, "chankamsee", "陈金丝雀"):
        assert total(f'speaker:"{spelled}"') == nobody, (role, spelled)
    # The label is found by its speaker_key too (case and spaces aside).
    assert total('speaker:"INTERVIEWEEa"') == 1
    results = index.search("collective bargaining", role=role, per_page=50)
    facet = dict(results.facets["speaker"])
    assert LABEL in facet and not _raw_leaks(json.dumps(facet, ensure_ascii=False)), facet
    hits = [h for g in results.groups for h in g.hits]
    assert {h.speaker for h in hits} == {LABEL}
    assert not _raw_leaks(json.dumps(results.to_dict(), ensure_ascii=False))
    done = run_cli(sweep.settings.home, "search", f'speaker:"{VARIANT}"', "--json", "--role", role)
    assert done.returncode == 0 and not _raw_leaks(done.stdout + done.stderr)


@pytest.mark.parametrize("who", ["anonymous", "member"])
def test_the_search_page_facet_and_hits_carry_only_the_label(sweep, who) -> None:
    with archive_home(sweep.settings.home):
        at = _session(sweep, who)
        open_page(at, "search", lang="en", q="collective bargaining", speaker=LABEL)
        page = _everything(at)
        assert f"{LABEL}:" in page, who  # the hit says who spoke
        assert not _raw_leaks(page), (who, _raw_leaks(page))
        # Filtering by the name (the visitor's own words, echoed) finds nothing of the interview.
        open_page(at, "search", lang="en", q="collective bargaining", speaker=WITHHELD[1])
        assert f"{LABEL}:" not in _everything(at), who


def test_cli_exports_and_citations_below_staff_name_only_the_label(sweep) -> None:
    home, item = sweep.settings.home, sweep.arch.ids["interview"]
    for role in ("public", "members"):
        for fmt in ("vtt", "srt", "txt", "json"):
            done = run_cli(home, "export", item, "--format", fmt, "--track", "en", "--role", role)
            assert done.returncode == 0, done.stderr
            assert LABEL in done.stdout and not _raw_leaks(done.stdout), (role, fmt)
        done = run_cli(home, "cite", item, "--at", "12", "--style", "bibtex", "--role", role)
        assert done.returncode == 0, done.stderr
        assert f"{LABEL}: " in done.stdout and not _raw_leaks(done.stdout), role
    staff = run_cli(home, "export", item, "--format", "vtt", "--track", "en")
    assert f"<v {WITHHELD[1]}>" in staff.stdout  # the control: staff see the name


def test_the_mirror_names_only_the_label_at_each_turn(sweep, tmp_path) -> None:
    dest = tmp_path / "mirror"
    done = run_cli(sweep.settings.home, "mirror", str(dest))
    assert done.returncode == 0, done.stderr
    item = sweep.arch.ids["interview"]
    files = [p for p in dest.rglob("*") if p.is_file()]
    for path in files:
        if path.suffix in (".m4a", ".png", ".ico", ".woff2", ".wasm", ".mp4", ".webm"):
            continue
        found = _raw_leaks(path.read_bytes())
        assert not found, (str(path.relative_to(dest)), found)
    vtt = (dest / "subtitles" / f"{item}.en.vtt").read_text(encoding="utf-8")
    assert f"<v {LABEL}>" in vtt
    pages = [p for p in files if p.suffix == ".html" and item in p.name]
    assert pages, [str(p) for p in files][:20]
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert text.count(f'<span class="speaker">{LABEL}:</span>') == 1, page
