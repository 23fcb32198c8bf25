"""Staff commands for what below-staff viewers must not learn: ``redact``, ``unredact`` and
``redactions``, and ``archive item withhold|unwithhold|set`` (withheld speakers, the source link:
:mod:`archive.workspace.disclosure`).

A redaction is a span of the recording (see :mod:`archive.workspace.visibility`). ``redact --at SECONDS``
takes the span of the latest revision's segment playing then; ``--from``/``--to`` give a span
directly. With ``--text WORDS`` (or ``--chars FIRST:STOP``) and ``--at``/``--uid`` only those words
of the segment are hidden below staff and the rest of the sentence stays
(:func:`archive.workspace.visibility.redact_words`). ``unredact`` lifts one redaction, named by its id or by a moment it covers; every
change is attributed to ``--actor`` in the audit log.
"""

from __future__ import annotations

from dataclasses import asdict

import click

from archive.catalog.models import Item
from archive.core.clikit import Context, actor_option, emit_json, json_option, pass_ctx
from archive.core.clikit import actor_name as _actor
from archive.core.errors import InputError
from archive.workspace.disclosure import (
    set_source_public,
    unwithhold_speaker,
    withheld_places,
    withhold_speaker,
)
from archive.workspace.speaker_names import Place
from archive.workspace.visibility import (
    list_redactions,
    redact,
    redact_segment,
    redact_words,
    redactions_overlapping,
    unredact,
)

__all__ = ["COMMANDS"]


@click.command("redact")
@click.argument("item_id")
@click.option(
    "--at",
    type=float,
    metavar="SECONDS",
    help="The span of the latest revision's segment playing at this moment.",
)
@click.option("--uid", metavar="UID", help="The span of this segment (see `archive segments ID`).")
@click.option("--from", "start", type=float, metavar="SECONDS", help="A span from this moment …")
@click.option("--to", "end", type=float, metavar="SECONDS", help="… to this one.")
@click.option(
    "--text", "words", metavar="WORDS",
    help="Only these words of the segment (--at or --uid), exactly as they stand in its text.",
)  # fmt: skip
@click.option(
    "--chars", metavar="FIRST:STOP",
    help="Only these characters of the segment's text (0-based, STOP excluded; see --track).",
)  # fmt: skip
@click.option(
    "--track", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
    help="The text --chars counts in.",
)  # fmt: skip
@click.option(
    "--also", multiple=True, metavar="WORDS",
    help="Another form of the same words to mask too (the English of a Chinese name); repeatable.",
)  # fmt: skip
@click.option("--reason", default="", help="Why (staff-only, in the audit log).")
@click.option(
    "--no-media",
    is_flag=True,
    help="Do not make the silenced public media now (made on first play).",
)
@actor_option
@json_option
@pass_ctx
def redact_command(
    ctx: Context,
    item_id: str,
    at: float | None,
    uid: str | None,
    start: float | None,
    end: float | None,
    words: str | None,
    chars: str | None,
    track: str,
    also: tuple[str, ...],
    reason: str,
    no_media: bool,
    actor: str | None,
    as_json: bool,
) -> None:
    """Hide a span of a recording from everyone below staff: what every revision says in it
    (old ones and later ones, both tracks, search, exports, feeds and citations), and its sound.

    \b
    Example:
      archive redact k3v9x2m4qa --at 754 --reason "names a worker's relative"
      archive redact k3v9x2m4qa --from 754.2 --to 761.5 --reason "names a worker's relative"
      archive redact k3v9x2m4qa --at 754 --text "陳大文" --also "Chan Tai-man" --reason "a name"
      archive redact k3v9x2m4qa --uid 3f9a0c1b2d4e --chars 4:7 --reason "a name"
    """

    explicit = start is not None or end is not None
    if sum((at is not None, uid is not None, explicit)) != 1:
        raise InputError("give the span as --at SECONDS, --uid UID or --from SECONDS --to SECONDS")
    common = {"actor": _actor(actor), "reason": reason, "rebuild_media": not no_media}
    if words is not None or chars is not None or also:
        if explicit:
            raise InputError(
                "words are redacted in one segment: give --at or --uid, not --from/--to"
            )
        made = redact_words(
            ctx.catalog, ctx.settings, item_id, at=at, uid=uid, text=words,
            chars=_char_range(chars) if chars is not None else None, track=track, also=also,
            **common,
        )  # fmt: skip
    elif explicit:
        if start is None or end is None:
            raise InputError("an explicit span needs both --from and --to")
        made = redact(ctx.catalog, ctx.settings, item_id, start=start, end=end, **common)
    else:
        made = redact_segment(ctx.catalog, ctx.settings, item_id, at=at, uid=uid, **common)
    if as_json:
        emit_json(made.to_dict())
    else:
        click.echo(f"redacted {made.label} of {item_id} (redaction {made.id})")


def _char_range(text: str) -> tuple[int, int]:
    first, sep, stop = text.partition(":")
    try:
        if not sep:
            raise ValueError
        return int(first), int(stop)
    except ValueError as exc:
        raise InputError(
            f"--chars is FIRST:STOP (two whole numbers, as 4:7), not {text!r}"
        ) from exc


@click.command("unredact")
@click.argument("item_id")
@click.option("--at", type=float, metavar="SECONDS", help="The redaction covering this moment.")
@click.option("--id", "redaction_id", type=int, metavar="N", help="The redaction with this id.")
@click.option("--no-media", is_flag=True, help="Do not rebuild the public media now.")
@actor_option
@json_option
@pass_ctx
def unredact_command(
    ctx: Context,
    item_id: str,
    at: float | None,
    redaction_id: int | None,
    no_media: bool,
    actor: str | None,
    as_json: bool,
) -> None:
    """Lift a redaction: what only it hid shows again to everyone who may see the item.

    With --at, exactly one redaction must cover that moment (`archive redactions ID` lists
    them with their ids). The lifting goes into the audit log.

    \b
    Example:
      archive unredact k3v9x2m4qa --at 754
      archive unredact k3v9x2m4qa --id 3
    """

    if (at is None) == (redaction_id is None):
        raise InputError("say which redaction: --at SECONDS or --id N")
    if at is not None:
        ctx.catalog.get_item(item_id)
        found = redactions_overlapping(ctx.catalog, item_id, at)
        if not found:
            raise InputError(f"nothing of item {item_id} is redacted at {at:g} s")
        if len(found) > 1:
            listed = ", ".join(f"{r.id} ({r.label})" for r in found)
            raise InputError(
                f"{len(found)} redactions cover {at:g} s: {listed}; choose one with --id"
            )
        redaction_id = found[0].id
    assert redaction_id is not None
    lifted = unredact(
        ctx.catalog,
        ctx.settings,
        item_id,
        redaction_id,
        actor=_actor(actor),
        rebuild_media=not no_media,
    )
    if as_json:
        emit_json(lifted.to_dict())
    else:
        click.echo(f"lifted redaction {lifted.id} ({lifted.label}) of {item_id}")


@click.command("redactions")
@click.argument("item_id")
@json_option
@pass_ctx
def redactions_command(ctx: Context, item_id: str, as_json: bool) -> None:
    """List an item's redactions: id, span, who made it, when and why (staff view).

    \b
    Example:
      archive redactions k3v9x2m4qa --json
    """

    ctx.catalog.get_item(item_id)
    found = list_redactions(ctx.catalog, item_id)
    if as_json:
        emit_json([r.to_dict() for r in found])
        return
    if not found:
        click.echo(f"nothing of {item_id} is redacted")
    for r in found:
        why = f"  {r.reason}" if r.reason else ""
        what = f"  words: {' / '.join(r.texts)}" if r.texts else ""
        click.echo(f"{r.id:>5}  {r.label:<22} {r.created_by:<16} {r.created_at}{why}{what}")


# -- what an item discloses: withheld speakers, the source link ----------------------------------
def _report(item: Item, as_json: bool, places: list[Place] | None = None) -> None:
    if as_json:
        data: dict[str, object] = {
            "id": item.id,
            "source_public": item.source_public,
            "withheld_speakers": [{"name": n, "label": lb} for n, lb in item.withheld_speakers],
        }
        if places is not None:
            data["named_elsewhere"] = [{**asdict(p), "text": p.describe()} for p in places]
        emit_json(data)
        return
    click.echo(f"source link shown below staff: {'yes' if item.source_public else 'no'}")
    for name, label in item.withheld_speakers:
        click.echo(f"withheld: {name} -> {label}")
    # Where else the name stands: free text and other records withholding does not rewrite.
    for place in places or ():
        click.echo(f"warning: the name also stands in {place.describe()}", err=True)


@click.group("item")
def item_group() -> None:
    """What an item reveals below staff: withheld speakers, its source link (staff; audited).

    \b
    Example:
      archive item withhold k3v9x2m4qa "Chan Tai-man" --label "Interviewee A"
      archive item set k3v9x2m4qa --source-public yes
    """


@item_group.command("withhold")
@click.argument("item_id")
@click.argument("name")
@click.option(
    "--label", required=True, help='What viewers below staff read instead ("Interviewee A").'
)
@actor_option
@json_option
@pass_ctx
def withhold_command(
    ctx: Context, item_id: str, name: str, label: str, actor: str | None, as_json: bool
) -> None:
    """Show a label instead of a speaker's name to everyone below staff, everywhere.

    Every spelling of the name counts (case, spaces, punctuation, Traditional or Simplified), and
    the event the item is the recording of lists the label too. Places withholding cannot rewrite
    (titles, descriptions, transcript text, other items and events) are listed as warnings.

    \b
    Example:
      archive item withhold k3v9x2m4qa "Chan Tai-man" --label "Interviewee A"
    """
    item = withhold_speaker(ctx.catalog, ctx.settings, item_id, name, label, actor=_actor(actor))
    _report(item, as_json, withheld_places(ctx.catalog, item_id, name))


@item_group.command("unwithhold")
@click.argument("item_id")
@click.argument("name")
@actor_option
@json_option
@pass_ctx
def unwithhold_command(
    ctx: Context, item_id: str, name: str, actor: str | None, as_json: bool
) -> None:
    """Name a withheld speaker again below staff.

    \b
    Example:
      archive item unwithhold k3v9x2m4qa "Chan Tai-man"
    """
    item = unwithhold_speaker(ctx.catalog, ctx.settings, item_id, name, actor=_actor(actor))
    _report(item, as_json)


@item_group.command("set")
@click.argument("item_id")
@click.option(
    "--source-public", type=click.Choice(["yes", "no"]), default=None,
    help="yes: viewers below staff see the source link (cleaned of credentials and secret "
    "parameters); no (the default for every item): staff only.",
)  # fmt: skip
@actor_option
@json_option
@pass_ctx
def set_command(
    ctx: Context, item_id: str, source_public: str | None, actor: str | None, as_json: bool
) -> None:
    """Change what an item reveals below staff.

    \b
    Example:
      archive item set k3v9x2m4qa --source-public yes
    """
    if source_public is None:
        item = ctx.catalog.get_item(item_id)
    else:
        item = set_source_public(ctx.catalog, item_id, source_public == "yes", actor=_actor(actor))
    _report(item, as_json)


COMMANDS = [redact_command, unredact_command, redactions_command, item_group]
