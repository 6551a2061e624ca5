"""`flask lti …`: the campus LTI key and replay records. Grades waiting for an LMS are sent by
`flask outbox run`."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from campus.clock import utcnow
from campus.extensions import db
from campus.lti import keys
from campus.lti.models import LtiLoginToken
from campus.lti.models import LtiReplay
from campus.lti.models import LtiStoreEntry
from campus.lti.platform.cli import tools_cli
from campus.lti.tool.cli import platforms_cli

lti_cli = click.Group("lti", help="LTI 1.3 (both directions).")
keys_cli = click.Group("keys", help="The campus LTI signing key (published at /lti/jwks).")
lti_cli.add_command(keys_cli)
lti_cli.add_command(platforms_cli)
lti_cli.add_command(tools_cli)


@keys_cli.command("ensure")
@with_appcontext
def ensure_key() -> None:
    """Create the signing key if there is none (run at set-up; running it again changes nothing).

    Prints the key id only: the private key stays in KEYS_DIR."""
    key, created = keys.ensure_key(keys.PlatformContext.from_config(current_app.config), utcnow())
    db.session.commit()
    if created:
        click.echo(f"New LTI signing key {key.kid}.")
    else:
        click.echo(f"LTI signing key {key.kid} already exists.")


@lti_cli.command("rotate-key")
@with_appcontext
def rotate_key() -> None:
    """Sign with a new key; the old one stays in the JWKS for the grace period."""
    key = keys.rotate_key(keys.PlatformContext.from_config(current_app.config), utcnow())
    db.session.commit()
    click.echo(f"New LTI platform key {key.kid}.")


@lti_cli.command("prune")
@with_appcontext
def prune() -> None:
    """Forget expired nonces, token ids, tool-side launch data and one-time links."""
    now = utcnow()
    removed = 0
    for model in (LtiReplay, LtiStoreEntry, LtiLoginToken):
        removed += db.session.execute(db.delete(model).where(model.expires_at < now)).rowcount
    db.session.commit()
    click.echo(f"{removed} expired record(s) removed.")
