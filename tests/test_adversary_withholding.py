"""The adversary's sweep, for withholding (issue 18, points 3, 4 and 5): every route, every viewer
below staff, zero occurrences of a withheld person's name or of a local glossary form the public
cannot read.

The interview's speaker is withheld (both scripts, :func:`test_adversary_routes._withhold`), then:

* the interview is the recording of a **public event** whose own speaker list names the person
  (point 3);
* staff **rename** the speaker in the editor by one letter (point 5): "Chan Kam-see" becomes
  "Chan Kam-sea" in every segment;
* the data folder's **glossary** has an entry whose only public-looking form, "Doc", stands in
  public text only inside the longer word "Dock" (point 4).

Routes, as in :mod:`test_adversary_routes` (whose helpers this reuses): the portal's pages
(AppTest), the feeds and file routes over real HTTP against ``archive serve``'s app with each
viewer's session cookie, the command line with ``--role`` and the static mirror. Staff see the
names, so each zero is a real refusal.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import portal_data
import pytest
from conftest import run_cli
from portal_harness import archive_home, open_page, texts
from test_adversary_routes import (
    LABEL,
    PASSWORD,
    VIEWERS,
    WITHHELD,
    Sweep,
    _everything,
    _leaks,
    _session,
    _withhold,
)

from archive.catalog.db import Catalog
from archive.portal.routes.files import subtitle_url, transcript_url
from archive.workspace.accounts import add_user, authenticate, create_session, set_role

RENAMED = "Chan Kam-sea"  # one letter from WITHHELD[1]
GLOSSARY_SECRETS = ("鷸蚌計劃", "zephyrine plan")
CANARIES = (*WITHHELD, RENAMED, *GLOSSARY_SECRETS)
LOCAL_GLOSSARY = "plan\t鷸蚌計劃\tDoc|zephyrine plan\tsaid only inside 'Dock' in public\n"


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory):
    from archive.hub.events import create_event, link_recording
    from archive.workspace.editing import RenameSpeaker, apply_edits

    home = tmp_path_factory.mktemp("adversary-withholding")
    arch = portal_data.build(home, long_talk=False, extra=0)
    cat = Catalog.open(arch.settings)
    interview = arch.ids["interview"]
    _withhold(cat, arch.settings, interview)
    event = create_event(
        arch.settings, cat, title_en="Voices from the docks", start=f"{datetime.now(UTC).year + 1}-05-01 19:00",
        tz="Asia/Hong_Kong", duration_minutes=60, visibility="public",
        speakers=[*WITHHELD, "Ng Siu-ming"],
    )  # fmt: skip
    link_recording(cat, event.id, interview)
    apply_edits(
        cat, arch.settings, interview, [RenameSpeaker(WITHHELD[1], RENAMED)], author="staff1",
        base_revision=cat.latest_revision_number(interview) or 0,
    )  # fmt: skip
    (home / "glossary.tsv").write_text(LOCAL_GLOSSARY, encoding="utf-8")
    cookies = {}
    staff_names = ("staff1", "demoted1", "demoted-page-demoted")
    for name, role in [(n, "staff") for n in staff_names] + [("member1", "members")]:
        add_user(cat, name, role, PASSWORD, actor="test")
    for who, name in (("staff", "staff1"), ("member", "member1"), ("demoted", "demoted1")):
        cookies[who] = create_session(cat, arch.settings, authenticate(cat, name, PASSWORD))
    set_role(cat, "demoted1", "members", actor="test")
    revisions = cat.latest_revision_number(interview)
    cat.close()
    arch.ids["event"] = event.id
    with portal_data.Portal(home) as portal:
        yield Sweep(arch, portal, cookies, 0.0), revisions


def _pages(sweep: Sweep, revisions: int) -> list[tuple[str | None, dict[str, str]]]:
    ids = sweep.arch.ids
    return [
        (None, {}),
        ("event", {"event": ids["event"]}),
        ("upcoming", {}),
        ("series", {}),
        ("browse", {}),
        *(("item", {"item": ids["interview"], "rev": str(r)}) for r in range(1, revisions + 1)),
        *(("search", {"q": q}) for q in ("Kam-sea", "Kam", "Doc", "dock strike")),
    ]


@pytest.mark.parametrize("who", VIEWERS)
def test_no_page_names_the_withheld_speaker(sweep, who) -> None:
    sweep, revisions = sweep
    with archive_home(sweep.settings.home):
        at = _session(sweep, who)
        for page, params in _pages(sweep, revisions):
            open_page(at, page, lang="en", **params)
            found = _leaks(_everything(at), CANARIES)
            assert not found, (who, page, params, found)
        open_page(at, "event", lang="en", event=sweep.arch.ids["event"])
        assert LABEL in texts(at)


def test_staff_see_the_names_on_the_pages(sweep) -> None:
    sweep, _revisions = sweep
    with archive_home(sweep.settings.home):
        at = _session(sweep, "staff")
        open_page(at, "event", lang="en", event=sweep.arch.ids["event"])
        assert WITHHELD[1] in texts(at)
        open_page(at, "item", lang="en", item=sweep.arch.ids["interview"])
        assert RENAMED in _everything(at)


@pytest.mark.parametrize("who", VIEWERS)
def test_no_feed_or_file_route_names_the_withheld_speaker(sweep, who) -> None:
    sweep, revisions = sweep
    ids, viewer = sweep.arch.ids, sweep.viewer(who)
    session = sweep.cookies.get(who)  # links are bound to the session they were minted in
    paths = ["/feeds/events.ics", f"/feeds/events/{ids['event']}.ics", "/feeds/rss.xml"]
    paths += ["/feeds/atom.xml", "/feeds/podcast.xml", "/feeds/podcast/interview.xml"]
    for rev in (*range(1, revisions + 1), None):
        paths.append(transcript_url(sweep.settings, ids["interview"], rev, viewer, session))
        for fmt in ("srt", "vtt", "json"):
            paths.append(
                subtitle_url(sweep.settings, ids["interview"], rev, fmt, "en", viewer, session)
            )
    served = 0
    for path in paths:
        status, body = sweep.get(path, who)
        served += status == 200
        unfolded = body.replace(b"\r\n ", b"")  # iCalendar's folded lines
        found = _leaks(unfolded, CANARIES)
        assert not found, (who, path, found)
    # The public parts were served: these are not all refusals (a demoted session's file tokens
    # are refused outright, as in test_adversary_routes).
    assert served == (len(paths) if who != "demoted" else 6)


@pytest.mark.parametrize("role", ["public", "members"])
def test_no_command_names_the_withheld_speaker(sweep, role) -> None:
    sweep, _revisions = sweep
    home, ids = sweep.settings.home, sweep.arch.ids
    runs: list[tuple[str, ...]] = [
        ("event", "show", ids["event"], "--json", "--role", role),
        ("event", "list", "--json", "--role", role),
        ("show", ids["interview"], "--json", "--role", role),
        ("export", ids["interview"], "--format", "json", "--track", "en", "--role", role),
        ("search", "Kam-sea", "--json", "--role", role),
        ("search", "Doc", "--json", "--role", role),
        ("feed", "ics", "--base-url", "https://a.example"),
        ("feed", "ics", "--event", ids["event"], "--base-url", "https://a.example"),
    ]
    for args in runs:
        done = run_cli(home, *args)
        assert done.returncode == 0, (args, done.stderr)
        found = _leaks((done.stdout + done.stderr).replace("\r\n ", ""), CANARIES)
        assert not found, (role, args, found)
    shown = json.loads(run_cli(home, "event", "show", ids["event"], "--json").stdout)
    assert WITHHELD[1] in shown["speakers"]  # staff, the control


def test_the_mirror_names_no_withheld_speaker_and_no_hidden_glossary_form(sweep, tmp_path):
    sweep, _revisions = sweep
    dest = tmp_path / "mirror"
    done = run_cli(sweep.settings.home, "mirror", str(dest))
    assert done.returncode == 0, done.stderr
    files = [p for p in dest.rglob("*") if p.is_file()]
    assert (dest / "assets" / "glossary.json").is_file() and len(files) > 5
    for path in files:
        if path.suffix in (".m4a", ".png", ".ico", ".woff2", ".wasm"):
            continue
        found = _leaks(path.read_bytes(), CANARIES)
        assert not found, (str(path.relative_to(dest)), found)
    glossary = json.loads((dest / "assets" / "glossary.json").read_text(encoding="utf-8"))
    assert "Doc" not in {form for entry in glossary for group in entry for form in group}


def test_search_results_and_facets_carry_only_the_label(sweep) -> None:
    """The renamed spelling was never indexed: a search that finds the interview's segments
    shows their speaker, and its facets count speakers, by the label alone."""
    from indexer import SearchIndex

    sweep, _revisions = sweep
    index = SearchIndex.open(sweep.settings)
    for role in ("public", "members", "staff"):
        results = index.search("collective bargaining", role=role, per_page=50)
        assert sweep.arch.ids["interview"] in {g.item_id for g in results.groups}
        dumped = json.dumps(results.to_dict(), ensure_ascii=False)
        assert not _leaks(dumped, CANARIES) and LABEL in dumped, role
