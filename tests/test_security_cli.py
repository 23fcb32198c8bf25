"""Every command-line route, run as public and as members, reveals nothing of a staff-only item or
a redacted segment.

Unique canary words are planted in a staff-only item (title, description, speaker, transcript), a
members-only item, and a redacted segment (text in both tracks and its speaker) of a public item.
All stdout and stderr of ``list show export search cite`` with ``--role public|members`` is checked
for them. Staff runs of the same commands must show them (so the check looks in the right place).
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import run_cli

from archive.ingest.pipeline import reindex_item
from archive.workspace.visibility import redact_segment
from transcripts.segments import Segment

STAFF_CANARY = "zebracanary"
MEMBERS_CANARY = "ocelotcanary"
REDACTED_CANARY = "lynxcanary"
REDACTED_CANARY_ZH = "貓頭鷹暗號"
REDACTED_AT = "00:00:07"


@pytest.fixture
def archive_home(settings, catalog):
    staff = catalog.create_item(
        title_en=f"Strike committee {STAFF_CANARY} minutes", title_zh=f"罷工委員會 {STAFF_CANARY}",
        description_en=f"Names of {STAFF_CANARY} organisers", speakers=[f"Speaker{STAFF_CANARY}"],
        visibility="staff", collection="interview", recorded_date="2019-06-12",
    )  # fmt: skip
    catalog.add_revision(staff.id, [
        Segment(0.0, 5.0, text_en=f"The strike was planned by {STAFF_CANARY} at the depot.", lang="en",
                speaker=f"Speaker{STAFF_CANARY}"),
        Segment(5.0, 9.0, text_zh=f"罷工由{STAFF_CANARY}組織。", lang="zh"),
    ], origin="whisper")  # fmt: skip
    members = catalog.create_item(
        title_en=f"Members briefing {MEMBERS_CANARY}", visibility="members", collection="webinar",
        recorded_date="2020-01-01",
    )  # fmt: skip
    catalog.add_revision(members.id, [
        Segment(0.0, 5.0, text_en=f"The strike fund {MEMBERS_CANARY} is open.", lang="en"),
    ], origin="whisper")  # fmt: skip
    public = catalog.create_item(
        title_en="Dock strike, ten years on", title_zh="碼頭工人罷工十周年", visibility="public",
        collection="webinar", recorded_date="2023-05-01", speakers=["Lee Cheuk-yan"],
    )  # fmt: skip
    catalog.add_revision(public.id, [
        Segment(0.0, 5.0, text_en="The strike lasted forty days.", text_zh="罷工持續咗四十日。", lang="zh",
                speaker="Lee Cheuk-yan", uid="pub000000001"),
        Segment(5.0, 10.0, text_en=f"My cousin {REDACTED_CANARY} drove the crane that night.",
                text_zh=f"我表哥{REDACTED_CANARY_ZH}嗰晚揸吊機。", lang="zh",
                speaker=f"Cousin {REDACTED_CANARY}", uid="pub000000002"),
        Segment(10.0, 15.0, text_en="The strike ended with a pay rise.", text_zh="罷工最後加咗人工。", lang="zh",
                speaker="Lee Cheuk-yan", uid="pub000000003"),
    ], origin="whisper")  # fmt: skip
    for item in (staff, members, public):
        reindex_item(settings, catalog, item.id)
    redact_segment(
        catalog,
        settings,
        public.id,
        uid="pub000000002",
        actor="alice",
        reason="identifies a relative",
    )
    catalog.close()  # the subprocesses open it themselves
    return settings.home, {"staff": staff.id, "members": members.id, "public": public.id}


def _commands(ids: dict[str, str], role: str) -> list[tuple[str, ...]]:
    staff, members, public = ids["staff"], ids["members"], ids["public"]
    r = ("--role", role)
    commands: list[tuple[str, ...]] = [
        ("list", *r), ("list", *r, "--json"), ("list", *r, "--collection", "interview", "--json"),
        ("show", staff, *r), ("show", staff, *r, "--json"), ("show", staff, *r, "--rev", "1", "--json"),
        ("show", public, *r), ("show", public, *r, "--json"), ("show", public, *r, "--rev", "1", "--json"),
        ("export", staff, *r, "--format", "json"), ("export", staff, *r, "--format", "txt", "--track", "en"),
        ("cite", staff, *r), ("cite", staff, *r, "--at", "00:00:02", "--json"),
        ("cite", public, *r, "--at", REDACTED_AT, "--json"),
        ("cite", public, *r, "--at", REDACTED_AT, "--rev", "1", "--style", "bibtex"),
        ("cite", public, *r, "--at", REDACTED_AT, "--style", "apa"),
        ("search", STAFF_CANARY, *r, "--json"), ("search", STAFF_CANARY, *r),
        ("search", REDACTED_CANARY, *r, "--json"), ("search", REDACTED_CANARY_ZH, *r, "--json"),
        ("search", "strike", *r, "--json"), ("search", "strike", *r),
        ("search", "罷工", *r, "--json"), ("search", "crane", *r, "--json"),
        ("search", f'speaker:"Cousin {REDACTED_CANARY}"', *r, "--json"),
        ("search", f"speaker:Speaker{STAFF_CANARY}", *r, "--json"),
        ("search", "strike", "--collection", "interview", *r, "--json"),
        ("search", "strike", "--year", "2019", *r, "--json"),
    ]  # fmt: skip
    for fmt in ("srt", "vtt", "txt", "json"):
        for track in ("zh", "en"):
            commands.append(("export", public, *r, "--format", fmt, "--track", track))
    commands += [
        ("export", public, *r, "--format", "json", "--track", t, "--rev", "1") for t in ("zh", "en")
    ]
    if role == "public":
        commands += [("show", members, *r, "--json"), ("export", members, *r, "--format", "json"),
                     ("cite", members, *r), ("search", MEMBERS_CANARY, *r, "--json")]  # fmt: skip
    return commands


def _run_all(home, commands):
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(lambda args: (args, run_cli(home, *args)), commands))


def _forbidden(role: str) -> list[str]:
    words = [STAFF_CANARY, REDACTED_CANARY, REDACTED_CANARY_ZH]
    return words + [MEMBERS_CANARY] if role == "public" else words


@pytest.mark.parametrize("role", ["public", "members"])
def test_no_cli_route_reveals_staff_items_or_redacted_text(archive_home, role) -> None:
    home, ids = archive_home
    results = _run_all(home, _commands(ids, role))
    leaks = []
    for args, proc in results:
        out = (proc.stdout + proc.stderr).lower()
        assert "traceback" not in out and "internal error" not in out, (args, proc.stderr)
        leaks += [(args, word) for word in _forbidden(role) if word.lower() in out]
    assert leaks == []
    by_args = {args: proc for args, proc in results}
    # The staff item is "not found", exactly like an id that does not exist.
    shown = by_args[("show", ids["staff"], "--role", role, "--json")]
    missing = run_cli(home, "show", "nosuchitem", "--role", role)
    assert shown.returncode == missing.returncode == 1
    assert shown.stderr.replace(ids["staff"], "ID") == missing.stderr.replace("nosuchitem", "ID")
    # The routes that should work did work: the public item is there, with its redacted gap.
    document = json.loads(by_args[("show", ids["public"], "--role", role, "--json")].stdout)
    assert [s.get("redacted", False) for s in document["segments"]] == [False, True, False]
    assert (
        "forty days"
        in by_args[
            ("export", ids["public"], "--role", role, "--format", "txt", "--track", "en")
        ].stdout
    )
    listed = json.loads(by_args[("list", "--role", role, "--json")].stdout)
    assert ids["public"] in {row["id"] for row in listed} and ids["staff"] not in {
        row["id"] for row in listed
    }
    cited = json.loads(
        by_args[("cite", ids["public"], "--role", role, "--at", REDACTED_AT, "--json")].stdout
    )
    assert cited["quote_redacted"] is True
    found = json.loads(by_args[("search", "strike", "--role", role, "--json")].stdout)
    assert ids["public"] in json.dumps(found) and ids["staff"] not in json.dumps(found)


def test_staff_see_what_the_others_do_not(archive_home) -> None:
    home, ids = archive_home
    checks = {
        ("show", ids["staff"], "--role", "staff", "--json"): STAFF_CANARY,
        ("show", ids["public"], "--role", "staff", "--json"): REDACTED_CANARY,
        (
            "segments",
            ids["public"],
            "--json",
        ): REDACTED_CANARY_ZH,  # exports never include it, even for staff
        ("search", REDACTED_CANARY, "--role", "staff", "--json"): REDACTED_CANARY,
        ("search", STAFF_CANARY, "--role", "staff", "--json"): STAFF_CANARY,
        ("list", "--role", "staff"): STAFF_CANARY,
        ("list", "--role", "members"): MEMBERS_CANARY,
    }
    for args, proc in _run_all(home, list(checks)):
        assert proc.returncode == 0, (args, proc.stderr)
        assert checks[args].lower() in proc.stdout.lower(), args


def test_search_facets_count_nothing_hidden(archive_home) -> None:
    indexer = pytest.importorskip("indexer")
    from archive.core.config import load_settings

    home, ids = archive_home
    index = indexer.SearchIndex.open(load_settings(home))
    for role in ("public", "members"):
        results = index.search("strike", role=role)
        facets = json.dumps(results.facets, ensure_ascii=False).lower()
        assert STAFF_CANARY not in facets and REDACTED_CANARY not in facets
        assert (
            "interview" not in facets and "2019" not in facets
        )  # the staff item's collection/year
        assert ids["staff"] not in json.dumps(results.to_dict(), ensure_ascii=False)
    staff_facets = json.dumps(
        index.search("strike", role="staff").facets, ensure_ascii=False
    ).lower()
    assert "interview" in staff_facets and STAFF_CANARY in staff_facets
