"""Speech fixtures with their reference texts, and error-rate helpers, for the transcript tests.

The recordings are in ``../shared/fixtures``; sources, licences and the kind of each reference
text are in ``fixtures/SOURCES.md``. References of kind "model" (other models' output) are only
good for loose comparison, hence character error rates with loose thresholds.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from transcripts.chinese import fold, strip_punctuation

__all__ = ["FIXTURES", "REFERENCES", "cer", "edit_distance", "make_silence", "wer"]

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"

# file -> reference text (from fixtures/SOURCES.md)
REFERENCES = {
    "en/jfk.flac": "And so my fellow Americans ask not what your country can do for you, "
    "ask what you can do for your country.",
    "zh/sensevoice_test_zh.wav": "开放时间早上9点至下午5点。",
    "zh/sensevoice_sample.wav": "我想问我在滨海新区有房",
    "zh/cosyvoice_zero_shot_prompt.wav": "希望你以后能够做的比我还好呦。",
    "yue/sensevoice_test_yue.wav": "呢几个字都表达唔到，我想讲嘅意思。",
}


def edit_distance(a: list[str] | str, b: list[str] | str) -> int:
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate after lower-casing and dropping punctuation."""
    words = lambda text: re.findall(r"[a-z0-9']+", text.lower())  # noqa: E731
    ref = words(reference)
    return edit_distance(ref, words(hypothesis)) / len(ref)


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate after folding scripts (Simplified = Traditional) and punctuation."""
    ref = fold(strip_punctuation(reference))
    return edit_distance(ref, fold(strip_punctuation(hypothesis))) / len(ref)


def make_silence(path: Path, seconds: float) -> Path:
    """A silent recording made by ffmpeg's null source (what a muted webinar export sounds like)."""
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "anullsrc=r=44100:cl=stereo",
            "-t",
            str(seconds),
            str(path),
        ],
        check=True,
        timeout=120,
    )
    return path
