"""An open staff page has no powers left once its session has: every staff action re-checks the live
session at the moment it runs (issue 11, finding 3).

Streamlit runs a widget's callback before the page script, so before the page's staff check, with
the viewer captured at the previous run. Each test here logs a staff member in, opens the page,
then takes the staff rights away through the library, as ``archive user`` does (removed, demoted
to members, its password changed by an administrator, the session expired, logged out elsewhere), and only
then clicks. Nothing may change in the catalog, no audit row may be written, and the page says so.
Real app (AppTest), real catalog, real accounts; the upload route through Starlette's client.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from datetime import date
from datetime import time as clock

import portal_data
import pytest
from portal_harness import archive_home, log_in, new_session, open_page
from streamlit.testing.v1 import AppTest

from archive.catalog.db import Catalog
from archive.hub.events import create_event
from archive.ingest.intake import IngestOptions
from archive.ingest.jobs import submit_ingest
from archive.media.uploads import write_upload_stream
from archive.portal.sessions import (
    COOKIE_NAME,
    live_staff_viewer,
    revoke,
    sign_upload,
    upload_token,
)
from archive.workspace.accounts import (
    add_user,
    create_session,
    get_user,
    remove_user,
    set_password,
    set_role,
)
from archive.workspace.visibility import redact

PASSWORD = "correct horse battery"
REFUSAL = "Your session has ended or your account no longer has staff rights: nothing was changed."
REFUSAL_ZH = "你的登入已經結束，或你的帳戶已不再有職員權限：甚麼都沒有更改。"
TOKEN_KEY = "_hk_session_token"
WAYS = ("removed", "demoted", "password-changed", "expired", "logged-out")
# Tables a staff action can change; users and login_throttle change with the account itself.
WATCHED = ("items", "transcripts", "segments", "jobs", "redactions", "audit", "series", "events")

_names = itertools.count()


@pytest.fixture(scope="module")
def arch(tmp_path_factory: pytest.TempPathFactory) -> portal_data.DemoArchive:
    home = tmp_path_factory.mktemp("staff-live")
    built = portal_data.build(home, long_talk=False, extra=1)
    with archive_home(home):
        yield built


@pytest.fixture
def cat(arch):
    opened = Catalog.open(arch.settings)
    yield opened
    opened.close()


def snapshot(cat: Catalog) -> dict[str, list[tuple]]:
    return {
        table: [tuple(r) for r in cat.conn.execute(f"SELECT * FROM {table} ORDER BY rowid")]
        for table in WATCHED
    }


class Staff:
    """A fresh staff account logged in to a fresh browser session, and a way to take it away."""

    def __init__(self, arch, cat: Catalog, way: str, lang: str = "en") -> None:
        self.arch, self.cat, self.way, self.lang = arch, cat, way, lang
        self.name = f"live{next(_names)}"
        add_user(cat, self.name, "staff", PASSWORD, actor="test")
        self.at = new_session(lang=lang, timeout=90)
        if way == "expired":
            # Issued two hours ago: valid under the default 12 h, expired once sessions last 1 h.
            token = create_session(
                cat, arch.settings, get_user(cat, self.name), now=time.time() - 2 * 3600
            )
            self.at.session_state[TOKEN_KEY] = token
        else:
            log_in(self.at, self.name, PASSWORD, lang=lang)
        assert self.at.session_state[TOKEN_KEY]

    def open(self, page: str, **params: str) -> AppTest:
        open_page(self.at, page, lang=self.lang, **params)
        shown = [e.value for e in self.at.error]
        assert not any("for the archive's staff" in e for e in shown), shown  # the page is open
        return self.at

    def take_away(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """What ``archive user remove / role / …`` or the passage of time does, elsewhere."""
        if self.way == "removed":
            remove_user(self.cat, self.name, actor="cli:admin")
        elif self.way == "demoted":
            set_role(self.cat, self.name, "members", actor="cli:admin")
        elif self.way == "password-changed":
            # What an administrator does to end someone's sessions. (A lock-out by failed
            # log-ins no longer ends them: issue 18, tests/test_lockout_stranger.py.)
            set_password(self.cat, self.name, "a new password, elsewhere", actor="cli:admin")
        elif self.way == "expired":
            monkeypatch.setenv("ARCHIVE_SESSION_HOURS", "1")
        elif self.way == "logged-out":
            revoke(self.arch.settings, self.at.session_state[TOKEN_KEY])
        assert live_staff_viewer(self.cat, self.arch.settings, self.token) is None

    @property
    def token(self) -> str:
        return self.at.session_state[TOKEN_KEY] if TOKEN_KEY in self.at.session_state else ""  # noqa: SIM401


def assert_refused(staff: Staff, before: dict[str, list[tuple]], refusal: str = REFUSAL) -> None:
    at = staff.at
    assert not at.exception, [e.value for e in at.exception]
    assert snapshot(staff.cat) == before  # nothing changed, no audit row
    assert refusal in [e.value for e in at.error], [e.value for e in at.error]
    assert not at.success


def refused_after(
    staff: Staff, monkeypatch: pytest.MonkeyPatch, click: Callable[[AppTest], None]
) -> None:
    """Take the rights away, click, and check that the click changed nothing and said so."""
    staff.take_away(monkeypatch)
    before = snapshot(staff.cat)
    click(staff.at)
    staff.at.run()
    assert_refused(staff, before, REFUSAL_ZH if staff.lang == "zh" else REFUSAL)


# -- the library check -------------------------------------------------------------------------------
@pytest.mark.parametrize("way", WAYS)
def test_the_live_check_refuses_each_way_a_session_ends(arch, cat, monkeypatch, way):
    staff = Staff(arch, cat, way)
    assert live_staff_viewer(cat, arch.settings, staff.token).username == staff.name
    staff.take_away(monkeypatch)  # asserts the check now says None


# -- the editor (callbacks) ----------------------------------------------------------------------------
@pytest.mark.parametrize("way", WAYS)
def test_visibility_is_not_changed_by_a_page_whose_session_ended(arch, cat, monkeypatch, way):
    item = arch.ids["extra0"]
    staff = Staff(arch, cat, way)
    at = staff.open("edit", item=item)
    at.radio(key="vis_level").set_value("staff")
    refused_after(staff, monkeypatch, lambda at: at.button(key="vis_save").click())
    assert cat.get_item(item).visibility == "public"


def test_the_refusal_is_in_the_visitors_language(arch, cat, monkeypatch):
    item = arch.ids["extra0"]
    staff = Staff(arch, cat, "demoted", lang="zh")
    at = staff.open("edit", item=item)
    at.radio(key="vis_level").set_value("members")
    refused_after(staff, monkeypatch, lambda at: at.button(key="vis_save").click())


def test_a_segment_is_not_redacted_by_a_removed_account(arch, cat, monkeypatch):
    item = arch.ids["dock"]
    seg = cat.get_revision(item).segments[0]
    staff = Staff(arch, cat, "removed")
    at = staff.open("edit", item=item)
    at.text_input(key=f"ed_reason_{seg.uid}").set_value("names a donor")
    refused_after(staff, monkeypatch, lambda at: at.button(key=f"ed_redact_{seg.uid}").click())
    assert cat.redaction_spans(item) == ()


def test_a_redaction_is_not_lifted_by_a_demoted_account(arch, cat, monkeypatch):
    item = arch.ids["interview"]
    seg = cat.get_revision(item).segments[0]
    made = redact(cat, arch.settings, item, start=seg.start, end=seg.end,
                  actor="staff-elsewhere", reason="a name", rebuild_media=False)  # fmt: skip
    staff = Staff(arch, cat, "demoted")
    staff.open("edit", item=item)
    key = f"ed_unredact_{made.id}_{seg.uid}"
    refused_after(staff, monkeypatch, lambda at: at.button(key=key).click())
    assert cat.redaction_spans(item) == ((seg.start, seg.end),)


def test_an_edit_is_not_saved_by_a_locked_account(arch, cat, monkeypatch):
    item = arch.ids["bar"]
    rev = cat.get_revision(item)
    seg = rev.segments[0]
    staff = Staff(arch, cat, "password-changed")
    at = staff.open("edit", item=item)
    at.text_area(key=f"ed_zh_{rev.revision}_{seg.uid}").set_value("不應儲存的改動。")
    at.checkbox(key=f"ed_reviewed_{rev.revision}_{seg.uid}").set_value(not seg.reviewed)
    at.run()  # the typed changes wait for Save, in the session only
    refused_after(staff, monkeypatch, lambda at: at.button(key="edit_save").click())
    assert cat.latest_revision_number(item) == rev.revision


@pytest.mark.parametrize(
    ("action", "way"),
    [("split", "expired"), ("merge", "logged-out"), ("replace", "removed"), ("rename", "demoted")],
)
def test_split_merge_replace_and_rename_are_refused(arch, cat, monkeypatch, action, way):
    item = arch.ids["bar"]
    rev = cat.get_revision(item)
    first = rev.segments[0]
    staff = Staff(arch, cat, way)
    at = staff.open("edit", item=item)
    if action == "replace":
        at.text_input(key="edit_replace_old").set_value(first.text_zh[:2])
        at.text_input(key="edit_replace_new").set_value("替換")
        key = "edit_replace_go"
    elif action == "rename":
        at.text_input(key="edit_rename_new").set_value("Someone else")
        key = "edit_rename_go"
    else:
        key = f"ed_{action}_{rev.revision}_{first.uid}"
    refused_after(staff, monkeypatch, lambda at: at.button(key=key).click())
    assert cat.latest_revision_number(item) == rev.revision


# -- jobs (callbacks) --------------------------------------------------------------------------------
def _failed_job(arch, cat, fixtures_dir, tmp_path, title: str):
    import shutil

    source = tmp_path / "talk.flac"
    shutil.copyfile(fixtures_dir / "en" / "jfk.flac", source)
    job = submit_ingest(arch.settings, cat, str(source), IngestOptions(title_en=title, language="en"),
                        created_by="staff-elsewhere")  # fmt: skip
    return job


@pytest.mark.parametrize(("action", "way"), [("retry", "removed"), ("cancel", "password-changed")])
def test_a_job_is_not_retried_or_cancelled_by_a_lost_session(
    arch, cat, monkeypatch, fixtures_dir, tmp_path, action, way
):
    job = _failed_job(arch, cat, fixtures_dir, tmp_path, f"Job to {action}")
    if action == "retry":
        cat.update_job(job.id, state="failed", error="the file has no audio stream")
    state = cat.get_job(job.id).state
    staff = Staff(arch, cat, way)
    staff.open("jobs")
    refused_after(staff, monkeypatch, lambda at: at.button(key=f"job_{action}_{job.id}").click())
    assert cat.get_job(job.id).state == state


def test_a_fixity_run_is_not_started_by_a_demoted_account(arch, cat, monkeypatch):
    staff = Staff(arch, cat, "demoted")
    staff.open("jobs")
    refused_after(staff, monkeypatch, lambda at: at.button(key="jobs_fixity").click())


# -- the upload page and route ---------------------------------------------------------------------
@pytest.mark.parametrize("way", ["password-changed", "removed"])
def test_the_upload_form_queues_nothing_for_a_lost_session(
    arch, cat, monkeypatch, fixtures_dir, way
):
    staff = Staff(arch, cat, way)
    at = staff.open("upload")
    upload = write_upload_stream(
        arch.settings, [(fixtures_dir / "en" / "jfk.flac").read_bytes()], "talk.flac"
    )
    at.segmented_control(key="upload_source").set_value("file")
    at.session_state["upload_ready"] = {
        "id": sign_upload(arch.settings, upload.path, upload.display_name, upload.size, upload.mime,
                          staff.name),
        "name": upload.display_name, "size": upload.size, "mime": upload.mime,
    }  # fmt: skip
    at.run()
    at.text_input(key="meta_title_en").set_value("Should not be queued")
    refused_after(staff, monkeypatch, lambda at: at.button(key="meta_submit").click())
    assert upload.path.exists()  # still waiting, not handed to a job


@pytest.mark.parametrize("way", ["password-changed", "demoted", "removed"])
def test_the_upload_route_refuses_a_lost_session(arch, cat, monkeypatch, fixtures_dir, way):
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from archive.catalog.access import Viewer
    from archive.media.uploads import upload_dir
    from archive.portal.routes.uploads import UPLOAD_PATH, upload_routes

    staff = Staff(arch, cat, way)
    page_token = upload_token(arch.settings, Viewer("staff", staff.name))
    client = TestClient(Starlette(routes=upload_routes(arch.settings)), base_url="http://127.0.0.1")
    audio = (fixtures_dir / "en" / "jfk.flac").read_bytes()[:4096]
    headers = {
        "Content-Type": "application/octet-stream",
        "X-File-Name": "talk.flac",
        "X-Upload-Token": page_token,
        "Cookie": f"{COOKIE_NAME}={staff.token}",
    }
    staff.take_away(monkeypatch)
    stored = sorted(upload_dir(arch.settings).iterdir())
    response = client.post(UPLOAD_PATH, content=audio, headers=headers)
    assert response.status_code == 403 and "upload_id" not in response.text
    assert sorted(upload_dir(arch.settings).iterdir()) == stored


# -- the event forms (button branches) -------------------------------------------------------------
def _event(arch, cat, title: str):
    return create_event(arch.settings, cat, title_en=title, start=f"{date.today().year + 1}-09-01 19:00",
                        tz="Europe/London", duration_minutes=60, visibility="public")  # fmt: skip


def _click(label: str) -> Callable[[AppTest], None]:
    def click(at: AppTest) -> None:
        at.button[[b.label for b in at.button].index(label)].click()

    return click


def test_no_event_is_announced_by_a_locked_account(arch, cat, monkeypatch):
    staff = Staff(arch, cat, "password-changed")
    at = staff.open("events_admin")
    at.text_input(key="new_title_en").input("Never announced")
    at.date_input(key="new_date").set_value(date(date.today().year + 1, 7, 20))
    at.time_input(key="new_time").set_value(clock(20, 0))
    refused_after(staff, monkeypatch, _click("Announce the event"))


@pytest.mark.parametrize(
    ("action", "way"),
    [("edit", "password-changed"), ("postpone", "password-changed"), ("cancel", "password-changed"), ("held", "password-changed"),
     ("attach", "password-changed"), ("held", "demoted")],
)  # fmt: skip
def test_an_event_is_not_changed_by_a_lost_session(arch, cat, monkeypatch, action, way):
    event = _event(arch, cat, f"Event to {action}")
    staff = Staff(arch, cat, way)
    at = staff.open("events_admin", event=event.id)
    if action == "edit":
        at.text_input(key=f"edit_{event.id}_{event.sequence}_title_zh").input("改了")
        label = "Save changes"
    elif action == "postpone":
        at.date_input(key=f"postpone_date_{event.sequence}").set_value(
            date(date.today().year + 1, 9, 8)
        )
        label = "Postpone the event"
    elif action == "cancel":
        at.checkbox(key=f"cancel_confirm_{event.id}").check().run()
        label = "Cancel the event"
    elif action == "held":
        label = "Mark as held"
    else:
        at.text_input(key="attach_url").input("https://media.example.org/talk.mp3")
        label = "Archive the recording"
    refused_after(staff, monkeypatch, _click(label))
