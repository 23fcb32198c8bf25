"""The adversary's sweep: every route in docs/security.md's table, as an anonymous visitor, a member
and a staff member who was demoted after logging in, against three canaries; zero occurrences.

* a **staff-only item** (its title and transcript);
* a **redacted sentence** in an *earlier* revision: the sentence is split in revision 2 and only
  the second half's moment is redacted afterwards, so revision 1 (citable, reachable with
  ``?rev=1``) holds the words under another segment id;
* a **withheld speaker**, named on the item and in the segments' speaker field.

Routes: the portal's pages (AppTest: home, search for each canary, browse, the item at each
revision, events, series, about), the file routes and feeds over real HTTP against ``archive
serve``'s app (with each viewer's session cookie), the command line with ``--role`` and the static
mirror. Staff, by contrast, do see each canary, so every "zero" below is a real refusal.
"""

from __future__ import annotations

import html
import json
import re
import urllib.error
import urllib.request
from pathlib import Path

import portal_data
import pytest
from conftest import run_cli
from portal_harness import archive_home, log_in, new_session, open_page, texts
from streamlit.testing.v1 import AppTest

from archive.catalog.access import Viewer
from archive.catalog.db import Catalog
from archive.portal.routes.files import subtitle_url, transcript_url
from archive.portal.sessions import COOKIE_NAME
from archive.workspace.accounts import add_user, authenticate, create_session, set_role
from archive.workspace.disclosure import withhold_speaker

PASSWORD = "correct horse battery"
REDACTED = ("八百萬元", "eight million dollars")  # the second half of a split sentence
STAFF_ONLY = ("碼頭罷工內部討論", "內部會議")  # the staff-only item's transcript and title words
WITHHELD = ("陳金絲雀", "Chan Kam-see")
LABEL = "Interviewee A"
ALL_CANARIES = (*REDACTED, *STAFF_ONLY, *WITHHELD)
VIEWERS = ("anonymous", "member", "demoted")
# Searches that find each canary without spelling it out (a page may echo the visitor's query).
PROBES = ("八百萬", "million dollars", "內部討論", "內部", "金絲", "Kam", 'speaker:"Kam-see"')


class Sweep:
    def __init__(
        self, arch: portal_data.DemoArchive, portal: portal_data.Portal, cookies: dict, at: float
    ):
        self.arch, self.portal, self.cookies = arch, portal, cookies
        self.redacted_at = at  # a moment inside the redacted half

    @property
    def settings(self):
        return self.arch.settings

    def viewer(self, who: str) -> Viewer:
        return {
            "anonymous": Viewer("public"),
            "member": Viewer("members", "member1"),
            "demoted": Viewer("members", "demoted1"),
            "staff": Viewer("staff", "staff1"),
        }[who]

    def get(self, path: str, who: str) -> tuple[int, bytes]:
        headers = {"Cookie": f"{COOKIE_NAME}={self.cookies[who]}"} if who in self.cookies else {}
        request = urllib.request.Request(self.portal.url + path, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()


def _split_and_redact(home: Path, cat: Catalog, item_id: str) -> float:
    """Split the donation sentence in two (revision 2), then redact only its second half."""
    rev = cat.get_revision(item_id)
    seg = next(s for s in rev.segments if REDACTED[0] in s.text_zh)
    middle = (seg.start + seg.end) / 2
    zh_at = seg.text_zh.index(REDACTED[0]) - 2
    en_at = seg.text_en.index(REDACTED[1]) - 5
    split = run_cli(
        home, "edit", "split", item_id, seg.uid, "--at", f"{middle:.2f}",
        "--zh-at", str(zh_at), "--en-at", str(en_at),
    )  # fmt: skip
    assert split.returncode == 0, split.stderr
    second = (middle + seg.end) / 2
    done = run_cli(home, "redact", item_id, "--at", f"{second:.2f}", "--reason", "a donor")
    assert done.returncode == 0, done.stderr
    # Revision 1 holds the whole sentence under the old id; revision 2 the redacted half.
    assert any(REDACTED[0] in s.text_zh for s in cat.get_revision(item_id, 1).segments)
    return second


def _withhold(cat: Catalog, settings, item_id: str) -> None:
    rev = cat.get_revision(item_id)
    cat.update_item(item_id, speakers=[*cat.get_item(item_id).speakers, *WITHHELD])
    cat.add_revision(
        item_id,
        [s.with_(speaker=WITHHELD[1]) for s in rev.segments],
        origin="edit",
        author="staff1",
        summary="speakers",
    )
    # One person named in both scripts: a label each (labels are unique within an item).
    withhold_speaker(cat, settings, item_id, WITHHELD[0], "受訪者甲", actor="staff1")
    withhold_speaker(cat, settings, item_id, WITHHELD[1], LABEL, actor="staff1")


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("adversary")
    arch = portal_data.build(home, long_talk=False, extra=0)
    cat = Catalog.open(arch.settings)
    moment = _split_and_redact(home, cat, arch.ids["dock"])
    _withhold(cat, arch.settings, arch.ids["interview"])
    cookies = {}
    staff_names = ("staff1", "demoted1", "demoted-page-demoted")
    for name, role in [(n, "staff") for n in staff_names] + [("member1", "members")]:
        add_user(cat, name, role, PASSWORD, actor="test")
    for who, name in (("staff", "staff1"), ("member", "member1"), ("demoted", "demoted1")):
        cookies[who] = create_session(cat, arch.settings, authenticate(cat, name, PASSWORD))
    # Demoted after logging in: the session made as staff must now give no more than a member's.
    set_role(cat, "demoted1", "members", actor="test")
    cat.close()
    with portal_data.Portal(home) as portal:
        yield Sweep(arch, portal, cookies, moment)


def _leaks(blob: str | bytes, canaries=ALL_CANARIES) -> list[str]:
    """The canaries in ``blob`` as a reader sees it (tags, which a search highlight puts inside a
    word, and character references removed) and as a program reads it (the raw text, unescaped:
    a name inside a tag, such as WebVTT's ``<v Name>``, is shown by players)."""
    raw = blob.decode("utf-8", "replace") if isinstance(blob, bytes) else blob
    shown = html.unescape(re.sub(r"<[^>]*>", "", raw)).replace("\u2060", "")
    read = html.unescape(raw).replace("\u2060", "")
    return [c for c in canaries if c in shown or c in read]


def _everything(at: AppTest) -> str:
    """Every element of the page, nested ones included, as the protobuf the browser receives."""
    parts: list[str] = []

    def walk(node) -> None:  # type: ignore[no-untyped-def]
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(str(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(parts)


def _session(sweep: Sweep, who: str) -> AppTest:
    at = new_session(lang="en")
    if who == "member":
        log_in(at, "member1", PASSWORD)
    elif who == "demoted":
        # Logged in while still staff, demoted while the page is open.
        log_in(at, "demoted-page-demoted", PASSWORD)
        cat = Catalog.open(sweep.settings)
        try:
            set_role(cat, "demoted-page-demoted", "members", actor="test")
        finally:
            cat.close()
    elif who == "staff":
        log_in(at, "staff1", PASSWORD)
    return at


def _pages(sweep: Sweep) -> list[tuple[str | None, dict[str, str]]]:
    ids = sweep.arch.ids
    return [
        (None, {}),
        *(("search", {"q": probe}) for probe in PROBES),
        ("browse", {}),
        ("item", {"item": ids["dock"], "rev": "1"}),
        ("item", {"item": ids["dock"], "rev": "2"}),
        ("item", {"item": ids["dock"]}),
        ("item", {"item": ids["interview"]}),
        ("item", {"item": ids["interview"], "rev": "1"}),
        ("item", {"item": ids["secret"]}),
        ("upcoming", {}),
        ("series", {}),
        ("about", {}),
    ]


@pytest.mark.parametrize("who", VIEWERS)
def test_no_page_shows_a_canary(sweep, who):
    with archive_home(sweep.settings.home):
        at = _session(sweep, who)
        for page, params in _pages(sweep):
            open_page(at, page, lang="en", **params)
            found = _leaks(_everything(at))
            assert not found, (who, page, params, found)
        # The withheld speaker's label is what they see instead.
        open_page(at, "item", lang="en", item=sweep.arch.ids["interview"])
        assert LABEL in texts(at)


def test_staff_see_every_canary_on_the_pages(sweep):
    """The control: the same pages show staff each canary, so the zeros above are refusals."""
    with archive_home(sweep.settings.home):
        at = _session(sweep, "staff")
        seen = ""
        for page, params in _pages(sweep):
            open_page(at, page, lang="en", **params)
            seen += _everything(at)
        assert not [c for c in (REDACTED[0], STAFF_ONLY[1], *WITHHELD) if c not in seen]


def _file_paths(sweep: Sweep, who: str) -> list[str]:
    viewer, ids, s = sweep.viewer(who), sweep.arch.ids, sweep.settings
    session = sweep.cookies.get(who)  # links are bound to the session they were minted in
    paths = []
    for item in (ids["dock"], ids["interview"], ids["secret"]):
        for rev in (1, 2, None):
            paths.append(transcript_url(s, item, rev, viewer, session))
            for fmt in ("srt", "vtt", "txt", "json"):
                for track in ("zh", "en"):
                    paths.append(subtitle_url(s, item, rev, fmt, track, viewer, session))
    return paths


FEEDS = ("/feeds/rss.xml", "/feeds/atom.xml", "/feeds/podcast.xml", "/feeds/events.ics")


@pytest.mark.parametrize("who", VIEWERS)
def test_no_file_route_or_feed_carries_a_canary(sweep, who):
    ids = sweep.arch.ids
    paths = [*_file_paths(sweep, who), *FEEDS]
    paths += [f"/feeds/podcast/{c}.xml" for c in ("webinar", "interview", "other")]
    for item in (ids["dock"], ids["interview"], ids["secret"]):
        paths += [
            f"/feeds/transcripts/{item}.{t}.{f}" for t in ("zh", "en") for f in ("srt", "vtt")
        ]
        paths += [f"/feeds/chapters/{item}.json", f"/feeds/media/{item}.m4a"]
    served = 0
    for path in paths:
        status, body = sweep.get(path, who)
        served += status == 200
        found = _leaks(body) if not path.startswith("/feeds/media/") else []
        assert not found, (who, path, found)
    assert served > len(FEEDS)  # the public parts were served: these are not all refusals
    # The staff-only item's media answers exactly as an unknown id.
    assert sweep.get(f"/feeds/media/{ids['secret']}.m4a", who)[0] == 404


def test_staff_get_the_canaries_from_the_file_routes(sweep):
    ids = sweep.arch.ids
    staff, session = sweep.viewer("staff"), sweep.cookies["staff"]
    rev1 = sweep.get(transcript_url(sweep.settings, ids["dock"], 1, staff, session), "staff")
    assert rev1[0] == 200 and REDACTED[0] in rev1[1].decode()
    secret = sweep.get(transcript_url(sweep.settings, ids["secret"], 1, staff, session), "staff")
    assert secret[0] == 200 and STAFF_ONLY[0] in secret[1].decode()


@pytest.mark.parametrize("role", ["public", "members"])
def test_no_command_shows_a_canary_below_staff(sweep, role):
    home, ids = sweep.settings.home, sweep.arch.ids
    runs: list[tuple[str, ...]] = [("list", "--json")]
    runs += [("search", probe, "--json") for probe in PROBES]
    runs += [("search", probe) for probe in PROBES]
    for item in (ids["dock"], ids["interview"]):
        for rev in ("1", "2"):
            runs.append(("show", item, "--rev", rev, "--json"))
            for track in ("zh", "en"):
                runs.append(("export", item, "--rev", rev, "--format", "json", "--track", track))
            for style in ("chicago", "apa", "bibtex"):
                runs.append(("cite", item, "--rev", rev, "--style", style))
    moment = f"{sweep.redacted_at:.2f}"
    for rev in ("1", "2"):
        for style in ("chicago", "apa", "mla", "bibtex", "ris", "csl-json"):
            runs.append(("cite", ids["dock"], "--rev", rev, "--at", moment, "--style", style))
    runs += [("show", ids["secret"], "--json")]
    for args in runs:
        result = run_cli(home, *args, "--role", role)
        found = _leaks(result.stdout + result.stderr)
        assert not found, (role, args, found)
    listed = json.loads(run_cli(home, "list", "--json", "--role", role).stdout)
    assert ids["secret"] not in json.dumps(listed) and ids["dock"] in json.dumps(listed)


def test_the_mirror_carries_no_canary(sweep, tmp_path):
    dest = tmp_path / "mirror"
    result = run_cli(sweep.settings.home, "mirror", str(dest))
    assert result.returncode == 0, result.stderr
    files = [p for p in dest.rglob("*") if p.is_file()]
    assert len(files) > 5
    for path in files:
        if path.suffix in (".m4a", ".png", ".ico", ".woff2", ".wasm"):
            continue
        found = _leaks(path.read_bytes())
        assert not found, (str(path.relative_to(dest)), found)
