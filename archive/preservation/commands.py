"""Preservation commands: ``backup``, ``backup-key``, ``restore``, ``fixity`` and ``mirror``."""

from __future__ import annotations

import sys
from typing import Any

import click

from archive.core.clikit import Context, emit_json, json_option, pass_ctx
from archive.core.errors import PreservationError
from archive.preservation.backup import backup
from archive.preservation.bag import human_bytes
from archive.preservation.bag_checks import check_bag
from archive.preservation.bag_signing import create_signing_key, load_signing_key, signing_key_path
from archive.preservation.fixity import run_fixity
from archive.preservation.mirror import build_mirror
from archive.preservation.restore import RestorePlan, restore
from archive.preservation.restore_older import (
    checked_snapshot,
    compare,
    describe_entry,
    snapshot_of,
)

__all__ = [
    "COMMANDS",
    "backup_command",
    "backup_key_command",
    "fixity_command",
    "mirror_command",
    "restore_command",
]

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
    return human_bytes(n)


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
@click.option(
    "--signing-key",
    metavar="FILE",
    help="The key that signs the bag (default: $ARCHIVE_BACKUP_KEY, else backup-signing.key in "
    "the data folder, made on the first backup). Make an offline one with `archive backup-key`.",
)
@json_option
@pass_ctx
def backup_command(
    ctx: Context,
    dest: str,
    previous: tuple[str, ...],
    skip_damaged: bool,
    signing_key: str | None,
    as_json: bool,
) -> None:
    """Write a complete, signed backup of the archive as a BagIt bag in DEST (a new folder).

    The bag holds the catalog (a consistent snapshot: the portal and workers may keep running),
    every media file, every transcript revision as JSON, the glossary and the audit log. It holds
    everything, private material included: store it encrypted. Media already in an earlier bag
    beside DEST are hard-linked, not copied again. Check a bag with `bagit.py --validate DEST`.

    The bag is signed (Ed25519) with a key that never goes into a bag. The public key is printed
    at the end: keep it with your offsite copies, `archive restore` asks for it.

    \b
    Example:
      archive backup /mnt/backups/archive-2026-11-25
      restic -r /mnt/offsite backup /mnt/backups/archive-2026-11-25
    """

    bars = _bars(as_json)
    try:
        report = backup(
            ctx.settings,
            dest,
            previous=list(previous) if previous else None,
            skip_damaged=skip_damaged,
            signing_key=signing_key,
            progress=bars,
        )
    finally:
        bars.close()
    if report.key_created:
        click.echo(
            f"made a new signing key {report.key_path}: keep it secret and apart from the bags",
            err=True,
        )
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
    click.echo(
        f"signed with the key whose public key is {report.public_key} (fingerprint "
        f"{report.key_fingerprint}): restore needs it, keep it with your offsite copies"
    )
    for line in report.skipped:
        click.echo(f"warning: left out {line}", err=True)


@click.command("backup-key")
@click.option(
    "--signing-key",
    metavar="FILE",
    help="The key file (default: $ARCHIVE_BACKUP_KEY, else backup-signing.key in the data folder).",
)
@json_option
@pass_ctx
def backup_key_command(ctx: Context, signing_key: str | None, as_json: bool) -> None:
    """Show the public key that restore needs; make the signing key if there is none yet.

    The signing key (secret) signs every bag `archive backup` makes; `archive restore` accepts
    only bags whose signature verifies with its public key. Run this once to make a key kept
    offline (a USB key in a safe), then back up with --signing-key FILE or $ARCHIVE_BACKUP_KEY.

    \b
    Example:
      archive backup-key
      archive backup-key --signing-key /media/usb-key/archive-backup.key
    """

    path = signing_key_path(ctx.settings, signing_key)
    signer = load_signing_key(path) if path.exists() else create_signing_key(path)
    if as_json:
        emit_json(
            {
                "signing_key": str(signer.path),
                "created": signer.created,
                "public_key": signer.public.text,
                "fingerprint": signer.public.fingerprint,
            }
        )
        return
    if signer.created:
        click.echo(f"made a new signing key {signer.path}: keep it secret and apart from the bags")
    click.echo(f"public key:  {signer.public.text}")
    click.echo(f"fingerprint: {signer.public.fingerprint}")


@click.command("restore")
@click.argument("bag", type=click.Path(file_okay=False))
@click.option(
    "--home", "target", metavar="DIR", help="The new data folder to build (must be new or empty)."
)
@click.option(
    "--public-key",
    metavar="KEY",
    envvar="ARCHIVE_BACKUP_PUBLIC_KEY",
    help="The public key printed by `archive backup` (ed25519:…), or a file holding it "
    "(default: $ARCHIVE_BACKUP_PUBLIC_KEY). Required.",
)
@click.option(
    "--allow-unsigned",
    is_flag=True,
    help="Accept a bag with no signature (made before bags were signed). Every other check "
    "still runs; only for a bag you know has never been out of your hands.",
)
@click.option(
    "--against",
    "against",
    multiple=True,
    metavar="NEWER",
    type=click.Path(file_okay=False, exists=True),
    help="A newer bag or the current data folder: list every redaction, withheld speaker, "
    "visibility and account change the bag would undo, and refuse if there is any.",
)
@click.option(
    "--allow-older",
    is_flag=True,
    help="Restore a bag even though it would undo later changes (listed; recorded in the "
    "restored archive's audit log).",
)
@click.option(
    "--check-only", is_flag=True, help="Check the bag (every checksum) and restore nothing."
)
@json_option
@click.pass_context
def restore_command(
    click_ctx: click.Context,
    bag: str,
    target: str | None,
    public_key: str | None,
    allow_unsigned: bool,
    against: tuple[str, ...],
    allow_older: bool,
    check_only: bool,
    as_json: bool,
) -> None:
    """Rebuild the archive from a backup bag: catalog, media and search index, in a new data folder.

    The bag is checked first: its signature against the public key you give (printed by
    `archive backup`), every checksum, and its catalog against the schema this software makes
    (no extra triggers, views or tables; every file path inside its folder). A bag that fails any
    check is refused with the reason, and nothing is written.

    Restore always prints the moment the bag holds (its snapshot time and newest audit entry).
    An older bag, restored, brings back what was redacted, withheld or made private since: given
    --against a newer bag or the current data folder, restore lists every such change the bag
    would undo and refuses unless --allow-older. An archive is never restored over.

    \b
    Example:
      archive restore /mnt/backups/archive-2026-11-25 --home /srv/archive-data --public-key ed25519:…
      archive restore /mnt/backups/archive-2026-11-25 --home /srv/new-data --against /srv/archive-data
      archive restore /mnt/backups/archive-2026-11-25 --check-only --public-key backup-signing.pub
    """

    if check_only:
        checked = check_bag(bag, public_key=public_key, allow_unsigned=allow_unsigned)
        snap = checked_snapshot(checked)
        others = [
            snapshot_of(
                p, public_key=checked.signed_by or public_key, allow_unsigned=allow_unsigned
            )
            for p in against
        ]
        plan = RestorePlan(snap, tuple(compare(snap, others)))
        if as_json:
            emit_json(
                {
                    "path": str(checked.path),
                    "valid": True,
                    "files": checked.payload_files,
                    "bytes": checked.payload_bytes,
                    "signed_by": checked.signed_by.fingerprint if checked.signed_by else None,
                    **plan.to_dict(),
                }
            )
        else:
            _print_plan(plan)
            signed = (
                f"signed by key {checked.signed_by.fingerprint}"
                if checked.signed_by
                else "NOT SIGNED"
            )
            click.echo(
                f"{checked.path} is a complete, unchanged backup, {signed} ({checked.payload_files} "
                f"files, {_size(checked.payload_bytes)}, catalog schema {checked.schema_version})"
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
        report = restore(
            bag,
            target,
            public_key=public_key,
            allow_unsigned=allow_unsigned,
            against=against,
            allow_older=allow_older,
            on_checked=None if as_json else _print_plan,
            progress=bars,
        )
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
    if not report.signed_by:
        click.echo("warning: the bag was not signed: restored with --allow-unsigned", err=True)
    if report.plan and report.plan.older:
        click.echo(
            "warning: restored an older bag with --allow-older: the changes listed above were "
            "undone (recorded in the audit log as restore-older)",
            err=True,
        )


def _print_plan(plan: RestorePlan) -> None:
    """The moment the bag holds, and what restoring it would undo (before anything is written)."""
    newest = describe_entry(plan.bag.newest) if plan.bag.newest else "none (an empty audit log)"
    click.echo(f"bag snapshot time: {plan.bag.snapshot_at or 'unknown (not recorded in the bag)'}")
    click.echo(f"newest audit entry in the bag: {newest}")
    for comparison in plan.comparisons:
        other = comparison.newer.label
        if not comparison.undone:
            click.echo(f"compared with {other}: the bag undoes no redaction, withholding, "
                       "visibility or account change")  # fmt: skip
            continue
        click.echo(
            f"compared with {other}: the bag is older, restoring it would undo "
            f"{len(comparison.undone)} change(s):"
        )
        for entry in comparison.undone:
            click.echo(f"  - {describe_entry(entry)}")


@click.command("fixity")
@click.option(
    "--sample",
    type=click.IntRange(min=1),
    metavar="N",
    help="Check only the N files checked longest ago (default: every file).",
)
@json_option
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
@json_option
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


COMMANDS = [backup_command, backup_key_command, restore_command, fixity_command, mirror_command]
