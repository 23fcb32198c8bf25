"""``archive deploy``: the files of a production install on one machine, for one domain.

What it promises: :func:`deploy_files` returns every file (name → text) an administrator installs
to run the archive on ``https://DOMAIN`` with Debian's Caddy and systemd, filled in from the
templates shipped in ``archive/portal/templates/`` (so an installed wheel makes the same files):

- ``Caddyfile``: automatic HTTPS for the domain, then the same proxy rules as ``archive serve
  --processes N`` (:func:`archive.portal.serving.proxy_rules`) in front of the portal processes;
- ``systemd/``: ``archive.target`` (everything), ``archive-portal@.service`` (one portal process
  a port, ``--processes 1``), ``archive-worker.service``, ``archive-redis.service`` only when
  ``ARCHIVE_QUEUE_URL`` names Redis on this machine, ``archive-backup.service`` and its weekly
  ``archive-backup.timer``;
- ``archive-backup`` (the bag + restic script the backup service runs), ``archive.env`` and
  ``backup.env`` (the settings the units read), ``logrotate.conf``, and ``INSTALL.txt`` (the
  commands that put them in place; docs/deploy.md says the same at more length).

The health endpoint is Streamlit's own ``/_stcore/health`` (Caddy's active checks use it); the
archive adds no route for it. Nothing here touches the machine: the files are returned or written
into a folder, and the administrator installs them.
"""

from __future__ import annotations

import re
import secrets
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from archive.core.errors import InputError
from archive.portal.serving import DEFAULT_UPLOAD_LIMIT, proxy_rules, read_template

__all__ = [
    "DeployPlan",
    "check_plan",
    "default_archive_bin",
    "deploy_files",
    "install_steps",
    "write_files",
]

# A host name as Caddy takes it for a certificate: letters, digits, hyphens, dots.
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_USER = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class DeployPlan:
    """What ``archive deploy`` was asked for."""

    domain: str
    home: Path
    user: str
    processes: int
    base_port: int = 8501
    archive_bin: str = ""
    queue_url: str | None = None
    email: str | None = None
    backup_dir: Path = Path("/var/backups/archive")
    backup_script: str = "/usr/local/sbin/archive-backup"
    upload_limit: int = DEFAULT_UPLOAD_LIMIT  # ARCHIVE_MAX_UPLOAD_MB: Caddy's /files/upload limit
    # Each service's share of the machine (systemd MemoryMax= / CPUQuota=): a runaway request or
    # job is stopped by the kernel before it takes the machine and the other services with it.
    portal_memory: str = "2G"
    portal_cpu: str = "100%"
    worker_memory: str = "6G"
    worker_cpu: str = "200%"

    @property
    def ports(self) -> list[int]:
        return [self.base_port + n for n in range(self.processes)]

    @property
    def redis_port(self) -> int | None:
        """The port of a Redis on this machine that ARCHIVE_QUEUE_URL names, else None."""
        if not self.queue_url or not self.queue_url.startswith("redis://"):
            return None
        parts = urlsplit(self.queue_url)
        if (parts.hostname or "127.0.0.1") not in _LOCAL_HOSTS:
            return None
        return parts.port or 6379


def check_plan(plan: DeployPlan) -> DeployPlan:
    """The plan, or an :class:`InputError` naming what cannot go into the files."""
    if not _DOMAIN.match(plan.domain):
        raise InputError(f"--domain {plan.domain!r} is not a host name (e.g. archive.example.org)")
    if plan.user.strip().lower() == "root":
        # Everything the services touch would be root's, and a hole in the portal the machine's.
        raise InputError("--user root is refused: the services run as their own system user")
    if not _USER.match(plan.user):
        raise InputError(f"--user {plan.user!r} is not a system user name")
    if not plan.home.is_absolute():
        raise InputError("--home must be an absolute path for the services")
    if any(ch.isspace() for ch in str(plan.home)):
        raise InputError("--home must not contain spaces (systemd and logrotate split on them)")
    if plan.base_port + plan.processes - 1 > 65535:
        raise InputError("--base-port is too high for that many processes")
    if plan.email is not None and not re.match(r"^[^@\s]+@[^@\s]+$", plan.email):
        raise InputError(f"--email {plan.email!r} is not an e-mail address")
    return plan


def default_archive_bin() -> str:
    """The ``archive`` command of this installation (beside its Python), else the one on PATH."""
    beside = Path(sys.executable).with_name("archive")
    if beside.exists():
        return str(beside)
    return shutil.which("archive") or "/usr/local/bin/archive"


def deploy_files(plan: DeployPlan) -> dict[str, str]:
    """Every file of the install, by its name inside the output folder."""
    plan = check_plan(plan)
    redis = plan.redis_port
    archive = plan.archive_bin or default_archive_bin()
    units = [f"archive-portal@{port}.service" for port in plan.ports] + ["archive-worker.service"]
    if redis:
        units.append("archive-redis.service")
    fill = {
        "domain": plan.domain,
        "home": str(plan.home),
        "user": plan.user,
        "group": plan.user,
        "archive": archive,
        "processes": str(plan.processes),
        "backup_dir": str(plan.backup_dir),
        "backup_script": plan.backup_script,
        "redis_after": " archive-redis.service" if redis else "",
        "redis_doc": ", Redis" if redis else "",
        "wants": " ".join(units),
        "redis_port": str(redis or ""),
        "redis_server": shutil.which("redis-server") or "/usr/bin/redis-server",
        "queue_line": f"ARCHIVE_QUEUE_URL={plan.queue_url}"
        if plan.queue_url
        else "# ARCHIVE_QUEUE_URL=redis://127.0.0.1:6379/0   (to share the queue; re-run deploy)",
        "email_line": f"\temail {plan.email}"
        if plan.email
        else "\t# email you@example.org   (the contact for the certificate authority; optional)",
    }
    upstreams = [f"127.0.0.1:{port}" for port in plan.ports]
    # Caddy says it to the portal processes (archive.env's ARCHIVE_PROXY_KEY): a local process
    # that reaches a portal's port directly cannot claim an address in X-Forwarded-For.
    fill["proxy_key"] = secrets.token_hex(32)
    fill["proxy_rules"] = proxy_rules(
        upstreams,
        secrets.token_hex(16),
        proxy_key=fill["proxy_key"],
        upload_limit=plan.upload_limit,
    ).rstrip("\n")
    fill.update(
        portal_memory=plan.portal_memory,
        portal_cpu=plan.portal_cpu,
        worker_memory=plan.worker_memory,
        worker_cpu=plan.worker_cpu,
    )
    files = {
        "Caddyfile": read_template("Caddyfile.deploy").substitute(fill),
        "archive.env": read_template("archive.env").substitute(fill),
        "backup.env": read_template("backup.env").substitute(fill),
        "archive-backup": read_template("archive-backup").substitute(fill),
        "logrotate.conf": read_template("logrotate.conf").substitute(fill),
    }
    for unit in (
        "archive.target",
        "archive-portal@.service",
        "archive-worker.service",
        "archive-backup.service",
        "archive-backup.timer",
        *(["archive-redis.service"] if redis else []),
    ):
        files[f"systemd/{unit}"] = read_template(unit).substitute(fill)
    files["INSTALL.txt"] = install_steps(plan)
    return files


def install_steps(plan: DeployPlan) -> str:
    """The commands that put the files in place, run from the output folder as root."""
    user, home = plan.user, plan.home
    # The archive runs its own Redis (archive-redis.service); Debian's would hold the same port.
    redis_install = " redis-server\nsystemctl disable --now redis-server" if plan.redis_port else ""
    return f"""# Written by `archive deploy --domain {plan.domain}`: run these as root in this folder.
# (docs/deploy.md explains each step, upgrades and restores.)
apt-get install -y caddy restic ffmpeg{redis_install}
id -u {user} >/dev/null 2>&1 || useradd --system --user-group --home-dir /var/lib/{user} --create-home --shell /usr/sbin/nologin {user}
install -d -o {user} -g {user} -m 0750 {home} {plan.backup_dir}
install -d -m 0755 /etc/archive
install -m 0640 -g {user} archive.env backup.env /etc/archive/
install -m 0755 archive-backup {plan.backup_script}
install -m 0644 systemd/* /etc/systemd/system/
install -m 0644 logrotate.conf /etc/logrotate.d/archive
install -m 0640 -g caddy Caddyfile /etc/caddy/Caddyfile
sudo -u {user} {plan.archive_bin or default_archive_bin()} model install
systemctl daemon-reload
systemctl enable --now archive.target archive-backup.timer
systemctl restart caddy
# (Caddy's admin endpoint is off, so `caddy reload` cannot work: after editing the Caddyfile,
#  `systemctl restart caddy`.)
# then: fill in /etc/archive/backup.env, `restic init` once (docs/preservation.md), and
#   sudo -u {user} archive --home {home} user add NAME --role staff
"""


def write_files(files: dict[str, str], folder: Path) -> list[Path]:
    """Write ``files`` under ``folder`` (made if missing); the backup script is made executable."""
    written = []
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        if name == "archive-backup":
            path.chmod(0o755)
        written.append(path)
    return written
