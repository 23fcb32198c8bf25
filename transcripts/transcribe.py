"""Speech to bilingual segments with faster-whisper: Chinese in Hong Kong Traditional, English.

One pass over the recording, window by window::

    audio file ──decode (PyAV, streamed)──▶ windows of ≤ 30 min, cut at a quiet moment
      window ──Silero VAD──▶ speech only ──Whisper transcribe──▶ segments + word times
      Chinese segment ──OpenCC s2hk──▶ text_zh (raw kept in text_raw)
                      ──its own audio, Whisper translate──▶ text_en (en_machine=True)
      English segment ──▶ text_en (lang="en")

Decisions, and why:

* **Memory.** faster-whisper decodes a whole file to 16 kHz float32 (230 MB an hour) and computes
  features for all of it. We stream the decoding and hand the model windows of at most
  ``window_seconds`` (30 min: ~115 MB of samples, ~60 MB of features), cut at the quietest 100 ms
  of the window's last 30 s so that no word is split, and offset timestamps by the window's
  start. A ten-hour recording needs the same memory as a thirty-minute one.
* **VAD before the model.** Silero VAD runs first; a window without speech never reaches Whisper,
  so silence costs only decoding and VAD (about 15 s for an hour here) and cannot turn into
  "Thank you for watching". Segments that survive are still checked: a high no-speech
  probability with a weak decode, or a known silence hallucination, is dropped.
* **Temperature.** Greedy/beam decoding at temperature 0 first; sampling at 0.4 and 0.8 only when
  the compression-ratio or log-probability check fails. Whisper's default ladder has six steps
  and a talk with a repeated slogan would walk all of them, each a full decode of the window.
  ``condition_on_previous_text`` is off by default: with the base model one bad window otherwise
  primes the next into the same loop.
* **Languages.** The archive holds Cantonese, Mandarin and English. Whisper base has no Cantonese
  token, so ``yue`` is decoded as ``zh`` (a model that has ``<|yue|>``, such as large-v3, decodes
  it as ``yue``); the spoken language (what the user said, or detection found) is recorded apart
  from the decoding language. ``auto`` detects on up to 90 s of speech, choosing only between
  Chinese and English: a small model's detector can rank another language first on accented or
  noisy speech, and decoding a Cantonese talk as, say, Japanese would be useless. A segment whose
  script disagrees with the decoding language (an English sentence in a Cantonese talk) gets the
  language of its script.
* **The English track** is in :mod:`transcripts.translate`: each Chinese segment's audio is
  translated on its own, so English and Chinese share timestamps one-to-one.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from archive.core.config import Settings
from archive.core.errors import InputError, TranscriptionError
from archive.core.media_formats import file_url, pyav_container_options

from .chinese import fold, has_han, hk_punctuation, is_chinese_text, strip_punctuation, to_hk
from .model import load_model, model_name
from .segments import Segment, Word
from .translate import SAMPLE_RATE, TranslateOptions, collapse_repeats, translate_segments

if TYPE_CHECKING:
    from faster_whisper import WhisperModel
    from faster_whisper.transcribe import Segment as RawSegment
    from faster_whisper.transcribe import Word as RawWord

__all__ = [
    "DEFAULT_WINDOW_SECONDS",
    "LANGUAGES",
    "AudioWindow",
    "ProgressCallback",
    "TranscribeOptions",
    "Transcription",
    "TranscriptionInfo",
    "iter_audio_windows",
    "probe_duration",
    "transcribe",
    "transcribe_stream",
    "translate_file",
]

ProgressCallback = Callable[[str, float], None]  # (phase "transcribe" | "translate", 0.0-1.0)

DEFAULT_WINDOW_SECONDS = 1800.0
LANGUAGES = ("auto", "zh", "yue", "en")


@dataclass(frozen=True)
class TranscribeOptions:
    language: str = "auto"  # auto | zh (Mandarin, any written Chinese) | yue (Cantonese) | en
    translate: bool = True  # machine English for Chinese segments
    beam_size: int = 5
    vad: bool = True
    word_timestamps: bool = True
    temperatures: tuple[float, ...] = (0.0, 0.4, 0.8)
    condition_on_previous_text: bool = False
    window_seconds: float = DEFAULT_WINDOW_SECONDS
    min_silence_ms: int = 2000  # VAD: a pause this long ends a speech chunk (faster-whisper's)
    translate_options: TranslateOptions = field(default_factory=TranslateOptions)

    def __post_init__(self) -> None:
        if self.language not in LANGUAGES:
            raise InputError(
                f"unknown language {self.language!r}: use one of {', '.join(LANGUAGES)}"
            )
        if self.beam_size < 1:
            raise InputError("the beam size must be at least 1")
        if not self.temperatures or self.temperatures[0] != 0.0:
            raise InputError("the temperature ladder must start at 0")
        if self.window_seconds < 60:
            raise InputError("windows shorter than a minute would cut speech too often")


@dataclass(frozen=True)
class TranscriptionInfo:
    """What is known before the first segment: languages, duration estimate, model."""

    spoken_language: str  # zh, yue or en; "" when no speech was found and none was given
    decode_language: str  # the language token Whisper decoded with: zh, yue or en
    language_probability: float  # 1.0 when the user chose the language
    duration: float  # seconds, from the container (the final figure is in Transcription)
    model: str
    translate: bool


@dataclass(frozen=True)
class Transcription:
    segments: tuple[Segment, ...]
    spoken_language: str
    decode_language: str
    language_probability: float
    duration: float  # seconds of audio actually decoded
    model: str
    translated: bool  # the Chinese segments went through machine translation

    @property
    def text_zh(self) -> str:
        return "".join(s.text_zh for s in self.segments)

    @property
    def text_en(self) -> str:
        return " ".join(s.text_en for s in self.segments if s.text_en)

    def to_dict(self) -> dict[str, object]:
        return {
            "spoken_language": self.spoken_language,
            "decode_language": self.decode_language,
            "language_probability": round(self.language_probability, 4),
            "duration": round(self.duration, 3),
            "model": self.model,
            "translated": self.translated,
            "segments": [s.to_dict() for s in self.segments],
        }


# ---------------------------------------------------------------------------------------- audio


@dataclass(frozen=True, eq=False)
class AudioWindow:
    offset: float  # seconds from the start of the recording
    audio: np.ndarray  # 16 kHz mono float32

    @property
    def duration(self) -> float:
        return self.audio.shape[0] / SAMPLE_RATE


def _open_error(path: Path, exc: BaseException) -> TranscriptionError:
    reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return TranscriptionError(f"cannot read the audio of {path.name}: {reason}")


def _open_input(path: Path):  # type: ignore[no-untyped-def]
    """PyAV's container for ``path``: this one file, in an allowed single-file container only
    (no playlist, concat list or image sequence that would open other paths or URLs)."""
    import av

    return av.open(
        file_url(path),
        mode="r",
        metadata_errors="ignore",
        container_options=pyav_container_options(),
    )


def probe_duration(path: str | Path) -> float:
    """The duration the container declares, in seconds (0.0 when it does not say)."""
    import av

    path = Path(path)
    try:
        with _open_input(path) as container:
            if container.duration:
                return container.duration / av.time_base
            for stream in container.streams.audio:
                if stream.duration and stream.time_base:
                    return float(stream.duration * stream.time_base)
    except av.error.FFmpegError as exc:
        raise _open_error(path, exc) from exc
    return 0.0


def _iter_pcm(path: Path) -> Iterator[np.ndarray]:
    """The first audio stream as 16 kHz mono int16 pieces of ~30 s, resampled by FFmpeg."""
    import av

    resampler = av.audio.resampler.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    try:
        with _open_input(path) as container:
            if not container.streams.audio:
                raise TranscriptionError(f"{path.name} has no sound track")
            fifo = av.audio.fifo.AudioFifo()
            frames = container.decode(audio=0)
            while True:
                try:
                    frame = next(frames)
                except StopIteration:
                    break
                except av.error.InvalidDataError:
                    continue  # a damaged packet: skip it, as players do
                frame.pts = None  # the FIFO checks continuity, which broken files lack
                fifo.write(frame)
                if fifo.samples >= 500_000:  # resampling big blocks is far faster
                    for out in resampler.resample(fifo.read()):
                        yield out.to_ndarray().reshape(-1)
            if fifo.samples:
                for out in resampler.resample(fifo.read()):
                    yield out.to_ndarray().reshape(-1)
            for out in resampler.resample(None):  # flush
                yield out.to_ndarray().reshape(-1)
    except av.error.FFmpegError as exc:
        raise _open_error(path, exc) from exc
    finally:
        del resampler
        gc.collect()  # PyAV's resampler holds buffers until collected (faster-whisper #390)


def _quiet_cut(audio: np.ndarray, lo: int, hi: int) -> int:
    """The middle of the quietest 100 ms between samples lo and hi."""
    frame = SAMPLE_RATE // 10
    region = audio[lo:hi]
    n = region.shape[0] // frame
    if n == 0:
        return hi
    energy = np.square(region[: n * frame].reshape(n, frame)).mean(axis=1)
    return lo + int(np.argmin(energy)) * frame + frame // 2


def iter_audio_windows(
    path: str | Path, window_seconds: float = DEFAULT_WINDOW_SECONDS
) -> Iterator[AudioWindow]:
    """Decode a recording into consecutive windows of at most ``window_seconds``.

    Samples are written straight into one float32 buffer per window, so memory stays at about
    one window (plus the one the caller still holds) whatever the recording's length. Each cut
    is placed at the quietest moment of the window's last 30 s.
    """
    path = Path(path)
    if not path.is_file():
        raise TranscriptionError(f"cannot read the audio of {path}: no such file")
    window = int(window_seconds * SAMPLE_RATE)
    search = min(30 * SAMPLE_RATE, window // 4)
    buf = np.empty(window, dtype=np.float32)  # pages are only touched as they are filled
    fill = 0
    offset = 0
    for piece in _iter_pcm(path):
        pos = 0
        while pos < piece.shape[0]:
            n = min(window - fill, piece.shape[0] - pos)
            np.multiply(
                piece[pos : pos + n], 1 / 32768.0, out=buf[fill : fill + n], casting="unsafe"
            )
            fill += n
            pos += n
            if fill == window:
                cut = _quiet_cut(buf, window - search, window)
                rest = buf[cut:fill].copy()
                yield AudioWindow(offset / SAMPLE_RATE, buf[:cut])  # the caller owns this buffer
                offset += cut
                buf = np.empty(window, dtype=np.float32)
                buf[: rest.shape[0]] = rest
                fill = rest.shape[0]
                del rest
    if fill:
        yield AudioWindow(offset / SAMPLE_RATE, buf[:fill])


# ------------------------------------------------------------------------------ speech & language


def _speech_chunks(audio: np.ndarray, options: TranscribeOptions) -> list[dict[str, int]]:
    if not options.vad:
        return [{"start": 0, "end": int(audio.shape[0])}] if audio.shape[0] else []
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    vad = VadOptions(min_silence_duration_ms=options.min_silence_ms, speech_pad_ms=400)
    return get_speech_timestamps(audio, vad)


def _has_token(model: WhisperModel, language: str) -> bool:
    tokenizer = getattr(model, "hf_tokenizer", None)
    return tokenizer is not None and tokenizer.token_to_id(f"<|{language}|>") is not None


def _decode_language(model: WhisperModel, spoken: str) -> str:
    """The language token to decode with: Cantonese falls back to zh on models without yue."""
    if not model.model.is_multilingual:
        return "en"
    if spoken == "yue" and not _has_token(model, "yue"):
        return "zh"
    return spoken


def _detect_language(model: WhisperModel, speech: np.ndarray) -> tuple[str, float]:
    """Chinese or English, from up to three 30-second windows of speech.

    Whisper's detector ranks 99 languages; we keep only those the archive holds (zh, yue when the
    model knows it, en) and add up their probabilities over the windows. Returns the spoken
    language and its mean probability over the windows used.
    """
    from faster_whisper.audio import pad_or_trim

    if not model.model.is_multilingual:
        return "en", 1.0
    allowed = ["zh", "en"] + (["yue"] if _has_token(model, "yue") else [])
    extractor = model.feature_extractor
    features = extractor(speech[: 3 * extractor.n_samples])
    totals = dict.fromkeys(allowed, 0.0)
    used = 0
    for i in range(0, max(features.shape[-1], 1), extractor.nb_max_frames):
        encoded = model.encode(pad_or_trim(features[..., i : i + extractor.nb_max_frames]))
        ranked = dict(model.model.detect_language(encoded)[0])
        for lang in allowed:
            totals[lang] += ranked.get(f"<|{lang}|>", 0.0)
        used += 1
        best = max(allowed, key=lambda lang: ranked.get(f"<|{lang}|>", 0.0))
        if ranked.get(f"<|{best}|>", 0.0) > 0.7:  # confident: one window is enough
            break
    best = max(allowed, key=totals.__getitem__)
    return best, totals[best] / used


# ------------------------------------------------------------------------- segments & filtering

# Phrases Whisper writes over silence or music: credits of the subtitled videos it was trained
# on. These are never speech in a talk, whatever the decoder's confidence.
_CREDITS = tuple(
    fold(strip_punctuation(p))
    for p in (
        "字幕由Amara.org社区提供",
        "Subtitles by the Amara.org community",
        "请不吝点赞 订阅 转发 打赏支持明镜与点点栏目",
        "明镜与点点栏目",
        "优优独播剧场",
        "YoYo Television Series Exclusive",
        "中文字幕志愿者",
        "字幕志愿者",
        "字幕提供",
        "本字幕由",
    )
)
# Phrases a speaker may really say, but which are typical hallucinations on silence: dropped
# only when the decoder itself doubts there was speech.
_SUSPECT = frozenset(
    fold(strip_punctuation(p))
    for p in (
        "Thank you for watching",
        "Thanks for watching",
        "Thank you",
        "Thank you very much",
        "Please subscribe",
        "you",
        "Bye",
        "谢谢观看",
        "感谢观看",
        "谢谢大家",
        "谢谢",
        "多谢",
        "请订阅",
        "下次见",
    )
)


def _is_hallucination(text: str, no_speech_prob: float, avg_logprob: float) -> bool:
    key = fold(strip_punctuation(text))
    if not key:
        return True
    if any(credit in key for credit in _CREDITS):
        return True
    doubtful = no_speech_prob > 0.5 or avg_logprob < -1.0
    if key in _SUSPECT and doubtful:
        return True
    # Whisper's own rule skips a window only when both are bad; inside VAD speech we apply it
    # per segment with a slightly stricter log-probability.
    return no_speech_prob > 0.6 and avg_logprob < -0.8


def _words(raw_words: list[RawWord], converted: bool, lo: float, hi: float) -> tuple[Word, ...]:
    """Word timings clamped into the segment; Chinese words read exactly like text_zh.

    s2hk converts character for character in nearly all cases, so when the lengths agree the
    converted whole is sliced at the word boundaries (keeping phrase-aware conversion).
    """
    if not raw_words:
        return ()
    texts = [w.word for w in raw_words]
    if converted:
        joined = "".join(texts)
        hk = _zh_display(joined)
        if len(hk) == len(joined):
            pos, sliced = 0, []
            for t in texts:
                sliced.append(hk[pos : pos + len(t)])
                pos += len(t)
            texts = sliced
        else:
            texts = [_zh_display(t) for t in texts]
    words = []
    for w, text in zip(raw_words, texts, strict=True):
        start = min(max(float(w.start), lo), hi)
        end = min(max(float(w.end), start), hi)
        words.append(
            Word(
                start=round(start, 3),
                end=round(end, 3),
                text=text,
                probability=round(w.probability, 4),
            )
        )
    return tuple(words)


def _zh_display(text: str) -> str:
    """Decoder Chinese as shown: Hong Kong characters and full-width punctuation."""
    return hk_punctuation(to_hk(text))


def _segment_lang(text: str, decode_language: str) -> str:
    if decode_language in ("zh", "yue"):
        # Latin-only output in a Chinese talk: the speaker switched to English for a sentence.
        return "zh" if has_han(text) or not any(c.isalpha() for c in text) else "en"
    return "zh" if is_chinese_text(text) else "en"


def _to_segment(
    raw: RawSegment, offset: float, decode_language: str, lo: float, hi: float
) -> Segment | None:
    """One decoder segment in recording time, converted; None when it is a hallucination."""
    text = raw.text.strip()
    if _is_hallucination(text, raw.no_speech_prob, raw.avg_logprob):
        return None
    start = min(max(offset + raw.start, lo), hi)
    end = min(max(offset + raw.end, start), hi)
    lang = _segment_lang(text, decode_language)
    shown = collapse_repeats(text)
    # faster-whisper's words are mutable: shift copies into recording time. When a loop was cut
    # short, the decoded words no longer match the text and are left out.
    shifted = (
        [
            type(w)(
                start=w.start + offset, end=w.end + offset, word=w.word, probability=w.probability
            )
            for w in raw.words or ()
        ]
        if shown == text
        else []
    )
    words = _words(shifted, lang == "zh", start, end)
    common = {
        "start": round(start, 3),
        "end": round(end, 3),
        "lang": lang,
        "text_raw": text,
        "words": words,
    }
    if lang == "zh":
        return Segment(text_zh=_zh_display(shown), **common)  # type: ignore[arg-type]
    return Segment(text_en=shown, **common)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------ the run


class _Progress:
    """Monotonic fractions per phase; never reports past 1.0 or backwards."""

    def __init__(self, callback: ProgressCallback | None, duration: float) -> None:
        self.callback = callback
        self.duration = duration
        self.last: dict[str, float] = {}

    def at(self, phase: str, seconds: float) -> None:
        if self.duration > 0:
            self.report(phase, seconds / self.duration)

    def report(self, phase: str, fraction: float) -> None:
        if self.callback is None:
            return
        fraction = min(1.0, max(0.0, fraction))
        if fraction > self.last.get(phase, -1.0):
            self.last[phase] = fraction
            self.callback(phase, fraction)


def _model_error(path: Path, at: float, exc: BaseException) -> TranscriptionError:
    return TranscriptionError(f"the speech model failed on {path.name} near {at:.0f} s: {exc}")


def transcribe_stream(
    path: str | Path,
    options: TranscribeOptions | None = None,
    *,
    settings: Settings,
    on_progress: ProgressCallback | None = None,
) -> tuple[TranscriptionInfo, Iterator[Segment]]:
    """Start transcribing; return what is known so far and an iterator of finished segments.

    Like faster-whisper's ``transcribe``: the work happens as the iterator is consumed. Each
    segment comes out complete (converted, translated when asked), in time order. Decoding and
    language detection of the first window with speech happen before this returns.
    ``on_progress(phase, fraction)`` reports the share of the recording processed for the
    phases ``"transcribe"`` and ``"translate"``; an exception raised by it stops the run.
    """
    info, segments, _decoded = _stream(path, options or TranscribeOptions(), settings, on_progress)
    return info, segments


def _stream(
    path: str | Path,
    options: TranscribeOptions,
    settings: Settings,
    on_progress: ProgressCallback | None,
) -> tuple[TranscriptionInfo, Iterator[Segment], list[float]]:
    """transcribe_stream, plus a one-element list holding the seconds decoded so far."""
    decoded = [0.0]
    path = Path(path)
    model = load_model(settings)
    name = model_name(settings)
    duration = probe_duration(path) if path.is_file() else 0.0
    progress = _Progress(on_progress, duration)
    windows = iter_audio_windows(path, options.window_seconds)

    # Look ahead to the first window with speech: the language must be known before decoding.
    skipped_end = 0.0
    first: tuple[AudioWindow, list[dict[str, int]]] | None = None
    for window in windows:
        chunks = _speech_chunks(window.audio, options)
        if chunks:
            first = (window, chunks)
            break
        skipped_end = decoded[0] = window.offset + window.duration
        progress.at("transcribe", skipped_end)
        if options.translate:
            progress.at("translate", skipped_end)

    spoken = "" if options.language == "auto" else options.language
    probability = 0.0 if options.language == "auto" else 1.0
    if first is not None and options.language == "auto":
        window, chunks = first
        speech = np.concatenate([window.audio[c["start"] : c["end"]] for c in chunks])
        try:
            spoken, probability = _detect_language(model, speech)
        except (RuntimeError, ValueError) as exc:
            raise _model_error(path, window.offset, exc) from exc
        del speech
    decode = _decode_language(model, spoken) if spoken else ""
    info = TranscriptionInfo(
        spoken_language=spoken,
        decode_language=decode,
        language_probability=probability,
        duration=duration or skipped_end,
        model=name,
        translate=options.translate,
    )

    # The first window is handed over through a list so the generator can drop it when done:
    # a closure variable would keep 100 MB of samples alive until the end of the run.
    handover = [first] if first is not None else []
    del first

    def run() -> Iterator[Segment]:
        last_end = 0.0
        while True:
            if handover:
                window, chunks = handover.pop()
            else:
                window = next(windows, None)
                if window is None:
                    break
                chunks = _speech_chunks(window.audio, options)
            if chunks:
                segments = _transcribe_window(
                    model, window, chunks, decode, options, path, progress, last_end
                )
                if options.translate:  # only segments with lang "zh" are translated
                    segments = _guard(
                        translate_segments(
                            model,
                            window.audio,
                            segments,
                            language=decode if decode in ("zh", "yue") else "zh",
                            offset=window.offset,
                            options=options.translate_options,
                            on_segment=lambda s: progress.at("translate", s.end),
                        ),
                        path,
                    )
                for seg in segments:
                    last_end = seg.end
                    yield seg
                del segments
            window_end = decoded[0] = window.offset + window.duration
            progress.at("transcribe", window_end)
            if options.translate:
                progress.at("translate", window_end)
            del window, chunks  # before decoding the next window
        progress.report("transcribe", 1.0)
        if options.translate:
            progress.report("translate", 1.0)

    return info, run(), decoded


def _guard(segments: Iterator[Segment], path: Path) -> Iterator[Segment]:
    """Re-raise low-level model errors met while iterating as TranscriptionError."""
    try:
        yield from segments
    except (RuntimeError, ValueError) as exc:
        raise TranscriptionError(f"the speech model failed on {path.name}: {exc}") from exc


def _transcribe_window(
    model: WhisperModel,
    window: AudioWindow,
    chunks: list[dict[str, int]],
    decode: str,
    options: TranscribeOptions,
    path: Path,
    progress: _Progress,
    last_end: float,
) -> Iterator[Segment]:
    """Segments of one window, in recording time, lazily (one Whisper window at a time)."""
    from faster_whisper.transcribe import restore_speech_timestamps

    speech = np.concatenate([window.audio[c["start"] : c["end"]] for c in chunks])
    hi = window.offset + window.duration
    try:
        raw_segments, _info = model.transcribe(
            speech,
            language=decode,
            task="transcribe",
            beam_size=options.beam_size,
            temperature=list(options.temperatures),
            compression_ratio_threshold=2.4,
            log_prob_threshold=-1.0,
            no_speech_threshold=0.6,
            condition_on_previous_text=options.condition_on_previous_text,
            word_timestamps=options.word_timestamps,
            # with word times, skip silence before a suspected hallucination (needs words)
            hallucination_silence_threshold=2.0 if options.word_timestamps else None,
            vad_filter=False,  # done above, on the whole window
        )
        restored = restore_speech_timestamps(raw_segments, chunks, SAMPLE_RATE)
        for raw in restored:
            seg = _to_segment(raw, window.offset, decode, max(last_end, window.offset), hi)
            progress.at("transcribe", window.offset + float(raw.end))
            if seg is None:
                continue
            last_end = seg.end
            yield seg
    except (RuntimeError, ValueError) as exc:
        raise _model_error(path, window.offset, exc) from exc


def transcribe(
    path: str | Path,
    options: TranscribeOptions | None = None,
    *,
    settings: Settings,
    on_progress: ProgressCallback | None = None,
) -> Transcription:
    """Transcribe (and translate) a whole recording; see :func:`transcribe_stream`."""
    options = options or TranscribeOptions()
    info, segments, decoded = _stream(path, options, settings, on_progress)
    collected = tuple(segments)
    return Transcription(
        segments=collected,
        spoken_language=info.spoken_language,
        decode_language=info.decode_language,
        language_probability=info.language_probability,
        duration=decoded[0],  # the container's figure is an estimate; decoded samples are not
        model=info.model,
        translated=options.translate and any(s.lang == "zh" for s in collected),
    )


def translate_file(
    path: str | Path,
    segments: tuple[Segment, ...] | list[Segment],
    *,
    settings: Settings,
    language: str = "zh",
    options: TranslateOptions | None = None,
    window_seconds: float = DEFAULT_WINDOW_SECONDS,
    on_progress: ProgressCallback | None = None,
) -> tuple[Segment, ...]:
    """Fill the English track of existing Chinese segments from the recording, later on.

    For transcripts made with ``translate=False`` or edited by hand: the same one-to-one
    translation as :func:`transcribe`, window by window. ``language`` is the spoken language
    (zh or yue). Returns all segments, in the order given.
    """
    model = load_model(settings)
    decode = _decode_language(model, language)
    ordered = sorted(segments, key=lambda s: s.start)
    progress = _Progress(on_progress, probe_duration(path))
    done: list[Segment] = []
    index = 0
    for window in iter_audio_windows(path, window_seconds):
        end = window.offset + window.duration
        batch = []
        while index < len(ordered) and (
            ordered[index].start < end or math.isclose(ordered[index].start, end)
        ):
            batch.append(ordered[index])
            index += 1
        if batch:
            done.extend(
                _guard(
                    translate_segments(
                        model,
                        window.audio,
                        batch,
                        language=decode,
                        offset=window.offset,
                        options=options,
                        on_segment=lambda s: progress.at("translate", s.end),
                    ),
                    Path(path),
                )
            )
        progress.at("translate", end)
    done.extend(ordered[index:])  # past the end of the audio: nothing to translate
    progress.report("translate", 1.0)
    by_uid = {s.uid: s for s in done}
    return tuple(by_uid.get(s.uid, s) for s in segments)
