"""An upload whose bytes are already archived makes no new item and says so: the details typed
with it are kept on the job as not applied, the command line names them, the Jobs page warns and
offers to apply them to the existing item (audited), and the upload page warns before the form is
sent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli
from portal_harness import archive_home, log_in, new_session, open_page, texts
from preserve_data import tone

from archive.catalog.audit import audit_log
from archive.catalog.db import Catalog
from archive.core.config import load_settings
from archive.ingest.intake import IngestOptions
from archive.ingest.jobs import submit_ingest
from archive.jobs.queue import run_job
from archive.workspace.accounts import add_user
from archive.workspace.details import apply_details

PASSWORD = "correct horse battery staple"


@pytest.fixture
def archived(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("ARCHIVE_HOME", raising=False)
    settings = load_settings(tmp_path / "home")
    audio = tone(tmp_path / "talk.wav", 523)
    done = run_cli(
        settings.home,
        "ingest",
        str(audio),
        "--title-en",
        "First title",
        "--no-transcribe",
        "--wait",
    )
    assert done.returncode == 0, done.stderr
    return settings, audio


def test_the_command_line_names_the_details_it_did_not_apply(archived):
    settings, audio = archived
    done = run_cli(
        settings.home, "ingest", str(audio), "--title-en", "Second title", "--speaker", "Lee",
        "--no-transcribe", "--wait", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["duplicate"] is True and data["title_en"] == "First title"
    assert data["not_applied"] == {"title_en": "Second title", "speakers": ["Lee"]}
    plain = run_cli(
        settings.home, "ingest", str(audio), "--title-en", "Third", "--no-transcribe", "--wait"
    )
    assert "already archived" in plain.stdout and "title_en='Third'" in plain.stderr


def test_a_duplicate_job_keeps_the_details_and_staff_apply_them_audited(archived):
    settings, audio = archived
    cat = Catalog.open(settings)
    try:
        options = IngestOptions(
            title_en="Better title", date="2013-05", visibility="public", transcribe=False
        )
        job = run_job(settings, cat, submit_ingest(settings, cat, str(audio), options).id)
        assert job.state == "done" and job.result["duplicate"] is True
        pending = job.result["not_applied"]
        assert pending == {
            "title_en": "Better title", "recorded_date": "2013-05", "visibility": "public"
        }  # fmt: skip
        item = cat.get_item(job.item_id)
        assert item.title_en == "First title" and item.visibility == "staff"  # nothing silently
        apply_details(settings, cat, job.item_id, pending, actor="staff1")
        item = cat.get_item(job.item_id)
        assert (item.title_en, item.recorded_date, item.visibility) == (
            "Better title", "2013-05", "public"
        )  # fmt: skip
        actions = {(row.action, row.target) for row in audit_log(cat, item_id=item.id)}
        assert ("details", "title_en") in actions and ("details", "recorded_date") in actions
        assert any(action == "visibility" for action, _ in actions)
    finally:
        cat.close()


def test_the_jobs_page_warns_and_applies_the_details(archived):
    settings, audio = archived
    cat = Catalog.open(settings)
    add_user(cat, "staff1", "staff", PASSWORD)
    options = IngestOptions(title_en="From the form", transcribe=False)
    job = run_job(settings, cat, submit_ingest(settings, cat, str(audio), options).id)
    cat.close()
    with archive_home(settings.home):
        at = log_in(new_session(lang="en"), "staff1", PASSWORD)
        open_page(at, "jobs", lang="en")
        shown = texts(at)
        assert "Already in the archive" in shown and "English title" in shown
        at.button(key=f"job_apply_{job.id}").click().run()
        assert "The new details are applied." in texts(at)
    cat = Catalog.open(settings)
    try:
        assert cat.get_item(job.item_id).title_en == "From the form"
        assert cat.get_job(job.id).result["not_applied"] == {}
    finally:
        cat.close()
