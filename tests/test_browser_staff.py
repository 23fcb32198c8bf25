"""The staff workspace end to end in a real headless Chromium (Debian's), driven by Playwright.

``archive serve`` and a real ``archive worker`` run as child processes on a real archive. A staff
member logs in, uploads a recording through the page (streamed to the upload route), watches the
job run to done in the worker, corrects the transcript (revision 2), redacts a sentence and opens the
recording to members. Meanwhile an anonymous visitor and a member try every door: search, browse,
the permalink, the media, transcript and subtitle links captured from the staff session, downloads
and citations. Every request is recorded and any host but 127.0.0.1 fails the test. Screenshots
go to ``tests/artifacts/`` (git-ignored).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import portal_data
import pytest
from conftest import ROOT
from portal_harness import RecordedSession, launch_chromium, require_chromium

from archive.catalog.db import Catalog
from archive.workspace.accounts import add_user

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent / "artifacts" / "staff"
PASSWORD = "correct horse battery"
MARKER = "Kennedy-marker"
TITLE = "Inaugural address (upload test)"

PLAYER = """() => {
  const host = [...document.querySelectorAll('*')].find(e => e.shadowRoot && e.shadowRoot.querySelector('.hkp'));
  if (!host) return null;
  const media = host.shadowRoot.querySelector('.hkp-el');
  const rows = [...host.shadowRoot.querySelectorAll('.hkp-row')].map(r => r.textContent);
  return { src: media ? media.getAttribute('src') : null, rows };
}"""


def wait_for(condition: Callable[[], object], *, timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory):
    require_chromium()
    home = tmp_path_factory.mktemp("staff-browser")
    arch = portal_data.build(home, long_talk=False, extra=0)
    cat = Catalog.open(arch.settings)
    add_user(cat, "staff1", "staff", PASSWORD, actor="test")
    add_user(cat, "member1", "members", PASSWORD, actor="test")
    cat.close()
    env = dict(os.environ)
    env.pop("ARCHIVE_HOME", None)
    worker_log = (home / "worker.log").open("wb")
    worker = subprocess.Popen(
        [sys.executable, "-m", "archive", "--home", str(home), "worker"],
        cwd=ROOT, env=env, stdout=worker_log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        with portal_data.Portal(home) as portal:
            yield arch, portal
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(timeout=10)
        worker_log.close()


@pytest.fixture(scope="module")
def browser():
    with launch_chromium(ARTIFACTS) as chromium:
        yield chromium


class Session(RecordedSession):
    """One browser context (one person) with every request recorded."""

    def __init__(self, browser, base: str, locale: str = "en-GB") -> None:
        super().__init__(browser, locale=locale)
        self.base = base

    def goto(self, path: str) -> None:
        self.page.goto(self.base + path)

    def get(self, path: str) -> tuple[int, bytes]:
        """A request with this session's cookies, as its browser would send it."""
        response = self.context.request.get(self.base + path, max_redirects=0)
        return response.status, response.body()

    def shot(self, name: str) -> None:
        # Wait until the run has finished painting (no skeletons, no "running" indicator).
        self.page.wait_for_function(
            "() => !document.querySelector('[data-testid=stSkeleton]')"
            " && !document.querySelector('[data-testid=stStatusWidget] [data-testid=stStatusWidgetRunningIcon]')"
        )
        self.page.wait_for_timeout(500)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"))

    def text(self) -> str:
        return self.page.locator("body").inner_text()

    def log_in(self, user: str) -> None:
        self.goto("/login?lang=en")
        self.page.get_by_label("User name").fill(user)
        self.page.get_by_label("Password", exact=True).fill(PASSWORD)
        self.page.get_by_role("button", name="Log in").click()
        self.page.get_by_text(f"You are logged in as {user}").wait_for()
        # The session cookie is set by the page's one-time code (HttpOnly: not readable by scripts).
        wait_for(lambda: any(c["name"] == "hk_archive_session" for c in self.context.cookies()),
                 timeout=20, what="the session cookie")  # fmt: skip
        cookie = next(c for c in self.context.cookies() if c["name"] == "hk_archive_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert self.page.evaluate("document.cookie").find("hk_archive_session") < 0


def jobs(arch) -> list:
    cat = Catalog.open(arch.settings)
    try:
        return cat.list_jobs()
    finally:
        cat.close()


def test_upload_transcribe_edit_redact_publish_and_every_other_door_stays_shut(
    running, browser, fixtures_dir
):
    arch, portal = running
    staff = Session(browser, portal.url)
    anon = Session(browser, portal.url)
    member = Session(browser, portal.url, locale="zh-HK")
    page = staff.page
    try:
        staff.log_in("staff1")
        staff.shot("01-logged-in-en")
        assert page.get_by_role("link", name="Upload").count() >= 1

        # -- upload through the page (streamed to /files/upload) and queue the job --------------
        staff.goto("/upload?lang=zh")
        page.get_by_text("新增錄音").first.wait_for()
        staff.shot("02-upload-zh")
        staff.goto("/upload?lang=en")
        page.locator("input[type=file]").set_input_files(str(fixtures_dir / "en" / "jfk.flac"))
        page.locator(".hku-send").click()
        page.get_by_text("Ready: jfk.flac").wait_for(timeout=60_000)
        assert any(u.endswith("/files/upload") for u in staff.requests)
        page.get_by_label("Title (English)").fill(TITLE)
        page.get_by_role("button", name="Add to the archive").click()
        page.get_by_text("Queued as job").wait_for()
        staff.shot("03-upload-queued-en")

        # -- the worker does the work; the jobs page follows it -----------------------------------
        staff.goto("/jobs?lang=en")
        page.get_by_text(TITLE).first.wait_for(timeout=60_000)
        page.locator("[data-testid='stProgress'], :text('Waiting for the worker')").first.wait_for(
            timeout=60_000
        )
        staff.shot("04-jobs-running-en")

        def finished():
            found = jobs(arch)
            bad = [j for j in found if j.state in ("failed", "cancelled")]
            assert not bad, [(j.kind, j.error) for j in bad]
            ingest = [j for j in found if j.kind == "ingest"]
            trans = [j for j in found if j.kind == "transcribe"]
            return ingest and trans and all(j.state == "done" for j in ingest + trans) and trans[0]

        done = wait_for(
            finished, timeout=420, what="the upload to be stored and transcribed by the worker"
        )
        item_id = done.item_id
        page.get_by_text("Done").first.wait_for(timeout=30_000)  # the list refreshed by itself
        staff.shot("05-jobs-done-en")
        cat = Catalog.open(arch.settings)
        item = cat.get_item(item_id)
        assert item.visibility == "staff" and item.title_en == TITLE
        rev1 = cat.get_revision(item_id)
        assert (
            rev1.revision == 1
            and rev1.segments
            and "country" in " ".join(s.text_en for s in rev1.segments).lower()
        )
        first = rev1.segments[0]
        # The upload left nothing behind in the upload folder.
        assert not [p for p in (arch.settings.tmp_dir / "uploads").iterdir() if p.is_file()]

        # -- links captured while staff, replayed by others -----------------------------------------
        staff.goto(f"/item?item={item_id}&lang=en")
        page.get_by_role("heading", name=TITLE).wait_for()
        state = wait_for(
            lambda: (s := page.evaluate(PLAYER)) and s["src"] and s["rows"] and s,
            timeout=30,
            what="the player",
        )
        media_path = state["src"]
        page.locator("a.hk-dl[data-format='srt']").first.wait_for()
        subtitle_path = page.locator("a.hk-dl[data-format='srt']").first.get_attribute("href")
        transcript_paths = [u for u in staff.requests if "/files/transcript/" in u]
        assert (
            media_path.startswith("/files/media/")
            and subtitle_path.startswith("/files/subtitles/")
            and transcript_paths
        )
        assert staff.get(media_path)[0] == 200
        member.log_in("member1")
        for other in (anon, member):
            for path in (media_path, subtitle_path, urlsplit(transcript_paths[-1]).path):
                status, body = other.get(path)
                assert status == 404 and b"country" not in body, path
            other.goto("/?q=country&lang=en")
            other.page.wait_for_timeout(1500)
            other.page.get_by_text("Search the archive").first.wait_for()
            assert TITLE not in other.text()
            other.goto("/browse?lang=en")
            other.page.locator("a[href*='item=']").first.wait_for()
            assert TITLE not in other.text() and item_id not in other.page.content()
            other.goto(f"/item?item={item_id}&lang=en")
            other.page.get_by_text("We couldn't find that recording").wait_for()
            assert TITLE not in other.text()
        anon.shot("06-anonymous-permalink-not-found")
        staff.goto("/?q=country&lang=en")
        page.get_by_text(TITLE).first.wait_for()  # staff search finds it: the refusals are real

        # -- correct the transcript: revision 2 ------------------------------------------------------
        staff.goto(f"/edit?item={item_id}&lang=en")
        box = page.locator(f".st-key-seg_{first.uid} textarea").nth(1)
        box.fill(first.text_en + f" {MARKER}")
        box.press("Tab")
        page.get_by_text("1 unsaved change").wait_for()
        page.get_by_role("button", name="Save").first.click()
        page.get_by_text("Saved as revision 2.").wait_for()
        rev2 = cat.get_revision(item_id)
        assert rev2.revision == 2 and rev2.author == "staff1" and MARKER in rev2.segments[0].text_en
        staff.shot("07-editor-saved-en")

        # -- redact the corrected sentence ------------------------------------------------------------
        page.locator(f".st-key-seg_{first.uid}").get_by_role("button", name="More").click()
        page.get_by_label("Why (staff only)").fill("names a person at risk")
        page.get_by_role("button", name="Redact this segment").click()
        page.get_by_text("Redacted. Only staff can read or hear this segment now.").wait_for()
        from archive.workspace.visibility import list_redactions

        (red,) = list_redactions(cat, item_id)
        assert (red.start, red.end) == pytest.approx((first.start, first.end), abs=0.001)

        # -- open it to members ------------------------------------------------------------------------
        page.get_by_role("tab", name="Visibility and redactions").click()
        page.get_by_text("Members only").first.click()
        staff.shot("07b-editor-visibility-chosen-en")  # the choice's own run has finished
        page.get_by_role("button", name="Save visibility").click()
        # Wider: the page says what it means and waits for the second step.
        page.get_by_text("Every member will be able to hear this recording").wait_for()
        assert cat.get_item(item_id).visibility == "staff"
        page.get_by_role("button", name="Yes, save it").click()
        page.get_by_text("Visibility saved.").wait_for()
        assert cat.get_item(item_id).visibility == "members"
        page.get_by_role("tab", name="Visibility and redactions").click()
        staff.shot("08-editor-visibility-en")
        staff.goto(f"/edit?item={item_id}&lang=zh")
        page.get_by_role("tab", name="版本及審計紀錄").click()
        page.locator("[data-testid='stDataFrame'] >> visible=true").first.wait_for()
        staff.shot("09-editor-audit-zh")
        actions = [
            (e.action, e.actor)
            for e in __import__("archive.catalog.audit", fromlist=["audit_log"]).audit_log(
                cat, item_id
            )
        ]
        assert ("visibility", "staff1") in actions and ("redact", "staff1") in actions

        # -- the member now sees the recording, never the redacted sentence ----------------------------
        member.goto(f"/item?item={item_id}&lang=zh&t={first.start + 0.1:.1f}")
        member.page.get_by_role("heading", name=TITLE).wait_for()
        rows = wait_for(
            lambda: (s := member.page.evaluate(PLAYER)) and s["rows"],
            timeout=30,
            what="the member's player",
        )
        assert not any(MARKER in r for r in rows)
        member.page.locator("[data-testid='stCode']").first.wait_for()
        assert MARKER not in member.text() and MARKER not in member.page.content()
        href = member.page.locator("a.hk-dl[data-format='srt']").first.get_attribute("href")
        status, body = member.get(href)
        assert status == 200 and MARKER.encode() not in body
        member.shot("10-member-item-zh")
        # The anonymous visitor still gets nothing.
        anon.goto(f"/item?item={item_id}&lang=en")
        anon.page.get_by_text("We couldn't find that recording").wait_for()
        assert anon.get(media_path)[0] == 404
        # The staff link still works for its owner, and for no one else.
        assert staff.get(media_path)[0] == 200 and member.get(media_path)[0] == 404
        cat.close()
        for session in (staff, anon, member):
            assert not session.outside_requests(), session.outside_requests()
    finally:
        for session in (staff, anon, member):
            session.context.close()
