"""Badges waiting for a verified address: awards to people without an account (a claim mail
invites them) and held awards of accounts whose address is not confirmed yet.

Services flush and never commit: a claim, its mail (through the outbox) and its issue commit
with the request that made them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import or_

from campus.auth.data_export import exports
from campus.auth.data_export import time_text
from campus.auth.deletion import Erasure
from campus.auth.deletion import erases
from campus.auth.models import User
from campus.auth.services import normalise_email
from campus.badges.awarding import AwardResult
from campus.badges.awarding import award
from campus.badges.awarding import recipient_verified
from campus.badges.claim_models import BadgeClaim
from campus.badges.claim_models import open_key
from campus.badges.issuers import BadgeError
from campus.badges.issuers import IssuingContext
from campus.badges.models import Assertion
from campus.badges.models import AwardSource
from campus.badges.models import BadgeClass
from campus.config import DEFAULT_LOCALE
from campus.extensions import db
from campus.i18n import pick
from campus.insert_once import insert_once
from campus.mailing import queue_mail
from campus.mailing import render_mail
from campus.routing import external_url

CLAIM_MAIL = "badge_claim"


def verified_addresses(user: User) -> set[str]:
    """The addresses this person has proved they read (normalised)."""
    addresses = set()
    if user.email_verified:
        addresses.add(normalise_email(user.email))
    if user.badge_email:
        addresses.add(normalise_email(user.badge_email))
    return addresses


def _open_claims(user: User, addresses: set[str]) -> list[BadgeClaim]:
    """Open claims held for this account, or made out to one of `addresses` and nobody else."""
    mine = BadgeClaim.user_id == user.id
    condition = (
        or_(mine, BadgeClaim.email.in_(addresses) & BadgeClaim.user_id.is_(None))
        if addresses
        else mine
    )
    return list(
        db.session.execute(
            db.select(BadgeClaim)
            .where(condition, BadgeClaim.issued_at.is_(None), BadgeClaim.cancelled_at.is_(None))
            .order_by(BadgeClaim.created_at, BadgeClaim.id)
        ).scalars()
    )


def held_claims(user: User) -> list[BadgeClaim]:
    """What waits for this person, verified or not: their own pages say so (and why)."""
    addresses = {normalise_email(user.email)}
    if user.badge_email:
        addresses.add(normalise_email(user.badge_email))
    return _open_claims(user, addresses)


def issue_waiting_badges(user: User, context: IssuingContext, now: datetime) -> list[Assertion]:
    """Issue every open claim of `user` (held awards and claims for a verified address of theirs),
    then any milestone they complete; in the caller's transaction, each claim once.

    Call right after the address is verified. Nothing happens while it is not; a claim whose
    badge was retired meanwhile stays open and unissued. Signing errors propagate (the caller's
    transaction then fails whole). Returns the assertions issued, milestones included.
    """
    if not recipient_verified(user):
        return []
    issued: list[Assertion] = []
    for claim in _open_claims(user, verified_addresses(user)):
        if claim.badge_class.is_retired:
            continue
        result = award(user, claim.badge_class, context, now, claim.source, list(claim.evidence))
        assert result.assertion is not None
        claim.user_id = user.id
        claim.issued_assertion_id = result.assertion.id
        claim.issued_at = now
        claim.open_key = None
        if result.created:
            issued.append(result.assertion)
        issued.extend(result.milestones)
    db.session.flush()
    return issued


def user_for_address(email: str) -> User | None:
    return db.session.execute(
        db.select(User).where(User.email == normalise_email(email), User.deleted_at.is_(None))
    ).scalar_one_or_none()


def award_to_address(
    email: str,
    badge: BadgeClass,
    context: IssuingContext,
    now: datetime,
    source: AwardSource,
    evidence: list[dict[str, Any]],
    created_by: User | None,
    locale: str | None,
) -> AwardResult:
    """Award `badge` to whoever reads `email` (the admin's single award)."""
    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise BadgeError(_("Give a valid e-mail address."))
    return award_to_recipient(
        email, user_for_address(email), badge, context, now, source, evidence, created_by, locale
    )


def award_to_recipient(
    email: str,
    user: User | None,
    badge: BadgeClass,
    context: IssuingContext,
    now: datetime,
    source: AwardSource,
    evidence: list[dict[str, Any]],
    created_by: User | None,
    locale: str | None,
) -> AwardResult:
    """At once to a verified account; otherwise a claim and one claim mail to `email` (held for
    an unverified account, waiting for an account for an unknown address)."""
    if user is not None:
        result = award(user, badge, context, now, source, evidence)
        if result.claim is not None:
            if result.claim.created_by_id is None and created_by is not None:
                result.claim.created_by_id = created_by.id
            send_claim_mail(result.claim, locale, now)
        return result
    if badge.is_retired:
        raise BadgeError(_("This badge is no longer awarded."))
    claim = _open_claim(email, badge, now, source, evidence, created_by)
    send_claim_mail(claim, locale, now)
    return AwardResult(None, created=False, claim=claim)


def _open_claim(
    email: str,
    badge: BadgeClass,
    now: datetime,
    source: AwardSource,
    evidence: list[dict[str, Any]],
    created_by: User | None,
) -> BadgeClaim:
    key = open_key(badge, email)
    claim = insert_once(
        BadgeClaim,
        badge_class_id=badge.id,
        email=email,
        user_id=None,
        open_key=key,
        source=source,
        evidence=evidence,
        created_by_id=created_by.id if created_by is not None else None,
        created_at=now,
    )
    if claim is None:  # one is open already: it stands (with its first evidence)
        claim = db.session.execute(
            db.select(BadgeClaim).where(BadgeClaim.open_key == key)
        ).scalar_one()
    return claim


def send_claim_mail(claim: BadgeClaim, locale: str | None, now: datetime) -> bool:
    """Tell the address about the badge waiting for it: once per open claim.

    Builds addresses on BASE_URL: outside a request, call it in `app.test_request_context()`.
    """
    if not claim.is_open or claim.claim_mail_sent_at is not None:
        return False
    badge = claim.badge_class
    user = db.session.get(User, claim.user_id) if claim.user_id is not None else None
    # Unknown people have no language yet: the awarding admin's, else the campus default.
    locale = (
        (user.locale if user is not None else None)
        or locale
        or current_app.config.get("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    )
    text, html = render_mail(
        CLAIM_MAIL,
        locale,
        badge_name=pick(badge.name, locale),
        has_account=user is not None,
        register_url=external_url("auth.register", email=claim.email),
        login_url=external_url("auth.login"),
        evidence=[item.get("narrative", "") for item in claim.evidence if item.get("narrative")],
    )
    subject = _claim_subject(pick(badge.name, locale), locale)
    queue_mail(claim.email, subject, text, html, now=now, user_id=claim.user_id)
    claim.claim_mail_sent_at = now
    db.session.flush()
    return True


def _claim_subject(badge_name: str, locale: str) -> str:
    with force_locale(locale):
        return _("You have been awarded the badge “%(name)s”", name=badge_name)


def pending_claims(badge: BadgeClass, limit: int | None = 500) -> list[BadgeClaim]:
    """Open claims of `badge`, newest first (the admin's list; `limit=None` for all)."""
    query = (
        db.select(BadgeClaim)
        .where(
            BadgeClaim.badge_class_id == badge.id,
            BadgeClaim.issued_at.is_(None),
            BadgeClaim.cancelled_at.is_(None),
        )
        .order_by(BadgeClaim.created_at.desc(), BadgeClaim.id.desc())
    )
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.execute(query).scalars())


def cancel_claim(claim: BadgeClaim, now: datetime) -> bool:
    """Withdraw an open claim (its link then leads nowhere); False when it was not open."""
    if not claim.is_open:
        return False
    claim.cancelled_at = now
    claim.open_key = None
    db.session.flush()
    return True


def cancel_claims_of(user: User, now: datetime) -> int:
    """Cancel what waits for this account (for account deletion); returns how many."""
    count = 0
    for claim in held_claims(user):
        count += cancel_claim(claim, now)
    return count


@erases("badge claims")
def _erase(erasure: Erasure) -> None:
    """Claims name the person by address: those for the account or its addresses go with it."""
    db.session.execute(
        db.delete(BadgeClaim).where(
            or_(BadgeClaim.user_id == erasure.user.id, BadgeClaim.email.in_(erasure.emails))
        )
    )


@exports("badge_claims")
def _export(user: User) -> list[dict[str, Any]]:
    """Badges waiting for the person (or for their address), issued or not."""
    rows = db.session.execute(
        db.select(BadgeClaim)
        .where(or_(BadgeClaim.user_id == user.id, BadgeClaim.email == normalise_email(user.email)))
        .order_by(BadgeClaim.id)
    ).scalars()
    return [
        {
            "badge": row.badge_class.slug,
            "email": row.email,
            "created": time_text(row.created_at),
            "issued": time_text(row.issued_at),
            "cancelled": time_text(row.cancelled_at),
        }
        for row in rows
    ]
