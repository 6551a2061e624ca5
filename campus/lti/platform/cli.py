"""`flask lti tools …`: the external tools the campus launches, from the command line.

`add` registers a tool like the admin page does (the same service, the same checks); empty
client and deployment IDs are generated and printed with the campus's addresses to paste into
the tool. Bad input: a message, exit code 1, nothing stored.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import click
from flask import current_app
from flask.cli import with_appcontext

from campus.extensions import db
from campus.lti.errors import LtiError
from campus.lti.platform import tools as tool_services
from campus.lti.platform.privacy import ToolPrivacy

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
ENDPOINT_LABELS = (
    ("issuer", "Issuer"),
    ("authorize", "Authorization (OIDC auth) URL"),
    ("token", "Access token URL"),
    ("jwks", "Public keys (JWKS) URL"),
    ("deep_link_return", "Deep-linking return URL"),
)

tools_cli = click.Group("tools", help="The external tools the campus launches (LTI platform).")


def _checked_url(value: str | None, option: str, required: bool = False) -> str | None:
    if not value:
        if required:
            raise click.ClickException(f"{option} is required.")
        return None
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises ValueError for a bad port)
    except ValueError as error:
        raise click.ClickException(f"{option} is not a valid web address.") from error
    if parts.scheme not in ("http", "https") or not parts.hostname or len(value) > 2000:
        raise click.ClickException(f"{option} must be an http or https address (≤ 2000 chars).")
    return value


def _endpoints() -> dict[str, str]:
    """The campus's addresses (BASE_URL and our routes; built in a request context)."""
    from campus.lti.platform.admin_views import platform_endpoints

    with current_app.test_request_context():
        return platform_endpoints()


@tools_cli.command("list")
@with_appcontext
def list_tools() -> None:
    """Name, short name, client ID, deployment ID and state of every tool."""
    found = tool_services.list_tools()
    if not found:
        click.echo("No tools registered.")
        return
    for tool in found:
        state = "enabled" if tool.is_enabled else "disabled"
        click.echo(
            f"{tool.name}\tslug={tool.slug}\tclient_id={tool.client_id}\t"
            f"deployment_id={tool.deployment_id}\t{state}"
        )


@tools_cli.command("add")
@click.option("--name", required=True, help="The tool's name as people see it.")
@click.option("--slug", required=True, help="Short name used in module.toml (`tool = …`).")
@click.option("--login-url", required=True, help="The tool's OIDC login initiation URL.")
@click.option("--launch-url", required=True, help="The tool's launch (target link) URL.")
@click.option("--deep-link-url", default=None, help="The tool's deep-linking URL, if any.")
@click.option("--jwks-url", default=None, help="The tool's public keys (JWKS) URL.")
@click.option("--client-id", default=None, help="Leave out to have one generated.")
@click.option("--deployment-id", default=None, help="Leave out to have one generated.")
@click.option(
    "--privacy",
    default=ToolPrivacy.NAME_EMAIL.value,
    show_default=True,
    help="What the tool learns: anonymous, name or name_email.",
)
@with_appcontext
def add_tool(
    name: str,
    slug: str,
    login_url: str,
    launch_url: str,
    deep_link_url: str | None,
    jwks_url: str | None,
    client_id: str | None,
    deployment_id: str | None,
    privacy: str,
) -> None:
    """Register a tool; prints its client ID, deployment ID and the campus's addresses."""
    name = name.strip()
    if not name or len(name) > 200:
        raise click.ClickException("--name must have 1 to 200 characters.")
    if not SLUG.match(slug):
        raise click.ClickException(
            "--slug must be lower-case letters, digits and hyphens (at most 80)."
        )
    if privacy not in {level.value for level in ToolPrivacy}:
        raise click.ClickException("--privacy must be anonymous, name or name_email.")
    for value, option in ((client_id, "--client-id"), (deployment_id, "--deployment-id")):
        if value is not None and (not value.strip() or len(value) > 255):
            raise click.ClickException(f"{option} must have 1 to 255 characters.")
    fields = tool_services.ToolFields(
        slug=slug,
        name=name,
        client_id=client_id,
        deployment_id=deployment_id,
        oidc_login_url=_checked_url(login_url, "--login-url", required=True) or "",
        launch_url=_checked_url(launch_url, "--launch-url", required=True) or "",
        deep_link_url=_checked_url(deep_link_url, "--deep-link-url"),
        redirect_uris=None,
        jwks_url=_checked_url(jwks_url, "--jwks-url"),
        jwks=None,
        privacy=privacy,
    )
    try:
        tool = tool_services.register_tool(fields)
    except LtiError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"Tool {tool.name} registered as {tool.slug}. Give the tool these:")
    click.echo(f"  Client ID: {tool.client_id}")
    click.echo(f"  Deployment ID: {tool.deployment_id}")
    endpoints = _endpoints()
    for key, label in ENDPOINT_LABELS:
        click.echo(f"  {label}: {endpoints[key]}")
