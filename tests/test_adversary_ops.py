"""The adversary sweep's operational cases (security issue 18): every route of the portal's own
app refuses a body larger than its limit without reading it, and a stranger guessing at a known
staff name from one address, or from many, does not keep the person out or freeze their session.

The route list is the portal's own (the routes ``archive.portal.asgi`` gives ``st.App``), so a
route added later is swept too. Helpers come from the focused test files (``test_body_limits``,
``test_lockout_stranger``).
"""

from __future__ import annotations

from datetime import UTC, datetime

from portal_data import in_process_port
from test_body_limits import SENT_AT_MOST, declared, streamed
from test_lockout_stranger import (
    ACCOUNT_FAILURES,
    HOME_ADDRESS,
    PASSWORD,
    WRONG,
    _distributed,
    _try,
)

from archive.catalog.access import Viewer
from archive.core.config import Settings
from archive.portal.routes.feeds import feed_routes
from archive.portal.routes.files import routes
from archive.portal.routes.limits import body_limit
from archive.portal.routes.uploads import upload_routes
from archive.portal.sessions import live_staff_viewer
from archive.workspace.accounts import MAX_FAILURES, add_user, authenticate, create_session


def _portal_paths(settings: Settings) -> list[str]:
    """One concrete path of every route of the portal's own app."""
    paths = []
    for route in [*routes(settings), *feed_routes(settings), *upload_routes(settings)]:
        path = route.path
        for name in route.param_convertors:
            path = path.replace("{" + name + "}", "x")
        paths.append(path)
    return paths


def test_every_portal_route_refuses_an_oversized_body_unread(settings):
    from starlette.applications import Starlette

    from archive.portal.asgi import middleware

    app = Starlette(
        routes=[*routes(settings), *feed_routes(settings), *upload_routes(settings)],
        middleware=middleware(settings),
    )
    paths = _portal_paths(settings)
    assert "/session/open" in paths and "/files/upload" in paths and len(paths) > 15
    with in_process_port(app) as port:
        for path in paths:
            assert declared(port, path, body_limit(settings, path) + 1) in (403, 413), path
            if path != "/files/upload":  # refused at 403 before reading (tests/test_body_limits)
                status, sent = streamed(port, path)
                # 413; or 405 (a GET-only route) or the answer of a route that reads no body
                # (/session/close): either way the body was not read on.
                assert status in (200, 405, 413) and sent < SENT_AT_MOST, (path, status, sent)


def test_a_stranger_cannot_keep_a_known_staff_member_out(catalog, settings):
    add_user(catalog, "chan", "staff", PASSWORD, actor="test")
    token = create_session(catalog, settings, authenticate(catalog, "chan", PASSWORD,
                                                           client=HOME_ADDRESS))  # fmt: skip
    now = datetime.now(UTC)
    for _ in range(MAX_FAILURES * 3):  # one address, well past its back-off
        assert _try(catalog, "chan", WRONG, "203.0.113.66", now) == "refused"
    assert _try(catalog, "chan", PASSWORD, HOME_ADDRESS, now) == "ok"
    # Many addresses: the account locks, the open session does not.
    _distributed(catalog, "chan", now, ACCOUNT_FAILURES // MAX_FAILURES + 1, first=50)
    assert _try(catalog, "chan", PASSWORD, HOME_ADDRESS, now) == "refused"
    assert live_staff_viewer(catalog, settings, token) == Viewer("staff", "chan")
