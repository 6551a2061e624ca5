"""`flask api …`: API clients, and revoking every token of a person (a lost laptop)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from campus.api import token_services
from campus.api.token_models import SCOPES
from campus.auth.models import Organisation
from campus.auth.models import User
from campus.auth.services import normalise_email
from campus.clock import utcnow
from campus.extensions import db

api_cli = click.Group("api", help="JSON API credentials.")
clients_cli = click.Group("clients", help="OAuth 2.0 clients of institutional systems.")
tokens_cli = click.Group("tokens", help="Personal access tokens.")
api_cli.add_command(clients_cli)
api_cli.add_command(tokens_cli)


@clients_cli.command("add")
@click.argument("name")
@click.option(
    "--organisation",
    "organisation_slug",
    default=None,
    help="The organisation's short name; leave out for a campus-wide client.",
)
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice(SCOPES),
    help="Repeat for each scope.",
)
@click.option("--expires-in-days", type=click.Choice(["30", "90", "365"]), default=None)
@with_appcontext
def add_client(
    name: str, organisation_slug: str | None, scopes: tuple[str, ...], expires_in_days: str | None
) -> None:
    """Create a client and print its id and secret (shown once)."""
    organisation_id = None
    if organisation_slug:
        organisation = db.session.execute(
            db.select(Organisation).where(Organisation.slug == organisation_slug)
        ).scalar_one_or_none()
        if organisation is None:
            raise click.ClickException(f"No organisation {organisation_slug!r}.")
        organisation_id = organisation.id
    days = int(expires_in_days) if expires_in_days else None
    try:
        client, secret = token_services.create_client(
            name, organisation_id, scopes, None, days, utcnow()
        )
    except token_services.TokenError as error:
        messages = {
            "name": "The name must be 1-100 characters.",
            "scopes": "Badge scopes are for campus-wide clients only.",
        }
        raise click.ClickException(messages.get(error.code, error.code)) from None
    db.session.commit()
    click.echo(f"client_id:     {client.client_id}")
    click.echo(f"client_secret: {secret}")
    click.echo("The secret is shown only now; the campus keeps its hash.")


@clients_cli.command("list")
@with_appcontext
def list_clients() -> None:
    """Every client: id, name, organisation, scopes, status."""
    for client in token_services.list_clients():
        where = client.organisation.slug if client.organisation else "(campus)"
        status = "revoked" if client.revoked_at else "active"
        scopes = " ".join(client.scopes or ())
        click.echo(f"{client.client_id}\t{client.name}\t{where}\t{scopes}\t{status}")


@clients_cli.command("revoke")
@click.argument("client_id")
@with_appcontext
def revoke_client(client_id: str) -> None:
    """Revoke a client: its secret and access tokens stop working at once."""
    client = token_services.find_client(client_id)
    if client is None:
        raise click.ClickException(f"No client {client_id!r}.")
    token_services.revoke_client(client, utcnow())
    db.session.commit()
    click.echo(f"Revoked {client.client_id} ({client.name}).")


@tokens_cli.command("revoke-all")
@click.argument("email")
@with_appcontext
def revoke_all(email: str) -> None:
    """Revoke every personal access token of the account with this e-mail."""
    user = db.session.execute(
        db.select(User).where(User.email == normalise_email(email))
    ).scalar_one_or_none()
    if user is None:
        raise click.ClickException(f"No account {email!r}.")
    count = token_services.revoke_all_pats(user, utcnow())
    db.session.commit()
    click.echo(f"Revoked {count} token(s) of {user.email}.")
