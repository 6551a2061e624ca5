"""Follow-ups that run after the request that caused them has committed (a transactional outbox).

A completion and its outbox items are written in one transaction; each item then runs in its
own transaction, right after that commit (so the page that completes a path already shows the
badge), and again later from `flask campus worker` (campus.outbox.worker: several may run, on
several hosts) or `flask outbox run` if it failed or ran out of time. A failing handler never
undoes the learner's submission: it leaves the item pending with its error, with growing waits
between attempts, and marks it failed after the last one (admins see both).

Handlers register by name; `remote=True` handlers do network I/O and get the seconds they may
spend, which is short (OUTBOX_INLINE_SECONDS) when a learner's response waits for them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import event
from sqlalchemy import or_
from sqlalchemy import true as sa_true
from sqlalchemy import update
from sqlalchemy.orm import Session

from campus.clock import aware
from campus.clock import utcnow
from campus.extensions import db
from campus.outbox.models import OutboxItem
from campus.outbox.models import OutboxStatus
from campus.signals import outbox_item_failed

log = logging.getLogger(__name__)

QUEUED = "outbox_queued"  # session.info: items added in the open transaction
COMMITTED = "outbox_committed"  # session.info: items whose transaction has committed
STALE_CLAIM = timedelta(minutes=10)  # a runner that died holding an item loses it after this
MAX_ERROR_LENGTH = 1000
FOLLOW_UP_ROUNDS = 4  # run_committed: follow-ups of follow-ups, run in the same request


@dataclass(frozen=True)
class Announcement:
    """What a follow-up tells the person whose action it followed (e.g. "You earned a badge")."""

    user_id: int
    message: str
    category: str = "success"


HandlerResult = Announcement | list[Announcement] | None
HandlerFunction = Callable[[dict[str, Any], datetime, float], HandlerResult]


@dataclass(frozen=True)
class Handler:
    kind: str
    run: HandlerFunction
    remote: bool
    label: Any  # what admins read on the follow-up page (a lazy translation)
    keep_when_done: tuple[str, ...] | None = None  # payload keys kept once it has run


_handlers: dict[str, Handler] = {}


def handler(
    kind: str,
    remote: bool = False,
    label: Any = None,
    keep_when_done: tuple[str, ...] | None = None,
) -> Callable[[HandlerFunction], HandlerFunction]:
    """Register `function(payload, now, timeout)` as the follow-up called `kind`.

    It runs in its own transaction (committed when it returns, rolled back when it raises); any
    exception means "try again later". With `keep_when_done`, a done item's payload keeps only
    those keys: what it needed to run (a single-use link in a mail) is not kept once used.
    """

    def register(function: HandlerFunction) -> HandlerFunction:
        _handlers[kind] = Handler(kind, function, remote, label or kind, keep_when_done)
        return function

    return register


def registered_kinds() -> list[str]:
    return sorted(_handlers)


def label_of(kind: str) -> Any:
    found = _handlers.get(kind)
    return found.label if found is not None else kind


def enqueue(
    kind: str, payload: dict[str, Any], now: datetime, user_id: int | None = None
) -> OutboxItem:
    """Write a follow-up in the caller's transaction; it runs only once that has committed."""
    if kind not in _handlers:
        raise KeyError(f"no outbox handler is registered for {kind!r}")
    item = OutboxItem(
        kind=kind,
        payload=payload,
        user_id=user_id,
        status=OutboxStatus.PENDING.value,
        created_at=_utc(now),
        next_attempt_at=_utc(now),
    )
    db.session.add(item)
    db.session.flush()
    db.session.info.setdefault(QUEUED, []).append(item.id)
    return item


# --- running -------------------------------------------------------------------------------


def run_committed(now: datetime | None = None) -> list[Announcement]:
    """Run what this session's committed transactions enqueued, within the inline time budget.

    Local follow-ups (signing a badge) always run; remote ones share OUTBOX_INLINE_SECONDS and
    whatever does not fit stays pending for `flask outbox run`. What the follow-ups enqueue in
    turn (the mail that tells of a badge) runs too, for a few rounds, in the same budget.
    """
    if not db.session.info.get(COMMITTED):
        return []
    budget = float(current_app.config.get("OUTBOX_INLINE_SECONDS", 2.0))
    deadline = time.monotonic() + budget
    moment = now or utcnow()
    announcements: list[Announcement] = []
    for _round in range(FOLLOW_UP_ROUNDS):
        ids = db.session.info.pop(COMMITTED, [])
        if not ids:
            break
        announcements.extend(_run_inline(ids, moment, deadline))
    db.session.info.pop(COMMITTED, None)  # deeper chains wait for `flask outbox run`
    return announcements


def _run_inline(ids: list[int], moment: datetime, deadline: float) -> list[Announcement]:
    kinds = dict(
        db.session.execute(
            db.select(OutboxItem.id, OutboxItem.kind).where(OutboxItem.id.in_(ids))
        ).all()
    )
    announcements = []
    for item_id in ids:
        remaining = deadline - time.monotonic()
        item_kind = kinds.get(item_id)
        if item_kind is None:
            continue  # rolled back with a savepoint
        found = _handlers.get(item_kind)
        if found is not None and found.remote:
            if remaining < 0.2:
                continue  # no time left for the network: the cron run takes it
            # Asked again per item: an earlier item of this request may just have failed.
            if _recently_failing(item_kind, moment):
                continue  # its destination is failing: do not make every learner wait for it
        announcements.extend(run_item(item_id, moment, max(remaining, 0.2)))
    return announcements


def _recently_failing(kind: str, now: datetime) -> bool:
    """An item of this kind failed and waits for its retry: while an LMS is down, learners'
    requests leave its follow-ups to the cron run instead of each waiting out the timeout (which
    would also tie up a server worker per completion)."""
    return (
        db.session.execute(
            db.select(OutboxItem.id)
            .where(
                OutboxItem.kind == kind,
                OutboxItem.status == OutboxStatus.PENDING.value,
                OutboxItem.last_error.is_not(None),
                OutboxItem.next_attempt_at > _utc(now),
            )
            .limit(1)
        ).first()
        is not None
    )


def run_due(now: datetime, timeout: float, limit: int = 100) -> tuple[int, int]:
    """Run pending items whose time has come (and stale claims): (done, not done). For cron.

    Claims go in small batches (`batch_size`): an item claimed long before its turn would look
    stale to another runner, which would then run it too.
    """
    newest = db.session.execute(db.select(db.func.max(OutboxItem.id)).where(_due(now))).scalar()
    done = not_done = 0
    while newest is not None and done + not_done < limit:
        # What these items enqueue waits for the next run (as when cron started it).
        ids = claim_due(now, min(batch_size(timeout), limit - done - not_done), newest)
        if not ids:
            break
        for item_id in ids:
            execute(item_id, now, timeout)
        finished = count_done(ids)
        done, not_done = done + finished, not_done + len(ids) - finished
    return done, not_done


def batch_size(timeout: float) -> int:
    """How many items one claim may take: all of them run well before their claim goes stale."""
    return max(1, min(50, int(STALE_CLAIM.total_seconds() / (2 * max(timeout, 1.0)))))


def claim_due(now: datetime, limit: int, up_to_id: int | None = None) -> list[int]:
    """Claim up to `limit` due items for this runner (RUNNING, attempts + 1); their ids.

    PostgreSQL claims the batch in one short transaction that locks the rows it picks and skips
    rows another runner is claiming (FOR UPDATE SKIP LOCKED): workers on several hosts take
    different items instead of racing for the same ones. Other databases (SQLite, one host)
    claim item by item with the conditional UPDATE of `run_item`.
    """
    if limit <= 0:
        return []
    due = (
        db.select(OutboxItem.id)
        .where(_due(now), OutboxItem.id <= up_to_id if up_to_id is not None else sa_true())
        .order_by(OutboxItem.next_attempt_at, OutboxItem.id)
        .limit(limit)
    )
    if db.session.get_bind().dialect.name != "postgresql":
        ids = list(db.session.execute(due).scalars())
        db.session.commit()
        return [item_id for item_id in ids if _claim(item_id, now)]
    ids = list(db.session.execute(due.with_for_update(skip_locked=True)).scalars())
    if ids:
        db.session.execute(
            update(OutboxItem)
            .where(OutboxItem.id.in_(ids))
            .values(_claim_values(now))
            .execution_options(synchronize_session=False)
        )
    db.session.commit()
    return ids


def count_done(item_ids: list[int]) -> int:
    return db.session.execute(
        db.select(db.func.count())
        .select_from(OutboxItem)
        .where(OutboxItem.id.in_(item_ids), OutboxItem.status == OutboxStatus.DONE.value)
    ).scalar_one()


def _utc(moment: datetime) -> datetime:
    """Aware UTC, as every stored time (SQLite keeps the digits, PostgreSQL the instant)."""
    return aware(moment).astimezone(UTC)


def _due(now: datetime):  # type: ignore[no-untyped-def]
    at = _utc(now)
    return or_(
        (OutboxItem.status == OutboxStatus.PENDING.value) & (OutboxItem.next_attempt_at <= at),
        (OutboxItem.status == OutboxStatus.RUNNING.value)
        & (OutboxItem.claimed_at <= at - STALE_CLAIM),
    )


def run_item(item_id: int, now: datetime, timeout: float) -> list[Announcement]:
    """Claim one item (one conditional UPDATE: two runners never both run it), run it, record it."""
    if not _claim(item_id, now):
        return []
    return execute(item_id, now, timeout)


def _claim_values(now: datetime) -> dict[str, Any]:
    return {
        "status": OutboxStatus.RUNNING.value,
        "claimed_at": _utc(now),
        "attempts": OutboxItem.attempts + 1,
    }


def _claim(item_id: int, now: datetime) -> bool:
    claimed = db.session.execute(
        update(OutboxItem)
        .where(OutboxItem.id == item_id, _due(now))
        .values(_claim_values(now))
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return bool(claimed)


def execute(item_id: int, now: datetime, timeout: float) -> list[Announcement]:
    """Run an item this runner has claimed (`claim_due`, `run_item`) and record how it went."""
    item = db.session.get(OutboxItem, item_id)
    assert item is not None
    found = _handlers.get(item.kind)
    try:
        if found is None:
            raise LookupError(f"no handler for {item.kind!r} in this version of the campus")
        result = found.run(dict(item.payload), now, timeout)
    except Exception as error:  # noqa: BLE001 - any failure is recorded and retried
        db.session.rollback()
        _record_failure(item_id, error, now)
        return []
    item.status = OutboxStatus.DONE.value
    if found.keep_when_done is not None:
        item.payload = {
            key: item.payload[key] for key in found.keep_when_done if key in item.payload
        }
    item.finished_at = _utc(now)
    item.claimed_at = None
    item.last_error = None
    db.session.commit()
    if result is None:
        return []
    return [result] if isinstance(result, Announcement) else list(result)


def _record_failure(item_id: int, error: Exception, now: datetime) -> None:
    item = db.session.get(OutboxItem, item_id)
    assert item is not None
    text = f"{type(error).__name__}: {error}"[:MAX_ERROR_LENGTH]
    log.warning(
        "outbox item %s (%s) failed, attempt %s: %s", item.id, item.kind, item.attempts, text
    )
    item.last_error = text
    item.claimed_at = None
    if item.attempts >= int(current_app.config.get("OUTBOX_MAX_ATTEMPTS", 10)):
        item.status = OutboxStatus.FAILED.value
        item.finished_at = _utc(now)
        outbox_item_failed.send(item)  # admins hear of it (campus.notifications), same commit
    else:
        item.status = OutboxStatus.PENDING.value
        item.next_attempt_at = _utc(now + retry_delay(item.attempts))
    db.session.commit()


def retry_delay(attempts: int) -> timedelta:
    """1 min, 2, 4 … at most 6 h between attempts."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), timedelta(hours=6))


def retry(item_ids: list[int] | None, now: datetime) -> int:
    """Make failed (or waiting) items due now; None: every failed item. The caller commits."""
    query = update(OutboxItem).values(
        status=OutboxStatus.PENDING.value, next_attempt_at=_utc(now), attempts=0
    )
    if item_ids is None:
        query = query.where(OutboxItem.status == OutboxStatus.FAILED.value)
    else:
        query = query.where(
            OutboxItem.id.in_(item_ids),
            OutboxItem.status.in_([OutboxStatus.FAILED.value, OutboxStatus.PENDING.value]),
        )
    return db.session.execute(query.execution_options(synchronize_session=False)).rowcount


def unfinished(limit: int = 200) -> list[OutboxItem]:
    """Failed and waiting items, failures first: what an admin should look at."""
    return list(
        db.session.execute(
            db.select(OutboxItem)
            .where(OutboxItem.status != OutboxStatus.DONE.value)
            .order_by((OutboxItem.status == OutboxStatus.FAILED.value).desc(), OutboxItem.id.desc())
            .limit(limit)
        ).scalars()
    )


def counts() -> dict[str, int]:
    rows = db.session.execute(
        db.select(OutboxItem.status, db.func.count()).group_by(OutboxItem.status)
    )
    return {status: number for status, number in rows}


def is_overdue(item: OutboxItem, now: datetime) -> bool:
    return item.status == OutboxStatus.PENDING and aware(item.next_attempt_at) < now - timedelta(
        minutes=5
    )


# --- which items a transaction wrote ---------------------------------------------------------


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if queued := session.info.pop(QUEUED, None):
        session.info.setdefault(COMMITTED, []).extend(queued)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(QUEUED, None)
