"""Locks for writers of the search index: one writer at a time, across threads and processes.

:func:`file_lock` holds an ``fcntl.flock`` on a file (and a per-path ``RLock`` within the
process), waiting up to a timeout and then raising :class:`~archive.core.errors.IndexError_` in
plain words. Readers never take it. The kernel drops a dead process's flock, so a crash never
leaves a stale lock; a nested call in the same thread re-enters instead of waiting on itself.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from archive.core.errors import IndexError_
from archive.core.filemodes import PRIVATE_FILE, private_dir

__all__ = ["file_lock"]

_THREAD_LOCKS: dict[str, threading.RLock] = defaultdict(threading.RLock)
_HELD = threading.local()


@contextlib.contextmanager
def file_lock(path: Path, timeout: float, what: str) -> Iterator[None]:
    """Exclusive across threads (RLock) and processes (flock); waits up to ``timeout`` seconds."""
    key = str(path)
    with _THREAD_LOCKS[key]:
        held = getattr(_HELD, "paths", None)
        if held is None:
            held = _HELD.paths = set()
        if key in held:
            # Already ours (a nested call in this thread): a second flock on a new descriptor
            # of the same file would wait for ourselves forever.
            yield
            return
        held.add(key)
        try:
            with _flock(path, timeout, what):
                yield
        finally:
            held.discard(key)


@contextlib.contextmanager
def _flock(path: Path, timeout: float, what: str) -> Iterator[None]:
    """flock on ``path``, polling up to ``timeout`` seconds."""
    private_dir(path.parent)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise IndexError_(
                        f"another process has been {what} for over {timeout:.0f} s; try again later"
                    ) from None
                time.sleep(0.05)  # polling a kernel lock, not synchronising tests
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
