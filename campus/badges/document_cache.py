"""Rendered public Open Badges documents, kept by each process and checked on every request.

Verifiers fetch the same few documents again and again (the revocation list with every signed
badge they check). Their bodies depend only on database rows, so each process keeps the encoded
bytes and the ETag, keyed by a validator read from the database with every request: one small
query instead of loading rows and encoding JSON. Several processes or hosts share one database,
so a change made anywhere is seen at once by all of them.

The validators: a hosted assertion's own `revoked_at` (nothing else in it ever changes), and for
the issuer-wide documents a revision number in `ob_document_stamp` that every flush changing
what they show moves in the same transaction (REVOCATIONS: an assertion revoked, added revoked
or deleted; DOCUMENTS: an issuer, signing key or badge class added, changed or deleted). Changes
made with Core statements that bypass the ORM do not move it: none exist in the campus; a
script that writes such rows must bump the stamp (`bump`) or restart the servers.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from typing import Any

from flask import Response
from flask import current_app
from sqlalchemy import String
from sqlalchemy import event
from sqlalchemy import inspect
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.orm import mapped_column
from werkzeug.http import generate_etag

from campus.badges.http_cache import conditional
from campus.badges.models import Assertion
from campus.badges.models import BadgeClass
from campus.badges.models import Issuer
from campus.badges.models import SigningKey
from campus.extensions import db

REVOCATIONS = "revocations"
UNKNOWN = object()  # a revision that could not be read: what it names is never kept
log = logging.getLogger(__name__)
DOCUMENTS = "documents"
# Per process: a few issuer-wide documents and the most recently asked assertions (~1 KB each),
# and apart from them the most recently downloaded baked images (~10-50 KB each).
MAX_ENTRIES = 4096
MAX_IMAGES = 256


class DocumentStamp(db.Model):
    """A revision of a family of public documents: moved by every flush that changes them."""

    __tablename__ = "ob_document_stamp"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    revision: Mapped[int] = mapped_column(default=0)


_STAMPS_SQL = "SELECT name, revision FROM ob_document_stamp"  # as written: nothing to compile


@dataclass(frozen=True)
class Rendered:
    """One document as it goes out, minus what conditional GET adds per request."""

    body: bytes
    etag: str
    status: int
    headers: tuple[tuple[str, str], ...]
    mimetype: str | None
    last_modified: datetime | None

    @classmethod
    def of(cls, response: Response, last_modified: datetime | None = None) -> Rendered:
        body = response.get_data()
        headers = tuple((k, v) for k, v in response.headers.items() if k.lower() in KEPT_HEADERS)
        return cls(
            body,
            generate_etag(body),
            response.status_code,
            headers,
            response.mimetype,
            last_modified,
        )

    def response(self) -> Response:
        response = Response(
            self.body, status=self.status, headers=list(self.headers), mimetype=self.mimetype
        )
        if not 300 <= self.status < 400:
            response.set_etag(self.etag)
        return response


KEPT_HEADERS = {
    "cache-control",
    "access-control-allow-origin",
    "content-security-policy",
    "location",
    "content-disposition",
}


def serve(rendered: Rendered) -> Response:
    """A fresh response from `rendered`; conditional GET on all but redirects."""
    response = rendered.response()
    if 300 <= rendered.status < 400:
        return response
    return conditional(response, rendered.last_modified)


def revisions() -> tuple[Any, Any]:
    """(DOCUMENTS, REVOCATIONS) revisions now: one read of a two-row table.

    Validators are read as plain SQL on a connection of their own, outside the session (about
    a third of the cost of an ORM query). Read before the document is
    rendered: a change committed in between is at worst kept under the older revision, which
    the next request no longer asks for.
    """
    try:
        found = dict(read("SELECT name, revision FROM ob_document_stamp", ()))
    except DBAPIError:  # a database not yet migrated: serve, keep nothing
        log.warning("no ob_document_stamp table: Open Badges documents are not kept")
        return UNKNOWN, UNKNOWN
    return found.get(DOCUMENTS, 0), found.get(REVOCATIONS, 0)


def revoked_at(assertion_uuid: str) -> tuple[bool, Any]:
    """(exists, revoked_at as the driver gives it) of one assertion: its unique index, one
    column. The value only names the version (SQLite gives text, PostgreSQL a datetime)."""
    rows = read("SELECT revoked_at FROM assertion WHERE uuid = ?", (assertion_uuid,))
    return (bool(rows), rows[0][0] if rows else None)


def read(sql: str, parameters: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """Rows of `sql` (`?` placeholders) read as written, on a pooled connection of its own."""
    if db.engine.dialect.paramstyle in ("format", "pyformat"):
        sql = sql.replace("?", "%s")
    with db.engine.connect() as connection:
        return [tuple(row) for row in connection.exec_driver_sql(sql, parameters)]


def cached(key: Any, render: Callable[[], Rendered], images: bool = False) -> Rendered:
    """The document stored under `key` (which names its validator), rendered on a miss."""
    name, limit = (
        ("campus.ob_images", MAX_IMAGES) if images else ("campus.ob_documents", MAX_ENTRIES)
    )
    store: OrderedDict[Any, Rendered] = current_app.extensions.setdefault(name, OrderedDict())
    if UNKNOWN in key:
        return render()
    found = store.get(key)
    if found is not None:
        store.move_to_end(key)
        return found
    found = render()
    store[key] = found
    while len(store) > limit:
        store.popitem(last=False)
    return found


def bump(session: Session, names: set[str]) -> None:
    """Move each named revision by one, in the session's transaction (race-free upsert)."""
    connection = session.connection()
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[connection.dialect.name]
    for name in sorted(names):
        statement = insert(DocumentStamp).values(name=name, revision=1)
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=[DocumentStamp.name],
                set_={"revision": DocumentStamp.revision + 1},
            )
        )


def _changed_families(session: Session) -> set[str]:
    names: set[str] = set()
    for obj in chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, Assertion):
            if _revocation_changed(obj, session):
                names.add(REVOCATIONS)
        elif isinstance(obj, (Issuer, SigningKey, BadgeClass)):
            if obj not in session.dirty or session.is_modified(obj, include_collections=False):
                names.add(DOCUMENTS)
    return names


def _revocation_changed(assertion: Assertion, session: Session) -> bool:
    if assertion in session.deleted:
        return True
    if assertion in session.new:
        return assertion.revoked_at is not None
    return inspect(assertion).attrs.revoked_at.history.has_changes()


@event.listens_for(Session, "after_flush")
def _stamp_changes(session: Session, _flush_context: Any) -> None:
    if names := _changed_families(session):
        bump(session, names)
