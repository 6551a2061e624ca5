"""LTI Assignment and Grade Services 2.0, platform side: line items, scores, results.

The caller (views) has authenticated the tool by its Bearer token. Bodies are type-checked with
`campus.lti.payload` before anything is read from or written to the database, so that a
malformed request is a 400 and changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from campus.auth.models import User
from campus.extensions import db
from campus.insert_once import insert_once
from campus.lti import payload
from campus.lti.constants import MAX_ID
from campus.lti.constants import ActivityProgress
from campus.lti.constants import GradingProgress
from campus.lti.constants import subject
from campus.lti.constants import user_id_of
from campus.lti.errors import LtiError
from campus.lti.keys import PlatformContext
from campus.lti.models import LtiLineItem
from campus.lti.models import LtiResourceLink
from campus.lti.models import LtiScore
from campus.lti.models import LtiTool
from campus.paths import services as path_services
from campus.paths.models import CompletionSource
from campus.paths.models import Enrollment
from campus.paths.models import LearningPath
from campus.paths.models import Module

ACTIVITY = frozenset(progress.value for progress in ActivityProgress)
GRADING = frozenset(progress.value for progress in GradingProgress)


def context_path(context_id: str) -> LearningPath:
    path = path_services.get_path(context_id)
    if path is None:
        raise LtiError("unknown context", 404)
    return path


def _module_for_link(resource_link_id: str | None, tool: LtiTool, context_id: str) -> Module | None:
    """The module behind a resource link of this tool, in this context (path) only."""
    if not resource_link_id:
        return None
    link = db.session.execute(
        db.select(LtiResourceLink).where(LtiResourceLink.resource_link_id == resource_link_id)
    ).scalar_one_or_none()
    module = db.session.get(Module, link.module_id) if link is not None else None
    if link is None or link.tool_id != tool.id or module is None or module.path.slug != context_id:
        raise LtiError("unknown resourceLinkId in this context", 400)
    return module


def line_item_document(item: LtiLineItem, context: PlatformContext) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": context.lineitem_url(item.context_id, item.id),
        "label": item.label,
        "scoreMaximum": item.score_maximum,
    }
    if item.resource_link_id:
        document["resourceLinkId"] = item.resource_link_id
    if item.resource_id:
        document["resourceId"] = item.resource_id
    if item.tag:
        document["tag"] = item.tag
    return document


def list_line_items(tool: LtiTool, context_id: str, filters: dict[str, str]) -> list[LtiLineItem]:
    context_path(context_id)
    query = db.select(LtiLineItem).where(
        LtiLineItem.tool_id == tool.id, LtiLineItem.context_id == context_id
    )
    for field in ("resource_link_id", "resource_id", "tag"):
        if filters.get(field):
            query = query.where(getattr(LtiLineItem, field) == filters[field])
    return list(db.session.execute(query.order_by(LtiLineItem.id)).scalars())


def create_line_item(tool: LtiTool, context_id: str, body: dict[str, Any]) -> LtiLineItem:
    context_path(context_id)
    label = payload.text(body, "label", required=True, max_length=500)
    maximum = payload.number(body, "scoreMaximum", required=True, positive=True)
    resource_link_id = payload.text(body, "resourceLinkId", max_length=64)
    resource_id = payload.text(body, "resourceId") or ""
    tag = payload.text(body, "tag") or ""
    assert label is not None and maximum is not None
    _module_for_link(resource_link_id, tool, context_id)
    item = insert_once(
        LtiLineItem,
        tool_id=tool.id,
        context_id=context_id,
        resource_link_id=resource_link_id,
        label=label.strip(),
        score_maximum=maximum,
        resource_id=resource_id,
        tag=tag,
    )
    if item is None:
        raise LtiError("a line item with this resourceId and tag exists", 409)
    return item


def update_line_item(item: LtiLineItem, body: dict[str, Any]) -> None:
    """PUT: label and scoreMaximum may change; both are checked before either is set."""
    label = payload.text(body, "label", required="label" in body, max_length=500)
    maximum = payload.number(body, "scoreMaximum", required="scoreMaximum" in body, positive=True)
    if label is not None:
        item.label = label.strip()
    if maximum is not None:
        item.score_maximum = maximum
    db.session.flush()


def get_line_item(tool: LtiTool, context_id: str, item_id: int) -> LtiLineItem:
    item = db.session.get(LtiLineItem, item_id) if 0 < item_id <= MAX_ID else None
    if item is None or item.tool_id != tool.id or item.context_id != context_id:
        raise LtiError("unknown line item", 404)
    return item


def user_from_sub(sub: str) -> User | None:
    user_id = user_id_of(sub)
    return db.session.get(User, user_id) if user_id is not None else None


def post_score(
    item: LtiLineItem, body: dict[str, Any], now: datetime
) -> path_services.CompletionResult | None:
    """Store the score; a completed, graded score at the module's pass mark completes the module."""
    sub = payload.text(body, "userId", required=True)
    activity = payload.text(body, "activityProgress", required=True, choices=ACTIVITY)
    grading = payload.text(body, "gradingProgress", required=True, choices=GRADING)
    given = payload.number(body, "scoreGiven")
    maximum = payload.number(body, "scoreMaximum", positive=True)
    timestamp = payload.timestamp(body, "timestamp")
    comment = payload.text(body, "comment", max_length=5000)
    if given is not None and maximum is None:
        raise LtiError("scoreGiven needs a positive scoreMaximum")
    assert sub is not None
    user = user_from_sub(sub)
    path = context_path(item.context_id)
    enrolled = (
        user is not None
        and db.session.execute(
            db.select(Enrollment.id).where(
                Enrollment.user_id == user.id, Enrollment.path_id == path.id
            )
        ).first()
    )
    if user is None or not enrolled:
        raise LtiError("userId is not a member of this context")
    db.session.add(
        LtiScore(
            line_item_id=item.id,
            user_id=user.id,
            score_given=given,
            score_maximum=maximum,
            activity_progress=activity,
            grading_progress=grading,
            comment=comment or None,
            timestamp=timestamp,
        )
    )
    db.session.flush()
    module = _module_for_link(
        item.resource_link_id, db.session.get(LtiTool, item.tool_id), item.context_id
    )
    if module is None or module.is_retired:
        return None
    if activity != ActivityProgress.COMPLETED and grading != GradingProgress.FULLY_GRADED:
        return None
    pass_mark = float(module.settings.get("pass_mark", 0))
    percent = 100.0 * given / maximum if given is not None and maximum else None
    if pass_mark and (percent is None or percent < pass_mark):
        return None
    return path_services.complete_module(user, module, CompletionSource.LTI, now, score=percent)


def results(item: LtiLineItem, context: PlatformContext) -> list[dict[str, Any]]:
    latest: dict[int, LtiScore] = {}
    for score in db.session.execute(
        db.select(LtiScore)
        .where(LtiScore.line_item_id == item.id)
        .order_by(LtiScore.timestamp, LtiScore.id)
    ).scalars():
        latest[score.user_id] = score
    return [
        {
            "id": f"{context.lineitem_url(item.context_id, item.id)}/results/{score.user_id}",
            "scoreOf": context.lineitem_url(item.context_id, item.id),
            "userId": subject(score.user_id),
            "resultScore": score.score_given,
            "resultMaximum": score.score_maximum,
            "comment": score.comment,
        }
        for score in latest.values()
    ]
