"""The portal's absolute links and the visitor's address come from what the archive was told, not
from what a request claims (security issue 18, point 13).

* Feeds and calendars name their links from ``ARCHIVE_PUBLIC_URL``. Without it (a local trial)
  they follow the ``Host`` header only when it names this machine (``127.0.0.1``, ``localhost``,
  ``::1``); any other host is refused with 421, so a shared cache cannot be poisoned into serving
  a feed whose enclosures point at another host.
* Behind Caddy, a portal process believes ``X-Forwarded-For`` only from a request that carries
  the proxy key Caddy was given (``ARCHIVE_PROXY_KEY``): another local process that reaches the
  portal's 127.0.0.1 port directly is counted as itself, whatever address it claims.

Real feed routes under uvicorn on 127.0.0.1; the real supervisor's files.
"""

from __future__ import annotations

import dataclasses
import http.client
import os
import stat
from pathlib import Path

import pytest
from portal_data import in_process_port

from archive.core.config import load_settings
from archive.core.login_guard import client_address, parse_trusted

EVIL = "cache-poison.example"


def _get(port: int, path: str, host: str) -> tuple[int, str, dict[str, str]]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers={"Host": host})
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace"), dict(response.headers)
    finally:
        connection.close()


def _feeds(settings):
    from starlette.applications import Starlette

    from archive.portal.routes.feeds import feed_routes

    return Starlette(routes=feed_routes(settings))


FEEDS = ["/feeds/rss.xml", "/feeds/atom.xml", "/feeds/podcast.xml", "/feeds/events.ics"]


@pytest.mark.parametrize("path", FEEDS)
def test_without_a_public_url_a_foreign_host_gets_no_feed(settings, path):
    assert settings.public_url is None
    with in_process_port(_feeds(settings)) as port:
        status, body, headers = _get(port, path, EVIL)
        assert status == 421, (status, body[:300])
        assert EVIL not in body and "ARCHIVE_PUBLIC_URL" in body
        assert headers.get("cache-control") == "no-store"
        for local in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"):
            status, body, _headers = _get(port, path, local)
            assert status == 200, (local, status, body[:300])


def test_without_a_public_url_local_links_follow_the_local_host(settings):
    with in_process_port(_feeds(settings)) as port:
        _status, body, _headers = _get(port, "/feeds/rss.xml", f"localhost:{port}")
    assert f"http://localhost:{port}/" in body


@pytest.mark.parametrize("path", FEEDS)
def test_with_a_public_url_the_host_header_changes_nothing(settings, path):
    public = dataclasses.replace(settings, public_url="https://archive.example.org")
    with in_process_port(_feeds(public)) as port:
        status, body, _headers = _get(port, path, EVIL)
    assert status == 200 and EVIL not in body
    if path.endswith(".xml"):
        assert "https://archive.example.org/" in body


def test_an_unvouched_forwarded_for_is_not_believed():
    trusted = parse_trusted("127.0.0.1,::1")
    # Caddy's request: the key it was given, the visitor's real address.
    assert client_address("127.0.0.1", "198.51.100.7", trusted, proxy_key="k" * 64,
                          presented_key="k" * 64) == "198.51.100.7"  # fmt: skip
    # Another local process on the portal's port, claiming an address: counted as itself.
    for presented in (None, "", "k" * 63, "x" * 64):
        assert client_address("127.0.0.1", "198.51.100.7", trusted, proxy_key="k" * 64,
                              presented_key=presented) == "127.0.0.1"  # fmt: skip


def test_the_proxy_key_is_read_from_the_environment(home, monkeypatch):
    monkeypatch.setenv("ARCHIVE_PROXY_KEY", "  s3cret-key  ")
    assert load_settings(home).proxy_key == "s3cret-key"
    monkeypatch.delenv("ARCHIVE_PROXY_KEY")
    assert load_settings(home).proxy_key is None


def test_serve_gives_caddy_and_the_portals_one_private_key(home, monkeypatch):
    """``archive serve --processes N``: the key is in Caddy's header_up and in every portal's
    environment, new at every start, and the Caddyfile holding it is the owner's alone."""
    from archive.portal.serving import build_supervisor

    monkeypatch.setattr("archive.portal.serving.caddy_binary", lambda: "/usr/bin/caddy")
    keys = []
    for _ in range(2):
        supervisor = build_supervisor(
            home=home, address="127.0.0.1", port=8599, processes=2, worker=False,
            env=dict(os.environ), portal_argv=lambda p: ["true", str(p)], portal_cwd=home,
            echo=lambda _line: None,
        )  # fmt: skip
        caddyfile = Path(home / "tmp" / "caddy" / "Caddyfile")
        text = caddyfile.read_text()
        key = supervisor.portals[0].env["ARCHIVE_PROXY_KEY"]
        assert len(key) == 64 and all(p.env["ARCHIVE_PROXY_KEY"] == key for p in supervisor.portals)
        assert f"header_up X-Archive-Proxy-Key {key}" in text
        assert "ARCHIVE_PROXY_KEY" not in supervisor.caddy.env
        assert stat.S_IMODE(caddyfile.stat().st_mode) == 0o600
        keys.append(key)
    assert keys[0] != keys[1]


def test_deploy_gives_caddy_and_the_portals_one_key(tmp_path):
    from archive.portal.deploy import DeployPlan, deploy_files

    files = deploy_files(DeployPlan(domain="archive.example.org", home=tmp_path, user="archive",
                                    processes=2))  # fmt: skip
    line = next(x for x in files["archive.env"].splitlines() if x.startswith("ARCHIVE_PROXY_KEY="))
    key = line.split("=", 1)[1]
    assert len(key) == 64
    assert f"header_up X-Archive-Proxy-Key {key}" in files["Caddyfile"]
    assert "install -m 0640 -g caddy Caddyfile /etc/caddy/Caddyfile" in files["INSTALL.txt"]
