"""The ``speakers`` command: list an item's speakers, name one, merge two.

``archive speakers ITEM`` lists (``list`` may be left out); ``name`` and ``merge`` each save one new
revision (:mod:`archive.workspace.speakers`), audited and attributed to ``--author``. Giving one
segment to another speaker is ``archive edit speaker ITEM UID NAME``
(:mod:`archive.workspace.edit_commands`), audited the same way.
"""

from __future__ import annotations

import click

from archive.catalog.access import Viewer
from archive.catalog.models import TranscriptRevision
from archive.core.clikit import Context, emit_json, json_option, pass_ctx, role_option
from archive.core.clikit import actor_name as _actor
from archive.workspace.disclosure import speaker_name_warnings
from archive.workspace.edit_commands import revision_options
from archive.workspace.speakers import merge_speakers, name_speaker, speaker_summary

__all__ = ["COMMANDS"]


def _clock(seconds: float) -> str:
    whole = int(seconds)
    h, m, s = whole // 3600, whole % 3600 // 60, seconds - whole // 60 * 60
    return f"{h}:{m:02d}:{s:05.2f}" if h else f"{m}:{s:05.2f}"


class _ListByDefault(click.Group):
    """``archive speakers ITEM`` is ``archive speakers list ITEM``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["list", *args]
        return super().parse_args(ctx, args)


@click.group("speakers", cls=_ListByDefault)
def speakers_group() -> None:
    """List an item's speakers (talk time, turns, first words), name one, merge two.

    Naming and merging each save one new revision (older ones stay citable) and go into the
    audit log. A withheld speaker stays withheld under a new name. One segment's speaker:
    `archive edit speaker ITEM UID NAME`.

    \b
    Example:
      archive speakers k3v9x2m4qa
      archive speakers name k3v9x2m4qa "Speaker 2" "Lee Cheuk-yan"
      archive speakers merge k3v9x2m4qa "Speaker 3" "Speaker 1"
    """


@speakers_group.command("list")
@click.argument("item_id")
@click.option("--rev", "revision", type=int, help="A revision (default: the latest).")
@role_option
@json_option
@pass_ctx
def speakers_list_command(
    ctx: Context, item_id: str, revision: int | None, role: str, as_json: bool
) -> None:
    """List the speakers of an item's transcript, in order of first appearance.

    Below staff (--role) a withheld speaker is shown by its label only.

    \b
    Example:
      archive speakers k3v9x2m4qa --json
      archive speakers list k3v9x2m4qa --role public
    """
    viewer = Viewer(role)
    found = speaker_summary(ctx.catalog, item_id, viewer, revision=revision)
    rows = [s.to_dict() for s in found]
    if not viewer.is_staff:
        for row in rows:
            row.pop("withheld")
    if as_json:
        emit_json({"item_id": item_id, "speakers": rows})
        return
    if not found:
        click.echo(f"{item_id}: no segment has a speaker")
    for s in found:
        turns = f"{s.turns} turn{'' if s.turns == 1 else 's'}"
        hidden = f"  [withheld as {s.withheld!r}]" if s.withheld and viewer.is_staff else ""
        click.echo(
            f"{s.name:<24} {_clock(s.talk_seconds):>10}  {turns:<9} "
            f"from {_clock(s.first_start)}  {s.first_words}{hidden}"
        )


def _report(
    ctx: Context,
    item_id: str,
    rev: TranscriptRevision,
    notices: list[str],
    named: list[str],
    as_json: bool,
) -> None:
    warnings = notices + speaker_name_warnings(ctx.catalog, item_id, named)
    for line in warnings:
        click.echo(f"warning: {line}", err=True)
    if as_json:
        emit_json(
            {
                "item_id": item_id,
                "revision": rev.revision,
                "summary": rev.summary,
                "changes": list(rev.changes),
                "warnings": warnings,
            }
        )
    else:
        click.echo(f"saved revision {rev.revision} of {item_id}: {rev.summary}")


@speakers_group.command("name")
@click.argument("item_id")
@click.argument("label")
@click.argument("name")
@revision_options
@pass_ctx
def speakers_name_command(
    ctx: Context,
    item_id: str,
    label: str,
    name: str,
    actor: str | None,
    base_revision: int | None,
    as_json: bool,
) -> None:
    """Name a speaker in every segment of the transcript (one new revision).

    \b
    Example:
      archive speakers name k3v9x2m4qa "Speaker 2" "Lee Cheuk-yan"
    """
    notices: list[str] = []
    rev = name_speaker(
        ctx.catalog, ctx.settings, item_id, label, name, actor=_actor(actor),
        base_revision=base_revision, notices=notices,
    )  # fmt: skip
    _report(ctx, item_id, rev, notices, [name], as_json)


@speakers_group.command("merge")
@click.argument("item_id")
@click.argument("source")
@click.argument("target")
@revision_options
@pass_ctx
def speakers_merge_command(
    ctx: Context,
    item_id: str,
    source: str,
    target: str,
    actor: str | None,
    base_revision: int | None,
    as_json: bool,
) -> None:
    """Give every segment of speaker SOURCE to speaker TARGET (one person heard as two).

    \b
    Example:
      archive speakers merge k3v9x2m4qa "Speaker 3" "Speaker 1"
    """
    notices: list[str] = []
    rev = merge_speakers(
        ctx.catalog, ctx.settings, item_id, source, target, actor=_actor(actor),
        base_revision=base_revision, notices=notices,
    )  # fmt: skip
    _report(ctx, item_id, rev, notices, [], as_json)


COMMANDS = [speakers_group]
