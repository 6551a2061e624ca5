"""Savepoints on SQLite that do what the code says.

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

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.engine import Engine


@event.listens_for(Engine, "savepoint")
def _begin_before_first_savepoint(connection: Connection, name: Any) -> None:
    if connection.dialect.name != "sqlite" or connection.dialect.driver != "pysqlite":
        return
    raw = connection.connection.dbapi_connection
    if raw is not None and not raw.in_transaction:
        raw.execute("BEGIN")
