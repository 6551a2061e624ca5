"""Restoring a campus backup (campus.backup): check every member, then put each in place.

Nothing is touched until the whole archive is unpacked beside the database and matches its
manifest; what was there before is kept beside, renamed `*.before-restore-<time>`.
"""

from __future__ import annotations

import filecmp
import hashlib
import json
import os
import secrets
import shutil
import sqlite3
import tarfile
import tempfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from pathlib import Path
from pathlib import PurePosixPath
from typing import Any
from typing import BinaryIO

from campus.backup import DATABASE
from campus.backup import FOLDERS
from campus.backup import FORMAT
from campus.backup import MANIFEST
from campus.backup import SECRET_KEY
from campus.backup import BackupError
from campus.backup import Locations
from campus.backup import connect
from campus.backup import free_name
from campus.backup import private_dir
from campus.backup import read_only
from campus.backup import table_counts

CHUNK = 1024 * 1024


@dataclass
class RestoreResult:
    manifest: dict[str, Any]
    kept: list[Path] = field(default_factory=list)  # what was there before, set aside


def verify_archive(archive: Path) -> dict[str, Any]:
    """Check an archive without changing anything; its manifest, or BackupError."""
    with tempfile.TemporaryDirectory(prefix=".campus-check-") as work:
        return extract(archive, Path(work))


def restore_backup(
    archive: Path, locations: Locations, now: datetime, force: bool = False
) -> RestoreResult:
    """Put an archive's database, keys, uploads and secret key in place.

    Everything is unpacked and checked first; a corrupt archive or a database holding data
    (without `force`) changes nothing. What was there before is kept beside, renamed
    `*.before-restore-<time>`. Stop the app servers and workers first.
    """
    parent = locations.database.parent
    private_dir(parent)
    staging = Path(tempfile.mkdtemp(dir=parent, prefix=".campus-restore-"))
    try:
        manifest = extract(archive, staging)
        if not force and has_data(locations.database):
            raise BackupError(
                f"The database {locations.database} already holds data: add --force to replace "
                "it (the current one is kept beside it)."
            )
        stamp = now.strftime("%Y%m%dT%H%M%SZ")
        result = RestoreResult(manifest)
        _keep(result, _replace_database(staging / DATABASE, locations.database, stamp))
        for name in manifest.get("folders", FOLDERS):
            staged = staging / name
            staged.mkdir(mode=0o700, exist_ok=True)
            _keep(result, _replace(staged, locations.folder(name), stamp))
        if (staging / SECRET_KEY).is_file():
            _keep(result, _replace(staging / SECRET_KEY, locations.secret_key_file, stamp))
        return result
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def extract(archive: Path, into: Path) -> dict[str, Any]:
    """Unpack into the empty folder `into` (files 600, folders 700) and check every member
    against the manifest and the database's integrity; the manifest, or BackupError."""
    found: dict[str, str] = {}
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                if member.isdir():
                    continue
                name = _member_name(member.name)
                if not member.isfile():
                    raise BackupError(f"{archive.name}: {member.name} is not a regular file.")
                if name in found:
                    raise BackupError(f"{archive.name}: {name} appears twice.")
                source = tar.extractfile(member)
                assert source is not None  # a regular file
                found[name] = _write_private(source, into / name)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        raise BackupError(f"{archive} is not a readable campus backup: {error}") from error
    manifest = _manifest(archive, into, found)
    listed = manifest["members"]
    missing = sorted(set(listed) - set(found))
    extra = sorted(set(found) - set(listed) - {MANIFEST})
    changed = sorted(n for n in listed if n in found and found[n] != listed[n].get("sha256"))
    if missing or extra or changed or DATABASE not in listed:
        details = "; ".join(
            f"{label}: {', '.join(names[:5])}"
            for label, names in (
                ("missing", missing + ([] if DATABASE in listed else [DATABASE])),
                ("not in the manifest", extra),
                ("checksum mismatch", changed),
            )
            if names
        )
        raise BackupError(f"{archive.name} does not match its manifest ({details}).")
    try:
        with read_only(into / DATABASE) as connection:
            problems = [row[0] for row in connection.execute("PRAGMA integrity_check")]
    except sqlite3.Error as error:
        raise BackupError(f"{archive.name}: the database cannot be opened: {error}") from error
    if problems != ["ok"]:
        raise BackupError(f"{archive.name}: the database fails its integrity check.")
    return manifest


def has_data(database: Path) -> bool:
    """Whether any table holds a row (a new empty file, or only a schema, holds nothing)."""
    if not database.is_file() or database.stat().st_size == 0:
        return False
    try:
        counts = table_counts(database)
    except sqlite3.Error:
        return True  # not a database we can read: never overwrite it unasked
    return any(count for name, count in counts.items() if name != "alembic_version")


def _manifest(archive: Path, into: Path, found: Mapping[str, str]) -> dict[str, Any]:
    if MANIFEST not in found:
        raise BackupError(f"{archive.name} has no {MANIFEST}: not a campus backup.")
    try:
        manifest = json.loads((into / MANIFEST).read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise BackupError(f"{archive.name}: {MANIFEST} cannot be read: {error}") from error
    if (
        not isinstance(manifest, dict)
        or not isinstance(manifest.get("members"), dict)
        or not all(isinstance(entry, dict) for entry in manifest["members"].values())
    ):
        raise BackupError(f"{archive.name}: {MANIFEST} is not a campus backup manifest.")
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{archive.name}: backup format {manifest.get('format')!r} is unknown.")
    folders = manifest.get("folders", list(FOLDERS))
    if not isinstance(folders, list) or not set(folders) <= set(FOLDERS):
        raise BackupError(f"{archive.name}: {MANIFEST} names unknown folders.")
    return manifest


def _member_name(name: str) -> str:
    """Only the names a backup writes: no absolute paths, no `..`, nothing else."""
    path = PurePosixPath(name)
    parts = path.parts
    top_level = len(parts) == 1 and parts[0] in {MANIFEST, DATABASE, SECRET_KEY}
    in_folder = len(parts) > 1 and parts[0] in FOLDERS
    if path.is_absolute() or ".." in parts or not (top_level or in_folder):
        raise BackupError(f"Unexpected member {name!r}: not a campus backup.")
    return path.as_posix()


def _write_private(source: BinaryIO, target: Path) -> str:
    """Write a file with mode 600 (folders 700), fsync it, return its SHA-256.

    Errors reading `source` (a damaged archive) pass through; errors writing (a full disk) are
    told apart as BackupError.
    """
    digest = hashlib.sha256()
    try:
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        out = os.fdopen(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")
    except OSError as error:
        raise BackupError(f"Could not unpack into {target.parent}: {error}") from error
    with out:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            try:
                out.write(chunk)
            except OSError as error:
                raise BackupError(f"Could not unpack into {target.parent}: {error}") from error
        try:
            out.flush()
            os.fsync(out.fileno())
        except OSError as error:
            raise BackupError(f"Could not unpack into {target.parent}: {error}") from error
    return digest.hexdigest()


def _replace_database(new: Path, live: Path, stamp: str) -> Path | None:
    """Rename the restored file onto the live one (atomic); a database with data is kept beside.

    The live database's WAL is checkpointed first and its -wal/-shm files removed: SQLite would
    otherwise apply the old WAL to the new file.
    """
    kept = None
    if live.exists() and has_data(live):
        try:
            with connect(live) as connection:
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error:
            pass  # not readable as a database: it is kept as it is
        kept = free_name(live.with_name(f"{live.name}.before-restore-{stamp}"))
        try:
            os.link(live, kept)
        except OSError:
            shutil.copy2(live, kept)
    for side in ("-wal", "-shm", "-journal"):
        live.with_name(live.name + side).unlink(missing_ok=True)
    os.replace(new, live)
    return kept


def _replace(new: Path, target: Path, stamp: str) -> Path | None:
    """Put a restored file or folder at `target`; a non-empty existing one is kept beside."""
    if new.is_dir() and os.path.ismount(target):
        _merge(new, target)
        return None
    private_dir(target.parent)
    beside = target.with_name(f".{target.name}.restoring-{secrets.token_hex(4)}")
    try:
        os.rename(new, beside)
    except OSError:  # another file system: copy next to the target first
        if new.is_dir():
            shutil.copytree(new, beside)
        else:
            shutil.copy2(new, beside)
    _make_private(beside)
    kept = None
    if target.is_dir() and not target.is_symlink() and not any(target.iterdir()):
        target.rmdir()
    if target.exists() or target.is_symlink():
        kept = free_name(target.with_name(f"{target.name}.before-restore-{stamp}"))
        if target.is_dir():
            os.rename(target, kept)
        elif filecmp.cmp(target, beside, shallow=False):
            kept = None  # the same secret key: nothing to keep
        else:
            try:
                os.link(target, kept)  # the file itself is replaced atomically below
            except OSError:
                shutil.copy2(target, kept)
    os.replace(beside, target)
    return kept


def _merge(new: Path, target: Path) -> None:
    """Into a mount point (a shared KEYS_DIR or UPLOAD_DIR), which cannot be renamed: each file
    is copied beside its place and renamed onto it; files not in the backup stay."""
    for source in sorted(new.rglob("*")):
        if not source.is_file():
            continue
        place = target / source.relative_to(new)
        private_dir(place.parent)
        partial = place.with_name(f".{place.name}.restoring-{secrets.token_hex(4)}")
        shutil.copyfile(source, partial)
        partial.chmod(0o600)
        os.replace(partial, place)


def _make_private(path: Path) -> None:
    if path.is_file():
        path.chmod(0o600)
        return
    path.chmod(0o700)
    for root, dirs, files in os.walk(path):
        for name in dirs:
            (Path(root) / name).chmod(0o700)
        for name in files:
            (Path(root) / name).chmod(0o600)


def _keep(result: RestoreResult, kept: Path | None) -> None:
    if kept is not None:
        result.kept.append(kept)
