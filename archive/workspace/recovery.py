"""One-time recovery codes: what gets a person past a lock-out that strangers set.

What it promises: an account's recovery code is 100 random bits, shown once (when the account is
made, or when ``archive user recovery-code NAME`` issues a new one) and kept only as its SHA-256
digest in ``users.recovery_hash``; the code is unguessable, so a fast digest is enough, and a
restored archive's codes keep working without ``secret.key``. Used together with the right
password it lets the person in through an account lock (:func:`archive.workspace.accounts.authenticate`),
and is then spent. Typed codes are read leniently: case, spaces and dashes do not matter.

>>> code = new_code()
>>> len(code), code.count("-")
(23, 3)
>>> normalise(code.lower().replace("-", " ")) == normalise(code)
True
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import sqlite3

__all__ = ["CODE_GROUPS", "matches", "new_code", "normalise", "spend", "store"]

CODE_GROUPS = 4  # of five base32 characters: 20 characters, 100 bits
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def new_code() -> str:
    """A fresh code: ``XXXXX-XXXXX-XXXXX-XXXXX`` (base32, no 0/1/8/9 to misread)."""
    text = base64.b32encode(secrets.token_bytes(13)).decode("ascii")[: CODE_GROUPS * 5]
    return "-".join(text[i : i + 5] for i in range(0, len(text), 5))


def normalise(code: str | None) -> str:
    """A typed code as stored: upper case, without spaces and dashes; "" when it cannot be one."""
    if not isinstance(code, str) or len(code) > 100:
        return ""
    text = "".join(ch for ch in code.upper() if ch not in " -\t")
    if len(text) != CODE_GROUPS * 5 or any(ch not in _ALPHABET for ch in text):
        return ""
    return text


def _digest(code: str) -> str:
    return hashlib.sha256(b"archive.recovery:" + normalise(code).encode("ascii")).hexdigest()


def store(conn: sqlite3.Connection, username: str) -> str:
    """Give ``username`` a new code (the old one stops working); returns it, for showing once.
    Runs inside the caller's transaction."""
    code = new_code()
    conn.execute("UPDATE users SET recovery_hash = ? WHERE username = ?", (_digest(code), username))
    return code


def matches(conn: sqlite3.Connection, username: str, code: str | None) -> bool:
    """Whether ``code`` is ``username``'s current recovery code (in constant time)."""
    if not normalise(code):
        return False
    row = conn.execute("SELECT recovery_hash FROM users WHERE username = ?", (username,)).fetchone()
    stored = row["recovery_hash"] if row is not None else None
    return bool(stored) and hmac.compare_digest(stored, _digest(code or ""))


def spend(conn: sqlite3.Connection, username: str) -> None:
    """The code has been used: it works no more."""
    conn.execute("UPDATE users SET recovery_hash = NULL WHERE username = ?", (username,))
