"""Path badges follow a path completion through the outbox, after the completion has committed.

Signing or baking can fail (a missing key, a broken image): the learner's completion is kept
and the award is retried; the admin's follow-up page shows why it waits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from campus.auth.models import User
from campus.badges.awarding import award_for_path
from campus.badges.issuers import IssuingContext
from campus.badges.web import EARNED
from campus.clock import aware
from campus.extensions import db
from campus.i18n import pick
from campus.outbox.services import Announcement
from campus.outbox.services import enqueue
from campus.outbox.services import handler
from campus.paths.models import LearningPath
from campus.paths.models import PathCompletion

PATH_AWARD = "badges.path-award"


def on_path_completed(
    path: LearningPath, user: User, path_completion: PathCompletion, **_extra: Any
) -> None:
    enqueue(
        PATH_AWARD,
        {"user_id": user.id, "path_id": path.id},
        path_completion.completed_at,
        user_id=user.id,
    )


@handler(PATH_AWARD, label=_l("Path badge"))
def award_path_badge(payload: dict[str, Any], now: datetime, timeout: float) -> list[Announcement]:
    """Award the path's badge (and any milestone it completes), dated at the completion."""
    user = db.session.get(User, payload["user_id"])
    path = db.session.get(LearningPath, payload["path_id"])
    if user is None or path is None:
        return []  # the account or the path was deleted meanwhile: nothing to award
    completion = db.session.execute(
        db.select(PathCompletion).where(
            PathCompletion.user_id == user.id, PathCompletion.path_id == path.id
        )
    ).scalar_one_or_none()
    if completion is None:
        return []
    context = IssuingContext.from_config(current_app.config)
    result = award_for_path(user, path, aware(completion.completed_at), context)
    if result is not None and result.claim is not None:
        # Held: badges go to confirmed addresses only (campus.badges.claims issues it then).
        name = pick(result.claim.badge_class.name)
        message = _("Confirm your e-mail address to receive the badge “%(name)s”.", name=name)
        return [Announcement(user.id, message, "info")]
    if result is None or not result.created:
        return []
    return [
        Announcement(
            user.id,
            _(
                "You earned the badge “%(name)s”. Find it in My badges.",
                name=pick(assertion.badge_class.name),
            ),
            # The page shows the badge itself for this category (badges/_earned.html).
            f"{EARNED}:{assertion.uuid}",
        )
        for assertion in [result.assertion, *result.milestones]
        if assertion is not None
    ]


def connect_signals() -> None:
    from campus.signals import path_completed

    path_completed.connect(on_path_completed)
