"""The portal works installed from a wheel, and as ``streamlit run streamlit_app.py``.

1. **Installed.** The project's tracked files are copied out of the checkout and built into a wheel
   (``pip wheel --no-deps``; setuptools comes from the package registry or pip's cache). A fresh
   venv is made outside the checkout and the wheel is installed into it, not editable
   (``pip install --no-deps --no-index WHEEL``). Its dependencies are not installed again (about
   1.5 GB: minutes, and the registry, for every run): one ``.pth`` line in the new venv appends the
   test venv's ``site-packages`` to its ``sys.path``. Python reads the ``.pth`` files only of its
   own site folders, so the test venv's editable install (a ``.pth`` that imports a finder pointing
   at a checkout) stays inert, and the venv's own ``archive`` comes first. The test proves it:
   in the new venv, with no ``PYTHONPATH``, ``archive``, ``indexer`` and ``transcripts`` are
   imported from the venv, no ``sys.path`` entry is inside the checkout, and no editable finder is
   loaded. The catalog folder of the installed package is made immutable (as a read-only install
   is), so the Chinese interface proves the translations compiled into the user's cache.

   Then ``<venv>/bin/archive --home HOME serve --no-worker`` runs from a folder outside the
   checkout, and headless Chromium opens an item: the transcript's rows appear (the
   ``/files/transcript/`` route), the player's media request answers ``206 Partial Content``
   (``/files/media/``) and the page carries the Content-Security-Policy.

2. **``streamlit run streamlit_app.py``** from the checkout, ``ARCHIVE_HOME`` set: the same check.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import portal_data
import pytest
from portal_harness import RecordedSession, launch_chromium, require_chromium

pytestmark = [pytest.mark.browser, pytest.mark.wheel]

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts" / "installed"
# The interface's own words on the item page, in Chinese: the transcript's search box.
FIND_IN_TRANSCRIPT_ZH = "在文字稿中尋找"


def _env(**extra: str) -> dict[str, str]:
    """This process's environment without anything that would put the checkout on the path."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(extra)
    return env


def _run(argv: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, capture_output=True, text=True, check=False, **kwargs)
    assert done.returncode == 0, (argv, done.stdout[-3000:], done.stderr[-3000:])
    return done


def _copy_sources(target: Path) -> None:
    """The files git knows (tracked, or new and not ignored): no build/, .venv/, *.mo, caches."""
    listed = _run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT
    ).stdout
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


@contextmanager
def _immutable(folder: Path) -> Iterator[None]:
    """``folder`` read-only even for root (an immutable folder), checked by trying to write."""
    folder.chmod(0o555)
    if os.getuid() == 0:
        _run(["chattr", "+i", str(folder)])
    try:
        with pytest.raises(OSError):
            (folder / "probe").write_bytes(b"")
        yield
    finally:
        if os.getuid() == 0:
            _run(["chattr", "-i", str(folder)])
        folder.chmod(0o755)


def _plays_an_item(browser, url: str, item_id: int, shot: str) -> None:
    """Open the item in Chinese: transcript rows, a 206 media response, the CSP, Chinese chrome."""
    s = RecordedSession(browser, locale="zh-HK")
    page = s.page
    try:
        with page.expect_response(lambda r: "/files/media/" in r.url, timeout=60_000) as media:
            document = page.goto(f"{url}/item?item={item_id}&lang=zh")
            assert document is not None and document.status == 200
            csp = document.headers.get("content-security-policy", "")
            assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, csp
            page.locator(".hkp-row").first.wait_for(timeout=60_000)
        assert media.value.status == 206, (media.value.url, media.value.status)
        assert media.value.headers.get("content-range", "").startswith("bytes 0-")
        rows = page.evaluate(
            "() => { const h = [...document.querySelectorAll('*')].find(e => e.shadowRoot && "
            "e.shadowRoot.querySelector('.hkp')); return h ? "
            "h.shadowRoot.querySelectorAll('.hkp-row').length : 0; }"
        )
        assert rows > 0
        assert page.get_by_text("The transcript could not be loaded").count() == 0
        page.get_by_label(FIND_IN_TRANSCRIPT_ZH).wait_for()
        page.screenshot(path=str(ARTIFACTS / f"{shot}.png"))
        assert not s.errors, s.errors
        assert not s.outside_requests(), s.outside_requests()
    finally:
        s.close()


@pytest.fixture(scope="module")
def browser():
    require_chromium()
    with launch_chromium(ARTIFACTS, fresh=True) as chromium:
        yield chromium


@pytest.fixture(scope="module")
def archive_home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    home = tmp_path_factory.mktemp("installed-home")
    arch = portal_data.build(home, long_talk=False, extra=0)
    return home, arch.ids["dock"]


def test_the_installed_wheel_serves_the_portal_from_another_folder(tmp_path, archive_home, browser):
    home, item_id = archive_home
    assert not tmp_path.resolve().is_relative_to(ROOT)
    timings: dict[str, float] = {}

    started = time.monotonic()
    source = tmp_path / "source"
    _copy_sources(source)
    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(source)])
    (wheel,) = dist.glob("hk_labour_archive-*.whl")
    timings["wheel build"] = time.monotonic() - started

    started = time.monotonic()
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    python = venv / "bin" / "python"
    venv_site = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            env=_env(),
        ).stdout.strip()
    )
    dependencies = sysconfig.get_paths()["purelib"]  # this (test) venv's site-packages
    # (In CI the test venv lives inside the checkout, as .venv/: what matters is that it holds
    # none of our packages itself; its editable install works through a .pth file and a finder,
    # which Python does not read in a folder appended by a .pth line.)
    assert not [
        n for n in ("archive", "indexer", "transcripts") if (Path(dependencies) / n).exists()
    ]
    (venv_site / "zz_test_dependencies.pth").write_text(dependencies + "\n")
    _run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
        env=_env(),
    )
    timings["venv + install"] = time.monotonic() - started

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    probe = _run(
        [
            str(python),
            "-c",
            "import json, sys, archive, indexer, transcripts, archive.portal; "
            "print(json.dumps({'files': [archive.__file__, indexer.__file__, "
            "transcripts.__file__], 'path': sys.path, 'modules': sorted(sys.modules)}))",
        ],
        cwd=elsewhere,
        env=_env(),
    )
    seen = json.loads(probe.stdout.strip().splitlines()[-1])
    for file in seen["files"]:
        assert Path(file).resolve().is_relative_to(venv_site.resolve()), file
    deps = Path(dependencies).resolve()
    from_checkout = [
        p
        for p in seen["path"]
        if p and Path(p).resolve().is_relative_to(ROOT) and Path(p).resolve() != deps
    ]
    assert not from_checkout, from_checkout
    assert not [m for m in seen["modules"] if "editable" in m], seen["modules"]
    installed_po = venv_site / "archive" / "portal" / "locales" / "zh_Hant_HK" / "LC_MESSAGES"
    assert (installed_po / "messages.po").is_file()
    assert not (installed_po / "messages.mo").exists()  # the wheel carries no compiled catalog
    for shipped in (
        "portal/views/item.py",
        "portal/navigation.py",
        "portal/portal_player.js",
        "portal/templates/proxy.caddy",
        "portal/templates/Caddyfile.deploy",
    ):
        assert (venv_site / "archive" / shipped).is_file(), shipped

    port = portal_data.free_port()
    url = f"http://127.0.0.1:{port}"
    cache = tmp_path / "cache"
    started = time.monotonic()
    with (
        _immutable(installed_po),
        portal_data.serving(
            [
                str(venv / "bin" / "archive"),
                "--home",
                str(home),
                "serve",
                "--port",
                str(port),
                "--address",
                "127.0.0.1",
                "--no-worker",
            ],
            cwd=elsewhere,
            env=_env(XDG_CACHE_HOME=str(cache)),
            log=tmp_path / "portal.log",
            url=url,
        ),
    ):
        timings["serve start"] = time.monotonic() - started
        _plays_an_item(browser, url, item_id, "installed-item-zh")
    assert list(cache.glob("hk-labour-archive/locales-*/zh_Hant_HK/LC_MESSAGES/messages.mo"))
    print("timings (s):", {k: round(v, 1) for k, v in timings.items()})


def test_streamlit_run_streamlit_app_serves_the_complete_portal(tmp_path, archive_home, browser):
    home, item_id = archive_home
    port = portal_data.free_port()
    url = f"http://127.0.0.1:{port}"
    with portal_data.serving(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "streamlit_app.py",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
        ],
        cwd=ROOT,
        env=dict(os.environ, ARCHIVE_HOME=str(home)),
        log=tmp_path / "portal.log",
        url=url,
    ):
        _plays_an_item(browser, url, item_id, "streamlit-run-item-zh")
