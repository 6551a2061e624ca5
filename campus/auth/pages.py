"""What every password-checking view shares (log in, password change, LMS linking): the
request's address and device cookie, the kept failure record, the throttled answer.

One place, so that a second caller of `login.check_password` cannot forget the failure record
or answer a throttled attempt differently.
"""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta

from flask import Response
from flask import flash
from flask import make_response
from flask import request
from flask_babel import format_timedelta
from flask_babel import gettext as _

from campus.auth import login
from campus.auth.models import User
from campus.extensions import db


def request_address() -> str:
    return request.remote_addr or "unknown"


def check_password(email: str, password: str, now: datetime) -> User | None:
    """`login.check_password` for this request's address and device cookie.

    A failure is committed here, so that it counts for the throttle whatever the view does next.
    Raises login.LoginThrottled.
    """
    user = login.check_password(
        email, password, request_address(), now, request.cookies.get(login.DEVICE_COOKIE)
    )
    if user is None:
        db.session.commit()
    return user


def remember_browser(response: Response, email: str) -> Response:
    """After a successful password check: this browser vouches for `email` from now on."""
    device_cookie = request.cookies.get(login.DEVICE_COOKIE)
    login.set_device_cookie(response, login.device_cookie_after_login(device_cookie, email))
    return response


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
