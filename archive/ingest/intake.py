"""Ingest: from a local file or a link to a catalogued item.

``ingest()`` is one pass: fetch the source into ``tmp/`` (copy a local file, or let yt-dlp download
a link: any site it supports, direct media links and pages with an HTML5 ``<video>``/``<audio>``),
hash it, return the existing item when the same bytes are already archived, probe it, make the
audio derivative, move both into the content-addressed store and only then write the catalog, in
one transaction. Whatever fails before that last step leaves the catalog as it was.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import sqlite3
import tempfile
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archive.catalog.audit import write_audit
from archive.catalog.db import Catalog
from archive.catalog.models import COLLECTIONS, LANGUAGES, VISIBILITIES, Item, normalise_date
from archive.core.config import Settings
from archive.core.errors import DownloadError, InputError, MediaError, SourceError
from archive.core.media_formats import FORMAT_WHITELIST
from archive.ingest.netguard import (
    BlockedAddressError,
    NetGuard,
    guarded_youtube_dl,
    parse_allow_entry,
)
from archive.media.store import (
    derived_path,
    hash_file,
    make_audio_derivative,
    media_path,
    probe,
    store_file,
)
from transcripts.segments import Segment
from transcripts.subtitles import read_subtitles

__all__ = ["IngestOptions", "IngestOutcome", "FetchedSource", "fetch_source", "ingest", "is_url"]

log = logging.getLogger(__name__)

# Subtitle languages fetched from a source, best first for each track.
SOURCE_SUBTITLE_LANGS = [
    "zh-HK",
    "zh-Hant",
    "zh-TW",
    "yue",
    "zh-Hans",
    "zh-CN",
    "zh",
    "en",
    "en-GB",
    "en-US",
]

ProgressFn = Callable[[str, float], None]


# Ingest option name -> item field.
DETAIL_FIELDS: dict[str, str] = {
    "title_zh": "title_zh",
    "title_en": "title_en",
    "description_zh": "description_zh",
    "description_en": "description_en",
    "collection": "collection",
    "date": "recorded_date",
    "speakers": "speakers",
    "tags": "tags",
    "language": "language",
    "visibility": "visibility",
}
_DEFAULTS: dict[str, Any] = {"collection": "other", "language": "auto", "visibility": "staff"}


def _plain_value(value: Any) -> Any:
    return list(value) if isinstance(value, (tuple, list)) else value


def details_not_applied(item: Item, options: Mapping[str, Any]) -> dict[str, Any]:
    """The details in ``options`` (an ingest's options) that were given and differ from
    ``item``'s, as ``{item field: new value}``. Options left at their defaults are not given."""
    changes: dict[str, Any] = {}
    for option, item_field in DETAIL_FIELDS.items():
        value = options.get(option)
        if value in (None, "", (), []) or _DEFAULTS.get(option) == value:
            continue
        if option == "date":
            value = normalise_date(str(value))
        if _plain_value(value) != _plain_value(getattr(item, item_field)):
            changes[item_field] = _plain_value(value)
    return changes


@dataclass(frozen=True)
class IngestOptions:
    title_zh: str | None = None
    title_en: str | None = None
    description_zh: str | None = None
    description_en: str | None = None
    collection: str = "other"
    date: str | None = None
    speakers: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    visibility: str = "staff"
    language: str = "auto"
    subtitles: str | None = None  # a subtitle file given by the user
    transcribe: bool = True
    translate: bool = True
    is_demo: bool = False
    created_by: str = "system"
    original_name: str | None = None  # the uploader's file name, for display only
    # Hosts on the server's own network a link may be fetched from (``host`` or ``host:port``),
    # besides ARCHIVE_INGEST_ALLOW_HOSTS; each use is written to the audit log.
    allow_hosts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.collection not in COLLECTIONS:
            raise InputError(
                f"collection must be one of {', '.join(COLLECTIONS)}, not {self.collection!r}"
            )
        if self.visibility not in VISIBILITIES:
            raise InputError(
                f"visibility must be one of {', '.join(VISIBILITIES)}, not {self.visibility!r}"
            )
        if self.language not in LANGUAGES:
            raise InputError(
                f"language must be one of {', '.join(LANGUAGES)}, not {self.language!r}"
            )
        if self.date:
            normalise_date(self.date)
        for entry in self.allow_hosts:
            try:
                parse_allow_entry(entry)
            except ValueError as exc:
                raise InputError(f"--allow-host takes HOST or HOST:PORT ({exc})") from None

    def to_payload(self) -> dict[str, Any]:
        from dataclasses import asdict

        data = asdict(self)
        data["speakers"] = list(self.speakers)
        data["tags"] = list(self.tags)
        return data

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> IngestOptions:
        values = dict(data)
        values["speakers"] = tuple(values.get("speakers") or ())
        values["tags"] = tuple(values.get("tags") or ())
        values["allow_hosts"] = tuple(values.get("allow_hosts") or ())
        return cls(**values)


@dataclass(frozen=True)
class FetchedSource:
    path: Path  # in tmp/, owned by the caller until stored
    workdir: Path  # remove when done
    original_name: str
    url: str | None = None
    extractor: str | None = None
    info: dict[str, Any] = field(default_factory=dict)
    subtitles: tuple[tuple[str, Path], ...] = ()  # (language, file) fetched from the source
    copied: bool = True  # path is a private copy that may be moved into the store
    # "host:port" hops on the server's own network that an allow-list entry let through (audited)
    allowed_internal: tuple[str, ...] = ()


@dataclass(frozen=True)
class IngestOutcome:
    item: Item
    duplicate: bool
    needs_transcription: bool
    silent: bool = False


def is_url(source: str) -> bool:
    return urllib.parse.urlsplit(source).scheme in ("http", "https")


def check_link(settings: Settings, url: str, options: IngestOptions) -> None:
    """DownloadError at once when the link itself points at the server's own network."""
    guard = NetGuard(allow=(*settings.ingest_allow_hosts, *options.allow_hosts))
    try:
        guard.check_url(url)
    except BlockedAddressError as exc:
        raise DownloadError(str(exc)) from None
    except OSError:
        pass  # an unknown host now may be known by the time the worker runs


def check_local_source(path: Path) -> Path:
    """Plain-words errors for the things a person gets wrong with a local path."""
    if not path.exists():
        raise SourceError(f"{path} does not exist")
    if path.is_dir():
        raise SourceError(f"{path} is a folder, not a media file")
    if not path.is_file():
        raise SourceError(f"{path} is not a regular file")
    if not os.access(path, os.R_OK):
        raise SourceError(f"{path} cannot be read (permission denied)")
    try:
        with open(path, "rb") as fh:
            fh.read(1)
    except PermissionError as exc:
        raise SourceError(f"{path} cannot be read (permission denied)") from exc
    if path.stat().st_size == 0:
        raise MediaError(f"{path.name} is empty (0 bytes)")
    return path


def fetch_source(
    settings: Settings,
    source: str,
    *,
    progress: ProgressFn | None = None,
    allow_hosts: tuple[str, ...] = (),
) -> FetchedSource:
    settings.ensure()
    workdir = Path(tempfile.mkdtemp(dir=settings.tmp_dir, prefix="fetch-"))
    try:
        if is_url(source):
            guard = NetGuard(allow=(*settings.ingest_allow_hosts, *allow_hosts))
            return _download(settings, source, workdir, progress, guard)
        scheme = urllib.parse.urlsplit(source).scheme
        if scheme and len(scheme) > 1 and not Path(source).exists():
            raise SourceError(f"only http and https links can be fetched, not {scheme}:")
        path = check_local_source(Path(source).expanduser())
        size = path.stat().st_size
        if size > settings.max_upload_bytes:
            raise SourceError(
                f"{path.name} is {size / 1024**3:.1f} GB, over the limit of "
                f"{settings.max_upload_bytes / 1024**3:.1f} GB (ARCHIVE_MAX_UPLOAD_MB)"
            )
        target = workdir / ("original" + path.suffix.lower()[:10])
        # A private copy: the user's file may change or vanish while we work on it.
        _copy_with_progress(path, target, size, progress)
        return FetchedSource(path=target, workdir=workdir, original_name=path.name)
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise


def _copy_with_progress(src: Path, dst: Path, size: int, progress: ProgressFn | None) -> None:
    done = 0
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        while chunk := fin.read(4 * 1024 * 1024):
            fout.write(chunk)
            done += len(chunk)
            if progress and size:
                progress("download", done / size)


class _YtdlpLogger:
    """Collects yt-dlp's messages instead of printing them; errors become our own sentences."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def debug(self, msg: str) -> None:
        pass

    def info(self, msg: str) -> None:
        pass

    def warning(self, msg: str) -> None:
        log.info("yt-dlp: %s", msg)

    def error(self, msg: str) -> None:
        self.errors.append(msg)


def _download(
    settings: Settings, url: str, workdir: Path, progress: ProgressFn | None, guard: NetGuard
) -> FetchedSource:
    """yt-dlp, with every hop checked by ``guard`` (:mod:`archive.ingest.netguard`) and every
    ffmpeg it runs limited to local files in allowed containers."""
    import yt_dlp

    try:
        guard.check_url(url)  # before yt-dlp: a clear sentence, and not one byte sent
    except BlockedAddressError as exc:
        raise DownloadError(str(exc)) from None
    except OSError:
        pass  # an unknown host: yt-dlp meets it too and says so in its words

    def hook(status: dict[str, Any]) -> None:
        if progress is None:
            return
        total = status.get("total_bytes") or status.get("total_bytes_estimate")
        if status.get("status") == "downloading" and total:
            progress("download", min(1.0, (status.get("downloaded_bytes") or 0) / total))
        elif status.get("status") == "finished":
            progress("download", 1.0)

    logger = _YtdlpLogger()
    options: dict[str, Any] = {
        "outtmpl": {"default": "media.%(ext)s"},
        "paths": {"home": str(workdir), "temp": str(workdir)},
        # The best complete recording: archive quality, not a streaming rendition.
        "format": "bv*+ba/b",
        "merge_output_format": "mkv",
        "noplaylist": True,
        "writesubtitles": True,
        "subtitleslangs": SOURCE_SUBTITLE_LANGS,
        "subtitlesformat": "vtt/srt/best",
        "progress_hooks": [hook],
        "logger": logger,
        "quiet": True,
        "no_warnings": True,
        "noprogress": True,
        "socket_timeout": 30,
        "retries": 3,
        "max_filesize": settings.max_upload_bytes,
        "overwrites": True,
        "cachedir": False,
        # Only yt-dlp's own downloaders, whose requests pass the guard: never ffmpeg fetching a
        # playlist's URLs itself. Should yt-dlp fall back to ffmpeg anyway, that ffmpeg may open
        # local files only, and so fetches nothing.
        "external_downloader": {"default": "native"},
        "hls_prefer_native": True,
        "external_downloader_args": {"ffmpeg_i": _FFMPEG_LOCAL_ONLY},
        # The merge of picture and sound runs ffmpeg on the downloaded parts: each is read as
        # one local file in an allowed container (a "video" that is a playlist is refused).
        "postprocessor_args": {"merger+ffmpeg_i": _FFMPEG_LOCAL_ONLY},
        # The fixups also run ffmpeg on what was downloaded, without those limits; the archive's
        # own decode of the audio derivative reads such files as they are.
        "fixup": "never",
        "match_filter": _refuse_live,
    }
    downloader = guarded_youtube_dl(guard)
    try:
        with downloader(options) as ydl:
            info = ydl.extract_info(url, download=True)
            if guard.refused:
                # A hop was refused (a redirect, a page's media URL): the whole link is refused,
                # even should another format have come from elsewhere.
                raise DownloadError(guard.refused[0])
            if info is None:
                raise DownloadError(f"nothing could be downloaded from {url}")
            if info.get("_type") == "playlist":
                raise DownloadError(f"{url} is a playlist: give the link of one recording")
            clean = ydl.sanitize_info(info)
    except (yt_dlp.utils.YoutubeDLError, OSError) as exc:
        if guard.refused:
            raise DownloadError(guard.refused[0]) from None
        raise DownloadError(_explain_download_error(url, str(exc))) from None
    downloads = info.get("requested_downloads") or []
    paths = [Path(d["filepath"]) for d in downloads if d.get("filepath")]
    if not paths or not paths[0].exists():
        candidates = sorted(workdir.glob("media.*"))
        if not candidates:
            raise DownloadError(f"no audio or video could be downloaded from {url}")
        paths = candidates
    if paths[0].stat().st_size == 0:
        raise MediaError(f"the file downloaded from {url} is empty")
    subtitles: list[tuple[str, Path]] = []
    for lang, sub in (info.get("requested_subtitles") or {}).items():
        sub_path = Path(sub.get("filepath") or workdir / f"media.{lang}.{sub.get('ext', 'vtt')}")
        if sub_path.exists() and sub_path.stat().st_size > 0:
            subtitles.append((lang, sub_path))
    clean.pop("http_headers", None)  # may carry cookies; the rest is kept as evidence
    name = urllib.parse.unquote(Path(urllib.parse.urlsplit(url).path).name) or url
    return FetchedSource(
        path=paths[0],
        workdir=workdir,
        original_name=name,
        url=url,
        extractor=info.get("extractor_key") or info.get("extractor"),
        info=clean,
        subtitles=tuple(subtitles),
        allowed_internal=tuple(guard.allowed_internal),
    )


_FFMPEG_LOCAL_ONLY = ["-protocol_whitelist", "file", "-format_whitelist", FORMAT_WHITELIST]


def _refuse_live(info: dict[str, Any], *, incomplete: bool = False) -> str | None:
    """yt-dlp's match filter: a live stream is recorded by ffmpeg itself, outside the guard."""
    if info.get("is_live") or info.get("live_status") in ("is_live", "is_upcoming"):
        return "a live stream cannot be archived until it has ended"
    return None


def _explain_download_error(url: str, message: str) -> str:
    text = message.replace("ERROR: ", "").strip()
    low = text.lower()
    host = urllib.parse.urlsplit(url).netloc
    if "http error 404" in low or "404" in low and "not found" in low:
        return f"{url} was not found (HTTP 404)"
    if "http error 403" in low:
        return f"{url} refused access (HTTP 403)"
    if "http error 401" in low:
        return f"{url} needs a login (HTTP 401)"
    if "connection refused" in low:
        return f"could not connect to {host}: connection refused"
    if "name or service not known" in low or "nodename nor servname" in low or "getaddrinfo" in low:
        return f"could not find the host {host}"
    if "timed out" in low:
        return f"{host} did not answer in time"
    if "unsupported url" in low or "no video formats" in low or "no media" in low:
        return f"no audio or video was found at {url}"
    if "file is larger than max-filesize" in low or "max_filesize" in low:
        return f"the recording at {url} is larger than the upload limit"
    return f"could not download {url}: {text[:300]}"


def _looks_chinese(text: str) -> bool:
    han = sum(1 for ch in text if "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff")
    return han > 0 and han >= len(text.strip()) * 0.2


def _metadata_from_source(options: IngestOptions, fetched: FetchedSource) -> dict[str, Any]:
    """Item fields: the user's values first, the source's where the user gave none."""
    info = fetched.info
    values: dict[str, Any] = {
        "title_zh": options.title_zh or "",
        "title_en": options.title_en or "",
        "description_zh": options.description_zh or "",
        "description_en": options.description_en or "",
        "collection": options.collection,
        "speakers": list(options.speakers),
        "tags": list(options.tags),
        "visibility": options.visibility,
        "language": options.language,
        "is_demo": options.is_demo,
        "source_url": fetched.url,
    }
    source_title = (info.get("title") or "").strip()
    if (fetched.extractor or "").lower() in ("generic", "html5", "html5mediaembed"):
        # The html5 extractor numbers the media of a page: "Title (1)".
        source_title = re.sub(r"\s\(\d+\)$", "", source_title)
    if not (values["title_zh"] or values["title_en"]):
        if source_title and source_title != Path(fetched.original_name).stem:
            values["title_zh" if _looks_chinese(source_title) else "title_en"] = source_title
        else:
            values["title_en"] = options.original_name or fetched.original_name
    description = (info.get("description") or "").strip()
    if description and not (values["description_zh"] or values["description_en"]):
        values["description_zh" if _looks_chinese(description) else "description_en"] = description
    date = options.date or info.get("upload_date") or info.get("release_date")
    if date:
        try:
            values["recorded_date"] = normalise_date(str(date))
        except InputError:
            if options.date:
                raise
    uploader = info.get("uploader") or info.get("channel")
    if uploader:
        values["uploader"] = str(uploader)
    chapters = info.get("chapters") or []
    if chapters:
        values["chapters"] = [
            {"start": c.get("start_time"), "end": c.get("end_time"), "title": c.get("title", "")}
            for c in chapters
        ]
    return values


def _subtitle_segments(
    options: IngestOptions, fetched: FetchedSource
) -> tuple[tuple[Segment, ...], str] | None:
    """Segments from the user's subtitle file, else from subtitles the source offered."""

    if options.subtitles:
        return read_subtitles(
            Path(options.subtitles), language=_hint(options.language)
        ), "subtitles"
    if not fetched.subtitles:
        return None
    ranked = sorted(fetched.subtitles, key=lambda ls: _lang_rank(ls[0]))
    chinese = next(((lang, p) for lang, p in ranked if not lang.startswith("en")), None)
    english = next(((lang, p) for lang, p in ranked if lang.startswith("en")), None)
    zh_segments = read_subtitles(chinese[1], language="zh") if chinese else ()
    en_segments = read_subtitles(english[1], language="en") if english else ()
    if zh_segments and en_segments:
        return merge_tracks(zh_segments, en_segments), "source-subtitles"
    return (zh_segments or en_segments), "source-subtitles"


def _hint(language: str) -> str | None:
    return None if language == "auto" else ("zh" if language == "yue" else language)


def _lang_rank(lang: str) -> int:
    for rank, wanted in enumerate(SOURCE_SUBTITLE_LANGS):
        if lang == wanted or lang.startswith(wanted + "-"):
            return rank
    return len(SOURCE_SUBTITLE_LANGS)


def merge_tracks(zh: tuple[Segment, ...], en: tuple[Segment, ...]) -> tuple[Segment, ...]:
    """Put English cues onto the Chinese cues they overlap most (subtitles of one talk, two tracks)."""
    buckets: dict[int, list[str]] = {}
    for cue in en:
        best, best_overlap = None, 0.0
        for i, seg in enumerate(zh):
            overlap = min(seg.end, cue.end) - max(seg.start, cue.start)
            if overlap > best_overlap:
                best, best_overlap = i, overlap
        if best is not None:
            buckets.setdefault(best, []).append(cue.text_en)
    return tuple(
        seg.with_(text_en=" ".join(buckets.get(i, [])), en_machine=False)
        for i, seg in enumerate(zh)
    )


def ingest(
    settings: Settings,
    catalog: Catalog,
    source: str,
    options: IngestOptions,
    *,
    progress: ProgressFn | None = None,
) -> IngestOutcome:
    """Fetch, store and catalogue one recording. See the module docstring for the order of steps."""
    if options.subtitles:
        # Read the subtitle file first: a bad one must fail before anything is downloaded.
        from transcripts.subtitles import read_subtitles

        read_subtitles(Path(options.subtitles), language=_hint(options.language))
    fetched = fetch_source(settings, source, progress=progress, allow_hosts=options.allow_hosts)
    try:
        if progress:
            progress("store", 0.0)
        sha, size = hash_file(fetched.path)
        existing = catalog.item_by_original_sha(sha)
        if existing is not None:
            return IngestOutcome(item=existing, duplicate=True, needs_transcription=False)
        info = probe(fetched.path, fetched.original_name)
        derivative = make_audio_derivative(
            settings,
            fetched.path,
            expected_duration=info.audio_duration,
            name=fetched.original_name,
            container=info.container,
            progress=(lambda f: progress("store", f)) if progress else None,
        )
        try:
            subtitle_result = _subtitle_segments(options, fetched)
            original = store_file(
                settings, fetched.path, media_path(settings, sha, info.extension), move=True
            )
            audio = store_file(settings, derivative.path, derived_path(settings, sha), move=True)
        finally:
            derivative.path.unlink(missing_ok=True)
        values = _metadata_from_source(options, fetched)
        try:
            item = _record(
                catalog,
                settings,
                values,
                options,
                fetched,
                sha,
                size,
                info,
                derivative,
                original,
                audio,
                subtitle_result,
            )
        except sqlite3.IntegrityError:
            # Another ingest of the same bytes won the race: theirs is the item.
            existing = catalog.item_by_original_sha(sha)
            if existing is None:
                raise
            return IngestOutcome(item=existing, duplicate=True, needs_transcription=False)
        needs = options.transcribe and not (subtitle_result and subtitle_result[0])
        return IngestOutcome(
            item=catalog.get_item(item.id),
            duplicate=False,
            needs_transcription=needs,
            silent=derivative.is_silent,
        )
    finally:
        shutil.rmtree(fetched.workdir, ignore_errors=True)


def _record(
    catalog,
    settings,
    values,
    options,
    fetched,
    sha,
    size,
    info,
    derivative,
    original,
    audio,
    subtitle_result,
) -> Item:  # type: ignore[no-untyped-def]
    """All catalog writes of one ingest, in one transaction."""
    with catalog.transaction():
        item = catalog.create_item(**values)
        catalog.add_media(
            item.id,
            role="original",
            sha256=sha,
            size=size,
            path=str(original.relative_to(settings.home)),
            duration=info.duration,
            container=info.container,
            streams=info.streams,
            mime=info.mime,
            original_name=options.original_name or fetched.original_name,
        )
        catalog.add_media(
            item.id,
            role="audio",
            sha256=derivative.sha256,
            size=derivative.size,
            path=str(audio.relative_to(settings.home)),
            duration=derivative.duration,
            container="mov,mp4,m4a,3gp,3g2,mj2",
            # The peak level travels with the derivative: a silent recording skips the model.
            streams=(
                {
                    "codec_type": "audio",
                    "codec_name": "aac",
                    "channels": 1,
                    "max_volume_db": derivative.max_volume_db,
                },
            ),
            mime="audio/mp4",
        )
        if fetched.url or fetched.info:
            catalog.set_source(
                item.id, url=fetched.url, extractor=fetched.extractor, info=fetched.info
            )
        for host in fetched.allowed_internal:
            # Staff let this link reach the server's own network: say who, where and for what.
            write_audit(
                catalog.conn,
                actor=options.created_by,
                action="ingest.allowed-host",
                item_id=item.id,
                target=host,
                new_value=fetched.url,
            )
        if subtitle_result and subtitle_result[0]:
            segments, origin = subtitle_result
            catalog.add_revision(
                item.id,
                segments,
                origin=origin,
                author=options.created_by,
                summary="imported from subtitles",
            )
    return item
