"""``archive serve --processes 2``: the generated Caddy configuration in front of two real portal
processes, driven in a real headless Chromium (search → item → play), then supervised.

Through Caddy's port only: the search results and the transcript rows arrive over Streamlit's
websocket (opened through Caddy), the media answers 206 to the player's Range request, every
response carries the Content-Security-Policy exactly once, and the browser holds Caddy's sticky
cookie naming one of the two processes (the HMAC Caddy computes from the key in the generated
Caddyfile). A staff member logs in and uploads a recording through the page and Caddy. Then a
killed portal process is started again while Caddy keeps answering, and
SIGTERM to ``archive serve`` stops Caddy, both portals and nothing is left running.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import signal
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import portal_data
import pytest
from portal_harness import RecordedSession, launch_chromium, require_chromium
from test_browser_portal import PLAYER_STATE
from test_browser_staff import wait_for

from archive.catalog.db import Catalog
from archive.portal.serving import wait_healthy
from archive.workspace.accounts import add_user

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent / "artifacts" / "caddy"
PASSWORD = "correct horse battery"


def children(pid: int) -> dict[int, str]:
    """The direct children of ``pid``: {pid: command line}, read from /proc."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        ppid = re.search(r"^PPid:\s+(\d+)", status, re.M)
        if ppid and int(ppid.group(1)) == pid:
            found[int(entry.name)] = cmdline
    return found


def environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


def upstream_ports(caddyfile: str) -> list[int]:
    line = re.search(r"reverse_proxy ([^{]+)\{", caddyfile).group(1)
    return [int(u.rsplit(":", 1)[1]) for u in line.split()]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):
    require_chromium()
    home = tmp_path_factory.mktemp("portal-caddy")
    arch = portal_data.build(home)
    cat = Catalog.open(arch.settings)
    add_user(cat, "staff1", "staff", PASSWORD, actor="test")
    cat.close()
    running = portal_data.Portal(home, processes=2)
    with running:
        yield arch, running


@pytest.fixture(scope="module")
def browser():
    with launch_chromium(ARTIFACTS, fresh=True) as chromium:
        yield chromium


def test_two_processes_behind_the_generated_caddyfile(served):
    _arch, running = served
    caddyfile = (running.home / "tmp" / "caddy" / "Caddyfile").read_text()
    assert "admin off" in caddyfile and "auto_https off" in caddyfile
    assert f"http://:{running.port}" in caddyfile and "lb_policy cookie hk_archive_lb" in caddyfile
    ports = upstream_ports(caddyfile)
    assert len(ports) == 2 and running.port not in ports
    kids = children(running.process.pid)
    caddy = [p for p, cmd in kids.items() if cmd.startswith("/usr/bin/caddy run")]
    portals = [p for p, cmd in kids.items() if "streamlit run" in cmd]
    assert len(caddy) == 1 and len(portals) == 2, kids
    for pid in portals:
        # X-Forwarded-For is believed from Caddy on this machine only.
        assert environ(pid)["ARCHIVE_TRUSTED_PROXIES"] == "127.0.0.1,::1"
        assert re.search(r"--server\.address 127\.0\.0\.1\b", kids[pid])
    # Each portal answers on its own port too (Caddy's health check uses the same route).
    for port in ports:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=5) as r:
            assert r.status == 200


def test_search_item_play_in_chromium_through_caddy(served, browser):
    arch, running = served
    caddyfile = (running.home / "tmp" / "caddy" / "Caddyfile").read_text()
    secret = re.search(r"lb_policy cookie hk_archive_lb (\S+)", caddyfile).group(1)
    ports = upstream_ports(caddyfile)
    s = RecordedSession(browser, locale="zh-HK")
    page = s.page
    media_statuses: list[int] = []
    csp_counts: dict[str, int] = {}
    sockets = []
    frames: list[int] = []

    def on_response(response) -> None:
        url = response.url
        if not url.startswith(running.url):
            return
        names = [h["name"].lower() for h in response.headers_array()]
        csp_counts[url] = names.count("content-security-policy")
        if "/files/media/" in url:
            media_statuses.append(response.status)

    def on_socket(ws) -> None:
        sockets.append(ws.url)
        ws.on("framereceived", lambda _payload: frames.append(1))

    page.on("response", on_response)
    page.on("websocket", on_socket)
    try:
        page.goto(running.url + "/")
        box = page.get_by_label("搜尋檔案館")
        box.wait_for()
        box.fill("碼頭工人")
        box.press("Enter")
        page.locator(".hk-snippet mark").first.wait_for()
        assert parse_qs(urlsplit(page.url).query)["q"] == ["碼頭工人"]
        page.screenshot(path=str(ARTIFACTS / "01-search-through-caddy.png"))

        hit = page.locator(f"a[href*='item={arch.ids['long']}'][href*='t='] >> visible=true").first
        hit.click()
        page.locator("h1", has_text="香港勞工運動兩小時講座").wait_for()
        page.locator(".hkp-row.current").wait_for()
        state = page.evaluate(PLAYER_STATE)
        assert state["rows"] == 1500  # the transcript rows, fetched through Caddy
        assert state["src"].startswith("/files/media/")

        # Play from a line of the transcript: the media plays on (its bytes came through Caddy).
        target = page.locator(".hkp-row[data-i='40'] .hkp-ts")
        target.scroll_into_view_if_needed()
        target.click()
        page.wait_for_function(
            "() => { const st = (" + PLAYER_STATE + ")(); return st && st.current === '40'; }"
        )
        page.wait_for_function(
            "() => { const st = ("
            + PLAYER_STATE
            + ")(); return st && !st.paused && st.t > 192.3; }"
        )
        page.screenshot(path=str(ARTIFACTS / "02-item-playing-through-caddy.png"))

        assert 206 in media_statuses, media_statuses
        stream = f"ws://127.0.0.1:{running.port}/_stcore/stream"
        assert stream in sockets, sockets
        assert frames  # Streamlit's messages came back over the websocket through Caddy
        assert csp_counts and set(csp_counts.values()) == {1}, {
            u: n for u, n in csp_counts.items() if n != 1
        }
        # The sticky cookie names one of the two processes (Caddy's HMAC-SHA256 of its address).
        cookie = {c["name"]: c["value"] for c in s.context.cookies()}["hk_archive_lb"]
        expected = {
            hmac.new(secret.encode(), f"127.0.0.1:{p}".encode(), hashlib.sha256).hexdigest()
            for p in ports
        }
        assert cookie in expected
        assert not s.errors, s.errors
        assert not s.outside_requests(), s.outside_requests()
    finally:
        s.close()


def test_staff_log_in_and_upload_through_caddy(served, browser, fixtures_dir):
    """The log-in's session cookie, the page-bound upload token and the streamed upload all
    reach the process that made the page: the sticky cookie at work."""
    _arch, running = served
    s = RecordedSession(browser, locale="en-GB")
    page = s.page
    try:
        page.goto(running.url + "/login?lang=en")
        page.get_by_label("User name").fill("staff1")
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.get_by_text("You are logged in as staff1").wait_for()
        # The session cookie is set by the page's one-time code a moment after the log-in shows:
        # a page opened before it would be an anonymous visitor's.
        wait_for(
            lambda: any(c["name"] == "hk_archive_session" for c in page.context.cookies()),
            timeout=20,
            what="the session cookie",
        )
        page.goto(running.url + "/upload?lang=en")
        page.locator("input[type=file]").set_input_files(str(fixtures_dir / "en" / "jfk.flac"))
        page.locator(".hku-send").click()
        page.get_by_text("Ready: jfk.flac").wait_for(timeout=60_000)
        assert any(u == running.url + "/files/upload" for u in s.requests)
        page.get_by_label("Title (English)").fill("Uploaded through Caddy")
        page.get_by_role("button", name="Add to the archive").click()
        page.get_by_text("Queued as job").wait_for()
        assert not s.errors, s.errors
    finally:
        s.close()


def test_a_dead_portal_process_is_started_again_and_sigterm_stops_everything(served):
    _arch, running = served
    supervisor = running.process.pid
    kids = children(supervisor)
    portals = sorted(p for p, cmd in kids.items() if "streamlit run" in cmd)
    victim = portals[0]
    port = int(re.search(r"--server\.port (\d+)", kids[victim]).group(1))
    os.kill(victim, signal.SIGKILL)
    # Caddy keeps answering from the other process while the victim comes back on its port.
    with urllib.request.urlopen(running.url + "/_stcore/health", timeout=15) as r:
        assert r.status == 200
    assert wait_healthy(port, lambda: running.process.poll() is None, timeout=120)
    kids = children(supervisor)
    assert victim not in kids
    assert len([p for p, cmd in kids.items() if "streamlit run" in cmd]) == 2
    assert "starting it again" in running.log_path.read_text(errors="replace")

    # SIGTERM to `archive serve` alone (not its group): Caddy, both portals, then itself exit.
    os.kill(supervisor, signal.SIGTERM)
    assert running.process.wait(timeout=60) == 0
    for pid in kids:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in _state(pid), kids[pid]


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().lower()
    except OSError:
        return "zombie"
