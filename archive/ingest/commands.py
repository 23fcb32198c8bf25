"""``archive ingest``: a file or a URL into the archive, queued or waited for."""

from __future__ import annotations

import sys

import click

from archive.catalog.access import Viewer
from archive.catalog.commands import item_document
from archive.catalog.models import COLLECTIONS, LANGUAGES, VISIBILITIES
from archive.core.clikit import (
    Context,
    Progress,
    default_actor,
    emit_json,
    json_option,
    pass_ctx,
)
from archive.ingest.intake import IngestOptions, details_not_applied
from archive.ingest.jobs import ingest_and_transcribe, submit_ingest

__all__ = ["COMMANDS"]


@click.command("ingest")
@click.argument("source")
@click.option("--title-zh", help="Chinese title (繁體).")
@click.option("--title-en", help="English title.")
@click.option("--description-zh", help="Chinese description.")
@click.option("--description-en", help="English description.")
@click.option("--collection", type=click.Choice(COLLECTIONS), default="other", show_default=True)
@click.option(
    "--date", "date", metavar="YYYY[-MM[-DD]]", help="Recorded date (default: from the source)."
)
@click.option("--speaker", "speakers", multiple=True, help="A speaker's name (repeatable).")
@click.option("--tag", "tags", multiple=True, help="A tag (repeatable).")
@click.option(
    "--visibility",
    type=click.Choice(VISIBILITIES),
    default="staff",
    show_default=True,
    help="Who may see the item; nothing is public until someone says so.",
)
@click.option(
    "--language",
    type=click.Choice(LANGUAGES),
    default="auto",
    show_default=True,
    help="Spoken language: yue (Cantonese), zh (Mandarin), en, or auto-detect.",
)
@click.option(
    "--subtitles",
    type=click.Path(dir_okay=False),
    help="An SRT or WebVTT file to use as the transcript.",
)
@click.option("--no-transcribe", is_flag=True, help="Store and catalogue only; transcribe later.")
@click.option(
    "--no-translate", is_flag=True, help="Skip the machine English track for Chinese speech."
)
@click.option(
    "--wait",
    is_flag=True,
    help="Run now, in this process, with a progress bar (else: queue a job).",
)
@click.option(
    "--allow-host",
    "allow_hosts",
    multiple=True,
    metavar="HOST[:PORT]",
    help="Let this link be fetched from a host on the server's own network (loopback, private "
    "or link-local addresses are refused otherwise); repeatable; each use is audited.",
)
@json_option
@pass_ctx
def ingest_command(
    ctx: Context,
    source: str,
    title_zh: str | None,
    title_en: str | None,
    description_zh: str | None,
    description_en: str | None,
    collection: str,
    date: str | None,
    speakers: tuple[str, ...],
    tags: tuple[str, ...],
    visibility: str,
    language: str,
    subtitles: str | None,
    no_transcribe: bool,
    no_translate: bool,
    wait: bool,
    allow_hosts: tuple[str, ...],
    as_json: bool,
) -> None:
    """Archive a recording from a local file or a link (any site yt-dlp supports, a direct media
    link, or a page with an HTML5 <video>/<audio>).

    Without --wait the work is queued for `archive worker` and the job number printed.

    \b
    Example:
      archive ingest https://example.org/webinar --title-zh "碼頭工人罷工十週年" \\
          --title-en "Dock strike, ten years on" --collection webinar \\
          --speaker "Lee Cheuk-yan" --language yue --visibility public --wait
    """

    options = IngestOptions(
        title_zh=title_zh,
        title_en=title_en,
        description_zh=description_zh,
        description_en=description_en,
        collection=collection,
        date=date,
        speakers=speakers,
        tags=tags,
        visibility=visibility,
        language=language,
        subtitles=subtitles,
        transcribe=not no_transcribe,
        translate=not no_translate,
        allow_hosts=allow_hosts,
        # Who let the archive reach its own network goes into the audit log by name.
        **({"created_by": default_actor()} if allow_hosts else {}),
    )
    settings, catalog = ctx.settings, ctx.catalog
    if not wait:
        job = submit_ingest(settings, catalog, source, options)
        if as_json:
            emit_json({"job": job.id, "state": job.state})
        else:
            click.echo(
                f"queued job {job.id}: run `archive worker` to process it, `archive jobs` to follow it"
            )
        return

    bar = Progress(enabled=sys.stderr.isatty() and not as_json)
    try:
        outcome, job = ingest_and_transcribe(settings, catalog, source, options, progress=bar)
    finally:
        bar.close()
    item = catalog.get_item(outcome.item.id)
    if as_json:
        data = item_document(catalog, item.id, Viewer("staff"))
        data["duplicate"] = outcome.duplicate
        if outcome.duplicate:
            data["not_applied"] = details_not_applied(item, options.to_payload())
        data["job"] = job.to_dict() if job else None
        emit_json(data)
    else:
        if outcome.duplicate:
            click.echo(f"already archived: the same recording is item {item.id} ({item.title})")
            ignored = details_not_applied(item, options.to_payload())
            if ignored:
                click.echo(
                    "not applied to it (they differ from the item's): "
                    + ", ".join(f"{k}={v!r}" for k, v in ignored.items())
                    + " (run without --wait and apply them on the portal's Jobs page)",
                    err=True,
                )
        else:
            click.echo(f"archived as item {item.id}: {item.title}")
    if job is not None and job.state == "failed":
        raise click.ClickException(f"transcription failed (job {job.id}): {job.error}")


COMMANDS = [ingest_command]
