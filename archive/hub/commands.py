"""Commands of the webinar hub: ``archive event …``, ``archive series …``, and :data:`COMMANDS`,
which declares them with ``archive feed …`` (:mod:`archive.hub.feed_commands`) to the command line.

A thin layer over :mod:`archive.hub.events`, :mod:`archive.hub.series`, :mod:`archive.hub.times`
and :mod:`archive.hub.recordings`: every check (time zones, times that do not exist or happen
twice, durations, join links, posters, series, attaching) is made there, and a refused value
becomes the CLI's one ``error:`` line with nothing written.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from archive.catalog.access import Viewer
from archive.catalog.commands import item_document
from archive.catalog.models import LANGUAGES, VISIBILITIES
from archive.core.clikit import Context, Progress, emit_json, json_option, pass_ctx, role_option
from archive.hub import feed_commands
from archive.hub.events import (
    Event,
    cancel_event,
    create_event,
    get_event,
    hold_event,
    list_events,
    postpone_event,
    start_is_past,
    update_event,
    visible_event,
)
from archive.hub.recordings import attach_recording, recording_options
from archive.hub.series import create_series, list_series, set_item_series
from archive.hub.times import format_event_time, local_to_utc
from archive.workspace.disclosure import speaker_name_warnings

__all__ = ["COMMANDS", "event_group", "series_group"]

HUB_LANGUAGES = ("yue", "zh", "en")
LIST_KEYS = ("id", "title_zh", "title_en", "start_utc", "tz", "status", "series", "item_id")

fold_option = click.option(
    "--fold",
    type=click.IntRange(0, 1),
    default=None,
    help="For a time that happens twice when the clocks go back: 0 = the first, 1 = the second.",
)

past_option = click.option(
    "--past",
    is_flag=True,
    help="The event already took place: accept a start in the past (add records it as held).",
)


def _title(zh: str, en: str) -> str:
    return " / ".join(t for t in (zh, en) if t)


def _event_line(event: Any) -> str:
    local = event.local_start.strftime("%Y-%m-%d %H:%M")
    series = f" [{event.series_id}]" if event.series_id else ""
    item = f" → item {event.item_id}" if event.item_id else ""
    return (
        f"{event.id}  {local} {event.tz:<18} {event.status:<9} {event.visibility:<7} "
        f"{_title(event.title_zh, event.title_en)}{series}{item}"
    )


def _print_event(event: Any, viewer_tz: str | None, locale: str) -> None:
    times = format_event_time(event, viewer_tz or event.tz, locale)
    click.echo(f"{event.id}  {_title(event.title_zh, event.title_en)}")
    click.echo(
        f"status: {event.status}   visibility: {event.visibility}   sequence: {event.sequence}"
    )
    click.echo(f"when: {times['organiser']} ({event.tz}), {event.duration_minutes} min")
    if viewer_tz and viewer_tz != event.tz:
        click.echo(f"      {times['viewer']} ({viewer_tz})")
    if event.previous_start_utc:
        click.echo(f"was: {times['previous_organiser']}")
    click.echo(f"where: {event.place}")
    for label, value in (
        ("series", event.series_id),
        ("speakers", ", ".join(event.speakers)),
        ("languages", ", ".join(event.languages)),
        ("join", event.join_url),
        ("poster", event.poster_path),
        ("recording", event.item_id),
    ):
        if value:
            click.echo(f"{label}: {value}")
    for text in (event.description_zh, event.description_en):
        if text:
            click.echo("")
            click.echo(text)


def _emit_event(event: Any, as_json: bool, message: str) -> None:
    if as_json:
        emit_json(event.to_dict())
    else:
        click.echo(
            f"{message} {event.id}: {_title(event.title_zh, event.title_en)} "
            f"({event.local_start:%Y-%m-%d %H:%M} {event.tz}, {event.status})"
        )


# -- archive event ----------------------------------------------------------------------------


@click.group("event")
def event_group() -> None:
    """Announce webinars and talks, postpone or cancel them, attach their recordings.

    \b
    Example:
      archive event add --title-zh "碼頭工人罷工十週年" --title-en "Dock strike, ten years on" \\
          --start "2026-07-10 20:00" --tz Europe/London --duration 90 --visibility public
      archive event list --json
    """


@event_group.command("add")
@click.option("--title-zh", default="", help="Chinese title (繁體).")
@click.option("--title-en", default="", help="English title.")
@click.option("--description-zh", default="", help="Chinese description.")
@click.option("--description-en", default="", help="English description.")
@click.option(
    "--start",
    required=True,
    metavar='"YYYY-MM-DD HH:MM"',
    help="Start, the organiser's local time.",
)
@click.option(
    "--tz",
    required=True,
    metavar="AREA/CITY",
    help="The organiser's IANA time zone (Europe/London).",
)
@fold_option
@click.option(
    "--duration", "duration", required=True, type=int, metavar="MINUTES", help="Length in minutes."
)
@click.option("--join-url", help="Join or registration link (http/https).")
@click.option("--series", "series_id", help="The id of a series (see `archive series list`).")
@click.option("--speaker", "speakers", multiple=True, help="A speaker's name (repeatable).")
@click.option(
    "--language",
    "languages",
    multiple=True,
    type=click.Choice(HUB_LANGUAGES),
    help="Spoken language (repeatable): yue (Cantonese), zh (Mandarin), en.",
)
@click.option("--place", help='"online" (default) or "City, Venue".')
@click.option("--poster", type=click.Path(dir_okay=False), help="A PNG, JPEG or WebP poster.")
@click.option(
    "--visibility",
    type=click.Choice(VISIBILITIES),
    default="staff",
    show_default=True,
    help="Who may see the event (and its join link); only public events are in feeds.",
)
@past_option
@json_option
@pass_ctx
def event_add(
    ctx: Context,
    title_zh: str,
    title_en: str,
    description_zh: str,
    description_en: str,
    start: str,
    tz: str,
    fold: int | None,
    duration: int,
    join_url: str | None,
    series_id: str | None,
    speakers: tuple[str, ...],
    languages: tuple[str, ...],
    place: str | None,
    poster: str | None,
    visibility: str,
    past: bool,
    as_json: bool,
) -> None:
    """Announce an event, once, in both languages.

    A start that is already over is refused (a typo in the year announces nothing); an event that
    did take place is recorded with --past, as held.

    \b
    Example:
      archive event add --title-zh "英國工會對談" --title-en "In conversation: UK unions" \\
          --start "2026-07-10 20:00" --tz Europe/London --duration 90 --series uk-tour \\
          --speaker "Lee Cheuk-yan" --language yue --language en \\
          --join-url https://example.org/register --visibility public --json
    """

    event = create_event(
        ctx.settings,
        ctx.catalog,
        title_zh=title_zh,
        title_en=title_en,
        description_zh=description_zh,
        description_en=description_en,
        start=start,
        tz=tz,
        fold=fold,
        duration_minutes=duration,
        join_url=join_url,
        series_id=series_id,
        speakers=speakers,
        languages=languages,
        place=place,
        poster=poster,
        visibility=visibility,
        refuse_past=not past,
        held=past and start_is_past(local_to_utc(start, tz, fold)),
    )
    _warn_withheld(ctx, event, speakers)
    _emit_event(event, as_json, "recorded past event" if past else "announced event")


def _warn_withheld(ctx: Context, event: Event, speakers: tuple[str, ...]) -> None:
    """Warn (stderr) of a speaker named as, or close to, a speaker another item withholds; the
    event's own recording's withheld speakers are labelled on the event below staff anyway."""
    for line in speaker_name_warnings(ctx.catalog, event.item_id or "", list(speakers)):
        click.echo(f"warning: {line}", err=True)


@event_group.command("list")
@click.option("--series", "series_id", help="Only this series.")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(("scheduled", "postponed", "cancelled", "held")),
    help="Only these (repeatable).",
)
@click.option("--upcoming", "when", flag_value="upcoming", help="Only events not over yet.")
@click.option("--past", "when", flag_value="past", help="Only events that are over (latest first).")
@role_option
@json_option
@pass_ctx
def event_list(
    ctx: Context,
    series_id: str | None,
    statuses: tuple[str, ...],
    when: str | None,
    role: str,
    as_json: bool,
) -> None:
    """List events in start order.

    \b
    Example:
      archive event list --upcoming --role public --json
    """

    upcoming = {"upcoming": True, "past": False}.get(when or "")
    events = list_events(
        ctx.catalog,
        viewer=Viewer(role),
        series_id=series_id,
        statuses=list(statuses) or None,
        upcoming=upcoming,
    )
    if as_json:
        emit_json([{k: e.to_dict()[k] for k in LIST_KEYS} for e in events])
        return
    if not events:
        click.echo("no events")
    for event in events:
        click.echo(_event_line(event))


@event_group.command("show")
@click.argument("event_id")
@click.option(
    "--viewer-tz", metavar="AREA/CITY", help="Also show the time in this zone (Asia/Hong_Kong)."
)
@click.option(
    "--locale", type=click.Choice(("en_GB", "zh_Hant_HK")), default="en_GB", show_default=True
)
@role_option
@json_option
@pass_ctx
def event_show(
    ctx: Context, event_id: str, viewer_tz: str | None, locale: str, role: str, as_json: bool
) -> None:
    """Show an event: times, place, links, status and its recording.

    \b
    Example:
      archive event show ev7k2m9q4x --viewer-tz Asia/Hong_Kong --locale zh_Hant_HK
    """

    event = visible_event(ctx.catalog, event_id, Viewer(role))
    if as_json:
        data = event.to_dict()
        if viewer_tz:
            data["times"] = format_event_time(event, viewer_tz, locale)
        emit_json(data)
        return
    _print_event(event, viewer_tz, locale)


@event_group.command("edit")
@click.argument("event_id")
@click.option("--title-zh", help="Chinese title.")
@click.option("--title-en", help="English title.")
@click.option("--description-zh", help="Chinese description.")
@click.option("--description-en", help="English description.")
@click.option(
    "--start", metavar='"YYYY-MM-DD HH:MM"', help="Correct the start (organiser's local time)."
)
@click.option(
    "--tz", metavar="AREA/CITY", help="Correct the time zone (alone: the same clock time there)."
)
@fold_option
@click.option("--duration", type=int, metavar="MINUTES")
@click.option("--join-url", help='Join link ("" removes it).')
@click.option("--series", "series_id", help='Series id ("" takes it out of its series).')
@click.option(
    "--speaker", "speakers", multiple=True, help="Speakers (replace the list; repeatable)."
)
@click.option(
    "--language",
    "languages",
    multiple=True,
    type=click.Choice(HUB_LANGUAGES),
    help="Spoken languages (replace the list; repeatable).",
)
@click.option("--place", help='"online" or "City, Venue".')
@click.option("--poster", type=click.Path(dir_okay=False), help="A new PNG, JPEG or WebP poster.")
@click.option("--no-poster", is_flag=True, help="Remove the poster.")
@click.option("--visibility", type=click.Choice(VISIBILITIES))
@past_option
@json_option
@pass_ctx
def event_edit(
    ctx: Context,
    event_id: str,
    title_zh: str | None,
    title_en: str | None,
    description_zh: str | None,
    description_en: str | None,
    start: str | None,
    tz: str | None,
    fold: int | None,
    duration: int | None,
    join_url: str | None,
    series_id: str | None,
    speakers: tuple[str, ...],
    languages: tuple[str, ...],
    place: str | None,
    poster: str | None,
    no_poster: bool,
    visibility: str | None,
    past: bool,
    as_json: bool,
) -> None:
    """Change an event (each change raises its calendar SEQUENCE so calendars update their copy).

    \b
    Example:
      archive event edit ev7k2m9q4x --title-en "Dock strike: ten years on" --duration 120
    """

    before = get_event(ctx.catalog, event_id)
    event = update_event(
        ctx.settings,
        ctx.catalog,
        event_id,
        start=start,
        tz=tz,
        fold=fold,
        place=place,
        poster=poster,
        remove_poster=no_poster,
        refuse_past=not past,
        title_zh=title_zh,
        title_en=title_en,
        description_zh=description_zh,
        description_en=description_en,
        duration_minutes=duration,
        join_url=join_url,
        series_id=series_id,
        speakers=list(speakers) if speakers else None,
        languages=list(languages) if languages else None,
        visibility=visibility,
    )
    changed = event.sequence != before.sequence
    _warn_withheld(ctx, event, speakers)
    _emit_event(event, as_json, "changed event" if changed else "nothing to change in event")


@event_group.command("postpone")
@click.argument("event_id")
@click.option(
    "--start",
    required=True,
    metavar='"YYYY-MM-DD HH:MM"',
    help="The new start (organiser's local time).",
)
@click.option("--tz", metavar="AREA/CITY", help="The new time zone (default: the event's).")
@fold_option
@json_option
@pass_ctx
def event_postpone(
    ctx: Context, event_id: str, start: str, tz: str | None, fold: int | None, as_json: bool
) -> None:
    """Postpone an event to a new, later time (the old time is kept and shown).

    \b
    Example:
      archive event postpone ev7k2m9q4x --start "2026-07-17 20:00"
    """

    _emit_event(
        postpone_event(ctx.catalog, event_id, start, tz=tz, fold=fold), as_json, "postponed event"
    )


@event_group.command("cancel")
@click.argument("event_id")
@json_option
@pass_ctx
def event_cancel(ctx: Context, event_id: str, as_json: bool) -> None:
    """Cancel an event (calendar feeds then mark it STATUS:CANCELLED).

    \b
    Example:
      archive event cancel ev7k2m9q4x
    """

    _emit_event(cancel_event(ctx.catalog, event_id), as_json, "cancelled event")


@event_group.command("hold")
@click.argument("event_id")
@json_option
@pass_ctx
def event_hold(ctx: Context, event_id: str, as_json: bool) -> None:
    """Record that an event took place (attaching its recording does this too).

    \b
    Example:
      archive event hold ev7k2m9q4x
    """

    _emit_event(hold_event(ctx.catalog, event_id), as_json, "held event")


@event_group.command("attach")
@click.argument("event_id")
@click.argument("source")
@click.option("--title-zh", help="Chinese title (default: the event's).")
@click.option("--title-en", help="English title (default: the event's).")
@click.option("--description-zh", help="Chinese description (default: the event's).")
@click.option("--description-en", help="English description (default: the event's).")
@click.option("--speaker", "speakers", multiple=True, help="Speakers (default: the event's).")
@click.option("--tag", "tags", multiple=True, help="A tag (repeatable).")
@click.option("--date", help="Recorded date (default: the event's date, organiser's time).")
@click.option(
    "--visibility",
    type=click.Choice(VISIBILITIES),
    default="staff",
    show_default=True,
    help="Who may hear the recording; like any ingest, nothing is public until someone says so.",
)
@click.option(
    "--language",
    type=click.Choice(LANGUAGES),
    default=None,
    help="Spoken language (default: the event's, when it has one; else auto).",
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
    help="Run now, in this process (else: queue a job for `archive worker`).",
)
@json_option
@pass_ctx
def event_attach(
    ctx: Context,
    event_id: str,
    source: str,
    title_zh: str | None,
    title_en: str | None,
    description_zh: str | None,
    description_en: str | None,
    speakers: tuple[str, ...],
    tags: tuple[str, ...],
    date: str | None,
    visibility: str,
    language: str | None,
    subtitles: str | None,
    no_transcribe: bool,
    no_translate: bool,
    wait: bool,
    as_json: bool,
) -> None:
    """Archive a file or link as an event's recording, through the normal ingest path.

    The item takes the event's titles, speakers, series, date and the webinar collection; the
    event becomes "held" and its permalink opens the recording.

    \b
    Example:
      archive event attach ev7k2m9q4x https://example.org/recording.mp4 --visibility public --wait
    """

    catalog = ctx.catalog
    event = get_event(catalog, event_id)
    options = recording_options(
        event,
        title_zh=title_zh,
        title_en=title_en,
        description_zh=description_zh,
        description_en=description_en,
        speakers=speakers,
        tags=tags,
        date=date,
        visibility=visibility,
        language=language,
        subtitles=subtitles,
        transcribe=not no_transcribe,
        translate=not no_translate,
    )
    bar = Progress(enabled=wait and sys.stderr.isatty() and not as_json)
    try:
        outcome = attach_recording(
            ctx.settings, catalog, event_id, source, options, wait=wait, progress=bar
        )
    finally:
        bar.close()
    job = outcome.job
    if as_json:
        data: dict[str, Any] = {
            "event": outcome.event.to_dict(),
            "item_id": outcome.item_id,
            "duplicate": outcome.duplicate,
            "job": job.to_dict() if job else None,
        }
        if outcome.item_id:
            data["item"] = item_document(catalog, outcome.item_id, Viewer("staff"))
        emit_json(data)
    elif outcome.item_id is None:
        click.echo(
            f"queued job {job.id if job else '?'}: run `archive worker`; the event is linked "
            "to its recording when the job is done"
        )
    else:
        what = "already archived as" if outcome.duplicate else "archived as"
        click.echo(f"event {event_id}: recording {what} item {outcome.item_id}")
    if job is not None and job.state == "failed":
        raise click.ClickException(f"transcription failed (job {job.id}): {job.error}")


# -- archive series ------------------------------------------------------------------------------


@click.group("series")
def series_group() -> None:
    """Bilingual named series of events and recordings (a talk tour, an interview series …).

    \b
    Example:
      archive series add uk-tour-2026 --title-zh "英國巡迴講座" --title-en "UK talk tour 2026"
      archive series list
    """


@series_group.command("add")
@click.argument("series_id")
@click.option("--title-zh", default="", help="Chinese title.")
@click.option("--title-en", default="", help="English title.")
@click.option("--description-zh", default="", help="Chinese description.")
@click.option("--description-en", default="", help="English description.")
@json_option
@pass_ctx
def series_add(
    ctx: Context,
    series_id: str,
    title_zh: str,
    title_en: str,
    description_zh: str,
    description_en: str,
    as_json: bool,
) -> None:
    """Create a series. SERIES_ID is a short slug used in feed addresses (uk-tour-2026).

    \b
    Example:
      archive series add diaspora-voices --title-zh "海外工會人訪談" \\
          --title-en "Diaspora trade unionists in conversation"
    """

    series = create_series(
        ctx.catalog,
        series_id,
        title_zh=title_zh,
        title_en=title_en,
        description_zh=description_zh,
        description_en=description_en,
    )
    if as_json:
        emit_json(series.to_dict())
    else:
        click.echo(f"series {series.id}: {_title(series.title_zh, series.title_en)}")


@series_group.command("list")
@json_option
@pass_ctx
def series_list(ctx: Context, as_json: bool) -> None:
    """List the series.

    \b
    Example:
      archive series list --json
    """

    rows = list_series(ctx.catalog)
    if as_json:
        emit_json([s.to_dict() for s in rows])
        return
    if not rows:
        click.echo("no series")
    for series in rows:
        click.echo(f"{series.id:<24} {_title(series.title_zh, series.title_en)}")


@series_group.command("assign")
@click.argument("item_id")
@click.argument("series_id")
@pass_ctx
def series_assign(ctx: Context, item_id: str, series_id: str) -> None:
    """Put an archived item in a series ("" takes it out).

    \b
    Example:
      archive series assign k3v9x2m4qa uk-tour-2026
    """

    item = set_item_series(ctx.catalog, item_id, series_id or None)
    click.echo(
        f"item {item.id} is in series {item.series_id}"
        if item.series_id
        else f"item {item.id} is in no series"
    )


# What the entry point ``archive.hub.commands:COMMANDS`` (group ``archive.commands``) gives the CLI.
COMMANDS = [event_group, series_group, *feed_commands.COMMANDS]
