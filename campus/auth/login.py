"""The one place that checks passwords and starts sessions.

Every view that takes a password (log in, change password, link an LMS account) goes through
`check_password`, so the throttle and the failure records cannot be skipped by a second caller;
every view that logs someone in goes through `sign_in`.

The throttle must slow guessing without letting a stranger lock real users out:
- per account, failures from unknown browsers back off exponentially (1 s, 2 s … 15 min);
- a browser that has logged in to the account before carries a signed *device cookie*
  (OWASP "slow down online guessing attacks with device cookies"): its attempts only count
  against that browser, so an attack on the account does not lock its owner out;
- per address, a much higher bound, since one address may be a whole school behind NAT.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any

from flask import Response
from flask import current_app
from flask import session
from flask_login import current_user
from flask_login import login_user
from flask_login import logout_user
from itsdangerous import BadData
from itsdangerous import URLSafeTimedSerializer
from werkzeug.local import LocalProxy

from campus.auth.models import LoginFailure
from campus.auth.models import LoginSession
from campus.auth.models import User
from campus.auth.models import login_token_hash
from campus.auth.services import authenticate
from campus.auth.services import normalise_email
from campus.clock import aware
from campus.extensions import db

THROTTLE_WINDOW = timedelta(minutes=15)
# Failures of one account before each further attempt has to wait (1 s, 2 s, 4 s … 15 min).
FREE_FAILURES_PER_ACCOUNT = 5
# Unknown browsers back off per (account, address); across all addresses an account gets many
# more free failures, so that a guesser elsewhere cannot lock its owner out of a new browser.
FREE_FAILURES_PER_ACCOUNT_EVERYWHERE = 50
MAX_ACCOUNT_DELAY = timedelta(minutes=15)
# One address may be many people behind a NAT or an unconfigured proxy: a much higher bound.
MAX_FAILURES_PER_ADDRESS = 500

DEVICE_COOKIE = "campus_device"
DEVICE_COOKIE_AGE = timedelta(days=365)
# Accounts one browser vouches for (a shared computer at home or in a staff room).
MAX_DEVICE_ACCOUNTS = 5


class LoginThrottled(Exception):
    """Too many recent failures; `retry_after` seconds until the next attempt is allowed."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = max(1, retry_after)


def _seconds(wait: timedelta) -> int:
    return int(wait.total_seconds() + 0.999) if wait > timedelta(0) else 0


def window_excess(
    moment: Any, condition: Any, limit: int, window: timedelta, now: datetime
) -> timedelta | None:
    """When `limit` rows matching `condition` fall within the last `window` (timed by the column
    `moment`): how long until the oldest leaves it. None while under the bound.

    The one sliding-window bound behind the per-address login bound, registrations and
    verification mails."""
    count, oldest = db.session.execute(
        db.select(db.func.count(), db.func.min(moment)).where(condition, moment >= now - window)
    ).one()
    if count < limit or oldest is None:
        return None
    return aware(oldest) + window - now


def retry_after(excess: timedelta | None) -> int:
    """`window_excess` as whole seconds for `Retry-After` (0: now; at least 1 once bound)."""
    return 0 if excess is None else max(1, _seconds(excess))


def _account(email: str) -> str:
    return normalise_email(email)[:254]


def _backoff(failures: int, last: datetime | None, free: int, now: datetime) -> timedelta:
    """1 s, 2 s, 4 s … up to MAX_ACCOUNT_DELAY after the last failure, once `free` are spent."""
    if failures < free or last is None:
        return timedelta(0)
    exponent = min(failures - free, 20)
    return aware(last) + min(timedelta(seconds=2**exponent), MAX_ACCOUNT_DELAY) - now


def _failures(*conditions: object) -> tuple[int, datetime | None]:
    count, last = db.session.execute(
        db.select(db.func.count(), db.func.max(LoginFailure.failed_at)).where(*conditions)
    ).one()
    return count, last


def throttle_wait(email: str, address: str, now: datetime, device: str | None = None) -> int:
    """Seconds until `email` may try again from `address` (0: now).

    With a `device` (a valid device cookie for this account) only that browser's own failures
    count. Without one: the failures of unknown browsers from this address, a much higher
    bound for unknown browsers everywhere, and the per-address bound.
    """
    recent = (
        LoginFailure.email == _account(email),
        LoginFailure.failed_at >= now - THROTTLE_WINDOW,
    )
    if device:
        own = _failures(*recent, LoginFailure.device == device)
        return _seconds(_backoff(*own, FREE_FAILURES_PER_ACCOUNT, now))
    unknown = (*recent, LoginFailure.device.is_(None))
    here = _failures(*unknown, LoginFailure.remote_addr == address[:64])
    everywhere = _failures(*unknown)
    wait = max(
        _backoff(*here, FREE_FAILURES_PER_ACCOUNT, now),
        _backoff(*everywhere, FREE_FAILURES_PER_ACCOUNT_EVERYWHERE, now),
    )
    per_address = window_excess(
        LoginFailure.failed_at,
        LoginFailure.remote_addr == address[:64],
        MAX_FAILURES_PER_ADDRESS,
        THROTTLE_WINDOW,
        now,
    )
    if per_address is not None:
        wait = max(wait, per_address)
    return _seconds(wait)


def record_failure(email: str, address: str, now: datetime, device: str | None = None) -> None:
    db.session.execute(
        db.delete(LoginFailure).where(LoginFailure.failed_at < now - THROTTLE_WINDOW)
    )
    db.session.add(
        LoginFailure(email=_account(email), remote_addr=address[:64], failed_at=now, device=device)
    )


def clear_failures(email: str, address: str, device: str | None = None) -> None:
    """Forget the failures of the source that just succeeded (not an attacker's elsewhere)."""
    same_source = (
        (LoginFailure.device == device,)
        if device
        else (LoginFailure.device.is_(None), LoginFailure.remote_addr == address[:64])
    )
    db.session.execute(
        db.delete(LoginFailure).where(LoginFailure.email == _account(email), *same_source)
    )


def check_password(
    email: str, password: str, address: str, now: datetime, device_cookie: str | None = None
) -> User | None:
    """The active user with this e-mail and password, or None (the failure is recorded).

    `device_cookie` is the raw DEVICE_COOKIE value the browser sent, if any.
    Raises LoginThrottled before looking at the password when the throttle says wait.
    The caller commits, also on failure, so that the failure record is kept.
    """
    device = trusted_device(device_cookie, email)
    wait = throttle_wait(email, address, now, device)
    if wait:
        raise LoginThrottled(wait)
    user = authenticate(email, password)
    if user is None:
        record_failure(email, address, now, device)
        return None
    clear_failures(email, address, device)
    return user


def sign_in(user: User) -> None:
    """Start a session for `user`: a real object (never the current_user proxy), fresh CSRF token.

    Logging in the proxy would make it refer to itself, and the next use of current_user in
    the same request recurses until the worker crashes.
    """
    if isinstance(user, LocalProxy):
        user = user._get_current_object()  # type: ignore[assignment]
    previous = current_user._get_current_object() if current_user.is_authenticated else None
    if previous is not None and previous.login_token:
        _end_login(previous.login_token)  # this browser's earlier login (e.g. another launch)
    for key in ("csrf_token", "locale", "lti_embed"):
        session.pop(key, None)
    token = secrets.token_urlsafe(32)
    db.session.add(LoginSession(token_hash=login_token_hash(token), user_id=user.id))
    _forget_old_logins(user)
    db.session.flush()
    user.login_token = token
    login_user(user)


def sign_out() -> None:
    """End this login on the server too: a copy of the cookie is worth nothing afterwards."""
    if current_user.is_authenticated and current_user.login_token:
        _end_login(current_user.login_token)
    logout_user()
    session.pop("csrf_token", None)


def end_all_logins(user: User) -> None:
    """Every browser of `user` has to log in again (a password change or reset)."""
    db.session.execute(db.delete(LoginSession).where(LoginSession.user_id == user.id))


def _end_login(token: str) -> None:
    db.session.execute(
        db.delete(LoginSession).where(LoginSession.token_hash == login_token_hash(token))
    )


def _forget_old_logins(user: User) -> None:
    """Logins older than LOGIN_MAX_AGE end (and their rows go): bounded rows per person."""
    oldest = datetime.now(UTC) - current_app.config.get("LOGIN_MAX_AGE", timedelta(days=90))
    db.session.execute(
        db.delete(LoginSession).where(
            LoginSession.user_id == user.id, LoginSession.created_at < oldest
        )
    )


def _device_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="campus.device-cookie")  # type: ignore[arg-type]


def _account_tag(email: str) -> str:
    """The account, named in the cookie without showing its e-mail address."""
    key = str(current_app.secret_key).encode()
    return hmac.new(key, _account(email).encode(), hashlib.sha256).hexdigest()[:32]


def _read_device_cookie(cookie: str | None) -> tuple[str, list[str]] | None:
    if not cookie or len(cookie) > 2000:
        return None
    try:
        data = _device_serializer().loads(cookie, max_age=int(DEVICE_COOKIE_AGE.total_seconds()))
    except BadData:
        return None
    device, accounts = (data.get("d"), data.get("a")) if isinstance(data, dict) else (None, None)
    if not isinstance(device, str) or not isinstance(accounts, list):
        return None
    return device[:32], [tag for tag in accounts if isinstance(tag, str)]


def trusted_device(cookie: str | None, email: str) -> str | None:
    """The device id if `cookie` is a valid device cookie that vouches for `email`, else None."""
    read = _read_device_cookie(cookie)
    if read is None or _account_tag(email) not in read[1]:
        return None
    return read[0]


def device_cookie_after_login(cookie: str | None, email: str) -> str:
    """The device cookie to send after `email` logged in: this browser now vouches for it."""
    device, accounts = _read_device_cookie(cookie) or (secrets.token_urlsafe(16), [])
    tag = _account_tag(email)
    accounts = [tag, *(other for other in accounts if other != tag)][:MAX_DEVICE_ACCOUNTS]
    return _device_serializer().dumps({"d": device, "a": accounts})


def set_device_cookie(response: Response, value: str) -> None:
    """Long-lived, HttpOnly, with the session cookie's Secure/SameSite/Partitioned settings."""
    config = current_app.config
    response.set_cookie(
        DEVICE_COOKIE,
        value,
        max_age=int(DEVICE_COOKIE_AGE.total_seconds()),
        httponly=True,
        secure=bool(config.get("SESSION_COOKIE_SECURE")),
        samesite=config.get("SESSION_COOKIE_SAMESITE") or "Lax",
        partitioned=bool(config.get("SESSION_COOKIE_PARTITIONED")),
    )
