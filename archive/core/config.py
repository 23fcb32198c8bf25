"""Where the archive keeps its data, and the settings read from the environment.

Everything lives under one data folder (``--home DIR`` or ``ARCHIVE_HOME``, default ``./data``)::

    catalog.sqlite     the catalog (items, media, transcripts, jobs, accounts, audit)
    queue.sqlite       the embedded task queue (huey) when no Redis URL is set
    media/             content-addressed originals and derivatives: media/ab/abcdef....ext
    index/             the search index (Whoosh by default, or tantivy: ARCHIVE_SEARCH_ENGINE)
    tmp/               downloads and uploads in progress (same file system, so moves are atomic)

The data folder and every folder in it are owner-only (0700), every file in it 0600
(:mod:`archive.core.filemodes`); one made open by an earlier version is narrowed when opened.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from archive.core.errors import ConfigError
from archive.core.filemodes import private_dir, secure_folder
from archive.core.login_guard import parse_trusted

__all__ = ["SEARCH_ENGINES", "Settings", "load_settings"]

ROLES = ("public", "members", "staff")
# The search engines a new archive may choose (indexer.engine.ENGINE_NAMES; a test keeps them
# equal: this floor cannot import the indexer).
SEARCH_ENGINES = ("whoosh", "tantivy")


@dataclass(frozen=True)
class Settings:
    home: Path
    whisper_model: str | None = None  # ARCHIVE_WHISPER_MODEL: a faster-whisper name or folder
    device: str = "cpu"  # ARCHIVE_DEVICE
    compute_type: str = "int8"  # ARCHIVE_COMPUTE_TYPE
    queue_url: str | None = None  # ARCHIVE_QUEUE_URL: redis://host:port/db for shared workers
    public_url: str | None = None  # ARCHIVE_PUBLIC_URL: absolute base for feeds and citations
    organisation: str = "Hong Kong Labour Rights Archive"  # ARCHIVE_ORGANISATION
    max_upload_bytes: int = 8 * 1024**3  # ARCHIVE_MAX_UPLOAD_MB
    # ARCHIVE_TRUSTED_PROXIES: proxies whose X-Forwarded-For is believed (addresses, CIDR blocks)
    trusted_proxies: tuple[str, ...] = ()
    # ARCHIVE_INGEST_ALLOW_HOSTS: hosts (``host`` or ``host:port``) on the server's own network that
    # URL ingest may fetch from; every other loopback, private or link-local address is refused
    ingest_allow_hosts: tuple[str, ...] = ()
    login_verify_concurrency: int = 2  # ARCHIVE_LOGIN_VERIFY_CONCURRENCY: Argon2 checks at once
    login_address_failures: int = 20  # ARCHIVE_LOGIN_ADDRESS_FAILURES: per address, any names
    # ARCHIVE_LOGIN_ACCOUNT_FAILURES: against one name, each address counting for at most 5 of
    # them, before the account itself is locked (a distributed attack; the recovery code passes)
    login_account_failures: int = 50
    # ARCHIVE_PROXY_KEY: the key the proxy (Caddy) sends in X-Archive-Proxy-Key; when set, only a
    # request carrying it has its X-Forwarded-For believed (archive serve and deploy set it).
    proxy_key: str | None = None
    # ARCHIVE_SEARCH_ENGINE: the engine of a *new* search index; an existing index keeps the
    # engine recorded in it until 'archive index rebuild --engine' changes it.
    search_engine: str = "whoosh"

    @property
    def catalog_path(self) -> Path:
        return self.home / "catalog.sqlite"

    @property
    def queue_path(self) -> Path:
        return self.home / "queue.sqlite"

    @property
    def media_dir(self) -> Path:
        return self.home / "media"

    @property
    def index_dir(self) -> Path:
        return self.home / "index"

    @property
    def tmp_dir(self) -> Path:
        return self.home / "tmp"

    def ensure(self) -> Settings:
        """Create the data folder layout, owner-only (0700: other users of the machine read
        nothing in it); narrow one an earlier version left open, with a logged note. ConfigError
        when it cannot be made."""
        try:
            secure_folder(self.home)
            for folder in (self.home, self.media_dir, self.tmp_dir):
                private_dir(folder)
        except OSError as exc:
            raise ConfigError(f"cannot create the data folder {self.home}: {exc.strerror}") from exc
        if not os.access(self.home, os.W_OK):
            raise ConfigError(f"the data folder {self.home} is not writable")
        return self


def load_settings(home: str | os.PathLike[str] | None = None) -> Settings:
    """Settings from the environment; ``home`` (the ``--home`` option) wins over ``ARCHIVE_HOME``."""
    chosen = home or os.environ.get("ARCHIVE_HOME") or "data"
    path = Path(chosen).expanduser().resolve()
    if path.exists() and not path.is_dir():
        raise ConfigError(f"the data folder {path} is a file, not a folder")
    max_mb = os.environ.get("ARCHIVE_MAX_UPLOAD_MB")
    try:
        max_bytes = int(max_mb) * 1024**2 if max_mb else 8 * 1024**3
    except ValueError as exc:
        raise ConfigError(
            f"ARCHIVE_MAX_UPLOAD_MB must be a number of megabytes, not {max_mb!r}"
        ) from exc

    proxies = os.environ.get("ARCHIVE_TRUSTED_PROXIES", "")
    parse_trusted(proxies)  # ConfigError now, not at the first log-in
    engine = os.environ.get("ARCHIVE_SEARCH_ENGINE", "").strip().lower() or "whoosh"
    if engine not in SEARCH_ENGINES:
        raise ConfigError(
            f"ARCHIVE_SEARCH_ENGINE must be one of {', '.join(SEARCH_ENGINES)}, "
            f"not {os.environ['ARCHIVE_SEARCH_ENGINE']!r}"
        )
    return Settings(
        home=path,
        whisper_model=os.environ.get("ARCHIVE_WHISPER_MODEL") or None,
        device=os.environ.get("ARCHIVE_DEVICE", "cpu"),
        compute_type=os.environ.get("ARCHIVE_COMPUTE_TYPE", "int8"),
        queue_url=os.environ.get("ARCHIVE_QUEUE_URL") or None,
        public_url=(os.environ.get("ARCHIVE_PUBLIC_URL") or "").rstrip("/") or None,
        organisation=os.environ.get("ARCHIVE_ORGANISATION", Settings.organisation),
        max_upload_bytes=max_bytes,
        trusted_proxies=tuple(p.strip() for p in proxies.split(",") if p.strip()),
        ingest_allow_hosts=tuple(
            h.strip()
            for h in os.environ.get("ARCHIVE_INGEST_ALLOW_HOSTS", "").split(",")
            if h.strip()
        ),
        login_verify_concurrency=_positive("ARCHIVE_LOGIN_VERIFY_CONCURRENCY", 2),
        login_address_failures=_positive("ARCHIVE_LOGIN_ADDRESS_FAILURES", 20),
        login_account_failures=_positive("ARCHIVE_LOGIN_ACCOUNT_FAILURES", 50),
        proxy_key=(os.environ.get("ARCHIVE_PROXY_KEY") or "").strip() or None,
        search_engine=engine,
    )


def _positive(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(f"{name} must be a whole number of at least 1, not {raw!r}")
    return value
