"""Redactions are spans of the recording: they reach every revision, every route and the sound.

The archive here is what a staff member makes by hand: an English recording ingested with an SRT
whose second cue names a person, that cue split (revision 2, the second half gets a new uid), and
the second half redacted with ``archive redact ITEM --at``. Revision 1 still holds the whole
sentence under its old uid; a redaction keyed by uid left it readable on every route (issue 11,
finding 1). Each test below reads one route as someone below staff and finds none of it.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import portal_data
import pytest
from conftest import FIXTURES, ffmpeg, run_cli
from portal_harness import archive_home, new_session, open_page, texts
from staff_helpers import max_volume_db

from archive.catalog.access import Viewer
from archive.catalog.db import Catalog
from archive.catalog.migrations import MIGRATIONS, SCHEMA_VERSION
from archive.core.config import load_settings

NAME = "Tai-man"  # in the redacted half only
HIDDEN_WORDS = ("Tai-man", "organisers")
FIRST_HALF = "We met at the gate."  # revision 2 keeps it public; revision 1 had it in the cue
SRT = """1
00:00:00,000 --> 00:00:03,000
Welcome to the meeting.

2
00:00:03,000 --> 00:00:07,000
We met at the gate. Chan Tai-man gave the organisers his list.

3
00:00:07,000 --> 00:00:10,500
Thank you all for coming.
"""
SILENT_DB = -60.0
LOUD_DB = -30.0


def _ok(proc) -> str:
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def build(home: Path, work: Path) -> str:
    """Ingest, split the naming cue at 4.2 s (revision 2), redact the second half by a moment in
    it, all through the command line. Returns the item id."""
    work.mkdir(parents=True, exist_ok=True)
    media, subs = work / "meeting.mp4", work / "meeting.srt"
    ffmpeg("-i", str(FIXTURES / "en/jfk.flac"), "-c:a", "aac", str(media))
    subs.write_text(SRT, encoding="utf-8")
    out = _ok(run_cli(home, "ingest", str(media), "--subtitles", str(subs), "--language", "en",
                      "--visibility", "public", "--title-en", "Canteen meeting", "--wait", "--json"))  # fmt: skip
    item_id = json.loads(out)["id"]
    rev1 = json.loads(_ok(run_cli(home, "segments", item_id, "--json")))["segments"]
    naming = next(s for s in rev1 if NAME in s["text_en"])
    _ok(run_cli(home, "edit", "split", item_id, naming["uid"], "--at", "4.2",
                "--en-at", str(len(FIRST_HALF))))  # fmt: skip
    _ok(run_cli(home, "redact", item_id, "--at", "5.5", "--reason", "names a worker"))
    return item_id


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("redaction-spans")
    home = root / "home"
    item_id = build(home, root / "work")
    rev2 = json.loads(_ok(run_cli(home, "segments", item_id, "--json")))["segments"]
    # The set-up is what the finding needs: revision 2 split the cue, the second half redacted.
    assert [s["text_en"] for s in rev2 if s["redacted"]] == [
        "Chan Tai-man gave the organisers his list."
    ]
    return home, item_id


@pytest.fixture
def fresh(tmp_path: Path) -> tuple[Path, str]:
    home = tmp_path / "home"
    return home, build(home, tmp_path / "work")


def _no_hidden(text: str, *, revision_1: bool = False) -> None:
    for word in HIDDEN_WORDS:
        assert word not in text
    if revision_1:
        # Revision 1 had the whole cue as one segment: it overlaps the span, so all of it goes.
        assert FIRST_HALF not in text


# -- the command line ------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["public", "members"])
def test_show_of_revision_1_hides_the_span(made, role) -> None:
    home, item_id = made
    out = _ok(run_cli(home, "show", item_id, "--role", role, "--rev", "1", "--json"))
    _no_hidden(out, revision_1=True)
    segments = json.loads(out)["segments"]
    assert [s.get("redacted", False) for s in segments] == [False, True, False]
    assert "Welcome to the meeting." in out  # the rest is there
    _no_hidden(_ok(run_cli(home, "show", item_id, "--role", role, "--rev", "1")), revision_1=True)


def test_export_of_revision_1_hides_the_span(made) -> None:
    home, item_id = made
    for fmt in ("srt", "vtt", "txt", "json"):
        out = _ok(run_cli(home, "export", item_id, "--rev", "1", "--role", "public",
                          "--format", fmt, "--track", "en"))  # fmt: skip
        _no_hidden(out, revision_1=True)
        assert "Thank you all for coming." in out


def test_cite_of_revision_1_does_not_quote_the_span(made) -> None:
    home, item_id = made
    out = _ok(run_cli(home, "cite", item_id, "--rev", "1", "--at", "3.5", "--role", "public",
                      "--json"))  # fmt: skip
    cited = json.loads(out)
    assert cited["revision"] == 1 and cited["quote"] is None and cited["quote_redacted"] is True
    _no_hidden(out, revision_1=True)


# -- the portal ----------------------------------------------------------------------------------
def test_item_page_of_revision_1_for_an_anonymous_visitor(made) -> None:
    home, item_id = made
    with archive_home(home):
        at = open_page(new_session(lang="en"), "item", item=item_id, rev="1", t="5", lang="en")
        shown = texts(at, text_areas=True)
        codes = "\n".join(str(c.value) for c in at.code)
        players = [e.proto.json for e in at.get("bidi_component")]
        assert "Canteen meeting" in shown and "rev=1" in codes  # the page and revision 1 are there
        for text in (
            shown,
            codes,
            "\n".join(players),
            "\n".join(str(m.value) for m in at.markdown),
        ):
            _no_hidden(text, revision_1=True)


def test_file_routes_of_revision_1_for_an_anonymous_visitor(made) -> None:
    import urllib.request

    from archive.portal.routes.files import subtitle_url, transcript_url

    home, item_id = made
    settings = load_settings(home)
    public = Viewer("public")
    with portal_data.Portal(home) as portal:
        paths = [transcript_url(settings, item_id, 1, public)]
        paths += [
            subtitle_url(settings, item_id, 1, fmt, track, public)
            for fmt in ("srt", "vtt", "txt", "json")
            for track in ("zh", "en")
        ]
        paths += [f"/feeds/transcripts/{item_id}.en.{ext}" for ext in ("srt", "vtt")]
        bodies = {}
        for path in paths:
            with urllib.request.urlopen(portal.url + path, timeout=60) as response:
                assert response.status == 200, path
                bodies[path] = response.read().decode("utf-8")
            _no_hidden(bodies[path], revision_1="/feeds/" not in path)
    cues = json.loads(bodies[paths[0]])["cues"]
    assert [c[6] for c in cues] == [0, 1, 0]  # the span stays in the player, hidden
    assert "Thank you all for coming." in bodies[paths[0]]


def _new_revision(home: Path, item_id: str, srt: Path, origin: str) -> int:
    """Store the cues of ``srt`` as a new revision (fresh uids), as a subtitle import or a new
    transcription does, and index it."""
    from archive.ingest.pipeline import reindex_item
    from transcripts.subtitles import import_subtitles

    settings = load_settings(home)
    catalog = Catalog.open(settings)
    revision = catalog.add_revision(
        item_id, import_subtitles(srt, language="en").segments, origin=origin
    )
    reindex_item(settings, catalog, item_id)
    catalog.close()
    return revision.revision


def _shifted_srt(tmp_path: Path, start: str, end: str) -> Path:
    srt = tmp_path / f"shifted-{start}.srt"
    srt.write_text(
        SRT.replace("00:00:03,000 --> 00:00:07,000", f"00:00:{start} --> 00:00:{end}"),
        encoding="utf-8",
    )
    return srt


def test_search_below_staff_finds_no_redacted_word_in_any_revision(fresh, tmp_path) -> None:
    home, item_id = fresh

    def search(word: str, role: str) -> list[dict]:
        return json.loads(_ok(run_cli(home, "search", word, "--role", role, "--json")))

    # The split revision, then a new transcription with other boundaries and fresh uids.
    for step in range(2):
        if step:
            srt = _shifted_srt(tmp_path, "03,200", "06,700")
            assert _new_revision(home, item_id, srt, "whisper") == 3
        for role in ("public", "members"):
            for word in ("organisers", "Chan"):
                assert search(word, role) == [], (step, role, word)
        # Staff find it (so the empty answers above are not a broken search).
        assert [h["item_id"] for h in search("organisers", "staff")] == [item_id]


def test_index_verify_notices_a_changed_span(fresh) -> None:
    home, item_id = fresh
    clean = run_cli(home, "index", "verify")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    # A span added behind the index's back (over a pause that hides no segment of the latest
    # revision) must still show as drift, so the nightly repair re-indexes the item.
    catalog = Catalog.open(load_settings(home))
    with catalog.transaction() as conn:
        conn.execute(
            'INSERT INTO redactions (item_id, start, "end", reason, created_by, created_at) '
            "VALUES (?, 10.6, 10.9, '', 'test', '2026-12-02T00:00:00+00:00')",
            (item_id,),
        )
    catalog.close()
    drift = run_cli(home, "index", "verify")
    assert drift.returncode != 0 and "its redactions changed" in drift.stdout + drift.stderr
    _ok(run_cli(home, "index", "repair"))
    assert run_cli(home, "index", "verify").returncode == 0


def test_a_later_subtitle_import_stays_redacted(fresh, tmp_path) -> None:
    home, item_id = fresh
    # New cue boundaries, fresh uids: what a corrected subtitle file gives.
    srt = _shifted_srt(tmp_path, "03,300", "06,800")
    assert _new_revision(home, item_id, srt, "subtitles") == 3
    for role in ("public", "members"):
        out = _ok(run_cli(home, "show", item_id, "--role", role, "--json"))
        assert json.loads(out)["revision"] == 3
        _no_hidden(out, revision_1=True)
        _no_hidden(_ok(run_cli(home, "export", item_id, "--role", role, "--format", "srt")),
                   revision_1=True)  # fmt: skip
    assert NAME in _ok(run_cli(home, "show", item_id, "--role", "staff"))


# -- the migration -------------------------------------------------------------------------------
def test_migration_turns_uid_redactions_into_spans(tmp_path) -> None:
    settings = load_settings(tmp_path / "home").ensure()
    # A catalog as schema 4 left it: redactions keyed by segment uid.
    conn = sqlite3.connect(settings.catalog_path)
    for script in MIGRATIONS[:4]:
        conn.executescript(script)
    conn.execute("PRAGMA user_version = 4")
    stamp = "2026-01-01T00:00:00+00:00"
    conn.execute(
        "INSERT INTO items (id, visibility, created_at, updated_at) VALUES ('it', 'public', ?, ?)",
        (stamp, stamp),
    )
    rows = {
        1: [("aaa", 0.0, 3.0, "Welcome."), ("bbb", 3.0, 7.0, "We met. Chan Tai-man spoke.")],
        # Revision 2 split bbb: its first half kept the uid, the second got ccc.
        2: [("aaa", 0.0, 3.0, "Welcome."), ("bbb", 3.0, 4.2, "We met."),
            ("ccc", 4.2, 7.0, "Chan Tai-man spoke.")],
    }  # fmt: skip
    for number, segments in rows.items():
        cur = conn.execute(
            "INSERT INTO transcripts (item_id, revision, origin, created_at) VALUES ('it', ?, 'edit', ?)",
            (number, stamp),
        )
        for idx, (uid, start, end, text) in enumerate(segments):
            conn.execute(
                "INSERT INTO segments (transcript_id, idx, uid, start, end, text_en) VALUES (?,?,?,?,?,?)",
                (cur.lastrowid, idx, uid, start, end, text),
            )
    for uid, who in (("ccc", "alice"), ("gone", "bob")):  # "gone" names no segment at all
        conn.execute(
            "INSERT INTO redactions (item_id, uid, reason, created_by, created_at) VALUES ('it', ?, 'a name', ?, ?)",
            (uid, who, stamp),
        )
    conn.commit()
    conn.close()

    catalog = Catalog.open(settings)
    assert catalog.schema_version() == SCHEMA_VERSION >= 5
    from archive.workspace.visibility import list_redactions

    (span,) = list_redactions(catalog, "it")
    assert (span.start, span.end, span.reason, span.created_by, span.created_at, span.origin_uid) == (
        4.2, 7.0, "a name", "alice", stamp, "ccc",
    )  # fmt: skip
    # Now revision 1 hides the whole sentence too (it overlaps the span); the public half stays.
    assert [s.redacted for s in catalog.get_revision("it", 1).segments] == [False, True]
    assert [s.redacted for s in catalog.get_revision("it", 2).segments] == [False, False, True]
    # A span must end after it starts.
    with pytest.raises(sqlite3.IntegrityError), catalog.transaction() as conn:
        conn.execute(
            'INSERT INTO redactions (item_id, start, "end", created_by, created_at) '
            "VALUES ('it', 5, 5, 'x', ?)",
            (stamp,),
        )
    catalog.close()


# -- lifting -------------------------------------------------------------------------------------
def test_lifting_a_redaction_is_audited(fresh) -> None:
    home, item_id = fresh
    listed = json.loads(_ok(run_cli(home, "redactions", item_id, "--json")))
    assert [(r["start"], r["end"], r["reason"]) for r in listed] == [(4.2, 7.0, "names a worker")]
    nothing = run_cli(home, "unredact", item_id, "--at", "1.0")
    assert nothing.returncode == 1 and nothing.stderr == (
        f"error: nothing of item {item_id} is redacted at 1 s\n"
    )
    lifted = json.loads(_ok(run_cli(home, "unredact", item_id, "--at", "5.5", "--actor", "bob",
                                    "--json")))  # fmt: skip
    assert lifted["id"] == listed[0]["id"]
    entry = json.loads(_ok(run_cli(home, "audit", item_id, "--json")))[0]
    assert (entry["actor"], entry["action"], entry["target"], entry["old_value"], entry["new_value"]) == (
        "bob", "unredact", f"redaction {lifted['id']} (0:04.20–0:07.00)", "redacted: names a worker",
        "visible",
    )  # fmt: skip
    assert NAME in _ok(run_cli(home, "show", item_id, "--role", "public", "--rev", "1"))
    # Made again from an explicit span, and lifted by its id.
    again = json.loads(
        _ok(run_cli(home, "redact", item_id, "--from", "4.2", "--to", "7", "--json"))
    )
    assert NAME not in _ok(run_cli(home, "show", item_id, "--role", "public", "--rev", "1"))
    _ok(run_cli(home, "unredact", item_id, "--id", str(again["id"]), "--actor", "carol"))
    actions = [
        (e["actor"], e["action"])
        for e in json.loads(_ok(run_cli(home, "audit", item_id, "--json")))
    ]
    assert actions[:2] == [("carol", "unredact"), (actions[1][0], "redact")]


# -- the media -----------------------------------------------------------------------------------
def test_silenced_public_audio_covers_every_span(fresh) -> None:
    from archive.media.renditions import media_for_viewer

    home, item_id = fresh
    # A second span given by time, across the last cue (no segment boundary at either end).
    _ok(run_cli(home, "redact", item_id, "--from", "8.3", "--to", "10.0", "--no-media"))
    settings = load_settings(home)
    catalog = Catalog.open(settings)
    for role in ("audio", "original"):
        path, _mime = media_for_viewer(settings, catalog, item_id, Viewer("public"), role)
        assert max_volume_db(path, 4.2, 7.0) < SILENT_DB
        assert max_volume_db(path, 8.3, 10.0) < SILENT_DB
        assert max_volume_db(path, 0.5, 3.3) > LOUD_DB  # the rest is heard
        staff, _ = media_for_viewer(settings, catalog, item_id, Viewer("staff", "x"), role)
        assert max_volume_db(staff, 8.3, 10.0) > LOUD_DB
    catalog.close()
