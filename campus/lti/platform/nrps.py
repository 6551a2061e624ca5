"""LTI Names and Role Provisioning Services 2.0, platform side: a path's members, paged.

The caller (views) has authenticated the tool by its Bearer token. A tool reads the members of
a context (path) where it is used, that is where a module that is not retired opens it; any
other path is unknown to it (404, as if it did not exist). Each member
is described as the tool's privacy level allows (campus.lti.platform.privacy), exactly as in
its launches: `user_id` is the tool's `sub` for the person, names and e-mail only if shared.
"""

from __future__ import annotations

from typing import Any

from campus.auth.models import User
from campus.extensions import db
from campus.lti.errors import LtiError
from campus.lti.keys import PlatformContext
from campus.lti.models import LtiResourceLink
from campus.lti.models import LtiTool
from campus.lti.platform.ags import context_path
from campus.lti.platform.launch import lis_roles
from campus.lti.platform.privacy import person_claims
from campus.lti.platform.privacy import subject_for
from campus.paths.models import Enrollment
from campus.paths.models import LearningPath

MAX_PAGE = 1_000_000
MAX_LIMIT = 100


def tool_context_path(tool: LtiTool, context_id: str) -> LearningPath:
    """The path `context_id` names, if this tool is used in it (a module that is not retired
    names the tool in its settings, or has a resource link of it); otherwise an unknown context."""
    path = context_path(context_id)
    modules = path.active_modules
    if any(module.settings.get("tool") == tool.slug for module in modules):
        return path
    linked = db.session.execute(
        db.select(LtiResourceLink.id)
        .where(
            LtiResourceLink.tool_id == tool.id,
            LtiResourceLink.module_id.in_([module.id for module in modules]),
        )
        .limit(1)
    ).first()
    if linked is None:
        raise LtiError("unknown context", 404)
    return path


def members_page(
    tool: LtiTool, context_id: str, page: int, limit: int, context: PlatformContext
) -> tuple[dict[str, Any], str | None]:
    """A page of the path's members (everyone enrolled); the next page's URL, if any.

    May create pairwise subjects (privacy.subject_for): the caller commits."""
    from campus.i18n import pick

    path = tool_context_path(tool, context_id)
    if page > MAX_PAGE:
        raise LtiError("page is out of range")
    page, limit = max(page, 1), min(max(limit, 1), MAX_LIMIT)
    query = (
        db.select(User)
        .join(Enrollment, Enrollment.user_id == User.id)
        .where(Enrollment.path_id == path.id)
        .order_by(User.id)
    )
    users = list(db.session.execute(query.offset((page - 1) * limit).limit(limit + 1)).scalars())
    has_next = len(users) > limit
    members = [
        {
            "status": "Active",
            "user_id": subject_for(tool, user),
            **person_claims(tool, user),
            "roles": lis_roles(user),
        }
        for user in users[:limit]
    ]
    document = {
        "id": context.memberships_url(context_id),
        "context": {"id": path.slug, "label": path.slug, "title": pick(path.title)},
        "members": members,
    }
    next_url = context.memberships_url(context_id, page=page + 1, limit=limit) if has_next else None
    return document, next_url
