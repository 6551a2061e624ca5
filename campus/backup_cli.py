"""`flask campus backup` and `flask campus restore`: a SQLite campus with its keys and uploads.

PostgreSQL is refused with exit code 2 and a pointer to pg_dump/pg_restore: its own tools do it
better (consistent dumps, point-in-time recovery). See campus.backup for what an archive holds.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from campus.backup import BackupError
from campus.backup import Locations
from campus.backup import NotSQLite
from campus.backup import create_backup
from campus.backup import prune
from campus.clock import utcnow
from campus.restore import restore_backup
from campus.restore import verify_archive

KEYS_WARNING = (
    "Warning: the archive contains the private signing keys and the secret key. Keep it as "
    "private as the server itself (it is mode 600): encrypted, off this machine."
)


def _locations() -> Locations:
    """The app's locations; NotSQLite ends the command with exit code 2, never a traceback."""
    try:
        return Locations.from_config(current_app.config, Path(current_app.instance_path))
    except NotSQLite as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(2)


def _fail(error: Exception) -> None:
    click.echo(f"Error: {error}", err=True)
    sys.exit(1)


@click.command("backup")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the archive (default: instance/backups).",
)
@click.option(
    "--keep",
    type=click.IntRange(min=1),
    help="Afterwards delete older archives in the folder, keeping this many newest.",
)
@with_appcontext
def backup_command(directory: Path | None, keep: int | None) -> None:
    """Back up a SQLite campus: database (online), keys, uploads, secret key.

    Safe while the server runs: SQLite's online backup API copies one consistent snapshot.
    """
    locations = _locations()
    directory = directory or Path(current_app.instance_path) / "backups"
    try:
        result = create_backup(locations, directory, utcnow())
        removed = prune(directory, keep) if keep else []
    except (BackupError, OSError) as error:
        _fail(error)
        return
    members = result.manifest["members"]
    uploads = sum(1 for name in members if name.startswith("uploads/"))
    keys = sum(1 for name in members if name.startswith("keys/"))
    pages = sum(1 for name in members if name.startswith("pages/"))
    click.echo(f"Backup written: {result.path} ({result.path.stat().st_size:,} bytes)")
    click.echo(
        f"Database at migration {result.manifest['migration'] or '(none)'}, "
        f"{sum(result.manifest['tables'].values()):,} rows; {keys} key file(s), "
        f"{uploads} upload(s), {pages} notice page(s)."
    )
    if removed:
        click.echo(f"Removed {len(removed)} older backup(s).")
    if keys or "secret_key" in members:
        click.echo(KEYS_WARNING, err=True)


@click.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--force",
    is_flag=True,
    help="Replace a database that holds data (it is kept beside as *.before-restore-*).",
)
@click.option("--check", is_flag=True, help="Only verify the archive's checksums; change nothing.")
@with_appcontext
def restore_command(archive: Path, force: bool, check: bool) -> None:
    """Restore a backup: database, keys, uploads, secret key. Stop the servers and workers first."""
    if check:
        try:
            manifest = verify_archive(archive)
        except BackupError as error:
            _fail(error)
            return
        click.echo(
            f"{archive.name}: {len(manifest['members'])} member(s), all checksums match "
            f"(made {manifest.get('created_at')}, migration {manifest.get('migration')})."
        )
        return
    locations = _locations()
    from campus.extensions import db

    db.engine.dispose()  # no pooled connection to the file that is replaced
    try:
        result = restore_backup(archive, locations, utcnow(), force=force)
    except (BackupError, OSError) as error:
        _fail(error)
        return
    manifest = result.manifest
    click.echo(
        f"Restored {archive.name} (made {manifest.get('created_at')}) into "
        f"{locations.database}, {locations.keys_dir} and {locations.upload_dir}."
    )
    for path in result.kept:
        click.echo(f"Kept what was there before: {path}")
    click.echo(
        f"Database at migration {manifest.get('migration') or '(none)'}: "
        "run `flask db upgrade` if this code is newer."
    )


def attach(group: click.Group) -> None:
    """Add both commands to `flask campus` (campus.outbox.worker.campus_cli)."""
    group.add_command(backup_command)
    group.add_command(restore_command)
