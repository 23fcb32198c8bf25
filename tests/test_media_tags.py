"""Tags inside media files stay inside the archive (security issue 18, point 1).

Recordings and posters reach us with their makers' metadata: an artist (a name staff later
withhold), a comment, a GPS location, a creation time, chapters with their own titles, the
encoder, EXIF in a poster. Below staff every copy served — the file route, the podcast
enclosures, the static mirror, the poster routes — carries only what the archive writes itself
(the item's title and its own chapters, withheld names as their labels); staff still get the
untouched original, byte for byte.

The hostile files are made here with real ffmpeg and Pillow, ingested through the real path, and
fetched over real HTTP from the portal's own file and feed routes; what comes back is read with
ffprobe and Pillow, and searched byte by byte for the withheld name.
"""

from __future__ import annotations

import io
import json
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ffmpeg
from portal_data import in_process

from archive.catalog.access import Viewer
from archive.catalog.db import Catalog
from archive.core.config import load_settings
from archive.portal.sessions import COOKIE_NAME

NAME = "Chan Kam-see"
NAME_ZH = "陳金絲雀"
LABEL = "Interviewee A"
LABEL_ZH = "受訪者甲"
GPS = "+22.3+114.1/"
PASSWORD = "correct horse battery"
# What ffmpeg's MP4/Matroska muxers write of their own (no version, no input's value).
MUXER_FORMAT_TAGS = {"major_brand", "minor_version", "compatible_brands"}
MUXER_STREAM_TAGS = {
    "language": {"und", "eng"},
    "handler_name": {"SoundHandler", "VideoHandler", "SubtitleHandler"},
    "vendor_id": {"[0][0][0][0]"},
}


def hostile_ffmetadata(path: Path, name: str = NAME, name_zh: str = NAME_ZH) -> Path:
    """An FFMETADATA file that names ``name`` (and ``name_zh``) in tags and chapter titles and
    says where and when the recording was made."""
    path.write_text(
        ";FFMETADATA1\n"
        f"artist={name}\n"
        f"album_artist={name_zh}\n"
        f"comment=recorded at the flat of {name}\n"
        f"location={GPS}\n"
        f"location-eng={GPS}\n"
        "creation_time=2024-06-04T12:00:00Z\n"
        "encoder=HostileCam 7.1 serial 0042\n"
        "copyright=HostileCam 7.1 serial 0042\n"
        "[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=3000\n"
        f"title={name} speaks first\n"
        "[CHAPTER]\nTIMEBASE=1/1000\nSTART=3000\nEND=6000\n"
        f"title=Then {name_zh}\n",
        encoding="utf-8",
    )
    return path


def _hostile_poster(path: Path) -> Path:
    """A JPEG whose EXIF says where it was taken and who made it."""
    from PIL import Image

    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x013B] = NAME  # Artist
    exif[0x010E] = f"poster by {NAME}"  # ImageDescription
    exif[0x0112] = 1  # Orientation
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (22.0, 18.0, 0.0), 3: "E", 4: (114.0, 6.0, 0.0)})
    image.save(path, format="JPEG", exif=exif.tobytes(), comment=f"made by {NAME}".encode())
    return path


def probe_all(path: Path) -> dict:
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-show_chapters", "-show_streams",
         "-of", "json", str(path)],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return json.loads(result.stdout)


def foreign_tags(path: Path, title: str | None, chapters: list[str] | None) -> list[str]:
    """Every tag of ``path`` that the archive did not write: not the title, not its own chapters,
    not one the muxer writes of itself. ``None``: any title or chapters (only their keys count)."""
    data = probe_all(path)
    found = []
    for key, value in (data["format"].get("tags") or {}).items():
        if key in MUXER_FORMAT_TAGS or (key == "title" and title in (None, value)):
            continue
        found.append(f"format {key}={value}")
    for stream in data["streams"]:
        for key, value in (stream.get("tags") or {}).items():
            if value in MUXER_STREAM_TAGS.get(key, ()):
                continue
            if key == "DURATION":  # Matroska's own length of the stream
                continue
            found.append(f"stream {stream['index']} {key}={value}")
    got = [(c.get("tags") or {}).get("title", "") for c in data["chapters"]]
    if chapters is not None and got != chapters:
        found.append(f"chapters {got}")
    for chapter in data["chapters"]:
        found += [f"chapter {k}" for k in (chapter.get("tags") or {}) if k != "title"]
    return found


def carries_a_name(data: bytes) -> list[str]:
    """The withheld name (either script, any common encoding) or the GPS position in ``data``."""
    hits = []
    for text in (NAME, NAME_ZH, "Kam-see", "22.3", "114.1", "HostileCam"):
        for encoding in ("utf-8", "utf-16-le", "utf-16-be"):
            if text.encode(encoding) in data:
                hits.append(f"{text} ({encoding})")
    return hits


@dataclass
class Archive:
    settings: object
    catalog: Catalog
    audio_item: str
    video_item: str
    public_event: str
    members_event: str
    cookies: dict[str, str]
    sources: dict[str, Path]


TITLE_AUDIO = f"碼頭訪問 | Dock interview with {NAME}"
SHOWN_TITLE_AUDIO = f"碼頭訪問 | Dock interview with {LABEL}"
CHAPTERS = [
    {"start": 0.0, "end": 2.5, "title": f"Opening: {NAME} and {NAME_ZH}"},
    {"start": 2.5, "end": None, "title": "Questions"},
]
SHOWN_CHAPTERS = [f"Opening: {LABEL} and {LABEL_ZH}", "Questions"]


@pytest.fixture(scope="module")
def archive(tmp_path_factory, fixtures_dir) -> Iterator[Archive]:
    from archive.hub.events import create_event
    from archive.ingest.intake import IngestOptions, ingest
    from archive.workspace.accounts import add_user, authenticate, create_session
    from archive.workspace.disclosure import withhold_speaker

    root = tmp_path_factory.mktemp("media-tags")
    settings = load_settings(root / "home").ensure()
    catalog = Catalog.open(settings)
    meta = hostile_ffmetadata(root / "hostile.txt")
    audio = root / "interview.mka"
    ffmpeg("-i", str(fixtures_dir / "en/jfk.flac"), "-i", str(meta), "-t", "8",
           "-map", "0:a", "-map_metadata", "1", "-map_chapters", "1",
           "-metadata:s:a:0", f"title=mic of {NAME}", "-c:a", "flac", str(audio))  # fmt: skip
    video = root / "talk.mp4"
    ffmpeg("-i", str(fixtures_dir / "video/auto-editor_example.mp4"), "-i", str(meta), "-t", "6",
           "-map", "0:v", "-map", "0:a", "-map_metadata", "1", "-map_chapters", "1",
           "-metadata:s:a:0", f"handler_name=mic of {NAME}", "-c", "copy", str(video))  # fmt: skip
    poster = _hostile_poster(root / "poster.jpg")
    items = {}
    for key, path, title in (("audio", audio, TITLE_AUDIO), ("video", video, "Talk")):
        zh, _, en = title.partition(" | ") if " | " in title else ("", "", title)
        outcome = ingest(
            settings,
            catalog,
            str(path),
            IngestOptions(
                transcribe=False,
                visibility="public",
                title_zh=zh,
                title_en=en,
                speakers=(NAME, NAME_ZH),
            ),
        )
        items[key] = outcome.item.id
        catalog.update_item(outcome.item.id, chapters=CHAPTERS)
        withhold_speaker(catalog, settings, outcome.item.id, NAME, LABEL, actor="staff1")
        withhold_speaker(catalog, settings, outcome.item.id, NAME_ZH, LABEL_ZH, actor="staff1")
    events = {}
    for visibility in ("public", "members"):
        events[visibility] = create_event(
            settings,
            catalog,
            title_en=f"A {visibility} talk",
            start="2026-09-01 19:00",
            tz="Europe/London",
            duration_minutes=60,
            poster=str(poster),
            visibility=visibility,
        ).id
    cookies = {}
    for name, role in (("staff1", "staff"), ("member1", "members")):
        add_user(catalog, name, role, PASSWORD, actor="test")
        cookies[name] = create_session(catalog, settings, authenticate(catalog, name, PASSWORD))
    yield Archive(
        settings,
        catalog,
        items["audio"],
        items["video"],
        events["public"],
        events["members"],
        cookies,
        {"audio": audio, "video": video, "poster": poster},
    )
    catalog.close()


@pytest.fixture(scope="module")
def server(archive) -> Iterator[str]:
    from starlette.applications import Starlette

    from archive.portal.routes.feeds import feed_routes
    from archive.portal.routes.files import routes

    app = Starlette(routes=[*routes(archive.settings), *feed_routes(archive.settings)])
    with in_process(app) as base:
        yield base


def get(url: str, cookie: str | None = None) -> tuple[int, bytes]:
    headers = {"Cookie": f"{COOKIE_NAME}={cookie}"} if cookie else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def test_the_hostile_files_carry_what_they_should(archive):
    """The control: the files as made hold every tag the tests below look for."""
    for key in ("audio", "video"):
        data = probe_all(archive.sources[key])
        tags = json.dumps(data, ensure_ascii=False)
        assert NAME in tags and NAME_ZH in tags and "22.3" in tags and "2024-06-04" in tags, key
        assert data["chapters"][0]["tags"]["title"].startswith(NAME), key
        assert carries_a_name(archive.sources[key].read_bytes()), key
    for key in ("audio", "video"):
        assert "HostileCam" in json.dumps(probe_all(archive.sources[key])), key
    from PIL import Image

    with Image.open(archive.sources["poster"]) as image:
        assert image.getexif()[0x013B] == NAME and image.getexif().get_ifd(0x8825)


def _served_media(archive, server) -> list[tuple[str, bytes]]:
    """Every media file a viewer below staff can fetch, with where it came from."""
    from archive.portal.routes.files import media_url

    out = []
    for who, viewer, cookie in (
        ("anonymous", Viewer("public"), None),
        ("member", Viewer("members", "member1"), archive.cookies["member1"]),
    ):
        for item in (archive.audio_item, archive.video_item):
            for role in ("audio", "original"):
                status, body = get(
                    server + media_url(archive.settings, item, role, viewer, cookie), cookie
                )
                assert status == 200, (who, item, role)
                out.append((f"{who} /files/media {item} {role}", body))
    status, feed = get(server + "/feeds/podcast.xml")
    assert status == 200
    import feedparser

    enclosures = [e.enclosures[0].href for e in feedparser.parse(feed).entries]
    assert len(enclosures) == 2
    for href in enclosures:
        path = href[href.index("/feeds/media/") :]
        status, body = get(server + path)
        assert status == 200, path
        out.append((f"enclosure {path}", body))
    return out


def _check_clean(where: str, data: bytes, tmp_path: Path, item_title: str) -> None:
    assert not carries_a_name(data), (where, carries_a_name(data))
    path = tmp_path / "served.bin"
    path.write_bytes(data)
    assert not foreign_tags(path, item_title, SHOWN_CHAPTERS), (
        where,
        foreign_tags(path, item_title, SHOWN_CHAPTERS),
    )


def _title_of(archive, item_id: str) -> str:
    return SHOWN_TITLE_AUDIO if item_id == archive.audio_item else "Talk"


def test_no_copy_served_below_staff_carries_a_foreign_tag(archive, server, tmp_path):
    served = _served_media(archive, server)
    for where, data in served:
        item = archive.audio_item if archive.audio_item in where else archive.video_item
        _check_clean(where, data, tmp_path, _title_of(archive, item))
    # The copies are still the recordings: the video keeps its picture, the sound its length.
    video = tmp_path / "video.mp4"
    video.write_bytes(next(d for w, d in served if archive.video_item in w and "original" in w))
    kinds = [s["codec_type"] for s in probe_all(video)["streams"]]
    assert "video" in kinds and "audio" in kinds


def test_a_redacted_item_is_as_clean(archive, server, tmp_path):
    from archive.workspace.visibility import redact

    redact(
        archive.catalog, archive.settings, archive.video_item, start=1.0, end=2.0, actor="staff1"
    )
    try:
        for where, data in _served_media(archive, server):
            item = archive.audio_item if archive.audio_item in where else archive.video_item
            _check_clean(where, data, tmp_path, _title_of(archive, item))
    finally:
        from archive.workspace.visibility import list_redactions, unredact

        for redaction in list_redactions(archive.catalog, archive.video_item):
            unredact(
                archive.catalog, archive.settings, archive.video_item, redaction.id, actor="staff1"
            )


def test_the_mirror_carries_no_foreign_tag(archive, tmp_path):
    from archive.preservation.mirror import build_mirror

    site = tmp_path / "site"
    build_mirror(archive.settings, archive.catalog, site)
    media = sorted((site / "media").iterdir())
    assert len(media) == 2
    for path in media:
        item = (
            archive.audio_item if path.name.startswith(archive.audio_item) else archive.video_item
        )
        _check_clean(f"mirror {path.name}", path.read_bytes(), tmp_path, _title_of(archive, item))


def _poster_is_clean(where: str, data: bytes) -> None:
    from PIL import Image

    assert not carries_a_name(data), (where, carries_a_name(data))
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (64, 48), where
        assert not dict(image.getexif()), where
        assert not {"exif", "icc_profile", "comment", "xmp"} & set(image.info), (where, image.info)


def test_posters_below_staff_carry_no_exif(archive, server):
    from archive.portal.routes.files import poster_url

    status, body = get(f"{server}/feeds/posters/{archive.public_event}")
    assert status == 200
    _poster_is_clean("feed poster", body)
    for event in (archive.public_event, archive.members_event):
        url = server + poster_url(
            archive.settings, event, Viewer("members", "member1"), archive.cookies["member1"]
        )
        status, body = get(url, archive.cookies["member1"])
        assert status == 200, event
        _poster_is_clean(f"member poster {event}", body)
    status, body = get(
        server + poster_url(archive.settings, archive.public_event, Viewer("public"))
    )
    assert status == 200
    _poster_is_clean("anonymous poster", body)


def test_staff_get_the_untouched_originals(archive, server):
    from archive.hub.events import get_event
    from archive.portal.routes.files import media_url, poster_url

    staff, cookie = Viewer("staff", "staff1"), archive.cookies["staff1"]
    original = archive.catalog.get_media(archive.video_item, "original")
    stored = (archive.settings.home / original.path).read_bytes()
    assert stored == archive.sources["video"].read_bytes()
    status, body = get(
        server + media_url(archive.settings, archive.video_item, "original", staff, cookie), cookie
    )
    assert status == 200 and body == stored
    status, body = get(
        server + media_url(archive.settings, archive.audio_item, "original", staff, cookie), cookie
    )
    assert status == 200 and body == archive.sources["audio"].read_bytes()
    for event_id in (archive.public_event, archive.members_event):
        status, body = get(server + poster_url(archive.settings, event_id, staff, cookie), cookie)
        assert status == 200 and body == archive.sources["poster"].read_bytes()
        event = get_event(archive.catalog, event_id)
        assert (archive.settings.home / event.poster_path).read_bytes() == body
