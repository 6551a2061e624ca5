"""`flask badges …`: keys, manual awards and revocations from the shell."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime

import click
from flask import current_app
from flask.cli import with_appcontext

from campus.auth.services import find_user_by_email
from campus.badges import services
from campus.badges import signing
from campus.badges.models import AwardSource
from campus.extensions import db

badges_cli = click.Group("badges", help="Open Badges: keys, awards, revocations.")


def _context() -> services.IssuingContext:
    return services.IssuingContext.from_config(current_app.config)


@badges_cli.command("rotate-key")
@with_appcontext
def rotate_key() -> None:
    """Start signing with a new RSA key; the old public key stays published."""
    context = _context()
    issuer = services.campus_issuer(context)
    key = signing.rotate_key(issuer, context.keys_dir, context.passphrase, datetime.now(UTC))
    db.session.commit()
    click.echo(f"New signing key {key.kid}; {len(issuer.keys) - 1} earlier key(s) stay published.")


@badges_cli.command("keys")
@with_appcontext
def list_keys() -> None:
    """List the issuer's keys (public data only)."""
    issuer = services.campus_issuer(_context())
    for key in issuer.keys:
        state = f"retired {key.retired_at:%Y-%m-%d}" if key.retired_at else "active"
        click.echo(f"{key.kid}  {key.algorithm}  created {key.created_at:%Y-%m-%d}  {state}")
    db.session.commit()


@badges_cli.command("award")
@click.argument("email")
@click.argument("badge_slug")
@click.option("--evidence", default="", help="Evidence narrative.")
@with_appcontext
def award(email: str, badge_slug: str, evidence: str) -> None:
    """Award a badge to a user by hand."""
    user = find_user_by_email(email)
    badge = services.get_badge(badge_slug)
    if user is None or badge is None:
        raise click.ClickException("unknown user or badge")
    result = services.award(
        user,
        badge,
        _context(),
        datetime.now(UTC),
        AwardSource.BULK,
        [{"narrative": evidence}] if evidence else [],
    )
    db.session.commit()
    click.echo(f"{'Awarded' if result.created else 'Already held'}: {result.assertion.uuid}")


@badges_cli.command("revoke")
@click.argument("assertion_uuid")
@click.option("--reason", required=True)
@with_appcontext
def revoke(assertion_uuid: str, reason: str) -> None:
    """Revoke an assertion with a reason."""
    assertion = services.find_assertion(assertion_uuid)
    if assertion is None:
        raise click.ClickException("no such assertion")
    changed = services.revoke(assertion, reason, datetime.now(UTC))
    db.session.commit()
    click.echo("Revoked." if changed else "It was revoked already.")
