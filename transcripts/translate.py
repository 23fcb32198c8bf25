"""The English track for Chinese speech: Whisper's ``translate`` task, one segment at a time.

Each Chinese segment's own stretch of audio is translated on its own, so the English text maps
one-to-one onto the Chinese segment and shares its timestamps exactly; no alignment step is
needed and a subtitle file can show both lines together. It costs one encoder pass per segment
(the encoder always sees a 30-second window), so translating is slower than transcribing on CPU;
on a GPU with a large model it is the same code and the cost disappears.

Whisper base's translate task falls into repetition loops on Chinese ("I am in the military
center of the military center of the ..."). Guards, from cheapest to last resort:

* no conditioning on previous text, and a single call per segment, so one loop cannot spread;
* a token budget proportional to the segment's duration (nobody says 8 words a second);
* temperature fallback only on the compression-ratio check (not on low log-probability, which
  base's Chinese-to-English translations almost always have and which only made them slower);
* :func:`is_looped` on the result: looped output becomes an empty ``text_en`` rather than
  garbage. The Chinese text is kept either way.

Translations are marked ``en_machine=True``.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from archive.core.errors import TranscriptionError

from .segments import Segment

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

__all__ = [
    "SAMPLE_RATE",
    "TranslateOptions",
    "collapse_repeats",
    "compression_ratio",
    "is_looped",
    "translate_segments",
]

SAMPLE_RATE = 16_000


@dataclass(frozen=True)
class TranslateOptions:
    beam_size: int = 5
    temperatures: tuple[float, ...] = (0.0, 0.4)
    compression_ratio_threshold: float = 2.4
    # Blocks verbatim repeats of 6-token runs inside one segment's translation: loops repeat
    # whole clauses, real speech almost never repeats six tokens within a few seconds.
    no_repeat_ngram_size: int = 6
    repetition_penalty: float = 1.0
    # Audio kept either side of a segment: Whisper's word times often end early. On the fixtures
    # 0.3 s gave better English than 0.15 s on 3 of the 4 Chinese clips (same on the 4th); 0.5 s
    # was no better and lets more of a neighbouring segment in.
    pad_seconds: float = 0.3
    tokens_per_second: float = 7.0  # budget: ~5 words/s at ~1.3 tokens per word ...
    min_tokens: int = 24  # ... but never fewer than this (a one-second "yes, thank you all")


def compression_ratio(text: str) -> float:
    """Whisper's loop measure: bytes / zlib-compressed bytes (normal text is below ~2)."""
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


# A unit (1-40 characters) repeated at least four times in a row, spaces and commas between.
_REPEAT_RUN = re.compile(r"(.{1,40}?)(?:[\s,，、.。]*\1){3,}", re.DOTALL)
_WORDS = re.compile(r"\w+", re.UNICODE)


def is_looped(text: str, *, max_ratio: float = 2.4) -> bool:
    """Whether decoder output is a repetition loop rather than speech.

    True when it compresses like a loop, when one unit repeats four or more times in a row and
    covers half the text, or when a long text has very few distinct words.
    """
    text = text.strip()
    if not text:
        return False
    if len(text) >= 40 and compression_ratio(text) > max_ratio:
        return True
    lowered = text.lower()
    repeated = sum(m.end() - m.start() for m in _REPEAT_RUN.finditer(lowered))
    if repeated >= 0.5 * len(lowered) and repeated >= 8:
        return True
    words = _WORDS.findall(lowered)
    return len(words) >= 16 and len(set(words)) / len(words) < 0.3


def collapse_repeats(text: str, *, keep: int = 3) -> str:
    """Cut runs of a unit repeated more than ``keep`` times down to ``keep`` repeats.

    For transcripts: the speech is kept (a chant of 罷工 stays a chant of three), the loop is not.
    """

    def shorten(match: re.Match[str]) -> str:
        unit = match.group(1)
        if not unit.strip():
            return match.group(0)
        return unit * keep

    return re.sub(rf"(.{{1,40}}?)\1{{{keep},}}", shorten, text, flags=re.DOTALL)


def _span(
    seg: Segment, prev_end: float | None, next_start: float | None, pad: float
) -> tuple[float, float]:
    """A segment's audio span, padded but never past half-way to its neighbours."""
    lo, hi = seg.start - pad, seg.end + pad
    if prev_end is not None:
        lo = max(lo, (prev_end + seg.start) / 2)
    if next_start is not None:
        hi = min(hi, (seg.end + next_start) / 2)
    return min(lo, seg.start), max(hi, seg.end)


def _translate_clip(
    model: WhisperModel, clip: np.ndarray, language: str, options: TranslateOptions
) -> str:
    duration = clip.shape[0] / SAMPLE_RATE
    budget = max(options.min_tokens, int(options.tokens_per_second * duration))
    pieces, _info = model.transcribe(
        clip,
        language=language,
        task="translate",
        beam_size=options.beam_size,
        temperature=list(options.temperatures),
        compression_ratio_threshold=options.compression_ratio_threshold,
        log_prob_threshold=None,
        no_speech_threshold=None,  # the segment was transcribed as speech: always translate it
        condition_on_previous_text=False,
        without_timestamps=True,  # the Chinese segment's timestamps are the English ones
        no_repeat_ngram_size=options.no_repeat_ngram_size,
        repetition_penalty=options.repetition_penalty,
        max_new_tokens=min(budget, 440),  # the decoder's context is 448 tokens, prompt included
        vad_filter=False,  # already speech, and VAD on a few seconds only costs time
    )
    return " ".join(piece.text.strip() for piece in pieces).strip()


def translate_segments(
    model: WhisperModel,
    audio: np.ndarray,
    segments: Iterable[Segment],
    *,
    language: str = "zh",
    offset: float = 0.0,
    options: TranslateOptions | None = None,
    on_segment: Callable[[Segment], None] | None = None,
) -> Iterator[Segment]:
    """English for the Chinese segments of one stretch of audio, one segment at a time.

    ``audio`` is 16 kHz mono float32 starting at ``offset`` seconds into the recording; segment
    times are in recording time. Segments that are not Chinese (``lang != "zh"``) or redacted
    pass through unchanged. Yields every segment, in order, with ``text_en`` filled in and
    ``en_machine=True`` where a translation was kept; ``on_segment`` is called after each one.
    """
    options = options or TranslateOptions()
    # One segment of look-ahead (for the padding) keeps this a stream: a caller transcribing
    # lazily gets each segment translated as soon as the next one is decoded.
    upcoming = iter(segments)
    seg = next(upcoming, None)
    prev_end: float | None = None
    while seg is not None:
        following = next(upcoming, None)
        lo, hi = _span(seg, prev_end, following.start if following else None, options.pad_seconds)
        prev_end = seg.end
        if seg.lang == "zh" and not seg.redacted and seg.text_zh.strip():
            a = max(0, int(round((lo - offset) * SAMPLE_RATE)))
            b = min(audio.shape[0], int(round((hi - offset) * SAMPLE_RATE)))
            text = ""
            if b - a >= SAMPLE_RATE // 10:
                try:
                    text = _translate_clip(model, audio[a:b], language, options)
                except (RuntimeError, ValueError) as exc:
                    raise TranscriptionError(
                        f"the speech model failed while translating the segment at "
                        f"{seg.start:.1f} s: {exc}"
                    ) from exc
            if is_looped(text, max_ratio=options.compression_ratio_threshold):
                text = ""  # better no English line than a looping one
            seg = seg.with_(text_en=text, en_machine=bool(text))
        if on_segment is not None:
            on_segment(seg)
        yield seg
        seg = following
