"""The ``archive`` command line: a thin layer over the library.

Errors are translated here, once: an :class:`ArchiveError` becomes one line on stderr starting with
``error:`` and a non-zero exit; anything unexpected becomes ``error: internal error …`` with the
details written to ``<home>/logs/errors.log``, never a traceback on the terminal.

Every command is defined next to the code it drives, in its package's ``commands.py``
(``archive/ingest/commands.py``, ``indexer/commands.py`` …), with the shared pieces of
:mod:`archive.core.clikit`, and declared in the entry point group ``archive.commands``
(:mod:`archive.core.plugins`); this module loads them and knows none by name.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

import click

from archive.catalog.db import Catalog
from archive.core.clikit import Context
from archive.core.config import load_settings
from archive.core.errors import ArchiveError
from archive.core.filemodes import private_dir, private_opener
from archive.core.plugins import declared

__all__ = ["cli", "main"]


class PluggedGroup(click.Group):
    """A group that loads the commands of other modules on first use (no import cycles)."""

    _plugged = False

    def _ensure(self) -> None:
        if not PluggedGroup._plugged:
            PluggedGroup._plugged = True
            _plug_commands()

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._ensure()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._ensure()
        return super().get_command(ctx, cmd_name)


@click.group(
    cls=PluggedGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--home",
    envvar="ARCHIVE_HOME",
    default=None,
    metavar="DIR",
    help="The data folder (default: $ARCHIVE_HOME or ./data).",
)
@click.version_option(package_name="hk-labour-archive", prog_name="archive")
@click.pass_context
def cli(ctx: click.Context, home: str | None) -> None:
    """A bilingual (繁體中文 / English) archive of talks, interviews and strike-anniversary material.

    \b
    Example:
      archive ingest talk.mp4 --title-en "Dock strike, ten years on" --collection webinar --wait
      archive search 碼頭工人罷工
    """
    ctx.obj = Context(home, Catalog.open)
    global _HOME_GIVEN
    _HOME_GIVEN = home


def _plug_commands() -> None:
    for commands in declared("archive.commands").values():
        for command in commands:
            cli.add_command(command)


_HOME_GIVEN: str | None = None


def _log_internal_error(exc: BaseException) -> Path | None:
    try:
        settings = load_settings(_HOME_GIVEN)
        log_dir = private_dir(settings.home / "logs")
        path = log_dir / "errors.log"
        with open(path, "a", encoding="utf-8", opener=private_opener) as fh:
            fh.write("".join(traceback.format_exception(exc)))
        return path
    except Exception:
        return None


def main(argv: list[str] | None = None) -> int:
    try:
        outcome = cli.main(args=argv, prog_name="archive", standalone_mode=False)
    except ArchiveError as exc:
        click.echo(f"error: {exc}", err=True)
        return 1
    except click.exceptions.Abort:
        click.echo("error: interrupted", err=True)
        return 130
    except click.ClickException as exc:
        click.echo(f"error: {exc.format_message()}", err=True)
        return exc.exit_code or 2
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("error: interrupted", err=True)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # the last line of defence: never a traceback to a user
        where = _log_internal_error(exc)
        detail = f" (details in {where})" if where else ""
        click.echo(f"error: internal error: {type(exc).__name__}: {exc}{detail}", err=True)
        return 70
    return outcome if isinstance(outcome, int) else 0


def run() -> None:
    sys.exit(main())
