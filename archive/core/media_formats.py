"""The containers FFmpeg may read for the archive, and the one way every call opens a file.

Outside media reaches FFmpeg's demuxers in four places: ffprobe when a file is probed, ffmpeg when
the audio derivative and the public copies are made, yt-dlp's merger, and PyAV when the speech
model's input is decoded. Some of FFmpeg's demuxers read lists of *other* inputs rather than a
recording: HLS and DASH playlists, ffconcat, image sequences, tee, ``data:`` URIs. A file that a
magic-number table calls MP3 (an ID3 header) but that FFmpeg detects as an HLS playlist would make
FFmpeg open whatever paths or URLs the list names and hand their sound back as this file's. So
every call made through this module:

- names its one input as ``file:<absolute path>``, never a string FFmpeg could read as a protocol
  (``concat:``, ``subfile,,``, ``http:``);
- allows only the ``file`` protocol (``-protocol_whitelist file``): no network, no pipes, no data;
- allows only the single-file containers of :data:`ALLOWED_DEMUXERS` (``-format_whitelist``), and,
  once a file has been probed, forces its container (``-f``) so that no second detection can
  pick something else.

>>> ffmpeg_input_args("/data/tmp/fetch-1/original.mp3", "mp3")
['-protocol_whitelist', 'file', '-format_whitelist', 'mov,...', '-f', 'mp3', '-i', 'file:/data/tmp/fetch-1/original.mp3']
"""

from __future__ import annotations

import os
from pathlib import Path

from archive.core.errors import MediaError

__all__ = [
    "ALLOWED_DEMUXERS",
    "FORMAT_WHITELIST",
    "allowed_demuxer",
    "ffmpeg_input_args",
    "file_url",
    "pyav_container_options",
]

# FFmpeg demuxer names (the first of ffprobe's ``format_name`` list) of containers that hold one
# recording and never open another file or URL. MOV/MP4 external data references ("drefs") stay
# off, as is FFmpeg's default. Not here, on purpose: hls, dash, concat, ffconcat, image2 and the
# other image sequence demuxers, tee, data, lavfi, mpd, smil, sdp, rtp, rtsp, and every device.
ALLOWED_DEMUXERS: tuple[str, ...] = (
    "mov",  # mov,mp4,m4a,3gp,3g2,mj2
    "matroska",  # matroska,webm
    "mp3",
    "flac",
    "wav",
    "ogg",
    "aac",
    "avi",
    "asf",  # WMA, WMV
    "mpegts",
    "mpeg",
    "flv",
    "aiff",
    "amr",
    "caf",
    "w64",
)
FORMAT_WHITELIST = ",".join(ALLOWED_DEMUXERS)
# Short names a catalog row may carry for a container (written by hand, by an import or by an
# older version) and the demuxer that reads it.
_ALIASES = {
    "mp4": "mov", "m4a": "mov", "m4v": "mov", "3gp": "mov", "3g2": "mov", "mj2": "mov",
    "quicktime": "mov", "webm": "matroska", "mkv": "matroska", "mka": "matroska",
    "wma": "asf", "wmv": "asf", "ts": "mpegts", "oga": "ogg", "opus": "ogg", "aif": "aiff",
}  # fmt: skip


def allowed_demuxer(container: str) -> str | None:
    """The demuxer to force for a container ffprobe named (``"mov,mp4,m4a,3gp,3g2,mj2"`` →
    ``"mov"``), or None when it is not one the archive reads."""
    for name in (container or "").lower().split(","):
        name = _ALIASES.get(name.strip(), name.strip())
        if name in ALLOWED_DEMUXERS:
            return name
    return None


def file_url(path: str | os.PathLike[str]) -> str:
    """``file:`` and the absolute path: FFmpeg reads it as this file and nothing else."""
    return "file:" + str(Path(path).absolute())


def ffmpeg_input_args(path: str | os.PathLike[str], container: str | None = None) -> list[str]:
    """The arguments that open ``path`` as the one input of ffmpeg or ffprobe.

    ``container`` is the probed ``format_name`` (forced with ``-f``); MediaError when it is not
    an allowed container. Without it FFmpeg detects the format, among allowed ones only.
    """
    forced: list[str] = []
    if container is not None:
        demuxer = allowed_demuxer(container)
        if demuxer is None:
            raise MediaError(
                f"{Path(path).name} is in a format the archive does not read ({container})"
            )
        forced = ["-f", demuxer]
    return [
        "-protocol_whitelist", "file", "-format_whitelist", FORMAT_WHITELIST,
        *forced, "-i", file_url(path),
    ]  # fmt: skip


def pyav_container_options() -> dict[str, str]:
    """The same limits for PyAV's ``av.open(..., container_options=...)``."""
    return {"protocol_whitelist": "file", "format_whitelist": FORMAT_WHITELIST}
