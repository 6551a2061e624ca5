"""Deleting one's own account (data rights).

The `user` row stays, anonymised, so that organisation statistics keep their counts (completions,
assessment numbers, reviews done); everything that is about the person as a person goes: name,
addresses, logins, texts, links and files they wrote, identities that point at them elsewhere.

Each capability erases its own rows: a function decorated with `@erases("name")` gets an
`Erasure` (the account before anonymising, its addresses, `now`) and deletes or blanks what it
owns. This module erases the tables that existed when it was written (`_core`); a newer
capability registers its eraser in its own package (imported by its `init_app`), so deleting an
account never forgets a table that nobody told this module about.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from pathlib import Path
from typing import Any

from campus.auth.models import LoginFailure
from campus.auth.models import LoginSession
from campus.auth.models import PasswordResetRequest
from campus.auth.models import Role
from campus.auth.models import User
from campus.auth.models import UserRole
from campus.auth.reset import LMS_MADE_DOMAIN
from campus.auth.services import normalise_email
from campus.auth.services import set_roles
from campus.extensions import db

DELETED_NAME = "Deleted account"  # what lists show for the row that stays
UNUSABLE_PASSWORD = "!deleted"  # not a werkzeug hash: no password ever matches it
REVOCATION_REASON = "Account deleted"  # public, in the issuer's revocation list


class DeletionRefused(Exception):
    """The account cannot be deleted now; the message is shown to the person."""


@dataclass
class Erasure:
    """What an eraser needs: the account (not yet anonymised) and what to clean up after."""

    user: User
    # The account's addresses before anonymising (login and badge address), normalised:
    # rows that name the person by address (throttle records, claims, mails) are found by them.
    emails: frozenset[str]
    keep_badges: bool
    now: datetime
    # Stored names of uploaded files (in UPLOAD_DIR): removed once the deletion has committed.
    files: list[str] = field(default_factory=list)


Eraser = Callable[[Erasure], None]
_erasers: dict[str, Eraser] = {}  # registered by the capabilities, in their init_app
_core_erasers: dict[str, Eraser] = {}  # registered below, for the tables this module knows


def erases(name: str) -> Callable[[Eraser], Eraser]:
    """Register `function(erasure)` as capability `name`'s part of deleting an account.

    Erasers run inside the deletion's transaction, after the badges were revoked (when asked)
    and before the account row is anonymised; they flush, never commit. Capability erasers run
    first (their rows may point at core rows such as evidence or assertions), then the core
    ones, the outbox last: nothing queued for the person on the way is sent.
    """

    def register(function: Eraser) -> Eraser:
        _erasers[name] = function
        return function

    return register


def _core(name: str) -> Callable[[Eraser], Eraser]:
    def register(function: Eraser) -> Eraser:
        _core_erasers[name] = function
        return function

    return register


def registered_erasers() -> list[str]:
    """Every eraser's name, in the order they run."""
    return [*_erasers, *_core_erasers]


@dataclass(frozen=True)
class DeletionResult:
    revoked: int  # badges revoked because the person asked
    files: list[str]  # stored upload names to remove after the commit (discard_files)


def has_password(user: User) -> bool:
    """False for accounts that log in elsewhere (an SSO provider, an LMS launch): they confirm
    a deletion by typing their address, as they have no campus password to give."""
    if user.password_hash.startswith("!") or user.email.endswith(LMS_MADE_DOMAIN):
        return False
    return not user.organisation.sso_only


def is_last_admin(user: User) -> bool:
    """The only working campus admin: deleting them would leave nobody to run the campus."""
    if Role.ADMIN not in user.roles:
        return False
    others = db.session.execute(
        db.select(db.func.count())
        .select_from(UserRole)
        .join(User, User.id == UserRole.user_id)
        .where(
            UserRole.role == Role.ADMIN,
            User.id != user.id,
            User.is_active_account.is_(True),
            User.deleted_at.is_(None),
        )
    ).scalar_one()
    return others == 0


def last_admin_message() -> str:
    from flask_babel import gettext as _

    return _(
        "You are the only administrator of the campus. Make someone else an administrator "
        "first, then delete your account."
    )


def valid_badge_count(user: User) -> int:
    from campus.badges.models import Assertion

    return db.session.execute(
        db.select(db.func.count()).where(
            Assertion.user_id == user.id, Assertion.revoked_at.is_(None)
        )
    ).scalar_one()


def delete_account(user: User, keep_badges: bool, now: datetime) -> DeletionResult:
    """Erase the person's data and anonymise their account; the caller commits, then removes
    `result.files` from the upload folder (discard_files) and logs the browser out.

    `keep_badges`: their badges stay verifiable (the recipient is a salted hash of the address,
    so nothing in them names the person); otherwise each valid one is revoked.
    Raises DeletionRefused for the last campus admin and for an account deleted already.
    """
    from flask_babel import gettext as _

    if user.deleted_at is not None:
        raise DeletionRefused(_("This account has been deleted already."))
    if is_last_admin(user):
        raise DeletionRefused(last_admin_message())
    emails = {normalise_email(user.email)}
    if user.badge_email:
        emails.add(normalise_email(user.badge_email))
    erasure = Erasure(user=user, emails=frozenset(emails), keep_badges=keep_badges, now=now)
    revoked = 0 if keep_badges else _revoke_badges(user, now)
    for eraser in [*_erasers.values(), *_core_erasers.values()]:
        eraser(erasure)
    _anonymise(user, now)
    db.session.flush()
    return DeletionResult(revoked=revoked, files=list(erasure.files))


def discard_files(upload_dir: Path, stored_names: list[str]) -> None:
    """Remove the deleted evidence files (after the commit: a rolled-back deletion keeps them)."""
    for name in stored_names:
        (upload_dir / Path(name).name).unlink(missing_ok=True)  # never outside the folder


def _revoke_badges(user: User, now: datetime) -> int:
    from campus.badges.models import Assertion
    from campus.badges.revocation import revoke

    valid = db.session.execute(
        db.select(Assertion)
        .where(Assertion.user_id == user.id, Assertion.revoked_at.is_(None))
        .order_by(Assertion.id)
    ).scalars()
    return sum(revoke(assertion, REVOCATION_REASON, now) for assertion in list(valid))


def _anonymise(user: User, now: datetime) -> None:
    email = f"deleted-{user.id}@invalid"
    taken = db.session.execute(
        db.select(User.id).where(User.email == email, User.id != user.id)
    ).first()
    if taken is not None:  # someone made this address by hand: still unique
        email = f"deleted-{user.id}-{secrets.token_hex(4)}@invalid"
    user.name = DELETED_NAME
    user.email = email
    user.password_hash = UNUSABLE_PASSWORD
    user.badge_email = None
    user.locale = None
    user.email_verified_at = None
    user.is_active_account = False
    user.deleted_at = now
    set_roles(user, set())


# --- the erasers of the capabilities that existed with this module ----------------------------


@_core("auth")
def _erase_logins(erasure: Erasure) -> None:
    """Logged out everywhere; throttle and reset records that name the addresses go too."""
    db.session.execute(db.delete(LoginSession).where(LoginSession.user_id == erasure.user.id))
    db.session.execute(db.delete(LoginFailure).where(LoginFailure.email.in_(erasure.emails)))
    db.session.execute(
        db.delete(PasswordResetRequest).where(PasswordResetRequest.email.in_(erasure.emails))
    )


def _blank_upload(row: Any, erasure: Erasure, text_field: str) -> None:
    """A reviewed upload keeps its status and dates (review counts), not its content."""
    if row.stored_name:
        erasure.files.append(row.stored_name)
    setattr(row, text_field, "")
    for name in ("link_url", "file_name", "stored_name", "file_size", "feedback"):
        setattr(row, name, None)


def _erase_uploads(model: Any, waiting: object, text_field: str, erasure: Erasure) -> None:
    """Waiting submissions go (nobody is left to review them for); reviewed ones are blanked."""
    rows = db.session.execute(db.select(model).where(model.user_id == erasure.user.id)).scalars()
    for row in list(rows):
        _blank_upload(row, erasure, text_field)
        if row.status == waiting:
            db.session.delete(row)


@_core("paths")
def _erase_learning(erasure: Erasure) -> None:
    """Reflections and evidence are the person's texts; completions and quiz scores stay."""
    from campus.paths.models import EvidenceStatus
    from campus.paths.models import EvidenceSubmission
    from campus.paths.models import ReflectionAnswer

    db.session.execute(
        db.delete(ReflectionAnswer).where(ReflectionAnswer.user_id == erasure.user.id)
    )
    _erase_uploads(EvidenceSubmission, EvidenceStatus.SUBMITTED, "description", erasure)


@_core("badges")
def _erase_badge_applications(erasure: Erasure) -> None:
    from campus.badges.models import ApplicationStatus
    from campus.badges.models import BadgeApplication

    _erase_uploads(BadgeApplication, ApplicationStatus.SUBMITTED, "narrative", erasure)


@_core("assessments")
def _erase_plans(erasure: Erasure) -> None:
    """The development plan goes; assessment answers stay (numbers counted per organisation)."""
    from campus.assessments.models import PlanItem

    db.session.execute(db.delete(PlanItem).where(PlanItem.user_id == erasure.user.id))


@_core("network")
def _erase_memberships(erasure: Erasure) -> None:
    """Group memberships name the person and their responsibilities."""
    from campus.network.models import GroupMembership

    db.session.execute(db.delete(GroupMembership).where(GroupMembership.user_id == erasure.user.id))


@_core("lti")
def _erase_lti(erasure: Erasure) -> None:
    """Every link to the person in an LMS or a tool: a later launch makes a new account."""
    from campus.lti.models import LtiGradeTarget
    from campus.lti.models import LtiIdentity
    from campus.lti.models import LtiLoginToken
    from campus.lti.models import LtiScore
    from campus.lti.models import LtiToolSubject

    user_id = erasure.user.id
    for model in (LtiIdentity, LtiGradeTarget, LtiLoginToken, LtiToolSubject):
        db.session.execute(db.delete(model).where(model.user_id == user_id))
    db.session.execute(db.update(LtiScore).where(LtiScore.user_id == user_id).values(comment=None))


@_core("outbox")
def _erase_follow_ups(erasure: Erasure) -> None:
    """Follow-ups for the person (mails with their address, awards, grades) are not sent.

    A follow-up that a runner holds right now is left to finish: deleting it under the runner
    would fail its run.
    """
    from campus.outbox.models import OutboxItem
    from campus.outbox.models import OutboxStatus

    db.session.execute(
        db.delete(OutboxItem)
        .where(
            OutboxItem.status != OutboxStatus.RUNNING.value,
            db.or_(
                OutboxItem.user_id == erasure.user.id,
                OutboxItem.payload["to"].as_string().in_(erasure.emails),
            ),
        )
        .execution_options(synchronize_session=False)
    )
