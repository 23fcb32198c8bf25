"""Commands of the webinar hub's feeds: ``archive feed ics|rss|podcast``.

The same feeds ``archive serve`` serves under ``/feeds/``, written to a file (atomically, so a web
server publishing it never serves half) or to stdout. A thin layer over :mod:`archive.hub.feeds`:
only public events and recordings are in them. :data:`archive.hub.commands.COMMANDS` declares the
group to the command line.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from archive.catalog.access import Viewer
from archive.catalog.models import COLLECTIONS
from archive.core.clikit import Context, pass_ctx
from archive.core.errors import InputError
from archive.core.filemodes import write_atomically
from archive.hub.events import visible_event
from archive.hub.feeds import event_ics, events_calendar, feed_base_url, podcast_feed, rss_feed

__all__ = ["COMMANDS", "feed_group"]


def _write_output(data: bytes, output: str | None) -> None:
    if not output:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    target = Path(output).expanduser()
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"the folder {folder} does not exist")
    # Written beside the target and renamed: a web server publishing the file never serves half.
    write_atomically(target, data, mode=0o644)
    click.echo(f"wrote {target} ({len(data)} bytes)", err=True)


base_url_option = click.option(
    "--base-url",
    metavar="URL",
    help="Absolute address of the archive for links (default: $ARCHIVE_PUBLIC_URL).",
)
output_option = click.option(
    "-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE (default: stdout)."
)
series_option = click.option("--series", "series_id", help="Only this series.")
collection_option = click.option(
    "--collection", type=click.Choice(COLLECTIONS), help="Only this collection."
)


@click.group("feed")
def feed_group() -> None:
    """Export the public feeds as files: iCalendar of events, RSS/Atom and podcasts of recordings.

    The same feeds are served over HTTP by `archive serve` under /feeds/.

    \b
    Example:
      archive feed ics --base-url https://archive.example.org -o events.ics
      archive feed podcast --collection webinar -o webinars.xml
    """


@feed_group.command("ics")
@series_option
@collection_option
@click.option("--event", "event_id", help="Only this (public) event, as a single .ics.")
@base_url_option
@output_option
@pass_ctx
def feed_ics(
    ctx: Context,
    series_id: str | None,
    collection: str | None,
    event_id: str | None,
    base_url: str | None,
    output: str | None,
) -> None:
    """The iCalendar feed of public events (all, one series, or one event).

    \b
    Example:
      archive feed ics --series uk-tour-2026 --base-url https://archive.example.org -o uk-tour.ics
    """

    if collection:
        raise InputError("events have no collection: use --series, or no option for all events")
    base = feed_base_url(ctx.settings, base_url)
    if event_id:
        event = visible_event(ctx.catalog, event_id, Viewer("public"))
        data = event_ics(event, base_url=base, organisation=ctx.settings.organisation)
    else:
        data = events_calendar(ctx.settings, ctx.catalog, base_url=base, series_id=series_id)
    _write_output(data, output)


@feed_group.command("rss")
@series_option
@collection_option
@click.option("--atom", is_flag=True, help="Atom instead of RSS 2.0.")
@base_url_option
@output_option
@pass_ctx
def feed_rss(
    ctx: Context,
    series_id: str | None,
    collection: str | None,
    atom: bool,
    base_url: str | None,
    output: str | None,
) -> None:
    """RSS 2.0 (or Atom) of public recordings, newest first, linking to the portal.

    \b
    Example:
      archive feed rss --collection interview --base-url https://archive.example.org -o interviews.xml
    """

    data = rss_feed(
        ctx.settings,
        ctx.catalog,
        base_url=feed_base_url(ctx.settings, base_url),
        collection=collection,
        series_id=series_id,
        atom=atom,
    )
    _write_output(data, output)


@feed_group.command("podcast")
@series_option
@collection_option
@base_url_option
@output_option
@pass_ctx
def feed_podcast(
    ctx: Context,
    series_id: str | None,
    collection: str | None,
    base_url: str | None,
    output: str | None,
) -> None:
    """A podcast of public recordings: audio enclosures, durations, transcripts (WebVTT, SRT) and
    chapters (Podcasting 2.0 tags). Enclosure and transcript links point at the archive's /feeds/.

    \b
    Example:
      archive feed podcast --series uk-tour-2026 --base-url https://archive.example.org -o podcast.xml
    """

    data = podcast_feed(
        ctx.settings,
        ctx.catalog,
        base_url=feed_base_url(ctx.settings, base_url),
        collection=collection,
        series_id=series_id,
    )
    _write_output(data, output)


COMMANDS = [feed_group]
