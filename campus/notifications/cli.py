"""`flask notifications daily|weekly`: the scheduled mails, for cron. Both are safe to repeat:
a second run (or one running at the same time) sends nothing twice."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from campus.clock import utcnow
from campus.extensions import db
from campus.notifications import digest

notifications_cli = click.Group("notifications", help="Scheduled notification mails.")


@notifications_cli.command("daily")
@with_appcontext
def daily_command() -> None:
    """Notify badges expiring within 30 days, then send the daily digests. Run once a day."""
    now = utcnow()
    expiring = digest.notify_expiring_badges(now)
    db.session.commit()  # the expiry notices go into today's digests
    sent = digest.send_daily_digests(now)
    db.session.commit()
    click.echo(f"{expiring} expiring badge(s) notified, {sent} digest(s) queued.")


@notifications_cli.command("weekly")
@with_appcontext
def weekly_command() -> None:
    """Send organisation admins who asked for it their organisation's past week. Run weekly."""
    sent = digest.send_weekly_digests(utcnow())
    db.session.commit()
    click.echo(f"{sent} weekly summary(ies) queued.")
