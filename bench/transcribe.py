"""How much slower than bare faster-whisper is the archive's speech pipeline, and how much memory?

Builds a recording of at least five minutes from the Chinese speech fixtures (``../shared/fixtures``,
see fixtures/SOURCES.md) joined with short pauses, then measures, each in its own child process
so that peak memory is per run (``os.wait4`` gives each child's own maximum resident set):

* ``bare``: one ``WhisperModel.transcribe`` call with the same model folder, device, compute type,
  language and decoding settings as ours (beam 5, VAD, word timestamps, temperatures 0/0.4/0.8,
  no conditioning on previous text); segments consumed, nothing else.
* ``ours``: :func:`transcripts.transcribe.transcribe` without the English track (script
  conversion, windowing, filters included), then :func:`transcripts.transcribe.translate_file`
  on its segments, timed apart: ``rtf_transcribe`` and ``rtf_translate``.
* ``pipeline``: the whole CLI, ``archive --home TMP ingest FILE --language zh --no-translate --wait
  --json`` (media import, derivative, transcription, catalogue, index), wall clock.

Real-time factors are processing seconds per second of audio (below 1 is faster than real time);
process wall clock (interpreter start and model load included) for ``bare`` and ``pipeline``, so
the two are comparable. The English track is timed apart (``rtf_translate``), as the issue asks:
``ratio`` = rtf_pipeline / rtf_bare compares like with like.

Usage::

    .venv/bin/python bench/transcribe.py            # a table
    .venv/bin/python bench/transcribe.py --json     # one JSON object
    .venv/bin/python bench/transcribe.py --minutes 10 --skip-pipeline
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT.parent / "shared" / "fixtures"
CLIPS = [
    "zh/sensevoice_test_zh.wav",
    "zh/sensevoice_sample.wav",
    "zh/cosyvoice_zero_shot_prompt.wav",
    "yue/sensevoice_test_yue.wav",
]
PAUSE_SECONDS = 0.8  # between clips, like a speaker drawing breath

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True, timeout=600)


def build_recording(folder: Path, minutes: float) -> tuple[Path, float]:
    """The clips (16 kHz mono) and pauses, repeated until at least ``minutes`` long; as FLAC."""
    pieces = []
    for i, clip in enumerate(CLIPS):
        out = folder / f"clip{i}.wav"
        _ffmpeg(
            "-i", str(FIXTURES / clip), "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le", str(out)
        )
        pieces.append(out)
    pause = folder / "pause.wav"
    _ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "anullsrc=r=16000:cl=mono",
        "-t",
        str(PAUSE_SECONDS),
        "-c:a",
        "pcm_s16le",
        str(pause),
    )
    one_round = sum(_duration(p) for p in pieces) + PAUSE_SECONDS * len(pieces)
    rounds = int(minutes * 60 // one_round) + 1
    listing = folder / "list.txt"
    with listing.open("w") as fh:
        for _ in range(rounds):
            for p in pieces:
                fh.write(f"file '{p}'\nfile '{pause}'\n")
    recording = folder / "recording.flac"
    _ffmpeg("-f", "concat", "-safe", "0", "-i", str(listing), "-c:a", "flac", str(recording))
    return recording, _duration(recording)


def _duration(path: Path) -> float:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return float(out.stdout.strip())


def _run_child(
    args: list[str], env: dict[str, str] | None = None
) -> tuple[float, float, str, int, float]:
    """Run a child; return (wall seconds, peak RSS in MB, stdout, exit status, CPU seconds).

    CPU seconds (user + system, the child and what it waited for) are reported beside wall time
    because on a shared machine wall time mostly measures the neighbours.
    """
    started = time.perf_counter()
    proc = subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )
    # Read the pipes before reaping, or a chatty child blocks on a full pipe.
    out, err = proc.stdout.read(), proc.stderr.read()  # type: ignore[union-attr]
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        sys.stderr.write(err[-2000:])
    cpu = usage.ru_utime + usage.ru_stime
    return wall, usage.ru_maxrss / 1024, out, proc.returncode, cpu


# ---------------------------------------------------------------------------------- child work


def child_bare(recording: str, language: str) -> dict[str, float]:
    from faster_whisper import WhisperModel

    from archive.core.config import load_settings
    from transcripts.model import model_path

    settings = load_settings(None)
    started = time.perf_counter()
    model = WhisperModel(
        model_path(settings),
        device=settings.device,
        compute_type=settings.compute_type,
        local_files_only=True,
    )
    loaded = time.perf_counter()
    segments, info = model.transcribe(
        recording,
        language=language,
        beam_size=5,
        temperature=[0.0, 0.4, 0.8],
        condition_on_previous_text=False,
        word_timestamps=True,
        vad_filter=True,
    )
    count = sum(1 for _ in segments)
    done = time.perf_counter()
    return {
        "load_seconds": loaded - started,
        "transcribe_seconds": done - loaded,
        "segments": count,
        "duration": info.duration,
    }


def child_ours(recording: str, language: str) -> dict[str, float]:
    from archive.core.config import load_settings
    from transcripts.model import load_model
    from transcripts.transcribe import TranscribeOptions, transcribe, translate_file

    settings = load_settings(None)
    started = time.perf_counter()
    load_model(settings)
    loaded = time.perf_counter()
    cpu0 = time.process_time()
    result = transcribe(
        recording, TranscribeOptions(language=language, translate=False), settings=settings
    )
    transcribed, cpu1 = time.perf_counter(), time.process_time()
    english = translate_file(recording, result.segments, settings=settings, language=language)
    translated, cpu2 = time.perf_counter(), time.process_time()
    return {
        "transcribe_cpu_seconds": cpu1 - cpu0,
        "translate_cpu_seconds": cpu2 - cpu1,
        "load_seconds": loaded - started,
        "transcribe_seconds": transcribed - loaded,
        "translate_seconds": translated - transcribed,
        "segments": len(result.segments),
        "english_segments": sum(1 for s in english if s.text_en),
        "duration": result.duration,
    }


# ---------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--minutes", type=float, default=5.0, help="length of the test recording")
    parser.add_argument("--language", default="zh", choices=["zh", "yue"])
    parser.add_argument("--skip-pipeline", action="store_true", help="skip the CLI measurement")
    parser.add_argument("--skip-ours", action="store_true", help="skip the library measurement")
    parser.add_argument("--child", choices=["bare", "ours"], help=argparse.SUPPRESS)
    parser.add_argument("--recording", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        work = child_bare if args.child == "bare" else child_ours
        print(json.dumps(work(args.recording, args.language)))
        return 0

    with tempfile.TemporaryDirectory(prefix="bench-transcribe-") as tmp:
        folder = Path(tmp)
        recording, seconds = build_recording(folder, args.minutes)
        me = [sys.executable, str(Path(__file__).resolve())]
        result: dict[str, object] = {"audio_seconds": round(seconds, 2)}

        wall, peak, out, code, cpu = _run_child(
            [*me, "--child", "bare", "--recording", str(recording), "--language", args.language]
        )
        if code != 0:
            raise SystemExit("the bare faster-whisper run failed")
        bare = json.loads(out.strip().splitlines()[-1])
        result |= {
            "rtf_bare": round(wall / seconds, 4),
            "rtf_bare_transcribe_only": round(bare["transcribe_seconds"] / seconds, 4),
            "cpu_rtf_bare": round(cpu / seconds, 4),
            "peak_mb_bare": round(peak, 1),
            "segments_bare": bare["segments"],
        }

        if not args.skip_ours:
            wall, peak, out, code, cpu = _run_child(
                [*me, "--child", "ours", "--recording", str(recording), "--language", args.language]
            )
            if code == 0:
                ours = json.loads(out.strip().splitlines()[-1])
                result |= {
                    "rtf_transcribe": round(ours["transcribe_seconds"] / seconds, 4),
                    "ratio_transcribe": round(
                        ours["transcribe_seconds"] / bare["transcribe_seconds"], 3
                    ),
                    "rtf_translate": round(ours["translate_seconds"] / seconds, 4),
                    "cpu_rtf_ours": round(cpu / seconds, 4),
                    "cpu_rtf_transcribe": round(ours["transcribe_cpu_seconds"] / seconds, 4),
                    "cpu_rtf_translate": round(ours["translate_cpu_seconds"] / seconds, 4),
                    "peak_mb_ours": round(peak, 1),
                    "segments_ours": ours["segments"],
                    "english_segments": ours["english_segments"],
                }
            else:
                result["ours_error"] = f"exit status {code}"

        if not args.skip_pipeline:
            home = folder / "home"
            wall, peak, out, code, cpu = _run_child(
                [
                    sys.executable,
                    "-m",
                    "archive",
                    "--home",
                    str(home),
                    "ingest",
                    str(recording),
                    "--language",
                    args.language,
                    # The English track is measured on its own (rtf_translate): the pipeline
                    # is compared with bare faster-whisper like for like.
                    "--no-translate",
                    "--wait",
                    "--json",
                ],
                env={"ARCHIVE_HOME": str(home)},
            )
            if code == 0:
                result |= {
                    "rtf_pipeline": round(wall / seconds, 4),
                    "ratio": round(wall / seconds / result["rtf_bare"], 3),  # type: ignore[operator]
                    "cpu_rtf_pipeline": round(cpu / seconds, 4),
                    "peak_mb": round(peak, 1),
                }
            else:
                result |= {
                    "rtf_pipeline": None,
                    "ratio": None,
                    "peak_mb": None,
                    "pipeline_error": f"exit status {code}",
                }

    if args.json:
        print(json.dumps(result))
    else:
        width = max(len(k) for k in result)
        for key, value in result.items():
            print(f"{key:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
