"""A small real archive for the portal's tests and benchmark: real SQLite, real media files.

Built with the catalog API (no mocks): fixture recordings from ``../shared/fixtures`` are copied
into the data folder, content-addressed like the media store does, with bilingual transcripts.
``long_talk`` adds a two-hour recording (a real 2-hour MP3 made with ffmpeg) with 1,500 segments.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archive.catalog.db import Catalog
from archive.core.config import Settings, load_settings
from transcripts.segments import Segment

FIXTURES = Path(
    os.environ.get("ARCHIVE_FIXTURES", Path(__file__).resolve().parents[2] / "shared" / "fixtures")
)
if not FIXTURES.is_dir():
    FIXTURES = Path("/work/shared/fixtures")

# Bilingual sentences: (Chinese, English).
DOCK_LINES = [
    ("二零一三年碼頭工人罷工持續四十天。", "The 2013 dock strike lasted forty days."),
    ("工人要求加薪同埋改善工作環境。", "The workers demanded a pay rise and better conditions."),
    (
        "貨櫃碼頭的工人每日工作二十四小時輪班。",
        "Container terminal workers worked twenty-four hour shifts.",
    ),
    (
        "罷工得到市民廣泛支持，捐款超過八百萬元。",
        "The strike won wide public support, with over eight million dollars donated.",
    ),
    ("最後資方同意加薪百分之九點八。", "In the end the employers agreed to a 9.8 per cent raise."),
    (
        "工會的角色好重要，佢哋組織糾察線。",
        "The union's role was crucial: it organised the picket lines.",
    ),
]
BAR_LINES = [
    (
        "二零零七年紮鐵工人罷工爭取八小時工作。",
        "In 2007 the bar-benders struck for an eight-hour day.",
    ),
    (
        "紮鐵工人喺烈日下工作，非常辛苦。",
        "Bar-benders work under the burning sun; it is very hard work.",
    ),
    (
        "罷工維持三十六日，最後達成協議。",
        "The strike lasted thirty-six days and ended in an agreement.",
    ),
]
INTERVIEW_LINES = [
    ("我喺一九九零年代開始參與工會工作。", "I started working with the union in the 1990s."),
    ("集體談判權係勞工權益嘅核心。", "Collective bargaining is at the heart of labour rights."),
    (
        "流亡之後，我哋繼續記錄香港工人的故事。",
        "In exile we keep recording the stories of Hong Kong workers.",
    ),
]
LONG_TOPICS = [
    ("最低工資", "minimum wage"),
    ("標準工時", "standard working hours"),
    ("強積金對沖", "MPF offsetting"),
    ("外判清潔工", "outsourced cleaners"),
    ("職業安全", "occupational safety"),
    ("集體談判", "collective bargaining"),
    ("碼頭工人", "dock workers"),
    ("紮鐵工人", "bar-benders"),
]


@dataclass
class DemoArchive:
    settings: Settings
    ids: dict[str, str] = field(default_factory=dict)

    @property
    def home(self) -> Path:
        return self.settings.home


def _store(settings: Settings, source: Path) -> tuple[str, str, int]:
    """Copy a file into the content-addressed media folder; returns (relative path, sha256, size)."""
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    target = settings.media_dir / digest[:2] / f"{digest}{source.suffix.lower()}"
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        shutil.copyfile(source, target)
    return str(target.relative_to(settings.home)), digest, target.stat().st_size


def _segments(lines: list[tuple[str, str]], *, step: float, speaker: str = "") -> list[Segment]:
    out = []
    for i, (zh, en) in enumerate(lines):
        out.append(
            Segment(
                start=round(i * step, 2),
                end=round(i * step + step - 0.2, 2),
                text_zh=zh,
                text_en=en,
                lang="zh",
                en_machine=True,
                speaker=speaker,
            )
        )
    return out


def long_segments(count: int = 1500, duration: float = 7200.0) -> list[Segment]:
    step = duration / count
    segs = []
    for i in range(count):
        zh_topic, en_topic = LONG_TOPICS[i % len(LONG_TOPICS)]
        segs.append(
            Segment(
                start=round(i * step, 2),
                end=round(i * step + step - 0.3, 2),
                text_zh=f"第{i + 1}段：我哋今日討論{zh_topic}，以及佢對香港工人嘅影響。",
                text_en=f"Part {i + 1}: today we discuss {en_topic} and how it affects Hong Kong workers.",
                lang="zh" if i % 3 else "en",
                en_machine=bool(i % 3),
            )
        )
    return segs


def make_long_audio(target: Path, seconds: int = 7200) -> Path:
    """A real two-hour MP3 (silence, 8 kbit/s: ~7 MB, made in a few seconds)."""
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp.mp3")
        subprocess.run(
            [
                "ffmpeg",
                "-v",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                "anullsrc=r=8000:cl=mono",
                "-t",
                str(seconds),
                "-c:a",
                "libmp3lame",
                "-b:a",
                "8k",
                str(tmp),
            ],
            check=True,
        )
        tmp.rename(target)
    return target


def build(
    home: Path,
    *,
    long_talk: bool = True,
    long_audio: Path | None = None,
    extra: int = 12,
    engine: str = "whoosh",
) -> DemoArchive:
    """Build the test archive in ``home`` (an empty folder)."""
    settings = load_settings(home)
    cat = Catalog.open(settings)
    arch = DemoArchive(settings)

    # 1. A webinar (audio): the 2013 dock strike.
    dock = cat.create_item(
        title_zh="碼頭工人罷工十周年",
        title_en="Dock strike, ten years on",
        description_zh="二零一三年葵涌貨櫃碼頭罷工十周年網上研討會。",
        description_en="A webinar marking ten years since the 2013 Kwai Chung container terminal strike.",
        collection="webinar",
        recorded_date="2023-03-28",
        speakers=["李卓人", "Lee Cheuk-yan"],
        tags=["dock strike", "碼頭"],
        language="yue",
        visibility="public",
        source_url="https://example.org/webinars/dock-strike-10",
        source_public=True,  # staff checked it: shown below staff (archive.catalog.access)
        is_demo=True,
        chapters=[
            {"start": 0, "title_zh": "開場", "title_en": "Opening"},
            {"start": 6, "title_zh": "工會", "title_en": "The union"},
        ],
    )
    path, sha, size = _store(settings, FIXTURES / "en" / "jfk.flac")
    cat.add_media(
        dock.id,
        role="audio",
        sha256=sha,
        size=size,
        path=path,
        duration=11.0,
        container="flac",
        mime="audio/flac",
        streams=[{"codec_type": "audio", "codec_name": "flac"}],
    )
    cat.add_revision(
        dock.id, _segments(DOCK_LINES, step=1.8, speaker="李卓人"), origin="whisper", model="base"
    )
    arch.ids["dock"] = dock.id

    # 2. An interview (video).
    interview = cat.create_item(
        title_zh="訪問：流亡中的工會組織者",
        title_en="Interview: a union organiser in exile",
        collection="interview",
        recorded_date="2022-11",
        speakers=["Carol Ng"],
        tags=["exile", "collective bargaining"],
        language="en",
        visibility="public",
        is_demo=True,
    )
    path, sha, size = _store(settings, FIXTURES / "video" / "auto-editor_example.mp4")
    cat.add_media(
        interview.id,
        role="original",
        sha256=sha,
        size=size,
        path=path,
        duration=42.45,
        container="mp4",
        mime="video/mp4",
        streams=[
            {"codec_type": "video", "codec_name": "h264"},
            {"codec_type": "audio", "codec_name": "aac"},
        ],
    )
    cat.add_revision(
        interview.id, _segments(INTERVIEW_LINES, step=12.0, speaker="Carol Ng"), origin="whisper"
    )
    arch.ids["interview"] = interview.id

    # 3. A strike anniversary (Cantonese audio), two revisions: citations pin revision 1.
    bar = cat.create_item(
        title_zh="紮鐵工人罷工周年紀念",
        title_en="Bar-benders' strike anniversary",
        collection="strike-anniversary",
        recorded_date="2017",
        speakers=["紮鐵工會"],
        tags=["bar-benders"],
        language="yue",
        visibility="public",
        is_demo=True,
    )
    path, sha, size = _store(settings, FIXTURES / "yue" / "sensevoice_test_yue.wav")
    cat.add_media(
        bar.id,
        role="audio",
        sha256=sha,
        size=size,
        path=path,
        duration=5.148,
        container="wav",
        mime="audio/wav",
        streams=[{"codec_type": "audio"}],
    )
    first = _segments(BAR_LINES, step=1.6)
    cat.add_revision(bar.id, first, origin="whisper")
    edited = [
        s.with_(text_zh=s.text_zh.replace("三十六日", "三十六天"), reviewed=True) for s in first
    ]
    cat.add_revision(bar.id, edited, origin="edit", author="editor", summary="wording")
    arch.ids["bar"] = bar.id

    # 4. Staff only: must never show up for the public, nor its media be served.
    secret = cat.create_item(
        title_zh="內部會議記錄",
        title_en="Internal meeting",
        collection="other",
        recorded_date="2024-01-05",
        visibility="staff",
        language="yue",
    )
    path, sha, size = _store(settings, FIXTURES / "zh" / "sensevoice_test_zh.wav")
    cat.add_media(
        secret.id,
        role="audio",
        sha256=sha,
        size=size,
        path=path,
        duration=5.6,
        container="wav",
        mime="audio/wav",
        streams=[{"codec_type": "audio"}],
    )
    cat.add_revision(
        secret.id,
        _segments([("碼頭罷工內部討論。", "Internal dock strike discussion.")], step=2.0),
        origin="whisper",
    )
    arch.ids["secret"] = secret.id

    # 5. A two-hour talk with 1,500 segments.
    if long_talk:
        audio = make_long_audio(long_audio or (settings.tmp_dir / "long.mp3"))
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
        path, sha, size = _store(settings, audio)
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
        cat.add_revision(talk.id, long_segments(), origin="whisper")
        arch.ids["long"] = talk.id
    # 6. Text only: made from a subtitle file, no recording held.
    text_only = cat.create_item(
        title_zh="2013 年碼頭工人罷工：示範文字",
        title_en="The 2013 dock strike: sample text",
        collection="strike-anniversary",
        recorded_date="2013-05-06",
        language="yue",
        visibility="public",
        is_demo=True,
    )
    cat.add_revision(text_only.id, _segments(DOCK_LINES[:2], step=4.0), origin="subtitles")
    arch.ids["textonly"] = text_only.id

    # 7. Enough short interviews that search results and the browse list have more than one page.
    path, sha, size = _store(settings, FIXTURES / "zh" / "sensevoice_sample.wav")
    for n in range(extra):
        small = cat.create_item(
            title_zh=f"工會口述歷史 第{n + 1}集",
            title_en=f"Union oral history, part {n + 1}",
            collection="interview",
            recorded_date=f"{2010 + n % 10}-0{1 + n % 9}",
            speakers=[f"Speaker {n % 4 + 1}"],
            tags=["oral history"],
            language="zh" if n % 2 else "yue",
            visibility="public",
            is_demo=True,
        )
        cat.add_media(
            small.id,
            role="audio",
            sha256=sha,
            size=size,
            path=path,
            duration=300.0 + 60 * n,
            container="wav",
            mime="audio/wav",
            streams=[{"codec_type": "audio"}],
        )
        cat.add_revision(small.id, _segments(INTERVIEW_LINES[1:], step=3.0), origin="whisper")
        arch.ids[f"extra{n}"] = small.id

    from indexer import SearchIndex

    SearchIndex.open(settings).rebuild(cat, engine=engine)
    cat.close()
    return arch


def build_with_accounts(
    home: Path, accounts: list[tuple[str, str]], password: str, **options: Any
) -> DemoArchive:
    """:func:`build` (with ``options``), then the accounts ``(name, role)``, all with ``password``."""
    from archive.workspace.accounts import add_user

    built = build(home, **options)
    cat = Catalog.open(built.settings)
    try:
        for name, role in accounts:
            add_user(cat, name, role, password, actor="test")
    finally:
        cat.close()
    return built


def name_every_speaker(settings: Settings, cat, item_id: str, name: str) -> None:  # type: ignore[no-untyped-def]
    """Name ``name`` as the item's speaker and the speaker of every line (a new revision), and
    update the search index: the starting point of the withholding tests."""
    from indexer import SearchIndex

    cat.update_item(item_id, speakers=[name])
    segments = cat.get_revision(item_id).segments
    cat.add_revision(item_id, [s.with_(speaker=name) for s in segments], origin="edit")
    SearchIndex.open(settings).update_item(cat, item_id)


# -- running the real portal ---------------------------------------------------------------------
def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen, log: Path, *, timeout: float = 180.0) -> None:
    """Poll ``url``'s health endpoint until it answers 200, bounded by ``timeout``; fail with the
    end of ``log`` if the process exits first or the deadline passes."""
    import time
    import urllib.request

    deadline = time.monotonic() + timeout
    while True:
        assert process.poll() is None, log.read_text(errors="replace")[-3000:]
        assert time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)  # polling a child that is starting, bounded by the deadline


def stop_process_group(process: subprocess.Popen) -> None:
    """Stop a child started with ``start_new_session=True`` and everything it started."""
    import signal

    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


@contextlib.contextmanager
def serving(argv: list[str], *, cwd: Path, env: dict[str, str], log: Path, url: str):  # type: ignore[no-untyped-def]
    """Run ``argv`` (a portal) until its health endpoint at ``url`` answers; stop it afterwards."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            wait_healthy(url, proc, log, timeout=120)
            yield proc
        finally:
            stop_process_group(proc)


class Portal:
    """``archive --home HOME serve --processes N`` in a child process, on a free 127.0.0.1 port:
    one process by default (the tests of pages), N > 1 behind Caddy (tests/test_browser_caddy.py)."""

    def __init__(
        self,
        home: Path,
        *,
        port: int | None = None,
        log: Path | None = None,
        processes: int = 1,
    ) -> None:
        import sys

        self.home = Path(home)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log or (self.home / "portal.log")
        self._log = self.log_path.open("wb")
        archive_cmd = Path(sys.executable).with_name("archive")
        cmd = [str(archive_cmd)] if archive_cmd.exists() else [sys.executable, "-m", "archive"]
        env = dict(os.environ, ARCHIVE_HOME=str(self.home))
        self.process = subprocess.Popen(
            [
                *cmd,
                "--home",
                str(self.home),
                "serve",
                "--port",
                str(self.port),
                "--address",
                "127.0.0.1",
                "--processes",
                str(processes),
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 180.0) -> Portal:
        """Poll the health endpoint until it answers (bounded), or fail with the log."""
        try:
            wait_healthy(self.url, self.process, self.log_path, timeout=timeout)
        except AssertionError as exc:
            self.stop()
            raise RuntimeError(f"the portal did not start: {exc}") from None
        return self

    def stop(self) -> None:
        stop_process_group(self.process)
        self._log.close()

    def __enter__(self) -> Portal:
        return self.wait_ready()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def caddy_in_front(folder: Path, handler: type, **caddyfile: object):  # type: ignore[no-untyped-def]
    """A real Caddy on a free 127.0.0.1 port, configured by the portal's own ``local_caddyfile``
    (with ``caddyfile``'s extra options), in front of a stdlib HTTP server running ``handler``;
    yields Caddy's port. Both stop afterwards."""
    import http.server
    import threading

    from archive.portal.serving import local_caddyfile
    from archive.portal.serving import wait_healthy as caddy_healthy

    upstream = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    port = free_port()
    config = folder / "Caddyfile"
    config.write_text(
        local_caddyfile(
            address="127.0.0.1",
            port=port,
            upstreams=[f"127.0.0.1:{upstream.server_address[1]}"],
            caddy_dir=folder,
            log_file=folder / "caddy.log",
            **caddyfile,  # type: ignore[arg-type]
        )
    )
    env = dict(os.environ, XDG_CONFIG_HOME=str(folder), XDG_DATA_HOME=str(folder))
    proc = subprocess.Popen(
        ["caddy", "run", "--config", str(config), "--adapter", "caddyfile"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        log = folder / "caddy.log"
        assert caddy_healthy(port, lambda: proc.poll() is None, timeout=30), (
            log.read_text() if log.exists() else "caddy did not start"
        )
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        upstream.shutdown()


@contextlib.contextmanager
def in_process(app: object):  # type: ignore[no-untyped-def]
    """Serve ``app`` with uvicorn in a thread, on a 127.0.0.1 socket bound and listening before
    the thread starts: the kernel queues the first connections until uvicorn accepts them, so no
    waiting is needed. Yields the base URL; the server stops afterwards."""
    import socket
    import threading

    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning"))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextlib.contextmanager
def in_process_port(app: object):  # type: ignore[no-untyped-def]
    """:func:`in_process`, yielding the port (for tests that speak raw HTTP to it)."""
    with in_process(app) as url:
        yield int(url.rsplit(":", 1)[1])
