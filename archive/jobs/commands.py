"""Commands over the job queue: ``jobs``, ``worker``, ``retry`` and ``cancel``."""

from __future__ import annotations

import click

from archive.core.clikit import Context, emit_json, json_option, pass_ctx
from archive.core.errors import InputError
from archive.jobs.queue import cancel_job, retry_job, run_worker

__all__ = ["COMMANDS"]


@click.command("jobs")
@click.option(
    "--state",
    type=click.Choice(["queued", "running", "done", "failed", "cancelled"]),
    multiple=True,
)
@click.option("--limit", type=int, default=30, show_default=True)
@json_option
@pass_ctx
def jobs_command(ctx: Context, state: tuple[str, ...], limit: int, as_json: bool) -> None:
    """List recent jobs with their state and progress.

    \b
    Example:
      archive jobs --state failed
    """
    jobs = ctx.catalog.list_jobs(states=list(state) or None, limit=limit)
    if as_json:
        emit_json([j.to_dict() for j in jobs])
        return
    if not jobs:
        click.echo("no jobs")
    for job in jobs:
        line = f"{job.id:>5}  {job.kind:<10} {job.state:<9} {job.phase:<10} {job.progress * 100:5.1f}%  {job.item_id or ''}"
        if job.error:
            line += f"  error: {job.error}"
        click.echo(line)


@click.command("worker")
@click.option("--workers", type=int, default=1, show_default=True, help="Jobs run at once.")
@click.option("--burst", is_flag=True, help="Process what is queued, then exit.")
@pass_ctx
def worker_command(ctx: Context, workers: int, burst: bool) -> None:
    """Process queued jobs (downloads, transcription) until stopped with Ctrl-C.

    Uses the embedded SQLite queue in the data folder, or Redis when ARCHIVE_QUEUE_URL is set
    (several machines can then run workers on a shared data folder).

    \b
    Example:
      archive worker
      ARCHIVE_QUEUE_URL=redis://127.0.0.1:6379/0 archive worker --workers 2
    """

    if workers < 1:
        raise InputError("--workers must be at least 1")
    run_worker(ctx.settings, workers=workers, burst=burst)


@click.command("retry")
@click.argument("job_id", type=int)
@json_option
@pass_ctx
def retry_command(ctx: Context, job_id: int, as_json: bool) -> None:
    """Queue a failed or cancelled job again.

    \b
    Example:
      archive retry 12
    """

    job = retry_job(ctx.settings, ctx.catalog, job_id)
    if as_json:
        emit_json(job.to_dict())
    else:
        click.echo(f"job {job.id} queued again")


@click.command("cancel")
@click.argument("job_id", type=int)
@pass_ctx
def cancel_command(ctx: Context, job_id: int) -> None:
    """Cancel a queued or running job.

    \b
    Example:
      archive cancel 12
    """

    job = cancel_job(ctx.catalog, job_id)
    click.echo(f"job {job.id} cancelled")


COMMANDS = [jobs_command, worker_command, retry_command, cancel_command]
