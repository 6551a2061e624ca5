"""The throttled answer every password-checking view gives (log in, password change, linking).

One wording and one `Retry-After`, so that a second caller of `login.check_password` cannot
answer a throttled attempt differently.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Response
from flask import flash
from flask import make_response
from flask_babel import format_timedelta
from flask_babel import gettext as _


def wait_text(retry_after: int) -> str:
    """How long to wait, in the user's language ("2 minutes")."""
    return format_timedelta(timedelta(seconds=retry_after), threshold=1)


def flash_throttled(retry_after: int) -> None:
    flash(
        _(
            "Too many failed attempts. Please wait %(wait)s and try again.",
            wait=wait_text(retry_after),
        ),
        "error",
    )


def too_many(body: str, retry_after: int) -> Response:
    """A 429 carrying `Retry-After`, so that clients and proxies know when to come back."""
    response = make_response(body, 429)
    response.headers["Retry-After"] = str(retry_after)
    return response
