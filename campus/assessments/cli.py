"""`flask assessments …`: regions now (the demo data command joins the same group)."""

from __future__ import annotations

import re

import click
from flask.cli import with_appcontext

from campus.auth.models import Organisation
from campus.auth.models import Region
from campus.extensions import db

assessments_cli = click.Group("assessments", help="Starting-point assessments.")
region_cli = click.Group("region", help="Regions: organisations that develop together.")
assessments_cli.add_command(region_cli)


@region_cli.command("add")
@click.argument("slug")
@click.argument("name")
@with_appcontext
def add_region(slug: str, name: str) -> None:
    """Create a region (or rename it when the slug exists)."""
    if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug) or len(slug) > 80:
        raise click.ClickException("the slug is lower-case letters, digits and hyphens")
    if not name.strip():
        raise click.ClickException("a region needs a name")
    region = db.session.execute(db.select(Region).where(Region.slug == slug)).scalar_one_or_none()
    if region is None:
        region = Region(slug=slug, name=name.strip()[:200])
        db.session.add(region)
        message = f"Region {slug} created."
    else:
        region.name = name.strip()[:200]
        message = f"Region {slug} renamed."
    db.session.commit()
    click.echo(message)


@region_cli.command("assign")
@click.argument("organisation_slug")
@click.argument("region_slug")
@with_appcontext
def assign_region(organisation_slug: str, region_slug: str) -> None:
    """Put an organisation in a region."""
    organisation = db.session.execute(
        db.select(Organisation).where(Organisation.slug == organisation_slug)
    ).scalar_one_or_none()
    if organisation is None:
        raise click.ClickException(f"no organisation {organisation_slug}")
    region = db.session.execute(
        db.select(Region).where(Region.slug == region_slug)
    ).scalar_one_or_none()
    if region is None:
        raise click.ClickException(f"no region {region_slug}")
    organisation.region_id = region.id
    db.session.commit()
    click.echo(f"{organisation.slug} is in region {region.slug}.")


@assessments_cli.command("demo")
@with_appcontext
def demo() -> None:
    """Add the demo region, rounds and synthetic respondents (again: nothing new is added)."""
    from campus.assessments.demo import DemoError
    from campus.assessments.demo import seed_demo
    from campus.clock import utcnow

    try:
        report = seed_demo(utcnow().date())
    except DemoError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"Assessment demo: {report.summary()}.")
