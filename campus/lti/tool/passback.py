"""Grade passback (AGS, tool side): a completion of a launched module or path becomes a score in
the LMS that launched it.

The completion's transaction only writes an outbox item (`campus.outbox`); the score is sent
after that commit, in the outbox's own transaction, within the seconds it grants: every HTTP
call of a delivery shares that budget, so a hanging LMS cannot hold the learner's page. A
failed delivery raises and the outbox retries it later (`flask outbox run`).
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.grade import Grade
from pylti1p3.lineitem import LineItem
from pylti1p3.service_connector import ServiceConnector

from campus.auth.models import User
from campus.clock import utcnow
from campus.extensions import db
from campus.i18n import pick
from campus.lti.constants import ActivityProgress
from campus.lti.constants import GradingProgress
from campus.lti.constants import parse_target
from campus.lti.constants import target_key
from campus.lti.errors import LtiError
from campus.lti.keys import PlatformContext
from campus.lti.models import LtiGradeTarget
from campus.lti.models import LtiPlatform
from campus.lti.tool.config import DatabaseToolConf
from campus.outbound import GuardedSession
from campus.outbound import OutboundError
from campus.outbound import OutboundPolicy
from campus.outbox.services import enqueue
from campus.outbox.services import handler
from campus.paths import services as path_services
from campus.paths.models import LearningPath
from campus.paths.models import Module
from campus.signals import module_completed
from campus.signals import path_completed

GRADE = "lti.grade"  # the outbox kind of one score for one LMS line item
SCORE_MAXIMUM = 100  # the maximum of the LMS columns the campus offers or creates (percent)


# --- queued with the completion --------------------------------------------------------------


def queue_results(user: User, keys: list[str], now: datetime) -> int:
    """An outbox item for every LMS line item waiting for one of `keys` (a module or a path)."""
    queued = 0
    for target in db.session.execute(
        db.select(LtiGradeTarget).where(
            LtiGradeTarget.user_id == user.id, LtiGradeTarget.target.in_(keys)
        )
    ).scalars():
        enqueue(GRADE, completed_payload(target, now), now, user_id=user.id)
        queued += 1
    return queued


def completed_payload(target: LtiGradeTarget, now: datetime) -> dict[str, Any]:
    return {
        "grade_target_id": target.id,
        "scoreGiven": 1,
        "scoreMaximum": 1,
        "activityProgress": ActivityProgress.COMPLETED.value,
        "gradingProgress": GradingProgress.FULLY_GRADED.value,
        "timestamp": now.isoformat(),
        "target": target.target,
    }


def _module_completed(sender: Module, user: User, **_extra: Any) -> None:
    queue_results(user, [target_key(sender.path.slug, sender.slug)], utcnow())


def _path_completed(sender: LearningPath, user: User, **_extra: Any) -> None:
    queue_results(user, [target_key(sender.slug)], utcnow())


def connect_signals() -> None:
    module_completed.connect(_module_completed)
    path_completed.connect(_path_completed)


def target_title(key: str, language: str) -> str:
    """What the LMS shows as the column of `key`: the module's (or path's) title in `language`,
    the key itself if the content has gone."""
    target = parse_target(key)
    path = path_services.get_path(target.path_slug) if target is not None else None
    if target is None or path is None:
        return key
    module = path_services.get_module(path, target.module_slug) if target.module_slug else None
    return pick(module.title if module else path.title, language) or key


# --- sent after the commit -------------------------------------------------------------------


class DeadlineSession(GuardedSession):
    """A guarded session whose requests together end within `seconds`: each one gets what is
    left of the budget as its connect and read timeouts (a read timeout is per read, so the
    overall body deadline is cut too)."""

    def __init__(self, policy: OutboundPolicy, seconds: float) -> None:
        super().__init__(policy)
        self._base_policy = policy
        self._deadline = time.monotonic() + seconds

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise OutboundError("no time left for this delivery")
        base = self._base_policy
        self.policy = replace(
            base,
            connect_timeout=min(base.connect_timeout, left),
            read_timeout=min(base.read_timeout, left),
            total_seconds=min(base.total_seconds, left),
        )
        return super().request(method, url, *args, **kwargs)


class OneShotConnector(ServiceConnector):
    """Keeps the LMS access token for one delivery only.

    The base class has no token cache at all (NotImplementedError) and the Flask one keeps tokens
    in a class-level dict across requests and platforms, which outlives an LMS key rotation.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._tokens: dict[str, str] = {}

    def _get_cached_access_token(self, scope_key: str) -> str | None:
        return self._tokens.get(scope_key)

    def _cache_access_token(self, scope_key: str, access_token: str, expires_in: float) -> None:
        self._tokens[scope_key] = access_token


@handler(GRADE, remote=True, label=_l("Grade to a learning platform"))
def deliver_grade(payload: dict[str, Any], now: datetime, timeout: float) -> None:
    """Send one score (token request + score POST, within `timeout` seconds in all); any
    exception leaves the item to the outbox's retries."""
    target = db.session.get(LtiGradeTarget, payload["grade_target_id"])
    if target is None:
        return None  # its LMS identity was removed: results no longer go to that LMS
    platform = db.session.get(LtiPlatform, target.platform_id)
    assert platform is not None
    context = PlatformContext.from_config(current_app.config)
    registration = DatabaseToolConf(context, now).find_registration_by_params(
        platform.issuer, platform.client_id
    )
    if registration is None:
        raise LtiError("the platform is disabled")
    # The LMS's token and AGS URLs: fetched under the outbound policy (campus.outbound).
    with DeadlineSession(context.outbound, timeout) as http:
        connector = OneShotConnector(registration, requests_session=http)
        ags = AssignmentsGradesService(connector, target.ags)
        grade = (
            Grade()
            .set_score_given(payload["scoreGiven"])
            .set_score_maximum(payload["scoreMaximum"])
            .set_activity_progress(payload["activityProgress"])
            .set_grading_progress(payload["gradingProgress"])
            .set_timestamp(payload["timestamp"])
            .set_user_id(target.sub)
        )
        line_item = None
        if not target.ags.get("lineitem"):
            line_item = (
                LineItem()
                .set_label(
                    target_title(
                        target.target,
                        target.ags.get("locale") or current_app.config["BABEL_DEFAULT_LOCALE"],
                    )
                )
                .set_score_maximum(SCORE_MAXIMUM)
                .set_tag(target.target)
                .set_resource_id(target.target)
            )
        ags.put_grade(grade, line_item)
    return None
