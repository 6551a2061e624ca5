"""Pages both LTI directions share."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response
from flask import make_response
from flask import render_template

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
