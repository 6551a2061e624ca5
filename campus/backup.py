"""Backups of a SQLite campus, and restoring them.

One .tar.gz holds everything a working campus needs beyond the code and the configuration: the
database (copied with SQLite's online backup API, so it is consistent while the server writes),
the private signing keys (KEYS_DIR), the evidence uploads (UPLOAD_DIR), the stored secret key and
the installation's own notice pages (instance/pages), plus manifest.json with a SHA-256 per
member. A restore (campus.restore) checks every checksum before it touches anything. PostgreSQL
has its own tools (pg_dump; base backups with WAL archiving): see README.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
import tarfile
import tempfile
from collections.abc import Mapping
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from typing import BinaryIO

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

FORMAT = 1
PREFIX = "campus-backup-"
SUFFIX = ".tar.gz"
MANIFEST = "manifest.json"
DATABASE = "database.sqlite"
SECRET_KEY = "secret_key"
KEYS = "keys"
UPLOADS = "uploads"
PAGES = "pages"  # the installation's own notices (instance/pages, campus.notices)
FOLDERS = (KEYS, UPLOADS, PAGES)


class BackupError(Exception):
    """A backup or restore that was refused or failed; the message is for the operator."""


class NotSQLite(BackupError):
    """The database is not a SQLite file: its own tools back it up (exit code 2 in the CLI)."""


@dataclass(frozen=True)
class Locations:
    """Where a campus keeps what a backup carries, read from the configuration in one place."""

    database: Path
    keys_dir: Path
    upload_dir: Path
    instance_path: Path

    @classmethod
    def from_config(cls, config: Mapping[str, Any], instance_path: Path) -> Locations:
        return cls(
            sqlite_file(str(config["SQLALCHEMY_DATABASE_URI"]), instance_path),
            Path(config["KEYS_DIR"]),
            Path(config["UPLOAD_DIR"]),
            instance_path,
        )

    @property
    def secret_key_file(self) -> Path:
        return self.instance_path / "secret_key"  # written by config.stored_secret_key

    def folder(self, name: str) -> Path:
        return {KEYS: self.keys_dir, UPLOADS: self.upload_dir}.get(name) or (
            self.instance_path / name
        )


@dataclass(frozen=True)
class BackupResult:
    path: Path
    manifest: dict[str, Any]


def sqlite_file(database_uri: str, instance_path: Path) -> Path:
    """The SQLite file behind the URI; NotSQLite for anything else."""
    try:
        url = make_url(database_uri)
    except ArgumentError as error:
        raise NotSQLite(f"The database URI cannot be read: {error}") from error
    backend = url.get_backend_name()
    if backend == "postgresql":
        raise NotSQLite(
            "The database is PostgreSQL: back it up with `pg_dump -Fc` and restore it with "
            "`pg_restore` (or base backups with WAL archiving for point-in-time recovery); "
            "see README, Backups. Back up KEYS_DIR and UPLOAD_DIR alongside it."
        )
    if backend != "sqlite":
        raise NotSQLite(f"The database is {backend}, not SQLite: use its own backup tools.")
    database = url.database
    if not database or database == ":memory:" or url.query.get("mode") == "memory":
        raise NotSQLite("The database is in memory: there is no file to back up.")
    if database.startswith("file:"):
        raise NotSQLite("SQLite URI filenames (file:…) are not supported: give a plain path.")
    path = Path(database)
    # Flask-SQLAlchemy reads relative paths from the instance folder.
    return path if path.is_absolute() else instance_path / path


# --- backup ------------------------------------------------------------------------------------


def create_backup(locations: Locations, directory: Path, now: datetime) -> BackupResult:
    """Write `campus-backup-<UTC time>.tar.gz` (mode 600) into `directory`; return it.

    The archive appears under its name only when complete (written aside, then renamed).
    """
    if not locations.database.is_file():
        raise BackupError(f"There is no database at {locations.database}.")
    private_dir(directory)
    target = free_name(directory / f"{PREFIX}{now.strftime('%Y%m%dT%H%M%SZ')}{SUFFIX}")
    partial = directory / f".{target.name}.partial"
    members: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(dir=directory, prefix=".backup-") as work:
        copy = Path(work) / DATABASE
        copy_database(locations.database, copy)
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "created_at": now.isoformat(),
            "campus_version": _campus_version(),
            "migration": _migration(copy),
            "tables": table_counts(copy),
            "folders": list(FOLDERS),
            "members": members,
        }
        try:
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as raw:
                with tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6) as tar:
                    _add_file(tar, copy, DATABASE, members)
                    if locations.secret_key_file.is_file():
                        _add_file(tar, locations.secret_key_file, SECRET_KEY, members)
                    for name in FOLDERS:
                        _add_folder(tar, locations.folder(name), name, members)
                    manifest["private_keys"] = any(m.startswith(KEYS + "/") for m in members)
                    data = json.dumps(manifest, indent=2, sort_keys=True).encode()
                    info = _info(MANIFEST, len(data), int(now.timestamp()))
                    tar.addfile(info, io.BytesIO(data))
                raw.flush()
                os.fsync(raw.fileno())
            os.replace(partial, target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return BackupResult(target, manifest)


def copy_database(source: Path, target: Path) -> None:
    """Copy a live SQLite database with the online backup API, in one step: the copy is one
    consistent snapshot even while other connections write (they wait, or in WAL mode go on)."""
    try:
        with read_only(source) as live, closing(sqlite3.connect(target)) as copy:
            live.backup(copy, sleep=0.05)  # when busy, try again soon
            problems = [row[0] for row in copy.execute("PRAGMA integrity_check")]
    except sqlite3.Error as error:
        raise BackupError(f"Could not copy the database {source}: {error}") from error
    if problems != ["ok"]:
        raise BackupError(f"The copy of {source} fails its integrity check: {problems[:5]}")


def table_counts(database: Path) -> dict[str, int]:
    """Rows per table: in the manifest, so a restore can be compared with what was saved."""
    with read_only(database) as connection:
        names = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        return {
            name: connection.execute(f'SELECT count(*) FROM "{_quoted(name)}"').fetchone()[0]
            for name in names
        }


def prune(directory: Path, keep: int) -> list[Path]:
    """Delete all but the `keep` newest archives this command wrote in `directory`."""
    archives = sorted(
        (p for p in directory.glob(f"{PREFIX}*{SUFFIX}") if p.is_file()),
        key=lambda p: (p.stat().st_mtime, p.name),
    )
    removed = archives[:-keep] if keep > 0 else archives
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


def _add_file(tar: tarfile.TarFile, path: Path, name: str, members: dict[str, Any]) -> None:
    with path.open("rb") as handle:
        status = os.fstat(handle.fileno())
        reader = _Hashing(handle)
        tar.addfile(_info(name, status.st_size, int(status.st_mtime)), reader)
    members[name] = {"sha256": reader.hexdigest(), "size": status.st_size}


def _add_folder(tar: tarfile.TarFile, folder: Path, name: str, members: dict[str, Any]) -> None:
    """Every regular file under `folder` (symbolic links are not followed)."""
    if not folder.is_dir():
        return
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for file_name in sorted(files):
            path = Path(root) / file_name
            if path.is_symlink() or not path.is_file():
                continue
            relative = path.relative_to(folder).as_posix()
            try:
                _add_file(tar, path, f"{name}/{relative}", members)
            except FileNotFoundError:
                continue  # deleted meanwhile (an upload discarded by a failed insert)


def _info(name: str, size: int, mtime: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = mtime
    info.mode = 0o600
    return info


class _Hashing:
    """A file object that hashes what tarfile reads from it."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.digest.update(data)
        return data

    def hexdigest(self) -> str:
        return self.digest.hexdigest()


def _migration(database: Path) -> str | None:
    with read_only(database) as connection:
        try:
            rows = connection.execute("SELECT version_num FROM alembic_version").fetchall()
        except sqlite3.OperationalError:
            return None  # made with create_all, not migrations
    return ",".join(sorted(row[0] for row in rows)) or None


def _campus_version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version

    try:
        return version("campus")
    except PackageNotFoundError:
        return "unknown"


def private_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)


def free_name(path: Path) -> Path:
    """`path`, or `path` with -2, -3, … before its suffixes when it exists already."""
    if not path.exists():
        return path
    stem, dot, suffixes = path.name.partition(".")
    number = 2
    while (candidate := path.with_name(f"{stem}-{number}{dot}{suffixes}")).exists():
        number += 1
    return candidate


def _quoted(name: str) -> str:
    return name.replace('"', '""')


def connect(database: Path, read_only: bool = False) -> closing[sqlite3.Connection]:
    """A connection closed on exit (sqlite3's own context manager only commits)."""
    uri = database.resolve().as_uri() + ("?mode=ro" if read_only else "")
    return closing(sqlite3.connect(uri, uri=True, timeout=30))


def read_only(database: Path) -> closing[sqlite3.Connection]:
    return connect(database, read_only=True)
