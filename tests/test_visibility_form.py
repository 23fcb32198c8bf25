"""The item's Visibility tab (issue 19, point 10), on a real archive through Streamlit's AppTest:

* a change that lets more people see a recording (staff → members, members → public, or an
  embargo that opens it wider later) says what it means and is saved only on a second, explicit
  step; "No" leaves everything as it was; a change that narrows is saved at once;
* the embargo's date and level are shown only while the embargo is ticked.
"""

from __future__ import annotations

import portal_data
import pytest
from portal_harness import archive_home, log_in, new_session, open_page, texts

from archive.catalog.access import Viewer
from archive.catalog.audit import audit_log
from archive.catalog.db import Catalog

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def arch(tmp_path_factory: pytest.TempPathFactory) -> portal_data.DemoArchive:
    home = tmp_path_factory.mktemp("visibility-form")
    built = portal_data.build_with_accounts(
        home, [("staff1", "staff")], PASSWORD, long_talk=False, extra=2
    )
    with archive_home(home):
        yield built


def _visibility(arch, item: str) -> str:
    cat = Catalog.open(arch.settings)
    try:
        return cat.get_item(item).visibility
    finally:
        cat.close()


def _set(arch, item: str, level: str) -> None:
    from archive.workspace.visibility import set_visibility

    cat = Catalog.open(arch.settings)
    try:
        set_visibility(cat, arch.settings, item, level, actor="test")
    finally:
        cat.close()


def _editor(item: str, lang: str = "en"):  # type: ignore[no-untyped-def]
    at = log_in(open_page(new_session(lang=lang, timeout=90), lang=lang), "staff1", PASSWORD)
    return open_page(at, "edit", lang=lang, item=item)


def test_making_a_staff_only_item_public_asks_first_and_says_what_it_means(arch):
    item = arch.ids["extra0"]
    _set(arch, item, "staff")
    at = _editor(item)
    at.radio(key="vis_level").set_value("public")
    at.button(key="vis_save").click().run()
    # Nothing saved yet: the page says what it means and waits for the second step.
    assert _visibility(arch, item) == "staff"
    warning = " ".join(w.value for w in at.warning)
    assert "Anyone on the internet" in warning and "Staff only" in warning, warning
    assert not [b for b in at.button if b.key == "vis_save"]
    at.button(key="vis_confirm").click().run()
    assert _visibility(arch, item) == "public"
    assert "Visibility saved." in [s.value for s in at.success]
    cat = Catalog.open(arch.settings)
    try:
        entry = audit_log(cat, item, viewer=Viewer("staff", "x"))[0]
    finally:
        cat.close()
    assert (entry.action, entry.actor, entry.old_value, entry.new_value) == (
        "visibility", "staff1", "staff", "public",
    )  # fmt: skip


def test_no_leaves_the_item_as_it_was(arch):
    item = arch.ids["extra1"]
    _set(arch, item, "members")
    at = _editor(item, lang="zh")
    at.radio(key="vis_level").set_value("public")
    at.button(key="vis_save").click().run()
    assert "任何人" in " ".join(w.value for w in at.warning)  # said in the staff member's language
    at.button(key="vis_cancel").click().run()
    assert _visibility(arch, item) == "members"
    assert not at.warning and [b for b in at.button if b.key == "vis_save"]


def test_narrowing_is_saved_at_once(arch):
    item = arch.ids["extra1"]
    _set(arch, item, "public")
    at = _editor(item)
    at.radio(key="vis_level").set_value("staff")
    at.button(key="vis_save").click().run()
    assert _visibility(arch, item) == "staff"
    assert not at.warning


def test_an_embargo_that_opens_wider_later_asks_too(arch):
    item = arch.ids["extra0"]
    _set(arch, item, "staff")
    at = _editor(item)
    at.checkbox(key="vis_embargo").check().run()
    at.radio(key="vis_then").set_value("public")
    at.button(key="vis_save").click().run()
    cat = Catalog.open(arch.settings)
    try:
        assert cat.get_item(item).embargo_until is None  # not yet
    finally:
        cat.close()
    assert "embargo" in " ".join(w.value for w in at.warning)
    at.button(key="vis_confirm").click().run()
    cat = Catalog.open(arch.settings)
    try:
        stored = cat.get_item(item)
    finally:
        cat.close()
    assert stored.visibility == "staff" and stored.embargo_visibility == "public"
    assert stored.embargo_until


def test_the_embargo_fields_show_only_while_the_embargo_is_ticked(arch):
    item = arch.ids["extra1"]
    _set(arch, item, "staff")
    at = _editor(item)
    assert not at.checkbox(key="vis_embargo").value
    assert not [d for d in at.date_input if d.key == "vis_until"]
    assert not [r for r in at.radio if r.key == "vis_then"]
    at.checkbox(key="vis_embargo").check().run()
    assert [d for d in at.date_input if d.key == "vis_until"]
    assert [r for r in at.radio if r.key == "vis_then"]
    at.checkbox(key="vis_embargo").uncheck().run()
    assert not [d for d in at.date_input if d.key == "vis_until"]
    assert "Embargo ends on" not in texts(at)


def test_a_new_recording_is_not_made_public_in_one_click(arch):
    """The Upload page: Members or Public for a new recording says what it means and needs an
    explicit tick; Staff only (the default) needs none."""
    cat = Catalog.open(arch.settings)
    try:
        before = len(cat.list_jobs(limit=1000))
    finally:
        cat.close()
    at = log_in(open_page(new_session(lang="en", timeout=90), lang="en"), "staff1", PASSWORD)
    open_page(at, "upload", lang="en")
    at.segmented_control(key="upload_source").set_value("link").run()
    at.text_input(key="upload_url").set_value("https://example.org/talks/open.mp4")
    at.text_input(key="meta_title_en").set_value("An open talk")
    at.selectbox(key="meta_visibility").set_value("public")
    at.button(key="meta_submit").click().run()
    shown = " ".join(e.value for e in at.error)
    assert "Anyone on the internet" in shown and "Tick the box" in shown, shown
    cat = Catalog.open(arch.settings)
    try:
        assert len(cat.list_jobs(limit=1000)) == before  # nothing queued
    finally:
        cat.close()
    at.checkbox(key="meta_wide_ok").check()
    at.button(key="meta_submit").click().run()
    cat = Catalog.open(arch.settings)
    try:
        job = cat.list_jobs(limit=1)[0]
        assert len(cat.list_jobs(limit=1000)) == before + 1
        assert job.payload["options"]["visibility"] == "public"
    finally:
        cat.close()


def test_an_events_recording_by_link_is_not_made_public_in_one_click(arch):
    from datetime import UTC, datetime

    from archive.hub.events import create_event, pending_attachment

    cat = Catalog.open(arch.settings)
    try:
        event = create_event(
            arch.settings, cat, title_en="Open evening", start=f"{datetime.now(UTC).year + 1}-09-01 19:00",
            tz="Europe/London", duration_minutes=60, visibility="public",
        )  # fmt: skip
    finally:
        cat.close()
    at = log_in(open_page(new_session(lang="en", timeout=90), lang="en"), "staff1", PASSWORD)
    open_page(at, "events_admin", event=event.id, lang="en")
    at.text_input(key="attach_url").set_value("https://example.org/talks/evening.mp4")
    at.selectbox(key="attach_visibility").set_value("public")
    labels = [b.label for b in at.button]
    at.button[labels.index("Archive the recording")].click().run()
    assert "Anyone on the internet" in " ".join(e.value for e in at.error)
    cat = Catalog.open(arch.settings)
    try:
        assert pending_attachment(cat, event.id) is None  # nothing queued
    finally:
        cat.close()
    at.checkbox(key="attach_wide_ok").check()
    labels = [b.label for b in at.button]
    at.button[labels.index("Archive the recording")].click().run()
    cat = Catalog.open(arch.settings)
    try:
        job = pending_attachment(cat, event.id)
        assert job is not None and job.payload["options"]["visibility"] == "public"
    finally:
        cat.close()
