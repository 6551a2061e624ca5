"""Steps both LTI directions take: single-use values (nonces, token ids) and enrolment on launch."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError

from campus.auth.models import User
from campus.extensions import db
from campus.lti.errors import LtiError
from campus.lti.models import LtiReplay
from campus.paths import services as path_services
from campus.paths.activities import ActivityError
from campus.paths.models import LearningPath


def consume_once(key: str, expires_at: datetime, now: datetime) -> None:
    """Remember `key` until it expires; a second use is refused (replay)."""
    db.session.execute(db.delete(LtiReplay).where(LtiReplay.expires_at < now))
    try:
        with db.session.begin_nested():
            db.session.add(LtiReplay(key=key[:300], expires_at=expires_at))
    except IntegrityError as error:
        raise LtiError("this value was already used (replay)", 401) from error


def enrol_for_launch(user: User, path: LearningPath, now: datetime) -> None:
    """Enrol on launch (either direction); missing prerequisites refuse the launch with a 403."""
    try:
        path_services.enroll(user, path, now)
    except ActivityError as error:
        raise LtiError(str(error), 403) from error
