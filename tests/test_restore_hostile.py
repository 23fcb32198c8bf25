"""Restore given a hostile bag, and file routes given a hostile catalog (issue 11, finding 6).

An adversary who gets hold of a bag can change any file in it and re-hash the manifests: bagit then
calls it valid. Before bags were signed, a trigger planted in the catalog silently undid every new
redaction, and a media row naming ``catalog.sqlite`` made an anonymous feed URL serve the whole
catalog. Here every such bag is refused with one ``error:`` line and nothing written — by its
signature, and (for a catalog changed before the backup was signed, or an old unsigned bag let
through with ``--allow-unsigned``) by the catalog's own check against the schema the migrations
make. And a catalog changed in place, never restored, still gets nothing out of the file routes.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import run_cli
from portal_data import in_process
from preserve_data import public_key, rehash, sample_copy

from archive.core.config import Settings
from archive.preservation.backup import backup

# archive.bag_signing is imported inside the tests that use it, so that this file also runs
# (and fails, test by test) on code from before bags were signed.

SPOKEN = "Unions must keep speaking out from abroad."  # the tone items' only segment


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Settings, dict[str, str]]:
    """A good bag, the data folder that made it (its signing key) and the sample's ids."""
    folder = tmp_path_factory.mktemp("restore-hostile")
    sample = sample_copy(folder)
    try:
        backup(sample.settings, folder / "bag")
    finally:
        sample.catalog.close()
    ids = {"public": sample.public_id, "wage": sample.wage_id, "tone": sample.tone_ids[0]}
    return folder / "bag", sample.settings, ids


@pytest.fixture
def bag(made: tuple[Path, Settings, dict[str, str]], tmp_path: Path) -> Path:
    copy = tmp_path / "bag"
    shutil.copytree(made[0], copy)
    return copy


@pytest.fixture
def key(made: tuple[Path, Settings, dict[str, str]]) -> str:
    return public_key(made[1])


@pytest.fixture
def home(made: tuple[Path, Settings, dict[str, str]]) -> Settings:
    return made[1]


@pytest.fixture
def ids(made: tuple[Path, Settings, dict[str, str]]) -> dict[str, str]:
    return made[2]


def _sql(bag: Path, script: str) -> None:
    conn = sqlite3.connect(bag / "data" / "catalog.sqlite")
    try:
        conn.executescript(script)
        conn.commit()
    finally:
        conn.close()


def _refused(bag: Path, target: Path, *options: str) -> str:
    """Restore must fail with one `error:` line and leave ``target`` exactly as it was."""
    existed = target.exists()
    result = run_cli(
        target.parent / "no-home", "restore", str(bag), "--home", str(target), *options
    )
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    if existed:
        assert list(target.iterdir()) == []  # an empty folder stays empty
    else:
        assert not target.exists()  # a folder that did not exist still does not
    assert not (target.parent / "no-home").exists()
    assert not list(target.parent.glob(f".{target.name}.restoring-*"))
    return lines[0]


def _restores(bag: Path, target: Path, *options: str) -> None:
    result = run_cli(
        target.parent / "no-home", "restore", str(bag), "--home", str(target), *options
    )
    assert result.returncode == 0, result.stderr
    assert (target / "catalog.sqlite").is_file()


# -- the signature ---------------------------------------------------------------------------

TRIGGER = (
    "CREATE TRIGGER keep_public AFTER INSERT ON redactions "
    "BEGIN DELETE FROM redactions WHERE rowid = NEW.rowid; END;"
)


def test_the_right_key_restores_and_the_restored_archive_works(
    bag: Path, key: str, ids: dict[str, str], tmp_path: Path
) -> None:
    target = tmp_path / "restored"
    _restores(bag, target, "--public-key", key)
    # A redaction made in the restored archive holds (no trigger undoes it).
    result = run_cli(target, "redact", ids["tone"], "--at", "0.5", "--reason", "at risk")
    assert result.returncode == 0, result.stderr
    public = run_cli(target, "show", ids["tone"], "--role", "public")
    assert public.returncode == 0 and SPOKEN not in public.stdout
    staff = run_cli(target, "show", ids["tone"])
    assert SPOKEN in staff.stdout


def test_the_public_key_may_be_given_as_a_file_or_in_the_environment(
    bag: Path, home: Settings, key: str, tmp_path: Path
) -> None:
    _restores(bag, tmp_path / "one", "--public-key", str(home.home / "backup-signing.pub"))
    result = run_cli(
        tmp_path / "no-home", "restore", str(bag), "--home", str(tmp_path / "two"),
        env={"ARCHIVE_BACKUP_PUBLIC_KEY": key},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def test_without_a_public_key_nothing_is_restored(bag: Path, tmp_path: Path) -> None:
    line = _refused(bag, tmp_path / "restored")
    assert "--public-key" in line


@pytest.mark.parametrize(
    "change",
    ["a trigger in the catalog", "an item made public", "bag-info", "a media file", "about"],
)
def test_a_bag_rehashed_after_any_change_is_refused_by_its_signature(
    bag: Path, key: str, ids: dict[str, str], tmp_path: Path, change: str
) -> None:
    if change == "a trigger in the catalog":
        _sql(bag, TRIGGER)
    elif change == "an item made public":
        _sql(bag, "UPDATE items SET visibility = 'public'")
    elif change == "a media file":
        victim = sorted((bag / "data" / "media").rglob("*.m4a"))[0]
        victim.write_bytes(victim.read_bytes() + b"\0")
    elif change == "about":
        about = bag / "about-this-bag.txt"
        about.write_text(about.read_text() + "Restore with --allow-unsigned.\n")
    info = {"Archive-Item-Count": "6"} if change == "bag-info" else None
    # The old signature stays in place: bagit.py even lists it in the new tag manifest.
    rehash(bag, info=info, keep_signature=True)
    line = _refused(bag, tmp_path / "restored", "--public-key", key)
    assert "has been changed since it was signed" in line, line


def test_a_bag_whose_signature_was_removed_is_refused(bag: Path, key: str, tmp_path: Path) -> None:
    from archive.preservation.bag_signing import SIGNATURE_FILE

    _sql(bag, TRIGGER)
    rehash(bag)  # and the signature file removed
    assert not (bag / SIGNATURE_FILE).exists()
    line = _refused(bag, tmp_path / "restored", "--public-key", key)
    # Refused without naming the flag that would let it through (issue 18, point 2).
    assert "is not signed" in line and "--allow-unsigned" not in line


def test_a_bag_signed_by_another_key_is_refused(bag: Path, key: str, tmp_path: Path) -> None:
    from archive.preservation.bag_signing import KEY_NAME, create_signing_key, sign_bag

    _sql(bag, TRIGGER)
    rehash(bag)
    theirs = create_signing_key(tmp_path / "their-key" / KEY_NAME)
    sign_bag(bag, theirs)
    line = _refused(bag, tmp_path / "restored", "--public-key", key)
    assert "signed by another key" in line and theirs.public.fingerprint in line


def test_an_untouched_bag_is_refused_with_another_archives_key(bag: Path, tmp_path: Path) -> None:
    from archive.preservation.bag_signing import KEY_NAME, create_signing_key

    other = create_signing_key(tmp_path / "other" / KEY_NAME)
    line = _refused(bag, tmp_path / "restored", "--public-key", other.public.text)
    assert "signed by another key" in line


# -- the catalog, even under a good signature ------------------------------------------------
# Signed again with the archive's own key: what a catalog changed on the server before the backup
# (or a stolen key) gives. The catalog's check against the migrations' schema refuses it.

HOSTILE_SCHEMAS = {
    "trigger": (TRIGGER, "an extra trigger 'keep_public'"),
    "view": ("CREATE VIEW everything AS SELECT * FROM users;", "an extra view 'everything'"),
    "table": ("CREATE TABLE stash (x TEXT);", "an extra table 'stash'"),
    "index": ("CREATE INDEX users_by_hash ON users(password_hash);", "an extra index"),
    "check": (
        """
        ALTER TABLE users RENAME TO users_old;
        CREATE TABLE users (
            username TEXT PRIMARY KEY,
            role TEXT NOT NULL CHECK (role IN ('members', 'staff', 'owner')),
            password_hash TEXT NOT NULL,
            created_at TEXT NOT NULL,
            failed_logins INTEGER NOT NULL DEFAULT 0,
            locked_until TEXT,
            last_login_at TEXT,
            recovery_hash TEXT
        );
        INSERT INTO users SELECT * FROM users_old;
        DROP TABLE users_old;
        """,
        "a changed table 'users'",
    ),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE_SCHEMAS))
@pytest.mark.parametrize("target_state", ["new folder", "empty folder"])
def test_a_signed_catalog_with_another_schema_is_refused_and_nothing_written(
    bag: Path, home: Settings, key: str, tmp_path: Path, kind: str, target_state: str
) -> None:
    script, named = HOSTILE_SCHEMAS[kind]
    _sql(bag, script)
    rehash(bag, home)
    target = tmp_path / "deeper" / "restored"
    if target_state == "empty folder":
        target.mkdir(parents=True)
    line = _refused(bag, target, "--public-key", key)
    assert "is not the schema this software makes" in line and named in line, line
    if target_state == "new folder":
        assert not target.parent.exists()  # not even the parent folder is left behind


@pytest.mark.parametrize(
    "column, value",
    [
        ("media.path", "../catalog.sqlite"),
        ("media.path", "catalog.sqlite"),
        ("media.path", "media/../catalog.sqlite"),
        ("media.path", "ABSOLUTE"),
        ("events.poster_path", "secret.key"),
        ("events.poster_path", "media/ab/not-a-poster.png"),
    ],
)
def test_a_signed_catalog_naming_files_outside_their_folder_is_refused(
    bag: Path,
    home: Settings,
    key: str,
    ids: dict[str, str],
    tmp_path: Path,
    column: str,
    value: str,
) -> None:
    value = str((bag / "data" / "catalog.sqlite").resolve()) if value == "ABSOLUTE" else value
    if column == "media.path":
        _sql(bag, f"UPDATE media SET path = '{value}' WHERE item_id = '{ids['wage']}'")
    else:
        _sql(
            bag,
            "INSERT INTO events (id, uid, start_utc, tz, duration_minutes, poster_path, "
            "visibility, created_at, updated_at) VALUES ('ev1', 'ev1@x', '2026-01-01T10:00:00Z', "
            f"'UTC', 60, '{value}', 'public', '2026-01-01', '2026-01-01')",
        )
    rehash(bag, home)
    line = _refused(bag, tmp_path / "restored", "--public-key", key)
    assert "names files outside their folder" in line and repr(value) in line, line


def test_an_unsigned_bag_let_through_knowingly_still_gets_every_other_check(
    bag: Path, made: tuple[Path, Settings, dict[str, str]], tmp_path: Path
) -> None:
    # A bag from before signing: restorable with the explicit flag, with a warning ...
    plain = tmp_path / "plain"
    shutil.copytree(made[0], plain)
    rehash(plain)
    result = run_cli(
        tmp_path / "no-home", "restore", str(plain), "--home", str(tmp_path / "ok"),
        "--allow-unsigned",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "was not signed" in result.stderr
    # ... but the flag lets nothing else through: the trigger is still found.
    _sql(bag, TRIGGER)
    rehash(bag)
    line = _refused(bag, tmp_path / "restored", "--allow-unsigned")
    assert "an extra trigger 'keep_public'" in line


# -- the files of the bag --------------------------------------------------------------------


def test_a_symlink_in_the_bag_is_refused(bag: Path, key: str, tmp_path: Path) -> None:
    victim = sorted((bag / "data" / "media").rglob("*.m4a"))[0]
    outside = tmp_path / "outside.m4a"
    shutil.copy(victim, outside)  # the same bytes: every checksum still matches
    victim.unlink()
    victim.symlink_to(outside)
    line = _refused(bag, tmp_path / "restored", "--public-key", key)
    assert f"{victim.relative_to(bag).as_posix()} is a symbolic link" in line


def test_a_fifo_in_the_bag_is_refused(bag: Path, key: str, tmp_path: Path) -> None:
    os.mkfifo(bag / "data" / "media" / "pipe")
    line = _refused(bag, tmp_path / "restored", "--public-key", key)
    assert "data/media/pipe is not a regular file" in line


def test_an_extra_tag_file_is_refused(bag: Path, key: str, tmp_path: Path) -> None:
    (bag / "fetch.txt").write_text("http://tracker.example/x 10 data/media/x\n")
    line = _refused(bag, tmp_path / "restored", "--public-key", key)
    assert "fetch.txt" in line and "never has" in line


# -- serving a catalog changed in place (no restore involved) --------------------------------


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Settings, dict[str, str]]]:
    """A live archive (never restored) with one public event whose poster is a real PNG."""
    from PIL import Image

    from archive.hub.events import create_event

    sample = sample_copy(tmp_path)
    poster = tmp_path / "poster.png"
    Image.new("RGB", (8, 8), (200, 30, 30)).save(poster)
    try:
        create_event(
            sample.settings, sample.catalog, title_en="Vigil", start="2026-06-04 20:00",
            tz="Asia/Hong_Kong", duration_minutes=60, poster=poster, visibility="public",
        )  # fmt: skip
    finally:
        sample.catalog.close()
    yield sample.settings, {"wage": sample.wage_id}


# ("../catalog.sqlite" is outside the data folder itself: it was refused before, and is now at
# restore, test above; "media/../catalog.sqlite" resolves inside it and was served.)
@pytest.mark.parametrize(
    "where", ["catalog.sqlite", "media/../catalog.sqlite", "absolute", "symlink"]
)
def test_file_routes_answer_404_for_a_catalog_path_outside_its_folder(
    served: tuple[Settings, dict[str, str]], where: str
) -> None:
    from starlette.applications import Starlette

    from archive.catalog.access import Viewer
    from archive.portal.routes.feeds import feed_routes
    from archive.portal.routes.files import media_url, routes

    settings, ids = served
    home = settings.home
    catalog_file = (home / "catalog.sqlite").resolve()
    conn = sqlite3.connect(home / "catalog.sqlite")
    try:
        event_id = conn.execute("SELECT id FROM events").fetchone()[0]
        with in_process(Starlette(routes=[*routes(settings), *feed_routes(settings)])) as base:
            # The control: the routes serve the real files before the catalog is changed.
            assert _get(f"{base}/feeds/media/{ids['wage']}.m4a")[0] == 200
            assert _get(f"{base}/feeds/posters/{event_id}")[0] == 200
            if where == "absolute":
                path = str(catalog_file)
            elif where == "symlink":
                (home / "media" / "ab").mkdir(exist_ok=True)
                (home / "media" / "ab" / "link.m4a").symlink_to(catalog_file)
                (home / "media" / "posters" / "link.png").symlink_to(catalog_file)
                path = "media/ab/link.m4a"
            else:
                path = where
            poster = "media/posters/link.png" if where == "symlink" else path
            with conn:
                conn.execute(
                    "UPDATE media SET path = ? WHERE item_id = ? AND role = 'audio'",
                    (path, ids["wage"]),
                )
                conn.execute("UPDATE events SET poster_path = ?", (poster,))
            token_url = base + media_url(settings, ids["wage"], "audio", Viewer("public"))
            for url in (
                f"{base}/feeds/media/{ids['wage']}.m4a",
                f"{base}/feeds/posters/{event_id}",
                token_url,
            ):
                status, body = _get(url)
                assert status == 404, (url, status)
                assert b"SQLite format" not in body
    finally:
        conn.close()


# -- backing up a catalog changed in place ---------------------------------------------------


@pytest.mark.parametrize("kind", ["trigger", "path"])
def test_backup_refuses_to_sign_a_live_catalog_that_restore_would_refuse(
    tmp_path: Path, kind: str
) -> None:
    sample = sample_copy(tmp_path)
    sample.catalog.close()
    home = sample.settings.home
    conn = sqlite3.connect(home / "catalog.sqlite")
    with conn:
        if kind == "trigger":
            conn.execute(TRIGGER.rstrip(";"))
        else:
            conn.execute(
                "UPDATE media SET path = 'catalog.sqlite' WHERE item_id = ?", (sample.wage_id,)
            )
    conn.close()
    result = run_cli(home, "backup", str(tmp_path / "bag"))
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "no backup was made" in lines[0]
    assert ("an extra trigger 'keep_public'" if kind == "trigger" else "'catalog.sqlite'") in lines[
        0
    ]
    assert not (tmp_path / "bag").exists()
    assert not (tmp_path / "bag.incomplete").exists()
    assert not (home / "backup-signing.key").exists()  # a failed first backup makes no key
