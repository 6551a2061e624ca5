"""`flask manage …`: organisations and roles from the command line."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from campus.auth import services as account_services
from campus.auth.models import OrganisationKind
from campus.auth.models import Role
from campus.extensions import db

manage_cli = click.Group("manage", help="Organisations and roles.")


@manage_cli.command("add-organisation")
@click.argument("name")
@click.option(
    "--kind", type=click.Choice([k.value for k in OrganisationKind]), default="education_provider"
)
@with_appcontext
def add_organisation(name: str, kind: str) -> None:
    """Create an organisation."""
    try:
        organisation = account_services.create_organisation(name, OrganisationKind(kind))
    except account_services.AccountError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"Organisation {organisation.slug} created.")


@manage_cli.command("grant")
@click.argument("email")
@click.argument("role", type=click.Choice([r.value for r in Role if r is not Role.LEARNER]))
@with_appcontext
def grant(email: str, role: str) -> None:
    """Give a user a role."""
    user = account_services.find_user_by_email(email)
    if user is None:
        raise click.ClickException(f"no user {email}")
    account_services.set_roles(user, user.roles | {Role(role)})
    db.session.commit()
    click.echo(f"{user.email}: {', '.join(sorted(r.value for r in user.roles))}")
