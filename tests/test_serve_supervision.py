"""``archive serve --processes N`` when things go wrong: Caddy cannot take the port (the serve
ends with one ``error:`` line and leaves no process behind), and a portal process that keeps
dying (restarted, then the whole serve ends with an error naming it). Real processes throughout:
the real command with real portals, and the supervisor with a real Caddy in front of a small
HTTP server that answers its health check and then exits.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest
from conftest import run_cli
from portal_data import free_port

from archive.portal.serving import CRASH_LIMIT, Child, ServeError, Supervisor, local_caddyfile


def _processes_with_home(home: Path) -> list[int]:
    """Processes whose ARCHIVE_HOME is ``home`` (the serve's children carry it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"ARCHIVE_HOME={home}".encode() in environ:
            found.append(int(entry.name))
    return found


def test_serve_ends_with_an_error_when_caddy_cannot_take_the_port(tmp_path):
    home = tmp_path / "home"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli(
            home, "serve", "--processes", "2", "--port", str(port), "--no-worker", timeout=300
        )
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Caddy stopped" in errors[0], result.stderr
    assert "Traceback" not in result.stderr
    assert "address already in use" in result.stderr  # Caddy's own reason, before ours
    assert _processes_with_home(home.resolve()) == []


# A portal stand-in's life: answer the health check for a moment, then exit with 3.
_SHORT_LIVED = """
import http.server, sys, threading
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *a): pass
server = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H)
threading.Timer(0.5, lambda: (server.server_close(), __import__("os")._exit(3))).start()
server.serve_forever()
"""


def test_a_portal_process_that_keeps_dying_ends_the_serve(tmp_path):
    port, upstream = free_port(), free_port()
    config = tmp_path / "Caddyfile"
    config.write_text(
        local_caddyfile(
            address="127.0.0.1",
            port=port,
            upstreams=[f"127.0.0.1:{upstream}"],
            caddy_dir=tmp_path,
            log_file=tmp_path / "caddy.log",
        )
    )
    env = {"PATH": "/usr/bin:/bin", "XDG_CONFIG_HOME": str(tmp_path)}
    portal = Child(
        f"portal process 1 (port {upstream})",
        [sys.executable, "-c", _SHORT_LIVED, str(upstream)],
        env,
        tmp_path,
        port=upstream,
    )
    caddy = Child(
        "Caddy",
        ["caddy", "run", "--config", str(config), "--adapter", "caddyfile"],
        env,
        tmp_path,
        restart=False,
    )
    said: list[str] = []
    supervisor = Supervisor([portal], caddy, None, echo=said.append)
    with pytest.raises(ServeError, match=rf"port {upstream}\) died {CRASH_LIMIT} times"):
        supervisor.run()
    assert len(said) == CRASH_LIMIT - 1 and all("starting it again" in s for s in said)
    assert not caddy.alive() and not portal.alive()  # both stopped on the way out
