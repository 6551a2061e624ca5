"""`flask auth …`: demo account and administrators."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from campus.auth import services
from campus.auth.models import Role
from campus.extensions import db

auth_cli = click.Group("auth", help="Accounts and roles.")


@auth_cli.command("demo")
@with_appcontext
def create_demo() -> None:
    """Create the demo organisation and account (once) and print how to log in."""
    secret_file = Path(current_app.instance_path) / "demo-account.txt"
    stored = secret_file.read_text().strip() if secret_file.exists() else None
    user, password = services.ensure_demo_account(stored)
    db.session.commit()
    if password is not None:
        secret_file.parent.mkdir(parents=True, exist_ok=True)
        secret_file.touch(mode=0o600)
        secret_file.write_text(password)
    shown = password or stored or "(set earlier; see `flask auth set-password`)"
    click.echo(f"Demo account: {user.email}  password: {shown}")


@auth_cli.command("create-admin")
@click.argument("email")
@click.option("--name", default="Administrator")
@click.option("--organisation", "organisation_slug", default=services.DEMO_ORGANISATION_SLUG)
@click.password_option()
@with_appcontext
def create_admin(email: str, name: str, organisation_slug: str, password: str) -> None:
    """Create an administrator account."""
    from campus.auth.models import Organisation

    organisation = db.session.execute(
        db.select(Organisation).where(Organisation.slug == organisation_slug)
    ).scalar_one_or_none()
    if organisation is None:
        raise click.ClickException(f"no organisation with short name {organisation_slug!r}")
    try:
        user = services.register_user(email, name, password, organisation)
    except services.AccountError as error:
        raise click.ClickException(str(error)) from error
    services.set_roles(user, {Role.ADMIN})
    db.session.commit()
    click.echo(f"Administrator {user.email} created.")


@auth_cli.command("set-password")
@click.argument("email")
@click.password_option()
@with_appcontext
def set_password(email: str, password: str) -> None:
    """Set a user's password (ends their sessions)."""
    user = services.find_user_by_email(email)
    if user is None:
        raise click.ClickException(f"no user {email}")
    try:
        services.change_password(user, password)
    except services.AccountError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo("Password set.")
