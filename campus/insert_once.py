"""`INSERT … ON CONFLICT DO NOTHING`: a row that a unique key allows once, inserted race-free.

A double-clicked button sends two requests that both see "no row yet" and both insert; the
database's unique key (or partial unique index) keeps one, and the other request must answer as
if it had found that row. A savepoint around a plain INSERT would do the same, but pysqlite
opens no transaction before a SAVEPOINT: when the insert is the request's first write, the
RELEASE commits it at once and a later failure of the request cannot undo it. One statement
that skips the conflict keeps the request's transaction whole.
"""

from __future__ import annotations

from typing import Any
from typing import TypeVar

from sqlalchemy import Index
from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm.attributes import set_committed_value

from campus.extensions import db

Model = TypeVar("Model", bound=db.Model)  # type: ignore[name-defined]


def insert_once(model: type[Model], **values: Any) -> Model | None:
    """Insert one row and return it, or None when a unique key already holds its twin.

    The caller then reads the twin itself (it knows which key was meant). Under PostgreSQL's
    READ COMMITTED and SQLite's single writer, a concurrent uncommitted twin makes this wait for
    that transaction, so the twin is visible to the caller's next query.
    """
    dialect = db.session.get_bind(mapper=model).dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(dialect)
    if insert is None:
        raise NotImplementedError(f"insert_once does not support {dialect}")
    statement = insert(model).values(**values).on_conflict_do_nothing().returning(model)
    row = db.session.execute(statement).scalars().one_or_none()
    if row is not None:
        # As after a flush, the object holds the caller's values (SQLite would hand back
        # timestamps without their zone).
        for key, value in values.items():
            set_committed_value(row, key, value)
    return row


def one_waiting(name: str, *columns: str) -> Index:
    """A partial unique index: one row per `columns` may wait for review (status 'submitted')."""
    waiting = text("status = 'submitted'")
    return Index(name, *columns, unique=True, sqlite_where=waiting, postgresql_where=waiting)
