"""`flask lti platforms …`: the LMSs that launch the campus, from the command line.

`add` uses the same service as the admin page (`provisioning.register_platform`): the same
checks, and nothing is stored when one fails (exit status 1).
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale

from campus.auth.models import Organisation
from campus.extensions import db
from campus.lti import framing
from campus.lti.errors import LtiError
from campus.lti.tool import provisioning
from campus.lti.tool.registration import ToolEndpoints
from campus.routing import parse_id

platforms_cli = click.Group("platforms", help="LMSs that launch the campus (it is their tool).")


@platforms_cli.command("list")
@with_appcontext
def list_platforms() -> None:
    """Every registered LMS, with the addresses that may show the campus in a frame."""
    platforms = provisioning.list_platforms()
    if not platforms:
        click.echo("No platforms registered.")
    for platform in platforms:
        state = "enabled" if platform.is_enabled else "disabled"
        click.echo(f"{platform.name} (id {platform.id}, {state})")
        click.echo(f"  issuer:         {platform.issuer}")
        click.echo(f"  client id:      {platform.client_id}")
        click.echo(f"  deployment ids: {', '.join(platform.deployment_ids) or '-'}")
        click.echo(f"  frame origins:  {' '.join(framing.platform_origins(platform)) or '-'}")


@platforms_cli.command("add")
@click.option("--name", required=True, help="Shown to admins.")
@click.option("--issuer", required=True, help="The LMS's issuer (iss).")
@click.option("--client-id", required=True, help="The client ID the LMS gave the campus.")
@click.option("--login-url", required=True, help="The LMS's OIDC authorization URL.")
@click.option("--token-url", required=True, help="The LMS's access token URL.")
@click.option("--jwks-url", required=True, help="The LMS's public keys (JWKS) URL.")
@click.option("--deployment-id", "deployment_ids", multiple=True, required=True, help="Repeatable.")
@click.option(
    "--frame-origin",
    "frame_origins",
    multiple=True,
    help="Another LMS address that shows the campus in a frame (Canvas: the school's own "
    "address, such as https://school.instructure.com). Repeatable.",
)
@click.option(
    "--organisation", required=True, help="Id, short name or name of the users' organisation."
)
@with_appcontext
def add_platform(
    name: str,
    issuer: str,
    client_id: str,
    login_url: str,
    token_url: str,
    jwks_url: str,
    deployment_ids: tuple[str, ...],
    frame_origins: tuple[str, ...],
    organisation: str,
) -> None:
    """Register an LMS and print the campus addresses to paste into it."""
    found = _organisation(organisation)
    if any("," in deployment for deployment in deployment_ids):
        raise click.ClickException("a deployment id cannot contain a comma")
    fields = provisioning.PlatformFields(
        name=name.strip(),
        issuer=issuer.strip(),
        client_id=client_id.strip(),
        auth_login_url=login_url.strip(),
        auth_token_url=token_url.strip(),
        jwks_url=jwks_url.strip(),
        deployment_ids=",".join(d.strip() for d in deployment_ids),
        organisation_id=found.id,
        frame_origins=frame_origins,
    )
    with force_locale("en"):
        try:
            platform = provisioning.register_platform(fields)
        except LtiError as error:
            db.session.rollback()
            raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"Registered {platform.name} (id {platform.id}) for {found.name}.")
    origins = " ".join(framing.platform_origins(platform))
    click.echo(f"May show the campus in a frame: {origins}")
    with current_app.test_request_context():  # our addresses come from BASE_URL and the routes
        endpoints = ToolEndpoints.current()
    click.echo("Paste these into the LMS:")
    click.echo(f"  Login (OIDC initiation) URL: {endpoints.login}")
    click.echo(f"  Launch and deep-linking URL: {endpoints.launch}")
    click.echo(f"  Redirect URI:                {' '.join(endpoints.redirect_uris)}")
    click.echo(f"  Public keys (JWKS) URL:      {endpoints.jwks}")
    click.echo(f"  Canvas configuration URL:    {endpoints.canvas_config}")


def _organisation(value: str) -> Organisation:
    """By id, short name (slug) or exact name; a clear error when none or several match."""
    text = value.strip()
    if (number := parse_id(text)) is not None and (found := db.session.get(Organisation, number)):
        return found
    matches = list(
        db.session.execute(
            db.select(Organisation).where(
                db.or_(Organisation.slug == text, Organisation.name == text)
            )
        ).scalars()
    )
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise click.ClickException(f"no organisation with id, short name or name {text!r}")
    raise click.ClickException(f"several organisations are called {text!r}: give the id")
