"""Slow-link benchmark: the portal's pages over a throttled link, in a real headless Chromium.

    python bench/slow_link.py [--runs N] [--json] [--before REV] [--pages NAMES]

Issue 19, point 5: on a 3G-like link Home stayed a blank page for 6–7 s and downloaded 1.4 MB in
112 requests. This builds the test fixtures' archive (``tests/portal_data.py``: real SQLite, real
media, no transcription) into ``bench/out/slow_link/``, starts ``archive serve`` on 127.0.0.1 and
opens each page ``--runs`` times (default 5), every time cold: a new browser context (no cookies,
no cache) with the browser's cache disabled and the link throttled through the DevTools protocol
(``Network.emulateNetworkConditions``: 150 ms latency, 1.6 Mbit/s down and up).

For each page it prints the median of

* ``readable_s``: from the start of navigation to the first *readable text* on screen: the first
  animation frame in which a text element (``h1``–``h3``, ``p``, ``li``, ``a``, ``label``, ``td``,
  ``summary``; at least 8 characters) is laid out inside the viewport, not hidden, and drawn: its
  first font is a system font, a web font that has loaded, or one whose faces all say
  ``font-display: swap`` (Chromium draws text in a loading web font without it as nothing for up
  to 3 s, so such text counts from 3 s after it was laid out). Polled in the page,
  not Chromium's first-contentful-paint, which Streamlit's empty frame already triggers (``fcp_s``
  is printed beside it for comparison);
* ``hits_s`` (search links): until the first highlighted hit (a visible ``<mark>``) is on screen;
  for an item link, until its transcript's first line is (``.hkp-row`` in the player, or any
  visible element with ``data-start`` on a light page);
* ``kb``: bytes transferred, as encoded on the wire (compressed bodies plus headers:
  ``encodedDataLength``), and ``ws_kb``, the websocket's message bytes apart;
* ``requests``: HTTP requests made (``data:`` and ``blob:`` URLs aside), until the network has been
  quiet for 1.5 s.

Pages: portal Home ``/``, search links ``/?q=strike`` and ``/?q=罷工``, an item link
``/item?item=ID&t=6``, and the light pages ``/lite/``, ``/lite/search?q=strike`` and
``/lite/item/ID`` (shown ``n/a`` while they answer 404 or Streamlit's own page). ``archive serve``
runs with ``--processes 1`` (the portal's ASGI app alone, as on a one-core machine or with
``streamlit run``); ``--processes 2`` puts Caddy in front, which compresses on its own. ``--before REV`` also measures that git
revision (taken with ``git archive`` into ``bench/out/slow_link/code-REV``, its own archive built
by its own code), the two portals opened in turn in each run, so both columns come from the same
run on the same machine. Nothing leaves 127.0.0.1: the browser resolves no other host
(``--host-resolver-rules``) and the run fails if a page asked for one.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "slow_link"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Every host but the portal's resolves to nothing: no request can leave the machine.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
LATENCY_MS = 150
THROUGHPUT = 1.6e6 / 8  # bytes per second, down and up
PAGE_TIMEOUT_S = 60.0
QUIET_S = 1.5
TARGETS = {"readable_s": 2.5, "hits_s": 4.0}
LITE_TARGETS = {"readable_s": 1.0, "kb": 100.0}

# Polled in the page from its first frame: when readable text, and hits, are first on screen.
PROBE = r"""
(() => {
  const m = { readable: null, hits: null, text: '', laidOut: new Map() };
  window.__slowLink = m;
  const TEXT = 'h1,h2,h3,p,li,a,label,td,summary';
  const HITS = 'mark';
  const ROWS = '.hkp-row, [data-start]';
  function onScreen(el) {
    const r = el.getBoundingClientRect();
    if (r.width <= 0 || r.height <= 0 || r.bottom <= 0 || r.top >= innerHeight) return false;
    const s = getComputedStyle(el);
    return s.visibility !== 'hidden' && s.display !== 'none' && Number(s.opacity) > 0;
  }
  // Drawn: in a system font, in a web font that has loaded, or in one whose faces all swap
  // (font-display swap/fallback/optional: the fallback font draws the text meanwhile).
  const bare = (name) => name.trim().replace(/^["']|["']$/g, '');
  function drawn(el) {
    const family = bare(getComputedStyle(el).fontFamily.split(',')[0]);
    const faces = [...document.fonts].filter((f) => bare(f.family) === family);
    if (!faces.length || faces.some((f) => f.status === 'loaded')) return true;
    return faces.every((f) => ['swap', 'fallback', 'optional'].includes(f.display));
  }
  function roots() {
    const out = [document];
    for (const el of document.querySelectorAll('*')) if (el.shadowRoot) out.push(el.shadowRoot);
    return out;
  }
  function tick() {
    const now = performance.now();
    if (m.readable === null) {
      for (const el of document.querySelectorAll(TEXT)) {
        const text = (el.innerText || '').trim();
        if (text.length < 8 || !onScreen(el)) continue;
        if (!m.laidOut.has(el)) m.laidOut.set(el, now);
        if (drawn(el) || now - m.laidOut.get(el) >= 3000) { m.readable = now; m.text = text.slice(0, 60); break; }
      }
    }
    if (m.hits === null && window.__slowLinkWant) {
      const sel = window.__slowLinkWant === 'rows' ? ROWS : HITS;
      for (const root of roots()) {
        const el = [...root.querySelectorAll(sel)].find(onScreen);
        if (el) { m.hits = now; break; }
      }
    }
    requestAnimationFrame(tick);
  }
  requestAnimationFrame(tick);
})();
"""


@dataclass
class Page:
    name: str
    path: str
    want: str = ""  # "hits": a highlighted hit; "rows": the transcript's first line
    lite: bool = False


def pages(item: str) -> list[Page]:
    return [
        Page("home", "/"),
        Page("search strike", "/?q=strike", "hits"),
        Page("search 罷工", "/?q=" + quote("罷工"), "hits"),
        Page("item", f"/item?item={item}&t=6", "rows"),
        Page("lite home", "/lite/", lite=True),
        Page("lite search", "/lite/search?q=strike", "hits", lite=True),
        Page("lite item", f"/lite/item/{item}", "rows", lite=True),
    ]


# -- the code measured and its archive ---------------------------------------------------------
def code_of(rev: str | None, echo) -> Path:
    """This checkout (``rev`` None), or ``rev`` exported with ``git archive`` (once)."""
    if rev is None:
        return ROOT
    sha = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", rev],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    code = OUT / f"code-{sha}"
    if not (code / ".complete").exists():
        shutil.rmtree(code, ignore_errors=True)
        code.mkdir(parents=True)
        echo(f"exporting {rev} ({sha}) into {code} …")
        tar = subprocess.run(
            ["git", "-C", str(ROOT), "archive", sha], capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(code)], input=tar, check=True)
        (code / ".complete").write_text(sha)
    return code


def _env(code: Path, home: Path) -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(code), ARCHIVE_HOME=str(home))


def build_archive(code: Path, label: str, echo) -> tuple[Path, str]:
    """The fixtures' archive, built once by ``code``'s own ``tests/portal_data.py``; (home, item)."""
    home = OUT / f"home-{label}"
    done = home / ".bench-item"
    if not done.exists():
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        echo(f"building the fixtures' archive for {label} in {home} …")
        script = (
            "import sys; sys.path[:0] = [sys.argv[1], sys.argv[1] + '/tests'];"
            "import portal_data; from pathlib import Path;"
            "a = portal_data.build(Path(sys.argv[2]), long_talk=False, extra=0);"
            "print(a.ids['dock'])"
        )
        got = subprocess.run(
            [sys.executable, "-c", script, str(code), str(home)],
            capture_output=True,
            text=True,
            env=_env(code, home),
            check=False,
        )
        if got.returncode != 0:
            raise SystemExit(f"building the archive failed:\n{got.stderr[-2000:]}")
        done.write_text(got.stdout.strip().splitlines()[-1])
    return home, done.read_text().strip()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """``archive serve`` of one code tree on a free 127.0.0.1 port."""

    code: Path
    home: Path
    processes: int = 1
    port: int = field(default_factory=_free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        log = (self.home / "portal.log").open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "archive",
                "--home",
                str(self.home),
                "serve",
                "--port",
                str(self.port),
                "--address",
                "127.0.0.1",
                "--processes",
                str(self.processes),
            ],
            cwd=self.code,
            env=_env(self.code, self.home),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                with urllib.request.urlopen(self.url + "/_stcore/health", timeout=2):
                    return self
            except OSError:
                time.sleep(0.2)  # a child that is starting, bounded by the deadline
        self.__exit__()
        log_text = (self.home / "portal.log").read_text(errors="replace")[-2000:]
        raise SystemExit(f"the portal of {self.code} did not start:\n{log_text}")

    def __exit__(self, *exc: object) -> None:
        import signal

        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


def answers(url: str, lite: bool) -> bool:
    """Whether ``url`` answers with a page of its own: not a 404 and, for a light page, not
    Streamlit's ``index.html`` (which Streamlit serves for every path it does not know)."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            body = response.read()
    except urllib.error.HTTPError as err:
        return err.code != 404
    return not (lite and b"static/js/index." in body)


# -- one cold load -----------------------------------------------------------------------------
def cold_load(browser, url: str, want: str) -> dict[str, Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": LATENCY_MS,
            "downloadThroughput": THROUGHPUT,
            "uploadThroughput": THROUGHPUT,
        },
    )
    seen: dict[str, str] = {}
    inflight: set[str] = set()
    encoded: dict[str, float] = {}
    ws = [0]
    last = [time.monotonic()]

    def sent(e: dict) -> None:
        u = e["request"]["url"]
        if urlsplit(u).scheme in ("data", "blob"):
            return
        seen[e["requestId"]] = u
        inflight.add(e["requestId"])
        last[0] = time.monotonic()

    def done(e: dict) -> None:
        if e["requestId"] in seen:
            encoded[e["requestId"]] = e.get("encodedDataLength", 0)
        inflight.discard(e["requestId"])
        last[0] = time.monotonic()

    def frame(e: dict) -> None:
        data = e["response"]["payloadData"]
        ws[0] += len(data) * 3 // 4 if e["response"]["opcode"] == 2 else len(data.encode())
        last[0] = time.monotonic()

    cdp.on("Network.requestWillBeSent", sent)
    cdp.on("Network.loadingFinished", done)
    cdp.on("Network.loadingFailed", lambda e: (inflight.discard(e["requestId"]), None))
    cdp.on("Network.webSocketFrameReceived", frame)
    page.add_init_script(PROBE + (f"\nwindow.__slowLinkWant = {json.dumps(want)};" if want else ""))
    page.goto(url, wait_until="commit", timeout=PAGE_TIMEOUT_S * 1000)
    need = "m.readable !== null" + (" && m.hits !== null" if want else "")
    timed_out = False
    try:
        page.wait_for_function(
            f"() => {{ const m = window.__slowLink; return !!m && {need}; }}",
            timeout=PAGE_TIMEOUT_S * 1000,
            polling=100,
        )
    except Exception:  # noqa: BLE001 — a page that never shows its text is reported, not fatal
        timed_out = True
    # Count what the page goes on loading until the network has been quiet for QUIET_S.
    deadline = time.monotonic() + PAGE_TIMEOUT_S
    while time.monotonic() < deadline and (inflight or time.monotonic() - last[0] < QUIET_S):
        page.wait_for_timeout(100)
    probe = page.evaluate(
        "(() => { const m = window.__slowLink || {}; const p = performance.getEntriesByName('first-contentful-paint')[0];"
        " return { readable: m.readable, hits: m.hits, text: m.text, fcp: p ? p.startTime : null }; })()"
    )
    context.close()
    outside = [u for u in seen.values() if urlsplit(u).hostname not in ("127.0.0.1", None)]
    return {
        "readable_s": None if probe["readable"] is None else probe["readable"] / 1000,
        "hits_s": None if probe["hits"] is None else probe["hits"] / 1000,
        "fcp_s": None if probe["fcp"] is None else probe["fcp"] / 1000,
        "kb": sum(encoded.values()) / 1000,
        "ws_kb": ws[0] / 1000,
        "requests": len(seen),
        "text": probe["text"],
        "timed_out": timed_out,
        "outside": outside,
        "largest": sorted(((encoded.get(r, 0) / 1000, u) for r, u in seen.items()), reverse=True),
    }


def _median(values: list[float | None]) -> float | None:
    got = [v for v in values if v is not None]
    return round(statistics.median(got), 2) if got and len(got) == len(values) else None


def summarise(loads: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"runs": len(loads)}
    for key in ("readable_s", "hits_s", "fcp_s", "kb", "ws_kb", "requests"):
        out[key] = _median([load[key] for load in loads])
    out["timed_out"] = sum(load["timed_out"] for load in loads)
    out["text"] = loads[-1]["text"] if loads else ""
    return out


def main(argv: list[str] | None = None) -> int:
    import signal

    # Stopped (SIGTERM), the portals started here are stopped too (the servers' context exits).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="cold loads per page (median)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--before", default=None, help="also measure this git revision")
    parser.add_argument("--pages", default="", help="comma-separated page names (default: all)")
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="archive serve --processes (1: the ASGI app alone; more: behind Caddy, which compresses)",
    )
    parser.add_argument("--list", type=int, default=0, help="print each page's N largest requests")
    args = parser.parse_args(argv)

    def echo(text: str) -> None:
        print(text, file=sys.stderr if args.json else sys.stdout, flush=True)

    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    codes = {"after": code_of(None, echo)}
    if args.before:
        codes = {"before": code_of(args.before, echo), **codes}
    built = {label: build_archive(code, label, echo) for label, code in codes.items()}
    results: dict[str, dict[str, Any]] = {label: {} for label in codes}
    wanted = {n.strip() for n in args.pages.split(",") if n.strip()}
    with sync_playwright() as p, _servers(codes, built, args.processes) as servers:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        for server in servers.values():
            cold_load(browser, server.url + "/", "")  # Streamlit compiles the app; not timed
        loads: dict[tuple[str, str], list[dict[str, Any]]] = {}
        skipped: set[tuple[str, str]] = set()
        for label, server in servers.items():
            for pg in pages(built[label][1]):
                if (wanted and pg.name not in wanted) or not answers(server.url + pg.path, pg.lite):
                    skipped.add((label, pg.name))
        for run in range(args.runs):
            for label, server in servers.items():  # the two portals in turn, each run
                for pg in pages(built[label][1]):
                    if (label, pg.name) in skipped:
                        continue
                    load = cold_load(browser, server.url + pg.path, pg.want)
                    if load["outside"]:
                        raise SystemExit(f"{pg.path} asked other hosts: {load['outside'][:5]}")
                    loads.setdefault((label, pg.name), []).append(load)
            echo(f"run {run + 1}/{args.runs} done")
        browser.close()
    for label in servers:
        for pg in pages(built[label][1]):
            if wanted and pg.name not in wanted:
                continue
            got = loads.get((label, pg.name))
            results[label][pg.name] = summarise(got) if got else None
            if got and args.list:
                echo(f"{label} {pg.name}: largest requests of the last load")
                for kb, url in got[-1]["largest"][: args.list]:
                    echo(f"  {kb:8.1f} kB  {url[:110]}")
    report = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.node()}, {os.cpu_count()} cores",
        "load_average": round(os.getloadavg()[0], 1),
        "link": {"latency_ms": LATENCY_MS, "down_up_mbit_s": THROUGHPUT * 8 / 1e6},
        "runs": args.runs,
        "processes": args.processes,
        "before": args.before,
        "pages": results,
    }
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print_table(report)
    return 0


class _servers:
    """Both portals started (in turn, so two start-ups do not share the CPU), stopped at the end."""

    def __init__(
        self, codes: dict[str, Path], built: dict[str, tuple[Path, str]], processes: int
    ) -> None:
        self.servers = {
            label: Server(code, built[label][0], processes) for label, code in codes.items()
        }

    def __enter__(self) -> dict[str, Server]:
        started = []
        try:
            for server in self.servers.values():
                started.append(server.__enter__())
        except BaseException:
            for server in started:
                server.__exit__()
            raise
        return self.servers

    def __exit__(self, *exc: object) -> None:
        for server in self.servers.values():
            server.__exit__()


def _cell(value: float | None, unit: str = "") -> str:
    if value is None:
        return "n/a"
    return f"{value:.0f}{unit}" if unit in (" kB", "") and value >= 10 else f"{value:.2f}{unit}"


def print_table(report: dict[str, Any]) -> None:
    labels = list(report["pages"])
    print(
        f"\n{report['date']}, {report['machine']}, load {report['load_average']}; "
        f"archive serve --processes {report['processes']}; "
        f"link {report['link']['latency_ms']} ms, {report['link']['down_up_mbit_s']} Mbit/s; "
        f"median of {report['runs']} cold loads"
    )
    header = f"{'page':15}" + "".join(
        f" | {label + ' ' + col:>18}"
        for col in ("readable", "hits", "kB", "requests")
        for label in labels
    )
    print(header)
    print("-" * len(header))
    names = list(dict.fromkeys(n for per in report["pages"].values() for n in per))
    for name in names:
        row = f"{name:15}"
        for key, unit in (("readable_s", " s"), ("hits_s", " s"), ("kb", " kB"), ("requests", "")):
            for label in labels:
                got = report["pages"][label].get(name)
                row += f" | {_cell(got[key] if got else None, unit):>18}"
        print(row)
    print(
        f"targets: readable ≤ {TARGETS['readable_s']} s, search hits ≤ {TARGETS['hits_s']} s; "
        f"light pages readable ≤ {LITE_TARGETS['readable_s']} s and ≤ {LITE_TARGETS['kb']:.0f} kB"
    )


if __name__ == "__main__":
    raise SystemExit(main())
