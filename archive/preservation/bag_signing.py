"""Signed bags: an Ed25519 key kept apart from the bags, and the signature each bag carries.

A bag's checksums show that nothing changed *by accident*; anyone who changes a file can also
re-hash the manifests. So every bag made by ``archive backup`` is also signed, and ``archive
restore`` accepts only a bag whose signature verifies with the public key the operator gives it.

What is signed: the bytes of ``tagmanifest-sha256.txt`` (with a fixed prefix naming this format).
The tag manifest holds the sha256 of ``manifest-sha256.txt``, ``bag-info.txt``, ``bagit.txt`` and
``about-this-bag.txt``; the payload manifest holds the sha256 of every file under ``data/``. So one
signature covers every byte of the bag. It is stored in the tag file ``bag-signature.txt``, which
is not in the tag manifest (it cannot sign itself); standard BagIt tools ignore it.

The signing key (the *secret* half) is never put in a bag. By default it is
``<data folder>/backup-signing.key`` (mode 0600), created on the first backup, with the public half
beside it in ``backup-signing.pub``. An organisation that keeps the key offline (a USB key in a
safe) names it with ``archive backup --signing-key FILE`` or ``ARCHIVE_BACKUP_KEY``; such a key is
made once with ``archive backup-key --signing-key FILE`` and never created implicitly, so a typo
cannot silently start a second key. Whoever holds the signing key can make bags that restore
accepts: keep it away from the bags and their offsite copies.

The public key is printed at the end of every backup (``ed25519:`` + base64, and a short
fingerprint for reading aloud). Keep it with the offsite copies' password: restore needs it.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from nacl.exceptions import BadSignatureError, CryptoError
from nacl.signing import SigningKey, VerifyKey

from archive.core.config import Settings
from archive.core.errors import ConfigError, PreservationError
from archive.core.filemodes import private_opener

__all__ = [
    "KEY_ENV",
    "KEY_NAME",
    "PUBLIC_KEY_ENV",
    "SIGNATURE_FILE",
    "SIGNED_FILE",
    "BagSigner",
    "BagSignature",
    "PublicKey",
    "create_signing_key",
    "load_signing_key",
    "new_signing_key",
    "read_signature",
    "save_signing_key",
    "sign_bag",
    "signing_key_path",
    "verify_signature",
]

KEY_NAME = "backup-signing.key"  # in the data folder, unless ARCHIVE_BACKUP_KEY / --signing-key
PUBLIC_NAME = "backup-signing.pub"
KEY_ENV = "ARCHIVE_BACKUP_KEY"
PUBLIC_KEY_ENV = "ARCHIVE_BACKUP_PUBLIC_KEY"
SIGNATURE_FILE = "bag-signature.txt"
SIGNED_FILE = "tagmanifest-sha256.txt"
SIGNATURE_FORMAT = "hk-labour-archive-bag-signature/1"
# Signed together with the tag manifest, so a signature made by this key for anything else (should
# the key ever sign anything else) can never pass for a bag's.
_DOMAIN = b"hk-labour-archive bag signature v1\n"
_PUBLIC_PREFIX = "ed25519:"
_SECRET_PREFIX = "ed25519-secret:"
_MAX_TAG_BYTES = 1024 * 1024  # a tag manifest lists a handful of files; a huge one is not ours


@dataclass(frozen=True)
class PublicKey:
    """The public half: what restore is given to check a bag."""

    raw: bytes  # 32 bytes

    @property
    def text(self) -> str:
        return _PUBLIC_PREFIX + base64.b64encode(self.raw).decode("ascii")

    @property
    def fingerprint(self) -> str:
        """A short form to compare by eye or read aloud (not used to verify anything)."""
        digest = hashlib.sha256(self.raw).hexdigest()[:20]
        return "-".join(digest[i : i + 4] for i in range(0, 20, 4))

    @classmethod
    def parse(cls, given: str) -> PublicKey:
        """``ed25519:BASE64``, bare base64 or 64 hex digits, or a file holding one of them (a
        ``backup-signing.pub``); lines starting with ``#`` are ignored."""
        text = given.strip()
        candidate = Path(text).expanduser()
        if text and not text.startswith(_PUBLIC_PREFIX) and candidate.is_file():
            try:
                content = candidate.read_text(encoding="utf-8")[:4096]
            except (OSError, UnicodeDecodeError) as exc:
                raise PreservationError(f"cannot read the public key file {candidate}") from exc
            lines = [ln.strip() for ln in content.splitlines() if ln.strip()]
            text = next((ln for ln in lines if not ln.startswith("#")), "")
            if text.startswith(_SECRET_PREFIX):
                raise PreservationError(
                    f"{candidate} is a signing key (the secret half), not a public key: give "
                    f"the public key printed by `archive backup` (or its {PUBLIC_NAME} file)"
                )
        raw = _decode_key(text.removeprefix(_PUBLIC_PREFIX))
        if raw is None:
            raise PreservationError(
                f"{given.strip()[:80]!r} is not a public key or a file holding one: give the "
                "key printed by `archive backup` (ed25519:…)"
            )
        return cls(raw)


@dataclass(frozen=True)
class BagSigner:
    """The signing key, loaded. ``created``: made just now (say so to the operator)."""

    path: Path
    public: PublicKey
    created: bool = False
    _seed: bytes = field(default=b"", repr=False)

    def sign(self, message: bytes) -> bytes:
        return bytes(SigningKey(self._seed).sign(_DOMAIN + message).signature)


@dataclass(frozen=True)
class BagSignature:
    """What ``bag-signature.txt`` says. Nothing in it is trusted but the signature bytes, which
    are checked against the key the operator gives."""

    signer: PublicKey | None
    signature: bytes


def _decode_key(text: str) -> bytes | None:
    text = text.strip()
    try:
        if len(text) == 64:
            return bytes.fromhex(text)
        raw = base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        return None
    return raw if len(raw) == 32 else None


def signing_key_path(settings: Settings, given: str | os.PathLike[str] | None = None) -> Path:
    """Where the signing key is: ``given``, else ``ARCHIVE_BACKUP_KEY``, else the data folder."""
    chosen = given or os.environ.get(KEY_ENV)
    if chosen:
        return Path(chosen).expanduser().absolute()
    return Path(settings.home) / KEY_NAME


def create_signing_key(path: Path) -> BagSigner:
    """A new key at ``path`` (0600; never overwrites) and its public half beside it (.pub)."""
    signer = new_signing_key(path)
    try:
        save_signing_key(signer)
    except FileExistsError:
        return load_signing_key(path)  # another process made it first
    return signer


def new_signing_key(path: Path) -> BagSigner:
    """A new key, in memory only, to be kept at ``path`` by :func:`save_signing_key` (a backup
    saves it once its bag is whole: a failed first backup leaves no key behind)."""
    seed = os.urandom(32)
    return BagSigner(path, PublicKey(bytes(SigningKey(seed).verify_key)), True, seed)


def save_signing_key(signer: BagSigner) -> None:
    """Write a new key (0600) and its public half (``.pub``); FileExistsError when a key is
    already there (never overwritten: bags signed with it would no longer restore)."""
    path, public, seed = signer.path, signer.public, signer._seed
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise  # the caller decides (an OSError, but not one to report as "cannot create")
    except OSError as exc:
        raise ConfigError(f"cannot create the signing key {path}: {exc.strerror}") from exc
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(
            "# Backup signing key of hk-labour-archive (Ed25519). SECRET: whoever holds this\n"
            "# file can make bags that `archive restore` accepts. Never copy it into a bag.\n"
            f"{_SECRET_PREFIX}{base64.b64encode(seed).decode('ascii')}\n"
        )
        fh.flush()
        os.fsync(fh.fileno())
    pub = path.with_name(path.name.removesuffix(".key") + ".pub")
    # A convenience copy (the backup prints the public key anyway): a failure here is no failure.
    with (
        contextlib.suppress(OSError),
        open(pub, "w", encoding="ascii", opener=private_opener) as fh,
    ):
        fh.write(
            f"# public key of {path.name}, fingerprint {public.fingerprint}: give it to "
            f"`archive restore --public-key`\n{public.text}\n"
        )


def load_signing_key(path: Path) -> BagSigner:
    """The key at ``path``; ConfigError when it is missing or damaged."""
    try:
        content = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise ConfigError(
            f"there is no signing key at {path}: make one with "
            f"`archive backup-key --signing-key {path}` (once), and keep it apart from the bags"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the signing key {path}: {exc}") from exc
    line = next((ln.strip() for ln in content.splitlines() if ln.startswith(_SECRET_PREFIX)), "")
    seed = _decode_key(line.removeprefix(_SECRET_PREFIX))
    if seed is None:
        raise ConfigError(f"the signing key {path} is damaged (no {_SECRET_PREFIX} line)")
    return BagSigner(path, PublicKey(bytes(SigningKey(seed).verify_key)), False, seed)


def sign_bag(bag_dir: Path, signer: BagSigner) -> BagSignature:
    """Sign the bag's tag manifest and write ``bag-signature.txt``. Call after the tag manifest
    is final (``bagit.Bag.save``): any later change to it undoes the signature."""
    message = (Path(bag_dir) / SIGNED_FILE).read_bytes()
    signature = signer.sign(message)
    with open(Path(bag_dir) / SIGNATURE_FILE, "x", encoding="utf-8", opener=private_opener) as fh:
        fh.write(
            f"Signature-Format: {SIGNATURE_FORMAT}\n"
            f"Signed-File: {SIGNED_FILE}\n"
            f"Signed-File-Sha256: {hashlib.sha256(message).hexdigest()}\n"
            f"Public-Key: {signer.public.text}\n"
            f"Key-Fingerprint: {signer.public.fingerprint}\n"
            f"Signature: {base64.b64encode(signature).decode('ascii')}\n"
        )
        fh.flush()
        os.fsync(fh.fileno())
    return BagSignature(signer.public, signature)


def read_signature(bag_dir: Path) -> BagSignature | None:
    """The bag's signature file, parsed; None when the bag has none (made before bags were
    signed, or the signature was removed)."""
    path = Path(bag_dir) / SIGNATURE_FILE
    try:
        with open(path, "rb") as fh:
            data = fh.read(_MAX_TAG_BYTES + 1)
    except FileNotFoundError:
        return None
    fields_: dict[str, str] = {}
    try:
        for line in data[:_MAX_TAG_BYTES].decode("utf-8").splitlines():
            key, sep, value = line.partition(":")
            if sep:
                fields_.setdefault(key.strip(), value.strip())
    except UnicodeDecodeError:
        pass
    signature = b""
    if fields_.get("Signature-Format") == SIGNATURE_FORMAT:
        try:
            signature = base64.b64decode(fields_.get("Signature", ""), validate=True)
        except (ValueError, binascii.Error):
            signature = b""
    raw = _decode_key(fields_.get("Public-Key", "").removeprefix(_PUBLIC_PREFIX))
    return BagSignature(PublicKey(raw) if raw else None, signature)


def verify_signature(bag_dir: Path, key: PublicKey) -> bytes:
    """The bag's tag manifest, as read and verified with ``key``; PreservationError when the bag
    is unsigned, signed by another key or changed since it was signed."""
    bag_dir = Path(bag_dir)
    found = read_signature(bag_dir)
    if found is None:
        raise PreservationError(
            f"the bag {bag_dir} is not signed, so nothing was restored: it was made before bags "
            "were signed, or its signature was removed, as anyone who changed it would do; "
            "restore a signed bag (docs/preservation.md says what to do with one from before "
            "signing)"
        )
    try:
        with open(bag_dir / SIGNED_FILE, "rb") as fh:
            message = fh.read(_MAX_TAG_BYTES + 1)
    except OSError as exc:
        raise PreservationError(f"the bag {bag_dir} has no readable {SIGNED_FILE}") from exc
    if len(message) > _MAX_TAG_BYTES:
        raise PreservationError(f"the bag {bag_dir} has an oversized {SIGNED_FILE}")
    try:
        VerifyKey(key.raw).verify(_DOMAIN + message, found.signature)
    except (BadSignatureError, CryptoError, ValueError, TypeError):
        if found.signer is not None and found.signer != key:
            raise PreservationError(
                f"the bag {bag_dir} was signed by another key (fingerprint "
                f"{found.signer.fingerprint}), not by the key you gave ({key.fingerprint}), so "
                "nothing was restored"
            ) from None
        raise PreservationError(
            f"the bag {bag_dir} has been changed since it was signed (its signature does not "
            f"match key {key.fingerprint}), so nothing was restored"
        ) from None
    return message
