"""Error pages: HTML for people, JSON for clients that ask for it; never a stack trace."""

from __future__ import annotations

import sqlite3

from flask import Flask
from flask import g
from flask import render_template
from flask import request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import InternalServerError
from werkzeug.exceptions import ServiceUnavailable

from campus.api import problems
from campus.extensions import db
from campus.extensions import login_manager


def _messages() -> dict[int, str]:
    return {
        400: _("The request could not be understood. Please check what you sent and try again."),
        403: _("You do not have permission to see this page."),
        404: _("The page was not found."),
        405: _("That action is not allowed here."),
        409: _("That conflicts with the current state. Please reload the page and try again."),
        410: _("This is no longer available."),
        413: _("The upload is too large."),
        429: _("Too many requests. Please wait a moment and try again."),
        500: _("Something went wrong on our side. Nothing was saved; please try again."),
        503: _(
            "The campus cannot reach its database just now. Nothing was saved; please try "
            "again in a minute."
        ),
    }


def render_error(code: int, message: str | None = None) -> tuple[object, int]:
    text = message or _messages().get(code, _("Something went wrong."))
    if request.accept_mimetypes.best == "application/json":
        return {"error": code, "message": text}, code
    return render_template("errors/error.html", code=code, message=text), code


def init_app(app: Flask) -> None:
    @app.teardown_appcontext
    def close_session_quietly(_error: BaseException | None) -> None:
        """Flask-SQLAlchemy's own teardown rolls back and closes the session; when the database
        went away after the answer was made (a PostgreSQL restart), that rollback raised and
        turned a finished request into a 500. Registered after it, this runs first."""
        try:
            db.session.remove()
        except DBAPIError as error:
            app.logger.warning("Closing the session after the request failed: %s", error)
            db.session.registry.clear()

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):  # type: ignore[no-untyped-def]
        db.session.rollback()
        return render_error(
            400,
            _(
                "The form had expired or was sent from elsewhere. Please reload the page and try again."
            ),
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):  # type: ignore[no-untyped-def]
        db.session.rollback()
        if problems.is_api_request():  # API clients get RFC 9457 problem details
            return problems.from_exception(error)
        code = error.code or 500
        # A description passed to abort() is ours and already translated; werkzeug's is not.
        custom = error.description if error.description != type(error).description else None
        return render_error(code, custom)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):  # type: ignore[no-untyped-def]
        _roll_back_quietly()
        if app.testing and not app.config.get("RENDER_500_IN_TESTS"):
            raise error
        if _database_unreachable(error):
            # A restart or failover of PostgreSQL, or SQLite busy past its timeout: the request
            # did nothing, and trying again shortly will work; clients and proxies may retry.
            app.logger.warning(
                "Database unavailable on %s %s: %s", request.method, request.path, error
            )
            retry = {"Retry-After": str(RETRY_AFTER_SECONDS)}
            if problems.is_api_request():
                return problems.problem(
                    503, detail="The database is unavailable; try again shortly.", headers=retry
                )
            g._login_user = login_manager.anonymous_user()  # loading the user needs the database
            body, code = render_error(ServiceUnavailable.code)
            return body, code, retry
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        if problems.is_api_request():
            return problems.internal_error()
        return render_error(InternalServerError.code)


RETRY_AFTER_SECONDS = 5


# SQLite reports a missing table as an OperationalError too: only these mean "try again".
_SQLITE_UNAVAILABLE = ("database is locked", "unable to open database file", "disk i/o error")


def _database_unreachable(error: Exception) -> bool:
    """A lost or refused connection, or a database busy past its timeout (not a bad query)."""
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    if not isinstance(error, OperationalError):
        return False
    if isinstance(error.orig, sqlite3.Error):
        return str(error.orig).lower().startswith(_SQLITE_UNAVAILABLE)
    return True  # PostgreSQL: an OperationalError is the server or the connection, not the SQL


def _roll_back_quietly() -> None:
    """Roll back; with the database gone the rollback fails too, and the error page must not."""
    try:
        db.session.rollback()
    except DBAPIError:
        db.session.close()
