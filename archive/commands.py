"""Commands for ingest, the catalog and jobs: ``ingest list show export jobs worker retry cancel demo``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from .access import Viewer, visible_item, visible_revision
from .catalog import COLLECTIONS, LANGUAGES, VISIBILITIES, Catalog, Item
from .cli import Context, emit_json, pass_ctx
from .config import ROLES
from .errors import InputError, NotFoundError

EXAMPLE = "\b\nExample:\n  "


class Progress:
    """A terminal progress bar per phase (download, store, transcribe, translate); silent off a tty."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar: Any = None
        self.phase = ""

    def __call__(self, phase: str, fraction: float) -> None:
        if not self.enabled:
            return
        from tqdm import tqdm

        if phase != self.phase:
            self.close()
            self.phase = phase
            self.bar = tqdm(
                total=100,
                desc=f"{phase:<10}",
                unit="%",
                file=sys.stderr,
                leave=True,
                bar_format="{desc} {bar} {n:.0f}% [{elapsed}<{remaining}]",
            )
        if self.bar is not None:
            self.bar.n = round(fraction * 100, 1)
            self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _item_summary(catalog: Catalog, item: Item) -> dict[str, Any]:
    audio = catalog.get_media(item.id, "audio")
    revision = catalog.latest_revision_number(item.id)
    return {
        "id": item.id,
        "title_zh": item.title_zh,
        "title_en": item.title_en,
        "collection": item.collection,
        "recorded_date": item.recorded_date,
        "language": item.language,
        "visibility": item.effective_visibility(),
        "duration": audio.duration if audio else None,
        "revision": revision,
        "is_demo": item.is_demo,
    }


def item_document(
    catalog: Catalog, item_id: str, viewer: Viewer, revision: int | None = None
) -> dict[str, Any]:
    """What ``archive show --json`` prints: metadata, media, the revision and its segments."""
    item = visible_item(catalog, item_id, viewer)
    data = item.to_dict()
    if not viewer.is_staff:  # what was withheld, and whether the source may be shown: staff's
        del data["withheld_speakers"], data["source_public"]
    data["visibility"] = item.effective_visibility()
    # Below staff, media are described, never located: paths and hashes are for staff tools.
    fields = (
        ("role", "sha256", "size", "duration", "container", "mime", "path")
        if viewer.is_staff
        else ("role", "duration", "mime")
    )
    data["media"] = [
        {k: getattr(m, k) for k in fields}
        | ({"streams": list(m.streams)} if viewer.is_staff else {})
        for m in catalog.list_media(item_id)
    ]
    try:
        _, rev = visible_revision(catalog, item_id, viewer, revision)
    except NotFoundError:
        if revision is not None:
            raise
        rev = None
    data["revision"] = rev.revision if rev else None
    data["transcript"] = (
        {
            "revision": rev.revision,
            "origin": rev.origin,
            "model": rev.model,
            "decode_language": rev.decode_language,
            "created_at": rev.created_at,
            "author": rev.author,
        }
        if rev
        else None
    )
    data["segments"] = [
        {
            "start": round(s.start, 3),
            "end": round(s.end, 3),
            "text_zh": s.text_zh,
            "text_en": s.text_en,
            "lang": s.lang,
        }
        | ({"redacted": True} if s.redacted else {})
        for s in (rev.segments if rev else ())
    ]
    if viewer.is_staff:
        source = catalog.get_source(item_id)
        data["source"] = (
            {"url": source["url"], "extractor": source["extractor"]} if source else None
        )
    return data


role_option = click.option(
    "--role",
    type=click.Choice(ROLES),
    default="staff",
    show_default=True,
    help="See the archive as this role would (public, members, staff).",
)


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
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
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
    as_json: bool,
) -> None:
    """Archive a recording from a local file or a link (any site yt-dlp supports, a direct media
    link, or a page with an HTML5 <video>/<audio>).

    Without --wait the work is queued for `archive worker` and the job number printed.

    \b
    Example:
      archive ingest https://example.org/webinar --title-zh "碼頭工人罷工十周年" \\
          --title-en "Dock strike, ten years on" --collection webinar \\
          --speaker "Lee Cheuk-yan" --language yue --visibility public --wait
    """
    from .ingest import IngestOptions
    from .jobs import submit_ingest

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
    from .pipeline import ingest_and_transcribe

    bar = Progress(enabled=sys.stderr.isatty() and not as_json)
    try:
        outcome, job = ingest_and_transcribe(settings, catalog, source, options, progress=bar)
    finally:
        bar.close()
    item = catalog.get_item(outcome.item.id)
    if as_json:
        data = item_document(catalog, item.id, Viewer("staff"))
        data["duplicate"] = outcome.duplicate
        data["job"] = job.to_dict() if job else None
        emit_json(data)
    else:
        if outcome.duplicate:
            click.echo(f"already archived: the same recording is item {item.id} ({item.title})")
        else:
            click.echo(f"archived as item {item.id}: {item.title}")
    if job is not None and job.state == "failed":
        raise click.ClickException(f"transcription failed (job {job.id}): {job.error}")


@click.command("list")
@click.option("--collection", type=click.Choice(COLLECTIONS))
@role_option
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def list_command(ctx: Context, collection: str | None, role: str, as_json: bool) -> None:
    """List the items in the archive, newest recordings first.

    \b
    Example:
      archive list --collection webinar --json
    """
    from transcripts.subtitles import format_timestamp

    catalog = ctx.catalog
    viewer = Viewer(role)
    items = [
        i for i in catalog.list_items(role="staff", collection=collection) if viewer.may_see(i)
    ]
    rows = [_item_summary(catalog, i) for i in items]
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo("no items")
        return
    for row in rows:
        duration = format_timestamp(row["duration"], "clock") if row["duration"] else "-"
        title = " / ".join(t for t in (row["title_zh"], row["title_en"]) if t)
        click.echo(
            f"{row['id']}  {row['recorded_date'] or '----------':<10}  {row['collection']:<18} "
            f"{row['visibility']:<7} {duration:>7}  {title}"
        )


@click.command("show")
@click.argument("item_id")
@click.option("--rev", "revision", type=int, help="A transcript revision (default: the latest).")
@role_option
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def show_command(
    ctx: Context, item_id: str, revision: int | None, role: str, as_json: bool
) -> None:
    """Show an item: metadata, media and its transcript.

    \b
    Example:
      archive show k3v9x2m4qa --json
    """
    from transcripts.subtitles import format_timestamp

    data = item_document(ctx.catalog, item_id, Viewer(role), revision)
    if as_json:
        emit_json(data)
        return
    click.echo(f"{data['id']}  {data['title_zh']}  {data['title_en']}")
    click.echo(
        f"collection: {data['collection']}   date: {data['recorded_date'] or '-'}   "
        f"visibility: {data['visibility']}   language: {data['language']}"
    )
    if data["speakers"]:
        click.echo(f"speakers: {', '.join(data['speakers'])}")
    if data["source_url"]:
        click.echo(f"source: {data['source_url']}")
    if data["revision"] is None:
        click.echo("no transcript yet")
        return
    click.echo(f"transcript revision {data['revision']}, {len(data['segments'])} segments")
    for seg in data["segments"]:
        stamp = format_timestamp(seg["start"], "clock")
        if seg.get("redacted") and not seg["text_zh"] and not seg["text_en"]:
            click.echo(f"[{stamp}] (redacted)")
            continue
        for text in (seg["text_zh"], seg["text_en"]):
            if text:
                click.echo(f"[{stamp}] {text}")


@click.command("export")
@click.argument("item_id")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["srt", "vtt", "txt", "json"]),
    default="srt",
    show_default=True,
)
@click.option("--track", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option("--rev", "revision", type=int, help="A transcript revision (default: the latest).")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    help="Write to FILE (default: stdout).",
)
@role_option
@pass_ctx
def export_command(
    ctx: Context,
    item_id: str,
    fmt: str,
    track: str,
    revision: int | None,
    output: str | None,
    role: str,
) -> None:
    """Export a transcript track as subtitles (SRT, WebVTT), timestamped text or JSON.

    \b
    Example:
      archive export k3v9x2m4qa --format vtt --track en -o talk.en.vtt
    """
    from transcripts.subtitles import export

    item, rev = visible_revision(ctx.catalog, item_id, Viewer(role), revision)
    segments = tuple(s for s in rev.segments if not s.redacted or role == "staff")
    text = export(segments, fmt, track)
    if output:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(f"wrote {output} (revision {rev.revision}, track {track})", err=True)
    else:
        click.echo(text, nl=False)


@click.command("jobs")
@click.option(
    "--state",
    type=click.Choice(["queued", "running", "done", "failed", "cancelled"]),
    multiple=True,
)
@click.option("--limit", type=int, default=30, show_default=True)
@click.option("--json", "as_json", is_flag=True)
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
    from .jobs import run_worker

    if workers < 1:
        raise InputError("--workers must be at least 1")
    run_worker(ctx.settings, workers=workers, burst=burst)


@click.command("retry")
@click.argument("job_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def retry_command(ctx: Context, job_id: int, as_json: bool) -> None:
    """Queue a failed or cancelled job again.

    \b
    Example:
      archive retry 12
    """
    from .jobs import retry_job

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
    from .jobs import cancel_job

    job = cancel_job(ctx.catalog, job_id)
    click.echo(f"job {job.id} cancelled")


@click.command("demo")
@click.option(
    "--fixtures",
    type=click.Path(file_okay=False),
    help="Folder of fixtures (default: ../shared/fixtures).",
)
@click.option("--force", is_flag=True, help="Build even if the archive already has items.")
@pass_ctx
def demo_command(ctx: Context, fixtures: str | None, force: bool) -> None:
    """Build a small demo archive from the shared fixtures when the data folder is empty.

    Real speech transcribed by the real model, plus items made from subtitle fixtures; every demo
    item is labelled as demo content.

    \b
    Example:
      archive --home demo-data demo
    """
    from .demo import build_demo

    built = build_demo(
        ctx.settings,
        ctx.catalog,
        fixtures=Path(fixtures) if fixtures else None,
        force=force,
        echo=lambda m: click.echo(m, err=True),
    )
    click.echo(
        f"demo archive: {len(built)} new items"
        if built
        else "the archive already has items: nothing to do"
    )


COMMANDS = [
    ingest_command,
    list_command,
    show_command,
    export_command,
    jobs_command,
    worker_command,
    retry_command,
    cancel_command,
    demo_command,
]
