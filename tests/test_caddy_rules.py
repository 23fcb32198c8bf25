"""The proxy rules of the generated local Caddyfile, run by the real Caddy in front of a small
upstream on 127.0.0.1 that echoes what reached it (no portal needed): a visitor's forged
``X-Forwarded-For`` is replaced by the real address, ``/static/`` is compressed and cached for a
year, a Range request and the media routes are passed through uncompressed with the upstream's
206, the upstream's Content-Security-Policy arrives once, Caddy's ``Server`` header is dropped and
the sticky cookie is set on the first response only.
"""

from __future__ import annotations

import gzip
import http.server
import json
import urllib.request
from collections.abc import Iterator

import pytest
from portal_data import caddy_in_front

BODY = b"console.log('hello from a hashed bundle');\n" * 200


class _Echo(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path.startswith("/echo"):
            body = json.dumps({"xff": self.headers.get_all("X-Forwarded-For")}).encode()
            status, extra = 200, {"Content-Type": "application/json"}
        elif self.headers.get("Range") == "bytes=0-9":
            body = BODY[:10]
            status = 206
            extra = {"Content-Range": f"bytes 0-9/{len(BODY)}", "Content-Type": "audio/mp4"}
        else:
            body = BODY
            status, extra = 200, {"Content-Type": "application/javascript"}
        self.send_response(status)
        for name, value in extra.items():
            self.send_header(name, value)
        self.send_header("Content-Security-Policy", "default-src 'self'")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture(scope="module")
def caddy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("caddy-rules")
    with caddy_in_front(folder, _Echo) as port:
        yield f"http://127.0.0.1:{port}"


def _get(url: str, **headers: str):
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.headers, response.read()


def _header_count(headers, name: str) -> int:
    return len(headers.get_all(name) or [])


def test_a_forged_x_forwarded_for_is_replaced_by_the_visitors_address(caddy):
    _status, _headers, body = _get(caddy + "/echo", **{"X-Forwarded-For": "203.0.113.9"})
    assert json.loads(body)["xff"] == ["127.0.0.1"]


def test_static_bundles_are_compressed_and_cached_for_a_year(caddy):
    status, headers, body = _get(
        caddy + "/static/js/index.abc123.js", **{"Accept-Encoding": "gzip"}
    )
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == BODY and len(body) < len(BODY) // 5
    assert headers.get_all("Cache-Control") == ["public, max-age=31536000, immutable"]
    assert _header_count(headers, "Content-Security-Policy") == 1
    assert "Server" not in headers
    assert "hk_archive_lb=" in headers["Set-Cookie"]
    # A browser that holds the cookie is not given another one.
    _s, again, _b = _get(caddy + "/static/js/index.abc123.js", Cookie=headers["Set-Cookie"])
    assert "Set-Cookie" not in again


def test_ranges_and_media_pass_through_uncompressed(caddy):
    status, headers, body = _get(
        caddy + "/static/media/a.bin", **{"Accept-Encoding": "gzip", "Range": "bytes=0-9"}
    )
    assert status == 206 and body == BODY[:10] and "Content-Encoding" not in headers
    assert headers["Content-Range"] == f"bytes 0-9/{len(BODY)}"
    status, headers, body = _get(caddy + "/files/media/token", **{"Accept-Encoding": "gzip"})
    assert status == 200 and body == BODY and "Content-Encoding" not in headers
    assert "Cache-Control" not in headers  # only /static/ is cached for long
