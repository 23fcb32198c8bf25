"""``streamlit run streamlit_app.py`` listens on 127.0.0.1 only unless told otherwise, and asks no
other host for the server's external address; ``archive serve`` prints one address, not one per
portal process."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import portal_data

from archive.portal.commands import serve_argv

ROOT = Path(__file__).resolve().parents[1]


def _listening_addresses(port: int) -> set[str]:
    """The local addresses of the sockets listening on ``port`` (from /proc/net/tcp and tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


def test_streamlit_run_listens_on_loopback_only_and_looks_nothing_up(tmp_path: Path):
    port = portal_data.free_port()
    log = tmp_path / "portal.log"
    env = dict(os.environ, ARCHIVE_HOME=str(tmp_path / "home"))
    argv = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "streamlit_app.py",
        "--server.port",
        str(port),
    ]
    url = f"http://127.0.0.1:{port}"
    with portal_data.serving(argv, cwd=ROOT, env=env, log=log, url=url):
        addresses = _listening_addresses(port)
    printed = log.read_text(errors="replace")
    # 0100007F is 127.0.0.1; 00000000 (every IPv4 interface) or :: would be any interface.
    assert addresses == {"0100007F"}, addresses
    assert f"URL: http://127.0.0.1:{port}" in printed, printed
    assert "External URL" not in printed and "Network URL" not in printed, printed


def test_archive_serve_processes_print_no_address_of_their_own():
    argv = serve_argv(8611, "127.0.0.1")
    assert argv[argv.index("--logger.hideWelcomeMessage") + 1] == "true"
    assert argv[argv.index("--server.address") + 1] == "127.0.0.1"
    assert argv.count("--server.address") == 1
    wide = serve_argv(8611, "0.0.0.0")
    assert wide[wide.index("--server.address") + 1] == "0.0.0.0"
