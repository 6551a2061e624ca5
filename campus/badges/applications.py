"""Review badges: a learner applies with evidence, a reviewer of their organisation decides."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import gettext as _

from campus.auth.models import User
from campus.badges.awarding import AwardResult
from campus.badges.awarding import active_assertion
from campus.badges.awarding import award
from campus.badges.issuers import BadgeError
from campus.badges.issuers import IssuingContext
from campus.badges.models import ApplicationStatus
from campus.badges.models import AwardSource
from campus.badges.models import BadgeApplication
from campus.badges.models import BadgeClass
from campus.extensions import db
from campus.paths.activities import ActivityError
from campus.paths.kinds.evidence import check_evidence
from campus.paths.uploads import EvidenceFile
from campus.paths.uploads import UploadRules
from campus.paths.uploads import insert_with_file
from campus.review import services as review
from campus.signals import evidence_reviewed
from campus.signals import evidence_submitted


def latest_application(user: User, badge: BadgeClass) -> BadgeApplication | None:
    return db.session.execute(
        db.select(BadgeApplication)
        .where(BadgeApplication.user_id == user.id, BadgeApplication.badge_class_id == badge.id)
        .order_by(BadgeApplication.submitted_at.desc(), BadgeApplication.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def apply_for_badge(
    user: User,
    badge: BadgeClass,
    narrative: str,
    link: str | None,
    file: EvidenceFile | None,
    rules: UploadRules,
    now: datetime,
) -> BadgeApplication:
    """Store evidence for a review badge; refuses while an application waits or the badge is held."""
    if not badge.is_review:
        raise BadgeError(_("This badge is not awarded on review."))
    if active_assertion(user, badge) is not None:
        raise BadgeError(_("You already hold this badge."))
    waiting = latest_application(user, badge)
    if waiting is not None and waiting.status == ApplicationStatus.SUBMITTED:
        raise BadgeError(_("Your earlier application is still waiting for review."))
    try:
        # The same evidence rules as a module's evidence, with its messages.
        narrative, link = check_evidence({}, narrative, link, file is not None)
        application = insert_with_file(
            BadgeApplication,
            file,
            rules,
            user_id=user.id,
            badge_class_id=badge.id,
            narrative=narrative,
            link_url=link,
            status=ApplicationStatus.SUBMITTED,
            submitted_at=now,
        )
    except ActivityError as error:
        raise BadgeError(str(error)) from error
    if application is None:  # a concurrent twin (a double click) got in first: it waits for review
        application = latest_application(user, badge)
        assert application is not None
    else:
        evidence_submitted.send(application)
    return application


def pending_applications(reviewer: User) -> list[BadgeApplication]:
    query = db.select(BadgeApplication).where(
        BadgeApplication.status == ApplicationStatus.SUBMITTED
    )
    query = review.reviewable(query, BadgeApplication, reviewer)
    return list(
        db.session.execute(
            query.order_by(BadgeApplication.submitted_at, BadgeApplication.id)
        ).scalars()
    )


def _check_open(application: BadgeApplication, reviewer: User) -> None:
    try:
        review.check_reviewer(reviewer, application.user_id)
    except review.ReviewError as error:
        raise BadgeError(str(error)) from error
    if application.status != ApplicationStatus.SUBMITTED:
        raise BadgeError(_("This application has already been reviewed."))


def accept_application(
    application: BadgeApplication,
    reviewer: User,
    feedback: str,
    context: IssuingContext,
    now: datetime,
) -> AwardResult:
    """Accept and award the badge with the evidence attached to the assertion."""
    _check_open(application, reviewer)
    evidence: dict[str, Any] = {"narrative": application.narrative}
    if application.link_url:
        evidence["id"] = application.link_url
    result = award(
        application.user, application.badge_class, context, now, AwardSource.REVIEW, [evidence]
    )
    application.status = ApplicationStatus.ACCEPTED
    application.reviewed_at = now
    application.reviewer_id = reviewer.id
    application.feedback = feedback.strip() or None
    # None while the badge is held for an unconfirmed address (campus.badges.claims).
    application.assertion_id = result.assertion.id if result.assertion is not None else None
    db.session.flush()
    evidence_reviewed.send(application, accepted=True)
    return result


def return_application(
    application: BadgeApplication, reviewer: User, feedback: str, now: datetime
) -> None:
    _check_open(application, reviewer)
    if not feedback.strip():
        raise BadgeError(_("Tell the learner what to improve."))
    application.status = ApplicationStatus.RETURNED
    application.reviewed_at = now
    application.reviewer_id = reviewer.id
    application.feedback = feedback.strip()
    db.session.flush()
    evidence_reviewed.send(application, accepted=False)
