"""``archive serve --processes N``: N portal processes on 127.0.0.1 behind Caddy, supervised.

What it promises:

- the portal processes run the same ``streamlit run`` command line as the single process
  (``archive.portal.commands.serve_argv``), each on its own free 127.0.0.1 port, with ``ARCHIVE_TRUSTED_PROXIES=127.0.0.1,::1`` so
  the visitor's address comes from Caddy's ``X-Forwarded-For`` and from nobody else;
- Caddy (Debian's ``caddy``, never a proxy of our own) listens on the address and port asked for,
  with the rules of ``templates/proxy.caddy`` (sticky sessions, websockets and Range requests
  passed through, compression and long cache headers for ``/static/``) and contacts nothing: no
  certificates, no admin endpoint, its files under the data folder's ``tmp/caddy``;
- Caddy starts only when every portal process answers ``/_stcore/health``, so the port answers
  only once the portal is whole;
- a portal process or the worker that dies is started again on the same port (Caddy's health
  checks send its visitors to the others meanwhile); one that dies :data:`CRASH_LIMIT` times within
  :data:`CRASH_WINDOW` seconds, or Caddy itself stopping, ends the whole serve with a clear error;
- Ctrl-C or SIGTERM stops Caddy first (no new requests), then the portals and the worker; a child
  still running after :data:`STOP_TIMEOUT` seconds is killed. Children get SIGTERM if this
  process dies without cleaning up (Linux ``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

from archive.core.config import Settings
from archive.core.errors import ArchiveError, ConfigError
from archive.core.filemodes import private_dir

__all__ = [
    "CRASH_LIMIT",
    "CRASH_WINDOW",
    "LOOPBACK_PROXIES",
    "STOP_TIMEOUT",
    "Child",
    "Fill",
    "ServeError",
    "Supervisor",
    "build_supervisor",
    "caddy_binary",
    "default_processes",
    "free_ports",
    "local_caddyfile",
    "proxy_rules",
    "read_template",
    "wait_healthy",
]

TEMPLATES = Path(__file__).resolve().parent / "templates"
LOOPBACK_PROXIES = "127.0.0.1,::1"
HEALTH_PATH = "/_stcore/health"  # Streamlit's own: 200 "ok" once the app is loaded
CRASH_LIMIT = 5
CRASH_WINDOW = 120.0
STOP_TIMEOUT = 20.0
START_TIMEOUT = 180.0  # two cold portals on a busy 2-core machine take tens of seconds
DEFAULT_UPLOAD_LIMIT = Settings.max_upload_bytes  # the default of ARCHIVE_MAX_UPLOAD_MB


def default_processes() -> int:
    """One portal process per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports free on 127.0.0.1 right now (held open together while chosen)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for sock in sockets:
            sock.close()


class Fill(Template):
    """A template whose placeholders are ``@@name``: ``$`` belongs to the shell and to Caddy,
    ``%`` to systemd, and ``{}`` to Caddy's placeholders."""

    delimiter = "@@"


def read_template(name: str) -> Fill:
    """A template shipped in ``archive/portal/templates/`` (``@@name`` placeholders)."""
    try:
        return Fill((TEMPLATES / name).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(
            f"the portal's template {name} is missing: reinstall the archive"
        ) from exc


def proxy_rules(
    upstreams: Sequence[str],
    lb_secret: str,
    *,
    proxy_key: str,
    upload_limit: int = DEFAULT_UPLOAD_LIMIT,
) -> str:
    """The body a Caddy site block needs in front of the portal processes at ``upstreams``
    (``host:port``), the same for ``archive serve`` and ``archive deploy``: ``proxy_key`` is
    what Caddy tells the portal processes in ``X-Archive-Proxy-Key`` (their
    ``ARCHIVE_PROXY_KEY``: only a request carrying it has its ``X-Forwarded-For`` believed),
    ``upload_limit`` the most bytes ``/files/upload`` takes (``ARCHIVE_MAX_UPLOAD_MB``)."""
    return read_template("proxy.caddy").substitute(
        upstreams=" ".join(upstreams),
        lb_secret=lb_secret,
        proxy_key=proxy_key,
        upload_limit=str(int(upload_limit)),
    )


def local_caddyfile(
    *,
    address: str,
    port: int,
    upstreams: Sequence[str],
    caddy_dir: Path,
    log_file: Path,
    proxy_key: str | None = None,
    upload_limit: int = DEFAULT_UPLOAD_LIMIT,
) -> str:
    """The Caddyfile of ``archive serve --processes N``: plain HTTP on ``address:port``, nothing
    fetched or administered, state in ``caddy_dir``. The sticky-session cookie's key is new at
    every start (a restart sends visitors afresh to any process, as their sessions are gone), and
    so is the proxy key when none is given."""
    rules = proxy_rules(
        upstreams,
        secrets.token_hex(16),
        proxy_key=proxy_key or secrets.token_hex(32),
        upload_limit=upload_limit,
    )
    return read_template("Caddyfile.local").substitute(
        processes=len(upstreams),
        storage=str(caddy_dir / "storage"),
        log_file=str(log_file),
        port=port,
        address=address,
        proxy_rules=rules.rstrip("\n"),
    )


def wait_healthy(port: int, alive: Callable[[], bool], timeout: float = START_TIMEOUT) -> bool:
    """Poll ``http://127.0.0.1:port/_stcore/health`` until it answers 200 (True), the process is
    gone (``alive()`` false) or ``timeout`` passes (False)."""
    deadline = time.monotonic() + timeout
    url = f"http://127.0.0.1:{port}{HEALTH_PATH}"
    while time.monotonic() < deadline and alive():
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.2)  # start-up polling: the process gives no other sign of readiness
    return False


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the supervisor dies (Linux), so no portal outlives it."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass  # not frozen: it holds the running process and its deaths, which change
class Child:
    """One supervised process: its name (in messages), its command, and its recent deaths."""

    name: str
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    port: int | None = None
    restart: bool = True
    process: subprocess.Popen[bytes] | None = None
    deaths: list[float] = field(default_factory=list)

    def start(self) -> None:
        self.process = subprocess.Popen(
            self.argv, cwd=self.cwd, env=self.env, preexec_fn=_die_with_parent
        )

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float) -> None:
        """SIGTERM, then SIGKILL after ``timeout`` seconds."""
        if not self.alive():
            return
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            self.process.terminate()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


class ServeError(ArchiveError):
    """The supervised portal cannot go on (Caddy stopped, a process keeps dying, none started)."""


class Supervisor:
    """Starts the portal processes, then Caddy (and the worker), keeps them running, stops them.

    ``portals`` and ``worker`` are restarted when they die (see the module's docstring); Caddy is
    not: it holds the public port, and its death ends :meth:`run` with :class:`ServeError`.
    """

    def __init__(
        self,
        portals: list[Child],
        caddy: Child,
        worker: Child | None,
        *,
        echo: Callable[[str], None],
    ) -> None:
        self.portals = portals
        self.caddy = caddy
        self.worker = worker
        self.echo = echo
        self.stopping = threading.Event()

    def _on_signal(self, signum: int, _frame: object) -> None:
        self.stopping.set()

    def run(self) -> None:
        """Run until Ctrl-C/SIGTERM (returns) or a failure (raises :class:`ServeError`)."""
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            self._start()
            while not self.stopping.wait(0.5):
                self._check()
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _start(self) -> None:
        for child in self.portals:
            child.start()
        if self.worker is not None:
            self.worker.start()
        for child in self.portals:
            assert child.port is not None
            if not wait_healthy(
                child.port, lambda c=child: c.alive() and not self.stopping.is_set()
            ):
                if self.stopping.is_set():
                    return
                raise ServeError(
                    f"{child.name} did not start (its output is above); nothing is served"
                )
        self.caddy.start()

    def _check(self) -> None:
        if not self.caddy.alive():
            code = self.caddy.process.returncode if self.caddy.process else None
            raise ServeError(
                f"Caddy stopped (exit code {code}; its reason is above, its log in the data "
                "folder's logs/caddy.log): the portal is stopped too"
            )
        for child in [*self.portals, *([self.worker] if self.worker else [])]:
            if child.alive():
                continue
            now = time.monotonic()
            child.deaths = [t for t in child.deaths if now - t < CRASH_WINDOW] + [now]
            code = child.process.returncode if child.process else None
            if len(child.deaths) >= CRASH_LIMIT:
                raise ServeError(
                    f"{child.name} died {len(child.deaths)} times in {int(CRASH_WINDOW)} s "
                    f"(last exit code {code}): the portal is stopped"
                )
            self.echo(f"{child.name} stopped (exit code {code}); starting it again")
            child.start()

    def _stop_all(self) -> None:
        # Caddy first: no new requests reach a portal that is shutting down.
        self.caddy.stop(STOP_TIMEOUT)
        others = [*self.portals, *([self.worker] if self.worker else [])]
        for child in others:
            if child.alive():
                assert child.process is not None
                with contextlib.suppress(ProcessLookupError):
                    child.process.terminate()
        for child in others:
            child.stop(STOP_TIMEOUT)


def caddy_binary() -> str:
    """Debian's ``caddy``, or a :class:`ConfigError` saying how to get it."""
    found = shutil.which("caddy")
    if not found:
        raise ConfigError(
            "serving with more than one process needs Caddy (Debian: apt-get install caddy); "
            "or run `archive serve --processes 1`"
        )
    return found


def build_supervisor(
    *,
    home: Path,
    address: str,
    port: int,
    processes: int,
    worker: bool,
    env: dict[str, str],
    portal_argv: Callable[[int], list[str]],
    portal_cwd: Path,
    echo: Callable[[str], None],
    upload_limit: int = DEFAULT_UPLOAD_LIMIT,
) -> Supervisor:
    """The supervisor of ``processes`` portals (``portal_argv(port)`` each, on free 127.0.0.1
    ports) behind Caddy on ``address:port``, plus a worker; writes the Caddyfile into
    ``<home>/tmp/caddy/``."""
    caddy = caddy_binary()
    caddy_dir = home / "tmp" / "caddy"
    logs = home / "logs"
    private_dir(caddy_dir.parent)
    private_dir(caddy_dir)
    private_dir(logs)
    ports = [p for p in free_ports(processes + 1) if p != port][:processes]
    caddyfile = caddy_dir / "Caddyfile"
    # New at every start; only Caddy and the portal processes know it (the Caddyfile is the
    # data folder's user's alone), so another local process that reaches a portal's port cannot
    # claim an address in X-Forwarded-For.
    proxy_key = secrets.token_hex(32)
    text = local_caddyfile(
        address=address,
        port=port,
        upstreams=[f"127.0.0.1:{p}" for p in ports],
        caddy_dir=caddy_dir,
        log_file=logs / "caddy.log",
        proxy_key=proxy_key,
        upload_limit=upload_limit,
    )
    caddyfile.unlink(missing_ok=True)
    fd = os.open(caddyfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    portal_env = dict(env, ARCHIVE_TRUSTED_PROXIES=LOOPBACK_PROXIES, ARCHIVE_PROXY_KEY=proxy_key)
    portals = [
        Child(f"portal process {n + 1} (port {p})", portal_argv(p), portal_env, portal_cwd, port=p)
        for n, p in enumerate(ports)
    ]
    # Caddy keeps its state (and would keep an autosaved config) in the data folder, not in ~.
    caddy_env = dict(env, XDG_CONFIG_HOME=str(caddy_dir), XDG_DATA_HOME=str(caddy_dir))
    caddy_child = Child(
        "Caddy",
        [caddy, "run", "--config", str(caddyfile), "--adapter", "caddyfile"],
        caddy_env,
        caddy_dir,
        restart=False,
    )
    worker_child = (
        Child("the worker", python_argv("--home", str(home), "worker"), env, home)
        if worker
        else None
    )
    return Supervisor(portals, caddy_child, worker_child, echo=echo)


def python_argv(*args: str) -> list[str]:
    """``python -m archive ARGS`` with this interpreter."""
    return [sys.executable, "-m", "archive", *args]
