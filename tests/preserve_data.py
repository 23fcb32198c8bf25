"""A small real archive for the preservation tests: ingested media, bilingual transcripts,
revisions, a redaction, accounts and an audit log, with "canary" text in everything private.

Media are real files: fixtures from ``../shared/fixtures`` (see ``fixtures/SOURCES.md``) and short
sine tones made by ffmpeg when an item only needs *some* distinct audio.
"""

from __future__ import annotations

import hashlib
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from archive.catalog.db import Catalog
from archive.core.config import Settings
from archive.ingest.intake import IngestOptions, ingest
from archive.ingest.pipeline import reindex_item
from transcripts.segments import Segment

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"

# Text that must never appear in a public mirror: each kind of private thing carries one.
CANARY_STAFF = "CANARYSTAFF7Q"  # title and transcript of a staff-only item
CANARY_MEMBERS = "CANARYMEMBERS4K"  # a members-only item
CANARY_REDACTED_ZH = "秘密罷工計劃甲乙丙"  # a redacted segment of a public item (Traditional)
CANARY_REDACTED_EN = "CANARYREDACTED9X"
CANARY_USER = "canaryuser3m"  # an account
CANARY_REASON = "CANARYREASON5P"  # an audit entry (a redaction reason)

# Public segments: (start, end, Chinese, English). The dock-strike sentence starts at 3 s.
PUBLIC_SEGMENTS = [
    (0.0, 3.0, "大家好，歡迎收聽今日的網上研討會。", "Hello everyone, welcome to today's webinar."),
    (3.2, 6.4, "碼頭工人罷工持續了四十天。", "The dock workers' strike lasted forty days."),
    (6.4, 8.5, CANARY_REDACTED_ZH, CANARY_REDACTED_EN),  # redacted below
    (
        8.5,
        11.0,
        "職工盟宣布解散，許多工會領袖被捕。",
        "The HKCTU announced its dissolution; many union leaders were arrested.",
    ),
]
# Chinese only, no English track: an English query can only find it through the glossary.
WAGE_SEGMENTS = [
    (0.0, 2.0, "今日講勞工權益。", "Today: labour rights."),
    (2.5, 5.0, "最低工資應該每年檢討一次。", ""),
]


@dataclass
class Sample:
    settings: Settings
    catalog: Catalog
    public_id: str = ""  # the dock-strike item, with one redacted segment
    wage_id: str = ""  # public, Chinese-only segment about the minimum wage
    staff_id: str = ""
    members_id: str = ""
    tone_ids: list[str] = field(default_factory=list)
    redacted_uid: str = ""

    @property
    def all_ids(self) -> list[str]:
        return [self.public_id, self.wage_id, self.staff_id, self.members_id, *self.tone_ids]


def tone(path: Path, frequency: int, seconds: float = 2.0) -> Path:
    """A short real audio file: a sine tone (distinct frequencies give distinct bytes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
         f"sine=frequency={frequency}:duration={seconds}", "-ar", "16000", "-ac", "1", str(path)],
        check=True, timeout=60,
    )  # fmt: skip
    return path


def add_item(
    settings: Settings,
    catalog: Catalog,
    media: Path,
    segments: list[tuple[float, float, str, str]],
    *,
    visibility: str = "public",
    title_zh: str = "",
    title_en: str = "",
    collection: str = "webinar",
    date: str = "2023-05-01",
    index: bool = True,
) -> str:
    outcome = ingest(
        settings,
        catalog,
        str(media),
        IngestOptions(
            transcribe=False, visibility=visibility, title_zh=title_zh, title_en=title_en,
            collection=collection, date=date,
        ),
    )  # fmt: skip
    if segments:
        catalog.add_revision(
            outcome.item.id,
            [Segment(a, b, zh, en, "zh") for a, b, zh, en in segments],
            origin="whisper",
        )
    if index:
        reindex_item(settings, catalog, outcome.item.id)
    return outcome.item.id


def make_sample(settings: Settings, catalog: Catalog, tmp: Path, tones: int = 1) -> Sample:
    """Public, members-only and staff-only items; two revisions, a redaction, an account, a series."""
    from archive.hub.series import create_series, set_item_series
    from archive.workspace.accounts import add_user
    from archive.workspace.visibility import redact_segment

    sample = Sample(settings, catalog)
    sample.public_id = add_item(
        settings, catalog, FIXTURES / "en" / "jfk.flac", PUBLIC_SEGMENTS,
        title_zh="碼頭工人罷工十周年", title_en="Dock strike, ten years on",
    )  # fmt: skip
    # A second revision: the older one must survive in backups too.
    revision = catalog.get_revision(sample.public_id)
    catalog.add_revision(
        sample.public_id,
        [s.with_(text_en=s.text_en.replace("forty", "40")) for s in revision.segments],
        origin="edit",
        author="editor",
        summary="numbers",
    )
    sample.redacted_uid = next(
        s.uid
        for s in catalog.get_revision(sample.public_id).segments
        if s.text_en == CANARY_REDACTED_EN
    )
    redact_segment(
        catalog,
        settings,
        sample.public_id,
        uid=sample.redacted_uid,
        actor="editor",
        reason=CANARY_REASON,
    )
    reindex_item(settings, catalog, sample.public_id)
    sample.wage_id = add_item(
        settings, catalog, FIXTURES / "zh" / "sensevoice_test_zh.wav", WAGE_SEGMENTS,
        title_zh="最低工資講座", title_en="Wages talk", collection="interview", date="2019-06-12",
    )  # fmt: skip
    sample.staff_id = add_item(
        settings, catalog, FIXTURES / "zh" / "sensevoice_sample.wav",
        [(0.0, 3.0, f"{CANARY_STAFF} 內部會議紀錄", f"{CANARY_STAFF} internal minutes about the dock strike")],
        visibility="staff", title_zh=f"職員 {CANARY_STAFF}", title_en=f"Staff {CANARY_STAFF}",
    )  # fmt: skip
    sample.members_id = add_item(
        settings, catalog, FIXTURES / "yue" / "sensevoice_test_yue.wav",
        [(0.0, 3.0, f"{CANARY_MEMBERS} 會員通訊", f"{CANARY_MEMBERS} members' bulletin on the dock strike")],
        visibility="members", title_zh=f"會員 {CANARY_MEMBERS}", title_en=f"Members {CANARY_MEMBERS}",
    )  # fmt: skip
    for n in range(tones):
        sample.tone_ids.append(
            add_item(
                settings,
                catalog,
                tone(tmp / f"tone-{n}.wav", 300 + 40 * n),
                [
                    (
                        0.0,
                        1.5,
                        "工會要繼續在海外發聲。",
                        "Unions must keep speaking out from abroad.",
                    )
                ],
                title_en=f"Tone {n}",
                collection="other",
                date=f"2020-01-{n + 1:02d}",
            )  # fmt: skip
        )
    create_series(catalog, "dock-strike", title_zh="碼頭工潮系列", title_en="Dock strike series")
    set_item_series(catalog, sample.public_id, "dock-strike")
    reindex_item(settings, catalog, sample.public_id)
    add_user(catalog, CANARY_USER, "staff", "a long enough password 123", actor="admin")
    return sample


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def home_state(settings: Settings) -> dict[str, str]:
    """Every file of a data folder (but SQLite's transient -wal/-shm) with its sha256, and the
    catalog's logical content: to show that something left the archive untouched."""
    import sqlite3

    state = {}
    for path in sorted(settings.home.rglob("*")):
        if (
            path.is_file()
            and not path.name.endswith(("-wal", "-shm"))
            and path.name != "catalog.sqlite"
        ):
            state[str(path.relative_to(settings.home))] = sha256_file(path)
    conn = sqlite3.connect(f"{settings.catalog_path.as_uri()}?mode=ro", uri=True)
    try:
        state["catalog.sqlite (dump)"] = hashlib.sha256(
            "\n".join(conn.iterdump()).encode()
        ).hexdigest()
    finally:
        conn.close()
    return state


_PRISTINE: dict[int, Path] = {}


def sample_copy(tmp_path: Path, tones: int = 1) -> Sample:
    """A fresh copy of the sample archive in ``tmp_path/home``.

    The sample is built once per test session (ingest runs ffmpeg: seconds per item) and copied for
    each test, which may then change its copy freely.
    """
    import atexit
    import json
    import shutil
    import tempfile

    from archive.core.config import load_settings

    base = _PRISTINE.get(tones)
    if base is None:
        base = Path(tempfile.mkdtemp(prefix="preserve-sample-"))
        atexit.register(shutil.rmtree, base, True)
        settings = load_settings(base / "home").ensure()
        catalog = Catalog.open(settings)
        made = make_sample(settings, catalog, base, tones)
        catalog.close()
        ids = {
            k: getattr(made, k)
            for k in ("public_id", "wage_id", "staff_id", "members_id", "tone_ids", "redacted_uid")
        }
        (base / "sample.json").write_text(json.dumps(ids))
        _PRISTINE[tones] = base
    shutil.copytree(base / "home", tmp_path / "home")
    settings = load_settings(tmp_path / "home").ensure()
    catalog = Catalog.open(settings)
    return Sample(settings, catalog, **json.loads((base / "sample.json").read_text()))


def public_key(settings: Settings) -> str:
    """The public key of the data folder's backup signing key (what `archive backup` prints)."""
    from archive.preservation.bag_signing import KEY_NAME, load_signing_key

    return load_signing_key(settings.home / KEY_NAME).public.text


def rehash(
    bag: Path,
    settings: Settings | None = None,
    *,
    info: dict[str, str] | None = None,
    keep_signature: bool = False,
) -> None:
    """What someone who changed files in a bag does next: re-hash every manifest (bagit.py), so
    that the bag is valid again. The old signature is removed, or with ``keep_signature`` left
    in place (now a stale one). With ``settings``, the bag is signed again with that data
    folder's key: it is then what its key holder would have made (a legitimate older or newer
    bag, or a catalog tampered with before the backup)."""
    import bagit

    from archive.preservation.bag_signing import (
        KEY_NAME,
        SIGNATURE_FILE,
        load_signing_key,
        sign_bag,
    )

    if not keep_signature:
        (bag / SIGNATURE_FILE).unlink(missing_ok=True)
    opened = bagit.Bag(str(bag))
    if info:
        opened.info.update(info)
    opened.save(manifests=True)
    assert opened.is_valid()
    if settings is not None:
        sign_bag(bag, load_signing_key(settings.home / KEY_NAME))
