"""Revocation: a revoked badge fails every verifier, and the issuer's list says why."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _

from campus.badges.issuers import BadgeError
from campus.badges.models import Assertion
from campus.badges.models import BadgeClass
from campus.badges.models import Issuer
from campus.extensions import db
from campus.signals import badge_revoked


def find_assertion(assertion_uuid: str) -> Assertion | None:
    return db.session.execute(
        db.select(Assertion).where(Assertion.uuid == assertion_uuid)
    ).scalar_one_or_none()


def find_assertions(uuids: list[str]) -> tuple[list[Assertion], list[str]]:
    """The listed assertions (each once, in order) and the ids that name none; for confirming."""
    wanted = list(dict.fromkeys(u.strip() for u in uuids if u.strip()))
    found = {
        a.uuid: a
        for chunk in (wanted[i : i + 500] for i in range(0, len(wanted), 500))
        for a in db.session.execute(db.select(Assertion).where(Assertion.uuid.in_(chunk))).scalars()
    }
    return [found[u] for u in wanted if u in found], [u for u in wanted if u not in found]


def revoke(assertion: Assertion, reason: str, now: datetime) -> bool:
    """Revoke with a reason; False when it was revoked already (the first reason stands)."""
    reason = reason.strip()
    if not reason:
        raise BadgeError(_("Give a reason for the revocation."))
    if assertion.revoked_at is not None:
        return False
    assertion.revoked_at = now
    assertion.revocation_reason = reason[:500]
    assertion.active_key = None
    db.session.flush()
    badge_revoked.send(assertion)
    return True


def revoke_many(uuids: list[str], reason: str, now: datetime) -> tuple[int, list[str]]:
    """Revoke every listed assertion; returns (revoked count, unknown ids). Nothing on error."""
    unknown = []
    revoked = 0
    for assertion_uuid in dict.fromkeys(u.strip() for u in uuids if u.strip()):
        assertion = find_assertion(assertion_uuid)
        if assertion is None:
            unknown.append(assertion_uuid)
        elif revoke(assertion, reason, now):
            revoked += 1
    return revoked, unknown


def revoked_for_issuer(issuer: Issuer) -> list[tuple[str, str]]:
    return [
        (a.uuid, a.revocation_reason or "")
        for a in db.session.execute(
            db.select(Assertion)
            .join(BadgeClass)
            .where(BadgeClass.issuer_id == issuer.id, Assertion.revoked_at.is_not(None))
            .order_by(Assertion.revoked_at, Assertion.id)
        ).scalars()
    ]
