"""The content-addressed media store, probing and the audio derivative.

Originals are stored by the sha256 of their bytes (``media/ab/abcdef….mp4``), so the same recording
ingested twice is stored once and found again. Each item also gets an audio derivative
(``media/derived/<sha of original>.m4a``: mono AAC, none of the original's tags or chapters) used
both for playback on phones and as the transcription input. Files are written to ``tmp/`` on the same file system and moved into place
with an atomic rename, so a killed process never leaves a half-written file under ``media/``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archive.core.config import Settings
from archive.core.errors import ConfigError, MediaError
from archive.core.filemodes import PRIVATE_FILE, private_dir
from archive.core.media_formats import allowed_demuxer, ffmpeg_input_args, file_url

__all__ = [
    "Derivative",
    "Probe",
    "hash_file",
    "make_audio_derivative",
    "media_path",
    "probe",
    "store_file",
]

CHUNK = 1024 * 1024
# Below this peak level (dBFS) a recording holds no speech worth sending to the model.
SILENCE_MAX_VOLUME_DB = -60.0

_CONTAINER_MIME = {
    "mov,mp4,m4a,3gp,3g2,mj2": "video/mp4",
    "matroska,webm": "video/webm",
    "mp3": "audio/mpeg",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "ogg": "audio/ogg",
    "aac": "audio/aac",
}


@dataclass(frozen=True)
class Probe:
    container: str
    duration: float
    streams: tuple[dict[str, Any], ...]
    mime: str
    extension: str

    @property
    def audio_duration(self) -> float:
        """What the first audio track itself declares (the one the derivative decodes).

        Streams of one file often differ: a meeting or screen recording's picture may run seconds
        past its sound. The container's duration is the longest stream's, so a file is judged
        whole or truncated against its audio track's own length, falling back to the
        container's when the track declares none.
        """
        for stream in self.streams:
            if stream["codec_type"] == "audio":
                return stream.get("duration") or self.duration
        return self.duration

    @property
    def has_audio(self) -> bool:
        return any(s["codec_type"] == "audio" for s in self.streams)

    @property
    def has_video(self) -> bool:
        return any(s["codec_type"] == "video" and not s.get("attached_pic") for s in self.streams)


@dataclass(frozen=True)
class Derivative:
    path: Path
    sha256: str
    size: int
    duration: float
    max_volume_db: float | None

    @property
    def is_silent(self) -> bool:
        return self.max_volume_db is not None and self.max_volume_db < SILENCE_MAX_VOLUME_DB


def _require(tool: str) -> str:
    found = shutil.which(tool)
    if not found:
        raise ConfigError(f"{tool} is not installed: run `make setup` (it installs ffmpeg)")
    return found


def hash_file(path: Path, progress: Callable[[int], None] | None = None) -> tuple[str, int]:
    """sha256 and size, read in chunks (never the whole file in memory)."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            if progress:
                progress(size)
    return digest.hexdigest(), size


def probe(path: Path, name: str | None = None) -> Probe:
    """Container, duration and streams read from the file itself (not its name).

    Only the allowed single-file containers are detected, from this one file
    (:mod:`archive.core.media_formats`): a playlist, a concat list or an image sequence dressed as
    an MP3 is refused, and ffprobe never opens another path or URL.
    """
    name = name or path.name
    ffprobe = _require("ffprobe")
    result = subprocess.run(
        [
            ffprobe,
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_format",
            "-show_streams",
            *ffmpeg_input_args(path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        reason = _ffmpeg_reason(result.stderr)
        raise MediaError(f"{name} is not a playable audio or video file ({reason})")
    data = json.loads(result.stdout or "{}")
    fmt = data.get("format") or {}
    streams = tuple(
        {
            "index": s.get("index"),
            "codec_type": s.get("codec_type"),
            "codec_name": s.get("codec_name"),
            "sample_rate": s.get("sample_rate"),
            "channels": s.get("channels"),
            "width": s.get("width"),
            "height": s.get("height"),
            "attached_pic": bool((s.get("disposition") or {}).get("attached_pic")),
            "duration": _stream_duration(s),
        }
        for s in data.get("streams", [])
        if s.get("codec_type") in ("audio", "video")
    )
    container = fmt.get("format_name") or ""
    if allowed_demuxer(container) is None:
        # The whitelist refuses these already; this says so should a future FFmpeg name differ.
        raise MediaError(
            f"{name} is not a playable audio or video file (a {container or 'unknown'} file)"
        )
    if not any(s["codec_type"] == "audio" for s in streams):
        kind = "video without a sound track" if streams else "not audio or video"
        raise MediaError(f"{name} has no audio to archive ({kind})")
    try:
        duration = float(fmt.get("duration") or 0)
    except ValueError:
        duration = 0.0
    if duration <= 0 or container in ("tty", "image2"):
        raise MediaError(f"{name} is not a playable audio or video file (no duration)")
    mime = _CONTAINER_MIME.get(container, "application/octet-stream")
    has_video = any(s["codec_type"] == "video" and not s["attached_pic"] for s in streams)
    if mime == "video/mp4" and not has_video:
        mime = "audio/mp4"
    if mime == "video/webm" and not has_video:
        mime = "audio/webm"
    return Probe(
        container=container,
        duration=duration,
        streams=streams,
        mime=mime,
        extension=_extension(container, has_video),
    )


def _stream_duration(stream: dict[str, Any]) -> float | None:
    """A stream's declared length in seconds: ffprobe's ``duration`` (MP4, MP3, FLAC …) or the
    ``DURATION`` tag Matroska/WebM writers set (``00:00:27.007000000``); None when neither."""
    try:
        value = float(stream.get("duration") or 0)
    except (TypeError, ValueError):
        value = 0.0
    if value > 0:
        return value
    tags = {str(k).upper(): v for k, v in (stream.get("tags") or {}).items()}
    match = _TAG_DURATION_RE.match(str(tags.get("DURATION") or ""))
    if match:
        hours, minutes, seconds = match.groups()
        value = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
        return value if value > 0 else None
    return None


_TAG_DURATION_RE = re.compile(r"^(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$")


def _extension(container: str, has_video: bool) -> str:
    if container.startswith("mov,mp4"):
        return "mp4" if has_video else "m4a"
    if container == "matroska,webm":
        return "mkv" if has_video else "mka"
    return {"mp3": "mp3", "flac": "flac", "wav": "wav", "ogg": "ogg", "aac": "aac"}.get(
        container, "bin"
    )


def media_path(settings: Settings, sha256: str, extension: str) -> Path:
    return settings.media_dir / sha256[:2] / f"{sha256}.{extension}"


def derived_path(settings: Settings, sha256: str) -> Path:
    return settings.media_dir / "derived" / f"{sha256}.m4a"


def store_file(settings: Settings, source: Path, destination: Path, *, move: bool) -> Path:
    """Put a file at its content address atomically. Existing identical content is kept as is."""
    private_dir(destination.parent)
    if destination.exists():
        if move:
            source.unlink(missing_ok=True)
        return destination
    if move:
        os.replace(source, destination)  # same file system: atomic
    else:
        fd, tmp_name = tempfile.mkstemp(dir=settings.tmp_dir, prefix="copy-")
        os.close(fd)
        try:
            shutil.copyfile(source, tmp_name)
            os.replace(tmp_name, destination)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
    os.chmod(destination, PRIVATE_FILE)  # a moved file keeps the mode it came with
    return destination


_VOLUME_RE = re.compile(r"max_volume:\s*(-?[\d.]+|-inf) dB")
_TIME_RE = re.compile(r"out_time_us=(\d+)")


def make_audio_derivative(
    settings: Settings,
    source: Path,
    *,
    expected_duration: float,
    progress: Callable[[float], None] | None = None,
    name: str | None = None,
    container: str | None = None,
) -> Derivative:
    """Encode mono AAC for playback and transcription; measure the peak level on the way.

    The decode also proves the file is whole: a truncated recording decodes to less audio than
    its header promises, and is refused. ``expected_duration`` is the audio track's own declared
    length (:attr:`Probe.audio_duration`), not the container's: a picture that runs on after
    the sound has ended is not a truncation. ``container`` is the probed ``format_name``: the
    decode is forced to it (an allowed container only; see :mod:`archive.core.media_formats`).
    """
    name = name or source.name
    ffmpeg = _require("ffmpeg")
    fd, tmp_name = tempfile.mkstemp(dir=settings.tmp_dir, prefix="derive-", suffix=".m4a")
    os.close(fd)
    tmp = Path(tmp_name)
    command = [
        ffmpeg, "-nostdin", "-hide_banner", "-y", *ffmpeg_input_args(source, container),
        "-vn", "-sn", "-dn", "-map", "0:a:0", "-ac", "1", "-ar", "22050",
        "-af", "volumedetect", "-c:a", "aac", "-b:a", "64k", "-movflags", "+faststart",
        # None of the original's tags or chapters (a name, a place, a time): the derivative is
        # what staff play too, and renditions below staff are made from it.
        "-map_metadata", "-1", "-map_chapters", "-1", "-fflags", "+bitexact", "-flags:a", "+bitexact",
        "-progress", "pipe:1", "-nostats", file_url(tmp),
    ]  # fmt: skip
    try:
        with subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        ) as proc:
            assert proc.stdout is not None and proc.stderr is not None
            stderr_lines: list[str] = []
            import threading

            reader = threading.Thread(target=lambda: stderr_lines.extend(proc.stderr), daemon=True)  # type: ignore[arg-type]
            reader.start()
            for line in proc.stdout:
                match = _TIME_RE.match(line.strip())
                if match and progress and expected_duration > 0:
                    progress(min(1.0, int(match.group(1)) / 1e6 / expected_duration))
            proc.wait()
            reader.join()
        stderr = "".join(stderr_lines)
        if proc.returncode != 0:
            raise MediaError(f"{name} could not be decoded ({_ffmpeg_reason(stderr)})")
        decoded = probe(tmp).duration
        # Containers round durations and encoders pad; a real truncation loses far more.
        if expected_duration > 0 and decoded < expected_duration * 0.95 - 1.0:
            raise MediaError(
                f"{name} is truncated or damaged: only {decoded:.1f} s of "
                f"{expected_duration:.1f} s could be decoded"
            )
        match = _VOLUME_RE.search(stderr)
        max_volume = None
        if match:
            max_volume = float("-inf") if match.group(1) == "-inf" else float(match.group(1))
        sha, size = hash_file(tmp)
        return Derivative(
            path=tmp, sha256=sha, size=size, duration=decoded, max_volume_db=max_volume
        )
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _ffmpeg_reason(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    text = " ".join(lines[-3:]).lower()
    if "moov atom not found" in text or "invalid data found" in text:
        return "the data is damaged, incomplete or not media"
    if "not on whitelist" in text:
        return "it is a playlist or another format the archive does not read"
    if "permission denied" in text:
        return "permission denied"
    if "no such file" in text:
        return "file not found"
    return lines[-1][:200] if lines else "unknown format"
