"""LTI Names and Role Provisioning Services 2.0, platform side: a path's members, paged.

The caller (views) has authenticated the tool by its Bearer token.
"""

from __future__ import annotations

from typing import Any

from campus.auth.models import User
from campus.extensions import db
from campus.lti.constants import subject
from campus.lti.errors import LtiError
from campus.lti.keys import PlatformContext
from campus.lti.platform.ags import context_path
from campus.lti.platform.launch import lis_roles
from campus.paths.models import Enrollment

MAX_PAGE = 1_000_000
MAX_LIMIT = 100


def members_page(
    context_id: str, page: int, limit: int, context: PlatformContext
) -> tuple[dict[str, Any], str | None]:
    """A page of the path's members (everyone enrolled); the next page's URL, if any."""
    from campus.i18n import pick

    path = context_path(context_id)
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
            "user_id": subject(u.id),
            "name": u.name,
            "email": u.email,
            "roles": lis_roles(u),
        }
        for u in users[:limit]
    ]
    document = {
        "id": context.memberships_url(context_id),
        "context": {"id": path.slug, "label": path.slug, "title": pick(path.title)},
        "members": members,
    }
    next_url = context.memberships_url(context_id, page=page + 1, limit=limit) if has_next else None
    return document, next_url
