"""Uploads: hostile file names never leave tmp/uploads; the content, not the name, says what it is."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from archive.core.errors import InputError, MediaError
from archive.media.uploads import (
    MAX_DISPLAY_NAME,
    display_name,
    safe_upload_path,
    sniff_media_type,
    upload_dir,
    write_upload_stream,
)

HOSTILE_NAMES = [
    "../../etc/passwd",
    "../../../../../../tmp/evil.mp3",
    "/etc/shadow",
    "/absolute/path/talk.mp4",
    "..\\..\\Windows\\System32\\evil.wav",
    "C:\\Users\\x\\..\\..\\evil.m4a",
    "talk\x00.mp4/../../x",
    "\x00",
    "",
    ".",
    "..",
    "~/.ssh/authorized_keys",
    "a" * 10_000 + ".mp3",
    "訪問・碼頭工人罷工 2013.m4a",
    "e\u0301te\u0301.mp3",  # decomposed accents
    "\u202egnp.mp4",  # right-to-left override
    "name\nwith\nnewlines.wav",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    b"../\xff\xfe.mp3",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=range(len(HOSTILE_NAMES)))
def test_upload_paths_stay_in_the_upload_folder(settings, name) -> None:
    folder = upload_dir(settings).resolve()
    path = safe_upload_path(settings, name)
    assert path.parent == folder and path.resolve().parent == folder
    assert not path.exists()
    assert len(path.name) <= 32 + 9
    stem = path.name.split(".")[0]
    assert len(stem) == 32 and all(c in "0123456789abcdef" for c in stem)
    shown = display_name(name)
    assert "/" not in shown and "\\" not in shown and "\x00" not in shown and "\n" not in shown
    assert "\u202e" not in shown and 0 < len(shown) <= MAX_DISPLAY_NAME


def test_display_name_keeps_what_people_typed(settings) -> None:
    assert display_name("訪問・碼頭工人罷工 2013.m4a") == "訪問・碼頭工人罷工 2013.m4a"
    assert display_name("C:\\Users\\x\\talk.mp4") == "talk.mp4"
    assert display_name("../../etc/passwd") == "passwd"
    assert display_name("e\u0301te\u0301.mp3") == "été.mp3"
    long = display_name("a" * 10_000 + ".mp3")
    assert long.endswith(".mp3") and len(long) == MAX_DISPLAY_NAME
    assert display_name("") == "upload" and display_name("..") == "upload"
    assert safe_upload_path(settings, "talk.MP3").suffix == ".mp3"
    assert safe_upload_path(settings, "x.tar.gz;rm -rf").suffix == ""
    assert safe_upload_path(settings, "a") != safe_upload_path(settings, "a")


def test_upload_folder_is_private(settings) -> None:
    assert upload_dir(settings).stat().st_mode & 0o777 == 0o700


def _chunks(path: Path, size: int = 64 * 1024):
    with open(path, "rb") as fh:
        while chunk := fh.read(size):
            yield chunk


def test_stream_a_real_recording(settings, fixtures_dir) -> None:
    source = fixtures_dir / "en/jfk.flac"
    upload = write_upload_stream(
        settings, _chunks(source), "../../jfk.flac", max_bytes=10 * 1024**2
    )
    assert upload.path.parent == upload_dir(settings).resolve()
    assert upload.path.read_bytes() == source.read_bytes()
    assert upload.size == source.stat().st_size
    assert upload.display_name == "jfk.flac" and upload.mime == "audio/flac"
    assert upload.path.stat().st_mode & 0o777 == 0o600


def test_over_the_limit_stops_and_removes_the_partial_file(settings, fixtures_dir) -> None:
    source = fixtures_dir / "en/jfk.flac"
    taken = []

    def counted():
        for chunk in _chunks(source, 16 * 1024):
            taken.append(len(chunk))
            yield chunk

    with pytest.raises(InputError, match="larger than the upload limit"):
        write_upload_stream(settings, counted(), "big.flac", max_bytes=100 * 1024)
    assert sum(taken) <= 100 * 1024 + 16 * 1024  # it stopped reading, not merely refused at the end
    assert list(upload_dir(settings).iterdir()) == []


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"%PDF-1.7\n" + b"0" * 4000, "report.mp3", "looks like PDF"),
        (b"\x89PNG\r\n\x1a\n" + b"0" * 4000, "cover.m4a", "looks like PNG"),
        (
            b"#EXTM3U\n#EXT-X-VERSION:3\nfile:///etc/passwd\n",
            "playlist.mp4",
            "not an audio or video file",
        ),
        (b"1\n00:00:01,000 --> 00:00:02,000\nhello\n", "subs.wav", "not an audio or video file"),
        (b"MZ\x90\x00" + b"\x00" * 4000, "setup.mp4", "not an audio or video file"),
        (b"", "empty.mp3", "empty"),
    ],
)
def test_non_media_is_refused_whatever_its_name(settings, content, name, message) -> None:
    with pytest.raises(MediaError, match=message) as err:
        write_upload_stream(settings, [content], name, max_bytes=1024**2)
    assert name.rsplit(".", 1)[0] in str(err.value)  # the person's name for it, not the random one
    assert list(upload_dir(settings).iterdir()) == []


def test_sniff_reads_content_not_extension(settings, fixtures_dir, tmp_path) -> None:
    disguised = tmp_path / "notes.txt"
    disguised.write_bytes((fixtures_dir / "en/multilingual_en_de.mp3").read_bytes())
    assert sniff_media_type(disguised) == "audio/mpeg"
    wav = tmp_path / "talk.mp4"
    wav.write_bytes((fixtures_dir / "yue/sensevoice_test_yue.wav").read_bytes())
    assert sniff_media_type(wav) == "audio/wav"
    truncated = tmp_path / "cut.flac"
    truncated.write_bytes((fixtures_dir / "en/jfk.flac").read_bytes()[:64])
    with pytest.raises(MediaError):
        sniff_media_type(truncated)


def test_failed_stream_leaves_nothing(settings) -> None:
    def broken():
        yield b"\x00" * 1000
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        write_upload_stream(settings, broken(), "talk.mp4", max_bytes=1024**2)
    assert os.listdir(upload_dir(settings)) == []


def test_an_upload_is_ingested_under_its_display_name(settings, catalog, fixtures_dir) -> None:
    from archive.ingest.intake import IngestOptions, ingest

    upload = write_upload_stream(
        settings, _chunks(fixtures_dir / "en/jfk.flac"), "../../訪問 JFK.flac"
    )
    outcome = ingest(settings, catalog, str(upload.path),
                     IngestOptions(transcribe=False, original_name=upload.display_name))  # fmt: skip
    media = catalog.get_media(outcome.item.id, "original")
    assert media.original_name == "訪問 JFK.flac"
    stored = (settings.home / media.path).resolve()
    assert stored.is_relative_to(settings.media_dir.resolve())
    assert stored.read_bytes() == (fixtures_dir / "en/jfk.flac").read_bytes()
