"""Query-limits benchmark: the CPU of the worst anonymous queries, before and after the limits.

    python bench/query_limits.py [--hours H] [--json] [--before COMMIT] [--timeout S] [--workdir DIR]

Security issue 18, point 7: single Chinese characters joined with OR, each a prefix over every
bigram starting with it, took minutes of CPU on Whoosh (10 characters 14 s, 100 characters 505 s
on a large archive). This builds ``H`` hours of synthetic transcripts (``bench/synthetic_talks.py``)
into a real catalog and index, once with the code of ``--before`` (default: the commit before the
limits, taken with ``git archive`` into the work folder) and once with this tree, on each engine,
and measures each query's CPU seconds as the public role, each in a fresh process (the parent
stops a query of the old code after ``--timeout`` seconds and reports it as "> timeout").

Queries: the 10, 32 and 100 most frequent single characters of the corpus joined with OR, 8
of them as ``x*`` prefixes, and one ordinary word for scale. "After", a search refused before it
runs (more than 32 words) or stopped at its deadline says so in ``outcome``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
BEFORE = "f6302c1"  # the last commit before the query limits and per-role indexes
ENGINES = ("whoosh", "tantivy")


def _chars() -> list[str]:
    """The corpus's single characters, most frequent first (by the synthetic vocabulary's rank)."""
    sys.path.insert(0, str(BENCH))
    from synthetic_talks import ZH_WORDS

    counts: Counter[str] = Counter()
    for rank, word in enumerate(ZH_WORDS):
        for ch in word:
            counts[ch] += 1.0 / (rank + 1)
    return [ch for ch, _ in counts.most_common()]


def queries() -> dict[str, str]:
    chars = _chars()
    return {
        "one word": "工會",
        "10 characters OR": " OR ".join(chars[:10]),
        "32 characters OR": " OR ".join(chars[:32]),
        "100 characters OR": " OR ".join((chars * 2)[:100]),
        "8 prefixes OR": " OR ".join(f"{c}*" for c in chars[:8]),
    }


# -- the worker: one step in a fresh process, with the code of one commit first on sys.path --------
def worker(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(args.code))
    sys.path.insert(1, str(BENCH))
    import indexer
    from archive.catalog.db import Catalog
    from archive.core.config import load_settings
    from indexer import SearchIndex

    if not Path(indexer.__file__).resolve().is_relative_to(Path(args.code).resolve()):
        raise SystemExit(f"the code measured is {indexer.__file__}, not that of {args.code}")
    settings = load_settings(args.home).ensure()
    if args.build:
        from synthetic_talks import build_catalog

        catalog = Catalog.open(settings)
        build_catalog(catalog, args.hours)
        SearchIndex.open(settings).rebuild(catalog, engine=args.engine)
        print(json.dumps({"built": True}))
        return 0
    index = SearchIndex.open(settings)
    index.search("工人", role="public")  # open the snapshot before measuring
    text = queries()[args.query]
    cpu0, t0 = time.process_time(), time.perf_counter()
    outcome, expanded, hits = "answered", None, 0
    try:
        results = index.search(text, role="public", expand=False)
        hits = results.total_hits
        expanded = getattr(results, "expanded_terms", None)
        if getattr(results, "limited", "") == "too_many_words":
            outcome = "refused before running"
        elif getattr(results, "limited", "") == "prefixes_cut":
            outcome = "answered, prefixes bounded"
    except Exception as exc:  # the new code's SearchLimitError: stopped at the deadline / busy
        outcome = f"stopped: {type(exc).__name__}"
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
    print(json.dumps({"cpu_s": cpu, "wall_s": wall, "outcome": outcome,
                      "expanded_terms": expanded, "hits": hits}))  # fmt: skip
    return 0


def _step(code: Path, home: Path, engine: str, timeout: float, *extra: str) -> dict | None:
    command = [sys.executable, __file__, "--worker", "--code", str(code), "--home", str(home),
               "--engine", engine, *extra]  # fmt: skip
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return None
    if done.returncode != 0:
        raise SystemExit(f"worker failed: {' '.join(command)}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--before", default=BEFORE, help="the commit of the old behaviour")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per old query")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--build", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--code", type=Path, default=ROOT, help=argparse.SUPPRESS)
    parser.add_argument("--home", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--engine", default="whoosh", help=argparse.SUPPRESS)
    parser.add_argument("--query", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args)

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="query-limits-"))
    old = workdir / "before"
    if not old.exists():
        old.mkdir(parents=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.before],
                                 capture_output=True, check=True).stdout  # fmt: skip
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
    report: dict = {"hours": args.hours, "before": args.before, "cpus": os.cpu_count(),
                    "load_average": round(os.getloadavg()[0], 1), "engines": {}}  # fmt: skip
    for engine in args.engines.split(","):
        per_engine: dict = {}
        for mode, code in (("before", old), ("after", ROOT)):
            home = workdir / f"{mode}-{engine}"
            if not home.exists():
                _step(code, home, engine, 3600, "--build", "--hours", str(args.hours))
            runs = {}
            for name in queries():
                got = _step(code, home, engine, args.timeout, "--query", name)
                runs[name] = got or {"cpu_s": None, "outcome": f"> {args.timeout:g} s, killed"}
                if not args.json:
                    cpu = runs[name].get("cpu_s")
                    shown = f"{cpu:.3f} s" if cpu is not None else runs[name]["outcome"]
                    print(f"{engine:8} {mode:6} {name:20} CPU {shown:>10}  {runs[name]['outcome']}")
            timed = [r["cpu_s"] for r in runs.values() if r.get("cpu_s") is not None]
            killed = any(r.get("cpu_s") is None for r in runs.values())
            per_engine[mode] = {
                "queries": runs,
                "worst_cpu_s": None if killed else round(max(timed), 3),
                "worst_query": max(runs, key=lambda n: runs[n].get("cpu_s") or float("inf")),
            }
        report["engines"][engine] = per_engine
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        for engine, modes in report["engines"].items():
            for mode, data in modes.items():
                worst = data["worst_cpu_s"]
                shown = f"{worst:.3f} s" if worst is not None else f"> {args.timeout:g} s"
                print(f"worst {engine} {mode}: {data['worst_query']} CPU {shown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
