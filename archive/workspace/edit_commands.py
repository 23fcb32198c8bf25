"""Staff commands over transcripts: ``segments``, ``history`` and the ``edit`` group.

Each ``edit`` command saves one new revision (nothing is overwritten: researchers' citations pin a
revision), attributed to ``--actor`` (default ``cli:<login name>``) in the revision history.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from archive.catalog.access import Viewer
from archive.catalog.models import TranscriptRevision
from archive.core.clikit import Context, emit_json, json_option, pass_ctx
from archive.core.clikit import actor_name as _actor
from archive.core.errors import InputError
from archive.workspace.disclosure import speaker_name_warnings
from archive.workspace.editing import (
    EditText,
    MarkReviewed,
    Merge,
    RenameSpeaker,
    ReplaceText,
    SetSpeaker,
    Split,
    apply_edits,
    revision_history,
)
from archive.workspace.speakers import reassign_segment_speaker

__all__ = ["COMMANDS"]


# -- transcript editing -------------------------------------------------------------------------
@click.command("segments")
@click.argument("item_id")
@click.option("--rev", "revision", type=int, help="A revision (default: the latest).")
@json_option
@pass_ctx
def segments_command(ctx: Context, item_id: str, revision: int | None, as_json: bool) -> None:
    """List a transcript's segments with their ids, speaker, review and redaction marks (staff view).

    \b
    Example:
      archive segments k3v9x2m4qa
    """
    rev = ctx.catalog.get_revision(item_id, revision)
    rows = [
        {
            "uid": s.uid,
            "start": round(s.start, 3),
            "end": round(s.end, 3),
            "speaker": s.speaker,
            "reviewed": s.reviewed,
            "redacted": s.redacted,
            "text_zh": s.text_zh,
            "text_en": s.text_en,
        }
        for s in rev.segments
    ]
    if as_json:
        emit_json({"item_id": item_id, "revision": rev.revision, "segments": rows})
        return
    click.echo(f"{item_id} revision {rev.revision}")
    for r in rows:
        marks = ("R" if r["reviewed"] else "-") + ("X" if r["redacted"] else "-")
        text = " / ".join(t for t in (r["text_zh"], r["text_en"]) if t)
        click.echo(
            f"{r['uid']}  {r['start']:>9.2f}-{r['end']:<9.2f} {marks} {r['speaker'] or '':<12} {text}"
        )


@click.command("history")
@click.argument("item_id")
@json_option
@pass_ctx
def history_command(ctx: Context, item_id: str, as_json: bool) -> None:
    """List the revisions of an item's transcript: who saved what, when.

    \b
    Example:
      archive history k3v9x2m4qa --json
    """

    entries = revision_history(ctx.catalog, item_id, Viewer("staff"))
    if as_json:
        emit_json([e.to_dict() for e in entries])
        return
    for e in entries:
        click.echo(
            f"r{e.revision:<4} {e.created_at}  {e.origin:<10} {e.author or '':<16} {e.summary}"
        )


@click.group("edit")
def edit_group() -> None:
    """Correct a transcript; each command saves one new revision (old ones stay citable).

    Segments are named by their id: see `archive segments ID`.

    \b
    Example:
      archive edit text k3v9x2m4qa 3fa2c81b9d0e --zh "李卓人：我哋今日……"
      archive edit rename-speaker k3v9x2m4qa "SPEAKER 1" "Lee Cheuk-yan"
    """


def revision_options(fn: Any) -> Any:
    """The options of every command that makes a transcript revision: ``--base-revision``,
    ``--author`` and ``--json`` (also the speaker commands')."""
    fn = click.option(
        "--base-revision",
        type=int,
        help="Refuse if the transcript is no longer at this revision (default: latest).",
    )(fn)
    fn = click.option(
        "--author",
        "actor",
        default=None,
        metavar="NAME",
        help="Who makes the change (default: cli:<your login name>).",
    )(fn)
    return json_option(fn)


def _edit_options(fn: Any) -> Any:
    fn = click.option("--summary", help="A note for the revision history.")(fn)
    return revision_options(fn)


def _save(
    ctx: Context,
    item_id: str,
    edits: list[Any],
    actor: str | None,
    base_revision: int | None,
    summary: str | None,
    as_json: bool,
    run: Callable[[int, list[str]], TranscriptRevision] | None = None,
) -> None:
    """Save ``edits`` (or what ``run`` saves, given the base revision and the notices list) and
    say what was saved."""
    base = (
        base_revision if base_revision is not None else ctx.catalog.latest_revision_number(item_id)
    )
    if base is None:
        ctx.catalog.get_item(item_id)
        raise InputError(f"item {item_id} has no transcript to edit")
    notices: list[str] = []
    if run is not None:
        rev = run(base, notices)
    else:
        rev = apply_edits(
            ctx.catalog,
            ctx.settings,
            item_id,
            edits,
            author=_actor(actor),
            base_revision=base,
            summary=summary,
            notices=notices,
        )
    # A new speaker name near a withheld one: this item's are withheld by the save itself,
    # another item's staff must judge (warnings on stderr, so --json stays one document).
    named = [e.speaker for e in edits if isinstance(e, SetSpeaker)]
    named += [e.new for e in edits if isinstance(e, RenameSpeaker)]
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
    elif rev.revision == base:
        click.echo("nothing changed")
    else:
        click.echo(f"saved revision {rev.revision} of {item_id}: {rev.summary}")


@edit_group.command("text")
@click.argument("item_id")
@click.argument("uid")
@click.option("--zh", help="The new Chinese text (kept exactly as typed).")
@click.option("--en", help="The new English text.")
@_edit_options
@pass_ctx
def edit_text_command(
    ctx: Context,
    item_id: str,
    uid: str,
    zh: str | None,
    en: str | None,
    actor: str | None,
    base_revision: int | None,
    summary: str | None,
    as_json: bool,
) -> None:
    """Replace a segment's Chinese and/or English text.

    \b
    Example:
      archive edit text k3v9x2m4qa 3fa2c81b9d0e --zh "李卓人" --en "Lee Cheuk-yan"
    """

    _save(
        ctx,
        item_id,
        [EditText(uid, text_zh=zh, text_en=en)],
        actor,
        base_revision,
        summary,
        as_json,
    )


@edit_group.command("split")
@click.argument("item_id")
@click.argument("uid")
@click.option(
    "--at", type=float, required=True, metavar="SECONDS", help="Where to cut, inside the segment."
)
@click.option("--zh-at", type=int, metavar="N", help="Cut the Chinese text after N characters.")
@click.option("--en-at", type=int, metavar="N", help="Cut the English text after N characters.")
@_edit_options
@pass_ctx
def edit_split_command(
    ctx: Context,
    item_id: str,
    uid: str,
    at: float,
    zh_at: int | None,
    en_at: int | None,
    actor: str | None,
    base_revision: int | None,
    summary: str | None,
    as_json: bool,
) -> None:
    """Cut a segment in two at a time (the second half gets a new id).

    \b
    Example:
      archive edit split k3v9x2m4qa 3fa2c81b9d0e --at 12.5 --zh-at 8
    """

    _save(
        ctx,
        item_id,
        [Split(uid, at, zh_at=zh_at, en_at=en_at)],
        actor,
        base_revision,
        summary,
        as_json,
    )


@edit_group.command("merge")
@click.argument("item_id")
@click.argument("uid_first")
@click.argument("uid_second")
@_edit_options
@pass_ctx
def edit_merge_command(
    ctx: Context,
    item_id: str,
    uid_first: str,
    uid_second: str,
    actor: str | None,
    base_revision: int | None,
    summary: str | None,
    as_json: bool,
) -> None:
    """Join a segment with the one right after it.

    \b
    Example:
      archive edit merge k3v9x2m4qa 3fa2c81b9d0e 77b01c2d4e5f
    """

    _save(ctx, item_id, [Merge(uid_first, uid_second)], actor, base_revision, summary, as_json)


@edit_group.command("speaker")
@click.argument("item_id")
@click.argument("uid")
@click.argument("speaker")
@_edit_options
@pass_ctx
def edit_speaker_command(
    ctx: Context,
    item_id: str,
    uid: str,
    speaker: str,
    actor: str | None,
    base_revision: int | None,
    summary: str | None,
    as_json: bool,
) -> None:
    """Give one segment to a speaker ("" clears it): a label or name the transcript has, in any
    spelling, or a new one. Audited; see `archive speakers ITEM` for the speakers.

    \b
    Example:
      archive edit speaker k3v9x2m4qa 3fa2c81b9d0e "Lee Cheuk-yan"
    """

    _save(
        ctx, item_id, [SetSpeaker(uid, speaker)], actor, base_revision, summary, as_json,
        run=lambda base, notices: reassign_segment_speaker(
            ctx.catalog, ctx.settings, item_id, uid, speaker, actor=_actor(actor),
            base_revision=base, notices=notices,
        ),
    )  # fmt: skip


@edit_group.command("rename-speaker")
@click.argument("item_id")
@click.argument("old")
@click.argument("new")
@_edit_options
@pass_ctx
def edit_rename_speaker_command(
    ctx: Context,
    item_id: str,
    old: str,
    new: str,
    actor: str | None,
    base_revision: int | None,
    summary: str | None,
    as_json: bool,
) -> None:
    """Rename a speaker in every segment.

    \b
    Example:
      archive edit rename-speaker k3v9x2m4qa "SPEAKER 1" "Lee Cheuk-yan"
    """

    _save(ctx, item_id, [RenameSpeaker(old, new)], actor, base_revision, summary, as_json)


@edit_group.command("replace")
@click.argument("item_id")
@click.argument("old")
@click.argument("new")
@click.option("--track", type=click.Choice(["zh", "en"]), help="Only this track (default: both).")
@_edit_options
@pass_ctx
def edit_replace_command(
    ctx: Context,
    item_id: str,
    old: str,
    new: str,
    track: str | None,
    actor: str | None,
    base_revision: int | None,
    summary: str | None,
    as_json: bool,
) -> None:
    """Replace a misheard word or name everywhere in the transcript.

    \b
    Example:
      archive edit replace k3v9x2m4qa "李卓仁" "李卓人" --track zh
    """

    _save(ctx, item_id, [ReplaceText(old, new, track)], actor, base_revision, summary, as_json)


@edit_group.command("review")
@click.argument("item_id")
@click.argument("uids", nargs=-1, required=True)
@click.option("--undo", is_flag=True, help="Mark as not reviewed.")
@_edit_options
@pass_ctx
def edit_review_command(
    ctx: Context,
    item_id: str,
    uids: tuple[str, ...],
    undo: bool,
    actor: str | None,
    base_revision: int | None,
    summary: str | None,
    as_json: bool,
) -> None:
    """Mark segments as reviewed by a person (or not, with --undo).

    \b
    Example:
      archive edit review k3v9x2m4qa 3fa2c81b9d0e 77b01c2d4e5f
    """

    _save(
        ctx,
        item_id,
        [MarkReviewed(u, not undo) for u in uids],
        actor,
        base_revision,
        summary,
        as_json,
    )


COMMANDS = [segments_command, history_command, edit_group]
