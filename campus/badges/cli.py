"""`flask badges …`: keys, manual awards and revocations from the shell."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from campus.auth.services import find_user_by_email
from campus.badges.awarding import award as award_badge
from campus.badges.issuers import IssuingContext
from campus.badges.issuers import campus_issuer
from campus.badges.issuers import get_badge
from campus.badges.models import AwardSource
from campus.badges.ob3.keys import active_ed25519_key
from campus.badges.revocation import find_assertion
from campus.badges.revocation import revoke as revoke_assertion
from campus.badges.rotation import rotate_and_resign
from campus.clock import utcnow
from campus.extensions import db

badges_cli = click.Group("badges", help="Open Badges: keys, awards, revocations.")


def _context() -> IssuingContext:
    return IssuingContext.from_config(current_app.config)


@badges_cli.command("rotate-key")
@with_appcontext
def rotate_key() -> None:
    """Start signing with new keys (RSA for 2.0, Ed25519 for 3.0); re-sign every stored badge.

    The issuer profile then names only the new RSA key; earlier keys stay published (with their
    owner, and in the DID document) so that copies saved before the rotation still verify.
    """
    context = _context()
    issuer = campus_issuer(context)
    key, count = rotate_and_resign(issuer, context, utcnow())
    ed25519 = active_ed25519_key(issuer)
    db.session.commit()
    earlier = sum(1 for k in issuer.keys if k.algorithm == key.algorithm) - 1
    click.echo(
        f"New signing key {key.kid}; {count} badge(s) re-signed; "
        f"{earlier} earlier key(s) stay published."
    )
    if ed25519 is not None:
        click.echo(
            f"New OB 3.0 (Ed25519) key {ed25519.kid}; earlier ones stay in the DID document."
        )


@badges_cli.command("keys")
@with_appcontext
def list_keys() -> None:
    """List the issuer's keys (public data only)."""
    issuer = campus_issuer(_context())
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
    badge = get_badge(badge_slug)
    if user is None or badge is None:
        raise click.ClickException("unknown user or badge")
    result = award_badge(
        user,
        badge,
        _context(),
        utcnow(),
        AwardSource.BULK,
        [{"narrative": evidence}] if evidence else [],
    )
    db.session.commit()
    if result.assertion is None:
        click.echo(f"Held: {email} has not confirmed the address; issued when they do.")
    else:
        click.echo(f"{'Awarded' if result.created else 'Already held'}: {result.assertion.uuid}")


@badges_cli.command("revoke")
@click.argument("assertion_uuid")
@click.option("--reason", required=True)
@with_appcontext
def revoke(assertion_uuid: str, reason: str) -> None:
    """Revoke an assertion with a reason."""
    assertion = find_assertion(assertion_uuid)
    if assertion is None:
        raise click.ClickException("no such assertion")
    changed = revoke_assertion(assertion, reason, utcnow())
    db.session.commit()
    click.echo("Revoked." if changed else "It was revoked already.")
