"""Self-registration that does not tell whether an address already has an account.

A free and a taken address get the same answer after the same work (the password is hashed in
both cases); only a free one gets an account, which starts unverified: the view then mails the
address either way (campus.auth.verification.mail_after_registration), a confirmation link for
a new account and a note for an existing one. A per-address bound makes probing slow.
"""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta

from sqlalchemy.exc import IntegrityError

from campus.auth.login import LoginThrottled
from campus.auth.login import retry_after
from campus.auth.login import window_excess
from campus.auth.models import Organisation
from campus.auth.models import RegistrationAttempt
from campus.auth.models import User
from campus.auth.services import check_password_strength
from campus.auth.services import find_user_by_email
from campus.auth.services import hash_password
from campus.auth.services import new_user
from campus.extensions import db

REGISTRATION_WINDOW = timedelta(hours=1)
MAX_REGISTRATIONS_PER_ADDRESS = 20


class RegistrationThrottled(LoginThrottled):
    """Too many registrations from one address; `retry_after` seconds to wait."""


def registration_wait(address: str, now: datetime) -> int:
    """Seconds until `address` may register again (0: now)."""
    return retry_after(
        window_excess(
            RegistrationAttempt.attempted_at,
            RegistrationAttempt.remote_addr == address[:64],
            MAX_REGISTRATIONS_PER_ADDRESS,
            REGISTRATION_WINDOW,
            now,
        )
    )


def register(
    email: str,
    name: str,
    password: str,
    organisation: Organisation,
    locale: str | None,
    address: str,
    now: datetime,
) -> User | None:
    """Create an unverified learner account if `email` is free; None if it is taken (tell
    nobody which).

    Raises RegistrationThrottled, or AccountError for a weak password (the same for both).
    """
    wait = registration_wait(address, now)
    if wait:
        raise RegistrationThrottled(wait)
    check_password_strength(password)
    db.session.execute(
        db.delete(RegistrationAttempt).where(
            RegistrationAttempt.attempted_at < now - REGISTRATION_WINDOW
        )
    )
    db.session.add(RegistrationAttempt(remote_addr=address[:64], attempted_at=now))
    password_hash = hash_password(password)
    if find_user_by_email(email) is not None:
        return None
    try:
        with db.session.begin_nested():  # a double-clicked "Create account" races here
            return new_user(email, name, password_hash, organisation, locale)
    except IntegrityError:
        return None
