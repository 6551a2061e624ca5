"""Error pages: HTML for people, JSON for clients that ask for it; never a stack trace."""

from __future__ import annotations

from flask import Flask
from flask import render_template
from flask import request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import InternalServerError

from campus.api import problems
from campus.extensions import db


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
    }


def render_error(code: int, message: str | None = None) -> tuple[object, int]:
    text = message or _messages().get(code, _("Something went wrong."))
    if request.accept_mimetypes.best == "application/json":
        return {"error": code, "message": text}, code
    return render_template("errors/error.html", code=code, message=text), code


def init_app(app: Flask) -> None:
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
        db.session.rollback()
        if app.testing and not app.config.get("RENDER_500_IN_TESTS"):
            raise error
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        if problems.is_api_request():
            return problems.internal_error()
        return render_error(InternalServerError.code)
