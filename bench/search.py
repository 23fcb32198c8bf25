"""Search benchmark: a synthetic archive through the real catalog and index, and tantivy beside it.

    python bench/search.py [--hours N] [--queries N] [--json] [--workdir DIR] [--keep]

Builds ``N`` hours of synthetic transcripts (``bench/synthetic_talks.py``: 700 Whisper-sized
segments an hour, about 60 % Chinese / 40 % English, both tracks, labour-movement vocabulary drawn
with Zipf weights from a fixed seed) into a real SQLite catalog, then measures, through :class:`indexer.SearchIndex`:

* full rebuild from the catalog (``rebuild_s``; indexing throughput = documents / rebuild time),
* index size on disk,
* one-item incremental update (a new transcript revision of one item), and the same plus the first
  search that sees it (the searcher is reopened),
* p50/p95 latency of 200 mixed queries (single words and phrases in Traditional, Simplified and
  English, field filters) as the public role, including grouping, facets and highlighting.

The same documents (Chinese pre-cut into the same bigrams, English pre-stemmed, because tantivy's
``ngram`` tokenizer puts every gram at position 0 and phrases would not work) and the same queries
go through tantivy as a reference. Its figures are for top-10 retrieval only (no grouping, facets or
highlighting), i.e. a floor rather than a like-for-like comparison.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from synthetic_talks import SEGMENTS_PER_HOUR, BenchQuery, build_catalog, make_queries  # noqa: E402

from archive.catalog.db import Catalog  # noqa: E402
from archive.core.config import load_settings  # noqa: E402
from indexer import SearchFilters, SearchIndex  # noqa: E402
from indexer.analysis import analyze  # noqa: E402
from indexer.engine import DEFAULT_ENGINE, ENGINE_NAMES  # noqa: E402


def _percentiles(values: list[float]) -> tuple[float, float]:
    values = sorted(values)
    p50 = statistics.median(values)
    p95 = values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))]
    return p50, p95


def _num(value: float, digits: int) -> float | None:
    return None if math.isnan(value) else round(value, digits)


def _cpu_with_children() -> float:
    """CPU seconds of this process and its finished children (the rebuild's writer processes)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _dir_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1024**2


def run_reference(
    catalog: Catalog, ids: list[str], queries: list[BenchQuery], workdir: Path
) -> dict[str, float]:
    import tantivy

    from indexer.schema import item_documents

    sb = tantivy.SchemaBuilder()
    for name in ("text_zh", "text_en"):
        sb.add_text_field(name, stored=False, tokenizer_name="whitespace", index_option="position")
    for name in ("visible_to", "year", "collection", "lang"):
        sb.add_text_field(name, stored=False, tokenizer_name="raw")
    sb.add_text_field("item_id", stored=True, tokenizer_name="raw")
    schema = sb.build()
    path = workdir / "tantivy"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir()
    index = tantivy.Index(schema, path=str(path))
    writer = index.writer(heap_size=512_000_000, num_threads=2)
    started = time.perf_counter()
    docs = 0
    for item_id in ids:
        item = catalog.get_item(item_id)
        revision = catalog.get_revision(item_id)
        for doc in item_documents(item, revision):
            if doc["kind"] != "seg":
                continue
            writer.add_document(
                tantivy.Document(
                    text_zh=" ".join(t.text for t in analyze(doc["text_zh"], tail_unigrams=False)),
                    text_en=" ".join(t.text for t in analyze(doc["text_en"], tail_unigrams=False)),
                    visible_to=doc["visible_to"].split()[0],
                    year=doc["year"],
                    collection=doc["collection"],
                    lang=doc["lang"],
                    item_id=doc["item_id"],
                )
            )
            docs += 1
    writer.commit()
    writer.wait_merging_threads()
    index_s = time.perf_counter() - started
    index.reload()
    searcher = index.searcher()
    occur = tantivy.Occur
    visible = ["public"]  # a public document is indexed with visible_to "public" first

    def build(q: BenchQuery) -> object:
        must = []
        for clause in q.clauses:
            per_field = []
            for field in ("text_zh", "text_en"):
                if len(clause) == 1:
                    per_field.append(
                        (occur.Should, tantivy.Query.term_query(schema, field, clause[0]))
                    )
                else:
                    per_field.append(
                        (occur.Should, tantivy.Query.phrase_query(schema, field, list(clause)))
                    )
            must.append((occur.Must, tantivy.Query.boolean_query(per_field)))
        must.append((occur.Must, tantivy.Query.term_query(schema, "visible_to", visible[0])))
        if q.filter:
            must.append((occur.Must, tantivy.Query.term_query(schema, q.filter[0], q.filter[1])))
        return tantivy.Query.boolean_query(must)

    for q in queries[:10]:
        searcher.search(build(q), 10)
    times = []
    for q in queries:
        t0 = time.perf_counter()
        searcher.search(build(q), 10)
        times.append((time.perf_counter() - t0) * 1000)
    p50, p95 = _percentiles(times)
    return {
        "ref_index_s": index_s,
        "ref_docs": docs,
        "ref_mb": _dir_mb(path),
        "ref_p50_ms": p50,
        "ref_p95_ms": p95,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hours", type=float, default=1000.0)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument(
        "--engine",
        choices=ENGINE_NAMES,
        default=DEFAULT_ENGINE,
        help="the search engine measured through the indexer API (default: %(default)s)",
    )
    parser.add_argument("--no-reference", action="store_true", help="skip bare tantivy")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="reuse the archive in --workdir (skip build and rebuild)",
    )
    args = parser.parse_args(argv)

    def say(message: str) -> None:
        print(message, file=sys.stderr if args.json else sys.stdout, flush=True)

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-search-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        settings = load_settings(workdir / "home").ensure()
        catalog = Catalog.open(settings)
        load_before = os.getloadavg()[0]
        index = SearchIndex.open(settings)
        rebuild_s = rebuild_cpu_s = float("nan")
        if args.reuse:
            # Measure searches and updates again on an archive built by an earlier --keep run.
            ids = catalog.item_ids()
            segments = int(
                catalog.conn.execute(
                    "SELECT COUNT(*) FROM segments s JOIN transcripts t ON s.transcript_id = t.id "
                    "WHERE t.revision = (SELECT MAX(revision) FROM transcripts u WHERE u.item_id = t.item_id)"
                ).fetchone()[0]
            )
            documents = index.doc_count()
            args.engine = index.engine_name()
            say(f"reusing {workdir}: {len(ids)} items, {documents} documents ({args.engine})")
        else:
            t0 = time.perf_counter()
            segments, ids = build_catalog(catalog, args.hours)
            say(
                f"catalog: {len(ids)} items, {segments} segments in {time.perf_counter() - t0:.0f} s"
            )
            cpu0 = _cpu_with_children()
            t0 = time.perf_counter()
            documents = index.rebuild(catalog, engine=args.engine)
            rebuild_s = time.perf_counter() - t0
            rebuild_cpu_s = _cpu_with_children() - cpu0
        index_mb = _dir_mb(settings.index_dir)
        say(
            f"rebuild ({args.engine}): {documents} documents in {rebuild_s:.1f} s "
            f"({documents / rebuild_s:.0f} docs/s, CPU {rebuild_cpu_s:.0f} s), {index_mb:.0f} MB"
        )

        queries = make_queries(args.queries)
        for q in queries[:10]:  # warm-up: open the searcher, load per-searcher data
            index.search(q.text)
        times, cpu_times = [], []
        for q in queries:
            t1, c1 = time.perf_counter(), time.process_time()
            index.search(q.text, role="public")
            times.append((time.perf_counter() - t1) * 1000)
            cpu_times.append((time.process_time() - c1) * 1000)
        p50, p95 = _percentiles(times)
        cpu_p50, cpu_p95 = _percentiles(cpu_times)
        # The same queries without glossary expansion, to show what the expansion costs.
        plain = []
        for q in queries:
            c1 = time.process_time()
            index.search(q.text, role="public", expand=False)
            plain.append((time.process_time() - c1) * 1000)
        plain_p50, plain_p95 = _percentiles(plain)
        say(
            f"search CPU time without glossary expansion: p50 {plain_p50:.1f} ms, p95 {plain_p95:.1f} ms"
        )
        slowest = sorted(zip(times, (q.text for q in queries), strict=True), reverse=True)[:5]
        say(
            f"search: p50 {p50:.1f} ms, p95 {p95:.1f} ms; slowest: "
            + ", ".join(f"{t:.0f} ms {q!r}" for t, q in slowest)
        )
        say(f"search CPU time: p50 {cpu_p50:.1f} ms, p95 {cpu_p95:.1f} ms")
        snapshot = index._view_now()
        if hasattr(snapshot, "searcher"):  # Whoosh: its segments' deletions slow its searches
            deleted = sum(
                leaf.reader().has_deletions() for leaf, _ in snapshot.searcher.leaf_searchers()
            )
            say(f"index segments carrying deleted documents: {deleted}")

        # One-item incremental update: a transcript edit of one talk.
        target = ids[len(ids) // 2]
        revision = catalog.get_revision(target)
        edited = [s.with_(text_en=s.text_en + " edited") for s in revision.segments]
        catalog.add_revision(target, edited, origin="edit")
        t0, c0 = time.perf_counter(), time.process_time()
        index.update_item(catalog, target)
        update_s = time.perf_counter() - t0
        update_cpu_s = time.process_time() - c0
        index.search("edited", role="staff", filters=SearchFilters())
        update_visible_s = time.perf_counter() - t0
        say(
            f"update: one item ({len(edited)} segments) {update_s:.2f} s; visible to the next search after {update_visible_s:.2f} s"
        )

        verify_t0 = time.perf_counter()
        problems = index.verify(catalog)
        verify_s = time.perf_counter() - verify_t0
        say(f"verify: {len(problems)} problem(s) in {verify_s:.1f} s")

        result: dict[str, float | int | str | None] = {
            "engine": args.engine,
            "hours": args.hours if not args.reuse else round(segments / SEGMENTS_PER_HOUR, 1),
            "documents": documents,
            "segments": segments,
            "index_docs_per_s": _num(documents / rebuild_s, 1),
            "index_mb": round(index_mb, 1),
            "rebuild_s": _num(rebuild_s, 1),
            "update_s": round(update_s, 3),
            "update_visible_s": round(update_visible_s, 3),
            "verify_s": round(verify_s, 1),
            "p50_ms": round(p50, 2),
            "p95_ms": round(p95, 2),
            # CPU time, which other work on a shared machine does not inflate as it does wall time.
            "rebuild_cpu_s": _num(rebuild_cpu_s, 1),
            "update_cpu_s": round(update_cpu_s, 3),
            "cpu_p50_ms": round(cpu_p50, 2),
            "cpu_p95_ms": round(cpu_p95, 2),
            "cpu_p50_ms_no_glossary": round(plain_p50, 2),
            "cpu_p95_ms_no_glossary": round(plain_p95, 2),
            "load_avg_at_start": round(load_before, 1),
            "ref_p50_ms": None,
            "ref_p95_ms": None,
        }
        if not args.no_reference:
            ref = run_reference(catalog, ids, queries, workdir)
            result.update({k: round(v, 2) for k, v in ref.items()})
            say(
                f"tantivy: indexed {ref['ref_docs']:.0f} segments in {ref['ref_index_s']:.1f} s, "
                f"{ref['ref_mb']:.0f} MB; p50 {ref['ref_p50_ms']:.2f} ms, p95 {ref['ref_p95_ms']:.2f} ms"
            )
            say(
                f"ratios {args.engine}/bare tantivy: p50 {p50 / max(ref['ref_p50_ms'], 1e-6):.0f}x, "
                f"p95 {p95 / max(ref['ref_p95_ms'], 1e-6):.0f}x, "
                f"indexing time {rebuild_s / max(ref['ref_index_s'], 1e-6):.1f}x"
            )
        if args.json:
            print(json.dumps(result))
        else:
            say(json.dumps(result))
        return 0
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    raise SystemExit(main())
