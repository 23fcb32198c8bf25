"""Staff commands: ``user``, ``visibility`` and ``audit`` here; with them the package's other
commands, which the CLI loads from this module's :data:`COMMANDS`: ``segments``, ``history`` and
``edit`` (:mod:`archive.workspace.edit_commands`), ``redact``, ``unredact``, ``redactions`` and
``item`` (:mod:`archive.workspace.redaction_commands`), ``speakers``
(:mod:`archive.workspace.speaker_commands`).

The command line is a staff tool (whoever runs it can read the catalog file anyway); changes are
attributed to ``--actor`` (default ``cli:<login name>``) in the audit log and revision history.
Passwords are read from a hidden prompt (typed twice) or, for scripts, one line on standard input
with ``--password-stdin``; there is deliberately no ``--password`` option, which would leave the
password in the shell history and in ``ps`` output.
"""

from __future__ import annotations

import sys

import click

from archive.catalog.audit import audit_log
from archive.core.clikit import Context, actor_option, emit_json, json_option, pass_ctx
from archive.core.clikit import actor_name as _actor
from archive.core.config import ROLES
from archive.core.errors import InputError
from archive.workspace import edit_commands, redaction_commands, speaker_commands
from archive.workspace.accounts import (
    add_user,
    check_username,
    get_user,
    issue_recovery_code,
    list_users,
    remove_user,
    set_password,
    set_role,
    unlock_user,
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
        emit_json({**account.to_dict(), "recovery_code": account.recovery_code})
    else:
        click.echo(f"added {account.role} account {account.username}")
        _show_recovery_code(account.recovery_code or "")


def _show_recovery_code(code: str) -> None:
    click.echo(f"recovery code: {code}")
    click.echo(
        "Give it to the person, to keep apart from the password (on paper). With the password it\n"
        "lets them log in while many machines guessing at their name keep the account locked;\n"
        "it works once. It is shown only now: `archive user recovery-code NAME` makes a new one.",
        err=True,
    )


@user_group.command("recovery-code")
@click.argument("username")
@actor_option
@pass_ctx
def user_recovery_code_command(ctx: Context, username: str, actor: str | None) -> None:
    """Issue a new one-time recovery code (the old one stops working; audited).

    With their password, the code gets a person in while a distributed attack keeps the account
    locked; after it is used, issue a new one.

    \b
    Example:
      archive user recovery-code alice
    """
    _show_recovery_code(issue_recovery_code(ctx.catalog, username, actor=_actor(actor)))


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


COMMANDS = [
    user_group,
    visibility_command,
    audit_command,
    *edit_commands.COMMANDS,
    *redaction_commands.COMMANDS,
    *speaker_commands.COMMANDS,
]
