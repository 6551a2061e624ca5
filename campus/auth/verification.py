"""E-mail verification: badges go only to addresses their owner has shown they read.

A link mailed to the address proves it. The link is signed with the campus secret and carries
the account, the address and a fingerprint of the account's login address and verification
time. Following it changes that fingerprint, so a used link (or an older copy of it) stops
working without a table of used tokens. Links work for 48 hours. A new login address waits as
an EmailChange until its link is followed; until then the old address logs in. Mails are bounded
per account and hour, so the campus cannot be made to flood an inbox or to probe for accounts,
and they carry nothing the person typed but addresses (no names: an account's name is
whatever its maker chose, and the campus must not carry someone's words to a stranger).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadData
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError

from campus.auth.data_export import exports
from campus.auth.data_export import time_text
from campus.auth.deletion import Erasure
from campus.auth.deletion import erases
from campus.auth.login import LoginThrottled
from campus.auth.login import retry_after
from campus.auth.login import window_excess
from campus.auth.models import User
from campus.auth.reset import LMS_MADE_DOMAIN
from campus.auth.services import AccountError
from campus.auth.services import find_user_by_email
from campus.auth.services import normalise_email
from campus.auth.verification_models import EmailChange
from campus.auth.verification_models import VerificationRequest
from campus.clock import aware
from campus.clock import aware_or_none
from campus.config import DEFAULT_LOCALE
from campus.extensions import db
from campus.mailing import queue_mail
from campus.mailing import render_mail
from campus.routing import external_url

VERIFY_SALT = "campus-email-verification"
LINK_MAX_AGE = timedelta(hours=48)
MAIL_WINDOW = timedelta(hours=1)
MAILS_PER_HOUR = 3  # per account: a lost first mail can be asked for again, twice
MAX_TOKEN_LENGTH = 1000


class VerificationThrottled(LoginThrottled):
    """Too many verification mails or address changes for one account; `retry_after` seconds."""


class LinkRefused(AccountError):
    """A link, or an address, that cannot be used; the message is for the person, `status`
    the HTTP answer (400 not valid, 403 another account, 409 address taken, 410 used/expired)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Confirmed:
    user: User
    address: str
    previous: str | None  # the login address before, when the link changed it


def is_lms_made(user: User) -> bool:
    """Accounts made by an LMS launch: no password, no mailbox (the LMS vouches instead)."""
    return user.email.endswith(LMS_MADE_DOMAIN)


def address_managed_elsewhere(user: User) -> bool:
    """The login address comes from an LMS or the organisation's login service, not a form."""
    return is_lms_made(user) or bool(user.organisation.sso_only)


# --- links ----------------------------------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=VERIFY_SALT)


def fingerprint(user: User) -> str:
    """Changes whenever a link is used: the login address or the verification time moves."""
    verified = aware_or_none(user.email_verified_at)
    state = f"{user.email}\n{int(verified.timestamp()) if verified else ''}"
    return hashlib.sha256(state.encode()).hexdigest()[:24]


def make_token(user: User, address: str) -> str:
    return str(_serializer().dumps({"u": user.id, "e": address, "f": fingerprint(user)}))


def read_link(token: str, now: datetime, acting_user_id: int | None = None) -> tuple[User, str]:
    """The account and address a valid, unused, unexpired link confirms; LinkRefused otherwise.

    `acting_user_id` is who is logged in in this browser (None: nobody); a link for another
    account is refused, so that nobody confirms a stranger's address by mistake.
    """
    invalid = LinkRefused(
        _("This link is not valid. Check that the whole link was copied from the message."), 400
    )
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise invalid
    try:
        data, signed_at = _serializer().loads(token, return_timestamp=True)
    except BadData as error:
        raise invalid from error
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        raise invalid
    if not isinstance(data.get("e"), str) or not isinstance(data.get("f"), str):
        raise invalid
    if now - aware(signed_at) > LINK_MAX_AGE:
        raise LinkRefused(
            _("This link has expired: links work for 48 hours. Ask for a new one."), 410
        )
    user = db.session.get(User, data["u"])
    if user is None or not user.is_active or user.deleted_at is not None:
        raise invalid
    if acting_user_id is not None and acting_user_id != user.id:
        raise LinkRefused(
            _(
                "This link was sent for another account. Log out first, or open the link in "
                "a browser where nobody is logged in to the campus."
            ),
            403,
        )
    address = data["e"]
    if not hmac.compare_digest(data["f"], fingerprint(user)):
        if address == user.email and user.email_verified:
            raise LinkRefused(
                _("This link has been used already: %(address)s is confirmed.", address=address),
                410,
            )
        raise LinkRefused(_("This link has been used already, or a newer one replaced it."), 410)
    if address != user.email:
        pending = db.session.get(EmailChange, user.id)
        if pending is None or pending.new_email != address:
            raise LinkRefused(
                _("This link has been used already, or a newer one replaced it."), 410
            )
    return user, address


def confirm(token: str, now: datetime, acting_user_id: int | None = None) -> Confirmed:
    """Follow a link: the address is verified and, for a change, becomes the login address.

    The caller then issues the badges held for the address (campus.badges.claims) and commits.
    """
    user, address = read_link(token, now, acting_user_id)
    previous = None
    if address != user.email:
        other = find_user_by_email(address)
        if other is not None and other.id != user.id:
            raise LinkRefused(
                _("Another account uses %(address)s now, so it cannot be yours.", address=address),
                409,
            )
        previous = user.email
        pending = db.session.get(EmailChange, user.id)
        try:
            with db.session.begin_nested():  # two accounts confirming one address race here
                user.email = address
                user.email_verified_at = now
                if pending is not None:
                    db.session.delete(pending)
        except IntegrityError as error:
            raise LinkRefused(
                _("Another account uses %(address)s now, so it cannot be yours.", address=address),
                409,
            ) from error
        _mail_change_notice(user, previous, now)
    else:
        user.email_verified_at = now
        db.session.flush()
    return Confirmed(user, address, previous)


# --- the hourly bound -----------------------------------------------------------------------


def mail_wait(user: User, now: datetime) -> int:
    """Seconds until `user` may be sent another verification mail (0: now)."""
    return retry_after(
        window_excess(
            VerificationRequest.requested_at,
            VerificationRequest.user_id == user.id,
            MAILS_PER_HOUR,
            MAIL_WINDOW,
            now,
        )
    )


def count_mail_request(user: User, now: datetime) -> None:
    """Count one mail (or tried change) for `user`, or VerificationThrottled past the bound."""
    db.session.execute(
        db.delete(VerificationRequest).where(VerificationRequest.requested_at < now - MAIL_WINDOW)
    )
    wait = mail_wait(user, now)
    if wait:
        raise VerificationThrottled(wait)
    db.session.add(VerificationRequest(user_id=user.id, requested_at=now))


# --- mails ----------------------------------------------------------------------------------


def _locale(user: User) -> str:
    """Mail goes in the recipient's language, whatever the page that sent it was in."""
    return user.locale or current_app.config.get("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)


@contextmanager
def _language_of(user: User) -> Iterator[None]:
    with force_locale(_locale(user)):
        yield


def _link(user: User, address: str) -> str:
    return external_url("auth.verify_email", token=make_token(user, address))


def send_verification(user: User, now: datetime) -> None:
    """Mail `user` a link that confirms their login address.

    Raises VerificationThrottled past the hourly bound, LinkRefused when there is nothing to do.
    """
    if is_lms_made(user):
        raise LinkRefused(_("Your course's LMS manages the address of this account."), 400)
    if user.email_verified:
        raise LinkRefused(_("Your e-mail address is confirmed already."), 409)
    count_mail_request(user, now)
    link = _link(user, user.email)
    text, html = render_mail("verify_email", _locale(user), link=link)
    with _language_of(user):
        subject = _("Confirm your e-mail address for the campus")
    queue_mail(user.email, subject, text, html, now=now, user_id=user.id, locale=_locale(user))


def mail_after_registration(email: str, created: User | None, now: datetime) -> None:
    """After a registration, mail the address either way, so the answer and the work do not
    tell whether it was free: a new account gets its link, an existing one a note that it
    exists (at most MAILS_PER_HOUR an hour, then silently nothing)."""
    if created is not None:
        send_verification(created, now)
        return
    existing = find_user_by_email(email)
    if existing is None or not existing.is_active or existing.deleted_at is not None:
        return
    if is_lms_made(existing) or mail_wait(existing, now):
        return
    count_mail_request(existing, now)
    text, html = render_mail(
        "account_exists",
        _locale(existing),
        login_link=external_url("auth.login"),
        reset_link=external_url("auth.forgot_password"),
    )
    with _language_of(existing):
        subject = _("You already have a campus account")
    queue_mail(
        existing.email, subject, text, html, now=now, user_id=existing.id, locale=_locale(existing)
    )


def pending_change(user: User) -> EmailChange | None:
    return db.session.get(EmailChange, user.id)


def start_email_change(user: User, new_email: str, now: datetime) -> EmailChange:
    """Keep `new_email` as pending and mail it a link; the login address changes only when
    that link is followed. The caller has checked the current password.

    Raises LinkRefused (an address in use: 409, counted against the hourly bound so that the
    form cannot probe for accounts) or VerificationThrottled.
    """
    address = normalise_email(new_email)
    if address_managed_elsewhere(user):
        raise LinkRefused(_("The address of this account is managed outside the campus."), 403)
    if not address or len(address) > 254 or "@" not in address:
        raise LinkRefused(_("Give a valid e-mail address."), 400)
    if address.endswith(LMS_MADE_DOMAIN):
        raise LinkRefused(_("Give a valid e-mail address."), 400)
    if address == user.email:
        raise LinkRefused(_("This is your login address already."), 400)
    count_mail_request(user, now)
    if find_user_by_email(address) is not None:
        raise LinkRefused(
            _(
                "Another account uses %(address)s. Choose another address, or log in to that "
                "account instead.",
                address=address,
            ),
            409,
        )
    pending = db.session.get(EmailChange, user.id)
    if pending is None:
        pending = EmailChange(user_id=user.id, new_email=address, requested_at=now)
        db.session.add(pending)
    else:
        pending.new_email, pending.requested_at = address, now
    db.session.flush()
    text, html = render_mail(
        "email_change",
        _locale(user),
        link=_link(user, address),
        address=address,
        current=user.email,
    )
    with _language_of(user):
        subject = _("Confirm your new e-mail address for the campus")
    queue_mail(address, subject, text, html, now=now, user_id=user.id, locale=_locale(user))
    return pending


def _mail_change_notice(user: User, previous: str, now: datetime) -> None:
    """Tell the old address that it no longer logs in: its owner may not have asked for it."""
    text, html = render_mail("email_changed", _locale(user), address=user.email, previous=previous)
    with _language_of(user):
        subject = _("The login address of your campus account was changed")
    queue_mail(previous, subject, text, html, now=now, user_id=user.id, locale=_locale(user))


@erases("e-mail verification")
def _erase(erasure: Erasure) -> None:
    """A pending new address is personal data; the hourly counts go with the account."""
    for table in (EmailChange, VerificationRequest):
        db.session.execute(db.delete(table).where(table.user_id == erasure.user.id))


@exports("pending_email_change")
def _export(user: User) -> dict[str, str | None] | None:
    change = db.session.get(EmailChange, user.id)
    if change is None:
        return None
    return {"new_email": change.new_email, "requested": time_text(change.requested_at)}
