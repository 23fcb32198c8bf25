"""The one exception tree of the archive.

Every error a user can cause or meet derives from :class:`ArchiveError`. Library code raises these
with a plain-words message; the edges (the CLI, the portal) catch ``ArchiveError`` once and show the
message, never a traceback::

    ArchiveError
    ├── ConfigError            bad settings or data folder
    ├── NotFoundError          no such item / job / revision / user (or not visible to this role)
    ├── AccessDeniedError      the viewer's role may not do this
    ├── InputError             bad arguments: unknown collection, bad date, bad time zone ...
    ├── SourceError            the thing to ingest cannot be read or fetched
    │   ├── DownloadError      a URL could not be fetched (404, refused, no media on the page)
    │   └── MediaError         the bytes are not playable media (empty, truncated, not audio/video)
    ├── SubtitleError          a subtitle file cannot be read
    ├── TranscriptionError     the speech model failed
    ├── JobError               a job cannot be retried / cancelled in its state
    ├── PreservationError      a backup, restore or bag check that cannot be done (or is refused)
    ├── IndexError_            the search index is missing, stale or locked (named to avoid the builtin)
    └── SearchLimitError       a search ran past its deadline, or too many long ones run at once
"""

from __future__ import annotations

__all__ = [
    "AccessDeniedError",
    "ArchiveError",
    "ConfigError",
    "DownloadError",
    "IndexError_",
    "InputError",
    "JobError",
    "MediaError",
    "NotFoundError",
    "PreservationError",
    "SearchLimitError",
    "SourceError",
    "SubtitleError",
    "TranscriptionError",
]


class ArchiveError(Exception):
    """Base of every error the archive reports to a user. ``str(err)`` is a plain-words sentence."""


class ConfigError(ArchiveError):
    pass


class NotFoundError(ArchiveError):
    pass


class AccessDeniedError(ArchiveError):
    pass


class InputError(ArchiveError):
    pass


class SourceError(ArchiveError):
    pass


class DownloadError(SourceError):
    pass


class MediaError(SourceError):
    pass


class SubtitleError(ArchiveError):
    pass


class TranscriptionError(ArchiveError):
    pass


class JobError(ArchiveError):
    pass


class PreservationError(ArchiveError):
    """A backup, restore or check that cannot be done; the message says why in plain words."""


class IndexError_(ArchiveError):  # noqa: N801 - trailing underscore avoids shadowing the builtin
    pass


class SearchLimitError(ArchiveError):
    """A search stopped at its deadline, or refused while too many long searches run."""
