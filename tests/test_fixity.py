"""Fixity: every media file re-hashed against the catalog's sha256, every check recorded."""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path

import pytest
from conftest import run_cli
from preserve_data import Sample, sample_copy

from archive.preservation.fixity import fixity_overview, last_fixity_run, run_fixity


@pytest.fixture
def sample(tmp_path: Path):
    made = sample_copy(tmp_path)
    yield made
    made.catalog.close()


def _checks(sample: Sample) -> list[dict[str, object]]:
    return [dict(r) for r in sample.catalog.conn.execute("SELECT * FROM fixity_checks ORDER BY id")]


def test_an_intact_archive_passes_and_every_check_is_recorded(sample: Sample) -> None:
    result = run_cli(sample.settings.home, "fixity")
    assert result.returncode == 0, result.stderr
    assert "every file matches its checksum" in result.stdout
    media = sample.catalog.list_media()
    rows = _checks(sample)
    assert sorted(r["media_id"] for r in rows) == sorted(m.id for m in media)
    assert {r["result"] for r in rows} == {"ok"}
    assert all(r["actual_sha256"] == r["expected_sha256"] and r["checked_at"] for r in rows)
    assert len({r["run_id"] for r in rows}) == 1
    last = last_fixity_run(sample.catalog)
    assert (
        last is not None
        and last.ok
        and last.checked == len(media)
        and last.counts["ok"] == len(media)
    )


def test_a_changed_and_a_missing_file_are_reported_by_item_and_fail_the_command(
    sample: Sample,
) -> None:
    changed = sample.catalog.get_media(sample.public_id, "original")
    missing = sample.catalog.get_media(sample.wage_id, "audio")
    path = sample.settings.home / changed.path
    data = bytearray(path.read_bytes())
    data[-100] ^= 0x04  # one bit, near the end: a real bit flip, same size
    path.write_bytes(bytes(data))
    os.unlink(sample.settings.home / missing.path)

    result = run_cli(sample.settings.home, "fixity")
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == "error: 2 media file(s) failed the fixity check (1 changed, 1 missing)"
    )
    out = result.stdout
    assert f"item {sample.public_id} (Dock strike, ten years on):" in out
    assert f"CHANGED    {changed.path} (original): expected {changed.sha256}" in out
    assert f"item {sample.wage_id} (Wages talk):" in out
    assert f"MISSING    {missing.path} (audio)" in out

    rows = {r["media_id"]: r for r in _checks(sample)}
    assert rows[changed.id]["result"] == "changed"
    assert rows[changed.id]["actual_sha256"] not in (None, changed.sha256)
    assert rows[missing.id]["result"] == "missing" and rows[missing.id]["actual_sha256"] is None
    assert sum(r["result"] == "ok" for r in rows.values()) == len(sample.catalog.list_media()) - 2

    # What the staff pages show: the last run and what is failing now.
    last = last_fixity_run(sample.catalog)
    assert last is not None and not last.ok
    assert {(p.item_id, p.result) for p in last.problems} == {
        (sample.public_id, "changed"),
        (sample.wage_id, "missing"),
    }
    overview = fixity_overview(sample.catalog)
    assert {f["path"] for f in overview["failing_now"]} == {changed.path, missing.path}
    assert overview["never_checked"] == 0

    # JSON for scripts says the same.
    as_json = json.loads(run_cli(sample.settings.home, "fixity", "--json").stdout)
    assert as_json["ok"] is False and as_json["counts"] == {
        "ok": len(rows) - 2,
        "changed": 1,
        "missing": 1,
        "unreadable": 0,
    }


def test_a_file_that_cannot_be_read_is_unreadable_not_ok(sample: Sample) -> None:
    media = sample.catalog.get_media(sample.staff_id, "audio")
    path = sample.settings.home / media.path
    path.unlink()
    path.mkdir()  # something is there, but it is no file (root reads any file, whatever its mode)
    report = run_fixity(sample.settings, sample.catalog)
    assert [(p.media_id, p.result) for p in report.problems] == [(media.id, "unreadable")]


def test_a_row_naming_a_file_outside_media_is_never_read(sample: Sample) -> None:
    """A catalog row changed to point at the catalog itself (inside the data folder, outside
    media/) is reported missing: fixity reads media files only, never hashes what it names."""
    media = sample.catalog.get_media(sample.staff_id, "audio")
    with sample.catalog.transaction() as conn:
        conn.execute("UPDATE media SET path = 'catalog.sqlite' WHERE id = ?", (media.id,))
    report = run_fixity(sample.settings, sample.catalog)
    [problem] = [p for p in report.problems if p.media_id == media.id]
    assert (problem.result, problem.actual_sha256) == ("missing", None)


def test_samples_check_the_files_checked_longest_ago_so_repeated_runs_cover_everything(
    sample: Sample,
) -> None:
    media = {m.id for m in sample.catalog.list_media()}
    assert len(media) == 10
    seen: list[set[int]] = []
    for _ in range(4):
        report = run_fixity(sample.settings, sample.catalog, sample=3)
        assert len(report.checks) == 3 and report.total_media == 10
        seen.append({c.media_id for c in report.checks})
    # Never-checked files come first: the first three runs check nine different files, and the
    # fourth the last unchecked one plus the two checked longest ago.
    assert len(seen[0] | seen[1] | seen[2]) == 9
    assert seen[0] | seen[1] | seen[2] | seen[3] == media
    assert fixity_overview(sample.catalog)["never_checked"] == 0
    assert run_cli(sample.settings.home, "fixity", "--sample", "0").returncode == 2


def test_the_weekly_worker_task_runs_a_full_check(sample: Sample) -> None:
    from archive.jobs.queue import PERIODIC_TASKS

    (name, schedule, target) = next(task for task in PERIODIC_TASKS if task[0] == "archive.fixity")
    assert schedule == {"day_of_week": "0", "hour": "3", "minute": "0"}
    module_name, function_name = target.split(":")
    task = getattr(importlib.import_module(module_name), function_name)
    report = task(sample.settings, sample.catalog)
    assert report.ok and len(report.checks) == len(sample.catalog.list_media())
    assert last_fixity_run(sample.catalog).run_id == report.run_id
