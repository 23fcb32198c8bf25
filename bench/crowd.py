"""Crowd benchmark: many visitors at once, speaking Streamlit's own websocket protocol.

    python bench/crowd.py [--visitors 100] [--concurrency 20] [--url URL | --home DIR] [--json]

Each visitor opens a websocket to the portal (``/_stcore/stream``, as a browser tab does) and asks
for four page runs in turn, as the protobuf messages Streamlit's front end sends: Home, a search in
Chinese, a search in English, and an item page. A **page view** is one script run: from the
``rerun_script`` message to the server's ``script_finished``. ``--concurrency`` visitors are
connected at any moment; a finished visitor is replaced by the next until ``--visitors`` have
been served. Printed: page views per second, p50 and p95 of a page view, errors, and the server's
CPU time per page view (read from ``/proc`` for the portal process and its children); with
``--first-visit``, also what a first visit in Chromium costs (requests, bytes, time to Home).

Without ``--url`` the script starts ``archive serve`` on a test archive built once into
``bench/out/crowd`` (the portal test data: real fixture recordings, transcripts, a search index)
and stops it afterwards. Target (issue 14, 2 cores): 20 visitors at once, ≥ 20 page views/s,
p95 ≤ 1.5 s, no errors.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import websockets  # noqa: E402
from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402

OUT = ROOT / "bench" / "out"
PAGE_TIMEOUT = 60.0


@dataclass
class Tally:
    times: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def pages(item_id: str | None) -> dict[str, tuple[str, dict[str, str]]]:
    """The page runs a visitor makes, by label: (page name, query parameters)."""
    plan = {
        "home": ("", {"lang": "zh"}),
        "search_zh": ("search", {"q": "碼頭工人", "lang": "zh"}),
        "search_en": ("search", {"q": "strike", "lang": "en"}),
    }
    if item_id:
        plan["item"] = ("item", {"item": item_id, "lang": "en"})
    return plan


async def page_run(ws: websockets.ClientConnection, page: str, params: dict[str, str]) -> float:
    """One script run; its duration in seconds. Raises on an exception shown on the page."""
    msg = BackMsg()
    msg.rerun_script.query_string = urlencode(params)
    msg.rerun_script.page_name = page
    started = time.perf_counter()
    await ws.send(msg.SerializeToString())
    while True:
        raw = await asyncio.wait_for(ws.recv(), PAGE_TIMEOUT)
        forward = ForwardMsg()
        forward.ParseFromString(raw)
        kind = forward.WhichOneof("type")
        if kind == "delta" and forward.delta.new_element.WhichOneof("type") == "exception":
            raise RuntimeError(forward.delta.new_element.exception.message[:200])
        if kind == "page_not_found":
            raise RuntimeError(f"page not found: {page!r}")
        if kind == "script_finished":
            return time.perf_counter() - started


async def visitor(url: str, plan: list[tuple[str, dict[str, str]]], tally: Tally) -> None:
    host = urlsplit(url).netloc
    try:
        async with websockets.connect(
            f"ws://{host}/_stcore/stream",
            subprotocols=["streamlit"],  # type: ignore[list-item]
            origin=url,  # type: ignore[arg-type]
            max_size=None,
            open_timeout=PAGE_TIMEOUT,
        ) as ws:
            for page, params in plan:
                tally.times.append(await page_run(ws, page, params))
    except Exception as exc:  # every failure is counted and named, none stops the run
        tally.errors.append(f"{type(exc).__name__}: {exc}"[:200])


async def crowd(
    url: str, plan: list[tuple[str, dict[str, str]]], visitors: int, concurrency: int
) -> Tally:
    tally = Tally()
    gate = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with gate:
            await visitor(url, plan, tally)

    await asyncio.gather(*(one() for _ in range(visitors)))
    return tally


def first_visit(url: str) -> dict[str, float]:
    """A first visit in headless Chromium (empty cache): requests, bytes on the wire, and the time
    until the Home page's search box is shown."""
    from playwright.sync_api import sync_playwright
    from portal_harness import CHROMIUM, CHROMIUM_ARGS

    responses: list = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.on("requestfinished", lambda request: responses.append(request))
        started = time.perf_counter()
        page.goto(url + "/?lang=zh")
        page.get_by_label("搜尋檔案館").wait_for(timeout=60_000)
        page.wait_for_load_state("networkidle")
        shown = time.perf_counter() - started
        transferred = 0
        for request in responses:
            sizes = request.sizes()
            transferred += sizes["responseBodySize"] + sizes["responseHeadersSize"]
        browser.close()
    return {
        "first_visit_requests": len(responses),
        "first_visit_kb": round(transferred / 1024, 1),
        "first_visit_s": round(shown, 2),
    }


def _cpu_seconds(pid: int) -> float:
    """CPU time of a process and all its descendants alive now, from /proc (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    todo, seen = [pid], set()
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime + stime
        for task in Path(f"/proc/{current}/task").glob("*"):
            with contextlib.suppress(OSError):  # the task ended meanwhile
                todo += [int(c) for c in (task / "children").read_text().split()]
    return total


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--visitors", type=int, default=100, help="visitors served in all")
    parser.add_argument("--concurrency", type=int, default=20, help="visitors at once")
    parser.add_argument("--url", help="a running portal (default: start one on a test archive)")
    parser.add_argument("--item", help="the item id for the item page (with --url)")
    parser.add_argument("--home", type=Path, default=OUT / "crowd", help="the test archive")
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="portal processes (more than 1: behind Caddy, as `archive serve --processes N`)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--first-visit", action="store_true", help="also measure a first visit in Chromium"
    )
    args = parser.parse_args(argv)

    def say(text: str) -> None:
        print(text, file=sys.stderr if args.json else sys.stdout, flush=True)

    portal = None
    item_id = args.item
    url = args.url
    if url is None:
        import portal_data

        marker = args.home / ".bench-complete"
        if not marker.exists():
            say(f"building the test archive in {args.home} …")
            built = portal_data.build(args.home)
            marker.write_text(built.ids["dock"])
        item_id = marker.read_text().strip()
        portal = portal_data.Portal(args.home, processes=args.processes).__enter__()
        url = portal.url
    try:
        say(f"{args.visitors} visitors, {args.concurrency} at once, against {url}")
        plan = list(pages(item_id).values())
        asyncio.run(crowd(url, plan, min(args.concurrency, 2), min(args.concurrency, 2)))
        cpu0 = _cpu_seconds(portal.process.pid) if portal else float("nan")
        started = time.perf_counter()
        tally = asyncio.run(crowd(url, plan, args.visitors, args.concurrency))
        wall = time.perf_counter() - started
        cpu = (_cpu_seconds(portal.process.pid) - cpu0) if portal else float("nan")
        by_page: dict[str, float] = {}
        if portal is not None:
            # Each kind of page alone, 40 views at 4 at a time: its server CPU a view.
            for label, run in pages(item_id).items():
                before = _cpu_seconds(portal.process.pid)
                alone = asyncio.run(crowd(url, [run] * 4, 10, 4))
                spent = _cpu_seconds(portal.process.pid) - before
                by_page[label] = round(spent / max(1, len(alone.times)) * 1000, 1)
        visit = first_visit(url) if args.first_visit else {}
    finally:
        if portal is not None:
            portal.__exit__(None, None, None)
    views = len(tally.times)
    result = {
        "processes": args.processes if args.url is None else None,
        "visitors": args.visitors,
        "concurrency": args.concurrency,
        "page_views": views,
        "page_views_per_s": round(views / wall, 1) if wall else None,
        "p50_ms": round(statistics.median(tally.times) * 1000, 1) if views else None,
        "p95_ms": round(_percentile(tally.times, 0.95) * 1000, 1) if views else None,
        "errors": len(tally.errors),
        "server_cpu_ms_per_view": round(cpu / views * 1000, 1) if views and cpu == cpu else None,
        "server_cpu_ms_by_page": by_page or None,
        **visit,
    }
    for error in sorted(set(tally.errors))[:5]:
        say(f"error: {error}")
    say(
        f"{views} page views in {wall:.1f} s: {result['page_views_per_s']} views/s, "
        f"p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms, {result['errors']} errors, "
        f"server CPU {result['server_cpu_ms_per_view']} ms a view"
    )
    if by_page:
        say(
            "server CPU a view, each page alone: "
            + ", ".join(f"{k} {v} ms" for k, v in by_page.items())
        )
    if visit:
        say(
            f"first visit: {visit['first_visit_requests']} requests, "
            f"{visit['first_visit_kb']} KB, Home shown after {visit['first_visit_s']} s"
        )
    if args.json:
        print(json.dumps(result))
    return 0 if not tally.errors else 1


if __name__ == "__main__":
    raise SystemExit(main())
