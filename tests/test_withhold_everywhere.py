"""Withholding is of a person, everywhere the person is named (issue 18, points 3 and 5).

Point 3: an event whose recording withholds a speaker lists that speaker, below staff, by the
recording's label: the event page, the hub's lists, the calendar feeds (the ``DESCRIPTION`` text
included), the RSS feeds and ``archive event show/list --role``. Before, the event's own speaker
list named the person the recording's pages showed as "Witness B", pairing label and name. The
withhold command lists where else the name stands (another event, another item's transcript).

Point 5: a rename by one letter in the transcript editor keeps the speaker withheld (the new
spelling joins the person's, under the same label), other spellings (case, spaces, punctuation,
Traditional or Simplified) are the same name, and the editor warns when a new name comes close to
a speaker another item withholds. Before, names were matched exactly: one letter off published
the name.

Real parts: a real archive (SQLite, media, Whoosh), the real CLI as a subprocess, the feed routes
over a real socket, the portal's pages through Streamlit's AppTest.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import portal_data
import pytest
from conftest import run_cli
from portal_data import in_process
from portal_harness import archive_home, log_in, new_session, open_page, texts
from test_adversary_routes import _everything
from test_feeds import fetch

from archive.catalog.access import Viewer, visible_revision
from archive.catalog.db import Catalog
from archive.catalog.models import Item
from archive.core.config import load_settings

NAME = "Yip Hoi-ling"  # in no shipped glossary
LABEL = "Witness B"
OTHER = "Ng Siu-ming"
PASSWORD = "correct horse battery"
NEXT_YEAR = datetime.now(UTC).year + 1


# -- point 3: an event's speakers ----------------------------------------------------------------
@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory):
    """The interview (public) is the recording of a public event that lists its speaker; a
    staff-only event and a staff-only item name the same person in their own words."""
    from archive.hub.events import create_event, link_recording
    from archive.workspace.accounts import add_user

    home = tmp_path_factory.mktemp("withhold-everywhere")
    built = portal_data.build(home, long_talk=False, extra=0)
    cat = Catalog.open(built.settings)
    interview = built.ids["interview"]
    portal_data.name_every_speaker(built.settings, cat, interview, NAME)
    segments = cat.get_revision(interview).segments
    event = create_event(
        built.settings, cat, title_zh="罷工見證", title_en="Witnesses of the strike",
        description_en="Two dockers recall the strike.", start=f"{NEXT_YEAR}-07-10 20:00",
        tz="Europe/London", duration_minutes=60, visibility="public", speakers=[NAME, OTHER],
    )  # fmt: skip
    link_recording(cat, event.id, interview)
    planning = create_event(
        built.settings, cat, title_en=f"Planning call with {NAME}",
        start=f"{NEXT_YEAR}-08-01 10:00", tz="Asia/Hong_Kong", duration_minutes=30,
        visibility="staff", speakers=[NAME],
    )  # fmt: skip
    notes = cat.create_item(title_en="Field notes", visibility="staff")
    cat.add_revision(
        notes.id,
        [segments[0].with_(text_en=f"We met {NAME} in Shenzhen.", text_zh="", speaker="")],
        origin="edit",
    )
    add_user(cat, "ed", "staff", PASSWORD, actor="test")
    add_user(cat, "mo", "members", PASSWORD, actor="test")
    cat.close()
    done = run_cli(home, "item", "withhold", interview, NAME, "--label", LABEL, "--actor", "ed")
    assert done.returncode == 0, done.stderr
    built.ids.update(event=event.id, planning=planning.id, notes=notes.id)
    with archive_home(home):
        yield built, done


@pytest.mark.parametrize("role", ["public", "members"])
def test_the_events_speakers_show_the_label_below_staff(hub, role: str) -> None:
    from archive.hub.events import list_events, visible_event

    built, _ = hub
    cat = Catalog.open(built.settings)
    try:
        event = visible_event(cat, built.ids["event"], Viewer(role))
        assert event.speakers == (LABEL, OTHER)
        listed = {e.id: e for e in list_events(cat, viewer=Viewer(role))}
        assert listed[built.ids["event"]].speakers == (LABEL, OTHER)
        assert not [e.id for e in listed.values() if NAME in json.dumps(e.to_dict())]
        staff = visible_event(cat, built.ids["event"], Viewer("staff", "ed"))
        assert staff.speakers == (NAME, OTHER)
    finally:
        cat.close()


@pytest.mark.parametrize("role", ["public", "members"])
def test_event_commands_below_staff_name_only_the_label(hub, role: str) -> None:
    built, _ = hub
    for args in (
        ("event", "show", built.ids["event"], "--json"),
        ("event", "show", built.ids["event"]),
        ("event", "list", "--json"),
        ("event", "list"),
        ("feed", "ics"),
        ("feed", "ics", "--event", built.ids["event"]),
        ("feed", "rss"),
    ):
        more = ("--role", role) if args[0] == "event" else ("--base-url", "https://a.example")
        done = run_cli(built.home, *args, *more)
        assert done.returncode == 0, (args, done.stderr)
        unfolded = done.stdout.replace("\r\n ", "").replace("\n ", "")
        assert NAME not in unfolded, args
    shown = run_cli(built.home, "event", "show", built.ids["event"], "--json", "--role", role)
    assert json.loads(shown.stdout)["speakers"] == [LABEL, OTHER]
    staff = run_cli(built.home, "event", "show", built.ids["event"], "--json")
    assert json.loads(staff.stdout)["speakers"] == [NAME, OTHER]


def test_calendar_and_rss_feeds_name_only_the_label(hub) -> None:
    from starlette.applications import Starlette

    from archive.portal.routes.feeds import feed_routes

    built, _ = hub
    with in_process(Starlette(routes=feed_routes(built.settings))) as base:
        bodies = {}
        for path in (
            "/feeds/events.ics",
            f"/feeds/events/{built.ids['event']}.ics",
            "/feeds/rss.xml",
            "/feeds/atom.xml",
            "/feeds/podcast.xml",
        ):
            status, _headers, body = fetch(base + path)
            assert status == 200, path
            # iCalendar folds lines at 75 octets: a name may be cut by a fold.
            bodies[path] = body.decode("utf-8").replace("\r\n ", "")
            assert NAME not in bodies[path], path
    import icalendar

    one = icalendar.Calendar.from_ical(bodies[f"/feeds/events/{built.ids['event']}.ics"])
    (event,) = one.walk("VEVENT")
    assert f"Speakers: {LABEL}, {OTHER}" in str(event["DESCRIPTION"])  # its speaker line


@pytest.mark.parametrize("who", ["anonymous", "member"])
def test_the_event_page_and_the_hubs_lists_name_only_the_label(hub, who: str) -> None:
    built, _ = hub
    at = new_session(lang="en")
    if who == "member":
        log_in(at, "mo", PASSWORD)
    for page, params in (
        ("event", {"event": built.ids["event"]}),
        ("upcoming", {}),
        ("series", {}),
        (None, {}),
        ("item", {"item": built.ids["interview"]}),
    ):
        open_page(at, page, lang="en", **params)
        assert NAME not in _everything(at), (who, page)
    open_page(at, "event", lang="en", event=built.ids["event"])
    assert LABEL in texts(at)


def test_staff_see_the_name_on_the_event_page(hub) -> None:
    built, _ = hub
    at = log_in(new_session(lang="en"), "ed", PASSWORD)
    open_page(at, "event", lang="en", event=built.ids["event"])
    assert NAME in texts(at)


def test_withholding_lists_where_else_the_name_stands(hub) -> None:
    built, done = hub
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning:")]
    said = "\n".join(warnings)
    assert f"event {built.ids['planning']} (staff): speakers" in said
    assert f"event {built.ids['planning']} (staff): title" in said
    assert f"item {built.ids['notes']} (staff): transcript" in said
    # The recording's own event is covered, and said to be.
    assert f"event {built.ids['event']} (public): speakers; shown as its label" in said
    again = run_cli(
        built.home, "item", "withhold", built.ids["interview"], NAME, "--label", LABEL,
        "--actor", "ed", "--json",
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    places = json.loads(again.stdout)["named_elsewhere"]
    assert {(p["kind"], p["id"], p["field"], p["covered"]) for p in places} == {
        ("event", built.ids["planning"], "speakers", False),
        ("event", built.ids["planning"], "title", False),
        ("item", built.ids["notes"], "transcript", False),
        ("event", built.ids["event"], "speakers", True),
    }


# -- point 5: a person, not a spelling -----------------------------------------------------------
PERSON = "Tsang Mei-wah"
RENAMED = "Tsang Mei-wa"  # one letter off
BADGE = "Interviewee C"


def _small(home):
    """Two public items without media: ``talk`` (its speaker withheld) and ``other``."""
    from archive.ingest.pipeline import reindex_item
    from archive.workspace.accounts import add_user
    from archive.workspace.disclosure import withhold_speaker
    from transcripts.segments import Segment

    settings = load_settings(home).ensure()
    cat = Catalog.open(settings)
    talk = cat.create_item(title_en="A talk", visibility="public", speakers=[PERSON])
    cat.add_revision(
        talk.id,
        [
            Segment(0.0, 2.0, "我喺碼頭做咗十年。", "I worked at the docks for ten years.", "zh", speaker=PERSON),
            Segment(2.0, 4.0, "多謝。", "Thank you.", "zh", speaker="Host"),
            Segment(4.0, 6.0, "我哋要團結。", "We must stand together.", "zh", speaker=PERSON),
        ],
        origin="whisper",
    )  # fmt: skip
    other = cat.create_item(title_en="Another talk", visibility="public")
    cat.add_revision(
        other.id,
        [Segment(0.0, 2.0, "大家好。", "Hello all.", "zh", speaker="Host")],
        origin="whisper",
    )
    for item in (talk.id, other.id):
        reindex_item(settings, cat, item)
    add_user(cat, "ed", "staff", PASSWORD, actor="test")
    withhold_speaker(cat, settings, talk.id, PERSON, BADGE, actor="ed")
    return settings, cat, talk.id, other.id


@pytest.fixture
def small(tmp_path):
    settings, cat, talk, other = _small(tmp_path / "home")
    yield settings, cat, talk, other
    cat.close()


def _public_views(home, item_id: str) -> str:
    out = []
    for args in (
        ("show", item_id, "--json"),
        ("export", item_id, "--format", "json", "--track", "en"),
        ("search", "docks", "--json"),
        ("list", "--json"),
    ):
        done = run_cli(home, *args, "--role", "public")
        assert done.returncode == 0, (args, done.stderr)
        out.append(done.stdout)
    return "\n".join(out)


def test_a_one_letter_rename_keeps_the_speaker_withheld(small) -> None:
    settings, cat, talk, _other = small
    home = settings.home
    done = run_cli(home, "edit", "rename-speaker", talk, PERSON, RENAMED, "--author", "ed")
    assert done.returncode == 0, done.stderr
    assert "warning:" in done.stderr and "withheld too" in done.stderr
    seen = _public_views(home, talk)
    assert RENAMED not in seen and PERSON not in seen and BADGE in seen
    staff = run_cli(home, "show", talk, "--json")
    assert RENAMED in staff.stdout
    from indexer import SearchIndex

    index = SearchIndex.open(settings)
    for query in (f'speaker:"{RENAMED}"', "Mei-wa", f'"{RENAMED}"'):
        assert index.search(query, role="public").total_items == 0, query
    # The revision before the rename still names the old spelling: still its label.
    for revision in (1, 2):
        _item, rev = visible_revision(cat, talk, Viewer("public"), revision)
        assert {s.speaker for s in rev.segments} == {BADGE, "Host"}, revision
    audit = json.loads(run_cli(home, "audit", talk, "--json").stdout)
    assert any(r["action"] == "withhold-speaker" and r["target"] == RENAMED for r in audit)


def test_setting_one_segment_to_a_close_spelling_keeps_it_withheld(small) -> None:
    settings, cat, talk, _other = small
    home = settings.home
    first = cat.get_revision(talk).segments[0]
    done = run_cli(
        home, "edit", "speaker", talk, first.uid, "Tsang Mei-wha", "--author", "ed", "--json"
    )
    assert done.returncode == 0, done.stderr
    assert any("withheld too" in w for w in json.loads(done.stdout)["warnings"])
    seen = _public_views(home, talk)
    assert "Mei-wha" not in seen and BADGE in seen


@pytest.mark.parametrize(
    "spelling",
    ["TSANG MEI-WAH", "tsang mei wah", "Tsang  Mei‐wah", "Tsang Meiwah", "Ｔｓａｎｇ Mei-wah"],
)
def test_every_spelling_of_the_name_is_the_withheld_name(spelling: str) -> None:
    from archive.catalog.access import present_names

    item = Item(id="x", speakers=(spelling, "Host"), withheld_speakers=((PERSON, BADGE),))
    assert present_names(item, item.speakers, Viewer("public")) == (BADGE, "Host")
    assert present_names(item, item.speakers, Viewer("staff")) == (spelling, "Host")


def test_traditional_and_simplified_spellings_are_one_name() -> None:
    from archive.catalog.access import present_names, speaker_key

    item = Item(id="x", withheld_speakers=(("曾美華", "受訪者丙"),))
    assert present_names(item, ["曾美华", "主持"], Viewer("members")) == ("受訪者丙", "主持")
    assert speaker_key("曾美華") == speaker_key("曾美华")


def test_the_editor_warns_of_a_name_close_to_another_items_withheld_speaker(small) -> None:
    settings, cat, talk, other = small
    first = cat.get_revision(other).segments[0]
    done = run_cli(
        settings.home, "edit", "speaker", other, first.uid, RENAMED, "--author", "ed", "--json"
    )
    assert done.returncode == 0, done.stderr
    warnings = json.loads(done.stdout)["warnings"]
    assert any(talk in w and BADGE in w and RENAMED in w for w in warnings), warnings
    assert "warning:" in done.stderr
    # A name far from every withheld one: no warning.
    quiet = run_cli(
        settings.home, "edit", "speaker", other, first.uid, "Chairperson", "--author", "ed"
    )
    assert quiet.returncode == 0 and "warning:" not in quiet.stderr


def test_naming_one_spelling_again_keeps_the_others_withheld(small) -> None:
    settings, cat, talk, _other = small
    home = settings.home
    assert (
        run_cli(home, "edit", "rename-speaker", talk, PERSON, RENAMED, "--author", "ed").returncode
        == 0
    )
    done = run_cli(home, "item", "unwithhold", talk, RENAMED, "--actor", "ed", "--json")
    assert done.returncode == 0, done.stderr
    pairs = json.loads(done.stdout)["withheld_speakers"]
    assert pairs == [{"name": PERSON, "label": BADGE}]
    # Revision 1 still says the old spelling, which is still withheld.
    _item, rev = visible_revision(cat, talk, Viewer("public"), 1)
    assert PERSON not in {s.speaker for s in rev.segments}


def test_numbered_speakers_are_not_close_names() -> None:
    from archive.workspace.speaker_names import close_names

    assert close_names(PERSON, RENAMED) and close_names("曾美華", "曾美筆")
    assert close_names(PERSON, f"Dr {PERSON}")
    assert not close_names("SPEAKER 1", "SPEAKER 2")
    assert not close_names(PERSON, "Chan Tai-man")
    assert not close_names(PERSON, "tsang mei-wah")  # the same name: not "close", equal


def test_the_staff_editor_page_says_the_rename_kept_it_withheld(small) -> None:
    settings, cat, talk, _other = small
    with archive_home(settings.home):
        at = log_in(new_session(lang="en"), "ed", PASSWORD)
        open_page(at, "edit", lang="en", item=talk)
        at.selectbox(key="edit_rename_old").set_value(PERSON)
        at.text_input(key="edit_rename_new").set_value(RENAMED)
        at.button(key="edit_rename_go").click()
        at.run()
        assert not at.exception
        shown = [str(w.value) for w in at.warning]
        assert any("Withholding kept" in w and BADGE in w for w in shown), shown
    assert cat.get_item(talk).withheld_speakers == ((PERSON, BADGE), (RENAMED, BADGE))


def test_an_event_spelling_close_to_its_recordings_withheld_name_is_labelled(small) -> None:
    """Points 3 and 5 together: the event of the recording types the name one letter off."""
    from archive.hub.events import create_event, link_recording, visible_event

    settings, cat, talk, _other = small
    event = create_event(
        settings, cat, title_en="A talk", start=f"{NEXT_YEAR}-03-01 19:00", tz="Asia/Hong_Kong",
        duration_minutes=45, visibility="public", speakers=[RENAMED, "tsang MEI WAH", "Host"],
    )  # fmt: skip
    link_recording(cat, event.id, talk)
    for role in ("public", "members"):
        assert visible_event(cat, event.id, Viewer(role)).speakers == (BADGE, "Host")
    assert visible_event(cat, event.id, Viewer("staff")).speakers == (
        RENAMED, "tsang MEI WAH", "Host",
    )  # fmt: skip


def test_announcing_an_event_warns_of_a_withheld_speakers_name(small) -> None:
    settings, _cat, talk, _other = small
    done = run_cli(
        settings.home, "event", "add", "--title-en", "Another talk",
        "--start", f"{NEXT_YEAR}-04-01 19:00", "--tz", "Asia/Hong_Kong", "--duration", "30",
        "--speaker", RENAMED, "--speaker", "Host",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "warning:" in done.stderr and talk in done.stderr and BADGE in done.stderr
