"""Every page's header lists Series beside Events; staff find "New event" in their menu; the
calendar is offered as a ``webcal:`` subscription with its address to copy."""

from __future__ import annotations

import portal_data
import pytest
from portal_harness import archive_home, log_in, new_session, open_page

from archive.catalog.db import Catalog
from archive.core.config import load_settings
from archive.workspace.accounts import add_user

PASSWORD = "correct horse battery staple"
ORIGIN = "https://archive.example.org"


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("header-portal")
    arch = portal_data.build(home, long_talk=False, extra=0)
    cat = Catalog.open(load_settings(home))
    add_user(cat, "staffer", "staff", PASSWORD)
    cat.close()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ARCHIVE_PUBLIC_URL", ORIGIN)
        with archive_home(home):
            yield arch


def _links(at) -> dict[str, str]:
    return {link.proto.label: link.proto.page for link in at.get("page_link")}


@pytest.mark.parametrize("page", ["search", "browse", "about", "upcoming"])
def test_the_header_offers_series_on_every_page(portal, page):
    links = _links(open_page(new_session(lang="en"), page, lang="en"))
    assert "Series" in links and "series" in links["Series"], links


def test_staff_find_new_event_in_their_menu_and_visitors_do_not(portal):
    assert "New event" not in _links(open_page(new_session(lang="en"), "search", lang="en"))
    at = log_in(new_session(lang="en"), "staffer", PASSWORD)
    open_page(at, "search", lang="en")
    links = _links(at)
    assert "New event" in links and "events_admin" in links["New event"], links


def test_the_calendar_is_a_webcal_subscription_with_an_address_to_copy(portal):
    at = open_page(new_session(lang="en"), "upcoming", lang="en")
    html = "\n".join(str(m.value) for m in at.markdown)
    assert 'href="webcal://archive.example.org/feeds/events.ics"' in html, html
    assert [c.value for c in at.code] == [f"{ORIGIN}/feeds/events.ics"]
