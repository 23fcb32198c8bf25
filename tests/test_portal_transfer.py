"""What the portal sends over a slow link (issue 19, point 5), over real HTTP against ``archive
serve --processes 1`` (the ASGI app alone, no Caddy in front): Streamlit's page and its bundles
come gzipped to a browser that accepts gzip, and decompress to exactly the bytes sent
uncompressed (and installed); media and byte ranges are never compressed and stay byte-exact;
the hashed bundles are cached a year; every answer, compressed or not, keeps the
Content-Security-Policy; and no public page fetches Streamlit's icon font
(``archive/portal/routes/transfer.py``)."""

from __future__ import annotations

import gzip
import re
import urllib.error
import urllib.request
from pathlib import Path

import portal_data
import pytest
from portal_harness import RecordedSession, launch_chromium, require_chromium

from archive.catalog.access import Viewer
from archive.catalog.db import Catalog
from archive.media.renditions import media_for_viewer
from archive.portal.routes.files import media_url
from archive.portal.routes.headers import content_security_policy
from archive.portal.routes.transfer import lighter_css

PUBLIC = Viewer("public")
GZIP = {"Accept-Encoding": "gzip, deflate, br, zstd"}  # what Chromium sends
PLAIN = {"Accept-Encoding": "identity"}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("portal-transfer")
    arch = portal_data.build(home, long_talk=False, extra=0)
    with portal_data.Portal(home) as portal:
        yield arch, portal


def get(url: str, headers: dict[str, str] | None = None):
    """(status, headers with lower-case names, body as sent: urllib never decompresses)."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        response = urllib.request.urlopen(request, timeout=60)
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()
    with response:
        return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()


def bundles(portal) -> list[str]:
    """The page's own script and style sheet paths (content-hashed, under /static/)."""
    _status, _headers, page = get(portal.url + "/", PLAIN)
    found = re.findall(rb'(?:src|href)="\./(static/(?:js|css)/[^"]+)"', page)
    assert any(p.endswith(b".js") for p in found) and any(p.endswith(b".css") for p in found)
    return ["/" + p.decode() for p in found]


def installed(path: str) -> bytes:
    import streamlit

    return (Path(streamlit.__file__).resolve().parent / "static" / path.lstrip("/")).read_bytes()


def font_path() -> str:
    """Streamlit's icon font, the largest file a page fetches (already compressed: woff2)."""
    import streamlit

    media = Path(streamlit.__file__).resolve().parent / "static" / "static" / "media"
    return "/static/media/" + next(media.glob("MaterialSymbols-Rounded.*.woff2")).name


def test_bundles_come_gzipped_and_decompress_to_the_installed_bytes(served):
    _arch, portal = served
    paths = bundles(portal)
    biggest = max(paths, key=lambda p: len(installed(p)))
    for path in {paths[0], biggest, next(p for p in paths if p.endswith(".css"))}:
        status, headers, body = get(portal.url + path, GZIP)
        assert status == 200 and headers.get("content-encoding") == "gzip", (path, headers)
        assert "accept-encoding" in headers.get("vary", "").lower()
        assert int(headers["content-length"]) == len(body) < len(installed(path))
        # Style sheets: the fonts' faces deferred or swapped (their one change), scripts as
        # installed.
        expected = lighter_css(installed(path)) if path.endswith(".css") else installed(path)
        assert gzip.decompress(body) == expected
        # Not accepted, or refused with q=0: the same bytes, uncompressed.
        for refusing in (PLAIN, {"Accept-Encoding": "gzip;q=0, br"}, {}):
            status, headers, body = get(portal.url + path, refusing)
            assert status == 200 and "content-encoding" not in headers, (path, refusing)
            assert body == expected and int(headers["content-length"]) == len(body)


def test_a_page_shell_with_its_first_paint_is_never_compressed(served):
    """The page shell carries the page's light content (archive.portal.lite.first_paint): for
    ``?q=`` the visitor's own words beside what their role may read. Compressed, its size would
    tell an eavesdropper whether a guess matched (BREACH): it goes uncompressed, and without the
    file's validators (a revalidation must not bring back an old first paint)."""
    _arch, portal = served
    for path in ("/", "/?q=strike", "/?q=%E7%BD%B7%E5%B7%A5"):
        status, headers, body = get(portal.url + path, GZIP)
        assert status == 200 and "content-encoding" not in headers, (path, headers)
        assert "etag" not in headers and "last-modified" not in headers, (path, headers)
        assert headers["cache-control"] in ("private, no-cache", "private, no-store")
        assert b'id="hk-first-paint"' in body, path


def test_a_compressed_answer_has_a_weak_etag_that_still_revalidates(served):
    _arch, portal = served
    path = bundles(portal)[0]
    _status, plain_headers, _body = get(portal.url + path, PLAIN)
    status, headers, _body = get(portal.url + path, GZIP)
    assert status == 200 and headers["etag"] == "W/" + plain_headers["etag"]
    assert "accept-ranges" not in headers  # ranges of the compressed bytes are not offered
    status, headers, body = get(portal.url + path, {**GZIP, "If-None-Match": headers["etag"]})
    assert status == 304 and body == b""
    assert headers["content-security-policy"] == content_security_policy()


def test_ranges_and_media_are_never_compressed_and_stay_byte_exact(served):
    arch, portal = served
    for item, role in ((arch.ids["interview"], "original"), (arch.ids["bar"], "audio")):
        url = portal.url + media_url(arch.settings, item, role, PUBLIC)
        path, _mime = media_for_viewer(
            arch.settings, Catalog.open(arch.settings), item, PUBLIC, role
        )
        original = Path(path).read_bytes()
        status, headers, body = get(url, {**GZIP, "Range": "bytes=100-1099"})
        assert status == 206 and "content-encoding" not in headers
        assert body == original[100:1100]
        assert headers["content-range"] == f"bytes 100-1099/{len(original)}"
        status, headers, body = get(url, GZIP)
        assert status == 200 and "content-encoding" not in headers and body == original
        assert headers["content-security-policy"] == content_security_policy()
    # A byte range of a bundle is a range of its installed bytes, not of a compressed copy.
    bundle = bundles(portal)[0]
    status, headers, body = get(portal.url + bundle, {**GZIP, "Range": "bytes=10-209"})
    assert status == 206 and "content-encoding" not in headers
    assert body == installed(bundle)[10:210]


def test_hashed_bundles_are_cached_a_year_and_immutable(served):
    _arch, portal = served
    for path in bundles(portal)[:3]:
        for accept in (GZIP, PLAIN):
            status, headers, _body = get(portal.url + path, accept)
            assert status == 200
            directives = {d.strip() for d in headers["cache-control"].split(",")}
            assert directives == {"public", "max-age=31536000", "immutable"}, headers


def test_the_policy_is_on_every_answer_compressed_or_not(served):
    arch, portal = served
    paths = [
        "/",
        "/?q=strike",
        bundles(portal)[0],
        font_path(),  # a font (already compressed): never recompressed
        "/_stcore/health",
        "/files/media/not-a-token",
        media_url(arch.settings, arch.ids["bar"], "audio", PUBLIC),
    ]
    for path in paths:
        for accept in (GZIP, PLAIN):
            status, headers, body = get(portal.url + path, accept)
            assert headers.get("content-security-policy") == content_security_policy(), path
            assert headers.get("x-content-type-options") == "nosniff", path
            if path.endswith(".woff2"):
                assert status == 200 and "content-encoding" not in headers
                assert body == installed(path)


def test_no_public_page_fetches_the_icon_font_yet_an_icon_still_draws(served, tmp_path: Path):
    """Streamlit asks for its 375 kB icon font at start-up on every page; the public pages draw
    no icon, so on a slow link the font is seconds of nothing. Deferred, not broken: the first
    icon a page draws (a staff page's) still fetches and uses it."""
    require_chromium()
    arch, portal = served
    checks = (
        ("/", "input[aria-label='Search the archive']"),
        ("/?q=strike", ".hk-snippet mark"),
        (f"/item?item={arch.ids['dock']}&t=6", ".hkp-row"),
    )
    with launch_chromium(tmp_path / "shots") as browser:
        for path, shown in checks:
            session = RecordedSession(browser, locale="en-GB")
            session.page.goto(portal.url + path)
            session.page.locator(shown).first.wait_for()
            fonts = [u for u in session.requests if "MaterialSymbols" in u]
            assert fonts == [], (path, fonts)
            session.close()
        session = RecordedSession(browser, locale="en-GB")
        session.page.goto(portal.url + "/")
        session.page.locator(checks[0][1]).first.wait_for()
        statuses = session.page.evaluate(
            """async () => (await document.fonts.load('1em "Material Symbols Rounded"', 'search'))
                .map(face => face.status)"""
        )
        assert statuses == ["loaded"]
        assert [u for u in session.requests if "MaterialSymbols" in u], session.requests[-5:]
        session.close()
