"""Pages both LTI directions share."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from flask import Response
from flask import flash
from flask import make_response
from flask import redirect
from flask import render_template

from campus.extensions import db
from campus.lti.errors import LtiError
from campus.security import policy_for_request


def auto_post(action: str, fields: dict[str, str], title: str, button: str) -> Response:
    """A form that posts itself to another site (launch, deep-link response); the page's CSP
    allows exactly that site as a form target, and nothing of it is cached."""
    response = make_response(
        render_template(
            "lti/autopost.html", action=action, fields=fields, title=title, button=button
        )
    )
    target = urlsplit(action)
    response.headers["Content-Security-Policy"] = policy_for_request(
        [f"{target.scheme}://{target.netloc}"]
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def registered_or_refused(
    register: Callable[[], object], done: str, next_url: str
) -> Response | None:
    """Run an admin's registration (a service that raises LtiError for bad input): commit and
    redirect with `done`, or roll back, say why and return None (the view answers 400)."""
    try:
        register()
    except LtiError as error:
        db.session.rollback()
        flash(str(error), "error")
        return None
    db.session.commit()
    flash(done, "success")
    return redirect(next_url)
