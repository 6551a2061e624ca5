"""`flask content check|sync`: learning content (content/: themes, paths, assessment instruments)
and badge classes (badges/) together.

All are validated before anything is written, and imported in one transaction: all or nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NamedTuple

import click
from flask import current_app
from flask.cli import with_appcontext

from campus.assessments.content import InstrumentSpec
from campus.assessments.content import load_instruments
from campus.assessments.content import path_folders
from campus.assessments.sync import InstrumentChangeRefused
from campus.assessments.sync import sync_instruments
from campus.badges.files import BadgeTree
from campus.badges.files import load_badges
from campus.badges.issuers import BadgeError
from campus.badges.issuers import IssuingContext
from campus.badges.issuers import sync_badges
from campus.clock import utcnow
from campus.extensions import db
from campus.paths.content import ContentTree
from campus.paths.content import load_tree
from campus.paths.manifest import Problem
from campus.paths.sync import sync_tree

content_cli = click.Group("content", help="Learning content (content/) and badges (badges/).")


class Loaded(NamedTuple):
    content: ContentTree
    instruments: list[InstrumentSpec]
    badges: BadgeTree
    problems: list[Problem]


def _load(content_dir: str | None, badges_dir: str | None) -> Loaded:
    root = Path(content_dir or current_app.config["CONTENT_DIR"]).resolve()
    content = load_tree(root)
    instruments, instrument_problems = load_instruments(root, path_folders(root))
    badges = load_badges(Path(badges_dir or current_app.config["BADGES_DIR"]).resolve(), content)
    problems = content.problems + instrument_problems + badges.problems
    return Loaded(content, instruments, badges, problems)


def _print_problems(problems) -> None:  # type: ignore[no-untyped-def]
    for problem in problems:
        click.echo(str(problem), err=True)
    click.echo(f"{len(problems)} problem(s) found.", err=True)


_dir_options = [
    click.option("--dir", "content_dir", help="Content folder (default: CONTENT_DIR)."),
    click.option("--badges-dir", help="Badges folder (default: BADGES_DIR)."),
]


def _with_dirs(func):  # type: ignore[no-untyped-def]
    for option in reversed(_dir_options):
        func = option(func)
    return func


@content_cli.command("check")
@_with_dirs
@with_appcontext
def check(content_dir: str | None, badges_dir: str | None) -> None:
    """Validate everything; print every problem as file:line: message."""
    content, instruments, badges, problems = _load(content_dir, badges_dir)
    if problems:
        _print_problems(problems)
        sys.exit(1)
    modules = sum(len(path.modules) for path in content.paths)
    click.echo(
        f"OK: {len(content.themes)} themes, {len(content.paths)} paths, {modules} modules, "
        f"{len(badges.badges)} badges."
    )
    items = sum(len(instrument.items) for instrument in instruments)
    click.echo(f"OK: {len(instruments)} assessment instruments, {items} items.")


@content_cli.command("sync")
@_with_dirs
@with_appcontext
def sync(content_dir: str | None, badges_dir: str | None) -> None:
    """Import content, instruments and badges in one transaction: all or nothing."""
    content, instruments, badges, problems = _load(content_dir, badges_dir)
    if problems:
        _print_problems(problems)
        click.echo("Nothing was imported.", err=True)
        sys.exit(1)
    try:
        report = sync_tree(content, utcnow())
        sync_instruments(instruments, report)
        sync_badges(badges, IssuingContext.from_config(current_app.config), report)
        db.session.commit()
    except (BadgeError, InstrumentChangeRefused) as error:
        db.session.rollback()
        click.echo(str(error), err=True)
        click.echo("Nothing was imported.", err=True)
        sys.exit(1)
    except Exception:
        db.session.rollback()
        raise
    for verb, lines in (
        ("created", report.created),
        ("updated", report.updated),
        ("restored", report.restored),
        ("retired", report.retired),
    ):
        for line in lines:
            click.echo(f"{verb:<8} {line}")
    click.echo(
        f"Content synced: {report.summary()}." if report.changed else "Content is up to date."
    )
    click.echo(f"{len(instruments)} assessment instruments in use.")
