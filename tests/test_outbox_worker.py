"""`flask campus worker` works the outbox: due items once, failures later, a clean stop; on
PostgreSQL several workers at once share the items (SKIP LOCKED) and none runs twice."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from datetime import datetime
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.exc import OperationalError

from campus.clock import aware
from campus.clock import utcnow
from campus.extensions import db
from campus.outbox import services as outbox
from campus.outbox.models import OutboxItem
from campus.outbox.models import OutboxStatus
from campus.outbox.worker import Worker
from campus.outbox.worker import worker_command
from tests.test_postgres import pg_app  # noqa: F401  (the fixture)

calls: list[int] = []


@outbox.handler("test.worker-count")
def _count(payload, moment, timeout):  # type: ignore[no-untyped-def]
    calls.append(payload["n"])


@outbox.handler("test.worker-flaky")
def _flaky(payload, moment, timeout):  # type: ignore[no-untyped-def]
    calls.append(payload["n"])
    if len(calls) == 1:
        raise ConnectionError("the LMS is down")


@outbox.handler("test.worker-stop")
def _stop_after_first(payload, moment, timeout):  # type: ignore[no-untyped-def]
    calls.append(payload["n"])
    if len(calls) == 1:
        os.kill(os.getpid(), signal.SIGTERM)  # systemd stops the worker while this item runs


@pytest.fixture(autouse=True)
def _no_calls() -> None:
    calls.clear()


def _states() -> dict[int, tuple[str, int]]:
    items = db.session.execute(db.select(OutboxItem)).scalars()
    return {item.payload["n"]: (item.status, item.attempts) for item in items}


def test_once_runs_what_is_due_and_leaves_the_rest(app: Flask, caplog) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        for n in (1, 2, 3):
            outbox.enqueue("test.worker-count", {"n": n}, utcnow())
        outbox.enqueue("test.worker-count", {"n": 4}, utcnow() + timedelta(hours=1))
        db.session.commit()
    caplog.set_level(logging.INFO, logger="campus.outbox.worker")
    result = app.test_cli_runner().invoke(worker_command, ["--once", "--batch", "2"])
    assert result.exit_code == 0, result.output
    assert "3 item(s) run" in result.output
    assert sorted(calls) == [1, 2, 3]
    with app.app_context():
        assert _states() == {1: ("done", 1), 2: ("done", 1), 3: ("done", 1), 4: ("pending", 0)}
    batches = [r.getMessage() for r in caplog.records if r.name == "campus.outbox.worker"]
    assert batches[0].startswith("outbox worker: 2 claimed, 2 done, 0 not done, 0 handed back")
    assert batches[1].startswith("outbox worker: 1 claimed, 1 done, 0 not done, 0 handed back")
    assert len(batches) == 2  # one line per batch, none for the empty poll


def test_a_failing_follow_up_is_retried_after_its_wait(app: Flask) -> None:
    with app.app_context():
        outbox.enqueue("test.worker-flaky", {"n": 1}, utcnow())
        db.session.commit()
        worker = Worker(timeout=1.0, batch=5)
        assert worker.run(once=True) == 1
        [item] = db.session.execute(db.select(OutboxItem)).scalars()
        assert (item.status, item.attempts) == (OutboxStatus.PENDING, 1)
        assert item.last_error == "ConnectionError: the LMS is down"
        retry_at = aware(item.next_attempt_at)
        assert timedelta(seconds=50) < retry_at - utcnow() <= outbox.retry_delay(1)
        assert worker.run(once=True) == 0 and calls == [1]  # not yet
        later = Worker(timeout=1.0, batch=5, clock=lambda: retry_at + timedelta(seconds=1))
        assert later.run(once=True) == 1
        assert calls == [1, 1] and _states() == {1: ("done", 2)}


def test_sigterm_finishes_the_running_item_and_hands_back_the_rest(app: Flask, caplog) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        for n in (1, 2, 3):
            outbox.enqueue("test.worker-stop", {"n": n}, utcnow())
        db.session.commit()
    caplog.set_level(logging.INFO, logger="campus.outbox.worker")
    started = time.monotonic()
    result = app.test_cli_runner().invoke(worker_command, ["--interval", "60"])
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started < 5  # it did not sleep out its interval
    assert "1 item(s) run" in result.output
    assert calls == [1]
    with app.app_context():
        # The other two are due again at once, for any worker; their claim was no attempt.
        assert _states() == {1: ("done", 1), 2: ("pending", 0), 3: ("pending", 0)}
        assert db.session.execute(db.select(OutboxItem.claimed_at)).scalars().all() == [None] * 3
    assert any(
        "3 claimed, 1 done, 0 not done, 2 handed back" in r.getMessage() for r in caplog.records
    )
    assert signal.getsignal(signal.SIGTERM) is not None  # the previous handler is back
    with app.app_context():
        assert Worker(timeout=1.0, batch=5).run(once=True) == 2
        assert sorted(calls) == [1, 2, 3]


def test_a_database_error_does_not_end_the_worker(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database restart: the worker logs it, waits its interval, and carries on."""
    real_claim = outbox.claim_due
    failures = []

    def claim_once_broken(now, limit):  # type: ignore[no-untyped-def]
        if not failures:
            failures.append(now)
            raise OperationalError("SELECT", {}, Exception("server closed the connection"))
        return real_claim(now, limit)

    monkeypatch.setattr(outbox, "claim_due", claim_once_broken)
    worker = Worker(timeout=1.0, batch=5, interval=0.05)

    @outbox.handler("test.worker-last")
    def last(payload, moment, timeout):  # type: ignore[no-untyped-def]
        calls.append(payload["n"])
        worker.stop()

    with app.app_context():
        outbox.enqueue("test.worker-last", {"n": 7}, utcnow())
        db.session.commit()
        assert worker.run() == 1
        assert len(failures) == 1 and calls == [7] and _states() == {7: ("done", 1)}
        with pytest.raises(OperationalError):  # --once (cron) reports it instead
            failures.clear()
            Worker(timeout=1.0, batch=5).run(once=True)


# --- PostgreSQL: several workers at once -----------------------------------------------------

runs_metadata = sa.MetaData()
runs = sa.Table(
    "test_outbox_worker_run",
    runs_metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("n", sa.Integer, nullable=False),
    sa.Column("worker", sa.String(40), nullable=False),
)


@outbox.handler("test.worker-record")
def _record(payload, moment, timeout):  # type: ignore[no-untyped-def]
    """Writes its run in the item's own transaction: a second run would leave a second row."""
    db.session.execute(
        sa.insert(runs).values(n=payload["n"], worker=threading.current_thread().name)
    )
    time.sleep(0.002)  # long enough that the workers' batches overlap


def _enqueue(app: Flask, count: int, moment: datetime) -> None:
    with app.app_context():
        for n in range(count):
            outbox.enqueue("test.worker-record", {"n": n}, moment)
        db.session.commit()


def test_four_workers_run_every_item_exactly_once_on_postgres(pg_app: Flask) -> None:  # noqa: F811
    with pg_app.app_context():
        runs_metadata.create_all(db.engine)
    _enqueue(pg_app, 200, utcnow())
    start = threading.Barrier(4, timeout=10)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            with pg_app.app_context():
                start.wait()
                Worker(timeout=5.0, batch=5, interval=0.05).run(once=True)
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)

    threads = [threading.Thread(target=work, name=f"worker-{i}") for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with pg_app.app_context():
        rows = db.session.execute(sa.select(runs.c.n, runs.c.worker)).all()
        assert sorted(n for n, _worker in rows) == list(range(200))  # each once, none twice
        assert len({worker for _n, worker in rows}) >= 2  # the work was shared
        states = db.session.execute(
            db.select(OutboxItem.status, OutboxItem.attempts, db.func.count()).group_by(
                OutboxItem.status, OutboxItem.attempts
            )
        ).all()
        assert states == [(OutboxStatus.DONE, 1, 200)]


def test_claims_skip_locked_rows_and_take_over_dead_runners_on_postgres(pg_app: Flask) -> None:  # noqa: F811
    with pg_app.app_context():
        runs_metadata.create_all(db.engine)
    moment = utcnow()
    _enqueue(pg_app, 4, moment)
    with pg_app.app_context():
        ids = list(db.session.execute(db.select(OutboxItem.id).order_by(OutboxItem.id)).scalars())
        dead, alive, locked, free = ids
        for item_id, claimed_at in (
            (dead, moment - outbox.STALE_CLAIM - timedelta(minutes=1)),
            (alive, moment - timedelta(minutes=1)),
        ):
            db.session.execute(
                sa.update(OutboxItem)
                .where(OutboxItem.id == item_id)
                .values(status=OutboxStatus.RUNNING.value, claimed_at=claimed_at, attempts=1)
            )
        db.session.commit()
        # Another worker is in the middle of claiming `locked`: this one skips it, no waiting.
        with db.engine.connect() as other:
            other.execute(sa.select(OutboxItem.id).where(OutboxItem.id == locked).with_for_update())
            db.session.execute(sa.text("SET LOCAL lock_timeout = '2s'"))
            assert sorted(outbox.claim_due(moment, 10)) == sorted([dead, free])
            other.rollback()
        # A stopping worker hands its claim back untouched (its claim time matches).
        stopping = Worker(timeout=5.0, batch=10, clock=lambda: moment, stopping=True)
        assert stopping.run_batch().released == 1  # `locked`, free now
        assert Worker(timeout=5.0, batch=10, clock=lambda: moment).run(once=True) == 1
        for item_id in (dead, free):  # claimed above and never finished: stale later on
            db.session.execute(
                sa.update(OutboxItem)
                .where(OutboxItem.id == item_id)
                .values(claimed_at=moment - outbox.STALE_CLAIM - timedelta(seconds=1))
            )
        db.session.commit()
        assert Worker(timeout=5.0, batch=10, clock=lambda: moment).run(once=True) == 2
        state = {
            item.id: (item.status, item.attempts)
            for item in db.session.execute(db.select(OutboxItem)).scalars()
        }
        assert state == {
            dead: (OutboxStatus.DONE, 3),  # the dead runner's, then this test's claim: taken over
            alive: (OutboxStatus.RUNNING, 1),  # its runner is still within its time
            locked: (OutboxStatus.DONE, 1),
            free: (OutboxStatus.DONE, 2),
        }
        assert sorted(db.session.execute(sa.select(runs.c.n)).scalars()) == [0, 2, 3]
