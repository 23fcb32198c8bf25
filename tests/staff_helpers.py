"""Helpers for the staff-workspace tests: the CLI with standard input, items with real media."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT


def run_cli_input(
    home: Path, *args: str, input_text: str | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """``python -m archive --home HOME ARGS`` with ``input_text`` on standard input."""
    env = dict(os.environ)
    env.pop("ARCHIVE_HOME", None)
    return subprocess.run(
        [sys.executable, "-m", "archive", "--home", str(home), *args],
        input=input_text if input_text is not None else "",
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=ROOT,
    )


def item_with_media(
    settings,
    catalog,
    fixtures_dir: Path,
    relative: str,
    segments,
    *,
    visibility: str = "public",
    **values,
):
    """Ingest a real fixture without the speech model, then give it a transcript of ``segments``."""
    from archive.ingest.intake import IngestOptions, ingest

    outcome = ingest(
        settings,
        catalog,
        str(fixtures_dir / relative),
        IngestOptions(transcribe=False, visibility=visibility, **values),
    )
    catalog.add_revision(outcome.item.id, segments, origin="whisper")
    return catalog.get_item(outcome.item.id)


def max_volume_db(path: Path, start: float, end: float) -> float:
    """The peak level (dBFS) of ``path`` between ``start`` and ``end`` seconds, decoded by ffmpeg."""
    result = subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", "-i", str(path), "-vn",
         # atrim cuts the decoded samples themselves (an output -ss would trim after the filter).
         "-af", f"atrim=start={start:.3f}:end={end:.3f},volumedetect", "-f", "null", "-"],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    for line in result.stderr.splitlines():
        if "max_volume:" in line:
            value = line.split("max_volume:")[1].split("dB")[0].strip()
            return float("-inf") if value == "-inf" else float(value)
    raise AssertionError(f"no volumedetect output for {path}")
