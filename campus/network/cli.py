"""`flask network …`: the demo network, and templates as files (import, export)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from campus.extensions import db

network_cli = click.Group("network", help="The development network: groups, roadmaps, clocks.")
templates_cli = click.Group("templates", help="Templates (roadmap, annual clock, kick-off kit).")
network_cli.add_command(templates_cli)


@network_cli.command("demo")
@with_appcontext
def demo() -> None:
    """Add the demo region's groups, units, roadmaps and annual clocks (again: nothing new)."""
    from campus.clock import utcnow
    from campus.network.demo import DemoError
    from campus.network.demo import seed_network_demo
    from campus.network.toolkits import ToolkitError

    try:
        report = seed_network_demo(Path(current_app.config["CONTENT_DIR"]), utcnow())
    except (DemoError, ToolkitError) as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    db.session.commit()
    from campus.outbox.services import run_committed

    run_committed(utcnow())  # the path badges the demo's completions earned
    click.echo(f"Network demo: {report.summary()}.")


@templates_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def import_template(path: Path) -> None:
    """Import a template file (TOML); a file with problems changes nothing."""
    from campus.clock import utcnow
    from campus.network.toolkits import ToolkitError
    from campus.network.toolkits import import_file

    try:
        toolkit = import_file(path.read_text(encoding="utf-8"), None, utcnow())
    except ToolkitError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    except UnicodeDecodeError as error:
        raise click.ClickException(f"{path}: not UTF-8 text") from error
    db.session.commit()
    click.echo(f"Template {toolkit.slug} imported.")


@templates_cli.command("export")
@click.argument("slug")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def export_template(slug: str, output: Path | None) -> None:
    """Write a published template as a file (to standard output without -o)."""
    from campus.network.clock_models import Toolkit
    from campus.network.toolkits import to_toml

    toolkit = db.session.execute(
        db.select(Toolkit).where(Toolkit.slug == slug)
    ).scalar_one_or_none()
    if toolkit is None:
        raise click.ClickException(f"no template {slug}")
    text = to_toml(toolkit.body)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"Template {slug} written to {output}.")


@templates_cli.command("list")
@with_appcontext
def list_templates() -> None:
    """The published templates."""
    from campus.network.clock_models import Toolkit

    for toolkit in db.session.execute(db.select(Toolkit).order_by(Toolkit.slug)).scalars():
        click.echo(f"{toolkit.slug}\t{toolkit.language}\t{toolkit.title}")
