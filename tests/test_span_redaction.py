"""Redacting some words of a segment (issue 19, point 9): below staff exactly those words are gone,
on every route, in every revision, while the rest of the sentence stays.

The archive is made as staff make it: an English recording ingested with an SRT whose second cue
names a person, with fractional cue boundaries (3.337 s to 7.061 s), and the name redacted with
``archive redact ITEM --at … --text …``. Before text-span redactions a redaction hid the whole
sentence (or nothing): there was no ``--text``, and the sentence's other words were lost to
readers. The portal's form (the "Redact" action of the Visibility and redactions tab) is checked
through Streamlit's AppTest on the demo archive.
"""

from __future__ import annotations

import json
from pathlib import Path

import portal_data
import pytest
from conftest import FIXTURES, ffmpeg, run_cli
from portal_harness import archive_home, log_in, new_session, open_page, texts
from staff_helpers import max_volume_db

from archive.catalog.access import Viewer
from archive.catalog.audit import audit_log
from archive.catalog.db import Catalog
from archive.catalog.redaction_text import MARK
from archive.core.config import load_settings
from archive.core.errors import InputError
from archive.workspace.accounts import add_user
from archive.workspace.visibility import list_redactions

NAME = "Chan Tai-man"
SENTENCE = "We met at the gate. Chan Tai-man gave the organisers his list."
KEPT = ("We met at the gate.", "gave the organisers his list.")
SRT = """1
00:00:00,000 --> 00:00:03,337
Welcome to the meeting.

2
00:00:03,337 --> 00:00:07,061
We met at the gate. Chan Tai-man gave the organisers his list.

3
00:00:07,061 --> 00:00:10,500
Thank you all for coming.
"""
PASSWORD = "correct horse battery"
SILENT_DB = -60.0
LOUD_DB = -30.0


def _ok(proc) -> str:
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _ingest(home: Path, work: Path) -> str:
    work.mkdir(parents=True, exist_ok=True)
    media, subs = work / "meeting.mp4", work / "meeting.srt"
    ffmpeg("-i", str(FIXTURES / "en/jfk.flac"), "-c:a", "aac", str(media))
    subs.write_text(SRT, encoding="utf-8")
    out = _ok(run_cli(home, "ingest", str(media), "--subtitles", str(subs), "--language", "en",
                      "--visibility", "public", "--title-en", "Canteen meeting", "--wait", "--json"))  # fmt: skip
    return json.loads(out)["id"]


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("span-redaction")
    home = root / "home"
    item_id = _ingest(home, root / "work")
    _ok(run_cli(home, "redact", item_id, "--at", "5", "--text", NAME, "--reason", "a worker's name",
                "--actor", "alice"))  # fmt: skip
    return home, item_id


@pytest.fixture
def fresh(tmp_path: Path) -> tuple[Path, str]:
    """The same archive, made for one test that changes it."""
    home = tmp_path / "home"
    item_id = _ingest(home, tmp_path / "work")
    _ok(run_cli(home, "redact", item_id, "--at", "5", "--text", NAME))
    return home, item_id


def _public_show(
    home: Path,
    item_id: str,
    role: str = "public",
    *extra: str,
    hidden: tuple[str, ...] = ("Tai-man", "Chan"),
) -> list[dict]:
    out = _ok(run_cli(home, "show", item_id, "--role", role, "--json", *extra))
    assert not any(word in out for word in hidden)
    return json.loads(out)["segments"]


# -- the library and the command line ---------------------------------------------------------------
@pytest.mark.parametrize("role", ["public", "members"])
def test_show_masks_exactly_the_words_and_keeps_the_sentence(made, role) -> None:
    home, item_id = made
    segments = _public_show(home, item_id, role)
    assert [s["text_en"] for s in segments] == [
        "Welcome to the meeting.",
        f"We met at the gate. {MARK} gave the organisers his list.",
        "Thank you all for coming.",
    ]
    assert not any(s.get("redacted") for s in segments)
    staff = json.loads(_ok(run_cli(home, "show", item_id, "--json")))["segments"]
    assert staff[1]["text_en"] == SENTENCE  # staff read what they redacted


def test_the_span_is_the_segment_exactly_at_its_fractional_bounds(made) -> None:
    home, item_id = made
    (red,) = json.loads(_ok(run_cli(home, "redactions", item_id, "--json")))
    # Not rounded: the neighbour starting at 7.061 s must not be touched, nor the one ending at
    # 3.337 s (subtitles carry no word timings, so the span is the whole segment).
    assert (red["start"], red["end"], red["texts"]) == (3.337, 7.061, [NAME])
    segments = _public_show(home, item_id)
    assert (segments[1]["start"], segments[1]["end"]) == (3.337, 7.061)
    assert segments[2]["text_en"] == "Thank you all for coming."
    assert segments[0]["text_en"] == "Welcome to the meeting."


def test_the_audit_names_the_span_never_the_words(made) -> None:
    home, item_id = made
    entry = json.loads(_ok(run_cli(home, "audit", item_id, "--json")))[0]
    assert (entry["actor"], entry["action"], entry["new_value"]) == (
        "alice", "redact", "redacted: a worker's name",
    )  # fmt: skip
    assert entry["target"].endswith("(0:03.34–0:07.06, words)")
    assert "Tai-man" not in json.dumps(entry)


def test_export_and_cite_below_staff_keep_the_rest(made) -> None:
    home, item_id = made
    for fmt in ("srt", "vtt", "txt", "json"):
        out = _ok(run_cli(home, "export", item_id, "--role", "public", "--format", fmt,
                          "--track", "en"))  # fmt: skip
        assert "Tai-man" not in out and "Chan" not in out, fmt
        assert all(kept in out for kept in KEPT), fmt
    # A citation is made to be published: staff's too quote the sentence without the name.
    for role in ("public", "staff"):
        cited = json.loads(_ok(run_cli(home, "cite", item_id, "--at", "4", "--role", role,
                                       "--json")))  # fmt: skip
        assert (
            cited["quote"]["text_en"] == f"We met at the gate. {MARK} gave the organisers his list."
        )


def test_search_below_staff_finds_the_sentence_but_not_the_name(made) -> None:
    home, item_id = made

    def search(word: str, role: str) -> list[dict]:
        return json.loads(_ok(run_cli(home, "search", word, "--role", role, "--json")))

    for role in ("public", "members"):
        assert [h["item_id"] for h in search("organisers", role)] == [item_id], role
        for word in ("Tai-man", "Chan"):
            assert search(word, role) == [], (role, word)
        assert "Tai-man" not in json.dumps(search("organisers", role))


def test_a_later_revision_is_masked_or_hidden_whole(fresh, tmp_path) -> None:
    from archive.ingest.pipeline import reindex_item
    from transcripts.subtitles import import_subtitles

    home, item_id = fresh
    settings = load_settings(home)
    catalog = Catalog.open(settings)
    try:
        # A corrected subtitle file: new boundaries, fresh uids, the name spelled otherwise.
        for spelling, masked in (("CHAN Tai Man", True), ("Chen Daiwen", False)):
            srt = tmp_path / "again.srt"
            srt.write_text(
                SRT.replace("00:00:03,337 --> 00:00:07,061", "00:00:03,400 --> 00:00:06,900")
                .replace("00:00:07,061 -->", "00:00:06,900 -->")
                .replace(NAME, spelling),
                encoding="utf-8",
            )
            catalog.add_revision(
                item_id, import_subtitles(srt, language="en").segments, origin="subtitles"
            )
            reindex_item(settings, catalog, item_id)
            out = _ok(run_cli(home, "show", item_id, "--role", "public", "--json"))
            assert spelling not in out
            second = json.loads(out)["segments"][1]
            if masked:  # found however it is written: only the name goes
                assert (
                    second["text_en"] == f"We met at the gate. {MARK} gave the organisers his list."
                )
            else:  # not found: safety first, the whole sentence goes
                assert second.get("redacted") is True and second["text_en"] == ""
            # Revision 1 still masked too.
            first = _public_show(home, item_id, "public", "--rev", "1")
            assert first[1]["text_en"].startswith("We met at the gate. " + MARK)
    finally:
        catalog.close()


def test_the_span_is_silenced_in_the_public_audio(made) -> None:
    from archive.media.renditions import media_for_viewer

    home, item_id = made
    settings = load_settings(home)
    catalog = Catalog.open(settings)
    try:
        path, _mime = media_for_viewer(settings, catalog, item_id, Viewer("public"), "audio")
        assert max_volume_db(path, 3.45, 6.95) < SILENT_DB
        assert max_volume_db(path, 0.5, 3.2) > LOUD_DB
    finally:
        catalog.close()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--at", "5", "--text", "   "), "the text given is empty"),
        (
            ("--at", "5", "--text", "Lam Wing-sze"),
            "the words to redact are not in the text of segment",
        ),
        (("--at", "5", "--chars", "40:90"), "characters 40–90 are not a range inside the Chinese"),
        (("--at", "5", "--chars", "30:90", "--track", "en"), "which has 62 characters"),
        (("--at", "5", "--chars", "9:3", "--track", "en"), "first before stop"),
        (("--at", "5", "--chars", "four"), "--chars is FIRST:STOP"),
        (("--from", "3", "--to", "4", "--text", "gate"), "give --at or --uid, not --from/--to"),
        (("--at", "5", "--text", "..."), "must hold a letter or a digit"),
    ],
)
def test_a_bad_span_is_refused_with_a_clear_error_and_nothing_stored(made, args, message) -> None:
    home, item_id = made
    before = _ok(run_cli(home, "redactions", item_id, "--json"))
    proc = run_cli(home, "redact", item_id, *args)
    assert proc.returncode == 1 and proc.stderr.startswith("error: ") and message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert _ok(run_cli(home, "redactions", item_id, "--json")) == before


def test_characters_of_a_track_redact_those_words(tmp_path) -> None:
    home = tmp_path / "home"
    item_id = _ingest(home, tmp_path / "work")
    first = SENTENCE.index("organisers")
    made = json.loads(_ok(run_cli(home, "redact", item_id, "--at", "5", "--track", "en", "--chars",
                                  f"{first}:{first + len('organisers')}", "--json")))  # fmt: skip
    assert made["texts"] == ["organisers"]
    segments = _public_show(home, item_id, hidden=("organisers",))
    assert segments[1]["text_en"] == f"We met at the gate. Chan Tai-man gave the {MARK} his list."


# -- the portal ---------------------------------------------------------------------------------
DOCK_WORDS = "八百萬元"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> portal_data.DemoArchive:
    home = tmp_path_factory.mktemp("span-portal")
    built = portal_data.build_with_accounts(
        home, [("staff1", "staff")], PASSWORD, long_talk=False, extra=0
    )
    with archive_home(home):
        yield built


def test_the_redact_action_of_the_visibility_tab_redacts_a_span(demo) -> None:
    cat = Catalog.open(demo.settings)
    try:
        item = demo.ids["dock"]
        seg = next(s for s in cat.get_revision(item).segments if DOCK_WORDS in s.text_zh)
        at = log_in(new_session(lang="en", timeout=90), "staff1", PASSWORD)
        open_page(at, "edit", lang="en", item=item)
        at.button(key="red_open").click().run()
        at.selectbox(key="red_segment").set_value(seg.uid).run()
        at.text_input(key="red_words").input(DOCK_WORDS)
        at.text_input(key="red_reason").input("a sum that names a donor")
        at.button(key="red_go").click().run()  # not confirmed: refused, nothing stored
        assert list_redactions(cat, item) == []
        assert any("Tick" in e.value for e in at.error)
        at.checkbox(key="red_confirm").check()
        at.button(key="red_go").click().run()
        assert not at.exception
        (red,) = list_redactions(cat, item)
        assert (red.texts, red.origin_uid, red.start, red.end) == (
            (DOCK_WORDS,), seg.uid, seg.start, seg.end,
        )  # fmt: skip
        entry = audit_log(cat, item, viewer=Viewer("staff", "x"))[0]
        assert (entry.action, entry.actor) == (
            "redact",
            "staff1",
        ) and DOCK_WORDS not in entry.target
        assert any("Redacted" in s.value for s in at.success)

        reader = open_page(new_session(lang="zh"), "item", lang="zh", item=item)
        players = [
            e.proto.json for e in reader.get("bidi_component")
            if e.proto.component_name == "hk_archive.player"
        ]  # fmt: skip
        assert players
        shown = texts(reader, text_areas=True) + "\n".join(players)
        assert "碼頭工人罷工十周年" in shown
        assert DOCK_WORDS not in shown
        # The page's transcript comes from the file route: fetched by the URL the page gave.
        from starlette.applications import Starlette
        from starlette.testclient import TestClient

        from archive.portal.routes.files import routes

        cues_url = json.loads(players[0])["cues_url"]
        client = TestClient(Starlette(routes=routes(demo.settings)), base_url="http://127.0.0.1")
        response = client.get(cues_url)
        assert response.status_code == 200
        cues = response.content.decode("utf-8")
        assert DOCK_WORDS not in cues and seg.text_zh.replace(DOCK_WORDS, MARK) in cues
        open_page(reader, "search", lang="zh", q="八百萬")
        assert DOCK_WORDS not in texts(reader, text_areas=True)
    finally:
        cat.close()


def test_the_mirror_and_the_feeds_keep_the_sentence_without_the_name(made, tmp_path) -> None:
    home, item_id = made
    dest = tmp_path / "mirror"
    _ok(run_cli(home, "mirror", str(dest), "--base-url", "https://mirror.example.org"))
    bodies = {
        p: p.read_bytes().decode("utf-8", "replace")
        for p in dest.rglob("*")
        if p.is_file() and p.suffix in (".html", ".json", ".js", ".vtt", ".srt", ".txt", ".xml")
    }
    assert any("gave the organisers his list" in b for b in bodies.values())  # the rest is there
    leaked = [str(p) for p, b in bodies.items() if "Tai-man" in b]
    assert not leaked
    for kind in ("rss", "podcast"):
        out = _ok(run_cli(home, "feed", kind, "--base-url", "https://archive.example.org"))
        assert "Tai-man" not in out, kind


def test_no_segment_below_staff_carries_the_words_even_when_hidden_whole(fresh) -> None:
    from dataclasses import asdict

    from archive.catalog.access import visible_revision

    home, item_id = fresh
    # A whole-segment redaction over the same sentence too: hidden whole, and the words the
    # text-span redaction keeps must not ride along on the segment in any field.
    _ok(run_cli(home, "redact", item_id, "--at", "5", "--no-media"))
    catalog = Catalog.open(load_settings(home))
    try:
        for role in ("public", "members"):
            _item, rev = visible_revision(catalog, item_id, Viewer(role))
            assert rev.segments[1].redacted and rev.segments[1].text_en == ""
            assert "Tai-man" not in repr([asdict(s) for s in rev.segments])
        _item, staff = visible_revision(catalog, item_id, Viewer("staff", "x"))
        assert staff.segments[1].partial_redactions == ((3.337, 7.061, (NAME,)),)
    finally:
        catalog.close()


def test_word_timings_narrow_the_span_to_the_words(tmp_path) -> None:
    from archive.catalog.access import visible_revision
    from archive.workspace.visibility import redact_words
    from transcripts.segments import Segment, Word

    settings = load_settings(tmp_path / "home")
    catalog = Catalog.open(settings)
    try:
        item = catalog.create_item(title_en="Gate", visibility="public")
        words = [(10.25, 10.5, "I"), (10.5, 10.9, " met"), (10.9, 11.35, " Chan"),
                 (11.35, 12.3, " Tai-man"), (12.3, 12.6, " at"), (12.6, 13.1, " the"),
                 (13.1, 14.75, " gate.")]  # fmt: skip
        catalog.add_revision(
            item.id,
            [
                Segment(
                    10.25,
                    14.75,
                    text_en="I met Chan Tai-man at the gate.",
                    lang="en",
                    words=tuple(Word(*w) for w in words),
                ),
                Segment(14.75, 16.5, text_en="Then we left.", lang="en"),
            ],  # fmt: skip
            origin="whisper",
        )
        uid = catalog.get_revision(item.id).segments[0].uid
        made = redact_words(catalog, settings, item.id, uid=uid, text="chan TAI MAN", actor="alice",
                            rebuild_media=False)  # fmt: skip
        # The span is where the words are said (the sound silenced there only), not the segment.
        assert (made.start, made.end, made.texts) == (10.9, 12.3, ("chan TAI MAN",))
        _item, rev = visible_revision(catalog, item.id, Viewer("public"))
        first, second = rev.segments
        assert first.text_en == f"I met {MARK} at the gate." and not first.redacted
        assert [w.text for w in first.words] == ["I", " met", " at", " the", " gate."]
        assert second.text_en == "Then we left."
        with pytest.raises(InputError, match="the words to redact are not in the text"):
            redact_words(catalog, settings, item.id, uid=uid, text="Lam", actor="alice")
    finally:
        catalog.close()


def test_a_segments_more_menu_redacts_some_of_its_words(demo) -> None:
    cat = Catalog.open(demo.settings)
    try:
        item = demo.ids["dock"]
        seg = cat.get_revision(item).segments[0]
        at = log_in(new_session(lang="en", timeout=90), "staff1", PASSWORD)
        open_page(at, "edit", lang="en", item=item)
        at.text_input(key=f"ed_words_{seg.uid}").input("四十天")
        at.button(key=f"ed_redact_words_{seg.uid}").click().run()
        assert not at.exception
        made = [r for r in list_redactions(cat, item) if r.origin_uid == seg.uid]
        assert [r.texts for r in made] == [("四十天",)]
        assert "Words redacted" in texts(at)
        # The rest is found below staff, the words are not (another demo item has the same
        # sentence unredacted: only this item's hits count).
        home = demo.settings.home
        for query, found in (("罷工持續", True), ("四十天", False)):
            hits = json.loads(_ok(run_cli(home, "search", query, "--role", "public", "--json")))
            mine = [h for h in hits if h["item_id"] == item]
            assert bool(mine) is found, query
            assert "四十天" not in json.dumps(mine, ensure_ascii=False)
    finally:
        cat.close()


def test_the_redact_form_of_a_demoted_account_changes_nothing(demo) -> None:
    from archive.workspace.accounts import set_role

    cat = Catalog.open(demo.settings)
    try:
        add_user(cat, "staff-demoted", "staff", PASSWORD, actor="test")
        item = demo.ids["interview"]
        seg = cat.get_revision(item).segments[0]
        words = (seg.text_en or seg.text_zh).split()[0]
        at = log_in(new_session(lang="en", timeout=90), "staff-demoted", PASSWORD)
        open_page(at, "edit", lang="en", item=item)
        at.button(key="red_open").click().run()
        at.selectbox(key="red_segment").set_value(seg.uid).run()
        at.text_input(key="red_words").input(words)
        at.checkbox(key="red_confirm").check()
        set_role(cat, "staff-demoted", "members", actor="test")  # while the page is open
        at.button(key="red_go").click().run()
        assert list_redactions(cat, item) == []
        assert "no longer has staff rights" in texts(at)
    finally:
        cat.close()
