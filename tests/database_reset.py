"""One app per test process; before each test its database is put back to the loaded content.

On SQLite (in memory) the loaded database is kept as bytes and deserialised before each test:
a millisecond instead of building the schema and syncing the content again. With
CAMPUS_TEST_SUITE_DATABASE_URL set to a PostgreSQL database (the second pass in `.ci/run`), the
schema is built once, and before each test every table is emptied, its identity sequences
restarted, and the rows of the loaded content put back.
"""

from __future__ import annotations

import copy
import os
import sqlite3
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from flask import Flask

from campus.extensions import db

SUITE_DATABASE_URL = os.environ.get("CAMPUS_TEST_SUITE_DATABASE_URL")

_OWNED_SEQUENCES = """
SELECT s.relname, t.relname, a.attname
FROM pg_class s
JOIN pg_depend d ON d.objid = s.oid AND d.deptype IN ('a', 'i')
JOIN pg_class t ON t.oid = d.refobjid
JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
JOIN pg_namespace n ON n.oid = s.relnamespace
WHERE s.relkind = 'S' AND n.nspname = 'public'
"""


class SharedApp:
    """The process's app, handed to one test at a time as the factory and the loader left it."""

    def __init__(self, app: Flask, load_content: Callable[[Flask], None]) -> None:
        self.app = app
        self.config = copy.deepcopy(dict(app.config))
        self.extensions = set(app.extensions)
        with app.app_context():
            if db.engine.dialect.name == "sqlite":
                db.create_all()
                load_content(app)
                db.session.commit()
                self._snapshot = self._sqlite().serialize()
            else:
                with db.engine.begin() as connection:
                    connection.execute(sa.text("DROP SCHEMA public CASCADE"))
                    connection.execute(sa.text("CREATE SCHEMA public"))
                db.create_all()
                load_content(app)
                db.session.commit()
                self._remember_rows()

    @contextmanager
    def checked_out(self, settings: dict[str, str]) -> Iterator[Flask]:
        app = self.app
        app.config.clear()
        app.config.update(copy.deepcopy(self.config))
        app.config.update(settings)
        for name in set(app.extensions) - self.extensions:
            del app.extensions[name]  # caches a previous test filled (e.g. framing origins)
        with app.app_context():
            db.session.remove()
            if db.engine.dialect.name == "sqlite":
                self._sqlite().deserialize(self._snapshot)
            else:
                self._restore_rows()
        try:
            yield app
        finally:
            with app.app_context():
                db.session.remove()

    def _sqlite(self) -> sqlite3.Connection:
        """The one in-memory connection (StaticPool), outside any transaction."""
        raw = db.engine.raw_connection()
        connection = raw.driver_connection
        assert isinstance(connection, sqlite3.Connection)
        if connection.in_transaction:
            connection.rollback()
        raw.close()  # back to the pool: the same connection stays open under it
        return connection

    def _remember_rows(self) -> None:
        tables = db.metadata.sorted_tables
        self._rows: list[tuple[sa.Table, list[dict[str, Any]]]] = []
        with db.engine.connect() as connection:
            for table in tables:
                rows = [dict(row) for row in connection.execute(sa.select(table)).mappings()]
                if rows:
                    self._rows.append((table, rows))
            sequences = connection.execute(sa.text(_OWNED_SEQUENCES)).all()
        # DELETE, not TRUNCATE: truncating 73 tables took 1.8 s (new files for each), deleting
        # the few rows a test wrote takes milliseconds.
        emptying = [f'DELETE FROM "{table.name}"' for table in reversed(tables)]
        emptying += [f'ALTER SEQUENCE "{sequence}" RESTART' for sequence, _, _ in sequences]
        self._empty = "; ".join(emptying)
        loaded = {table.name for table, _ in self._rows}
        moves = [
            f'setval(\'"{sequence}"\', (SELECT max("{column}") FROM "{table}"))'
            for sequence, table, column in sequences
            if table in loaded
        ]
        self._set_sequences = sa.text(f"SELECT {', '.join(moves)}") if moves else None

    def _restore_rows(self) -> None:
        with db.engine.begin() as connection:
            connection.exec_driver_sql(self._empty)
            for table, rows in self._rows:
                connection.execute(table.insert(), rows)
            if self._set_sequences is not None:
                connection.execute(self._set_sequences)
