"""The ``archive speakers`` command as one more command-line route (issue 20, point 2), swept like
the others in ``tests/test_security_cli.py`` and on its planted archive: run as public and as
members it reveals no staff-only or members-only item and no redacted segment's text or speaker,
and a staff-only item answers exactly as an unknown id. Staff runs show the canaries (so the check
looks in the right place).
"""

from __future__ import annotations

import json

import pytest
from conftest import run_cli
from test_security_cli import (  # noqa: F401 - the planted archive is that file's fixture
    REDACTED_CANARY,
    STAFF_CANARY,
    _forbidden,
    archive_home,
)


def _runs(home, ids, role):
    r = ("--role", role)
    calls = [
        ("speakers", ids[k], *r, *j)
        for k in ("staff", "members", "public")
        for j in ((), ("--json",))
    ]
    calls += [("speakers", "list", ids["public"], *r, "--rev", "1", "--json")]
    return {args: run_cli(home, *args) for args in calls}


@pytest.mark.parametrize("role", ["public", "members"])
def test_speakers_reveals_nothing_above_the_role(archive_home, role) -> None:  # noqa: F811
    home, ids = archive_home
    results = _runs(home, ids, role)
    leaks = [
        (args, word)
        for args, proc in results.items()
        for word in _forbidden(role)
        if word.lower() in (proc.stdout + proc.stderr).lower()
    ]
    assert leaks == []
    for args, proc in results.items():
        assert "traceback" not in proc.stderr.lower(), (args, proc.stderr)
    missing = run_cli(home, "speakers", "nosuchitem", "--role", role)
    staff_only = results[("speakers", ids["staff"], "--role", role)]
    assert staff_only.returncode == missing.returncode == 1
    assert staff_only.stderr.replace(ids["staff"], "ID") == missing.stderr.replace(
        "nosuchitem", "ID"
    )
    public = json.loads(results[("speakers", ids["public"], "--role", role, "--json")].stdout)
    # The redacted segment counts for no one: not even as a break between Lee Cheuk-yan's turns.
    assert [(s["name"], s["talk_seconds"], s["turns"]) for s in public["speakers"]] == [
        ("Lee Cheuk-yan", 10.0, 1)
    ]


def test_staff_see_what_lower_roles_do_not(archive_home) -> None:  # noqa: F811
    home, ids = archive_home
    public = json.loads(run_cli(home, "speakers", ids["public"], "--json").stdout)
    assert [(s["name"], s["turns"]) for s in public["speakers"]] == [
        ("Lee Cheuk-yan", 2), (f"Cousin {REDACTED_CANARY}", 1),
    ]  # fmt: skip
    assert STAFF_CANARY in run_cli(home, "speakers", ids["staff"]).stdout
