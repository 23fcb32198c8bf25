"""``archive serve`` (the portal: one process, or N behind Caddy) and ``archive deploy`` (the
files of a production install for a domain). The work is in :mod:`archive.portal.serving` and
:mod:`archive.portal.deploy`; these are the command lines."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import click

from archive.core.clikit import Context, pass_ctx
from archive.core.errors import ConfigError
from archive.portal import APP_SCRIPT, PORTAL_DIR
from archive.portal.deploy import DeployPlan, deploy_files, write_files
from archive.portal.serving import build_supervisor, default_processes
from archive.portal.streamlit_settings import setting_flags

__all__ = ["COMMANDS", "deploy_command", "serve_argv", "serve_command"]

ASGI = APP_SCRIPT  # the installed package's own file: works from any working directory


def serve_argv(port: int, address: str) -> list[str]:
    """The ``streamlit run`` command line of the portal, every setting of
    :mod:`archive.portal.streamlit_settings` given as a flag (flags beat any config file).

    Streamlit's own "You can now view your Streamlit app" lines are hidden: ``archive serve``
    prints the one address a visitor opens (behind Caddy, the processes' ports are internal)."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(ASGI),
        "--server.port",
        str(port),
        "--logger.hideWelcomeMessage",
        "true",
        *setting_flags(server_address=address),
    ]


@click.command("serve")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=8501,
    show_default=True,
    help="Port to listen on.",
)
@click.option(
    "--address",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (0.0.0.0 for every interface, e.g. behind a reverse proxy).",
)
@click.option(
    "--worker/--no-worker",
    default=True,
    show_default=True,
    help="Also run a background worker for uploads and transcription (off when workers run elsewhere).",
)
@click.option(
    "--processes",
    type=click.IntRange(1, 64),
    default=None,
    help="Portal processes [default: one per core]. More than one: each on its own 127.0.0.1 "
    "port behind Caddy (apt-get install caddy) on --address/--port; 1: a single process, no Caddy.",
)
@pass_ctx
def serve_command(
    ctx: Context, port: int, address: str, worker: bool, processes: int | None
) -> None:
    """Start the public portal on the data folder (search, browse, play, cite).

    With several processes (the default on a machine with several cores), Caddy answers on the
    port and keeps each visitor on one process; a process that dies is started again, and the
    whole serve stops with an error if one keeps dying or Caddy stops.

    \b
    Example:
      archive --home ./data serve --port 8501
      archive --home ./data serve --processes 1    # one process, no Caddy
      then open http://127.0.0.1:8501/
    """
    settings = ctx.settings.ensure()
    if not ASGI.is_file():
        raise ConfigError(f"the portal's files are missing ({ASGI}): reinstall the archive")
    from archive.portal.i18n import compile_catalogs

    compile_catalogs()
    env = dict(
        os.environ, ARCHIVE_HOME=str(settings.home), STREAMLIT_BROWSER_GATHER_USAGE_STATS="false"
    )
    processes = processes or default_processes()
    if processes > 1:
        supervisor = build_supervisor(
            home=settings.home,
            address=address,
            port=port,
            processes=processes,
            worker=worker,
            env=env,
            portal_argv=lambda p: serve_argv(p, "127.0.0.1"),
            portal_cwd=PORTAL_DIR,
            echo=lambda line: click.echo(line, err=True),
            upload_limit=settings.max_upload_bytes,
        )
        click.echo(
            f"Portal on http://{address}:{port}/ ({processes} processes behind Caddy, data folder "
            f"{settings.home}); Ctrl-C stops it.",
            err=True,
        )
        supervisor.run()
        return
    click.echo(
        f"Portal on http://{address}:{port}/ (data folder {settings.home}); Ctrl-C stops it.",
        err=True,
    )
    # SIGTERM (a service manager stopping us) must still stop the worker and the portal.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # The portal never downloads or transcribes in a page run: a worker process does.
    worker_proc = (
        subprocess.Popen(
            [sys.executable, "-m", "archive", "--home", str(settings.home), "worker"],
            cwd=settings.home,
            env=env,
        )
        if worker
        else None
    )
    try:
        # The package folder, not the caller's: no stray .streamlit/ or secrets.toml is read.
        completed = subprocess.run(serve_argv(port, address), cwd=PORTAL_DIR, env=env, check=False)
    except KeyboardInterrupt:
        return
    finally:
        if worker_proc is not None:
            worker_proc.terminate()
            try:
                worker_proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker_proc.kill()
    if completed.returncode not in (0, -2, 130):
        raise click.exceptions.Exit(completed.returncode)


@click.command("deploy")
@click.option("--domain", required=True, help="The archive's host name (its DNS points here).")
@click.option(
    "--home",
    "deploy_home",
    type=click.Path(file_okay=False),
    default=None,
    help="The data folder on the server [default: `archive --home` or ARCHIVE_HOME when given, "
    "else /var/lib/USER/data].",
)
@click.option(
    "--user",
    default="archive",
    show_default=True,
    help="The system user of the services (never root: it would own everything it touches).",
)
@click.option(
    "--processes",
    type=click.IntRange(1, 64),
    default=None,
    help="Portal processes [default: one per core of this machine].",
)
@click.option(
    "--base-port",
    type=click.IntRange(1024, 65535),
    default=8501,
    show_default=True,
    help="The first portal process's 127.0.0.1 port; the others follow.",
)
@click.option("--email", default=None, help="Contact address for the certificate authority.")
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False),
    default=None,
    help="Write the files into this folder (made if missing) instead of printing them.",
)
@pass_ctx
def deploy_command(
    ctx: Context,
    domain: str,
    deploy_home: str | None,
    user: str,
    processes: int | None,
    base_port: int,
    email: str | None,
    output: str | None,
) -> None:
    """Write the files of a production install: HTTPS with Caddy, systemd services, backups.

    A Caddyfile (automatic HTTPS for the domain, N portal processes behind it), systemd units
    for the portal processes, the worker (and Redis when ARCHIVE_QUEUE_URL names it here), a
    weekly backup timer (signed bag + restic), log rotation, and INSTALL.txt with the commands
    that put them in place (see docs/deploy.md). Nothing on this machine is changed.

    \b
    Example:
      archive deploy --domain archive.example.org --home /srv/archive -o ./deploy
      cat ./deploy/INSTALL.txt
    """
    root = click.get_current_context().find_root().params.get("home")
    given = deploy_home or root or os.environ.get("ARCHIVE_HOME")
    home = Path(given).expanduser().resolve() if given else Path(f"/var/lib/{user}/data")
    plan = DeployPlan(
        domain=domain.strip().lower().rstrip("."),
        home=home,
        user=user,
        processes=processes or default_processes(),
        base_port=base_port,
        queue_url=ctx.settings.queue_url,
        email=email,
        upload_limit=ctx.settings.max_upload_bytes,
    )
    files = deploy_files(plan)
    if output is None:
        for name, text in files.items():
            click.echo(f"# ===== {name} =====")
            click.echo(text.rstrip("\n") + "\n")
        return
    written = write_files(files, Path(output))
    click.echo(f"Wrote {len(written)} files into {output}; next: {Path(output) / 'INSTALL.txt'}")


COMMANDS = [serve_command, deploy_command]
