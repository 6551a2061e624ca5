"""`flask outbox …`: run due follow-ups from cron, see what waits, retry failures."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from campus.clock import utcnow
from campus.extensions import db
from campus.outbox import services

outbox_cli = click.Group("outbox", help="Follow-ups of completions (badges, LMS grades).")


@outbox_cli.command("run")
@click.option("--limit", default=500, show_default=True, help="At most this many items.")
@with_appcontext
def run_command(limit: int) -> None:
    """Run every follow-up that is due. Safe to run from cron, also several at once."""
    timeout = float(current_app.config.get("OUTBOX_TIMEOUT", 10.0))
    done, not_done = services.run_due(utcnow(), timeout, limit)
    click.echo(f"{done} done, {not_done} not done (they wait for a retry).")
    if not_done:
        raise SystemExit(1)


@outbox_cli.command("status")
@with_appcontext
def status_command() -> None:
    """Counts by state, then every item that is not done."""
    for state, number in sorted(services.counts().items()):
        click.echo(f"{state}: {number}")
    for item in services.unfinished():
        click.echo(
            f"#{item.id} {item.kind} {item.status} attempts={item.attempts} "
            f"next={item.next_attempt_at:%Y-%m-%d %H:%M} {item.last_error or ''}".rstrip()
        )


@outbox_cli.command("retry")
@click.argument("item_ids", nargs=-1, type=int)
@with_appcontext
def retry_command(item_ids: tuple[int, ...]) -> None:
    """Make the given items (or, with none given, every failed item) due now."""
    count = services.retry(list(item_ids) or None, utcnow())
    db.session.commit()
    click.echo(f"{count} item(s) will run at the next `flask outbox run`.")
