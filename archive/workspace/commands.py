"""Staff commands: ``user``, ``visibility``, ``audit``, ``edit``, ``segments`` and ``history``
(``redact``, ``unredact`` and ``redactions`` are in :mod:`archive.workspace.redaction_commands`).

The command line is a staff tool (whoever runs it can read the catalog file anyway); changes are
attributed to ``--actor`` (default ``cli:<login name>``) in the audit log and revision history.
Passwords are read from a hidden prompt (typed twice) or, for scripts, one line on standard input
with ``--password-stdin``; there is deliberately no ``--password`` option, which would leave the
password in the shell history and in ``ps`` output.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from archive.catalog.access import Viewer
from archive.catalog.audit import audit_log
from archive.core.clikit import Context, actor_option, emit_json, json_option, pass_ctx
from archive.core.clikit import actor_name as _actor
from archive.core.config import ROLES
from archive.core.errors import InputError
from archive.workspace.accounts import (
    add_user,
    check_username,
    get_user,
    list_users,
    remove_user,
    set_password,
    set_role,
    unlock_user,
)
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
from archive.workspace.visibility import describe_visibility, set_visibility

__all__ = ["COMMANDS"]


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        line = sys.stdin.readline()
        return line[:-1] if line.endswith("\n") else line
    if not sys.stdin.isatty():
        raise InputError("no terminal to type the password on: pipe it in with --password-stdin")
    return str(
        click.prompt(
            "Password (at least 10 characters)",
            hide_input=True,
            confirmation_prompt="Repeat the password",
            err=True,
        )
    )


# -- user ---------------------------------------------------------------------------------------
@click.group("user")
def user_group() -> None:
    """Manage the accounts of staff and members (the public needs no account).

    \b
    Example:
      archive user add alice --role staff
      archive user list
    """


@user_group.command("add")
@click.argument("username")
@click.option(
    "--role",
    type=click.Choice(["members", "staff"]),
    required=True,
    help="members: read members-only items; staff: everything, and edit.",
)
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input (one line)."
)
@actor_option
@json_option
@pass_ctx
def user_add_command(
    ctx: Context, username: str, role: str, password_stdin: bool, actor: str | None, as_json: bool
) -> None:
    """Create an account; asks for its password twice, without showing it.

    \b
    Example:
      archive user add alice --role staff
      printf '%s\\n' "$PASSWORD" | archive user add bob --role members --password-stdin
    """

    check_username(username)  # before asking for a password
    account = add_user(
        ctx.catalog, username, role, _read_password(password_stdin), actor=_actor(actor)
    )
    if as_json:
        emit_json(account.to_dict())
    else:
        click.echo(f"added {account.role} account {account.username}")


@user_group.command("remove")
@click.argument("username")
@actor_option
@pass_ctx
def user_remove_command(ctx: Context, username: str, actor: str | None) -> None:
    """Delete an account; its portal sessions end at their next request.

    \b
    Example:
      archive user remove bob
    """

    remove_user(ctx.catalog, username, actor=_actor(actor))
    click.echo(f"removed {username.strip().lower()}")


@user_group.command("passwd")
@click.argument("username")
@click.option(
    "--password-stdin", is_flag=True, help="Read the new password from standard input (one line)."
)
@actor_option
@pass_ctx
def user_passwd_command(
    ctx: Context, username: str, password_stdin: bool, actor: str | None
) -> None:
    """Set a new password (ends the account's portal sessions and clears a lock-out).

    \b
    Example:
      archive user passwd alice
    """

    account = get_user(ctx.catalog, username)  # before asking for a password
    set_password(ctx.catalog, account.username, _read_password(password_stdin), actor=_actor(actor))
    click.echo(f"password of {account.username} changed")


@user_group.command("role")
@click.argument("username")
@click.argument("role", type=click.Choice(["members", "staff"]))
@actor_option
@pass_ctx
def user_role_command(ctx: Context, username: str, role: str, actor: str | None) -> None:
    """Change an account's role (its open sessions end).

    \b
    Example:
      archive user role bob staff
    """

    account = set_role(ctx.catalog, username, role, actor=_actor(actor))
    click.echo(f"{account.username} is now {account.role}")


@user_group.command("unlock")
@click.argument("username")
@actor_option
@pass_ctx
def user_unlock_command(ctx: Context, username: str, actor: str | None) -> None:
    """Lift a lock-out after too many failed log-ins.

    \b
    Example:
      archive user unlock alice
    """

    account = unlock_user(ctx.catalog, username, actor=_actor(actor))
    click.echo(f"{account.username} can log in again")


@user_group.command("list")
@json_option
@pass_ctx
def user_list_command(ctx: Context, as_json: bool) -> None:
    """List the accounts with their role, last log-in and any lock-out.

    \b
    Example:
      archive user list --json
    """

    users = list_users(ctx.catalog)
    if as_json:
        emit_json([u.to_dict() for u in users])
        return
    if not users:
        click.echo("no accounts")
    for u in users:
        locked = f"  locked until {u.locked_until}" if u.locked_until else ""
        click.echo(f"{u.username:<24} {u.role:<8} last log-in {u.last_login_at or 'never'}{locked}")


# -- visibility, redaction, audit ---------------------------------------------------------------
@click.command("visibility")
@click.argument("item_id")
@click.argument("level", type=click.Choice(ROLES))
@click.option(
    "--embargo-until", metavar="YYYY-MM-DD", help="Keep LEVEL until this date (UTC), then open up."
)
@click.option(
    "--then", "then", type=click.Choice(ROLES), help="The level from the embargo date on."
)
@actor_option
@json_option
@pass_ctx
def visibility_command(
    ctx: Context,
    item_id: str,
    level: str,
    embargo_until: str | None,
    then: str | None,
    actor: str | None,
    as_json: bool,
) -> None:
    """Set who may see an item: public, members or staff, optionally with an embargo.

    Without --embargo-until any earlier embargo is cleared. Every change goes to the audit log.

    \b
    Example:
      archive visibility k3v9x2m4qa members
      archive visibility k3v9x2m4qa staff --embargo-until 2030-06-04 --then public
    """

    item = set_visibility(
        ctx.catalog,
        ctx.settings,
        item_id,
        level,
        actor=_actor(actor),
        embargo_until=embargo_until,
        embargo_visibility=then,
    )
    if as_json:
        emit_json(
            {
                "id": item.id,
                "visibility": item.visibility,
                "embargo_until": item.embargo_until,
                "embargo_visibility": item.embargo_visibility,
                "effective_visibility": item.effective_visibility(),
            }
        )
    else:
        click.echo(
            f"{item.id}: {describe_visibility(item.visibility, item.embargo_until, item.embargo_visibility)}"
        )


@click.command("audit")
@click.argument("item_id", required=False)
@click.option(
    "--limit", type=int, default=50, show_default=True, help="At most this many entries (0: all)."
)
@json_option
@pass_ctx
def audit_command(ctx: Context, item_id: str | None, limit: int, as_json: bool) -> None:
    """Show the audit log (visibility, redactions, accounts), newest first.

    \b
    Example:
      archive audit k3v9x2m4qa --json
    """

    entries = audit_log(ctx.catalog, item_id, limit=limit or None)
    if as_json:
        emit_json([e.to_dict() for e in entries])
        return
    if not entries:
        click.echo("no audit entries")
    for e in entries:
        what = " ".join(p for p in (e.item_id or "", e.target) if p)
        change = f"{e.old_value or '-'} -> {e.new_value or '-'}"
        click.echo(f"{e.at}  {e.actor:<16} {e.action:<14} {what:<28} {change}")


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


def _edit_options(fn: Any) -> Any:
    fn = click.option("--summary", help="A note for the revision history.")(fn)
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
        help="Who makes the edit (default: cli:<your login name>).",
    )(fn)
    return json_option(fn)


def _save(
    ctx: Context,
    item_id: str,
    edits: list[Any],
    actor: str | None,
    base_revision: int | None,
    summary: str | None,
    as_json: bool,
) -> None:
    base = (
        base_revision if base_revision is not None else ctx.catalog.latest_revision_number(item_id)
    )
    if base is None:
        ctx.catalog.get_item(item_id)
        raise InputError(f"item {item_id} has no transcript to edit")
    rev = apply_edits(
        ctx.catalog,
        ctx.settings,
        item_id,
        edits,
        author=_actor(actor),
        base_revision=base,
        summary=summary,
    )
    if as_json:
        emit_json(
            {
                "item_id": item_id,
                "revision": rev.revision,
                "summary": rev.summary,
                "changes": list(rev.changes),
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
    """Set the speaker of one segment ("" clears it).

    \b
    Example:
      archive edit speaker k3v9x2m4qa 3fa2c81b9d0e "Lee Cheuk-yan"
    """

    _save(ctx, item_id, [SetSpeaker(uid, speaker)], actor, base_revision, summary, as_json)


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


COMMANDS = [
    user_group,
    visibility_command,
    audit_command,
    segments_command,
    history_command,
    edit_group,
]
