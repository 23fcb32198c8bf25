"""What every ``commands.py`` of the archive shares: the command context, JSON output, the shared
options and the terminal progress bar.

Each package defines its commands next to its code (``archive/<package>/commands.py``,
``indexer/commands.py`` …) with these pieces; the thin :mod:`archive.cli` loads them. Living at the
ground floor, this module lets a command of any package be written without importing the CLI that
loads it (that import would run back up the layers).

>>> @click.command("hello")
... @json_option
... @pass_ctx
... def hello(ctx: Context, as_json: bool) -> None:
...     emit_json({"home": str(ctx.settings.home)})
"""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from archive.core.config import ROLES, Settings, load_settings

if TYPE_CHECKING:
    from archive.catalog.db import Catalog

__all__ = [
    "EXAMPLE",
    "Context",
    "Progress",
    "actor_name",
    "actor_option",
    "default_actor",
    "emit_json",
    "json_option",
    "pass_ctx",
    "role_option",
]

# Put before an example in a command's help: "\b" keeps click from reflowing the lines after it.
EXAMPLE = "\b\nExample:\n  "


class Context:
    """What every command needs: settings and a catalog, each opened on first use.

    ``open_catalog`` is given by the command line that builds the context (the catalog lives a
    floor above this module).
    """

    def __init__(self, home: str | None, open_catalog: Callable[[Settings], Catalog]) -> None:
        self._home = home
        self._open_catalog = open_catalog
        self._settings: Settings | None = None
        self._catalog: Catalog | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self._home)
        return self._settings

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = self._open_catalog(self.settings)
        return self._catalog


pass_ctx = click.make_pass_decorator(Context)


def emit_json(data: Any) -> None:
    """Print ``data`` as indented JSON, Chinese as itself (not ``\\u`` escapes)."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def default_actor() -> str:
    """Who a change made on this terminal is recorded as: ``cli:<login name>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no login name in some containers
        return "cli:unknown"


def actor_name(actor: str | None) -> str:
    """The ``--actor`` given, else :func:`default_actor`."""
    return actor or default_actor()


actor_option = click.option(
    "--actor",
    default=None,
    metavar="NAME",
    help="Who makes the change, for the audit log (default: cli:<your login name>).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
role_option = click.option(
    "--role",
    type=click.Choice(ROLES),
    default="staff",
    show_default=True,
    help="See the archive as this role would (public, members, staff).",
)


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
