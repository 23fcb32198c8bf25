"""Silenced public media: a redacted span is silent for everyone below staff, and only that span."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import ffmpeg
from staff_helpers import item_with_media, max_volume_db

from archive.catalog.access import Viewer
from archive.core.errors import NotFoundError
from archive.media.renditions import (
    PAD_SECONDS,
    media_for_viewer,
    public_dir,
    public_rendition,
    redacted_spans,
)
from archive.workspace.visibility import redact, redact_segment, unredact
from transcripts.segments import Segment

SILENT_DB = -60.0
LOUD_DB = -30.0


def _jfk_segments() -> list[Segment]:
    return [
        Segment(0.0, 3.8, text_en="And so my fellow Americans", uid="jfk000000001"),
        Segment(3.8, 7.8, text_en="ask not what your country can do for you", uid="jfk000000002"),
        Segment(7.8, 11.0, text_en="ask what you can do for your country", uid="jfk000000003"),
    ]


@pytest.fixture
def jfk(settings, catalog, fixtures_dir):
    return item_with_media(
        settings, catalog, fixtures_dir, "en/jfk.flac", _jfk_segments(), visibility="public"
    )


def _streams(path: Path) -> list[dict]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_streams", str(path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout)["streams"]


def test_no_redactions_means_a_copy_of_the_same_sound(settings, catalog, jfk) -> None:
    # Not the stored file itself: every copy below staff is made without the original's tags
    # (tests/test_media_tags.py); with nothing redacted its sound is the derivative's, copied.
    stored = (settings.home / catalog.get_media(jfk.id, "audio").path).resolve()
    for role in ("members", "public"):
        path, mime = media_for_viewer(settings, catalog, jfk.id, Viewer(role), "audio")
        assert path.parent == public_dir(settings) and mime == "audio/mp4"
        assert max_volume_db(path, 3.8, 7.8) > LOUD_DB
        assert [s["codec_name"] for s in _streams(path)] == ["aac"]
        assert [s["duration"] for s in _streams(path)] == [s["duration"] for s in _streams(stored)]
    assert len(list(public_dir(settings).iterdir())) == 1  # made once, for both roles
    staff_path, _ = media_for_viewer(settings, catalog, jfk.id, Viewer("staff", "alice"), "audio")
    assert staff_path == stored


@pytest.mark.parametrize("role", ["audio", "original"])
def test_redacted_span_is_silent_and_the_rest_is_not(settings, catalog, jfk, role) -> None:
    redact_segment(catalog, settings, jfk.id, uid="jfk000000002", actor="alice", reason="test")
    for viewer in (Viewer("public"), Viewer("members", "bob")):
        path, mime = media_for_viewer(settings, catalog, jfk.id, viewer, role)
        assert path.parent == public_dir(settings) and path.name.startswith(f"{jfk.id}-")
        assert mime == "audio/mp4"
        assert max_volume_db(path, 3.8, 7.8) < SILENT_DB
        assert max_volume_db(path, 0.5, 3.3) > LOUD_DB
        assert max_volume_db(path, 8.3, 10.8) > LOUD_DB
    # Staff hear everything, from the original file.
    staff_path, _ = media_for_viewer(settings, catalog, jfk.id, Viewer("staff", "alice"), role)
    assert staff_path == (settings.home / catalog.get_media(jfk.id, role).path).resolve()
    assert max_volume_db(staff_path, 3.8, 7.8) > LOUD_DB


def test_renditions_follow_redaction_changes_and_old_ones_go(settings, catalog, jfk) -> None:
    second_sentence = redact_segment(catalog, settings, jfk.id, uid="jfk000000002", actor="alice")
    first = public_rendition(settings, catalog, jfk.id, "audio")
    stamp = first.stat().st_mtime_ns
    assert public_rendition(settings, catalog, jfk.id, "audio") == first  # cached, not rebuilt
    assert first.stat().st_mtime_ns == stamp
    first_sentence = redact_segment(catalog, settings, jfk.id, uid="jfk000000001", actor="alice")
    second = public_rendition(settings, catalog, jfk.id, "audio")
    assert second != first and not first.exists()
    assert max_volume_db(second, 0.2, 3.5) < SILENT_DB
    assert sorted(p.name for p in public_dir(settings).iterdir()) == sorted(
        p.name for p in (second, public_rendition(settings, catalog, jfk.id, "original"))
    )
    unredact(catalog, settings, jfk.id, first_sentence.id, actor="alice")
    unredact(catalog, settings, jfk.id, second_sentence.id, actor="alice")
    assert list(public_dir(settings).iterdir()) == []
    path, _ = media_for_viewer(settings, catalog, jfk.id, Viewer("public"), "audio")
    assert max_volume_db(path, 3.8, 7.8) > LOUD_DB
    assert not list(settings.tmp_dir.glob("public-*"))  # no half-written leftovers


def test_silenced_spans_are_the_redaction_spans_whatever_the_segments(
    settings, catalog, jfk
) -> None:
    redact_segment(
        catalog, settings, jfk.id, uid="jfk000000002", actor="alice", rebuild_media=False
    )
    moved = [s.with_(start=4.5) if s.uid == "jfk000000002" else s for s in _jfk_segments()]
    catalog.add_revision(jfk.id, moved, origin="edit")
    # The span was made from the sentence at 3.8 s: a later revision does not move it.
    assert redacted_spans(catalog, jfk.id) == [(3.8 - PAD_SECONDS, 7.8 + PAD_SECONDS)]
    # Spans given by time are silenced as given (padded), overlapping ones merged.
    redact(catalog, settings, jfk.id, start=7.5, end=8.5, actor="alice", rebuild_media=False)
    redact(catalog, settings, jfk.id, start=10.0, end=10.4, actor="alice", rebuild_media=False)
    got = [x for span in redacted_spans(catalog, jfk.id) for x in span]
    want = [3.8 - PAD_SECONDS, 8.5 + PAD_SECONDS, 10.0 - PAD_SECONDS, 10.4 + PAD_SECONDS]
    assert got == pytest.approx(want, abs=0.001)


def test_item_above_the_viewer_gives_not_found(settings, catalog, jfk) -> None:
    catalog.update_item(jfk.id, visibility="staff")
    for role in ("public", "members"):
        for media_role in ("audio", "original"):
            with pytest.raises(NotFoundError):
                media_for_viewer(settings, catalog, jfk.id, Viewer(role), media_role)
    for bad in ("../catalog.sqlite", "derived", ""):
        with pytest.raises(NotFoundError):
            media_for_viewer(settings, catalog, jfk.id, Viewer("staff"), bad)
    with pytest.raises(NotFoundError):
        media_for_viewer(settings, catalog, "nosuchitem", Viewer("staff"), "audio")


def test_video_keeps_its_picture_and_loses_embedded_subtitles(
    settings, catalog, fixtures_dir, tmp_path
) -> None:
    if not shutil.which("ffprobe"):
        pytest.skip("ffprobe missing")
    srt = tmp_path / "burn.srt"
    srt.write_text(
        "1\n00:00:01,000 --> 00:00:09,000\nSecret name Tai-Po-canary\n", encoding="utf-8"
    )
    video = tmp_path / "talk.mp4"
    # The fixture's first 12 s with a soft subtitle track that quotes the sentence to redact.
    ffmpeg("-i", str(fixtures_dir / "video/auto-editor_example.mp4"), "-i", str(srt), "-t", "12",
           "-map", "0:v", "-map", "0:a", "-map", "1:s", "-c:v", "copy", "-c:a", "copy", "-c:s", "mov_text",
           str(video))  # fmt: skip
    assert any(s["codec_type"] == "subtitle" for s in _streams(video))
    segments = [
        Segment(0.0, 2.0, text_en="intro", uid="vid000000001"),
        Segment(2.0, 6.0, text_en="Secret name Tai-Po-canary", uid="vid000000002"),
        Segment(6.0, 12.0, text_en="outro", uid="vid000000003"),
    ]
    from archive.ingest.intake import IngestOptions, ingest

    item = ingest(
        settings, catalog, str(video), IngestOptions(transcribe=False, visibility="members")
    ).item
    catalog.add_revision(item.id, segments, origin="whisper")
    original = catalog.get_media(item.id, "original")
    assert original.has_video
    redact_segment(catalog, settings, item.id, uid="vid000000002", actor="alice")
    path, mime = media_for_viewer(settings, catalog, item.id, Viewer("members", "bob"), "original")
    assert path.parent == public_dir(settings) and mime in ("video/mp4", "video/x-matroska")
    kinds = [s["codec_type"] for s in _streams(path)]
    assert "subtitle" not in kinds and "data" not in kinds
    source_video = next(
        s for s in _streams(settings.home / original.path) if s["codec_type"] == "video"
    )
    made_video = next(s for s in _streams(path) if s["codec_type"] == "video")
    assert (made_video["codec_name"], made_video["width"]) == (
        source_video["codec_name"],
        source_video["width"],
    )
    assert b"Tai-Po-canary" not in path.read_bytes()
    assert max_volume_db(path, 2.0, 6.0) < SILENT_DB
    # The fixture has speech with pauses; somewhere outside the span there is sound.
    assert max(max_volume_db(path, 6.4, 12.0), max_volume_db(path, 0.0, 1.6)) > LOUD_DB


def test_the_portal_media_route_serves_the_silenced_copy(settings, catalog, jfk) -> None:
    from archive.portal.routes.files import MEDIA_PREFIX, _Files, media_url

    redact_segment(catalog, settings, jfk.id, uid="jfk000000002", actor="alice")
    files = _Files(settings)
    for role in ("public", "members"):
        token = media_url(settings, jfk.id, "audio", Viewer(role))[len(MEDIA_PREFIX) :]
        path, _mime = files._resolve_media(token)
        assert max_volume_db(path, 3.8, 7.8) < SILENT_DB
