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
from archive.workspace.accounts import add_user

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def arch(tmp_path_factory: pytest.TempPathFactory) -> portal_data.DemoArchive:
    home = tmp_path_factory.mktemp("visibility-form")
    built = portal_data.build(home, long_talk=False, extra=2)
    cat = Catalog.open(built.settings)
    add_user(cat, "staff1", "staff", PASSWORD, actor="test")
    cat.close()
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
