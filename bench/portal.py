"""Portal benchmark, measured in a real headless Chromium against ``archive serve``.

For two archives:

* ``demo``: what ``archive demo`` builds (real fixtures, real transcription), plus one two-hour talk
  with 1,500 segments so both archives are timed on the same kind of item;
* ``synthetic_1000h``: 500 two-hour talks (1,000 hours: 499 with 600 segments, the one opened with
  1,500), bilingual text from a fixed vocabulary, all indexed.

it prints the median over ``--runs`` (default 20) of

* ``search_ms``: from pressing Enter in the search box to the results rendered (highlighted
  passages on screen), with different queries in turn;
* ``item_ms``: from clicking a search hit of the two-hour talk to its transcript rendered (1,500
  rows, the segment at the hit's second highlighted).

``--engine tantivy`` indexes the synthetic archive with tantivy (the catalog is reused). ``first_search_ms``
is the median of each query's first search (before the index caches it).

Targets: search ≤ 1,000 ms, item ≤ 2,000 ms. ``--json`` prints one JSON object instead::

    {"demo": {"search_ms": …, "item_ms": …}, "synthetic_1000h": {"search_ms": …, "item_ms": …}}

Archives are built once into ``bench/out/`` (git-ignored; the 1,000-hour one takes several minutes,
mostly indexing) and reused. Nothing leaves the machine: the portal listens on 127.0.0.1 and the
browser is told to fetch nothing else.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import portal_data  # noqa: E402
from portal_harness import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

from archive.catalog.db import Catalog  # noqa: E402
from archive.core.config import load_settings  # noqa: E402
from indexer.engine import DEFAULT_ENGINE, ENGINE_NAMES  # noqa: E402

OUT = ROOT / "bench" / "out"
QUERIES = [
    "碼頭工人",
    "罷工",
    "minimum wage",
    "工會",
    "collective bargaining",
    "紮鐵",
    "strike",
    "勞工",
]

PLACES = [
    ("葵涌", "Kwai Chung"),
    ("旺角", "Mong Kok"),
    ("觀塘", "Kwun Tong"),
    ("荃灣", "Tsuen Wan"),
    ("中環", "Central"),
    ("將軍澳", "Tseung Kwan O"),
]
ACTIONS = [
    ("組織", "organised"),
    ("支持", "supported"),
    ("討論", "discussed"),
    ("記錄", "recorded"),
    ("爭取", "fought for"),
    ("回顧", "looked back on"),
]
GROUPS = [
    ("碼頭工人", "dock workers"),
    ("紮鐵工人", "bar-benders"),
    ("清潔工", "cleaners"),
    ("巴士司機", "bus drivers"),
    ("護士", "nurses"),
    ("教師", "teachers"),
    ("保安員", "security guards"),
    ("建築工人", "construction workers"),
]
TOPICS = [
    ("最低工資", "the minimum wage"),
    ("標準工時", "standard working hours"),
    ("罷工", "the strike"),
    ("集體談判", "collective bargaining"),
    ("職業安全", "occupational safety"),
    ("工會", "the union"),
    ("強積金", "the MPF"),
    ("外判制度", "outsourcing"),
]
SPEAKERS = [
    "李卓人",
    "蒙兆達",
    "Carol Ng",
    "吳敏兒",
    "Lee Cheuk-yan",
    "Mung Siu-tat",
    "張超雄",
    "Elizabeth Tang",
]


# -- archives ------------------------------------------------------------------------------------
def _add_long_talk(home: Path) -> str:
    """Add the two-hour talk (1,500 segments, a real two-hour MP3) to an archive; its id."""
    settings = load_settings(home)
    cat = Catalog.open(settings)
    for item in cat.list_items(role="staff"):
        if item.title_en == "Two hours on the Hong Kong labour movement":
            return item.id
    audio = portal_data.make_long_audio(OUT / "long.mp3")
    path, sha, size = portal_data._store(settings, audio)
    talk = cat.create_item(
        title_zh="香港勞工運動兩小時講座",
        title_en="Two hours on the Hong Kong labour movement",
        collection="webinar",
        recorded_date="2021-06-12",
        speakers=["蒙兆達", "Mung Siu-tat"],
        language="yue",
        visibility="public",
        is_demo=True,
    )
    cat.add_media(
        talk.id,
        role="audio",
        sha256=sha,
        size=size,
        path=path,
        duration=7200.0,
        container="mp3",
        mime="audio/mpeg",
        streams=[{"codec_type": "audio"}],
    )
    cat.add_revision(talk.id, portal_data.long_segments(), origin="whisper")
    from indexer import SearchIndex

    SearchIndex.open(settings).update_item(cat, talk.id)
    return talk.id


def build_demo(home: Path, echo) -> tuple[str, str]:
    """``archive demo`` (falls back to the test fixtures' archive if it cannot run); (label, id)."""
    done = home / ".bench-complete"
    label = "demo"
    if not done.exists():
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        archive = Path(sys.executable).with_name("archive")
        echo(f"building the demo archive in {home} (archive demo) …")
        proc = subprocess.run(
            [str(archive), "--home", str(home), "demo"], capture_output=True, text=True
        )
        if proc.returncode != 0:
            echo(
                f"archive demo failed ({proc.stderr.strip()[-300:]}); using the test fixtures' archive"
            )
            shutil.rmtree(home, ignore_errors=True)
            portal_data.build(home, long_talk=False, long_audio=OUT / "long.mp3")
            (home / ".bench-label").write_text("fixtures")
        done.write_text("ok")
    if (home / ".bench-label").exists():
        label = (home / ".bench-label").read_text().strip()
    return label, _add_long_talk(home)


def _sentence(rng: random.Random, i: int) -> tuple[str, str]:
    (pz, pe), (az, ae), (gz, ge), (tz, te) = (
        rng.choice(PLACES),
        rng.choice(ACTIONS),
        rng.choice(GROUPS),
        rng.choice(TOPICS),
    )
    return (f"{pz}的{gz}{az}{tz}，第{i}次。", f"The {ge} of {pe} {ae} {te}, time {i}.")


def build_synthetic(home: Path, hours: int, echo, engine: str = DEFAULT_ENGINE) -> str:
    """The synthetic archive of ``hours`` hours (two-hour talks), indexed with ``engine``; the id of
    the 1,500-segment one. The catalog is built once; the index again when the engine differs."""
    from indexer import SearchIndex
    from transcripts.segments import Segment

    done = home / ".bench-complete"
    catalog_done = home / ".bench-catalog"
    if not catalog_done.exists():
        shutil.rmtree(home, ignore_errors=True)
        settings = load_settings(home)
        cat = Catalog.open(settings)
        audio = portal_data.make_long_audio(OUT / "long.mp3")
        path, sha, size = portal_data._store(settings, audio)
        rng = random.Random(2013)
        talks = max(1, hours // 2) - 1
        collections = ("webinar", "interview", "strike-anniversary", "other")
        echo(f"building a {hours}-hour archive in {home}: {talks + 1} two-hour talks …")
        for n in range(talks):
            item = cat.create_item(
                title_zh=f"勞工講座 第{n + 1}講",
                title_en=f"Labour talk no. {n + 1}",
                collection=collections[n % 4],
                recorded_date=f"{2007 + n % 18}-{1 + n % 12:02d}",
                speakers=[SPEAKERS[n % len(SPEAKERS)], SPEAKERS[(n * 3 + 1) % len(SPEAKERS)]],
                tags=[TOPICS[n % len(TOPICS)][1]],
                language=("yue", "zh", "en")[n % 3],
                visibility="public",
            )
            cat.add_media(
                item.id,
                role="audio",
                sha256=sha,
                size=size,
                path=path,
                duration=7200.0,
                container="mp3",
                mime="audio/mpeg",
                streams=[{"codec_type": "audio"}],
            )
            segs = []
            for i in range(600):
                zh, en = _sentence(rng, i)
                segs.append(
                    Segment(
                        start=i * 12.0,
                        end=i * 12.0 + 11.5,
                        text_zh=zh,
                        text_en=en,
                        lang="zh" if i % 4 else "en",
                        en_machine=bool(i % 4),
                    )
                )
            cat.add_revision(item.id, segs, origin="whisper")
        catalog_done.write_text("ok")
    if not done.exists() or done.read_text() != engine:
        settings = load_settings(home)
        cat = Catalog.open(settings)
        shutil.rmtree(settings.index_dir, ignore_errors=True)
        echo(f"indexing with {engine} …")
        started = time.monotonic()
        SearchIndex.open(settings).rebuild(cat, engine=engine)
        echo(f"indexed in {time.monotonic() - started:.0f} s")
        done.write_text(engine)
    return _add_long_talk(home)


# -- measuring ---------------------------------------------------------------------------------
def measure(home: Path, talk_id: str, runs: int, echo) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    outside: list[str] = []
    with portal_data.Portal(home) as portal, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-HK")
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.on(
            "request",
            lambda r: urlsplit(r.url).hostname not in (None, "127.0.0.1") and outside.append(r.url),
        )

        def search_once(query: str) -> float:
            page.goto(portal.url + "/?lang=zh")
            box = page.get_by_label("搜尋檔案館")
            box.wait_for()
            box.fill(query)
            started = time.perf_counter()
            box.press("Enter")
            # Results rendered: highlighted passages, or the empty state for a query with none.
            done = page.locator(".hk-snippet mark >> visible=true").or_(
                page.get_by_text("找不到「")
            )
            done.first.wait_for()
            return (time.perf_counter() - started) * 1000

        def item_once() -> float:
            page.goto(portal.url + "/?lang=zh&q=" + quote("我哋今日討論"))  # only the talk says it
            link = page.locator(f"a[href*='item={talk_id}'][href*='t='] >> visible=true").nth(1)
            link.wait_for()
            start = int(parse_qs(urlsplit(link.get_attribute("href")).query)["t"][0])
            started = time.perf_counter()
            link.click()
            page.wait_for_function(
                """([id, t]) => {
                  const h = [...document.querySelectorAll('*')].find(e => e.shadowRoot && e.shadowRoot.querySelector('.hkp'));
                  if (!h) return false;
                  const root = h.shadowRoot.querySelector('.hkp');
                  const cur = root.querySelector('.hkp-row.current');
                  return location.search.includes('item=' + id) && root.dataset.ready === '1'
                    && root.querySelectorAll('.hkp-row').length === 1500 && cur && Number(cur.dataset.start) <= t + 5;
                }""",
                arg=[talk_id, start],
                polling="raf",
            )
            return (time.perf_counter() - started) * 1000

        search_once("warm up")  # the first page load compiles the app; not timed
        searches = [search_once(QUERIES[i % len(QUERIES)]) for i in range(runs)]
        echo(f"  searched {runs} times")
        first = searches[: len(QUERIES)]  # each query's first time (the index caches after)
        item_once()
        items = [item_once() for _ in range(runs)]
        browser.close()
    if outside:
        raise SystemExit(f"the portal requested other hosts: {outside[:5]}")
    result = {
        "search_ms": round(statistics.median(searches), 1),
        "first_search_ms": round(statistics.median(first), 1),
        "item_ms": round(statistics.median(items), 1),
    }
    echo(
        f"  search: median {result['search_ms']} ms (min {min(searches):.0f}, max {max(searches):.0f})"
    )
    echo(
        f"  search, each query's first time: median {statistics.median(first):.0f} ms ("
        + ", ".join(f"{q} {ms:.0f}" for q, ms in zip(QUERIES, first, strict=False))
        + ")"
    )
    echo(f"  item:   median {result['item_ms']} ms (min {min(items):.0f}, max {max(items):.0f})")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--runs", type=int, default=20, help="measurements per figure (median)")
    parser.add_argument("--hours", type=int, default=1000, help="size of the synthetic archive")
    parser.add_argument("--only", choices=("demo", "synthetic"), help="measure one archive")
    parser.add_argument(
        "--engine",
        choices=ENGINE_NAMES,
        default=DEFAULT_ENGINE,
        help="search engine of the synthetic archive (default: %(default)s)",
    )
    args = parser.parse_args(argv)

    def echo(text: str) -> None:
        print(text, file=sys.stderr if args.json else sys.stdout, flush=True)

    OUT.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict[str, float | str]] = {}
    if args.only in (None, "demo"):
        label, talk = build_demo(OUT / "demo", echo)
        echo(f"{label} archive:")
        results[label] = measure(OUT / "demo", talk, args.runs, echo)
    if args.only in (None, "synthetic"):
        name = f"synthetic_{args.hours}h"
        talk = build_synthetic(OUT / name, args.hours, echo, args.engine)
        echo(f"{name} archive ({args.engine}):")
        results[name] = measure(OUT / name, talk, args.runs, echo) | {"engine": args.engine}
    if args.json:
        print(json.dumps(results))
    else:
        echo("targets: search ≤ 1000 ms, item ≤ 2000 ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
