"""Commands that read the catalog: ``list``, ``show``, ``export`` and ``cite``.

Each sees the archive as ``--role`` would (staff by default for ``list``/``show``/``export``,
public for ``cite``): what a role may not see is not found, redacted text is blank.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from archive.catalog.access import Viewer, visible_item, visible_revision
from archive.catalog.cite import STYLES, build_citation, parse_moment, render
from archive.catalog.db import Catalog
from archive.catalog.models import COLLECTIONS, Item
from archive.core.clikit import Context, emit_json, json_option, pass_ctx, role_option
from archive.core.config import ROLES
from archive.core.errors import InputError, NotFoundError
from transcripts.exports import export, format_timestamp, require_text, spoken_track

__all__ = ["COMMANDS", "item_document"]


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


@click.command("list")
@click.option("--collection", type=click.Choice(COLLECTIONS))
@role_option
@json_option
@pass_ctx
def list_command(ctx: Context, collection: str | None, role: str, as_json: bool) -> None:
    """List the items in the archive, newest recordings first.

    \b
    Example:
      archive list --collection webinar --json
    """

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
@json_option
@pass_ctx
def show_command(
    ctx: Context, item_id: str, revision: int | None, role: str, as_json: bool
) -> None:
    """Show an item: metadata, media and its transcript.

    \b
    Example:
      archive show k3v9x2m4qa --json
    """

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
@click.option(
    "--track",
    type=click.Choice(["zh", "en", "both"]),
    help="zh (Chinese), en (English) or both together [default: the language the recording is "
    "spoken in].",
)
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
    track: str | None,
    revision: int | None,
    output: str | None,
    role: str,
) -> None:
    """Export a transcript as subtitles (SRT, WebVTT), timestamped text or JSON.

    Without --track it is the language the recording is spoken in. --track both writes the two
    languages together: a Chinese and an English line in each cue, or two columns of text.
    Machine-translated English is marked [MT]. A track with no text is refused, naming the
    tracks that have some.

    \b
    Examples:
      archive export k3v9x2m4qa -o talk.srt
      archive export k3v9x2m4qa --format vtt --track en -o talk.en.vtt
      archive export k3v9x2m4qa --format txt --track both -o talk.both.txt
    """

    item, rev = visible_revision(ctx.catalog, item_id, Viewer(role), revision)
    segments = tuple(s for s in rev.segments if not s.redacted)
    track = track or spoken_track(
        segments, item.language if item.language != "auto" else item.detected_language
    )
    require_text(segments, track, what=f"Item {item_id} (revision {rev.revision})")
    text = export(segments, fmt, track)
    if output:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(f"wrote {output} (revision {rev.revision}, track {track})", err=True)
    else:
        click.echo(text, nl=False)


# -- command line --------------------------------------------------------------------------------
class _MomentType(click.ParamType):
    name = "SECONDS|HH:MM:SS"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        try:
            return parse_moment(value)
        except InputError as exc:
            self.fail(str(exc), param, ctx)


@click.command("cite")
@click.argument("item_id", metavar="ID")
@click.option("--at", "at", type=_MomentType(), default=None, help="The moment to cite and quote.")
@click.option(
    "--style",
    type=click.Choice(STYLES),
    default="chicago",
    show_default=True,
    help="Citation style.",
)
@click.option(
    "--rev",
    "revision",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Transcript revision to cite (default: the latest, named in the citation).",
)
@click.option(
    "--role",
    type=click.Choice(ROLES),
    default="public",
    show_default=True,
    help="Cite as a viewer with this role: a private item is not found below its level.",
)
@click.option(
    "--base-url",
    default=None,
    metavar="URL",
    help="Portal address for the permalink (default: $ARCHIVE_PUBLIC_URL, else relative).",
)
@click.option("--json", "as_json", is_flag=True, help="The citation's parts and the text as JSON.")
@pass_ctx
def cite_command(
    ctx: Context,
    item_id: str,
    at: float | None,
    style: str,
    revision: int | None,
    role: str,
    base_url: str | None,
    as_json: bool,
) -> None:
    """Cite an item, optionally at a moment, in a citation style; the same text as the portal.

    The permalink pins the transcript revision, so it keeps pointing at the quoted words.

    \b
    Example:
      archive cite k7m2p9qrst --at 12:34 --style apa --base-url https://archive.example.org
      archive cite k7m2p9qrst --at 754 --style bibtex --rev 2 --role staff
    """
    citation = build_citation(
        ctx.catalog,
        ctx.settings,
        item_id,
        at=at,
        viewer=Viewer(role),
        revision=revision,
        base_url=base_url,
    )
    text = render(citation, style)
    if as_json:
        emit_json({**citation.to_dict(), "style": style, "text": text})
        return
    click.echo(text)
    if citation.quote_redacted:
        click.echo(
            f"note: the passage at {citation.timestamp} is redacted and is not quoted", err=True
        )


COMMANDS = [list_command, show_command, export_command, cite_command]
