"""Awarding: sign, bake and store an assertion once, then any milestone it completes.

Badges go to verified addresses only: an award to someone whose address is not confirmed is
held as an open claim (campus.badges.claims issues it once the address is verified).

Services flush and never commit: an award commits with the request (or the outbox job) that
earned it, and a failure anywhere (key, signing, baking, database) rolls it all back.
"""

from __future__ import annotations

import secrets
import uuid as uuid_module
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from campus.auth.models import User
from campus.auth.services import normalise_email
from campus.badges import ob2
from campus.badges import signing
from campus.badges.baking import bake
from campus.badges.claim_models import BadgeClaim
from campus.badges.claim_models import open_key
from campus.badges.issuers import BadgeError
from campus.badges.issuers import IssuingContext
from campus.badges.models import Assertion
from campus.badges.models import AssertionStatus
from campus.badges.models import AwardRule
from campus.badges.models import AwardSource
from campus.badges.models import BadgeClass
from campus.badges.models import SigningKey
from campus.badges.ob3 import keys as ob3_keys
from campus.badges.revocation import revoke
from campus.badges.transaction_cache import in_transaction
from campus.clock import aware
from campus.extensions import db
from campus.i18n import pick
from campus.insert_once import insert_once
from campus.paths import kinds
from campus.paths.models import LearningPath
from campus.signals import badge_awarded


@dataclass
class AwardResult:
    """`assertion` is None while the award is held (`claim` says what waits)."""

    assertion: Assertion | None
    created: bool
    milestones: list[Assertion] = field(default_factory=list)
    claim: BadgeClaim | None = None

    @property
    def held(self) -> bool:
        return self.assertion is None


def recipient_verified(user: User) -> bool:
    """May badges be made out to this person's address now?

    A verified login address, or a badge address an LMS launch (campus.lti.tool.provisioning)
    or a confirmation link (campus.lti.tool.identity) set for an LMS-made account.
    """
    return user.email_verified or bool(user.badge_email)


def active_assertion(user: User, badge: BadgeClass) -> Assertion | None:
    """The award of `badge` that `user` holds (None mostly: asked by its key's index alone,
    the row loads only when there is one)."""
    found = db.session.execute(
        db.select(Assertion.id).where(Assertion.active_key == f"{badge.id}:{user.id}")
    ).scalar_one_or_none()
    return db.session.get(Assertion, found) if found is not None else None


def is_expired(assertion: Assertion, now: datetime) -> bool:
    return assertion.expires_at is not None and aware(assertion.expires_at) <= now


def status_of(assertion: Assertion, now: datetime) -> AssertionStatus:
    if assertion.revoked_at is not None:
        return AssertionStatus.REVOKED
    return AssertionStatus.EXPIRED if is_expired(assertion, now) else AssertionStatus.VALID


def sign_and_bake(assertion: Assertion, key: SigningKey, context: IssuingContext) -> None:
    """(Re)write the signed edition and both baked images of `assertion` with `key`.

    Used at issue time and when a key rotation re-signs the stored editions. The issuer's
    first award also gives it the Ed25519 key its OB 3.0 credentials are signed with.
    """
    badge = assertion.badge_class
    ob3_keys.ed25519_key_for_signing(
        badge.issuer, context.keys_dir, context.passphrase, assertion.issued_at
    )
    payload = ob2.assertion_document(
        context.urls,
        uuid=assertion.uuid,
        badge_slug=badge.slug,
        identity=assertion.recipient_hash,
        salt=assertion.recipient_salt,
        issued_at=assertion.issued_at,
        expires_at=assertion.expires_at,
        evidence=assertion.evidence,
        key_id=key.kid,
    )
    jws = signing.sign_assertion(payload, key, context.keys_dir, context.passphrase)
    assertion.signing_key = key
    assertion.jws = jws
    assertion.baked_png = bake(badge.image_png, jws)
    assertion.baked_svg = bake(badge.image_svg, jws)


def award(
    user: User,
    badge: BadgeClass,
    context: IssuingContext,
    now: datetime,
    source: AwardSource,
    evidence: list[dict[str, Any]] | None = None,
) -> AwardResult:
    """Issue `badge` to `user` once: sign, bake and store, then award any milestone it completes.

    Everything happens in the caller's transaction; an exception leaves nothing behind.
    """
    existing = active_assertion(user, badge)
    if existing is not None and not is_expired(existing, now):
        return AwardResult(existing, created=False)
    if existing is not None:
        # Earned again after it expired: the old assertion stays as history, a new one is issued.
        existing.active_key = None
        db.session.flush()
    if badge.is_retired:
        raise BadgeError(_("This badge is no longer awarded."))
    if not recipient_verified(user):
        return AwardResult(None, created=False, claim=hold(user, badge, now, source, evidence))
    key = signing.key_for_signing(badge.issuer, context.keys_dir, context.passphrase, now)
    salt = secrets.token_hex(16)
    assertion = Assertion(
        uuid=str(uuid_module.uuid4()),
        badge_class=badge,
        user_id=user.id,
        active_key=f"{badge.id}:{user.id}",
        recipient_salt=salt,
        # The stored address exactly as it is: verifiers hash what the learner types (OB 2.0).
        recipient_hash=ob2.recipient_hash(user.badge_email or user.email, salt),
        issued_at=now,
        expires_at=now + timedelta(days=badge.valid_for_days) if badge.valid_for_days else None,
        evidence=evidence or [],
        source=source,
    )
    sign_and_bake(assertion, key, context)
    try:
        with db.session.begin_nested():
            db.session.add(assertion)
    except IntegrityError:
        winner = active_assertion(user, badge)
        if winner is None:
            raise
        return AwardResult(winner, created=False)
    badge_awarded.send(assertion)
    result = AwardResult(assertion, created=True)
    result.milestones = _award_milestones(user, badge, context, now)
    return result


def hold(
    user: User,
    badge: BadgeClass,
    now: datetime,
    source: AwardSource,
    evidence: list[dict[str, Any]] | None = None,
    created_by: User | None = None,
) -> BadgeClaim:
    """The open claim that keeps `badge` for `user` until their address is verified (one per
    badge and address: a second award finds the first)."""
    email = normalise_email(user.email)
    key = open_key(badge, email)
    claim = insert_once(
        BadgeClaim,
        badge_class_id=badge.id,
        email=email,
        user_id=user.id,
        open_key=key,
        source=source,
        evidence=evidence or [],
        created_by_id=created_by.id if created_by is not None else None,
        created_at=now,
    )
    if claim is None:
        claim = db.session.execute(
            db.select(BadgeClaim).where(BadgeClaim.open_key == key)
        ).scalar_one()
        if claim.user_id is None:  # claimed for the address before this account existed
            claim.user_id = user.id
    return claim


def _award_milestones(
    user: User, badge: BadgeClass, context: IssuingContext, now: datetime
) -> list[Assertion]:
    """Award each milestone that `badge` completes; the holdings query runs only when one could."""
    candidates = [
        (milestone_id, slug, members)
        for milestone_id, slug, members in _milestones()
        if badge.slug in members
    ]
    if not candidates:
        return []
    awarded = []
    held = held_badge_slugs(user, now)
    for milestone_id, slug, members in candidates:
        if set(members) <= held and slug not in held:
            milestone = db.session.get_one(BadgeClass, milestone_id)
            result = award(
                user,
                milestone,
                context,
                now,
                AwardSource.MILESTONE,
                [{"narrative": _milestone_narrative(milestone)}],
            )
            if result.created and result.assertion is not None:
                awarded.append(result.assertion)
                awarded.extend(result.milestones)
                held.add(milestone.slug)
    return awarded


def _milestones() -> list[tuple[int, str, list[str]]]:
    """(id, slug, members) of every milestone badge: three columns (the artwork is read only
    when one is awarded), read once a transaction (a bulk award asks with every award)."""
    held = in_transaction("campus.milestones")
    if "all" not in held:
        held["all"] = [
            (milestone_id, slug, list(members))
            for milestone_id, slug, members in db.session.execute(
                db.select(BadgeClass.id, BadgeClass.slug, BadgeClass.members).where(
                    BadgeClass.award_rule == AwardRule.MILESTONE, BadgeClass.is_retired.is_(False)
                )
            )
        ]
    return held["all"]


def _milestone_narrative(milestone: BadgeClass) -> str:
    return "Holds every member badge: " + ", ".join(milestone.members)


def held_badge_slugs(user: User, now: datetime) -> set[str]:
    """Slugs of the valid badges the user holds: one query of two columns (no signed blobs),
    whatever the number of badges (milestone checks and the badge catalogue ask this)."""
    rows = db.session.execute(
        db.select(BadgeClass.slug, Assertion.expires_at)
        .join(Assertion.badge_class)
        .where(Assertion.user_id == user.id, Assertion.revoked_at.is_(None))
    )
    return {slug for slug, expires in rows if expires is None or aware(expires) > now}


def held_assertions(user: User) -> list[Assertion]:
    return list(
        db.session.execute(
            db.select(Assertion)
            .where(Assertion.user_id == user.id, Assertion.revoked_at.is_(None))
            .order_by(Assertion.issued_at.desc(), Assertion.id.desc())
        ).scalars()
    )


def all_assertions(user: User) -> list[Assertion]:
    return list(
        db.session.execute(
            db.select(Assertion)
            .where(Assertion.user_id == user.id)
            .order_by(Assertion.issued_at.desc(), Assertion.id.desc())
        ).scalars()
    )


def path_evidence(user: User, path: LearningPath, completed_at: datetime) -> list[dict[str, Any]]:
    """What a path badge carries as evidence: the completion, then what the module kinds add."""
    completed = (
        f'Completed the path "{pick(path.title, "en")}" on {completed_at.date().isoformat()}.'
    )
    return [{"narrative": completed}, *kinds.badge_evidence(user, path.active_modules)]


def award_for_path(
    user: User, path: LearningPath, completed_at: datetime, context: IssuingContext
) -> AwardResult | None:
    badge = db.session.execute(
        db.select(BadgeClass).where(BadgeClass.path_id == path.id, BadgeClass.is_retired.is_(False))
    ).scalar_one_or_none()
    if badge is None:
        return None
    return award(
        user,
        badge,
        context,
        completed_at,
        AwardSource.PATH,
        path_evidence(user, path, completed_at),
    )


def reissue_to_current_email(user: User, context: IssuingContext, now: datetime) -> int:
    """After the learner claims an address: badges made out to another address are re-issued
    (returns how many), and awards held until an address was confirmed are issued."""
    from campus.badges.claims import issue_waiting_badges  # claims builds on this module

    email = user.badge_email or user.email
    count = 0
    for assertion in held_assertions(user):
        if ob2.recipient_matches(email, assertion.recipient_salt, assertion.recipient_hash):
            continue
        badge, evidence, source = (
            assertion.badge_class,
            list(assertion.evidence),
            AwardSource(assertion.source),
        )
        revoke(assertion, "Re-issued to the address the learner claimed.", now)
        award(user, badge, context, now, source, evidence)
        count += 1
    issue_waiting_badges(user, context, now)
    return count
