"""SQLite that plans and commits as the code says: fresh statistics, and savepoints that do not
commit on their own.

Statistics: without `ANALYZE`, SQLite guesses row counts, and with 100,000 learners it scanned
the whole completion table through the path index to count one organisation's 500 members (the
progress page: 350 ms in process, 98 ms once analysed; the catalogue 23 -> 15 ms). Each process
refreshes them when it first connects, sampling at most ANALYSIS_LIMIT rows an index
(milliseconds on a warm database); PostgreSQL keeps its own (autovacuum).

Savepoints:
Python's sqlite3 driver (legacy transaction mode, the default) opens a transaction by itself only
before INSERT, UPDATE or DELETE; a SAVEPOINT issued outside a transaction *becomes* the
transaction, and releasing it commits to disk. So `with db.session.begin_nested():` as the first
write of a request committed at once, and a later rollback left its rows behind (a bulk award
of 10,000 rows was 10,000 commits).

Here the transaction is begun explicitly right before such a savepoint. SQLAlchemy's documented
pysqlite recipe (BEGIN at the first statement of every transaction) does the same for
savepoints, but it also makes every read open a transaction; with SQLite's single writer, a
request that reads and then writes can then fail at once with "database is locked" instead of
waiting, which the concurrent double-click tests hit. Reads keep the driver's behaviour.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.engine import Engine

ANALYSIS_LIMIT = 400

log = logging.getLogger(__name__)


@event.listens_for(Engine, "first_connect")
def _refresh_planner_statistics(dbapi_connection: Any, _record: Any) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    try:
        dbapi_connection.execute(f"PRAGMA analysis_limit={ANALYSIS_LIMIT}")
        dbapi_connection.execute("ANALYZE")
        if dbapi_connection.in_transaction:
            dbapi_connection.commit()
    except sqlite3.Error as error:  # busy, read-only: plan without fresh statistics this time
        log.info("SQLite statistics not refreshed: %s", error)


@event.listens_for(Engine, "savepoint")
def _begin_before_first_savepoint(connection: Connection, name: Any) -> None:
    if connection.dialect.name != "sqlite" or connection.dialect.driver != "pysqlite":
        return
    raw = connection.connection.dbapi_connection
    if raw is not None and not raw.in_transaction:
        raw.execute("BEGIN")
