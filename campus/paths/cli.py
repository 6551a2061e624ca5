"""`flask content check|sync`: validate and import the content tree."""

from __future__ import annotations

import sys
from datetime import UTC
from datetime import datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from campus.extensions import db
from campus.paths.content import load_tree
from campus.paths.sync import sync_tree

content_cli = click.Group("content", help="Learning content in content/.")


def _content_dir(directory: str | None) -> Path:
    return Path(directory or current_app.config["CONTENT_DIR"]).resolve()


def _print_problems(tree) -> None:  # type: ignore[no-untyped-def]
    for problem in tree.problems:
        click.echo(str(problem), err=True)
    click.echo(f"{len(tree.problems)} problem(s) found.", err=True)


@content_cli.command("check")
@click.option("--dir", "directory", help="Content folder (default: CONTENT_DIR).")
@with_appcontext
def check(directory: str | None) -> None:
    """Validate the whole tree; print every problem as file:line: message."""
    tree = load_tree(_content_dir(directory))
    if tree.problems:
        _print_problems(tree)
        sys.exit(1)
    modules = sum(len(path.modules) for path in tree.paths)
    click.echo(f"OK: {len(tree.themes)} themes, {len(tree.paths)} paths, {modules} modules.")


@content_cli.command("sync")
@click.option("--dir", "directory", help="Content folder (default: CONTENT_DIR).")
@with_appcontext
def sync(directory: str | None) -> None:
    """Import the tree in one transaction: all or nothing."""
    tree = load_tree(_content_dir(directory))
    if tree.problems:
        _print_problems(tree)
        click.echo("Nothing was imported.", err=True)
        sys.exit(1)
    try:
        report = sync_tree(tree, datetime.now(UTC))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    for line in report.created:
        click.echo(f"created  {line}")
    for line in report.updated:
        click.echo(f"updated  {line}")
    for line in report.restored:
        click.echo(f"restored {line}")
    for line in report.retired:
        click.echo(f"retired  {line}")
    click.echo(
        f"Content synced: {report.summary()}." if report.changed else "Content is up to date."
    )
