"""Ingest of local files: storage, probing, de-duplication, and every bad input leaving no trace."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, ffmpeg, run_cli

from archive.core.errors import MediaError, SubtitleError
from archive.ingest.intake import IngestOptions, ingest


def snapshot(home: Path) -> dict[str, object]:
    """Everything a failed ingest must leave as it was: catalog rows and stored media files."""
    db = home / "catalog.sqlite"
    counts: dict[str, int] = {}
    if db.exists():
        conn = sqlite3.connect(db)
        for table in ("items", "media", "sources", "transcripts", "segments"):
            counts[table] = conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        conn.close()
    media = (
        sorted(str(p.relative_to(home)) for p in (home / "media").rglob("*") if p.is_file())
        if (home / "media").exists()
        else []
    )
    leftovers = sorted(p.name for p in (home / "tmp").iterdir()) if (home / "tmp").exists() else []
    return {"counts": counts, "media": media, "tmp": leftovers}


def test_local_file_is_stored_by_content_with_probed_metadata(settings, catalog, fixtures_dir):
    outcome = ingest(
        settings,
        catalog,
        str(fixtures_dir / "en/jfk.flac"),
        IngestOptions(
            title_en="Inaugural", collection="other", speakers=("JFK",), transcribe=False
        ),
    )
    item = outcome.item
    assert not outcome.duplicate
    assert item.visibility == "staff"  # nothing is public until someone says so
    original = catalog.get_media(item.id, "original")
    audio = catalog.get_media(item.id, "audio")
    assert original is not None and audio is not None
    assert original.sha256 == "63a4b1e4c1dc655ac70961ffbf518acd249df237e5a0152faae9a4a836949715"
    assert original.path == f"media/63/{original.sha256}.flac"
    assert (settings.home / original.path).read_bytes() == (
        fixtures_dir / "en/jfk.flac"
    ).read_bytes()
    assert original.container == "flac" and original.streams[0]["codec_name"] == "flac"
    assert 10.9 < original.duration < 11.1
    assert audio.mime == "audio/mp4" and abs(audio.duration - original.duration) < 0.2
    assert (settings.home / audio.path).stat().st_size == audio.size
    assert original.original_name == "jfk.flac"
    assert item.speakers == ("JFK",)
    assert list((settings.home / "tmp").iterdir()) == []  # work files cleaned up


def test_video_keeps_its_streams(settings, catalog, fixtures_dir):
    item = ingest(
        settings,
        catalog,
        str(fixtures_dir / "video/auto-editor_example.mp4"),
        IngestOptions(transcribe=False),
    ).item
    original = catalog.get_media(item.id, "original")
    assert original.has_video and original.mime == "video/mp4"
    assert {s["codec_name"] for s in original.streams} == {"h264", "aac"}
    assert item.title_en == "auto-editor_example.mp4"  # no title given: the file name stands in


def test_same_bytes_twice_returns_the_existing_item(settings, catalog, fixtures_dir, tmp_path):
    first = ingest(
        settings, catalog, str(fixtures_dir / "en/jfk.flac"), IngestOptions(transcribe=False)
    )
    renamed = tmp_path / "renamed-copy.flac"
    renamed.write_bytes((fixtures_dir / "en/jfk.flac").read_bytes())
    second = ingest(
        settings, catalog, str(renamed), IngestOptions(title_en="Other title", transcribe=False)
    )
    assert second.duplicate and second.item.id == first.item.id
    assert catalog.item_ids() == [first.item.id]


def test_cli_reports_a_duplicate(home, fixtures_dir):
    first = run_cli(
        home, "ingest", str(fixtures_dir / "en/jfk.flac"), "--no-transcribe", "--wait", "--json"
    )
    assert first.returncode == 0, first.stderr
    again = run_cli(home, "ingest", str(fixtures_dir / "en/jfk.flac"), "--no-transcribe", "--wait")
    assert again.returncode == 0
    assert (
        f"already archived: the same recording is item {json.loads(first.stdout)['id']}"
        in again.stdout
    )


def _bad_inputs(tmp_path: Path, fixtures_dir: Path) -> dict[str, tuple[Path, str]]:
    zero = tmp_path / "zero.mp4"
    zero.write_bytes(b"")
    text = tmp_path / "notes.mp4"
    text.write_text("This is a text file pretending to be a video.\n" * 20)
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes((fixtures_dir / "video/auto-editor_example.mp4").read_bytes()[:300_000])
    truncated_tail = tmp_path / "cut.flac"
    truncated_tail.write_bytes((fixtures_dir / "en/jfk.flac").read_bytes()[:4000])
    folder = tmp_path / "a-folder"
    folder.mkdir()
    unreadable = tmp_path / "secret.wav"
    unreadable.write_bytes((fixtures_dir / "en/stereo_diarization.wav").read_bytes())
    unreadable.chmod(0)
    return {
        "zero-byte file": (zero, "is empty (0 bytes)"),
        "text file named .mp4": (text, "notes.mp4 is not a playable audio or video file"),
        "truncated video": (truncated, "truncated.mp4 is truncated or damaged"),
        "truncated flac": (truncated_tail, "cut.flac"),
        "directory": (folder, "is a folder, not a media file"),
        "unreadable file": (unreadable, "cannot be read (permission denied)"),
        "missing file": (tmp_path / "nowhere.mp3", "does not exist"),
    }


BAD_CASES = [
    "zero-byte file",
    "text file named .mp4",
    "truncated video",
    "truncated flac",
    "directory",
    "missing file",
]


@pytest.mark.parametrize("case", BAD_CASES)
def test_bad_local_input_is_refused_and_leaves_nothing(case, home, tmp_path, fixtures_dir):
    path, message = _bad_inputs(tmp_path, fixtures_dir)[case]
    run_cli(home, "list")  # create the catalog
    before = snapshot(home)
    result = run_cli(home, "ingest", str(path), "--wait")
    assert result.returncode != 0
    assert result.stderr.startswith("error: "), result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert snapshot(home) == before


def test_unreadable_file_is_refused_and_leaves_nothing(home, tmp_path, fixtures_dir):
    path, message = _bad_inputs(tmp_path, fixtures_dir)["unreadable file"]
    run_cli(home, "list")
    before = snapshot(home)
    command = [sys.executable, "-m", "archive", "--home", str(home), "ingest", str(path), "--wait"]
    if os.geteuid() == 0:
        # Root reads any file: drop the capabilities that let it, as an ordinary user would be.
        caps = "-dac_override,-dac_read_search"
        command = ["setpriv", f"--inh-caps={caps}", f"--bounding-set={caps}", *command]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode != 0
    assert result.stderr.strip() == f"error: {path} cannot be read (permission denied)"
    assert snapshot(home) == before


def test_bad_subtitle_file_fails_before_anything_is_fetched(
    settings, catalog, fixtures_dir, tmp_path
):
    not_subs = tmp_path / "talk.srt"
    not_subs.write_text("just some words, no cues at all\n")
    before = snapshot(settings.home)
    with pytest.raises(SubtitleError):
        ingest(
            settings,
            catalog,
            str(fixtures_dir / "en/jfk.flac"),
            IngestOptions(subtitles=str(not_subs)),
        )
    assert snapshot(settings.home) == before


def test_subtitles_given_become_the_transcript(settings, catalog, fixtures_dir):
    outcome = ingest(
        settings,
        catalog,
        str(fixtures_dir / "en/jfk.flac"),
        IngestOptions(
            subtitles=str(fixtures_dir / "subs/sherpa_lei-jun-test.zh-Hans.srt"), language="zh"
        ),
    )
    assert not outcome.needs_transcription
    revision = catalog.get_revision(outcome.item.id)
    assert revision.revision == 1 and revision.origin == "subtitles"
    assert len(revision.segments) == 70
    assert all(s.lang == "zh" and s.text_zh for s in revision.segments)


def test_ten_hour_silent_file_gives_an_empty_transcript(home, tmp_path):
    silent = tmp_path / "silence-10h.flac"
    ffmpeg(
        "-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono", "-t", "36000", "-c:a", "flac", str(silent)
    )
    result = run_cli(
        home, "ingest", str(silent), "--title-en", "Silence", "--wait", "--json", timeout=900
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert 35990 < data["media"][0]["duration"] < 36010
    assert data["revision"] == 1 and data["segments"] == []
    assert data["job"]["state"] == "done"


def test_media_error_is_one_line_from_library(settings, catalog, tmp_path):
    bogus = tmp_path / "image.mp4"
    bogus.write_bytes(bytes(range(256)) * 100)
    with pytest.raises(MediaError) as err:
        ingest(settings, catalog, str(bogus), IngestOptions())
    assert "\n" not in str(err.value)
