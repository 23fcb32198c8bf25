"""The archive's key (``<home>/secret.key``) is made once, whole, even when many threads ask for it
at the same moment on a new data folder: every one of them gets the same 32 bytes. (Before, a
reader could find the file made but not yet written and take an empty key: its HMACs, tokens and
log-in counts then differed from everyone else's, and parallel log-in guesses escaped the count.)
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from archive.core.config import load_settings
from archive.core.errors import ConfigError
from archive.core.keys import load_secret


def _all_at_once(settings, count: int) -> list[bytes]:
    barrier = threading.Barrier(count)
    keys: list[bytes] = []
    lock = threading.Lock()

    def take() -> None:
        barrier.wait()
        key = load_secret(settings)
        with lock:
            keys.append(key)

    threads = [threading.Thread(target=take) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return keys


def test_threads_racing_on_a_new_folder_all_get_the_one_key(tmp_path: Path):
    for attempt in range(30):
        settings = load_settings(tmp_path / f"home{attempt}").ensure()
        keys = _all_at_once(settings, 12)
        assert len(keys) == 12
        assert {len(k) for k in keys} == {32}, attempt
        assert len(set(keys)) == 1, attempt
        stored = (settings.home / "secret.key").read_text().strip()
        assert bytes.fromhex(stored) == keys[0]
        assert (settings.home / "secret.key").stat().st_mode & 0o777 == 0o600
        assert not list(settings.home.glob(".secret-*"))  # no temporary file left behind


def test_an_empty_or_short_key_file_is_refused_not_used(tmp_path: Path):
    settings = load_settings(tmp_path / "home").ensure()
    key_file = settings.home / "secret.key"
    for damaged in ("", "abcd", "zz" * 32):
        key_file.write_text(damaged)
        with pytest.raises(ConfigError, match="damaged"):
            load_secret(settings)
