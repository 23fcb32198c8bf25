"""``archive search`` and ``archive index rebuild|verify|update`` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli
from search_corpus import Archive, make_archive


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory, engine: str) -> Archive:
    return make_archive(tmp_path_factory.mktemp("home"), engine=engine)


def test_search_json(archive: Archive) -> None:
    proc = run_cli(archive.settings.home, "search", "碼頭工人罷工", "--json")
    assert proc.returncode == 0, proc.stderr
    hits = json.loads(proc.stdout)
    assert hits and isinstance(hits, list)
    first = hits[0]
    for key in ("item_id", "start", "end", "text_zh", "text_en", "lang", "title_zh", "title_en",
                "permalink", "score", "highlights", "expansions"):  # fmt: skip
        assert key in first
    assert first["permalink"] == f"?item={first['item_id']}&t={int(first['start'])}"
    assert "dock strike" in first["expansions"]
    assert any("<mark>碼頭工人罷工</mark>" in h["highlights"]["zh"] for h in hits)
    assert "also searched:" in proc.stderr


def test_search_text_output(archive: Archive) -> None:
    proc = run_cli(archive.settings.home, "search", "dock", "strike", "--limit", "1")
    assert proc.returncode == 0, proc.stderr
    assert "Also searched:" in proc.stdout
    assert "碼頭工人罷工十周年 / Dock strike, ten years on" in proc.stdout
    assert "0:00:00" in proc.stdout and "?item=" in proc.stdout
    assert "[碼頭工人罷工]" in proc.stdout  # highlighted, not coloured when piped


@pytest.mark.parametrize(
    ("role", "visible"), [("public", False), ("members", False), ("staff", True)]
)
def test_search_role(archive: Archive, role: str, visible: bool) -> None:
    proc = run_cli(archive.settings.home, "search", "zephyrine", "--role", role, "--json")
    assert proc.returncode == 0, proc.stderr
    assert bool(json.loads(proc.stdout)) is visible


def test_search_default_role_is_public(archive: Archive) -> None:
    proc = run_cli(archive.settings.home, "search", "dissolution", "--json")
    assert json.loads(proc.stdout) == []


def test_search_collection_option(archive: Archive) -> None:
    proc = run_cli(archive.settings.home, "search", "strike", "--collection", "interview", "--json")
    assert {h["item_id"] for h in json.loads(proc.stdout)} == {archive.built.ids["bar"]}


@pytest.mark.parametrize("query", ['"unbalanced', "((", "OR", "🔥", "-"])
def test_malformed_query_on_the_command_line(archive: Archive, query: str) -> None:
    proc = run_cli(archive.settings.home, "search", query)
    assert proc.returncode == 0, proc.stderr
    assert "Note:" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_bad_role_is_a_usage_error(archive: Archive) -> None:
    proc = run_cli(archive.settings.home, "search", "strike", "--role", "admin")
    assert proc.returncode != 0 and "admin" in proc.stderr


def test_rebuild_and_verify(tmp_path: Path, engine: str) -> None:
    archive = make_archive(tmp_path / "home", keys=["dock", "bar"], engine=engine)
    ok = run_cli(archive.settings.home, "index", "verify")
    assert ok.returncode == 0 and "agrees with the catalog (2 items)" in ok.stdout
    archive.catalog.update_item(archive.built.ids["bar"], visibility="staff")
    bad = run_cli(archive.settings.home, "index", "verify")
    assert bad.returncode == 1
    assert (
        f"{archive.built.ids['bar']}: indexed as visible to public, the catalog says staff"
        in bad.stdout
    )
    rebuilt = run_cli(archive.settings.home, "index", "rebuild")
    assert (
        rebuilt.returncode == 0
        and "Rebuilt the search index: 14 documents from 2 items" in rebuilt.stdout
    )
    assert run_cli(archive.settings.home, "index", "verify").returncode == 0


def test_update_command(tmp_path: Path, engine: str) -> None:
    archive = make_archive(tmp_path / "home", keys=["dock"], engine=engine)
    archive.catalog.update_item(archive.built.ids["dock"], title_en="Renamed")
    proc = run_cli(archive.settings.home, "index", "update", archive.built.ids["dock"])
    assert proc.returncode == 0 and "9 document(s) indexed" in proc.stdout
    assert run_cli(archive.settings.home, "index", "verify").returncode == 0


@pytest.mark.parametrize(
    "args",
    [
        ("search", "--help"),
        ("index", "--help"),
        ("index", "rebuild", "--help"),
        ("index", "verify", "--help"),
        ("index", "update", "--help"),
    ],  # fmt: skip
)
def test_help_has_an_example(tmp_path: Path, args: tuple[str, ...]) -> None:
    proc = run_cli(tmp_path, *args)
    assert proc.returncode == 0 and "Example" in proc.stdout
