"""``archive demo``: build the demo archive when the data folder is empty."""

from __future__ import annotations

from pathlib import Path

import click

from archive.core.clikit import Context, pass_ctx
from archive.demo.build import build_demo

__all__ = ["COMMANDS"]


@click.command("demo")
@click.option(
    "--fixtures",
    type=click.Path(file_okay=False),
    help="Folder of fixtures (default: ../shared/fixtures).",
)
@click.option("--force", is_flag=True, help="Build even if the archive already has items.")
@pass_ctx
def demo_command(ctx: Context, fixtures: str | None, force: bool) -> None:
    """Build a small demo archive from the shared fixtures when the data folder is empty.

    Real speech transcribed by the real model, plus items made from subtitle fixtures; every demo
    item is labelled as demo content.

    \b
    Example:
      archive --home demo-data demo
    """

    built = build_demo(
        ctx.settings,
        ctx.catalog,
        fixtures=Path(fixtures) if fixtures else None,
        force=force,
        echo=lambda m: click.echo(m, err=True),
    )
    click.echo(
        f"demo archive: {len(built)} new items"
        if built
        else "the archive already has items: nothing to do"
    )


COMMANDS = [demo_command]
