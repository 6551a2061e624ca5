"""Joining a provider identity to an account that already has its e-mail address.

Matching by address alone would let anyone whose provider says "this is x@y" into x@y's
account, so the owner proves the account: its password (checked through
campus.auth.login.check_password by the view: throttled), or a link mailed to the address and
opened in the browser that started the login (bound by the browser token in its session, so a
mail sent to a victim cannot link an attacker's identity when the victim clicks it).
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from campus.auth import verification
from campus.auth.models import User
from campus.auth.sso.errors import SsoError
from campus.auth.sso.models import OidcPendingLink
from campus.auth.sso.services import LINK_MAX_AGE
from campus.auth.sso.services import LoginOutcome
from campus.auth.sso.services import add_identity
from campus.auth.sso.services import apply_profile
from campus.auth.sso.services import check_domain
from campus.auth.sso.services import find_identity
from campus.auth.sso.services import profile_from_claims
from campus.auth.sso.services import token_hash
from campus.clock import aware
from campus.config import DEFAULT_LOCALE
from campus.extensions import db
from campus.mailing import queue_mail
from campus.mailing import render_mail
from campus.routing import external_url


def _gone() -> SsoError:
    return SsoError(
        410,
        _("This login is no longer waiting to be linked. Please log in again."),
        "no pending link",
    )


def pending_for_browser(browser_token: str | None, now: datetime) -> OidcPendingLink:
    """The identity waiting in this browser (its session holds the token); SsoError 410 if none."""
    if not browser_token:
        raise _gone()
    pending = db.session.execute(
        db.select(OidcPendingLink).where(
            OidcPendingLink.browser_token_hash == token_hash(browser_token)
        )
    ).scalar_one_or_none()
    if pending is None or aware(pending.created_at) < now - LINK_MAX_AGE:
        raise _gone()
    return pending


def pending_for_mail(mail_token: str, browser_token: str | None, now: datetime) -> OidcPendingLink:
    """The identity a mailed link confirms, if opened in the browser that started the login."""
    if not mail_token or len(mail_token) > 200:
        raise _gone()
    pending = db.session.execute(
        db.select(OidcPendingLink).where(OidcPendingLink.mail_token_hash == token_hash(mail_token))
    ).scalar_one_or_none()
    if pending is None or aware(pending.created_at) < now - LINK_MAX_AGE:
        raise _gone()
    if not browser_token or not hmac.compare_digest(
        pending.browser_token_hash, token_hash(browser_token)
    ):
        raise SsoError(
            403,
            _(
                "Open this link in the browser where you logged in with %(name)s.",
                name=pending.provider.name,
            ),
            "mail link opened in another browser",
        )
    return pending


def link(pending: OidcPendingLink, account: User, now: datetime) -> LoginOutcome:
    """Join the waiting identity to `account` (whose password or mailbox was just proved)."""
    if account.id != pending.user_id:
        raise SsoError(403, _("That is not the account with this e-mail address."), "other user")
    if not account.is_active_account or account.deleted_at is not None:
        raise SsoError(403, _("This campus account is closed."), f"inactive user {account.id}")
    provider = pending.provider
    if not provider.is_enabled:
        raise _gone()
    profile = profile_from_claims(provider, pending.claims)
    check_domain(provider, profile)
    if find_identity(pending.issuer, pending.subject) is not None:
        db.session.delete(pending)
        raise SsoError(409, _("This identity is linked already. Please log in again."), "linked")
    add_identity(provider, profile, account, now)
    newly_verified = apply_profile(account, provider, profile, now)
    db.session.delete(pending)
    db.session.flush()
    return LoginOutcome(user=account, newly_verified=newly_verified)


def mail_link(pending: OidcPendingLink, now: datetime) -> str:
    """Queue the confirmation mail to the account's address; returns that address.

    Raises verification.VerificationThrottled past the hourly bound of mails to one account.
    """
    account = pending.user
    verification.count_mail_request(account, now)  # the campus's one bound on mails per account
    mail_token = secrets.token_urlsafe(32)
    pending.mail_token_hash = token_hash(mail_token)
    locale = account.locale or current_app.config.get("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    text, html = render_mail(
        "sso_link",
        locale,
        name=account.name,
        provider=pending.provider.name,
        link=external_url("sso.confirm_link", token=mail_token),
    )
    with force_locale(locale):
        subject = _("Link your campus account to %(name)s", name=pending.provider.name)
    queue_mail(account.email, subject, text, html, now=now, user_id=account.id, locale=locale)
    db.session.flush()
    return account.email
