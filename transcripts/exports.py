"""Transcripts out: SRT, WebVTT, timestamped text and JSON, of one track or of both together.

Writing is pure: segments in, ``str`` out. Redacted segments and segments whose chosen track is
empty are never written.

* A track is ``zh`` (Hong Kong Traditional Chinese), ``en`` (English) or ``both``: a bilingual
  file, each cue with its Chinese line above its English one (SRT, WebVTT), two columns (text), or
  both texts per segment (JSON).
* English that is a machine translation says so wherever it is written: ``[MT]`` before its line in
  SRT, WebVTT and text (WebVTT and text files explain the mark in a note at the top), and
  ``machine_translation`` in JSON. A reader of an exported file must not take a machine's words
  for the speaker's.
* Each cue names its speaker when the segment has one: a WebVTT voice span (``<v Name>``, the
  name escaped so that no ``>``, ``<`` or ``&`` in it can end or break the tag), ``Name: `` before
  the cue's first line in SRT and before the text in plain text, ``speaker`` in JSON. The
  segments are written as given: the caller passes what the reader may see (below staff a
  withheld speaker is already its label, :func:`archive.catalog.access.visible_revision`).
* :func:`spoken_track` is the track a transcript is spoken in (what an export writes unless told
  otherwise), :func:`tracks_with_text` those that have any text, and :func:`require_text` refuses,
  with a sentence naming the tracks that exist, a track that would write an empty file.

:func:`format_timestamp` is the one place times are turned into text; other parts of the product
import it for display.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable, Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import pysubs2

from archive.core.errors import InputError

from .segments import Segment

__all__ = [
    "EXPORT_FORMATS",
    "EXPORT_TRACKS",
    "MACHINE_MARK",
    "TIMESTAMP_STYLES",
    "TRACKS",
    "export",
    "export_json",
    "export_srt",
    "export_txt",
    "export_vtt",
    "format_timestamp",
    "require_text",
    "spoken_track",
    "tracks_with_text",
]

EXPORT_FORMATS: tuple[str, ...] = ("srt", "vtt", "txt", "json")
TRACKS: tuple[str, ...] = ("zh", "en")
EXPORT_TRACKS: tuple[str, ...] = ("zh", "en", "both")
TIMESTAMP_STYLES: tuple[str, ...] = ("srt", "vtt", "hms", "clock")
MACHINE_MARK = "[MT]"
_MACHINE_NOTE = f"{MACHINE_MARK} = machine translation / 機器翻譯 (not the speaker's own words)"
_TRACK_NAMES = {"zh": "zh (Chinese)", "en": "en (English)"}


def format_timestamp(seconds: float, style: str = "srt") -> str:
    """A time as text. ``style``:

    * ``srt`` ``00:01:02,345`` and ``vtt`` ``00:01:02.345`` (hours widen past 99, never wrap);
    * ``hms`` ``00:01:02`` (plain-text transcripts);
    * ``clock`` ``1:02:03``, or ``02:03`` under an hour (player display).

    Rounded to the millisecond first (half up, on the decimal value: 1.0005 → 1.001), then the
    second-only styles drop the milliseconds, so 59.9996 is ``01:00`` everywhere and 62.9 is
    ``01:02`` on a clock. Negative, NaN and infinite times show as zero: display code must not crash.
    """
    if style not in TIMESTAMP_STYLES:
        raise ValueError(
            f"unknown timestamp style {style!r}; use one of {', '.join(TIMESTAMP_STYLES)}"
        )
    ms = _to_ms(seconds)
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    if style == "srt":
        return f"{hours:02d}:{minutes:02d}:{secs:02d},{millis:03d}"
    if style == "vtt":
        return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"
    if style == "hms":
        return f"{hours:02d}:{minutes:02d}:{secs:02d}"
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes:02d}:{secs:02d}"


def _to_ms(seconds: float) -> int:
    try:
        value = float(seconds)
    except (TypeError, ValueError, OverflowError):
        return 0
    if not math.isfinite(value) or value <= 0:
        return 0
    try:
        # repr() is the shortest decimal that reads back as this float, so 1.0005 rounds as 1.0005
        # and not as 1.000499999... would.
        return int(Decimal(repr(value)).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP) * 1000)
    except InvalidOperation:  # beyond Decimal's default precision: milliseconds do not matter
        return int(value * 1000)


# -- which track ---------------------------------------------------------------------------------
def _check_track(track: str) -> None:
    if track not in EXPORT_TRACKS:
        raise InputError(
            f"Unknown track {track!r}: use zh (Chinese), en (English) or both (the two together)."
        )


def _lines(text: str) -> list[str]:
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return [line for line in lines if line]


def tracks_with_text(segments: Iterable[Segment]) -> tuple[str, ...]:
    """The single-language tracks (``zh``, ``en``) that have any unredacted text, in that order."""
    found = {
        track
        for segment in segments
        if not segment.redacted
        for track in TRACKS
        if _lines(segment.text(track))
    }
    return tuple(track for track in TRACKS if track in found)


def spoken_track(segments: Sequence[Segment], language: str | None = None) -> str:
    """The track a transcript is spoken in: what an export writes when no track is named.

    ``language`` is the item's language as staff set it or the model detected it (``yue``, ``zh``,
    ``en``; ``auto`` or ``None`` when unknown). Unknown, it is the language most of the segments
    were spoken in, by time. A transcript with text in one track only is that track.
    """
    present = tracks_with_text(segments)
    if len(present) == 1:
        return present[0]
    if language in ("yue", "zh"):
        return "zh"
    if language == "en":
        return "en"
    spoken = {"zh": 0.0, "en": 0.0}
    for segment in segments:
        if segment.lang in spoken:
            spoken[segment.lang] += max(0.0, segment.end - segment.start) or 0.001
    return "en" if spoken["en"] > spoken["zh"] else "zh"


def require_text(segments: Iterable[Segment], track: str, *, what: str = "This transcript") -> None:
    """Refuse ``track`` when it would write an empty file, naming the tracks that have text."""
    _check_track(track)
    present = tracks_with_text(segments)
    if track == "both" and present or track in present:
        return
    if not present:
        raise InputError(f"{what} has no text to export (nothing written).")
    names = ", ".join(_TRACK_NAMES[p] for p in present)
    raise InputError(
        f"{what} has no text in track {track}: nothing written. "
        f"Tracks with text: {names}. Choose one with --track."
    )


# -- what each cue says --------------------------------------------------------------------------
def _english(segment: Segment) -> list[str]:
    lines = _lines(segment.text_en)
    if lines and segment.en_machine:
        lines[0] = f"{MACHINE_MARK} {lines[0]}"
    return lines


def _cue_lines(segment: Segment, track: str) -> list[str]:
    if track == "zh":
        return _lines(segment.text_zh)
    if track == "en":
        return _english(segment)
    return _lines(segment.text_zh) + _english(segment)


def _exportable(segments: Iterable[Segment], track: str) -> list[tuple[Segment, list[str]]]:
    """The segments to write, in time order, each with its cue's non-blank lines.

    Redacted segments are dropped here, whatever the caller passed: redaction hides text, and an
    exported file leaves the archive's access control behind.
    """
    _check_track(track)
    chosen: list[tuple[Segment, list[str]]] = []
    for segment in segments:
        if segment.redacted:
            continue
        lines = _cue_lines(segment, track)
        if lines:
            chosen.append((segment, lines))
    chosen.sort(key=lambda pair: _to_ms(pair[0].start))
    return chosen


def _has_machine(items: Sequence[tuple[Segment, list[str]]], track: str) -> bool:
    return track != "zh" and any(segment.en_machine and segment.text_en for segment, _ in items)


def _speaker(segment: Segment) -> str:
    """The segment's speaker as one line of text ("" when none): no line breaks, spaces folded."""
    return " ".join(segment.speaker.split())


def _voice_tag(name: str) -> str:
    """A WebVTT voice span's start tag. The annotation ends at the first ``>`` and reads ``&``
    as a character reference, so both are entities here (``<`` too, for readers that stop there)."""
    return f"<v {html.escape(name, quote=False)}>"


def _to_ssafile(items: Sequence[tuple[Segment, list[str]]], *, vtt: bool) -> pysubs2.SSAFile:
    subs = pysubs2.SSAFile()
    for segment, lines in items:
        start = _to_ms(segment.start)
        end = max(start, _to_ms(segment.end))
        name = _speaker(segment)
        if vtt:  # WebVTT text is HTML-like: a literal < or & must be an entity
            lines = [html.escape(line, quote=False) for line in lines]
            if name:  # one span for the whole cue: it runs to the cue's end, across its lines
                lines = [_voice_tag(name) + lines[0], *lines[1:]]
        elif name:
            lines = [f"{name}: {lines[0]}", *lines[1:]]
        subs.append(pysubs2.SSAEvent(start=start, end=end, text=r"\N".join(lines)))
    return subs


# -- the formats ---------------------------------------------------------------------------------
def export_srt(segments: Iterable[Segment], track: str) -> str:
    """An SRT file of one track (``zh``, ``en``) or of both (``both``: Chinese line, English line)."""
    subs = _to_ssafile(_exportable(segments, track), vtt=False)
    # keep_ssa_tags: write text as it is; otherwise pysubs2 would read "{...}" in it as styling.
    return subs.to_string("srt", keep_ssa_tags=True)


def export_vtt(segments: Iterable[Segment], track: str) -> str:
    """A WebVTT file of one track or both; a ``NOTE`` at the top explains a machine-translation mark."""
    items = _exportable(segments, track)
    text = _to_ssafile(items, vtt=True).to_string("vtt", keep_ssa_tags=True)
    if _has_machine(items, track):
        header, _, cues = text.partition("\n\n")
        text = f"{header}\n\nNOTE {_MACHINE_NOTE}\n\n{cues}"
    return text


def export_txt(segments: Iterable[Segment], track: str) -> str:
    """Plain text, one line per segment: ``[00:01:02] text``, or ``[00:01:02] Name: text``.

    ``both`` writes two tab-separated columns under a header, ``time``, ``中文``, ``English``
    (it opens as a two-column table in a spreadsheet, and reads line by line in an editor); each
    non-empty column starts with the speaker's ``Name: ``, so either read alone says who spoke.
    """
    items = _exportable(segments, track)
    out = [f"# {_MACHINE_NOTE}"] if _has_machine(items, track) else []
    if track == "both":
        out.append("time\t中文\tEnglish")
        for segment, _ in items:
            zh = _said(segment, " ".join(_lines(segment.text_zh)))
            en = _said(segment, " ".join(_english(segment)))
            out.append(f"[{format_timestamp(segment.start, 'hms')}]\t{zh}\t{en}")
    else:
        out.extend(
            f"[{format_timestamp(segment.start, 'hms')}] {_said(segment, ' '.join(lines))}"
            for segment, lines in items
        )
    return "".join(line + "\n" for line in out)


def _said(segment: Segment, text: str) -> str:
    name = _speaker(segment)
    return f"{name}: {text}" if name and text else text


def export_json(
    segments: Iterable[Segment], track: str, meta: dict[str, object] | None = None
) -> str:
    """JSON ``{"track", "meta", "segments": [...]}``.

    Each segment: ``start, end, text, lang, speaker, uid, machine_translation`` for one track;
    ``text_zh, text_en`` instead of ``text`` for ``both``. The text is the transcript's own (no
    ``[MT]`` mark: ``machine_translation`` says it). ``meta`` (title, date, source ...) is copied as
    given; values JSON cannot hold are written as text.
    """
    items: list[dict[str, object]] = []
    for segment, _ in _exportable(segments, track):
        entry: dict[str, object] = {
            "start": _to_ms(segment.start) / 1000,
            "end": max(_to_ms(segment.start), _to_ms(segment.end)) / 1000,
        }
        if track == "both":
            entry["text_zh"] = "\n".join(_lines(segment.text_zh))
            entry["text_en"] = "\n".join(_lines(segment.text_en))
        else:
            entry["text"] = "\n".join(_lines(segment.text(track)))
        entry |= {
            "lang": segment.lang,
            "speaker": segment.speaker,
            "uid": segment.uid,
            "machine_translation": track != "zh" and bool(segment.text_en) and segment.en_machine,
        }
        items.append(entry)
    document = {"track": track, "meta": dict(meta or {}), "segments": items}
    return json.dumps(document, ensure_ascii=False, indent=2, default=str) + "\n"


_EXPORTERS: dict[str, Callable[[Iterable[Segment], str], str]] = {
    "srt": export_srt,
    "vtt": export_vtt,
    "txt": export_txt,
}


def export(
    segments: Iterable[Segment], fmt: str, track: str, *, meta: dict[str, object] | None = None
) -> str:
    """``segments`` as ``srt``, ``vtt``, ``txt`` or ``json`` text, of track ``zh``, ``en`` or ``both``."""
    _check_track(track)
    if fmt == "json":
        return export_json(segments, track, meta)
    exporter = _EXPORTERS.get(fmt)
    if exporter is None:
        raise InputError(f"Unknown export format {fmt!r}: use srt, vtt, txt or json.")
    return exporter(segments, track)
