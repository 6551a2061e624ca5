"""LTI Assignment and Grade Services 2.0, platform side: line items, scores, results.

The caller (views) has authenticated the tool by its Bearer token. Bodies are type-checked with
`campus.lti.payload` before anything is read from or written to the database, so that a
malformed request is a 400 and changes nothing. A tool sees only the contexts (paths) where it
is used, that is where a module that is not retired opens it (`tool_context_path`, the rule
member lists follow too); any other path is unknown to it (404) and nothing is recorded there.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any
from urllib.parse import quote

from campus.auth.models import User
from campus.extensions import db
from campus.insert_once import insert_once
from campus.lti import payload
from campus.lti.constants import MAX_ID
from campus.lti.constants import ActivityProgress
from campus.lti.constants import GradingProgress
from campus.lti.errors import LtiError
from campus.lti.keys import PlatformContext
from campus.lti.models import LtiLineItem
from campus.lti.models import LtiResourceLink
from campus.lti.models import LtiScore
from campus.lti.models import LtiTool
from campus.lti.platform import privacy
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


def tool_context_path(tool: LtiTool, context_id: str) -> LearningPath:
    """The path `context_id` names, if this tool is used in it; any other path is unknown to
    the tool (404), as for member lists (`nrps.tool_context_path`, the one rule)."""
    from campus.lti.platform import nrps  # nrps imports this module

    return nrps.tool_context_path(tool, context_id)


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
    }
    maximum = payload.finite(item.score_maximum)  # a row stored before the checks may be NaN
    if maximum is not None:
        document["scoreMaximum"] = maximum
    if item.resource_link_id:
        document["resourceLinkId"] = item.resource_link_id
    if item.resource_id:
        document["resourceId"] = item.resource_id
    if item.tag:
        document["tag"] = item.tag
    return document


def list_line_items(tool: LtiTool, context_id: str, filters: dict[str, str]) -> list[LtiLineItem]:
    tool_context_path(tool, context_id)
    query = db.select(LtiLineItem).where(
        LtiLineItem.tool_id == tool.id, LtiLineItem.context_id == context_id
    )
    for field in ("resource_link_id", "resource_id", "tag"):
        if filters.get(field):
            query = query.where(getattr(LtiLineItem, field) == filters[field])
    return list(db.session.execute(query.order_by(LtiLineItem.id)).scalars())


def create_line_item(tool: LtiTool, context_id: str, body: dict[str, Any]) -> LtiLineItem:
    tool_context_path(tool, context_id)
    label = payload.text(body, "label", required=True, max_length=500)
    maximum = payload.number(body, "scoreMaximum", required=True, positive=True)
    resource_link_id = payload.text(body, "resourceLinkId", max_length=64)
    # Both optional (AGS 2.0): None when not given (or empty), so that a tool may create several
    # gradebook columns without them. Our choice: the same non-empty resourceId *and* tag twice
    # in one context is refused (409) rather than creating a twin the tool cannot tell apart;
    # NULLs never collide in the unique key, so items missing either are never refused.
    resource_id = payload.text(body, "resourceId") or None
    tag = payload.text(body, "tag") or None
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
    """A line item of this tool in a context where the tool is used: a column made before the
    tool left the path (or before this rule) answers 404 too, and takes no score."""
    tool_context_path(tool, context_id)
    item = db.session.get(LtiLineItem, item_id) if 0 < item_id <= MAX_ID else None
    if item is None or item.tool_id != tool.id or item.context_id != context_id:
        raise LtiError("unknown line item", 404)
    return item


def user_from_sub(tool: LtiTool, sub: str) -> User | None:
    """The campus user behind a `userId` this tool sent (its pairwise `sub`, if it has them)."""
    user_id = privacy.user_id_for(tool, sub)
    return db.session.get(User, user_id) if user_id is not None else None


def _percent(given: float | None, maximum: float | None) -> float | None:
    """scoreGiven as a percentage of scoreMaximum; a quotient beyond float (a huge score over a
    tiny maximum) is refused, so only a finite percentage is ever compared or recorded."""
    if given is None or maximum is None:
        return None
    try:
        percent = 100.0 * (given / maximum)
    except (OverflowError, ZeroDivisionError) as error:
        raise LtiError("scoreGiven / scoreMaximum is out of range") from error
    if not math.isfinite(percent):
        raise LtiError("scoreGiven / scoreMaximum is out of range")
    return percent


def post_score(
    tool: LtiTool, item: LtiLineItem, body: dict[str, Any], now: datetime
) -> path_services.CompletionResult | None:
    """Store the score; a completed, graded score at the module's pass mark completes the module.

    Every number is checked (finite, scoreGiven ≥ 0, scoreMaximum > 0, scoreGiven only with
    scoreMaximum, a finite quotient) before anything is read or written."""
    sub = payload.text(body, "userId", required=True)
    activity = payload.text(body, "activityProgress", required=True, choices=ACTIVITY)
    grading = payload.text(body, "gradingProgress", required=True, choices=GRADING)
    given = payload.number(body, "scoreGiven")
    maximum = payload.number(body, "scoreMaximum", positive=True)
    timestamp = payload.timestamp(body, "timestamp")
    comment = payload.text(body, "comment", max_length=5000)
    if given is not None and maximum is None:
        raise LtiError("scoreGiven needs a positive scoreMaximum")
    percent = _percent(given, maximum)
    assert sub is not None
    user = user_from_sub(tool, sub)
    path = tool_context_path(tool, item.context_id)
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
    module = _module_for_link(item.resource_link_id, tool, item.context_id)
    if module is None or module.is_retired:
        return None
    if activity != ActivityProgress.COMPLETED and grading != GradingProgress.FULLY_GRADED:
        return None
    pass_mark = float(module.settings.get("pass_mark", 0))
    # Written so that a NaN (which compares False with everything) could never pass.
    if pass_mark and not (percent is not None and percent >= pass_mark):
        return None
    return path_services.complete_module(user, module, CompletionSource.LTI, now, score=percent)


def results(
    tool: LtiTool, item: LtiLineItem, context: PlatformContext, user_sub: str | None = None
) -> list[dict[str, Any]]:
    """The latest result of each person, or only of the person `user_sub` names (as this tool
    knows them; an unknown `sub` has no results). A number stored before the checks that is not
    finite is left out (JSON has no NaN or Infinity)."""
    query = db.select(LtiScore).where(LtiScore.line_item_id == item.id)
    if user_sub is not None:
        user_id = privacy.user_id_for(tool, user_sub) if "\x00" not in user_sub else None
        if user_id is None:
            return []
        query = query.where(LtiScore.user_id == user_id)
    latest: dict[int, LtiScore] = {}
    for score in db.session.execute(query.order_by(LtiScore.timestamp, LtiScore.id)).scalars():
        latest[score.user_id] = score
    line_item_url = context.lineitem_url(item.context_id, item.id)
    documents = []
    for score in latest.values():
        user = db.session.get(User, score.user_id)
        if user is None:
            continue
        sub = privacy.subject_for(tool, user)
        document: dict[str, Any] = {
            "id": f"{line_item_url}/results/{quote(sub, safe='')}",
            "scoreOf": line_item_url,
            "userId": sub,
        }
        given = payload.finite(score.score_given)
        maximum = payload.finite(score.score_maximum)
        if given is not None and maximum is not None:
            document["resultScore"] = given
            document["resultMaximum"] = maximum
        if score.comment:
            document["comment"] = score.comment
        documents.append(document)
    return documents
