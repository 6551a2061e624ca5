"""`flask campus worker`: works the follow-up outbox in the background, on one host or several.

Each pass claims a small batch (on PostgreSQL with FOR UPDATE SKIP LOCKED, so workers on several
hosts take different items and none runs twice), runs it, and sleeps when nothing is due.
SIGTERM or SIGINT (systemd stop, Ctrl-C) lets the item that is running finish, hands the rest of
the batch back and exits. Requests still run their own follow-ups right after they commit; the
worker takes what those left: retries, slow remote follow-ups, scheduled mails.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from types import FrameType

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import update
from sqlalchemy.exc import DBAPIError

from campus.clock import aware
from campus.clock import utcnow
from campus.extensions import db
from campus.outbox import services
from campus.outbox.models import OutboxItem
from campus.outbox.models import OutboxStatus

log = logging.getLogger(__name__)

SLEEP_STEP = 0.25  # seconds: how soon a sleeping worker notices that it should stop
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@dataclass(frozen=True)
class Batch:
    claimed: int
    done: int
    not_done: int
    released: int  # claimed, then handed back unrun because the worker is stopping


@dataclass
class Worker:
    """Claims and runs batches until told to stop. One per process (or thread, in tests); each
    uses the session of the app context it runs in."""

    timeout: float
    batch: int
    interval: float = 5.0
    clock: Callable[[], datetime] = utcnow
    stopping: bool = False  # set from a signal handler or another thread: no locks needed

    def stop(self, signum: int | None = None, frame: FrameType | None = None) -> None:
        self.stopping = True

    def run(self, once: bool = False) -> int:
        """Work until stopped (or, with `once`, until nothing is due); how many items it ran."""
        total = 0
        while not self.stopping:
            try:
                batch = self.run_batch()
            except DBAPIError:
                if once:
                    raise
                db.session.rollback()
                log.exception("outbox worker: database error, trying again in %s s", self.interval)
                self._sleep(self.interval)
                continue
            total += batch.claimed - batch.released
            if batch.claimed == 0:
                if once:
                    break
                self._sleep(self.interval)
        return total

    def run_batch(self) -> Batch:
        started = time.monotonic()
        claimed_at = self.clock()
        ids = services.claim_due(claimed_at, self.batch)
        released = 0
        for position, item_id in enumerate(ids):
            if self.stopping:
                released = release(ids[position:], claimed_at)
                break
            services.execute(item_id, self.clock(), self.timeout)
        if not ids:
            return Batch(0, 0, 0, 0)
        done = services.count_done(ids)
        result = Batch(len(ids), done, len(ids) - released - done, released)
        db.session.remove()  # a long-running process: start each batch with an empty session
        log.info(
            "outbox worker: %s claimed, %s done, %s not done, %s handed back (%.1f s)",
            result.claimed,
            result.done,
            result.not_done,
            result.released,
            time.monotonic() - started,
        )
        return result

    def _sleep(self, seconds: float) -> None:
        until = time.monotonic() + seconds
        while not self.stopping and (left := until - time.monotonic()) > 0:
            time.sleep(min(SLEEP_STEP, left))


def release(item_ids: list[int], claimed_at: datetime) -> int:
    """Hand back items this worker claimed but did not run: due again at once, for any worker,
    and the claim does not count as an attempt. Only while the claim is still ours."""
    count = db.session.execute(
        update(OutboxItem)
        .where(
            OutboxItem.id.in_(item_ids),
            OutboxItem.status == OutboxStatus.RUNNING.value,
            OutboxItem.claimed_at == aware(claimed_at).astimezone(UTC),
        )
        .values(
            status=OutboxStatus.PENDING.value,
            claimed_at=None,
            attempts=OutboxItem.attempts - 1,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return count


campus_cli = click.Group("campus", help="Running the campus: the background worker, backups.")


@campus_cli.command("worker")
@click.option(
    "--interval",
    default=5.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Seconds to sleep when nothing is due.",
)
@click.option("--once", is_flag=True, help="Run what is due now, then exit (cron, tests).")
@click.option(
    "--batch",
    type=click.IntRange(min=1),
    help="Items per claim (default: as many as surely run before a claim goes stale).",
)
@with_appcontext
def worker_command(interval: float, once: bool, batch: int | None) -> None:
    """Work the follow-up outbox until SIGTERM/SIGINT. Run it on one host or several at once."""
    timeout = float(current_app.config.get("OUTBOX_TIMEOUT", 10.0))
    worker = Worker(timeout, batch or services.batch_size(timeout), interval)
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log.setLevel(logging.INFO)
    previous = {number: signal.signal(number, worker.stop) for number in STOP_SIGNALS}
    try:
        if not once:
            log.info("outbox worker: started (batch %s, interval %s s)", worker.batch, interval)
        ran = worker.run(once=once)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    click.echo(f"Outbox worker stopped: {ran} item(s) run.")
