"""`flask campus backup|restore`: a SQLite campus with its keys, uploads and secret key."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import tarfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from campus import create_app
from campus.auth.models import Organisation
from campus.auth.models import User
from campus.backup import Locations
from campus.backup import create_backup
from campus.backup import table_counts
from campus.backup_cli import backup_command
from campus.backup_cli import restore_command
from campus.badges import ob2
from campus.badges import verify
from campus.badges.applications import apply_for_badge
from campus.badges.awarding import award
from campus.badges.issuers import IssuingContext
from campus.badges.issuers import get_badge
from campus.badges.models import Assertion
from campus.badges.models import AwardSource
from campus.badges.models import BadgeApplication
from campus.badges.models import SigningKey
from campus.config import stored_secret_key
from campus.extensions import db
from campus.paths.uploads import EvidenceFile
from campus.paths.uploads import UploadRules
from tests.conftest import BASE_URL
from tests.conftest import FAST_HASH
from tests.conftest import TEST_BADGES
from tests.conftest import TEST_CONTENT
from tests.conftest import load_test_content
from tests.conftest import now

EVIDENCE = b"My portfolio, page one.\n" * 100
PRIVACY = "# Privacy\n\nThe controller is Test College.\n"
NARRATIVE = "I planned and ran a module with my students and wrote down what worked."


def campus_at(root: Path) -> Flask:
    """An app whose database, keys, uploads and instance folder all live under `root`."""
    root.mkdir(mode=0o700, exist_ok=True)
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{root / 'campus.sqlite'}",
            "PASSWORD_HASH_METHOD": FAST_HASH,
            "CONTENT_DIR": str(TEST_CONTENT),
            "BADGES_DIR": str(TEST_BADGES),
            "UPLOAD_DIR": str(root / "uploads"),
            "MAIL_DIR": str(root / "mail"),
            "KEYS_DIR": str(root / "keys"),
            "BASE_URL": BASE_URL,
        }
    )
    app.instance_path = str(root)
    return app


def build_campus(app: Flask) -> None:
    """Content, two people, a signed badge (so a key exists) and an application with a file."""
    with app.app_context():
        db.create_all()
        load_test_content(app)
        org = Organisation(name="Test College", slug="test-college")
        db.session.add(org)
        db.session.flush()
        people = [
            User(
                email=f"{name}@example.org",
                name=name.title(),
                password_hash="x",
                organisation_id=org.id,
                email_verified_at=now(),
            )
            for name in ("anna", "bertil")
        ]
        db.session.add_all(people)
        db.session.flush()
        context = IssuingContext.from_config(app.config)
        award(people[0], get_badge("reviewed"), context, now(), AwardSource.REVIEW)
        upload = EvidenceFile("portfolio.txt", io.BytesIO(EVIDENCE))
        rules = UploadRules.from_config(app.config)
        apply_for_badge(people[1], get_badge("reviewed"), NARRATIVE, None, upload, rules, now())
        db.session.commit()
    stored_secret_key(Path(app.instance_path))
    (Path(app.instance_path) / "pages").mkdir()
    (Path(app.instance_path) / "pages" / "privacy.en.md").write_text(PRIVACY)


def rows(database: Path) -> dict[str, Any]:
    """What a restore must bring back: row counts and a few rows in full."""
    with sqlite3.connect(database) as connection:
        return {
            "counts": table_counts(database),
            "users": connection.execute(
                f"SELECT id, email FROM {User.__tablename__} ORDER BY id"
            ).fetchall(),
            "assertions": connection.execute(
                f"SELECT uuid, jws, recipient_hash FROM {Assertion.__tablename__}"
            ).fetchall(),
            "keys": connection.execute(
                f"SELECT kid, public_pem FROM {SigningKey.__tablename__}"
            ).fetchall(),
            "applications": connection.execute(
                f"SELECT stored_name, file_size FROM {BadgeApplication.__tablename__}"
            ).fetchall(),
        }


def files(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in folder.iterdir()}


def tree(root: Path) -> dict[str, tuple[int, str]]:
    """Every file and folder under `root`: mode and content hash (to show nothing changed)."""
    return {
        str(path.relative_to(root)): (
            path.stat().st_mode & 0o777,
            hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "",
        )
        for path in sorted(root.rglob("*"))
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One campus built for the module; each test gets a copy (content sync and keys are slow)."""
    root = tmp_path_factory.mktemp("built") / "campus"
    app = campus_at(root)
    build_campus(app)
    with app.app_context():
        db.engine.dispose()
    return root


@pytest.fixture
def source(built: Path, tmp_path: Path) -> Flask:
    shutil.copytree(built, tmp_path / "one")  # modes too (copy2)
    return campus_at(tmp_path / "one")


@pytest.fixture
def archive(source: Flask, tmp_path: Path) -> Path:
    result = source.test_cli_runner().invoke(backup_command, ["--dir", str(tmp_path / "backups")])
    assert result.exit_code == 0, result.output
    assert "contains the private signing keys" in result.output
    [path] = (tmp_path / "backups").glob("campus-backup-*.tar.gz")
    assert path.stat().st_mode & 0o777 == 0o600
    return path


def test_restore_into_a_fresh_instance_brings_the_campus_back(
    source: Flask, archive: Path, tmp_path: Path
) -> None:
    one = tmp_path / "one"
    before = rows(one / "campus.sqlite")
    keys = files(one / "keys")
    [upload] = (one / "uploads").iterdir()
    assert keys and before["counts"][User.__tablename__] == 2 and before["assertions"]
    assert before["applications"] == [(upload.name, len(EVIDENCE))]
    with tarfile.open(archive) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert manifest["tables"] == before["counts"] and manifest["private_keys"] is True
    assert set(manifest["members"]) == {
        "database.sqlite",
        "secret_key",
        f"uploads/{upload.name}",
        "pages/privacy.en.md",
        *(f"keys/{name}" for name in keys),
    }

    target = campus_at(tmp_path / "two")
    result = target.test_cli_runner().invoke(restore_command, [str(archive)])

    assert result.exit_code == 0, result.output
    two = tmp_path / "two"
    assert rows(two / "campus.sqlite") == before
    assert files(two / "keys") == keys
    assert {(two / "keys" / name).stat().st_mode & 0o777 for name in keys} == {0o600}
    assert (two / "keys").stat().st_mode & 0o777 == 0o700
    restored_upload = two / "uploads" / upload.name
    assert restored_upload.read_bytes() == EVIDENCE
    assert restored_upload.stat().st_mode & 0o777 == 0o600
    assert (two / "secret_key").read_text() == (one / "secret_key").read_text()
    page = target.test_client().get("/about/privacy", headers={"Accept-Language": "en"})
    assert "The controller is Test College." in page.get_data(as_text=True)
    assert (two / "campus.sqlite").stat().st_mode & 0o777 == 0o600
    assert not list(two.glob(".campus-restore-*")) and "Kept" not in result.output
    with target.app_context():
        urls = ob2.Urls(BASE_URL)
        [(_uuid, jws, _hash)] = before["assertions"]
        assert verify.verify_text(jws, urls, now(), "anna@example.org").valid
        # The restored private key signs: a new award verifies against the restored public key.
        bertil = db.session.execute(db.select(User).filter_by(email="bertil@example.org")).scalar()
        context = IssuingContext.from_config(target.config)
        fresh = award(bertil, get_badge("basics"), context, now(), AwardSource.BULK)
        assert f"{fresh.assertion.signing_key.kid}.pem" in keys
        assert verify.verify_text(fresh.assertion.jws, urls, now()).valid
        assert files(two / "keys") == keys  # no new key was needed


def test_restore_in_place_needs_force_and_keeps_what_was_there(
    source: Flask, archive: Path, tmp_path: Path
) -> None:
    one = tmp_path / "one"
    before = rows(one / "campus.sqlite")
    keys = files(one / "keys")
    [upload] = (one / "uploads").iterdir()
    with source.app_context():  # after the backup: a new person, a lost key, a lost file
        db.session.execute(db.delete(BadgeApplication))
        db.session.add(
            User(email="late@example.org", name="Late", password_hash="x", organisation_id=1)
        )
        db.session.commit()
    shutil.rmtree(one / "keys")
    upload.unlink()
    changed = tree(one)
    runner = source.test_cli_runner()

    refused = runner.invoke(restore_command, [str(archive)])

    assert refused.exit_code == 1 and "--force" in refused.output
    assert "Traceback" not in refused.output and tree(one) == changed

    forced = runner.invoke(restore_command, [str(archive), "--force"])

    assert forced.exit_code == 0, forced.output
    assert rows(one / "campus.sqlite") == before
    assert files(one / "keys") == keys
    assert {(one / "keys" / name).stat().st_mode & 0o777 for name in keys} == {0o600}
    assert upload.read_bytes() == EVIDENCE
    [kept] = one.glob("campus.sqlite.before-restore-*")
    assert f"Kept what was there before: {kept}" in forced.output
    assert rows(kept)["counts"][User.__tablename__] == 3  # the replaced database, intact
    with source.app_context():  # the app's own engine sees the restored file
        emails = db.session.execute(db.select(User.email)).scalars().all()
        assert sorted(emails) == ["anna@example.org", "bertil@example.org"]


def keep_writing(database: Path, started: threading.Event, stop: threading.Event) -> None:
    """Each transaction adds a row and counts it: a torn copy would disagree."""
    with sqlite3.connect(database, timeout=30) as connection:
        connection.execute("PRAGMA synchronous=OFF")  # as fast as it can, to collide
        while not stop.is_set():
            connection.execute("INSERT INTO ledger (body) VALUES (?)", (bytes(4096),))
            connection.execute("UPDATE total SET n = n + 1")
            connection.commit()
            started.set()


@pytest.mark.parametrize("journal_mode", ["delete", "wal"])
def test_backup_is_consistent_while_the_server_writes(journal_mode: str, tmp_path: Path) -> None:
    database = tmp_path / "live.sqlite"
    with sqlite3.connect(database) as connection:
        connection.execute(f"PRAGMA journal_mode={journal_mode}")
        connection.execute("CREATE TABLE ledger (id INTEGER PRIMARY KEY, body BLOB)")
        connection.execute("CREATE TABLE total (n INTEGER)")
        connection.execute("INSERT INTO total VALUES (500)")
        connection.executemany("INSERT INTO ledger (body) VALUES (?)", [(bytes(4096),)] * 500)
    started, stop = threading.Event(), threading.Event()
    writer = threading.Thread(target=keep_writing, args=(database, started, stop))
    writer.start()
    locations = Locations(database, tmp_path / "no-keys", tmp_path / "no-uploads", tmp_path)
    try:
        assert started.wait(10), "the writer never wrote"
        results = [create_backup(locations, tmp_path / "b", now()) for _ in range(3)]
    finally:
        stop.set()
        writer.join()
    for result in results:
        with tarfile.open(result.path) as tar:
            tar.extract("database.sqlite", tmp_path / result.path.name)
        copy = tmp_path / result.path.name / "database.sqlite"
        with sqlite3.connect(copy) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            count = connection.execute("SELECT count(*) FROM ledger").fetchone()[0]
            assert connection.execute("SELECT n FROM total").fetchone()[0] == count
        assert result.manifest["tables"]["ledger"] == count > 500
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT count(*) FROM ledger").fetchone()[0] >= count
    assert len({r.path for r in results}) == 3  # one second, three names


def rewrite(archive: Path, target: Path, change: Callable[[str, bytes], tuple[str, bytes]]) -> Path:
    """A well-formed tar.gz whose members went through `change` (the manifest is not updated)."""
    with tarfile.open(archive) as tar, tarfile.open(target, "w:gz") as out:
        for member in tar:
            data = tar.extractfile(member).read()  # type: ignore[union-attr]
            name, data = change(member.name, data)
            info = tarfile.TarInfo(name)
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))
    return target


def flip_byte(archive: Path, target: Path) -> Path:
    data = bytearray(archive.read_bytes())
    data[200] ^= 0xFF
    target.write_bytes(data)
    return target


UNREADABLE = "not a readable campus backup"
CORRUPTIONS: dict[str, tuple[Callable[[Path, Path], Path], str]] = {
    "truncated": (
        lambda a, t: t.write_bytes(a.read_bytes()[: a.stat().st_size // 2]) and t,
        UNREADABLE,
    ),
    "flipped byte": (flip_byte, UNREADABLE),
    "not an archive": (lambda a, t: t.write_text("hello") and t, UNREADABLE),
    "tampered upload": (
        lambda a, t: rewrite(a, t, lambda n, d: (n, d.replace(b"page one", b"page two"))),
        "checksum mismatch: uploads/",
    ),
    "path outside": (
        lambda a, t: rewrite(a, t, lambda n, d: (n.replace("keys/", "keys/../../"), d)),
        "Unexpected member 'keys/../../",
    ),
    "no manifest": (
        lambda a, t: rewrite(a, t, lambda n, d: (n.replace(".json", ".json.bak"), d)),
        "Unexpected member 'manifest.json.bak'",
    ),
}


def test_a_corrupt_archive_is_refused_and_nothing_changes(archive: Path, tmp_path: Path) -> None:
    target = campus_at(tmp_path / "two")
    (tmp_path / "two" / "keys").mkdir(mode=0o700)
    (tmp_path / "two" / "keys" / "other.pem").write_text("a key already here")
    before = tree(tmp_path / "two")
    runner = target.test_cli_runner()
    for label, (corrupt, message) in CORRUPTIONS.items():
        bad = corrupt(archive, tmp_path / f"{label}.tar.gz")

        result = runner.invoke(restore_command, [str(bad), "--force"])

        assert result.exit_code == 1, (label, result.output)
        assert message in result.output, (label, result.output)
        assert result.output.startswith("Error: ") and "Traceback" not in result.output
        assert tree(tmp_path / "two") == before, label
        assert not list(tmp_path.glob("*.pem"))
        checked = runner.invoke(restore_command, [str(bad), "--check"])
        assert checked.exit_code == 1 and message in checked.output
    good = runner.invoke(restore_command, [str(archive), "--check"])
    assert good.exit_code == 0 and "all checksums match" in good.output


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("postgresql+psycopg://campus@127.0.0.1:9/campus", "pg_dump -Fc"),
        ("sqlite://", "in memory"),
    ],
)
def test_other_databases_get_a_pointer_and_exit_code_2(
    uri: str, message: str, tmp_path: Path
) -> None:
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": uri})
    app.instance_path = str(tmp_path)
    runner = app.test_cli_runner()
    for command, args in ((backup_command, []), (restore_command, [__file__])):
        result = runner.invoke(command, args)
        assert result.exit_code == 2, result.output
        assert message in result.output and "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_keep_prunes_older_archives(source: Flask, tmp_path: Path) -> None:
    runner = source.test_cli_runner()
    folder = tmp_path / "kept"
    for _ in range(3):
        assert runner.invoke(backup_command, ["--dir", str(folder), "--keep", "2"]).exit_code == 0
    assert len(list(folder.glob("campus-backup-*.tar.gz"))) == 2
    assert [p for p in folder.iterdir() if p.name.startswith(".")] == []


def test_a_mounted_upload_folder_is_filled_in_place(
    archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shared mount cannot be renamed away: its files are replaced one by one, others stay."""
    uploads = tmp_path / "two" / "uploads"
    uploads.mkdir(parents=True, mode=0o700)
    (uploads / "newer.pdf").write_bytes(b"uploaded after the backup")
    real_ismount = os.path.ismount
    monkeypatch.setattr(
        os.path, "ismount", lambda path: Path(path) == uploads or real_ismount(path)
    )
    target = campus_at(tmp_path / "two")

    result = target.test_cli_runner().invoke(restore_command, [str(archive)])

    assert result.exit_code == 0, result.output
    [restored] = [p for p in uploads.iterdir() if p.name != "newer.pdf"]
    assert restored.read_bytes() == EVIDENCE and restored.stat().st_mode & 0o777 == 0o600
    assert (uploads / "newer.pdf").read_bytes() == b"uploaded after the backup"
    assert not list(tmp_path.glob("two/uploads.before-restore-*"))
