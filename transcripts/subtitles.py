"""Subtitle files in and out: SRT and WebVTT, read with pysubs2 and turned into :class:`Segment` s.

Reading (:func:`read_subtitles`, :func:`parse_subtitles`, :func:`import_subtitles`):

* the bytes are decoded by byte-order mark, then strict UTF-8, then UTF-16 without a mark, then
  charset-normalizer limited to the legacy encodings a Hong Kong / Western archive meets (Big5-HKSCS,
  CP950, GB18030, CP1252) - left unrestricted it happily calls short Chinese files Korean or Cyrillic;
* pysubs2 parses the cues; this module only cleans what pysubs2 leaves behind (YouTube inline timing
  tags, ``<c.color…>`` / ``<v Name>`` spans, ``{\\an8}`` overrides, HTML entities, a malformed cue's
  lines that pysubs2 glues onto the cue before it);
* rolling captions (YouTube auto-captions repeat the previous line in every cue) are merged so each
  line reads once;
* each cue goes to the Chinese track (any Han character; normalised to Hong Kong Traditional with
  OpenCC ``s2hk``, the original kept in ``text_raw``) or the English one; bilingual files (a Chinese
  and an English line per cue) fill both.

Anything that is not a readable SRT/WebVTT file raises :class:`SubtitleError` with a plain sentence.

Writing lives in :mod:`transcripts.exports` (one track or both, machine translation marked); its
names are re-exported here for the callers that import them from this module.
"""

from __future__ import annotations

import codecs
import functools
import html
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pysubs2
from pysubs2.formats import SubripFormat, WebVTTFormat

from archive.core.errors import InputError, SubtitleError
from transcripts.chinese import to_hk

from .exports import (
    EXPORT_FORMATS,
    EXPORT_TRACKS,
    TIMESTAMP_STYLES,
    TRACKS,
    export,
    export_json,
    export_srt,
    export_txt,
    export_vtt,
    format_timestamp,
    require_text,
    spoken_track,
    tracks_with_text,
)
from .segments import Segment

__all__ = [
    "EXPORT_FORMATS",
    "EXPORT_TRACKS",
    "TIMESTAMP_STYLES",
    "TRACKS",
    "SubtitleImport",
    "export",
    "export_json",
    "export_srt",
    "export_txt",
    "export_vtt",
    "format_timestamp",
    "import_subtitles",
    "parse_subtitles",
    "read_subtitles",
    "require_text",
    "spoken_track",
    "tracks_with_text",
]


# Real subtitle files are well under a megabyte; anything this big is a video picked by mistake,
# and decoding or sniffing it would only waste memory.
_MAX_BYTES = 20 * 1024 * 1024

# Order matters: the UTF-32-LE mark starts with the UTF-16-LE one.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# The legacy encodings charset-normalizer may choose from. Big5-HKSCS first: it is a superset of
# Big5 with the Hong Kong characters (names, Cantonese words) that plain Big5 lacks.
_LEGACY_ENCODINGS: tuple[str, ...] = ("big5hkscs", "cp950", "gb18030", "cp1252")

# CJK Unified Ideographs, Extension A, compatibility ideographs and the supplementary-plane extensions.
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_LATIN_LETTER = re.compile("[A-Za-z]")
# YouTube word timings (<00:05:04.199>). Removed before pysubs2 sees the text: a line holding
# exactly two of them would otherwise be taken for a cue timing line.
_INLINE_TIME = re.compile(r"<(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3}>")
_VOICE = re.compile(r"<v(?:\.[^\s>]*)*\s+([^>]+?)\s*>")
_HTML_TAG = re.compile(r"<\s*/?\s*[A-Za-z][^>]*>")
# Only SSA override blocks (pysubs2 turns <i> into {\i1}; SRT files carry {\an8}); a plain "{laughs}"
# is text and stays.
_SSA_TAG = re.compile(r"\{\\[^}]*\}")
# A line that tries to be a cue timing line: one token with a digit, then the arrow. "a --> b" in
# the text is not one.
_TIMING_LIKE = re.compile(r"^\s*(?=\S*\d)\S+\s*-->")
_CUE_NUMBER = re.compile(r"^\s*\d+\s*$")

_LANGUAGE_HINTS = {"zh": "zh", "yue": "zh", "cmn": "zh", "cn": "zh", "en": "en", "eng": "en"}


# --------------------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class SubtitleImport:
    """What reading a subtitle file produced, with the counts a caller may want to report."""

    segments: tuple[Segment, ...]
    format: str  # "srt" or "vtt"
    encoding: str  # the codec the bytes were decoded with
    cues: int  # timing lines found in the file, good and bad
    skipped: int  # cues dropped because their timing line is malformed
    repaired: int  # cues whose end was before their start and was re-estimated
    rolling: bool  # rolling captions were merged so each line reads once


@dataclass(frozen=True)
class _Cue:
    start: int  # ms
    end: int  # ms
    lines: tuple[str, ...]
    speaker: str = ""


def read_subtitles(
    path_or_bytes: str | os.PathLike[str] | bytes,
    *,
    filename: str | None = None,
    language: str | None = None,
) -> tuple[Segment, ...]:
    """Segments of an SRT or WebVTT file, given as a path (``str`` is a path) or as its bytes.

    ``filename`` names the file in error messages and hints the format by its extension;
    ``language`` (``zh``, ``yue``, ``en``) forces every monolingual cue onto that track.
    """
    return import_subtitles(path_or_bytes, filename=filename, language=language).segments


def parse_subtitles(
    data: bytes, *, filename: str | None = None, language: str | None = None
) -> tuple[Segment, ...]:
    """Segments of the bytes of an SRT or WebVTT file; see :func:`read_subtitles`."""
    return import_subtitles(bytes(data), filename=filename, language=language).segments


def import_subtitles(
    path_or_bytes: str | os.PathLike[str] | bytes,
    *,
    filename: str | None = None,
    language: str | None = None,
) -> SubtitleImport:
    """Like :func:`read_subtitles`, with the format, encoding and skipped/repaired cue counts."""
    forced = _language_track(language)
    if isinstance(path_or_bytes, bytes | bytearray | memoryview):
        data = bytes(path_or_bytes)
        name = filename or "The file"
    elif isinstance(path_or_bytes, str) and ("\n" in path_or_bytes or "-->" in path_or_bytes):
        # A str is a path; subtitle text passed by mistake would give a baffling "no such file".
        raise InputError(
            "read_subtitles takes a path or bytes, not subtitle text: pass text.encode()."
        )
    else:
        path = Path(path_or_bytes)
        name = filename or path.name
        data = _read_file(path, name)
    if len(data) > _MAX_BYTES:
        raise _not_subtitle(name, f"it is {len(data) // (1024 * 1024)} MB, far too large")
    text, encoding = _decode(data, name)
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise _not_subtitle(name, "it is empty")

    fmt = _detect_format(text, filename or name)
    if fmt is None:
        raise _not_subtitle(name, _why_not_subtitle(text))
    had_inline_times = fmt == "vtt" and _INLINE_TIME.search(text) is not None
    if had_inline_times:
        text = _INLINE_TIME.sub("", text)

    parser, stamp = _choose_parser(text, fmt)
    timing = [
        (number, line)
        for number, line in enumerate(text.split("\n"), 1)
        if len(stamp.findall(line)) == 2 or _TIMING_LIKE.match(line)
    ]
    bad = [(number, line) for number, line in timing if len(stamp.findall(line)) != 2]
    if not timing:
        raise _not_subtitle(name, "it has no cues (no 'start --> end' timing lines)")
    good = len(timing) - len(bad)
    if good <= len(bad):
        number, line = bad[0]
        raise SubtitleError(
            f"{name} is not a subtitle file (SRT or WebVTT) that can be read: {len(bad)} of "
            f"{len(timing)} cues have malformed times (first at line {number}: {line.strip()[:60]!r})."
        )

    try:
        subs = pysubs2.SSAFile.from_string(text, format_=parser, keep_unknown_html_tags=True)
    except Exception as exc:  # pysubs2 raises many kinds; the user must see a sentence, not them
        raise SubtitleError(
            f"{name} is not a subtitle file (SRT or WebVTT) that can be read: {exc}."
        ) from exc

    cues = [_cue(event, vtt=fmt == "vtt") for event in subs.events]
    cues = sorted((c for c in cues if c.lines), key=lambda c: c.start)
    cues, repaired = _repair_times(cues)
    rolling = had_inline_times or _looks_rolling(cues)
    if rolling:
        cues = _merge_rolling(cues)
    segments = _to_segments(cues, forced)
    if not segments:
        raise _not_subtitle(name, "none of its cues has any text")
    return SubtitleImport(
        segments=segments,
        format=fmt,
        encoding=encoding,
        cues=len(timing),
        skipped=len(bad),
        repaired=repaired,
        rolling=rolling,
    )


def _not_subtitle(name: str, reason: str) -> SubtitleError:
    return SubtitleError(f"{name} is not a subtitle file (SRT or WebVTT): {reason}.")


def _language_track(language: str | None) -> str | None:
    if not language:
        return None
    primary = re.split(r"[-_]", language.strip().lower(), maxsplit=1)[0]
    if primary not in _LANGUAGE_HINTS:
        raise InputError(f"Unknown subtitle language {language!r}: use zh, yue or en.")
    return _LANGUAGE_HINTS[primary]


def _read_file(path: Path, name: str) -> bytes:
    try:
        size = path.stat().st_size
        if size > _MAX_BYTES:
            raise _not_subtitle(name, f"it is {size // (1024 * 1024)} MB, far too large")
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise SubtitleError(f"The subtitle file {name} does not exist.") from exc
    except IsADirectoryError as exc:
        raise SubtitleError(f"{name} is a folder, not a subtitle file.") from exc
    except OSError as exc:
        raise SubtitleError(f"The subtitle file {name} cannot be read: {exc.strerror}.") from exc


def _decode(data: bytes, name: str) -> tuple[str, str]:
    """The text of a subtitle file and the codec used. Never guesses when the bytes say."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(codec.removesuffix("-sig")), codec
            except UnicodeDecodeError as exc:
                raise _not_subtitle(
                    name, f"it starts like {codec} text but is not valid {codec}"
                ) from exc
    if b"\x00" in data[:8192]:
        # Text never holds NUL bytes, except UTF-16 without a byte-order mark (ASCII in it is
        # half NULs). Accept that reading only if it yields subtitle-looking text.
        for codec in ("utf-16-le", "utf-16-be"):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError:
                continue
            if "-->" in text or text.lstrip("\ufeff").startswith("WEBVTT"):
                return text, codec
        raise _not_subtitle(name, _binary_reason(data))
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes  # only legacy-encoded files pay for the import

    best = from_bytes(data, cp_isolation=list(_LEGACY_ENCODINGS)).best()
    if best is None:
        raise _not_subtitle(name, _binary_reason(data))
    return str(best), best.encoding


def _binary_reason(data: bytes) -> str:
    try:
        import filetype

        kind = filetype.guess(data[:8192])
    except Exception:  # the guess only improves the message; never let it fail the error
        kind = None
    if kind is not None:
        return f"it holds {kind.extension.upper()} data ({kind.mime}), not text"
    return "it is binary data, not text"


def _detect_format(text: str, name: str) -> str | None:
    if text.lstrip().startswith("WEBVTT"):
        return "vtt"
    if SubripFormat.guess_format(text) == "srt":
        return "srt"
    # A .vtt file that lost its header, with hour-less times (00:01.000) SRT's pattern misses.
    if name.lower().endswith(".vtt") and any(
        len(WebVTTFormat.TIMESTAMP.findall(line)) == 2 for line in text.split("\n")
    ):
        return "vtt"
    return None


def _why_not_subtitle(text: str) -> str:
    try:
        other = pysubs2.formats.autodetect_format(text[:10000])
    except Exception:  # no format recognised at all: the usual case for random text
        other = None
    if other and other not in ("srt", "vtt", "tmp"):  # "tmp" matches almost any "00:00:00:" line
        return f"it looks like a {other.upper()} subtitle file; convert it to SRT first"
    return "it has no cues (no 'start --> end' timing lines)"


def _choose_parser(text: str, fmt: str) -> tuple[str, re.Pattern[str]]:
    """pysubs2's parser and timestamp pattern for the file: ``(format_, TIMESTAMP)``.

    WebVTT written with SRT-style commas (00:00:01,000) is common in badly converted files; when
    SRT's pattern finds more timing lines, read the file with the SRT parser.
    """
    if fmt == "srt":
        return "srt", SubripFormat.TIMESTAMP
    lines = text.split("\n")
    vtt_hits = sum(1 for line in lines if len(WebVTTFormat.TIMESTAMP.findall(line)) == 2)
    srt_hits = sum(1 for line in lines if len(SubripFormat.TIMESTAMP.findall(line)) == 2)
    if srt_hits > vtt_hits:
        return "srt", SubripFormat.TIMESTAMP
    return "vtt", WebVTTFormat.TIMESTAMP


def _cue(event: pysubs2.SSAEvent, *, vtt: bool) -> _Cue:
    lines = event.text.split(r"\N")
    # pysubs2 glues a malformed cue (number, bad timing line, text) onto the cue before it.
    for i, line in enumerate(lines):
        if _TIMING_LIKE.match(line):
            lines = lines[:i]
            if lines and _CUE_NUMBER.match(lines[-1]):
                lines.pop()
            break
    if vtt:
        # A WebVTT cue ends at its first blank line; what follows is a NOTE block or the next
        # cue's identifier, which pysubs2 appends to this cue.
        for i, line in enumerate(lines):
            if not line.strip():
                lines = lines[:i]
                break
    speaker = ""
    cleaned: list[str] = []
    for line in lines:
        voice = _VOICE.search(line)
        if voice and not speaker:
            speaker = html.unescape(voice.group(1))
        line = _SSA_TAG.sub("", line).replace(r"\h", " ")
        line = html.unescape(_HTML_TAG.sub("", line))
        line = " ".join(line.split())
        if line:
            cleaned.append(line)
    return _Cue(
        start=max(0, event.start), end=max(0, event.end), lines=tuple(cleaned), speaker=speaker
    )


def _repair_times(cues: list[_Cue]) -> tuple[list[_Cue], int]:
    """Cues whose end is before their start (a typo in the file) get a plausible end instead.

    The cue keeps its start and lasts until the next cue starts, at most 3 s; that is how long a
    reader would have seen it.
    """
    fixed: list[_Cue] = []
    repaired = 0
    for i, cue in enumerate(cues):
        if cue.end < cue.start:
            following = [c.start for c in cues[i + 1 :] if c.start > cue.start]
            limit = cue.start + 3000
            end = min(following[0], limit) if following else limit
            cue = _Cue(cue.start, end, cue.lines, cue.speaker)
            repaired += 1
        fixed.append(cue)
    return fixed, repaired


def _looks_rolling(cues: Sequence[_Cue]) -> bool:
    """Whether most cues repeat a line of the cue before them (roll-up captions).

    Ordinary subtitles almost never repeat a line in the next cue; rolling ones nearly always do.
    """
    if len(cues) < 2:
        return False
    repeats = sum(1 for a, b in zip(cues, cues[1:], strict=False) if set(a.lines) & set(b.lines))
    return repeats * 2 >= len(cues) - 1


def _merge_rolling(cues: Sequence[_Cue]) -> list[_Cue]:
    """Each cue keeps only the lines the previous cue did not show, so every line reads once.

    A cue with nothing new only prolongs the one before. A line stays on screen in rolling captions
    while the next one is typed; the merged cue ends where the next new line starts, so the
    segments follow one another instead of overlapping.
    """
    merged: list[_Cue] = []
    shown: set[str] = set()
    for cue in cues:
        new = tuple(line for line in cue.lines if line not in shown)
        if new:
            merged.append(_Cue(cue.start, cue.end, new, cue.speaker))
        elif merged:
            last = merged[-1]
            merged[-1] = _Cue(last.start, max(last.end, cue.end), last.lines, last.speaker)
        shown = set(cue.lines)
    for i in range(len(merged) - 1):
        current, following = merged[i], merged[i + 1]
        if current.end > following.start:
            end = max(current.start, following.start)
            merged[i] = _Cue(current.start, end, current.lines, current.speaker)
    return merged


def _has_han(text: str) -> bool:
    return _HAN.search(text) is not None


def _is_bilingual(cues: Sequence[_Cue]) -> bool:
    """Whether at least half the cues hold a Chinese line and a separate English line."""
    both = sum(
        1
        for c in cues
        if any(_has_han(line) for line in c.lines)
        and any(not _has_han(line) and _LATIN_LETTER.search(line) for line in c.lines)
    )
    return both > 0 and both * 2 >= len(cues)


def _to_segments(cues: Sequence[_Cue], forced: str | None) -> tuple[Segment, ...]:
    bilingual = _is_bilingual(cues)
    segments: list[Segment] = []
    for cue in cues:
        raw = "\n".join(cue.lines)
        zh_lines = [line for line in cue.lines if _has_han(line)]
        other_lines = [line for line in cue.lines if not _has_han(line)]
        if bilingual and zh_lines and other_lines:
            text_zh, text_en = _to_hk("\n".join(zh_lines)), "\n".join(other_lines)
            # Nothing says which track was spoken; the first line is usually the original.
            lang = forced or ("zh" if _has_han(cue.lines[0]) else "en")
        elif forced == "en" or (forced is None and not zh_lines):
            text_zh, text_en, lang = "", raw, "en"
        else:
            text_zh, text_en, lang = _to_hk(raw), "", "zh"
        segments.append(
            Segment(
                start=cue.start / 1000,
                end=cue.end / 1000,
                text_zh=text_zh,
                text_en=text_en,
                lang=lang,
                text_raw=raw,
                speaker=cue.speaker,
            )
        )
    return tuple(segments)


@functools.cache
def _to_hk(text: str) -> str:
    return to_hk(text)
