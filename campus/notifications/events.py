"""Signal receivers: what happened to whom becomes a notification for the people concerned.

They run inside the transaction that changed the record and only write rows and outbox items
(the mails go after it commits). Times come from the records themselves, so a notice is dated
when the thing happened.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any

from sqlalchemy import or_

from campus.auth.models import Role
from campus.auth.models import User
from campus.auth.models import UserRole
from campus.badges.models import ApplicationStatus
from campus.badges.models import Assertion
from campus.badges.models import AwardSource
from campus.badges.models import BadgeApplication
from campus.clock import aware
from campus.clock import utcnow
from campus.extensions import db
from campus.notifications import services
from campus.notifications.messages import BADGE_AWARDED
from campus.notifications.messages import BADGE_REVOKED
from campus.notifications.messages import EVIDENCE_ACCEPTED
from campus.notifications.messages import EVIDENCE_RETURNED
from campus.notifications.messages import FOLLOWUP_FAILED
from campus.notifications.messages import REVIEW_QUEUE
from campus.signals import badge_awarded
from campus.signals import badge_revoked
from campus.signals import campus_signals
from campus.signals import evidence_reviewed
from campus.signals import evidence_submitted

log = logging.getLogger(__name__)

# Sent by campus.outbox.services when an item gives up after its last retry (sender: the
# OutboxItem). The namespace hands out one signal per name, so this is campus.signals' own.
outbox_item_failed = campus_signals.signal("outbox-item-failed")
MAIL_KIND = "mail.send"  # campus.mailing.MAIL_SEND: a failed mail is not reported by mail


def _guarded(receiver: Callable[..., None]) -> Callable[..., None]:
    """A notice that cannot be written (a bug, a template error) is logged and left out in a
    savepoint: the review, award or outbox record that caused it still commits."""

    @wraps(receiver)
    def run(sender: Any, **kwargs: Any) -> None:
        try:
            with db.session.begin_nested():
                receiver(sender, **kwargs)
        except Exception:  # noqa: BLE001 - the notification is secondary to the change itself
            log.exception("notifying about %r failed", sender)

    return run


def _moment(value: datetime | None) -> datetime:
    return aware(value) if value is not None else utcnow()


def _evidence_params(sender: Any) -> dict[str, Any]:
    if isinstance(sender, BadgeApplication):
        return {
            "source": "application",
            "application_id": sender.id,
            "badge_class_id": sender.badge_class_id,
            "assertion_id": sender.assertion_id,
        }
    return {"source": "module", "submission_id": sender.id, "module_id": sender.module_id}


@_guarded
def on_evidence_reviewed(sender: Any, accepted: bool = False, **_extra: Any) -> None:
    """The learner hears the verdict, with the reviewer's feedback."""
    params = {**_evidence_params(sender), "feedback": sender.feedback or None}
    kind = EVIDENCE_ACCEPTED if accepted else EVIDENCE_RETURNED
    services.notify(sender.user_id, kind, params, _moment(sender.reviewed_at))


def _accepting_an_application(assertion: Assertion) -> bool:
    """Accepting an application awards its badge before the application is marked accepted:
    the "accepted" notice that follows names the badge, so no second notice is needed."""
    if assertion.source != AwardSource.REVIEW:
        return False
    return (
        db.session.execute(
            db.select(BadgeApplication.id).where(
                BadgeApplication.user_id == assertion.user_id,
                BadgeApplication.badge_class_id == assertion.badge_class_id,
                BadgeApplication.status == ApplicationStatus.SUBMITTED,
            )
        ).first()
        is not None
    )


@_guarded
def on_badge_awarded(sender: Assertion, **_extra: Any) -> None:
    if _accepting_an_application(sender):
        return
    params = {"assertion_id": sender.id, "badge_class_id": sender.badge_class_id}
    services.notify(sender.user_id, BADGE_AWARDED, params, _moment(sender.issued_at))


@_guarded
def on_badge_revoked(sender: Assertion, **_extra: Any) -> None:
    params = {
        "assertion_id": sender.id,
        "badge_class_id": sender.badge_class_id,
        "reason": sender.revocation_reason,
    }
    services.notify(sender.user_id, BADGE_REVOKED, params, _moment(sender.revoked_at))


def reviewers_of(learner: User) -> list[int]:
    """Who may review `learner`'s evidence (campus.review.services.can_review): reviewers of
    the learner's organisation and campus admins, never the learner, only active accounts."""
    return list(
        db.session.execute(
            db.select(User.id)
            .join(UserRole, UserRole.user_id == User.id)
            .where(
                or_(
                    UserRole.role == Role.ADMIN,
                    (UserRole.role == Role.REVIEWER)
                    & (User.organisation_id == learner.organisation_id),
                ),
                User.id != learner.id,
                User.is_active_account.is_(True),
                User.deleted_at.is_(None),
            )
            .distinct()
            .order_by(User.id)
        ).scalars()
    )


@_guarded
def on_evidence_submitted(sender: Any, **_extra: Any) -> None:
    """New items in reviewers' queues: in their daily digest, never one mail per item."""
    learner = db.session.get(User, sender.user_id)
    if learner is None:
        return
    params = {**_evidence_params(sender), "learner_id": learner.id}
    params.pop("assertion_id", None)
    moment = _moment(sender.submitted_at)
    for reviewer_id in reviewers_of(learner):
        services.notify(reviewer_id, REVIEW_QUEUE, params, moment, digest_only=True)


def admin_ids() -> list[int]:
    return list(
        db.session.execute(
            db.select(User.id)
            .join(UserRole, UserRole.user_id == User.id)
            .where(
                UserRole.role == Role.ADMIN,
                User.is_active_account.is_(True),
                User.deleted_at.is_(None),
            )
            .order_by(User.id)
        ).scalars()
    )


@_guarded
def on_outbox_item_failed(sender: Any, **_extra: Any) -> None:
    """Admins hear of a follow-up that gave up (a grade passback, a badge award): one notice
    per kind of follow-up and day, counting the rest, so an LMS outage is not a mail flood.
    A failed mail is only listed in the campus: mailing about it would fail the same way."""
    now = _moment(sender.finished_at)
    params = {
        "item_id": sender.id,
        "item_kind": sender.kind,
        "error": (sender.last_error or "")[:500] or None,
    }
    once_key = f"{sender.kind}:{now.date().isoformat()}"
    for admin_id in admin_ids():
        services.bump_once(
            admin_id,
            FOLLOWUP_FAILED,
            once_key,
            params,
            now,
            in_app_only=sender.kind == MAIL_KIND,
        )


def connect_receivers() -> None:
    evidence_reviewed.connect(on_evidence_reviewed)
    evidence_submitted.connect(on_evidence_submitted)
    badge_awarded.connect(on_badge_awarded)
    badge_revoked.connect(on_badge_revoked)
    outbox_item_failed.connect(on_outbox_item_failed)


def disconnect_receivers() -> None:
    """Signals are process-wide: tests that add this capability to an app take it back."""
    evidence_reviewed.disconnect(on_evidence_reviewed)
    evidence_submitted.disconnect(on_evidence_submitted)
    badge_awarded.disconnect(on_badge_awarded)
    badge_revoked.disconnect(on_badge_revoked)
    outbox_item_failed.disconnect(on_outbox_item_failed)
