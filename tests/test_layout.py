"""The house's shape holds: imports run one way with no circles, no source file is too long, and
every package's plug-ins (commands, job kinds, periodic tasks, hooks) are declared and load.

The import rules themselves are import-linter's contracts in ``pyproject.toml``; this runs the tool
(``lint-imports``) so a broken floor fails the suite as well as ``make lint``.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from archive.core.plugins import declared, entry_points_of

ROOT = Path(__file__).resolve().parent.parent
SOURCE_FOLDERS = ("archive", "indexer", "transcripts", "bench", "scripts")
MAX_LINES = 800
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
ENTRY_POINTS = PYPROJECT["project"]["entry-points"]


def _sources() -> list[Path]:
    files = [ROOT / "streamlit_app.py"]
    for folder in SOURCE_FOLDERS:
        files += sorted((ROOT / folder).rglob("*.py"))
    return files


def test_import_linter_contracts_are_kept() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "Contracts: 2 kept, 0 broken." in done.stdout


def test_the_contracts_name_every_package_of_the_archive() -> None:
    """A new package outside the floors would escape the layers contract unnoticed."""
    contracts = PYPROJECT["tool"]["importlinter"]["contracts"]
    layers = next(c for c in contracts if c["type"] == "layers")["layers"]
    named = {part.strip() for layer in layers for part in layer.split("|")}
    packages = {f"archive.{p.parent.name}" for p in (ROOT / "archive").glob("*/__init__.py")} | {
        "archive.cli",
        "indexer",
        "transcripts",
    }
    assert packages == named


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_source_file_is_over_800_lines(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines"


def test_each_package_declares_one_commands_module_that_holds_all_its_commands() -> None:
    """A package's commands are all reachable through its ``commands.py`` (``*_commands.py``
    siblings are collected there), and that module is what ``archive.commands`` declares."""
    declared_modules = {value.split(":")[0] for value in ENTRY_POINTS["archive.commands"].values()}
    for folder in ("archive", "indexer", "transcripts"):
        for path in (ROOT / folder).rglob("*commands.py"):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            package_commands = module.rsplit(".", 1)[0] + ".commands"
            assert package_commands in declared_modules, module
            collected = importlib.import_module(package_commands).COMMANDS
            for command in importlib.import_module(module).COMMANDS:
                assert command in collected, (module, command.name)


@pytest.mark.parametrize("group", sorted(ENTRY_POINTS))
def test_every_declared_plug_in_is_installed_and_loads(group: str) -> None:
    """pyproject.toml and the installed metadata agree, and each object exists."""
    assert {p.name for p in entry_points_of(group)} >= set(ENTRY_POINTS[group])
    loaded = declared(group)
    for name in ENTRY_POINTS[group]:
        assert loaded[name] is not None


def test_periodic_tasks_and_job_kinds_come_from_their_owners() -> None:
    kinds = declared("archive.job_handlers")
    assert set(kinds) == {"ingest", "transcribe", "public-media", "embargoes", "fixity"}
    assert all(not h.__module__.startswith("archive.jobs") for h in kinds.values())
    tasks = {t.name: t for t in declared("archive.periodic_tasks").values()}
    assert set(tasks) == {"archive.recover", "archive.embargoes", "archive.fixity", "archive.index"}
