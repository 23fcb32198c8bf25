"""A logged-in viewer's file link is bound to the session it was minted in, as the docs say
(security issue 18, point 14).

Before, a link was bound to the user only: one minted in a session that has since logged out
still opened in the same person's other session (another browser, a shared computer's next
user logging in as the same account). Now the link carries a tag of its session's token, and
is honoured only beside that same session's live cookie. Two sessions begun in the same second
are two tokens, so logging out of one never ends the other.

Real catalog, real accounts, the real file routes through Starlette's client.
"""

from __future__ import annotations

from datetime import date

import pytest

from archive.catalog.access import Viewer
from archive.hub.events import create_event
from archive.portal.routes.files import calendar_url, routes
from archive.portal.sessions import COOKIE_NAME, revoke, session_viewer
from archive.workspace.accounts import add_user, authenticate, create_session

PASSWORD = "correct horse battery"
MEMBER = Viewer("members", "mei")


@pytest.fixture
def served(settings, catalog):
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    add_user(catalog, "mei", "members", PASSWORD, actor="test")
    event = create_event(settings, catalog, title_en="Members' meeting",
                         start=f"{date.today().year + 1}-05-01 19:00", tz="Asia/Hong_Kong",
                         duration_minutes=60, visibility="members")  # fmt: skip
    client = TestClient(Starlette(routes=routes(settings)), base_url="http://127.0.0.1")
    return client, event.id


def _session(catalog, settings) -> str:
    return create_session(catalog, settings, authenticate(catalog, "mei", PASSWORD))


def _status(client, url: str, token: str | None) -> int:
    client.cookies.clear()
    headers = {"Cookie": f"{COOKIE_NAME}={token}"} if token else {}
    return client.get(url, headers=headers).status_code


def test_a_link_opens_only_in_the_session_it_was_minted_in(served, settings, catalog):
    client, event = served
    first, second = _session(catalog, settings), _session(catalog, settings)
    link = calendar_url(settings, event, MEMBER, first)
    assert _status(client, link, first) == 200
    # The same person, logged in elsewhere: the link from the first session opens nothing.
    assert _status(client, link, second) == 404
    assert _status(client, calendar_url(settings, event, MEMBER, second), second) == 200


def test_a_logged_out_sessions_link_does_not_open_in_the_same_users_other_session(
    served, settings, catalog
):
    client, event = served
    first, second = _session(catalog, settings), _session(catalog, settings)
    link = calendar_url(settings, event, MEMBER, first)
    revoke(settings, first)  # log-out of the first session
    assert _status(client, link, first) == 404
    assert _status(client, link, second) == 404
    assert session_viewer(catalog, settings, second) == MEMBER  # the other session goes on


def test_a_logged_in_viewers_link_minted_without_a_session_opens_nothing(served, settings, catalog):
    client, event = served
    token = _session(catalog, settings)
    assert _status(client, calendar_url(settings, event, MEMBER), token) == 404


def test_two_sessions_begun_together_are_two_sessions(settings, catalog):
    add_user(catalog, "kit", "staff", PASSWORD, actor="test")
    account = authenticate(catalog, "kit", PASSWORD)
    first, second = _both(catalog, settings, account)
    assert first != second
    revoke(settings, first)
    assert session_viewer(catalog, settings, first) is None
    assert session_viewer(catalog, settings, second) == Viewer("staff", "kit")


def _both(catalog, settings, account) -> tuple[str, str]:
    """Two sessions of one account begun in the same second (retried across a second's edge)."""
    import time

    for _ in range(5):
        at = int(time.time())
        a, b = (
            create_session(catalog, settings, account),
            create_session(catalog, settings, account),
        )
        if int(time.time()) == at:
            return a, b
    raise AssertionError("could not begin two sessions within one second")
