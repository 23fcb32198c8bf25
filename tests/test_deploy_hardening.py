"""The front end and the services are hardened where they run (security issue 18, points 8 and 12).

* Caddy bounds every request body per route (``request_body { max_size … }`` in the proxy rules
  that ``archive serve`` and ``archive deploy`` share): the real Caddy in front of a small
  upstream that reads whatever reaches it answers 413 for a body over the route's limit, with or
  without a ``Content-Length``, and passes one under it.
* The deploy Caddyfile turns Caddy's admin endpoint off (any local process could otherwise
  reconfigure the front end on localhost:2019), as ``archive serve`` does; INSTALL.txt restarts
  Caddy (``caddy reload`` needs the admin endpoint).
* The systemd units bound each service's memory and CPU (``MemoryMax``, ``CPUQuota``), and
  ``archive deploy --user root`` is refused.
"""

from __future__ import annotations

import configparser
import http.client
import http.server
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import run_cli
from portal_data import caddy_in_front

from archive.core.errors import InputError
from archive.portal.deploy import DeployPlan, check_plan, deploy_files

UPLOAD_LIMIT = 1024 * 1024
SEEN: dict[str, int] = {}


class _Reader(http.server.BaseHTTPRequestHandler):
    """Reads every body it is sent, to the end, and says how long it was; :data:`SEEN` keeps
    the most bytes of body that reached each path (a body cut off on the way counts too)."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self._answer(0)

    def do_POST(self) -> None:  # noqa: N802
        size = 0
        try:
            size = self._read()
        finally:
            SEEN[self.path] = max(SEEN.get(self.path, 0), size)
        self._answer(size)

    def _read(self) -> int:
        size = 0
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            size = 0
            while True:
                line = self.rfile.readline()
                step = int(line.split(b";")[0].strip() or b"0", 16)
                if step == 0:
                    self.rfile.readline()
                    break
                got = self.rfile.read(step)
                size += len(got)
                if len(got) < step:
                    break  # cut off on the way
                self.rfile.readline()
            return size
        return len(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

    def _answer(self, size: int) -> None:
        body = json.dumps({"read": size}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture(scope="module")
def caddy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    folder = tmp_path_factory.mktemp("caddy-limits")
    with caddy_in_front(folder, _Reader, upload_limit=UPLOAD_LIMIT) as port:
        yield port


def _post(port: int, path: str, size: int, *, chunked: bool = False) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        if chunked:
            pieces = (b"x" * min(16384, size - at) for at in range(0, size, 16384))
            connection.request("POST", path, body=pieces, encode_chunked=True)
        else:
            connection.request("POST", path, body=b"x" * size)
        response = connection.getresponse()
        return response.status, response.read()
    except (BrokenPipeError, ConnectionResetError):
        return -1, b""  # Caddy answered and closed before the body was through: read it as 413
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("path", "small", "limit"),
    [
        ("/session/open", 200, 1024),
        ("/session/close", 0, 1024),
        ("/files/upload", UPLOAD_LIMIT // 2, UPLOAD_LIMIT),
        ("/_stcore/upload_file/a/b", 1024 * 1024, 2 * 1024 * 1024),
        ("/feeds/rss.xml", 1024, 64 * 1024),
        ("/", 1024, 64 * 1024),
    ],
)
@pytest.mark.parametrize("chunked", [False, True], ids=["length", "chunked"])
def test_caddy_bounds_each_routes_request_body(caddy, path, small, limit, chunked):
    status, body = _post(caddy, path, small, chunked=chunked)
    assert status == 200 and json.loads(body)["read"] == small
    status, _body = _post(caddy, path, limit * 4, chunked=chunked)
    # Refused, and no more than the limit ever reached the portal. (Caddy 2.6, Debian 12's,
    # answers a body cut off at max_size with 502; later versions with 413.)
    assert status in (413, 502, -1), status
    assert SEEN[path] <= limit, SEEN[path]


def _plan(tmp_path: Path, **changes) -> DeployPlan:
    fields = {"domain": "archive.example.org", "home": tmp_path / "srv", "user": "archive"}
    return DeployPlan(processes=2, **{**fields, **changes})


def test_the_deploy_caddyfile_turns_the_admin_endpoint_off(tmp_path):
    files = deploy_files(_plan(tmp_path))
    (tmp_path / "Caddyfile").write_text(files["Caddyfile"])
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "cfg"), XDG_DATA_HOME=str(tmp_path / "d"))
    adapted = subprocess.run(
        ["caddy", "adapt", "--config", str(tmp_path / "Caddyfile"), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    config = json.loads(adapted.stdout)
    assert config["admin"]["disabled"] is True
    # The limits are in the deployed front end too (the default upload limit: 8 GiB).
    handlers = json.dumps(config["apps"]["http"]["servers"]["srv0"]["routes"])
    assert '"max_size": 1024' in handlers and f'"max_size": {8 * 1024**3}' in handlers
    # `caddy reload` talks to the admin endpoint, which is off: the steps restart Caddy.
    assert "systemctl restart caddy" in files["INSTALL.txt"]
    assert not [line for line in files["INSTALL.txt"].splitlines() if "reload caddy" in line
                or line.startswith("systemctl reload")]  # fmt: skip


def _service(text: str) -> configparser.SectionProxy:
    parsed = configparser.ConfigParser(strict=False, interpolation=None)
    parsed.optionxform = str  # type: ignore[assignment,method-assign]
    parsed.read_string(text)
    return parsed["Service"]


def test_every_long_running_unit_bounds_its_memory_and_cpu(tmp_path):
    files = deploy_files(_plan(tmp_path, queue_url="redis://127.0.0.1:6390/0"))
    for unit in ("archive-portal@.service", "archive-worker.service", "archive-redis.service",
                 "archive-backup.service"):  # fmt: skip
        service = _service(files[f"systemd/{unit}"])
        assert service.get("MemoryMax", "").rstrip("GM").isdigit(), unit
        assert service.get("CPUQuota", "").endswith("%"), unit
        assert service.get("User") == "archive", unit


@pytest.mark.parametrize("user", ["root", "ROOT"])
def test_deploy_refuses_to_run_the_services_as_root(tmp_path, user):
    with pytest.raises(InputError, match="root"):
        check_plan(_plan(tmp_path, user=user))
    result = run_cli(tmp_path / "home", "deploy", "--domain", "archive.example.org",
                     "--user", user, "-o", str(tmp_path / "out"))  # fmt: skip
    assert result.returncode != 0 and "root" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()
