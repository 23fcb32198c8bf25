"""The static public mirror, read as files: pages, media, subtitles, citations, links that all
resolve inside the mirror, incremental rewrites, bad destinations, and no private text anywhere."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import unicodedata
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from conftest import run_cli
from preserve_data import (
    CANARY_MEMBERS,
    CANARY_REASON,
    CANARY_REDACTED_EN,
    CANARY_REDACTED_ZH,
    CANARY_STAFF,
    CANARY_USER,
    Sample,
    home_state,
    sample_copy,
    sha256_file,
)

from archive.media.renditions import public_rendition
from archive.preservation.mirror import build_mirror
from archive.preservation.mirror_files import MirrorError
from archive.preservation.mirror_search import fold_table
from transcripts.chinese import fold

BASE = "https://mirror.example.org/archive"


@pytest.fixture
def sample(tmp_path: Path):
    made = sample_copy(tmp_path)
    yield made
    made.catalog.close()


class _Links(HTMLParser):
    """Every URL a page links to or loads, by tag and attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str, str]] = []  # tag, attribute, value
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)
            if name in ("src", "href", "action") and value is not None:
                self.urls.append((tag, name, value))


def _parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_cli_mirror_writes_pages_media_subtitles_and_citations(
    sample: Sample, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    result = run_cli(sample.settings.home, "mirror", str(site), "--base-url", BASE, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    public = [sample.public_id, sample.wage_id, *sample.tone_ids]
    assert report["items"] == len(public) == 3

    for rel in (
        "index.html",
        "en/index.html",
        "browse.html",
        "en/browse.html",
        "collections/webinar.html",
        "en/collections/interview.html",
        "series/dock-strike.html",
        "en/series/dock-strike.html",
        "assets/fold.json",
        "assets/glossary.json",
        "pagefind/pagefind.js",
        "mirror.json",
        "sitemap.xml",
    ):
        assert (site / rel).is_file(), rel
    for item_id in public:
        assert (site / "items" / f"{item_id}.html").is_file() and (
            site / "en" / "items" / f"{item_id}.html"
        ).is_file()
    for item_id in (sample.staff_id, sample.members_id):
        assert not list(site.rglob(f"*{item_id}*"))

    page = (site / "items" / f"{sample.public_id}.html").read_text(encoding="utf-8")
    assert '<html lang="zh-Hant-HK">' in page
    assert "碼頭工人罷工十周年" in page and "碼頭工人罷工持續了四十天。" in page
    assert (
        "The dock workers&#x27; strike lasted 40 days." in page
    )  # the latest revision, both tracks
    assert 'id="t=3.2" data-start="3.200"' in page and 'href="#t=3.2"' in page
    assert f"{BASE}/?item={sample.public_id}&amp;rev=2" in page  # the citation names the revision
    assert "Chicago" in page and "@misc{" in page and "TY  - " in page
    english = (site / "en" / "items" / f"{sample.public_id}.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in english and "<h1>Dock strike, ten years on<span" in english

    # Subtitles of both tracks, without the redacted segment.
    zh = (site / "subtitles" / f"{sample.public_id}.zh.srt").read_text(encoding="utf-8")
    en = (site / "subtitles" / f"{sample.public_id}.en.vtt").read_text(encoding="utf-8")
    assert "碼頭工人罷工持續了四十天。" in zh and "40 days" in en
    assert (
        not (site / "subtitles" / f"{sample.wage_id}.en.srt").exists()
        or "最低" not in (site / "subtitles" / f"{sample.wage_id}.en.srt").read_text()
    )

    # The public audio: the silenced rendition for the item with a redaction, else a copy of the
    # derivative without its tags (tests/test_media_tags.py); never the stored file itself.
    media = sorted((site / "media").glob(f"{sample.public_id}-*.m4a"))
    assert len(media) == 1
    rendition = public_rendition(sample.settings, sample.catalog, sample.public_id, "audio")
    assert sha256_file(media[0]) == sha256_file(rendition)
    assert sha256_file(media[0]) != sample.catalog.get_media(sample.public_id, "audio").sha256
    wage_media = next((site / "media").glob(f"{sample.wage_id}-*.m4a"))
    wage_copy = public_rendition(sample.settings, sample.catalog, sample.wage_id, "audio")
    assert sha256_file(wage_media) == sha256_file(wage_copy)
    assert sha256_file(wage_media) != sample.catalog.get_media(sample.wage_id, "audio").sha256


def test_every_link_and_resource_resolves_inside_the_mirror(sample: Sample, tmp_path: Path) -> None:
    site = tmp_path / "site"
    build_mirror(sample.settings, sample.catalog, site, base_url=BASE)
    pages = sorted(site.rglob("*.html"))
    assert len(pages) >= 14
    checked = 0
    for page in pages:
        parsed = _parse(page)
        for tag, attribute, url in parsed.urls:
            parts = urlsplit(url)
            if parts.scheme in ("http", "https"):
                # Only links (never anything loaded) may be absolute, and only to the mirror itself.
                assert tag in ("a", "link") and attribute == "href", (page, url)
                assert url.startswith(BASE + "/"), (page, url)
                continue
            assert not url.startswith("//"), (page, url)
            if parts.scheme == "data":
                continue
            if not parts.path:  # "#t=3": a moment on this page
                continue
            target = (page.parent / unquote(parts.path)).resolve()
            assert target.is_relative_to(site.resolve()), (page, url)
            assert target.is_file(), (page, url)
            if parts.fragment.startswith("t=") and target.suffix == ".html" and target != page:
                assert parts.fragment in _parse(target).ids, (page, url)
            checked += 1
    assert checked > 100


def test_a_second_run_rewrites_only_what_changed(sample: Sample, tmp_path: Path) -> None:
    site = tmp_path / "site"
    first = build_mirror(sample.settings, sample.catalog, site)
    assert first.rendered_items == 3 and first.written > 40

    def stamps() -> dict[str, tuple[int, int]]:
        return {
            str(p.relative_to(site)): (p.stat().st_mtime_ns, p.stat().st_ino)
            for p in site.rglob("*")
            if p.is_file()
        }

    before = stamps()
    again = build_mirror(sample.settings, sample.catalog, site)
    assert (again.written, again.removed, again.rendered_items) == (0, 0, 0)
    assert stamps() == before

    sample.catalog.update_item(sample.wage_id, title_en="Wages talk (revised title)")
    changed = build_mirror(sample.settings, sample.catalog, site)
    assert changed.rendered_items == 1
    after = stamps()
    rewritten = {rel for rel in after if after[rel] != before.get(rel)}
    assert {f"items/{sample.wage_id}.html", f"en/items/{sample.wage_id}.html"} <= rewritten
    assert not any(sample.public_id in rel or sample.tone_ids[0] in rel for rel in rewritten)
    assert not any(rel.startswith(("subtitles/", "assets/")) for rel in rewritten)
    # The audio carries the item's title inside it, so only the retitled item's is new.
    assert {rel for rel in rewritten if rel.startswith("media/")} == {
        rel for rel in after if rel.startswith(f"media/{sample.wage_id}-")
    }
    assert (
        "Wages talk (revised title)"
        in (site / "en" / "items" / f"{sample.wage_id}.html").read_text()
    )

    # An item that is no longer public leaves the mirror entirely.
    tone_id = sample.tone_ids[0]
    sample.catalog.update_item(tone_id, visibility="staff")
    hidden = build_mirror(sample.settings, sample.catalog, site)
    assert hidden.items == 2 and hidden.removed >= 9
    leftovers = [p for p in site.rglob("*") if p.is_file() and tone_id.encode() in _contents(p)]
    assert leftovers == []


def _contents(path: Path) -> bytes:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":  # Pagefind's index files are gzip-compressed
        data += gzip.decompress(data)
    return data


def test_nothing_private_appears_in_any_file_of_the_mirror(sample: Sample, tmp_path: Path) -> None:
    site = tmp_path / "site"
    build_mirror(sample.settings, sample.catalog, site, base_url=BASE)
    canaries = [
        CANARY_STAFF, CANARY_MEMBERS, CANARY_REDACTED_ZH, fold(CANARY_REDACTED_ZH), CANARY_REDACTED_EN,
        CANARY_REDACTED_EN.lower(), CANARY_USER, CANARY_REASON, sample.staff_id, sample.members_id,
        sample.redacted_uid, "internal minutes", "members' bulletin",
    ]  # fmt: skip
    private_files = {
        m.sha256
        for item_id in (sample.staff_id, sample.members_id, sample.public_id)
        for m in sample.catalog.list_media(item_id)
    } | {m.sha256 for m in sample.catalog.list_media() if m.role == "original"}
    files = [p for p in site.rglob("*") if p.is_file()]
    assert len(files) > 50
    found_public = 0
    for path in files:
        data = _contents(path)
        # Pagefind stores indexed text with a zero-width space between words: 秘密​罢工.
        text = data.decode("utf-8", errors="replace").replace("\u200b", "")
        lowered = text.lower()
        for canary in canaries:
            assert canary not in text and canary.lower() not in lowered, (canary, path)
        assert hashlib.sha256(path.read_bytes()).hexdigest() not in private_files, path
        found_public += fold("碼頭工人罷工持續了四十天") in text
    # The same scan does see public text inside the compressed search index: it would see a canary.
    assert found_public >= 1


def _browser_fold(text: str, table: dict[str, str]) -> str:
    """assets/search.js's fold, step for step: the table, else NFKC and lower case per character."""
    out = []
    for ch in text:
        if ch in table:
            out.append(table[ch])
            continue
        normal = unicodedata.normalize("NFKC", ch)
        normal = normal if len(normal) == 1 else ch
        lower = normal.lower()
        out.append(lower if len(lower) == 1 else normal)
    return "".join(out)


def test_the_folding_table_is_the_archive_s_own_folding() -> None:
    table = fold_table()
    assert table["碼"] == "码" and table["裏"] == "里" and table["著"] == "着"
    assert all(len(k) == 1 and len(v) == 1 for k, v in table.items())
    text = "香港職工會聯盟宣布解散後，碼頭工人罷工十周年的紀錄仍在裏面。ＤＯＣＫ Strike ２０１３"
    assert (
        _browser_fold(text, table)
        == fold(text)
        == "香港职工会联盟宣布解散后,码头工人罢工十周年的纪录仍在里面。dock strike 2013"
    )
    every_han = "".join(chr(c) for c in range(0x4E00, 0xA000))
    assert _browser_fold(every_han, table) == fold(every_han)


# -- bad destinations -------------------------------------------------------------------------


def _refused(result) -> str:  # type: ignore[no-untyped-def]
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_an_existing_folder_that_is_not_a_mirror_is_left_alone(
    sample: Sample, tmp_path: Path
) -> None:
    site = tmp_path / "website"
    site.mkdir()
    (site / "index.html").write_text("<p>our own site</p>")
    line = _refused(run_cli(sample.settings.home, "mirror", str(site)))
    assert "is not a mirror made by `archive mirror`" in line
    assert [p.name for p in site.iterdir()] == ["index.html"]
    assert (site / "index.html").read_text() == "<p>our own site</p>"
    (site / "mirror.json").write_text(json.dumps({"format": "something-else"}))
    assert "is not a mirror" in _refused(run_cli(sample.settings.home, "mirror", str(site)))


def test_a_destination_inside_or_around_the_data_folder_is_refused(
    sample: Sample, tmp_path: Path
) -> None:
    home = sample.settings.home
    before = home_state(sample.settings)
    assert "inside the data folder" in _refused(run_cli(home, "mirror", str(home / "public-site")))
    assert not (home / "public-site").exists()
    with pytest.raises(MirrorError, match="contains the data folder"):
        build_mirror(sample.settings, sample.catalog, tmp_path)
    assert home_state(sample.settings) == before


def test_an_empty_folder_becomes_a_mirror_and_a_bad_base_url_is_refused(
    sample: Sample, tmp_path: Path
) -> None:
    site = tmp_path / "empty"
    site.mkdir()
    assert "base URL" in _refused(
        run_cli(sample.settings.home, "mirror", str(site), "--base-url", "ftp://x")
    )
    assert not any(site.iterdir())
    report = build_mirror(sample.settings, sample.catalog, site)
    assert report.items == 3 and (site / "index.html").is_file()
    assert re.search(r'"format": "hk-labour-archive-mirror/1"', (site / "mirror.json").read_text())
