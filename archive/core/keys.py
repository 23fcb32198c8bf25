"""The archive's own secret: ``<home>/secret.key``, 32 random bytes (hex, mode 0600).

Everything keyed by the archive asks here: portal sessions (:mod:`archive.workspace.accounts`), the file
routes' tokens (:mod:`archive.portal.routes.files`), upload tokens (:mod:`archive.portal.sessions`) and the keyed
hashes of log-in counts. It is made on first use, survives restarts, and every process sharing the
data folder agrees on it. It is never put into a backup bag (see docs/security.md).

>>> key = load_secret(settings)
>>> len(key)
32
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

from archive.core.config import Settings
from archive.core.errors import ConfigError

__all__ = ["SECRET_NAME", "load_secret"]

SECRET_NAME = "secret.key"


def load_secret(settings: Settings) -> bytes:
    """The archive's signing key (32 random bytes), created (0600) on first use.

    Made whole in a temporary file and then linked into place, so a process or thread that reads
    it while another is making it sees the complete key or none, never an empty file (which
    would have given it a different key: other HMACs, other tokens, its own log-in counts).
    """
    path = Path(settings.home) / SECRET_NAME
    try:
        return _read_secret(path)
    except FileNotFoundError:
        pass
    settings.ensure()
    value = secrets.token_hex(32)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".secret-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(value + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp_name, 0o600)
        try:
            os.link(tmp_name, path)  # fails if it exists: the first one made wins
        except FileExistsError:
            return _read_secret(path)
    finally:
        os.unlink(tmp_name)
    return bytes.fromhex(value)


def _read_secret(path: Path) -> bytes:
    try:
        key = bytes.fromhex(path.read_text().strip())
    except ValueError:
        key = b""
    if len(key) != 32:
        raise ConfigError(f"{path} is damaged: delete it to make a new key (open links expire)")
    return key
