"""Reviewing learners' evidence: who may review whom, and the module-evidence queue.

Both reviewable capabilities use this scope: module evidence (decided here) and badge applications
(campus.badges.applications). A reviewer sees and decides only their own organisation's
learners, admins everyone's, nobody their own work.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import gettext as _

from campus.auth.models import Role
from campus.auth.models import User
from campus.extensions import db
from campus.paths import services as path_services
from campus.paths.models import CompletionSource
from campus.paths.models import EvidenceStatus
from campus.paths.models import EvidenceSubmission
from campus.paths.models import Module
from campus.signals import evidence_reviewed


class ReviewError(Exception):
    """A review that cannot be done; the message is shown to the reviewer."""


def reviewable(query: Any, model: Any, reviewer: User) -> Any:
    """Narrow `query` over `model` (which has `user_id`) to the learners `reviewer` may review."""
    if reviewer.has_role(Role.ADMIN):
        return query
    return query.join(User, User.id == model.user_id).where(
        User.organisation_id == reviewer.organisation_id
    )


def can_review(reviewer: User, applicant: User) -> bool:
    if reviewer.id == applicant.id or not reviewer.has_role(Role.REVIEWER):
        return False
    return reviewer.has_role(Role.ADMIN) or reviewer.organisation_id == applicant.organisation_id


def check_reviewer(reviewer: User, applicant_id: int) -> None:
    """Raise ReviewError unless `reviewer` may decide on `applicant_id`'s evidence."""
    if reviewer.id == applicant_id:
        raise ReviewError(_("You cannot review your own evidence."))
    applicant = db.session.get(User, applicant_id)
    if applicant is None or not can_review(reviewer, applicant):
        raise ReviewError(_("You can review only your own organisation's learners."))


def pending_module_evidence(reviewer: User) -> list[EvidenceSubmission]:
    query = db.select(EvidenceSubmission).where(
        EvidenceSubmission.status == EvidenceStatus.SUBMITTED
    )
    query = reviewable(query, EvidenceSubmission, reviewer)
    return list(
        db.session.execute(
            query.order_by(EvidenceSubmission.submitted_at, EvidenceSubmission.id)
        ).scalars()
    )


def review_module_evidence(
    submission: EvidenceSubmission, reviewer: User, accept: bool, feedback: str, now: datetime
) -> path_services.CompletionResult | None:
    """Accepting module evidence completes the module (and maybe the path, and so its badge)."""
    check_reviewer(reviewer, submission.user_id)
    if submission.status != EvidenceStatus.SUBMITTED:
        raise ReviewError(_("This submission has already been reviewed."))
    if not accept and not feedback.strip():
        raise ReviewError(_("Tell the learner what to improve."))
    submission.status = EvidenceStatus.ACCEPTED if accept else EvidenceStatus.RETURNED
    submission.reviewed_at = now
    submission.reviewer_id = reviewer.id
    submission.feedback = feedback.strip() or None
    db.session.flush()
    evidence_reviewed.send(submission, accepted=accept)
    if not accept:
        return None
    user = db.session.get(User, submission.user_id)
    module = db.session.get(Module, submission.module_id)
    assert user is not None and module is not None
    return path_services.complete_module(user, module, CompletionSource.REVIEW, now)
