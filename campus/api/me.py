"""The caller's own account, progress and badges (personal access tokens with profile:read).

The same services as the dashboard and the backpack: progress from campus.paths.services,
awards as the backpack lists them (every award, revoked and expired ones with their status).
"""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from sqlalchemy.orm import defer
from sqlalchemy.orm import selectinload

from campus.api.auth import current_principal
from campus.api.auth import require
from campus.api.paging import PAGING_HEADERS
from campus.api.paging import PageArgs
from campus.api.paging import paginate
from campus.api.problems import abort_problem
from campus.api.schemas_badges import assertion_dict
from campus.api.schemas_me import MeSchema
from campus.api.schemas_me import MyBadgeSchema
from campus.api.schemas_me import PathProgressSchema
from campus.auth.models import User
from campus.badges.models import Assertion
from campus.badges.models import BadgeClass
from campus.badges.web import issuing_context
from campus.clock import aware_or_none
from campus.clock import utcnow
from campus.extensions import db
from campus.paths import services as path_services
from campus.paths.services import PathProgress

blp = Blueprint(
    "api_me", __name__, url_prefix="/api/v1/me", description="The caller's own progress and badges."
)


def _me() -> User:
    """The token's user (a client token acts for an organisation, never for a person)."""
    principal = current_principal()
    if principal is None or principal.user is None:
        abort_problem(403, detail="This token does not act for a person.")
    return principal.user  # type: ignore[union-attr,return-value]


@blp.route("")
@require("profile:read")
@blp.response(200, MeSchema)
def me() -> dict[str, Any]:
    """Get your account

    The person the token acts for: name, address, roles and organisation.
    """
    user = _me()
    return {
        "id": user.id,
        "name": user.name,
        "email": user.email,
        "email_verified": user.email_verified,
        "locale": user.locale,
        "roles": sorted(str(role) for role in user.roles),
        "organisation": {"slug": user.organisation.slug, "name": user.organisation.name},
    }


def _progress_dict(progress: PathProgress) -> dict[str, Any]:
    path = progress.path
    following = progress.next_module
    return {
        "slug": path.slug,
        "title": path.title,
        "theme": path.theme.slug,
        "enrolled": progress.enrolled,
        "completed_at": aware_or_none(progress.completed_at),
        "required_total": progress.required_total,
        "required_done": progress.required_done,
        "percent": progress.percent,
        "next_module": following.slug if following is not None else None,
        "modules": [
            {
                "slug": module.slug,
                "title": module.title,
                "required": module.is_required,
                "state": progress.state(module).value,
            }
            for module in path.active_modules
        ],
    }


@blp.route("/progress")
@require("profile:read")
@blp.arguments(PageArgs, location="query")
@blp.response(200, PathProgressSchema(many=True), headers=PAGING_HEADERS)
def progress(page: dict[str, int]):  # type: ignore[no-untyped-def]
    """List your progress

    Progress on every path you are enrolled in, newest enrolment first (as the dashboard).
    """
    user = _me()
    items, headers = paginate(path_services.my_paths(user), page["page"], page["per_page"])
    return [_progress_dict(item) for item in items], 200, headers


@blp.route("/badges")
@require("profile:read")
@blp.arguments(PageArgs, location="query")
@blp.response(200, MyBadgeSchema(many=True), headers=PAGING_HEADERS)
def badges(page: dict[str, int]):  # type: ignore[no-untyped-def]
    """List your badges

    Every award (as the backpack lists them, revoked and expired ones with their status),
    newest first, with the addresses of its Open Badges 2.0 assertion and 3.0 credential.
    """
    user = _me()
    query = (
        db.select(Assertion)
        .where(Assertion.user_id == user.id)
        .order_by(Assertion.issued_at.desc(), Assertion.id.desc())
        .options(defer(Assertion.baked_png), defer(Assertion.baked_svg), defer(Assertion.jws))
        .options(
            selectinload(Assertion.badge_class).options(
                defer(BadgeClass.image_png), defer(BadgeClass.image_svg)
            )
        )
    )
    items, headers = paginate(query, page["page"], page["per_page"])
    urls = issuing_context().urls
    now = utcnow()
    return [assertion_dict(item, urls, now) for item in items], 200, headers
