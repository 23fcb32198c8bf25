"""``archive deploy``: the production files are written, and each is valid for the real tool that
reads it: Caddy (``caddy validate``, automatic HTTPS for the domain), systemd (``systemd-analyze
verify``, or parsed when the machine has no systemd), logrotate (``logrotate -d``), the shell
(the backup script runs for real: a signed bag of a real archive into a real restic repository,
twice, keeping the newest bag on the machine).
"""

from __future__ import annotations

import configparser
import grp
import json
import os
import pwd
import shutil
import subprocess
from pathlib import Path

from conftest import run_cli

from archive.portal.deploy import DeployPlan, deploy_files, write_files

UNITS = (
    "archive.target",
    "archive-portal@.service",
    "archive-worker.service",
    "archive-backup.service",
    "archive-backup.timer",
)


def _deploy(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Path:
    out = tmp_path / "deploy"
    home = tmp_path / "srv-archive"
    result = run_cli(
        home,
        "deploy",
        "--domain",
        "archive.example.org",
        "--processes",
        "2",
        "-o",
        str(out),
        *args,
        env={"ARCHIVE_QUEUE_URL": "", **(env or {})},
    )
    assert result.returncode == 0, result.stderr
    assert "INSTALL.txt" in result.stdout
    return out


def test_deploy_writes_a_caddyfile_caddy_accepts_with_automatic_https(tmp_path):
    out = _deploy(tmp_path, "--email", "ops@example.org")
    caddyfile = (out / "Caddyfile").read_text()
    assert "\narchive.example.org {" in caddyfile and "email ops@example.org" in caddyfile
    assert "auto_https off" not in caddyfile and "\tadmin off" in caddyfile  # issue 18, point 12
    assert "reverse_proxy 127.0.0.1:8501 127.0.0.1:8502 {" in caddyfile
    assert (
        "lb_policy cookie hk_archive_lb " in caddyfile and "health_uri /_stcore/health" in caddyfile
    )
    assert "Strict-Transport-Security" in caddyfile
    directives = [line for line in caddyfile.splitlines() if not line.strip().startswith("#")]
    assert not [d for d in directives if "Content-Security-Policy" in d]  # the portal sets it
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "cfg"), XDG_DATA_HOME=str(tmp_path / "d"))
    checked = subprocess.run(
        ["caddy", "validate", "--config", str(out / "Caddyfile"), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert checked.returncode == 0, checked.stderr
    assert "Valid configuration" in checked.stdout + checked.stderr
    # Caddy reads it as automatic HTTPS for the domain (HTTP redirected to HTTPS).
    adapted = subprocess.run(
        ["caddy", "adapt", "--config", str(out / "Caddyfile"), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    server = json.loads(adapted.stdout)["apps"]["http"]["servers"]["srv0"]
    assert server["listen"] == [":443"]
    assert server["routes"][0]["match"] == [{"host": ["archive.example.org"]}]
    assert "automatic_https" not in server


def test_deploy_units_are_valid_for_systemd(tmp_path):
    out = tmp_path / "deploy"
    home = tmp_path / "srv-archive"
    plan = DeployPlan(
        domain="archive.example.org",
        home=home,
        user="archive",
        processes=2,
        queue_url="redis://127.0.0.1:6390/0",
        backup_script=str(out / "archive-backup"),
    )
    write_files(deploy_files(plan), out)
    units = out / "systemd"
    assert sorted(p.name for p in units.iterdir()) == sorted([*UNITS, "archive-redis.service"])
    target = (units / "archive.target").read_text()
    assert "Wants=archive-portal@8501.service archive-portal@8502.service" in target
    assert "archive-worker.service archive-redis.service" in target
    portal = (units / "archive-portal@.service").read_text()
    assert f"--home {home} serve --processes 1 --no-worker --address 127.0.0.1 --port %i" in portal
    assert "After=network.target archive-redis.service" in portal
    assert "--port 6390" in (units / "archive-redis.service").read_text()
    assert "ARCHIVE_QUEUE_URL=redis://127.0.0.1:6390/0" in (out / "archive.env").read_text()
    assert "ARCHIVE_TRUSTED_PROXIES=127.0.0.1,::1" in (out / "archive.env").read_text()

    for unit in units.iterdir():
        # Not strict: systemd repeats keys (two EnvironmentFile= lines in the backup service).
        parsed = configparser.ConfigParser(strict=False, interpolation=None)
        parsed.optionxform = str  # type: ignore[assignment,method-assign]
        parsed.read_string(unit.read_text())
        assert parsed.sections()[0] == "Unit" and parsed["Unit"]["Description"]
        if unit.suffix == ".service":
            command = parsed["Service"]["ExecStart"].split()[0]
            assert Path(command).is_absolute(), unit.name
        if unit.suffix == ".timer":
            assert parsed["Timer"]["OnCalendar"] and parsed["Timer"]["Persistent"] == "true"

    analyze = shutil.which("systemd-analyze")
    if analyze:
        # Verified as installed: the template as one of its instances, beside the others.
        check = tmp_path / "verify"
        shutil.copytree(units, check)
        shutil.copy(check / "archive-portal@.service", check / "archive-portal@8501.service")
        names = [p.name for p in check.iterdir() if p.name != "archive-portal@.service"]
        verified = subprocess.run(
            [analyze, "verify", *names], cwd=check, capture_output=True, text=True, timeout=120
        )
        assert verified.returncode == 0, verified.stderr
        assert verified.stderr.strip() == "", verified.stderr


def test_deploy_without_redis_logrotate_and_the_printed_files(tmp_path):
    out = _deploy(tmp_path)
    assert not (out / "systemd" / "archive-redis.service").exists()
    assert "redis" not in (out / "systemd" / "archive.target").read_text()
    conf = (out / "logrotate.conf").read_text()
    assert f"{tmp_path / 'srv-archive'}/logs/*.log {{" in conf and "su archive archive" in conf
    # logrotate checks that the user exists and may read the folder: checked as this test's
    # own user (deploy itself refuses --user root, tests/test_deploy_hardening.py).
    me = pwd.getpwuid(os.getuid()).pw_name
    here = grp.getgrgid(os.getgid()).gr_name
    (tmp_path / "logrotate.conf").write_text(conf.replace("su archive archive", f"su {me} {here}"))
    checked = subprocess.run(
        [
            "/usr/sbin/logrotate",
            "-d",
            "-s",
            str(tmp_path / "state"),
            str(tmp_path / "logrotate.conf"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 0 and "error" not in checked.stderr, checked.stderr
    assert "Handling 1 logs" in checked.stderr

    printed = run_cli(
        tmp_path / "h", "deploy", "--domain", "archive.example.org", "--processes", "3"
    )
    assert printed.returncode == 0, printed.stderr
    for name in ("Caddyfile", "systemd/archive-portal@.service", "archive-backup", "INSTALL.txt"):
        assert f"# ===== {name} =====" in printed.stdout
    assert "127.0.0.1:8503" in printed.stdout
    bad = run_cli(tmp_path / "h", "deploy", "--domain", "https://evil example")
    assert bad.returncode != 0 and bad.stderr.startswith("error: --domain")


def test_the_backup_script_makes_a_bag_and_a_restic_snapshot(tmp_path):
    home = tmp_path / "archive-home"
    assert run_cli(home, "list").returncode == 0  # a real, empty archive (catalog made)
    out = tmp_path / "deploy"
    plan = DeployPlan(domain="archive.example.org", home=home, user="archive", processes=1)
    write_files(deploy_files(plan), out)
    script = out / "archive-backup"
    assert os.access(script, os.X_OK)
    password = tmp_path / "restic-password"
    password.write_text("correct horse battery staple\n")
    env = dict(
        os.environ,
        ARCHIVE_BACKUP_DIR=str(tmp_path / "bags"),
        ARCHIVE_BACKUP_KEEP_LOCAL="1",
        RESTIC_REPOSITORY=str(tmp_path / "offsite"),
        RESTIC_PASSWORD_FILE=str(password),
        RESTIC_CACHE_DIR=str(tmp_path / "restic-cache"),
    )
    env.pop("ARCHIVE_HOME", None)
    (tmp_path / "bags").mkdir()
    subprocess.run(["restic", "init"], env=env, check=True, capture_output=True, timeout=120)
    for _ in range(2):
        ran = subprocess.run(
            ["sh", str(script)], env=env, capture_output=True, text=True, timeout=600
        )
        assert ran.returncode == 0, ran.stdout + ran.stderr
    bags = sorted((tmp_path / "bags").iterdir())
    assert len(bags) == 1 and (bags[0] / "bagit.txt").is_file()  # the newest kept here
    snapshots = subprocess.run(
        ["restic", "snapshots", "--tag", "hk-labour-archive", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert len(json.loads(snapshots.stdout)) == 2
