"""The adversary's sweep, for tags inside media files (security issue 18, point 1).

The sweep's archive (tests/test_adversary_routes.py: ``archive serve`` over real HTTP, an
anonymous visitor, a member and a staff member demoted after logging in) gets one more public
recording, planted the way the adversary would: a video whose container names the sweep's
withheld speaker as its artist, in a comment and in its chapters, with a GPS position, a creation
time and a camera's name, and whose item lists that speaker (withheld, with a label). Every media
file of every item each viewer can reach — the file route, the podcast enclosures, the static
mirror — carries no tag but the archive's own and never the name; staff get the original.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from conftest import ffmpeg, run_cli
from test_adversary_routes import VIEWERS, WITHHELD, Sweep
from test_adversary_routes import sweep as sweep  # noqa: F401 (the module's fixture, reused)
from test_media_tags import carries_a_name, foreign_tags, hostile_ffmetadata

from archive.catalog.access import Viewer
from archive.catalog.db import Catalog
from archive.portal.routes.files import media_url

LABELS = ("受訪者甲", "Interviewee A")  # what test_adversary_routes gives WITHHELD


def _names_in(data: bytes) -> list[str]:
    hits = [n for n in WITHHELD if n.encode("utf-8") in data or n.encode("utf-16-le") in data]
    return hits + carries_a_name(data)


@pytest.fixture(scope="module")
def planted(sweep: Sweep, fixtures_dir, tmp_path_factory) -> tuple[Sweep, str, Path]:  # noqa: F811
    from archive.ingest.intake import IngestOptions, ingest
    from archive.workspace.disclosure import withhold_speaker

    root = tmp_path_factory.mktemp("planted-media")
    meta = hostile_ffmetadata(root / "meta.txt", name=WITHHELD[1], name_zh=WITHHELD[0])
    video = root / "planted.mp4"
    ffmpeg("-i", str(fixtures_dir / "video/auto-editor_example.mp4"), "-i", str(meta), "-t", "6",
           "-map", "0:v", "-map", "0:a", "-map_metadata", "1", "-map_chapters", "1",
           "-metadata:s:a:0", f"handler_name=mic of {WITHHELD[1]}", "-c", "copy", str(video))  # fmt: skip
    assert WITHHELD[1].encode() in video.read_bytes()  # the control: the name is in the file
    cat = Catalog.open(sweep.settings)
    try:
        item = ingest(
            sweep.settings,
            cat,
            str(video),
            IngestOptions(
                transcribe=False,
                visibility="public",
                title_en=f"Planted talk with {WITHHELD[1]}",
                speakers=WITHHELD,
            ),
        ).item
        cat.update_item(item.id, chapters=[{"start": 0, "title": f"{WITHHELD[0]} opens"}])
        for name, label in zip(WITHHELD, LABELS, strict=True):
            withhold_speaker(cat, sweep.settings, item.id, name, label, actor="staff1")
    finally:
        cat.close()
    return sweep, item.id, video


def _item_ids(sweep: Sweep, planted_id: str) -> list[str]:
    ids = sweep.arch.ids
    return [planted_id, ids["dock"], ids["interview"]]


@pytest.mark.parametrize("who", VIEWERS)
def test_no_media_file_a_viewer_gets_carries_a_tag_of_the_original(planted, who, tmp_path):
    sweep, planted_id, _video = planted
    served = 0
    # A demoted member's session is gone: their links then are the public's.
    viewers = [sweep.viewer(who)] + ([Viewer("public")] if who == "demoted" else [])
    for item, role, viewer in itertools.product(
        _item_ids(sweep, planted_id), ("audio", "original"), viewers
    ):
        session = sweep.cookies.get(who) if viewer.username else None  # links name a session
        status, body = sweep.get(media_url(sweep.settings, item, role, viewer, session), who)
        if status == 404:
            continue  # an item above the viewer, without that file, or a dead session's link
        assert status == 200, (who, item, role)
        served += 1
        assert not _names_in(body), (who, item, role, _names_in(body))
        path = tmp_path / f"{item}-{role}"
        path.write_bytes(body)
        expected = (
            (f"Planted talk with {LABELS[1]}", [f"{LABELS[0]} opens"])
            if item == planted_id
            else (None, None)
        )
        assert not foreign_tags(path, *expected), (
            who,
            item,
            role,
            foreign_tags(path, *expected),
        )
    assert served >= 4


def test_no_enclosure_or_mirror_file_carries_a_tag_of_the_original(planted, tmp_path):
    sweep, planted_id, _video = planted
    status, feed = sweep.get("/feeds/podcast.xml", "anonymous")
    assert status == 200 and f"/feeds/media/{planted_id}.m4a".encode() in feed
    enclosures = sorted(set(re.findall(rb"/feeds/media/([A-Za-z0-9_-]+)\.m4a", feed)))
    assert len(enclosures) >= 2
    for item in (e.decode() for e in enclosures):
        status, body = sweep.get(f"/feeds/media/{item}.m4a", "anonymous")
        assert status == 200, item
        assert not _names_in(body), item
        (tmp_path / "enclosure.m4a").write_bytes(body)
        assert not foreign_tags(tmp_path / "enclosure.m4a", None, None), item
    dest = tmp_path / "mirror"
    result = run_cli(sweep.settings.home, "mirror", str(dest))
    assert result.returncode == 0, result.stderr
    media = sorted((dest / "media").iterdir())
    assert any(p.name.startswith(planted_id) for p in media)
    for path in media:
        assert not _names_in(path.read_bytes()), path.name
        assert not foreign_tags(path, None, None), path.name


def test_staff_get_the_planted_original_byte_for_byte(planted):
    sweep, planted_id, video = planted
    url = media_url(
        sweep.settings, planted_id, "original", sweep.viewer("staff"), sweep.cookies["staff"]
    )
    status, body = sweep.get(url, "staff")
    assert status == 200 and body == video.read_bytes()
