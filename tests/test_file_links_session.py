"""File links are bound to the person and their live sessions (docs/security.md, "Operating
safely"): a link minted for a logged-in member works only alongside a live session cookie of that
same account; no cookie, another account's cookie, or no live session left gets nothing. A link
from a session that logged out still works in the same person's other live session, which may
open the same file itself."""

from __future__ import annotations

import urllib.error
import urllib.request

import portal_data
import pytest

from archive.catalog.access import Viewer
from archive.catalog.db import Catalog
from archive.portal.routes.files import media_url
from archive.portal.sessions import COOKIE_NAME, revoke
from archive.workspace.accounts import add_user, authenticate, create_session

PASSWORD = "correct horse battery staple"


def _status(url: str, token: str | None) -> int:
    headers = {"Cookie": f"{COOKIE_NAME}={token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as r:
            r.read(1)
            return r.status
    except urllib.error.HTTPError as err:
        return err.code


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("file-links")
    arch = portal_data.build(home, long_talk=False, extra=0)
    cat = Catalog.open(arch.settings)
    add_user(cat, "mei", "members", PASSWORD, actor="test")
    add_user(cat, "ed", "staff", PASSWORD, actor="test")
    cat.close()
    with portal_data.Portal(home) as running:
        yield arch, running


def test_a_members_link_needs_a_live_session_of_the_same_account(portal):
    arch, running = portal
    cat = Catalog.open(arch.settings)
    try:
        mei = authenticate(cat, "mei", PASSWORD)
        first = create_session(cat, arch.settings, mei)
        second = first
        while second == first:  # a session token names its second: a log-in a moment later
            second = create_session(cat, arch.settings, mei)
        other = create_session(cat, arch.settings, authenticate(cat, "ed", PASSWORD))
    finally:
        cat.close()
    url = running.url + media_url(
        arch.settings, arch.ids["dock"], "audio", Viewer("members", "mei")
    )
    assert _status(url, first) in (200, 206)
    assert _status(url, None) == 404
    assert _status(url, other) == 404  # another person's session, even a staff one
    revoke(arch.settings, first)
    assert _status(url, first) == 404  # the session that logged out
    assert _status(url, second) in (200, 206)  # the same person's other live session (documented)
    revoke(arch.settings, second)
    assert _status(url, second) == 404  # no live session of the account is left
