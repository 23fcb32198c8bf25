"""The command line as a user meets it: help with examples, one-line errors, the end-to-end ingest."""

from __future__ import annotations

import json

import pytest
from conftest import run_cli

from archive.cli import cli
from archive.cli import main as cli_main

COMMANDS = ["ingest", "list", "show", "export", "jobs", "worker", "retry", "cancel", "demo", "cite"]


def _all_commands() -> list[tuple[str, ...]]:
    import click

    ctx = click.Context(cli)
    paths: list[tuple[str, ...]] = []
    for name in cli.list_commands(ctx):
        command = cli.get_command(ctx, name)
        paths.append((name,))
        if isinstance(command, click.Group):
            paths.extend((name, sub) for sub in command.list_commands(ctx))
    return paths


def test_the_commands_later_issues_rely_on_exist():
    names = {p[0] for p in _all_commands()}
    assert set(COMMANDS) <= names


@pytest.mark.parametrize("path", _all_commands(), ids=lambda p: " ".join(p))
def test_every_command_has_help_with_an_example(path, capsys):
    code = cli_main([*path, "--help"])
    out = capsys.readouterr().out
    assert code == 0
    assert "Example" in out and "archive " in out.split("Example", 1)[1]


def test_module_entry_point(home):
    result = run_cli(home, "--help")
    assert result.returncode == 0 and "ingest" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["show", "nosuchitem"], "error: no item nosuchitem"),
        (["export", "nosuchitem"], "error: no item nosuchitem"),
        (["retry", "99"], "error: no job 99"),
        (["ingest", "x.mp4", "--collection", "music"], "error: Invalid value for '--collection'"),
        (["nosuchcommand"], "error: No such command 'nosuchcommand'"),
    ],
)
def test_errors_are_one_line_without_traceback(home, args, message):
    result = run_cli(home, *args)
    assert result.returncode != 0
    assert result.stderr.startswith(message), result.stderr
    assert "Traceback" not in result.stderr


def test_a_data_folder_that_is_a_file(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    result = run_cli(blocker, "list")
    assert result.returncode != 0 and "is a file, not a folder" in result.stderr


@pytest.mark.slow
def test_ingest_wait_gives_both_tracks_and_exports(home, tmp_path, fixtures_dir):
    """The issue's user story: a Cantonese talk in, HK Traditional + English tracks out."""
    result = run_cli(
        home,
        "ingest",
        str(fixtures_dir / "yue/sensevoice_test_yue.wav"),
        "--title-zh",
        "表達",
        "--title-en",
        "Expression",
        "--collection",
        "interview",
        "--speaker",
        "Speaker A",
        "--visibility",
        "public",
        "--language",
        "yue",
        "--wait",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["language"] == "yue" and data["transcript"]["decode_language"] == "zh"
    assert data["revision"] == 1 and data["visibility"] == "public"
    segments = data["segments"]
    assert segments and set(segments[0]) == {"start", "end", "text_zh", "text_en", "lang"}
    assert all(s["lang"] == "zh" and s["text_zh"] and s["end"] > s["start"] for s in segments)
    assert any(s["text_en"] for s in segments)  # the machine English track
    assert "这" not in "".join(s["text_zh"] for s in segments)  # Traditional, not Simplified

    listed = json.loads(run_cli(home, "list", "--json").stdout)
    assert [i["id"] for i in listed] == [data["id"]]
    for fmt, marker in (
        ("srt", "-->"),
        ("vtt", "WEBVTT"),
        ("txt", "[00:00"),
        ("json", '"segments"'),
    ):
        for track in ("zh", "en"):
            out = tmp_path / f"talk.{track}.{fmt}"
            exported = run_cli(
                home, "export", data["id"], "--format", fmt, "--track", track, "-o", str(out)
            )
            assert exported.returncode == 0, exported.stderr
            text = out.read_text(encoding="utf-8")
            assert marker in text
            expected = (
                segments[0]["text_zh"]
                if track == "zh"
                else next(s["text_en"] for s in segments if s["text_en"])
            )
            assert expected.split()[0] in text
    shown = run_cli(home, "show", data["id"])
    assert segments[0]["text_zh"] in shown.stdout


def test_role_hides_staff_items_from_the_command_line(home, fixtures_dir):
    created = json.loads(
        run_cli(
            home, "ingest", str(fixtures_dir / "en/jfk.flac"), "--no-transcribe", "--wait", "--json"
        ).stdout
    )
    assert created["visibility"] == "staff"
    for role in ("public", "members"):
        assert json.loads(run_cli(home, "list", "--role", role, "--json").stdout) == []
        shown = run_cli(home, "show", created["id"], "--role", role)
        assert shown.returncode != 0 and shown.stderr.strip() == f"error: no item {created['id']}"
    assert [i["id"] for i in json.loads(run_cli(home, "list", "--json").stdout)] == [created["id"]]
