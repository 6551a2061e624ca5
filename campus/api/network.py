"""Network groups, the roadmap goals a group is responsible for, and a group's annual clock.

Who reads what is campus.network.access's rule, as on the pages: a person reads their
organisation's and region's groups (regional developers the region's organisations' too) and
the groups they belong to; an organisation's client reads that organisation's groups; a
campus-wide client reads all. An unknown group is 404, someone else's 403 (as the pages).
"""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from sqlalchemy import Select
from sqlalchemy import false
from sqlalchemy import or_
from sqlalchemy.orm import selectinload

from campus.api.auth import Principal
from campus.api.auth import current_principal
from campus.api.auth import require
from campus.api.paging import PAGING_HEADERS
from campus.api.paging import PageArgs
from campus.api.paging import paginate
from campus.api.problems import abort_problem
from campus.api.schemas_network import GoalSchema
from campus.api.schemas_network import GroupClockSchema
from campus.api.schemas_network import GroupDetailSchema
from campus.api.schemas_network import GroupSchema
from campus.api.schemas_network import YearArgs
from campus.auth.models import Organisation
from campus.auth.models import Role
from campus.clock import utcnow
from campus.extensions import db
from campus.network import access
from campus.network import annual
from campus.network.clock_models import ClockAction
from campus.network.models import Goal
from campus.network.models import Group
from campus.network.models import GroupMembership
from campus.network.models import Roadmap
from campus.network.structure import member_options

blp = Blueprint(
    "api_network",
    __name__,
    url_prefix="/api/v1/network",
    description="Network groups, the roadmap goals they carry and their annual clocks.",
)


def _principal() -> Principal:
    principal = current_principal()
    assert principal is not None  # require() ran first
    return principal


def _scope(row: Group | Roadmap | ClockAction) -> access.Scope:
    """The row's region or organisation, from its loaded relationship (no query a row)."""
    if row.region_id is not None and row.region is not None:
        return access.region_scope(row.region)
    if row.organisation is not None:
        return access.organisation_scope(row.organisation)
    return access.scope_of(row)


def can_read_scope(principal: Principal, scope: access.Scope) -> bool:
    """A person as on the pages; a client its organisation only, or all when campus-wide."""
    if principal.user is not None:
        return access.can_read_scope(principal.user, scope)
    if principal.organisation_id is None:
        return True
    return not scope.is_region and scope.id == principal.organisation_id


def can_read_group(principal: Principal, group: Group) -> bool:
    if principal.user is not None:
        return access.can_read_group(principal.user, group)
    return can_read_scope(principal, _scope(group))


def readable_groups(principal: Principal) -> Select[Any]:
    """The groups `principal` may read, as one query (the SQL form of can_read_group)."""
    query = db.select(Group).order_by(Group.kind, Group.name, Group.id)
    user = principal.user
    if user is None:
        if principal.organisation_id is None:
            return query
        return query.where(Group.organisation_id == principal.organisation_id)
    if Role.ADMIN in user.roles:
        return query
    region_id = user.organisation.region_id if user.organisation is not None else None
    readable = [
        Group.organisation_id == user.organisation_id,
        Group.id.in_(db.select(GroupMembership.group_id).where(GroupMembership.user_id == user.id)),
    ]
    if region_id is not None:
        readable.append(Group.region_id == region_id)
        if Role.REGIONAL_DEVELOPER in user.roles:
            region_organisations = db.select(Organisation.id).where(
                Organisation.region_id == region_id
            )
            readable.append(Group.organisation_id.in_(region_organisations))
    return query.where(or_(false(), *readable))


def _group(group_id: int, *options: Any) -> Group:
    group = db.session.get(Group, group_id, options=list(options))
    if group is None:
        abort_problem(404, detail="No such group.")
    if not can_read_group(_principal(), group):  # type: ignore[arg-type]
        abort_problem(403, detail="This token may not read this group.")
    return group  # type: ignore[return-value]


def _scope_dict(scope: access.Scope) -> dict[str, Any]:
    return {"kind": scope.kind, "id": scope.id, "name": scope.name}


def _group_dict(group: Group) -> dict[str, Any]:
    return {
        "id": group.id,
        "kind": str(group.kind),
        "name": group.name,
        "scope": _scope_dict(_scope(group)),
        "mandate": group.mandate or "",
        "theme": group.theme_slug,
        "paths": list(group.path_slugs or []),
        "badges": list(group.badge_slugs or []),
        "member_count": len(group.memberships),
    }


@blp.route("/groups")
@require("network:read")
@blp.arguments(PageArgs, location="query")
@blp.response(200, GroupSchema(many=True), headers=PAGING_HEADERS)
def groups(page: dict[str, int]):  # type: ignore[no-untyped-def]
    """List network groups

    The groups the caller may read (as the network pages), by kind and name.
    """
    query = readable_groups(_principal()).options(
        selectinload(Group.memberships),
        selectinload(Group.region),
        selectinload(Group.organisation),
    )
    items, headers = paginate(query, page["page"], page["per_page"])
    return [_group_dict(group) for group in items], 200, headers


@blp.route("/groups/<int:group_id>")
@require("network:read")
@blp.response(200, GroupDetailSchema)
@blp.alt_response(404, response="NOT_FOUND")
def group(group_id: int) -> dict[str, Any]:
    """Get a group

    One group with its members (as its page shows them).
    """
    found = _group(group_id, member_options())
    return {
        **_group_dict(found),
        "members": [
            {
                "name": member.user.name,
                "role": str(member.role),
                "organisation": member.organisation.name,
                "responsibilities": member.responsibilities or "",
            }
            for member in found.memberships
        ],
    }


@blp.route("/groups/<int:group_id>/roadmap")
@require("network:read")
@blp.response(200, GoalSchema(many=True))
@blp.alt_response(404, response="NOT_FOUND")
def group_roadmap(group_id: int) -> list[dict[str, Any]]:
    """List a group's roadmap goals

    The goals the group is responsible for, in the roadmaps the caller may read (latest
    period first).
    """
    found = _group(group_id)
    principal = _principal()
    goals = db.session.execute(
        db.select(Goal)
        .join(Goal.roadmap)
        .where(Goal.group_id == found.id)
        .order_by(Roadmap.first_year.desc(), Roadmap.id.desc(), Goal.position, Goal.id)
        .options(
            selectinload(Goal.roadmap).options(
                selectinload(Roadmap.region), selectinload(Roadmap.organisation)
            )
        )
    ).scalars()
    result = []
    for goal in goals:
        scope = _scope(goal.roadmap)
        if not can_read_scope(principal, scope):
            continue
        roadmap = goal.roadmap
        result.append(
            {
                "id": goal.id,
                "roadmap": {
                    "id": roadmap.id,
                    "title": roadmap.title,
                    "first_year": roadmap.first_year,
                    "last_year": roadmap.last_year,
                    "scope": _scope_dict(scope),
                },
                "area": str(goal.area),
                "focus": str(goal.focus),
                "title": goal.title,
                "starting_point": goal.starting_point or "",
                "target_state": goal.target_state or "",
                "indicators": goal.indicators or "",
                "status": str(goal.status),
                "paths": list(goal.path_slugs or []),
                "badges": list(goal.badge_slugs or []),
            }
        )
    return result


@blp.route("/groups/<int:group_id>/clock")
@require("network:read")
@blp.arguments(YearArgs, location="query")
@blp.response(200, GroupClockSchema)
@blp.alt_response(404, response="NOT_FOUND")
def group_clock(args: dict[str, Any], group_id: int) -> dict[str, Any]:
    """Get a group's annual clock

    The actions the group is responsible for or has a RACI letter in, with their runs in the
    year and each run's status (as the group's clock page).
    """
    found = _group(group_id)
    today = utcnow().date()
    year = args["year"] or today.year
    actions = []
    for action in annual.group_actions(found):
        runs = annual.runs_in_view([(action, False)], year)
        actions.append(
            {
                "id": action.id,
                "title": action.title,
                "description": action.description or "",
                "scope": _scope_dict(_scope(action)),
                "start_month": action.start_month,
                "start_day": action.start_day,
                "end_month": action.end_month,
                "end_day": action.end_day,
                "first_year": action.first_year,
                "last_year": action.last_year,
                "responsible": action.group_id == found.id,
                "raci": [
                    {
                        "letter": str(entry.letter),
                        "role": str(entry.member_role) if entry.member_role else None,
                    }
                    for entry in action.raci
                    if entry.group_id == found.id
                ],
                "runs": [
                    {
                        "year": run.year,
                        "start": run.start,
                        "end": run.end,
                        "status": annual.status(action, run.year, today),
                    }
                    for run in runs
                ],
                "paths": list(action.path_slugs or []),
            }
        )
    return {"group": found.id, "year": year, "actions": actions}
