"""Staff and member accounts: passwords, log-in with back-off, and signed portal sessions.

Two roles have accounts, ``members`` and ``staff``; the public needs none. Passwords are hashed with
Argon2id (argon2-cffi's ``PasswordHasher``, its recommended parameters) and re-hashed on the next
successful log-in whenever those parameters change. A password never leaves this module in any
form but the hash: not in an exception, a log line, an audit row, a repr or the command line.

Log-in (:func:`authenticate`) gives one answer for an unknown name and a wrong password, and
spends the same hashing time on both, so neither the message nor the timing tells whether an
account exists. After :data:`MAX_FAILURES` failures in a row against a name the name is locked for
30 s, doubling with each further failure up to 15 minutes; while locked even the right password is
refused, in the same words and after the same hashing time as a wrong one, so a refusal never tells
a guesser that this guess was the right one. The count is taken before the password is verified, in
one write transaction, so guesses sent in parallel are admitted only up to the limit. The address
an attempt comes from is limited the same way across all names (``ARCHIVE_LOGIN_ADDRESS_FAILURES``),
and at most ``ARCHIVE_LOGIN_VERIFY_CONCURRENCY`` Argon2 verifications run at once (see
:mod:`archive.core.login_guard`). A successful log-in clears the name's count; a day after the last
failure (or the end of the last lock) it is forgotten. Names without an account are counted and
locked exactly the same way, or the lock would tell which names exist. The count lives in the ``login_throttle`` table under an
HMAC-SHA256 of the name keyed from ``<home>/secret.key``, so the catalog never holds a name someone
merely tried (often a typo, sometimes a password typed in the wrong box); for an account it is also
copied to the ``users`` row, which is what ``archive user list`` shows.

A portal session is a token signed with the archive's key (``<home>/secret.key``, see
:func:`archive.core.keys.load_secret`) that names the user. :func:`check_session` re-reads the account on
every call, so removing a user, changing their role or their password ends their sessions at once.

>>> add_user(catalog, "alice", "staff", "correct horse battery", actor="cli:root")
>>> account = authenticate(catalog, "alice", "correct horse battery")
>>> token = create_session(catalog, settings, account)
>>> check_session(catalog, settings, token)
Viewer(role='staff', username='alice')
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import logging
import os
import re
import secrets
import sqlite3
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from archive.catalog.access import Viewer
from archive.catalog.audit import write_audit
from archive.catalog.db import Catalog
from archive.core.config import Settings, load_settings
from archive.core.errors import AccessDeniedError, InputError, NotFoundError
from archive.core.keys import load_secret
from archive.core.login_guard import verification_slot
from archive.workspace import recovery

if TYPE_CHECKING:
    from archive.core.config import Settings

__all__ = [
    "ACCOUNT_LOCK_FAILURES",
    "ACCOUNT_ROLES",
    "MAX_FAILURES",
    "MIN_PASSWORD_LENGTH",
    "Account",
    "add_user",
    "authenticate",
    "check_password_policy",
    "check_session",
    "check_username",
    "create_session",
    "get_user",
    "issue_recovery_code",
    "list_users",
    "lockout_seconds",
    "remove_user",
    "session_max_age",
    "session_viewer",
    "set_password",
    "set_role",
    "unlock_user",
]

log = logging.getLogger(__name__)

ACCOUNT_ROLES = ("members", "staff")
MIN_PASSWORD_LENGTH = 10
# Argon2 hashes whatever it is given; a cap keeps a megabyte "password" from being a cheap DoS.
MAX_PASSWORD_LENGTH = 1024
MAX_FAILURES = 5  # in a row, from one address against one name: that pair backs off
# Failures against one name, each address counting for at most MAX_FAILURES of them, before the
# account itself is locked: only many addresses together (a distributed attack) get there.
# The default of ARCHIVE_LOGIN_ACCOUNT_FAILURES (Settings.login_account_failures).
ACCOUNT_LOCK_FAILURES = 50
FIRST_LOCK_SECONDS = 30
MAX_LOCK_SECONDS = 15 * 60
SESSION_SALT = "archive.session"
DEFAULT_SESSION_HOURS = 12.0
WRONG_CREDENTIALS = "wrong user name or password"
# Long enough that a slow guesser gains nothing by waiting, short enough that the table only
# holds recent attempts.
FORGET_AFTER = timedelta(days=1)
THROTTLE_KEY_LABEL = b"archive.login-throttle"

_USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")
_hasher = PasswordHasher()


@dataclass(frozen=True)
class Account:
    """An account as the rest of the archive sees it: no password hash, ever."""

    username: str
    role: str
    created_at: str
    last_login_at: str | None = None
    failed_logins: int = 0
    locked_until: str | None = None
    # Only on the account add_user returns: the recovery code, shown once and kept nowhere else
    # (the catalog has its digest). Never in a repr, a comparison or to_dict.
    recovery_code: str | None = field(default=None, repr=False, compare=False)

    @property
    def viewer(self) -> Viewer:
        return Viewer(role=self.role, username=self.username)

    def to_dict(self) -> dict[str, object]:
        return {
            "username": self.username,
            "role": self.role,
            "created_at": self.created_at,
            "last_login_at": self.last_login_at,
            "failed_logins": self.failed_logins,
            "locked_until": self.locked_until,
        }


def _account(row: sqlite3.Row) -> Account:
    return Account(
        username=row["username"],
        role=row["role"],
        created_at=row["created_at"],
        last_login_at=row["last_login_at"],
        failed_logins=row["failed_logins"],
        locked_until=row["locked_until"],
    )


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)).astimezone(UTC)


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


# -- validation -------------------------------------------------------------------------------
def check_username(username: str) -> str:
    """The canonical (lower-case) form of a user name, or InputError.

    2–40 characters of a–z, 0–9, dot, dash, underscore, starting with a letter or digit: names
    end up in audit rows, URLs and terminal output, so nothing that needs quoting is allowed.
    """
    name = unicodedata.normalize("NFKC", str(username or "")).strip().lower()
    if not _USERNAME_RE.match(name):
        raise InputError(
            "a user name is 2-40 characters of a-z, 0-9, '.', '-' or '_', starting with a letter or digit"
        )
    return name


def check_password_policy(password: str) -> str:
    if not isinstance(password, str):
        raise InputError("a password must be text")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InputError(f"a password may have at most {MAX_PASSWORD_LENGTH} characters")
    if password.strip() == "" or "\x00" in password:
        raise InputError("a password cannot be blank or contain a NUL character")
    return password


def _check_role(role: str) -> str:
    if role not in ACCOUNT_ROLES:
        raise InputError(f"an account's role is members or staff, not {role!r}")
    return role


# -- account management ----------------------------------------------------------------------
def add_user(
    catalog: Catalog, username: str, role: str, password: str, *, actor: str = "system"
) -> Account:
    """Create an account. InputError if the name is taken, invalid, or the password too short."""
    name = check_username(username)
    _check_role(role)
    password_hash = _hasher.hash(check_password_policy(password))
    with catalog.transaction() as conn:
        if conn.execute("SELECT 1 FROM users WHERE username = ?", (name,)).fetchone():
            raise InputError(f"there is already a user {name}")
        conn.execute(
            "INSERT INTO users (username, role, password_hash, created_at) VALUES (?,?,?,?)",
            (name, role, password_hash, _stamp(_now(None))),
        )
        code = recovery.store(conn, name)
        write_audit(conn, actor=actor, action="user.add", target=name, new_value=role)
    log.info("account %s added (%s)", name, role)
    return dataclasses.replace(get_user(catalog, name), recovery_code=code)


def issue_recovery_code(catalog: Catalog, username: str, *, actor: str = "system") -> str:
    """A new one-time recovery code for ``username`` (the old one stops working), audited; the
    code itself is returned for showing once and is never written anywhere."""
    name = check_username(username)
    with catalog.transaction() as conn:
        if conn.execute("SELECT 1 FROM users WHERE username = ?", (name,)).fetchone() is None:
            raise NotFoundError(f"no user {name}")
        code = recovery.store(conn, name)
        write_audit(conn, actor=actor, action="user.recovery-code", target=name)
    log.info("new recovery code for %s", name)
    return code


def get_user(catalog: Catalog, username: str) -> Account:
    name = check_username(username)
    row = catalog.conn.execute("SELECT * FROM users WHERE username = ?", (name,)).fetchone()
    if row is None:
        raise NotFoundError(f"no user {name}")
    return _account(row)


def list_users(catalog: Catalog) -> list[Account]:
    return [_account(r) for r in catalog.conn.execute("SELECT * FROM users ORDER BY username")]


def remove_user(catalog: Catalog, username: str, *, actor: str = "system") -> None:
    """Delete an account; its open portal sessions stop working at their next request."""
    name = check_username(username)
    with catalog.transaction() as conn:
        row = conn.execute("SELECT role FROM users WHERE username = ?", (name,)).fetchone()
        if row is None:
            raise NotFoundError(f"no user {name}")
        conn.execute("DELETE FROM users WHERE username = ?", (name,))
        write_audit(conn, actor=actor, action="user.remove", target=name, old_value=row["role"])
    log.info("account %s removed", name)


def set_password(catalog: Catalog, username: str, password: str, *, actor: str = "system") -> None:
    """Replace a password (ends the user's other sessions, clears any lock)."""
    name = check_username(username)
    password_hash = _hasher.hash(check_password_policy(password))
    key = _throttle_key(catalog, name)
    with catalog.transaction() as conn:
        cur = conn.execute(
            "UPDATE users SET password_hash = ?, failed_logins = 0, locked_until = NULL WHERE username = ?",
            (password_hash, name),
        )
        if cur.rowcount == 0:
            raise NotFoundError(f"no user {name}")
        conn.execute(
            "DELETE FROM login_throttle WHERE name_key = ? OR name_key LIKE ?", (key, key + "/%")
        )
        # The audit says that it changed, never what to.
        write_audit(conn, actor=actor, action="user.passwd", target=name)
    log.info("password of %s changed", name)


def set_role(catalog: Catalog, username: str, role: str, *, actor: str = "system") -> Account:
    name = check_username(username)
    _check_role(role)
    with catalog.transaction() as conn:
        row = conn.execute("SELECT role FROM users WHERE username = ?", (name,)).fetchone()
        if row is None:
            raise NotFoundError(f"no user {name}")
        if row["role"] != role:
            conn.execute("UPDATE users SET role = ? WHERE username = ?", (role, name))
            write_audit(
                conn,
                actor=actor,
                action="user.role",
                target=name,
                old_value=row["role"],
                new_value=role,
            )
    return get_user(catalog, name)


def unlock_user(catalog: Catalog, username: str, *, actor: str = "system") -> Account:
    """Clear a lock-out early (after checking with the person that it was them)."""
    name = check_username(username)
    key = _throttle_key(catalog, name)
    with catalog.transaction() as conn:
        cur = conn.execute(
            "UPDATE users SET failed_logins = 0, locked_until = NULL WHERE username = ?", (name,)
        )
        if cur.rowcount == 0:
            raise NotFoundError(f"no user {name}")
        conn.execute(
            "DELETE FROM login_throttle WHERE name_key = ? OR name_key LIKE ?", (key, key + "/%")
        )
        write_audit(conn, actor=actor, action="user.unlock", target=name)
    return get_user(catalog, name)


# -- log-in ---------------------------------------------------------------------------------
def lockout_seconds(failures: int, threshold: int = MAX_FAILURES) -> int:
    """How long a name (or, with its own ``threshold``, an address) stays locked after
    ``failures`` failures in a row (0: not locked)."""
    if failures < threshold:
        return 0
    return min(MAX_LOCK_SECONDS, FIRST_LOCK_SECONDS * 2 ** min(failures - threshold, 30))


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Verified against when the user does not exist or the attempt is refused, so neither costs
    # less than a wrong password (the hash of a random value nobody knows).
    return _hasher.hash(os.urandom(16).hex())


def _throttle_key(catalog: Catalog, name: str) -> str:
    """The ``login_throttle`` key of a canonical user name (or of ``addr:<address>``, which no
    user name can be): HMAC-SHA256 under a key derived from the archive's secret, so the table
    cannot be read back by hashing a list of likely names without ``secret.key`` (which backups
    do not carry)."""

    # The catalog file is always <home>/catalog.sqlite (Settings.catalog_path).
    secret = load_secret(Settings(home=catalog.path.parent))
    throttle_key = hmac.new(secret, THROTTLE_KEY_LABEL, hashlib.sha256).digest()
    return hmac.new(throttle_key, name.encode("utf-8"), hashlib.sha256).hexdigest()


def _throttle_state(conn: sqlite3.Connection, key: str, moment: datetime) -> tuple[int, str | None]:
    """(failures in a row, locked until) for a name key; a forgotten streak counts as none even
    before the clean-up has deleted its row."""
    row = conn.execute(
        "SELECT failed_logins, locked_until, forget_at FROM login_throttle WHERE name_key = ?",
        (key,),
    ).fetchone()
    if row is None or row["forget_at"] <= _stamp(moment):
        return 0, None
    return int(row["failed_logins"]), row["locked_until"]


def _is_locked(locked_until: str | None, moment: datetime) -> bool:
    if not locked_until:
        return False
    try:
        until = datetime.fromisoformat(locked_until)
    except ValueError:
        return True  # unreadable: fail closed
    if until.tzinfo is None:
        until = until.replace(tzinfo=UTC)
    return until > moment


@dataclass(frozen=True)
class _Attempt:
    """One admitted log-in attempt, already counted as a failure until it proves otherwise."""

    name: str | None  # None: not a possible user name (counted against the address only)
    name_key: str | None
    address_key: str | None
    pair_key: str | None  # this address against this name
    failures: int  # the name's count including this attempt
    lock_seconds: int  # the lock this attempt set on the account, should it fail


def _bump(conn: sqlite3.Connection, key: str, moment: datetime, threshold: int) -> tuple[int, int]:
    """Count one more attempt against a key, locking it on the :func:`lockout_seconds` schedule;
    (failures now, seconds locked)."""
    failures = _throttle_state(conn, key, moment)[0] + 1
    seconds = lockout_seconds(failures, threshold)
    ends = moment + timedelta(seconds=seconds)
    conn.execute(
        "INSERT INTO login_throttle (name_key, failed_logins, locked_until, forget_at)"
        " VALUES (?, ?, ?, ?) ON CONFLICT (name_key) DO UPDATE SET"
        " failed_logins = excluded.failed_logins, locked_until = excluded.locked_until,"
        " forget_at = excluded.forget_at",
        (key, failures, _stamp(ends) if seconds else None, _stamp(ends + FORGET_AFTER)),
    )
    return failures, seconds


def _admit(
    catalog: Catalog,
    name: str | None,
    address: str | None,
    moment: datetime,
    address_limit: int,
    *,
    account_limit: int = ACCOUNT_LOCK_FAILURES,
    recovering: bool = False,
) -> _Attempt | None:
    """Take the throttle before any password is verified, in one write transaction: refuse (None)
    when this address, this address against this name, or the account is locked, else count
    this attempt as a failure now (locking if it is one too many) so that parallel attempts see
    it at once. A success takes it back (:func:`_succeeded`).

    An address adds to the name's own count only its first :data:`MAX_FAILURES` failures in a
    row, so the account lock (at ``account_limit``) takes many addresses: a stranger
    at one address locks only that address out. Without an address (a caller that has none) the
    name's count is all there is, and locks at :data:`MAX_FAILURES`. ``recovering`` (the right
    recovery code came with the attempt) passes every lock; the attempt is counted all the same.
    """
    from archive.core.login_guard import address_bucket

    name_key = _throttle_key(catalog, name) if name else None
    address_key = pair_key = None
    if address:
        bucket = address_bucket(address)
        address_key = _throttle_key(catalog, "addr:" + bucket)
        if name_key:
            # Under the name's own key, so unlock and a new password clear every address's.
            pair_key = name_key + "/" + address_key[:32]
    stamp = _stamp(moment)
    with catalog.transaction() as conn:  # BEGIN IMMEDIATE: one attempt at a time decides
        # Opportunistic clean-up: streaks forgotten by now, whoever they were against.
        conn.execute("DELETE FROM login_throttle WHERE forget_at <= ?", (stamp,))
        keys = [k for k in (name_key, address_key, pair_key) if k]
        if not recovering and any(
            _is_locked(_throttle_state(conn, k, moment)[1], moment) for k in keys
        ):
            return None
        row = None
        if name:
            row = conn.execute(
                "SELECT locked_until FROM users WHERE username = ?", (name,)
            ).fetchone()
            # The users row's own lock only mirrors the account's, but is honoured (a lock set
            # before the throttle table existed).
            if not recovering and row is not None and _is_locked(row["locked_until"], moment):
                return None
        counts, threshold = True, MAX_FAILURES
        if pair_key:
            counts = _bump(conn, pair_key, moment, MAX_FAILURES)[0] <= MAX_FAILURES
            threshold = max(account_limit, MAX_FAILURES)
        failures, seconds = (0, 0)
        if name_key and counts:
            failures, seconds = _bump(conn, name_key, moment, threshold)
            if row is not None:
                conn.execute(
                    "UPDATE users SET failed_logins = ?, locked_until = ? WHERE username = ?",
                    (failures, _stamp(moment + timedelta(seconds=seconds)) if seconds else None,
                     name),
                )  # fmt: skip
        elif name_key:
            failures = _throttle_state(conn, name_key, moment)[0]
        if address_key:
            _bump(conn, address_key, moment, address_limit)
    return _Attempt(name, name_key, address_key, pair_key, failures, seconds)


def _failed(catalog: Catalog, attempt: _Attempt, has_account: bool) -> None:
    """The attempt stays counted; say so in the log, and in the audit when it locked an account."""
    if has_account and attempt.lock_seconds and attempt.name:
        with catalog.transaction() as conn:
            write_audit(
                conn, actor="system:login", action="user.locked", target=attempt.name,
                new_value=f"{attempt.failures} failed log-ins: locked for {attempt.lock_seconds} s",
            )  # fmt: skip
    if has_account:
        log.warning("failed log-in for %s (%d in a row)", attempt.name, attempt.failures)
    else:
        # Never the name itself: log files outlive the throttle rows.
        log.info(
            "failed log-in for an unknown or invalid user name (%d in a row)", attempt.failures
        )


def _succeeded(
    catalog: Catalog,
    attempt: _Attempt,
    moment: datetime,
    address_limit: int,
    new_hash: str | None,
    *,
    recovered: bool = False,
) -> bool:
    """Clear the name's streak (and this address's against it), take this attempt back from the
    address's count, spend a recovery code that was used, and record the log-in; False when the
    account went away meanwhile."""
    with catalog.transaction() as conn:
        if (
            conn.execute("SELECT 1 FROM users WHERE username = ?", (attempt.name,)).fetchone()
            is None
        ):
            return False
        if recovered:
            # Checked again inside the transaction: two log-ins cannot both spend one code.
            if not conn.execute(
                "SELECT 1 FROM users WHERE username = ? AND recovery_hash IS NOT NULL",
                (attempt.name,),
            ).fetchone():
                return False
            recovery.spend(conn, attempt.name or "")
            write_audit(conn, actor="system:login", action="user.recovered", target=attempt.name,
                        new_value="logged in with the recovery code; the lock-out is lifted")  # fmt: skip
        for key in (attempt.name_key, attempt.pair_key):
            if key:
                conn.execute("DELETE FROM login_throttle WHERE name_key = ?", (key,))
        if attempt.address_key:
            failures = _throttle_state(conn, attempt.address_key, moment)[0] - 1
            if failures <= 0:
                conn.execute(
                    "DELETE FROM login_throttle WHERE name_key = ?", (attempt.address_key,)
                )
            else:
                seconds = lockout_seconds(failures, address_limit)
                conn.execute(
                    "UPDATE login_throttle SET failed_logins = ?,"
                    " locked_until = CASE WHEN ? THEN locked_until END WHERE name_key = ?",
                    (failures, 1 if seconds else 0, attempt.address_key),
                )
        conn.execute(
            "UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = ?"
            + (", password_hash = ?" if new_hash else "")
            + " WHERE username = ?",
            (_stamp(moment), *((new_hash,) if new_hash else ()), attempt.name),
        )
    return True


def authenticate(
    catalog: Catalog,
    username: str,
    password: str,
    *,
    client: str | None = None,
    settings: Settings | None = None,
    now: datetime | None = None,
    recovery_code: str | None = None,
) -> Account:
    """The account if the name and password match; AccessDeniedError otherwise, always with the
    same words (:data:`WRONG_CREDENTIALS`), whether the name is unknown, the password wrong or
    the name or address locked out: nothing in the answer tells a guesser which.

    The throttle is taken before the password is verified (:func:`_admit`): an attempt is counted
    the moment it is admitted, so guesses sent in parallel are admitted only up to the limit and
    a locked name or address has no password verified at all. Every attempt, refused or not,
    spends one Argon2 verification (a dummy one when there is nothing to verify), so the timing
    tells no more than the words; at most ``settings.login_verify_concurrency`` run at once.

    ``client`` is the address the attempt came from (see
    :func:`archive.core.login_guard.client_address`): it is limited to
    ``settings.login_address_failures`` failures in a row across all names, and to
    :data:`MAX_FAILURES` against one name; the account itself locks only when many addresses
    fail against it (``settings.login_account_failures``). ``recovery_code`` (the account's one-time code,
    :mod:`archive.workspace.recovery`), when it is the right one, lets the right password in
    through any lock and is then spent; the caller should issue a new one
    (:func:`issue_recovery_code`). ``settings`` default to the environment's for the catalog's
    folder; ``now`` is for tests (lock-out expiry without sleeping).
    """

    moment = _now(now)
    settings = settings or load_settings(catalog.path.parent)
    address_limit = settings.login_address_failures
    try:
        name: str | None = check_username(username)
    except InputError:
        # No account can have such a name and the naming rule is public: counted against the
        # address only.
        name = None
    text = password if isinstance(password, str) else ""
    # A digest comparison, no slower for a wrong code than for a right one.
    recovering = bool(
        name and recovery_code and recovery.matches(catalog.conn, name, recovery_code)
    )
    attempt = _admit(
        catalog,
        name,
        client,
        moment,
        address_limit,
        account_limit=settings.login_account_failures,
        recovering=recovering,
    )
    row = None
    if attempt is not None and name is not None:
        row = catalog.conn.execute("SELECT * FROM users WHERE username = ?", (name,)).fetchone()
    usable = row is not None and isinstance(password, str) and len(password) <= MAX_PASSWORD_LENGTH
    with verification_slot(settings.login_verify_concurrency):
        ok = _verify(row["password_hash"] if usable else _dummy_hash(), text[:MAX_PASSWORD_LENGTH])
    if attempt is None:
        log.info("log-in refused: the name or address is locked out")
        raise AccessDeniedError(WRONG_CREDENTIALS)
    if not (ok and usable):
        _failed(catalog, attempt, row is not None)
        raise AccessDeniedError(WRONG_CREDENTIALS)
    new_hash = None
    try:
        stale = _hasher.check_needs_rehash(row["password_hash"])
    except InvalidHashError:
        stale = True
    if stale:
        with verification_slot(settings.login_verify_concurrency):  # hashing takes the memory too
            new_hash = _hasher.hash(password)
    if not _succeeded(catalog, attempt, moment, address_limit, new_hash, recovered=recovering):
        raise AccessDeniedError(WRONG_CREDENTIALS)
    log.info("log-in: %s%s", name, " (with the recovery code)" if recovering else "")
    return get_user(catalog, name)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# -- portal sessions --------------------------------------------------------------------------
def session_max_age() -> float:
    """Seconds a session lasts: ``ARCHIVE_SESSION_HOURS`` (default 12)."""
    raw = os.environ.get("ARCHIVE_SESSION_HOURS", "")
    try:
        hours = float(raw) if raw else DEFAULT_SESSION_HOURS
    except ValueError:
        hours = DEFAULT_SESSION_HOURS
    return max(60.0, hours * 3600)


def _serializer(settings: Settings, issued_at: float | None = None):  # type: ignore[no-untyped-def]
    from itsdangerous import TimestampSigner, URLSafeTimedSerializer

    if issued_at is None:
        return URLSafeTimedSerializer(load_secret(settings), salt=SESSION_SALT)

    class _SignedAt(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(issued_at)

    return URLSafeTimedSerializer(load_secret(settings), salt=SESSION_SALT, signer=_SignedAt)


def _hash_tag(password_hash: str) -> str:
    # A short fingerprint of the stored hash: a changed password makes old tokens fail, and the
    # tag reveals nothing usable about the hash (a truncated one-way digest of it).
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def create_session(
    catalog: Catalog, settings: Settings, account: Account, *, now: float | None = None
) -> str:
    """A signed session token for a logged-in account (keep it in the portal's session state).

    The token names the user, the role and a fingerprint of the password hash at log-in.
    ``now`` (a Unix time, the moment it counts as issued) is for tests of expiry.
    """
    row = catalog.conn.execute(
        "SELECT password_hash FROM users WHERE username = ?", (account.username,)
    ).fetchone()
    if row is None:
        raise NotFoundError(f"no user {account.username}")
    tag = _hash_tag(row["password_hash"])
    # "n": two sessions of one person started in the same second are still two tokens (a log-out
    # revokes one token; a file link is bound to one).
    return str(
        _serializer(settings, now).dumps(
            {"u": account.username, "r": account.role, "p": tag, "n": secrets.token_hex(8)}
        )
    )


def check_session(
    catalog: Catalog,
    settings: Settings,
    token: str | None,
    *,
    max_age: float | None = None,
    now: float | None = None,
) -> Viewer | None:
    """The viewer a session token stands for, or None when it is missing, forged, expired, or its
    account was removed, changed role or changed password since. Never raises for a bad token.

    ``now`` (a Unix time) is for tests.
    """
    from itsdangerous import BadData

    if not token or not isinstance(token, str) or len(token) > 4096:
        return None
    try:
        data, signed_at = _serializer(settings).loads(token, return_timestamp=True)
    except BadData:
        return None
    if not isinstance(data, dict):
        return None
    age = (now if now is not None else time.time()) - signed_at.timestamp()
    if age > (max_age if max_age is not None else session_max_age()) or age < -300:
        return None
    try:
        name = check_username(str(data.get("u", "")))
    except InputError:
        return None
    row = catalog.conn.execute(
        "SELECT role, password_hash FROM users WHERE username = ?", (name,)
    ).fetchone()
    if row is None or row["role"] != data.get("r"):
        return None
    tag = str(data.get("p") or "")
    if not hmac.compare_digest(tag, _hash_tag(row["password_hash"])):
        return None
    return Viewer(role=row["role"], username=name)


def session_viewer(catalog: Catalog, settings: Settings, token: str | None) -> Viewer:
    """What each portal page calls: the session's viewer, or an anonymous (public) one."""
    return check_session(catalog, settings, token) or Viewer()
