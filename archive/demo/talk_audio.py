"""The demo's headline talk gets real, playable speech: clips from the shared fixtures laid end to end.

The dock-strike talk of the demo (its text is ``demo_data/dock-strike-sample.srt``, written for the
demo) has no recording of its own. So that its page, its event and its series play something, the
demo lays public sample speech from ``../shared/fixtures`` into the talk's cue slots (each clip
starts where a cue starts): Cantonese first, then Mandarin, then English. The file is made at
build time, never kept in the repository, and the item says what it is (:data:`AUDIO_NOTE_EN`,
:data:`AUDIO_NOTE_ZH`, citing each clip's source and licence as ``fixtures/SOURCES.md`` gives them).

:func:`compose_talk_audio` returns None, with the reason, when a clip or ffmpeg is missing: the
demo then keeps the talk as text only, as it was before.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from archive.core.media_formats import ffmpeg_input_args

__all__ = [
    "AUDIO_NOTE_EN",
    "AUDIO_NOTE_ZH",
    "DOCK_STRIKE_CLIPS",
    "TALK_AUDIO_NAME",
    "DemoClip",
    "compose_talk_audio",
]


@dataclass(frozen=True)
class DemoClip:
    path: str  # relative to the fixtures folder
    start: float  # where it starts in the talk (a cue's start), seconds
    end: float  # the slot's end: the clip is padded with silence up to it
    source: str  # as fixtures/SOURCES.md gives it
    licence: str
    channel: int = 0  # the one channel taken (a stereo clip may hold one speaker a channel)


# One clip per cue of dock-strike-sample.srt (cues start at 0, 6, 13.5, 21, 28, 35.5 and 42 s; the
# last ends at 53 s, after the 11 s English clip). The stereo English clip gives two: one speaker a
# channel.
DOCK_STRIKE_CLIPS = (
    DemoClip(
        "yue/sensevoice_test_yue.wav",
        0.0,
        6.0,
        "peteonrails/voxtype (the sherpa-onnx SenseVoice test set)",
        "MIT",
    ),
    DemoClip("zh/sensevoice_test_zh.wav", 6.0, 13.5, "peteonrails/voxtype", "MIT"),
    DemoClip("zh/sensevoice_sample.wav", 13.5, 21.0, "FunAudioLLM/SenseVoice", "MIT"),
    DemoClip(
        "zh/cosyvoice_zero_shot_prompt.wav", 21.0, 28.0, "FunAudioLLM/CosyVoice", "Apache-2.0"
    ),
    DemoClip("en/stereo_diarization.wav", 28.0, 35.5, "SYSTRAN/faster-whisper tests", "MIT"),
    DemoClip("en/stereo_diarization.wav", 35.5, 42.0, "SYSTRAN/faster-whisper tests", "MIT", 1),
    DemoClip(
        "en/jfk.flac",
        42.0,
        53.0,
        "SYSTRAN/faster-whisper tests",
        "MIT; the speech is US public domain",
    ),
)
TALK_AUDIO_NAME = "dock-strike-demo-audio.flac"

AUDIO_NOTE_EN = (
    "Demo: the audio is public sample speech, not a recording of this talk: Cantonese and "
    "Mandarin clips from the SenseVoice test sets (peteonrails/voxtype, FunAudioLLM/SenseVoice; "
    "MIT), a Mandarin clip from FunAudioLLM/CosyVoice (Apache-2.0), and English clips from "
    "SYSTRAN/faster-whisper's tests (MIT; President Kennedy's speech is US public domain), as "
    "listed in the shared fixtures' SOURCES.md."
)
AUDIO_NOTE_ZH = (
    "示範：錄音是公開的語音樣本，並非這場講座的錄音——粵語及普通話片段取自 SenseVoice 測試集"
    "（peteonrails/voxtype、FunAudioLLM/SenseVoice；MIT），普通話片段取自 FunAudioLLM/CosyVoice"
    "（Apache-2.0），英語片段取自 SYSTRAN/faster-whisper 的測試（MIT；甘迺迪的演說屬美國公有領域），"
    "詳見共用測試素材的 SOURCES.md。"
)


def compose_talk_audio(
    fixtures: Path, target: Path, clips: tuple[DemoClip, ...] = DOCK_STRIKE_CLIPS
) -> tuple[Path | None, str]:
    """Write the talk's audio (FLAC, 16 kHz mono) to ``target``; (path, "") or (None, why not)."""
    missing = [c.path for c in clips if not (fixtures / c.path).is_file()]
    if missing:
        return None, f"missing from {fixtures}: {', '.join(missing)}"
    ffmpeg = shutil.which("ffmpeg")
    if not ffmpeg:
        return None, "ffmpeg is not installed (run `make setup`)"
    inputs: list[str] = []
    chains: list[str] = []
    for n, clip in enumerate(clips):
        inputs += ffmpeg_input_args(fixtures / clip.path)
        slot = clip.end - clip.start
        # One channel only: the stereo English clip has one speaker a channel, and a mixdown
        # would make them talk at once. Padded, then cut, to the slot: each clip starts on its cue.
        chains.append(
            f"[{n}:a]pan=mono|c0=c{clip.channel},aresample=16000,apad=whole_dur={slot},"
            f"atrim=duration={slot}[a{n}]"
        )
    joined = "".join(f"[a{n}]" for n in range(len(clips)))
    graph = ";".join(chains) + f";{joined}concat=n={len(clips)}:v=0:a=1[out]"
    result = subprocess.run(
        [
            ffmpeg,
            "-nostdin",
            "-hide_banner",
            "-v",
            "error",
            "-y",
            *inputs,
            "-filter_complex",
            graph,
            "-map",
            "[out]",
            "-map_metadata",
            "-1",
            "-fflags",
            "+bitexact",
            "-c:a",
            "flac",
            str(target),
        ],  # fmt: skip
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0 or not target.is_file():
        reason = (result.stderr.strip().splitlines() or ["no output"])[-1]
        return None, f"ffmpeg could not join the clips ({reason})"
    return target, ""
