"""Preservation benchmark: backup, incremental backup, restore, fixity and the static mirror, on a
synthetic archive, with `tar` and `sha256sum` of the same data in the same run for comparison.

    python bench/preserve.py [--items 1000] [--gb 2.0] [--segments 20] [--workdir DIR] [--keep] [--json]

The archive is built through the real catalog API: ``--items`` public items, each with an
"original" media file of random bytes (together ``--gb`` gigabytes; the preservation code copies
and hashes bytes and never decodes them, so random bytes are as good as recordings and far
quicker to make), a small audio derivative (the file the mirror publishes) and a bilingual
transcript of ``--segments`` segments. Measured, each once, caches warm (the machine is shared):

* ``tar -cf`` of the data folder, then ``sync`` of the tar file (an fsync), beside ``archive backup``
  (which fsyncs every file it writes and hashes every byte it copies): MB/s of the same bytes;
* a second backup beside the first after one item is added (media hard-linked);
* restore of that bag into a new folder, checksum check and search re-index included;
* ``archive fixity`` (two reader threads) beside ``sha256sum`` of the same files (one process);
* the mirror of every item into an empty folder, again with nothing changed, and with one item's
  title changed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archive.catalog.db import Catalog  # noqa: E402
from archive.core.config import load_settings  # noqa: E402
from archive.preservation.backup import backup  # noqa: E402
from archive.preservation.fixity import run_fixity  # noqa: E402
from archive.preservation.mirror import build_mirror  # noqa: E402
from archive.preservation.restore import restore  # noqa: E402
from transcripts.segments import Segment  # noqa: E402

SENTENCES = [
    (
        "碼頭工人罷工持續了四十天，工人要求加薪。",
        "The dock workers' strike lasted forty days; they asked for a raise.",
    ),
    (
        "職工盟宣布解散，許多工會領袖被捕。",
        "The HKCTU announced its dissolution; many union leaders were arrested.",
    ),
    ("最低工資應該每年檢討一次。", "The minimum wage should be reviewed every year."),
    ("外傭姐姐的工作時間太長。", "Foreign domestic workers work very long hours."),
    ("集體談判權是工人的基本權利。", "Collective bargaining is a basic right of workers."),
    ("巴士司機要求改善休息時間。", "Bus drivers demand better rest breaks."),
    ("工會要繼續在海外發聲。", "Unions must keep speaking out from abroad."),
    ("標準工時立法討論了十年。", "Standard working hours have been debated for ten years."),
]
AUDIO_BYTES = 48 * 1024  # a small derivative per item: the mirror copies these


def _write_random(path: Path, size: int, rng: random.Random) -> tuple[str, int]:
    path.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    block = rng.randbytes(1024 * 1024)
    written = 0
    with open(path, "wb") as fh:
        while written < size:
            # Each megabyte differs (a counter in front), so no two files and no two blocks are equal.
            chunk = (written.to_bytes(8, "little") + path.name.encode() + block)[
                : min(len(block), size - written)
            ]
            digest.update(chunk)
            fh.write(chunk)
            written += len(chunk)
    return digest.hexdigest(), written


def build(home: Path, items: int, total_bytes: int, segments: int) -> tuple[object, Catalog]:
    settings = load_settings(home).ensure()
    catalog = Catalog.open(settings)
    rng = random.Random(20131)
    per_item = total_bytes // items
    collections = ("webinar", "interview", "strike-anniversary", "other")
    for n in range(items):
        tmp = settings.tmp_dir / "bench.bin"
        sha, size = _write_random(tmp, per_item, rng)
        original = f"media/{sha[:2]}/{sha}.bin"
        (home / original).parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, home / original)
        asha, asize = _write_random(tmp, AUDIO_BYTES, rng)
        audio = f"media/derived/{sha}.m4a"
        (home / audio).parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, home / audio)
        with catalog.transaction():
            item = catalog.create_item(
                title_zh=f"講座第{n}號：{SENTENCES[n % len(SENTENCES)][0][:8]}",
                title_en=f"Talk {n}: {SENTENCES[n % len(SENTENCES)][1][:30]}",
                collection=collections[n % len(collections)],
                recorded_date=f"{2010 + n % 15}-{1 + n % 12:02d}-{1 + n % 28:02d}",
                visibility="public",
                speakers=[f"Speaker {n % 37}"],
            )
            catalog.add_media(
                item.id,
                role="original",
                sha256=sha,
                size=size,
                path=original,
                duration=600.0,
                container="bench",
                mime="application/octet-stream",
            )
            catalog.add_media(
                item.id,
                role="audio",
                sha256=asha,
                size=asize,
                path=audio,
                duration=600.0,
                container="mov,mp4,m4a,3gp,3g2,mj2",
                mime="audio/mp4",
            )
            segs = []
            for k in range(segments):
                zh, en = SENTENCES[(n + k) % len(SENTENCES)]
                segs.append(
                    Segment(k * 6.0, k * 6.0 + 5.5, f"{zh}（第{k}段）", f"{en} (part {k})", "zh")
                )
            catalog.add_revision(item.id, segs, origin="whisper")
    return settings, catalog


def _timed(fn):  # type: ignore[no-untyped-def]
    started = time.monotonic()
    result = fn()
    return result, time.monotonic() - started


def _media_files(settings, catalog: Catalog) -> list[Path]:  # type: ignore[no-untyped-def]
    return [settings.home / m.path for m in catalog.list_media()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--gb", type=float, default=2.0)
    parser.add_argument("--segments", type=int, default=20)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    work = Path(args.workdir or tempfile.mkdtemp(prefix="bench-preserve-"))
    work.mkdir(parents=True, exist_ok=True)
    results: dict[str, object] = {"items": args.items, "segments_per_item": args.segments}
    try:
        (settings, catalog), seconds = _timed(
            lambda: build(work / "home", args.items, int(args.gb * 1024**3), args.segments)
        )
        media = _media_files(settings, catalog)
        media_bytes = sum(p.stat().st_size for p in media)
        home_bytes = sum(p.stat().st_size for p in (work / "home").rglob("*") if p.is_file())
        results |= {
            "build_s": round(seconds, 1),
            "media_mb": round(media_bytes / 1e6),
            "home_mb": round(home_bytes / 1e6),
        }
        mb = home_bytes / 1e6

        _, seconds = _timed(
            lambda: subprocess.run(
                f"tar -cf {work / 'archive.tar'} -C {work / 'home'} . && sync {work / 'archive.tar'}",
                shell=True,
                check=True,
            )
        )
        results["tar_mb_s"] = round(mb / seconds, 1)
        results["tar_s"] = round(seconds, 2)
        (work / "archive.tar").unlink()

        first, seconds = _timed(lambda: backup(settings, work / "backups" / "one"))
        results["backup_mb_s"] = round(first.payload_bytes / 1e6 / seconds, 1)
        results["backup_s"] = round(seconds, 2)

        # One new item, then a second bag beside the first.
        sha, size = _write_random(settings.tmp_dir / "extra.bin", 2 * 1024 * 1024, random.Random(7))
        os.replace(settings.tmp_dir / "extra.bin", work / "home" / "media" / "extra.bin")
        extra = catalog.create_item(title_en="Added after the first backup", visibility="public")
        catalog.add_media(extra.id, role="original", sha256=sha, size=size, path="media/extra.bin")
        second, seconds = _timed(lambda: backup(settings, work / "backups" / "two"))
        results["incremental_backup_s"] = round(seconds, 2)
        results["incremental_linked_files"] = second.linked_files
        results["incremental_copied_mb"] = round(second.copied_bytes / 1e6, 1)

        report, seconds = _timed(lambda: restore(work / "backups" / "two", work / "restored"))
        results["restore_s"] = round(seconds, 2)
        results["restore_indexed_documents"] = report.indexed_documents
        shutil.rmtree(work / "restored")

        fixity, seconds = _timed(lambda: run_fixity(settings, catalog))
        assert fixity.ok
        results["fixity_mb_s"] = round(fixity.bytes / 1e6 / seconds, 1)
        listing = work / "files.txt"
        listing.write_text("\0".join(str(p) for p in _media_files(settings, catalog)))
        _, seconds = _timed(
            lambda: subprocess.run(
                f"xargs -0 sha256sum < {listing} > /dev/null", shell=True, check=True
            )
        )
        results["sha256sum_mb_s"] = round(fixity.bytes / 1e6 / seconds, 1)

        full, seconds = _timed(lambda: build_mirror(settings, catalog, work / "mirror"))
        results["mirror_all_s"] = round(seconds, 1)
        results["mirror_search_index_s"] = round(full.search_seconds, 1)
        results["mirror_files"] = full.written
        again, seconds = _timed(lambda: build_mirror(settings, catalog, work / "mirror"))
        results["mirror_unchanged_s"] = round(seconds, 1)
        results["mirror_unchanged_written"] = again.written
        some = catalog.item_ids()[len(catalog.item_ids()) // 2]
        catalog.update_item(some, title_en="A changed title")
        changed, seconds = _timed(lambda: build_mirror(settings, catalog, work / "mirror"))
        results["mirror_one_changed_s"] = round(seconds, 1)
        results["mirror_one_changed_rendered"] = changed.rendered_items
        results["mirror_one_changed_written"] = changed.written
        results["mirror_mb"] = round(
            sum(p.stat().st_size for p in (work / "mirror").rglob("*") if p.is_file()) / 1e6, 1
        )
        catalog.close()
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(results, indent=1))
        return
    rows = [
        (
            "archive",
            f"{results['items']} items, {results['media_mb']} MB media, {results['home_mb']} MB data folder",
        ),
        (
            "backup",
            f"{results['backup_mb_s']} MB/s ({results['backup_s']} s)   tar + sync: {results['tar_mb_s']} MB/s ({results['tar_s']} s)",
        ),
        (
            "second backup",
            f"{results['incremental_backup_s']} s ({results['incremental_linked_files']} files linked, {results['incremental_copied_mb']} MB copied)",
        ),
        (
            "restore",
            f"{results['restore_s']} s, re-index included ({results['restore_indexed_documents']} documents)",
        ),
        ("fixity", f"{results['fixity_mb_s']} MB/s   sha256sum: {results['sha256sum_mb_s']} MB/s"),
        (
            "mirror, all items",
            f"{results['mirror_all_s']} s ({results['mirror_files']} files, {results['mirror_mb']} MB; search index {results['mirror_search_index_s']} s)",
        ),
        (
            "mirror, unchanged",
            f"{results['mirror_unchanged_s']} s ({results['mirror_unchanged_written']} files written)",
        ),
        (
            "mirror, one changed",
            f"{results['mirror_one_changed_s']} s ({results['mirror_one_changed_rendered']} item rendered, {results['mirror_one_changed_written']} files written)",
        ),
    ]
    for name, value in rows:
        print(f"{name:<20} {value}")


if __name__ == "__main__":
    main()
