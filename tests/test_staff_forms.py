"""The staff event forms and what they say, on a real archive (SQLite, media, a real log-in), through
Streamlit's AppTest and the real CLI. No mocks.

* the poster limit is one number: the form's text, Streamlit's uploader, the upload route's body
  limit and the library's check; an oversize poster is told its size and the limit;
* a start already over is never announced silently: the form asks (and can record the event as a
  past one, held), the CLI refuses unless ``--past``;
* widening who can see an event is said in words ("Anyone on the internet …") and saved only on a
  second, explicit step;
* a recording can be an item already in the archive, chosen from a list;
* a job's "started by" names the system in the reader's language; Streamlit's English-only menu
  is not shown; Traditional Chinese UI text says 週年, and search finds 週年 and 周年 alike.
"""

from __future__ import annotations

import io
import json
import os
import re
import tomllib
from datetime import UTC, date, datetime, time
from pathlib import Path

import portal_data
import pytest
from conftest import run_cli
from portal_harness import archive_home, log_in, new_session, open_page, texts
from streamlit.testing.v1 import AppTest

from archive.catalog.access import Viewer
from archive.catalog.db import Catalog
from archive.hub.events import create_event, get_event, link_recording, list_events
from archive.hub.posters import POSTER_MAX_BYTES, POSTER_MAX_MB
from archive.portal.routes.limits import STREAMLIT_UPLOAD_LIMIT, body_limit
from archive.portal.streamlit_settings import SETTINGS
from archive.workspace.accounts import add_user

ROOT = Path(__file__).resolve().parents[1]
Y = datetime.now(UTC).year + 1
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def arch(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("staff-forms")
    arch = portal_data.build(home, long_talk=False, extra=1)
    cat = Catalog.open(arch.settings)
    add_user(cat, "staffer", "staff", PASSWORD)
    cat.close()
    with archive_home(home):
        yield arch


def _events_titled(arch, title_en: str):
    cat = Catalog.open(arch.settings)
    try:
        return [e for e in list_events(cat, viewer=Viewer("staff")) if e.title_en == title_en]
    finally:
        cat.close()


def _staff(lang: str = "en") -> AppTest:
    return log_in(new_session(lang=lang), "staffer", PASSWORD, lang=lang)


def _new_event_form(at: AppTest, title_en: str, day: date, **extra) -> None:
    open_page(at, "events_admin", lang="en")
    at.text_input(key="new_title_en").input(title_en)
    at.date_input(key="new_date").set_value(day)
    at.time_input(key="new_time").set_value(time(19, 0))
    at.selectbox(key="new_tz").set_value("Europe/London")
    for key, value in extra.items():
        if key == "poster":
            at.get("file_uploader")[0].upload(*value)


def _click(at: AppTest, label: str) -> AppTest:
    labels = [b.label for b in at.button]
    assert label in labels, labels
    at.button[labels.index(label)].click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


# -- the poster limit -------------------------------------------------------------------------------
def test_the_poster_limit_is_one_number_for_the_text_the_uploader_and_the_check(arch):
    at = _staff()
    open_page(at, "events_admin", lang="en")
    (uploader,) = at.get("file_uploader")
    assert f"up to {POSTER_MAX_MB} MB" in uploader.proto.label, uploader.proto.label
    assert POSTER_MAX_BYTES == POSTER_MAX_MB * 1024**2
    assert SETTINGS["server.maxUploadSize"] == POSTER_MAX_MB  # Streamlit's uploader
    assert uploader.proto.max_upload_size_mb in (0, POSTER_MAX_MB)  # the widget says no more
    # What the portal and Caddy let through to Streamlit's uploader holds a whole poster.
    assert body_limit(arch.settings, "/_stcore/upload_file/s/f") == STREAMLIT_UPLOAD_LIMIT
    assert STREAMLIT_UPLOAD_LIMIT > POSTER_MAX_BYTES
    caddy = (ROOT / "archive/portal/templates/proxy.caddy").read_text(encoding="utf-8")
    (caddy_limit,) = re.findall(r"request_body @streamlit_uploads \{\s*max_size (\d+)", caddy)
    assert int(caddy_limit) >= STREAMLIT_UPLOAD_LIMIT
    with (ROOT / ".streamlit" / "config.toml").open("rb") as fh:
        assert tomllib.load(fh)["server"]["maxUploadSize"] == POSTER_MAX_MB


def _noise_png(size_bytes: int) -> bytes:
    """A real PNG of random pixels (which do not compress) of about ``size_bytes``."""
    from PIL import Image

    side = int((size_bytes / 3) ** 0.5) + 1
    image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=0)
    return buffer.getvalue()


def test_an_oversize_poster_is_refused_with_its_size_and_the_limit(arch, tmp_path):
    big = _noise_png(POSTER_MAX_BYTES + 300_000)
    assert len(big) > POSTER_MAX_BYTES
    at = _staff()
    _new_event_form(at, "Oversize poster talk", date(Y, 6, 2), poster=("big.png", big, "image/png"))
    _click(at, "Announce the event")
    errors = [e.value for e in at.error]
    size = f"{len(big) / 1024**2:.1f}"
    assert f"The poster is {size} MB: the limit is {POSTER_MAX_MB} MB." in " ".join(errors), errors
    assert not _events_titled(arch, "Oversize poster talk")
    # The CLI reads the same limit.
    poster = tmp_path / "big.png"
    poster.write_bytes(big)
    result = run_cli(
        arch.settings.home, "event", "add", "--title-en", "Oversize CLI talk",
        "--start", f"{Y}-06-03 19:00", "--tz", "Europe/London", "--duration", "60",
        "--poster", str(poster),
    )  # fmt: skip
    assert result.returncode != 0
    assert f"over the limit of {POSTER_MAX_MB} MB" in result.stderr, result.stderr


# -- a start in the past ------------------------------------------------------------------------------
def test_a_past_start_is_asked_about_and_can_be_recorded_as_a_past_event(arch):
    at = _staff()
    _new_event_form(at, "Last spring's talk", date(2024, 5, 2))
    _click(at, "Announce the event")
    assert not _events_titled(arch, "Last spring's talk")  # nothing announced yet
    (warning,) = [w.value for w in at.warning]
    assert "2024-05-02 19:00 (Europe/London) is in the past" in warning
    _click(at, "No, go back to the form")
    assert not at.warning and not _events_titled(arch, "Last spring's talk")

    _click(at, "Announce the event")
    _click(at, "Yes, record it as a past event")
    (event,) = _events_titled(arch, "Last spring's talk")
    assert event.status == "held" and event.start == datetime(2024, 5, 2, 18, 0, tzinfo=UTC)
    assert "The past event is recorded." in [s.value for s in at.success]

    # A start to come is announced at once, with no question.
    _new_event_form(at, "Next year's talk", date(Y, 5, 2))
    _click(at, "Announce the event")
    (event,) = _events_titled(arch, "Next year's talk")
    assert event.status == "scheduled" and not at.warning


def test_the_cli_refuses_a_past_start_unless_told_the_event_took_place(arch):
    home = arch.settings.home
    add = ["event", "add", "--title-en", "CLI past talk", "--start", "2024-05-02 19:00",
           "--tz", "Europe/London", "--duration", "60"]  # fmt: skip
    refused = run_cli(home, *add)
    assert refused.returncode != 0
    assert "error: the start 2024-05-02 19:00 (Europe/London) is in the past" in refused.stderr
    assert "--past" in refused.stderr and "Traceback" not in refused.stderr
    assert not _events_titled(arch, "CLI past talk")

    recorded = run_cli(home, *add, "--past", "--json")
    assert recorded.returncode == 0, recorded.stderr
    event = json.loads(recorded.stdout)
    assert event["status"] == "held" and event["start_utc"] == "2024-05-02T18:00:00+00:00"

    # Editing a start into the past is refused the same way; --past lets it through.
    future = json.loads(
        run_cli(home, "event", "add", "--title-en", "CLI future talk", "--start",
                f"{Y}-05-02 19:00", "--tz", "Europe/London", "--duration", "60", "--json").stdout
    )  # fmt: skip
    moved = run_cli(home, "event", "edit", future["id"], "--start", "2024-05-09 19:00")
    assert moved.returncode != 0 and "is in the past" in moved.stderr
    cat = Catalog.open(arch.settings)
    try:
        assert get_event(cat, future["id"]).start == datetime(Y, 5, 2, 18, 0, tzinfo=UTC)
    finally:
        cat.close()
    assert run_cli(home, "event", "edit", future["id"], "--start", "2024-05-09 19:00",
                   "--past").returncode == 0  # fmt: skip


# -- a wider audience -------------------------------------------------------------------------------
def test_making_an_event_public_says_what_it_means_and_needs_a_second_step(arch):
    cat = Catalog.open(arch.settings)
    event = create_event(
        arch.settings, cat, title_en="Draft for the public", start=f"{Y}-09-01 19:00",
        tz="Europe/London", duration_minutes=60, visibility="staff",
    )  # fmt: skip
    cat.close()
    at = _staff()
    open_page(at, "events_admin", event=event.id, lang="en")
    at.selectbox(key=f"edit_{event.id}_{event.sequence}_visibility").set_value("public")
    _click(at, "Save changes")
    (warning,) = [w.value for w in at.warning]
    assert "Anyone on the internet will be able to see this event" in warning
    assert "public calendar and podcast feeds" in warning
    cat = Catalog.open(arch.settings)
    assert get_event(cat, event.id).visibility == "staff"  # not yet
    _click(at, "Yes, save it")
    assert get_event(cat, event.id).visibility == "public"
    assert "The event is saved." in [s.value for s in at.success]
    # Narrowing it again is not asked about.
    saved = get_event(cat, event.id)
    cat.close()
    at.selectbox(key=f"edit_{saved.id}_{saved.sequence}_visibility").set_value("staff")
    _click(at, "Save changes")
    assert not at.warning
    cat = Catalog.open(arch.settings)
    assert get_event(cat, event.id).visibility == "staff"
    cat.close()


def test_widening_an_items_visibility_has_its_warning_in_both_languages():
    from archive.portal.i18n import I18n
    from archive.portal.ui_staff import widening_warning

    en, zh = I18n("en"), I18n("zh")
    public = widening_warning(en, "staff", "public")
    assert public is not None and "Anyone on the internet will be able to hear" in public
    assert "Staff only → Public" in public
    assert "互聯網上任何人都能收聽" in (widening_warning(zh, "members", "public") or "")
    assert "Every member" in (widening_warning(en, "staff", "members") or "")
    for old, new in (("public", "members"), ("members", "staff"), ("public", "public")):
        assert widening_warning(en, old, new) is None  # narrowing, or no change: nothing to ask


# -- a recording already in the archive --------------------------------------------------------------
def test_an_item_already_in_the_archive_can_be_linked_as_the_recording(arch):
    cat = Catalog.open(arch.settings)
    event = create_event(
        arch.settings, cat, title_en="Talk with a recording", start=f"{Y}-10-01 19:00",
        tz="Europe/London", duration_minutes=60, visibility="public",
    )  # fmt: skip
    other = create_event(
        arch.settings, cat, title_en="Talk already linked", start=f"{Y}-10-02 19:00",
        tz="Europe/London", duration_minutes=60,
    )  # fmt: skip
    taken = arch.ids["bar"]
    link_recording(cat, other.id, taken)
    cat.close()
    at = _staff()
    open_page(at, "events_admin", event=event.id, lang="en")
    at.segmented_control(key="attach_source").set_value("item").run()
    labels = at.selectbox(key="attach_item").options  # staff see every item, drafts included
    assert any(label.startswith("Dock strike, ten years on · 2023-03-28") for label in labels)
    assert any(label.startswith("Internal meeting") for label in labels), labels  # staff only
    assert not any("Bar-benders" in label for label in labels)  # another event's: not listed
    _click(at, "Link this recording")
    assert "Choose a recording first." in [e.value for e in at.error]
    at.selectbox(key="attach_item").set_value(arch.ids["dock"])
    _click(at, "Link this recording")
    cat = Catalog.open(arch.settings)
    try:
        linked = get_event(cat, event.id)
        assert linked.item_id == arch.ids["dock"] and linked.status == "held"
    finally:
        cat.close()
    assert "The recording is linked to the event." in [s.value for s in at.success]


def test_a_file_uploaded_for_an_event_becomes_its_recording(arch, fixtures_dir):
    from archive.media.uploads import write_upload_stream
    from archive.portal.sessions import sign_upload

    cat = Catalog.open(arch.settings)
    event = create_event(
        arch.settings, cat, title_zh="碼頭工人座談", title_en="Dockers' evening",
        start=f"{Y}-11-03 19:30", tz="Asia/Hong_Kong", duration_minutes=90,
        speakers=["Ho Wai-man"], visibility="public",
    )  # fmt: skip
    cat.close()
    at = _staff()
    # The event form's third way leads to the upload page opened for this event.
    open_page(at, "events_admin", event=event.id, lang="en")
    at.segmented_control(key="attach_source").set_value("upload").run()
    link = next(p for p in at.get("page_link") if p.proto.label == "Upload this event's recording")
    assert link.proto.page == "upload" and f"event={event.id}" in link.proto.query_string
    open_page(at, "upload", event=event.id, lang="en")
    shown = texts(at)
    assert "becomes the recording of the event “Dockers' evening”" in shown, shown
    # The event's details are the form's starting point.
    assert at.text_input(key="meta_title_en").value == "Dockers' evening"
    assert at.text_input(key="meta_speakers").value == "Ho Wai-man"
    assert at.text_input(key="meta_date").value == f"{Y}-11-03"
    upload = write_upload_stream(
        arch.settings, [(fixtures_dir / "en" / "jfk.flac").read_bytes()], "evening.flac"
    )
    at.session_state["upload_ready"] = {
        "id": sign_upload(arch.settings, upload.path, upload.display_name, upload.size, upload.mime, "staffer"),
        "name": upload.display_name, "size": upload.size, "mime": upload.mime,
    }  # fmt: skip
    at.checkbox(key="meta_transcribe").uncheck()
    at.button(key="meta_submit").click().run()
    cat = Catalog.open(arch.settings)
    try:
        job = cat.list_jobs(limit=1)[0]
        assert job.kind == "ingest" and job.payload["event_id"] == event.id
        assert job.payload["delete_source"] is True and job.created_by == "staffer"
    finally:
        cat.close()
    assert "event" not in at.query_params  # the next upload on this page is an ordinary one
    burst = run_cli(arch.home, "worker", "--burst")
    assert burst.returncode == 0, burst.stderr
    cat = Catalog.open(arch.settings)
    try:
        linked = get_event(cat, event.id)
        assert linked.item_id is not None
        assert cat.get_item(linked.item_id).title_en == "Dockers' evening"
    finally:
        cat.close()
    # An event that has its recording is not offered another.
    open_page(at, "upload", event=event.id, lang="en")
    assert at.error and "already has its recording" in texts(at)


# -- words ----------------------------------------------------------------------------------------------
def test_a_job_started_by_the_system_says_so_in_chinese(arch):
    cat = Catalog.open(arch.settings)
    cat.create_job("fixity", payload={}, created_by="system")
    cat.close()
    at = _staff("zh")
    open_page(at, "jobs", lang="zh")
    shown = texts(at)
    assert "由系統啟動" in shown
    assert "system" not in shown and "由 system 開始" not in shown


def test_streamlits_untranslatable_menu_is_not_shown():
    # "minimal" shows only the menu items the app adds, and the portal adds none: no menu.
    assert SETTINGS["client.toolbarMode"] == "minimal"
    navigation = (ROOT / "archive/portal/navigation.py").read_text(encoding="utf-8")
    assert 'menu_items={"Get help": None, "Report a bug": None, "About": None}' in navigation


def test_traditional_chinese_ui_text_says_zhou_nian_one_way_and_search_finds_both():
    folders = ["archive/portal/locales", "archive/hub", "archive/demo", "archive/preservation"]
    found = [
        f"{path.relative_to(ROOT)}:{n}"
        for folder in folders
        for path in (ROOT / folder).rglob("*")
        if path.suffix in (".po", ".py", ".srt", ".json")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "周年" in line
    ]
    assert not found, found
    from indexer.analysis import fold

    assert fold("罷工週年紀念") == fold("罷工周年紀念")  # a search for either finds the other
