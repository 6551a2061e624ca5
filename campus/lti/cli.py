"""`flask lti …`: platform keys and replay records."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime

import click
from flask import current_app
from flask.cli import with_appcontext

from campus.extensions import db
from campus.lti import services
from campus.lti.models import LtiReplay

lti_cli = click.Group("lti", help="LTI 1.3 platform.")


@lti_cli.command("rotate-key")
@with_appcontext
def rotate_key() -> None:
    """Sign with a new key; the old one stays in the JWKS for the grace period."""
    key = services.rotate_key(
        services.PlatformContext.from_config(current_app.config), datetime.now(UTC)
    )
    db.session.commit()
    click.echo(f"New LTI platform key {key.kid}.")


@lti_cli.command("prune")
@with_appcontext
def prune() -> None:
    """Forget expired nonces, token ids, tool-side launch data and one-time links."""
    from campus.lti.models import LtiLoginToken
    from campus.lti.models import LtiStoreEntry

    now = datetime.now(UTC)
    removed = 0
    for model in (LtiReplay, LtiStoreEntry, LtiLoginToken):
        removed += db.session.execute(db.delete(model).where(model.expires_at < now)).rowcount
    db.session.commit()
    click.echo(f"{removed} expired record(s) removed.")


@lti_cli.command("push-grades")
@click.option(
    "--failed", is_flag=True, help="Also retry results that gave up after repeated failures."
)
@with_appcontext
def push_grades(failed: bool) -> None:
    """Send results waiting in the outbox to the LMSs (run from cron; safe to repeat)."""
    from campus.lti import tool

    sent, waiting = tool.deliver_pending(
        services.PlatformContext.from_config(current_app.config),
        datetime.now(UTC),
        include_failed=failed,
    )
    db.session.commit()
    click.echo(f"{sent} result(s) sent, {waiting} still waiting.")
