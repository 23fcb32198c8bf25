"""Bad and odd input at ingest, with real ffmpeg-made files: streams of different lengths are whole
recordings (judged stream by stream), and a local file that is not media is refused before
anything is queued."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ffmpeg, run_cli
from test_ingest import snapshot

AUDIO_SECONDS = 17
VIDEO_SECONDS = 27


@pytest.fixture(scope="module")
def speech_17s(tmp_path_factory, fixtures_dir) -> Path:
    """17 s of real speech (the first 17 s of a longer fixture)."""
    out = tmp_path_factory.mktemp("audio") / "speech17.flac"
    ffmpeg(
        "-i", str(fixtures_dir / "en/multilingual_en_de.mp3"), "-t", str(AUDIO_SECONDS), str(out)
    )
    return out


def _long_picture(speech: Path, out: Path, *codecs: str) -> Path:
    """A generated picture of 27 s over 17 s of sound, without -shortest: the video track runs on
    ten seconds after the audio track ends, as in many screen and meeting recordings."""
    ffmpeg(
        "-f", "lavfi", "-i", f"testsrc=duration={VIDEO_SECONDS}:size=160x120:rate=10",
        "-i", str(speech), "-map", "0:v", "-map", "1:a", *codecs, str(out),
    )  # fmt: skip
    return out


@pytest.mark.parametrize(
    ("name", "codecs"),
    [
        ("meeting.mp4", ("-c:v", "libx264", "-c:a", "aac")),
        ("meeting.webm", ("-c:v", "libvpx", "-b:v", "100k", "-c:a", "libopus")),
    ],
)
def test_video_longer_than_its_audio_is_archived(home, tmp_path, speech_17s, name, codecs):
    path = _long_picture(speech_17s, tmp_path / name, *codecs)
    result = run_cli(home, "ingest", str(path), "--no-transcribe", "--wait", "--json")
    assert result.returncode == 0, result.stderr
    item_id = json.loads(result.stdout)["id"]
    shown = json.loads(run_cli(home, "show", item_id, "--json").stdout)
    media = {m["role"]: m for m in shown["media"]}
    # The audio derivative holds the whole sound track: about 17 s, not cut, not padded to 27.
    assert abs(media["audio"]["duration"] - AUDIO_SECONDS) < 1.0
    assert media["original"]["duration"] >= VIDEO_SECONDS - 0.5


def test_a_truncated_video_is_still_refused(home, tmp_path, speech_17s):
    # The index at the front (faststart), as a download cut short leaves it: the header still
    # declares 17 s of sound, only part of which is there.
    whole = _long_picture(
        speech_17s,
        tmp_path / "whole.mp4",
        "-c:v",
        "libx264",
        "-c:a",
        "aac",
        "-movflags",
        "+faststart",
    )
    cut = tmp_path / "cut.mp4"
    data = whole.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    run_cli(home, "list")
    before = snapshot(home)
    result = run_cli(home, "ingest", str(cut), "--no-transcribe", "--wait")
    assert result.returncode != 0
    assert result.stderr.startswith("error: cut.mp4 is truncated or damaged"), result.stderr
    assert snapshot(home) == before


def test_queued_ingest_of_a_text_file_is_refused_at_once(home, tmp_path):
    notes = tmp_path / "notes.mp4"
    notes.write_text("Minutes of the meeting, not a recording.\n" * 20, encoding="utf-8")
    run_cli(home, "list")
    before = snapshot(home)
    result = run_cli(home, "ingest", str(notes))  # no --wait: would be queued
    assert result.returncode != 0
    assert result.stderr.strip() == (
        "error: notes.mp4 is not a playable audio or video file "
        "(the data is damaged, incomplete or not media)"
    )
    assert "queued" not in result.stdout
    assert json.loads(run_cli(home, "jobs", "--json").stdout) == []
    assert snapshot(home) == before
