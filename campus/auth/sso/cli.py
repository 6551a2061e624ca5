"""`flask sso providers list|add|enable|disable`: OpenID Providers from the shell."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from campus.auth.models import Organisation
from campus.auth.sso import client
from campus.auth.sso import providers as provider_services
from campus.auth.sso.errors import SsoError
from campus.auth.sso.models import DEFAULT_SCOPES
from campus.auth.sso.models import OidcProvider
from campus.extensions import db
from campus.routing import external_url

sso_cli = click.Group("sso", help="Single sign-on with OpenID Connect.")
providers_cli = click.Group("providers", help="The OpenID Providers people log in with.")
sso_cli.add_command(providers_cli)


@providers_cli.command("list")
@with_appcontext
def list_providers() -> None:
    """Every provider: short name, state, issuer, client ID, organisation (never the secret)."""
    rows = provider_services.list_providers()
    if not rows:
        click.echo("No providers.")
    for provider in rows:
        state = "enabled" if provider.is_enabled else "disabled"
        click.echo(
            f"{provider.slug}\t{state}\t{provider.issuer}\t{provider.client_id}\t"
            f"{provider.organisation.slug}\t{provider.name}"
        )


@providers_cli.command("add")
@click.option("--slug", required=True, help="Short name; part of the redirect URI.")
@click.option("--name", required=True, help="Name on the login button.")
@click.option("--issuer", required=True, help="Issuer URL (discovery is read from it).")
@click.option("--client-id", required=True)
@click.option(
    "--client-secret",
    envvar="CAMPUS_SSO_CLIENT_SECRET",
    prompt=True,
    hide_input=True,
    help="Prompted for when not given (or CAMPUS_SSO_CLIENT_SECRET).",
)
@click.option("--organisation", "organisation_slug", required=True, help="Organisation short name.")
@click.option("--scopes", default=DEFAULT_SCOPES, show_default=True)
@click.option("--discovery-url", default=None, help="Only if not under the issuer.")
@click.option("--name-claim", default="name", show_default=True)
@click.option("--email-claim", default="email", show_default=True)
@click.option("--organisation-claim", default=None)
@click.option("--organisation-map", multiple=True, help="VALUE=ORGANISATION (repeatable).")
@click.option("--roles-claim", default=None)
@click.option("--role-map", multiple=True, help="VALUE=ROLE (repeatable).")
@click.option("--allowed-domain", "allowed_domains", multiple=True, help="Repeatable.")
@click.option("--trust-email-verified", is_flag=True, help="The provider checks every address.")
@with_appcontext
def add_provider(
    slug: str,
    name: str,
    issuer: str,
    client_id: str,
    client_secret: str,
    organisation_slug: str,
    scopes: str,
    discovery_url: str | None,
    name_claim: str,
    email_claim: str,
    organisation_claim: str | None,
    organisation_map: tuple[str, ...],
    roles_claim: str | None,
    role_map: tuple[str, ...],
    allowed_domains: tuple[str, ...],
    trust_email_verified: bool,
) -> None:
    """Add an enabled provider and print the redirect URI to register with it."""
    organisation = db.session.execute(
        db.select(Organisation).where(Organisation.slug == organisation_slug)
    ).scalar_one_or_none()
    if organisation is None:
        raise click.ClickException(f"no organisation with short name {organisation_slug!r}")
    fields = provider_services.ProviderFields(
        name=name,
        slug=slug,
        issuer=issuer,
        client_id=client_id,
        client_secret=client_secret,
        organisation_id=organisation.id,
        discovery_url=discovery_url,
        scopes=scopes,
        name_claim=name_claim,
        email_claim=email_claim,
        organisation_claim=organisation_claim,
        organisation_map="\n".join(organisation_map),
        roles_claim=roles_claim,
        role_map="\n".join(role_map),
        allowed_domains="\n".join(allowed_domains),
        trust_email_verified=trust_email_verified,
    )
    allow_http = bool(current_app.config.get("TESTING"))
    try:
        provider = provider_services.create_provider(fields, allow_http)
    except SsoError as error:
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"Provider {provider.slug} added.")
    with current_app.test_request_context():  # addresses on BASE_URL, outside a request
        click.echo(f"Redirect URI: {external_url('sso.callback', slug=provider.slug)}")
        click.echo(f"Post-logout redirect URI: {external_url('sso.logged_out')}")
    try:
        client.metadata(provider, client.Settings.from_config(current_app.config), fresh=True)
    except SsoError as error:
        click.echo(f"Warning: discovery failed ({error.detail}); logins fail until it works.")


def _set_enabled(slug: str, enabled: bool) -> None:
    provider = db.session.execute(
        db.select(OidcProvider).where(OidcProvider.slug == slug)
    ).scalar_one_or_none()
    if provider is None:
        raise click.ClickException(f"no provider {slug!r}")
    provider.is_enabled = enabled
    db.session.commit()
    click.echo(f"Provider {slug} {'enabled' if enabled else 'disabled'}.")


@providers_cli.command("enable")
@click.argument("slug")
@with_appcontext
def enable_provider(slug: str) -> None:
    _set_enabled(slug, True)


@providers_cli.command("disable")
@click.argument("slug")
@with_appcontext
def disable_provider(slug: str) -> None:
    """Nobody logs in with it until enabled again (its identities stay)."""
    _set_enabled(slug, False)
