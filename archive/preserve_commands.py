"""Preservation commands: ``backup``, ``restore``, ``fixity`` and ``mirror``."""

from __future__ import annotations

import sys
from typing import Any

import click

from .cli import Context, emit_json, pass_ctx

__all__ = ["COMMANDS", "backup_command", "fixity_command", "mirror_command", "restore_command"]

PHASES = {
    "snapshot": "catalog",
    "media": "media",
    "transcripts": "transcripts",
    "finish": "finishing",
    "check": "checking",
    "copy": "copying",
    "index": "indexing",
    "pages": "pages",
    "search": "search",
}


class Bars:
    """One terminal progress bar per phase, on stderr, only when stderr is a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar: Any = None
        self.phase = ""

    def __call__(self, phase: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        from tqdm import tqdm

        if phase != self.phase:
            self.close()
            self.phase = phase
            as_bytes = phase in ("media", "copy", "fixity")
            self.bar = tqdm(
                total=total or 1,
                desc=f"{PHASES.get(phase, phase):<12}",
                unit="B" if as_bytes else " files",
                unit_scale=as_bytes,
                unit_divisor=1024 if as_bytes else 1000,
                file=sys.stderr,
                leave=False,
            )
        if self.bar is not None:
            self.bar.total = total or 1
            self.bar.n = done
            self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _bars(as_json: bool) -> Bars:
    return Bars(enabled=sys.stderr.isatty() and not as_json)


def _size(n: int) -> str:
    from .preserve import _human_bytes

    return _human_bytes(n)


@click.command("backup")
@click.argument("dest", type=click.Path(file_okay=False))
@click.option(
    "--previous",
    "previous",
    multiple=True,
    type=click.Path(file_okay=False, exists=True),
    help="An earlier bag whose media may be hard-linked (default: the bags beside DEST).",
)
@click.option(
    "--skip-damaged",
    is_flag=True,
    help="Back up everything else when a media file is missing or damaged (listed in bag-info.txt).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_ctx
def backup_command(
    ctx: Context, dest: str, previous: tuple[str, ...], skip_damaged: bool, as_json: bool
) -> None:
    """Write a complete backup of the archive as a BagIt bag in DEST (a new folder).

    The bag holds the catalog (a consistent snapshot: the portal and workers may keep running),
    every media file, every transcript revision as JSON, the glossary and the audit log. It holds
    everything, private material included: store it encrypted. Media already in an earlier bag
    beside DEST are hard-linked, not copied again. Check a bag with `bagit.py --validate DEST`.

    \b
    Example:
      archive backup /mnt/backups/archive-2026-11-25
      restic -r /mnt/offsite backup /mnt/backups/archive-2026-11-25
    """
    from .preserve import backup

    bars = _bars(as_json)
    try:
        report = backup(
            ctx.settings,
            dest,
            previous=list(previous) if previous else None,
            skip_damaged=skip_damaged,
            progress=bars,
        )
    finally:
        bars.close()
    if as_json:
        emit_json(report.to_dict())
        return
    linked = (
        f", {report.linked_files} media files hard-linked from an earlier bag"
        if report.linked_files
        else ""
    )
    click.echo(
        f"backed up {report.items} items ({report.media_files} media files, {_size(report.payload_bytes)}) "
        f"to {report.path} in {report.seconds:.1f} s{linked}"
    )
    for line in report.skipped:
        click.echo(f"warning: left out {line}", err=True)


@click.command("restore")
@click.argument("bag", type=click.Path(file_okay=False))
@click.option(
    "--home", "target", metavar="DIR", help="The new data folder to build (must be new or empty)."
)
@click.option(
    "--check-only", is_flag=True, help="Check the bag (every checksum) and restore nothing."
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def restore_command(
    click_ctx: click.Context, bag: str, target: str | None, check_only: bool, as_json: bool
) -> None:
    """Rebuild the archive from a backup bag: catalog, media and search index, in a new data folder.

    The bag is checked first (every checksum); a bag with a changed, missing or extra file is
    refused, and the message names the file. Nothing is written until the check has passed.

    \b
    Example:
      archive restore /mnt/backups/archive-2026-11-25 --home /srv/archive-data
      archive restore /mnt/backups/archive-2026-11-25 --check-only
    """
    from .preserve import PreservationError, check_bag, restore

    if check_only:
        checked = check_bag(bag)
        if as_json:
            emit_json(
                {
                    "path": str(checked.path),
                    "valid": True,
                    "files": checked.payload_files,
                    "bytes": checked.payload_bytes,
                }
            )
        else:
            click.echo(
                f"{checked.path} is a complete, unchanged backup ({checked.payload_files} files, "
                f"{_size(checked.payload_bytes)}, catalog schema {checked.schema_version})"
            )
        return
    if target is None:
        # `archive --home DIR restore BAG` also names the new folder.
        target = click_ctx.find_root().params.get("home")
    if not target:
        raise PreservationError(
            "say where to rebuild the archive: archive restore BAG --home NEW-FOLDER"
        )
    bars = _bars(as_json)
    try:
        report = restore(bag, target, progress=bars)
    finally:
        bars.close()
    if as_json:
        emit_json(report.to_dict())
        return
    indexed = (
        f", search index rebuilt ({report.indexed_documents} documents)"
        if report.indexed_documents is not None
        else ""
    )
    click.echo(
        f"restored {report.items} items ({report.media_files} media files, {_size(report.bytes)}) into "
        f"{report.home} in {report.seconds:.1f} s{indexed}"
    )
    for line in report.missing_media:
        click.echo(f"warning: not in the bag: {line}", err=True)


@click.command("fixity")
@click.option(
    "--sample",
    type=click.IntRange(min=1),
    metavar="N",
    help="Check only the N files checked longest ago (default: every file).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_ctx
def fixity_command(ctx: Context, sample: int | None, as_json: bool) -> None:
    """Re-hash media files against the sha256 recorded at ingest; record every check.

    Exits with status 1 when any file is missing, changed or unreadable, naming each by item.
    The worker runs a full check every week; the staff pages show the last one.

    \b
    Example:
      archive fixity
      archive fixity --sample 200 --json
    """
    from .fixity import run_fixity

    bars = _bars(as_json)
    try:
        report = run_fixity(
            ctx.settings, ctx.catalog, sample, progress=lambda d, t: bars("fixity", d, t)
        )
    finally:
        bars.close()
    if as_json:
        emit_json(report.to_dict())
    else:
        scope = (
            f"{len(report.checks)} of {report.total_media}"
            if sample
            else f"all {len(report.checks)}"
        )
        click.echo(
            f"checked {scope} media files ({_size(report.bytes)}) in {report.seconds:.1f} s, run {report.run_id}"
        )
        by_item: dict[str | None, list[Any]] = {}
        for problem in report.problems:
            by_item.setdefault(problem.item_id, []).append(problem)
        for item_id, problems in sorted(by_item.items(), key=lambda kv: kv[0] or ""):
            item = ctx.catalog.find_item(item_id) if item_id else None
            title = f" ({item.title})" if item else ""
            click.echo(f"item {item_id}{title}:")
            for p in problems:
                found = f", found {p.actual_sha256}" if p.result == "changed" else ""
                click.echo(
                    f"  {p.result.upper():<10} {p.path} ({p.role}): expected {p.expected_sha256}{found}"
                )
        if report.ok:
            click.echo("every file matches its checksum")
    if not report.ok:
        counts = ", ".join(f"{n} {r}" for r, n in report.counts.items() if r != "ok" and n)
        click.echo(
            f"error: {len(report.problems)} media file(s) failed the fixity check ({counts})",
            err=True,
        )
        raise click.exceptions.Exit(1)


@click.command("mirror")
@click.argument("dest", type=click.Path(file_okay=False))
@click.option(
    "--base-url",
    metavar="URL",
    help="Where the mirror will be published (for citations and links).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_ctx
def mirror_command(ctx: Context, dest: str, base_url: str | None, as_json: bool) -> None:
    """Write the public archive as a static website in DEST, with search, for any web host,
    a mirror site or a USB stick: no server software needed.

    Only public items go in, and redacted segments are left out entirely. Running it again
    rewrites only the files that changed. Try it with: python -m http.server -d DEST

    \b
    Example:
      archive mirror /srv/www/archive-mirror --base-url https://mirror.example.org/archive
    """
    from .mirror import build_mirror

    bars = _bars(as_json)
    try:
        report = build_mirror(ctx.settings, ctx.catalog, dest, base_url=base_url, progress=bars)
    finally:
        bars.close()
    if as_json:
        emit_json(report.to_dict())
        return
    click.echo(
        f"mirror of {report.items} public items in {report.path}: {report.written} files written, "
        f"{report.unchanged} unchanged, {report.removed} removed, in {report.seconds:.1f} s"
    )


COMMANDS = [backup_command, restore_command, fixity_command, mirror_command]
