"""Password reset by e-mail: a signed link that works once, for one hour.

The link carries the account id and a fingerprint of the current password hash, signed with the
campus secret: setting a new password changes the fingerprint, so a used link (or any older one)
stops working without a table of used tokens. The form answers the same whether or not the
address has an account, and requests are bounded per account (mails) and per address (requests),
so it can neither tell who has an account nor flood an inbox.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from datetime import timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadData
from itsdangerous import URLSafeTimedSerializer

from campus.auth.models import PasswordResetRequest
from campus.auth.models import User
from campus.auth.services import AccountError
from campus.auth.services import change_password
from campus.auth.services import find_user_by_email
from campus.auth.services import normalise_email
from campus.extensions import db
from campus.mailing import render_mail

RESET_SALT = "campus-password-reset"
RESET_MAX_AGE = timedelta(hours=1)
RESET_WINDOW = timedelta(hours=1)
MAILS_PER_ACCOUNT = 3  # per RESET_WINDOW: a lost first mail can be asked for again
REQUESTS_PER_ADDRESS = 20  # per RESET_WINDOW: one address may be a whole staff room
LMS_MADE_DOMAIN = "@lti.invalid"  # campus.lti.tool.provisioning.SYNTHETIC_DOMAIN


class ResetThrottled(Exception):
    """Too many reset requests from one address; `retry_after` seconds to wait."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=RESET_SALT)


def _fingerprint(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:24]


def reset_token(secret: str, user: User) -> str:
    return str(_serializer(secret).dumps({"u": user.id, "p": _fingerprint(user)}))


def user_for_token(secret: str, token: str, max_age: timedelta = RESET_MAX_AGE) -> User:
    """The account a valid, unused, unexpired link is for; AccountError otherwise."""
    invalid = AccountError(_("This link is not valid any more. Ask for a new one below."))
    if not token or len(token) > 500:
        raise invalid
    try:
        data = _serializer(secret).loads(token, max_age=int(max_age.total_seconds()))
    except BadData as error:
        raise invalid from error
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        raise invalid
    user = db.session.get(User, data["u"])
    if user is None or not user.is_active:
        raise invalid
    if not hmac.compare_digest(str(data.get("p", "")), _fingerprint(user)):
        raise invalid  # the password has changed since: the link was used or is an old one
    return user


def request_reset(email: str, address: str, now: datetime) -> User | None:
    """Record one request; returns the account to mail, or None (no such account, or its
    mails for this hour are used up). Raises ResetThrottled past the per-address bound."""
    since = now - RESET_WINDOW
    db.session.execute(
        db.delete(PasswordResetRequest).where(PasswordResetRequest.requested_at < since)
    )
    from_address, oldest = db.session.execute(
        db.select(db.func.count(), db.func.min(PasswordResetRequest.requested_at)).where(
            PasswordResetRequest.remote_addr == address[:64],
            PasswordResetRequest.requested_at >= since,
        )
    ).one()
    if from_address >= REQUESTS_PER_ADDRESS:
        wait = RESET_WINDOW - (now - _aware(oldest)) if oldest else RESET_WINDOW
        raise ResetThrottled(max(1, int(wait.total_seconds())))
    email = normalise_email(email)[:254]
    for_account = db.session.execute(
        db.select(db.func.count()).where(
            PasswordResetRequest.email == email, PasswordResetRequest.requested_at >= since
        )
    ).scalar_one()
    db.session.add(PasswordResetRequest(email=email, remote_addr=address[:64], requested_at=now))
    user = find_user_by_email(email)
    if user is None or not user.is_active or for_account >= MAILS_PER_ACCOUNT:
        return None
    if user.email.endswith(LMS_MADE_DOMAIN):
        return None  # LMS-made accounts have no password and no mailbox
    return user


def set_new_password(user: User, new_password: str) -> None:
    """The new password; every login of the account ends and the link stops working."""
    change_password(user, new_password)


def reset_message(link: str, locale: str) -> tuple[str, str, str]:
    """Subject, plain text and HTML of the mail with `link`, in `locale` (the recipient's)."""
    with force_locale(locale):
        subject = _("Set a new password for the campus")
    text, html = render_mail("password_reset", locale, link=link)
    return subject, text, html


def _aware(value: datetime) -> datetime:
    from campus.clock import aware

    return aware(value)
