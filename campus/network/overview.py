"""What the network hub shows a person: their organisation, its region, and their groups."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field

from campus.auth.models import Organisation
from campus.auth.models import Region
from campus.auth.models import User
from campus.extensions import db
from campus.network import access
from campus.network.access import Scope
from campus.network.models import Group
from campus.network.models import GroupMembership
from campus.network.models import Roadmap
from campus.network.roadmaps import roadmaps_of


@dataclass
class ScopeCard:
    scope: Scope
    can_edit: bool
    roadmaps: list[Roadmap]
    group_count: int


@dataclass
class Overview:
    organisation: ScopeCard | None
    region: ScopeCard | None
    memberships: list[GroupMembership] = field(default_factory=list)
    region_organisations: list[Organisation] = field(default_factory=list)


def _card(user: User, scope: Scope) -> ScopeCard:
    groups = db.session.execute(
        db.select(db.func.count(Group.id)).filter_by(**scope.columns())
    ).scalar_one()
    return ScopeCard(scope, access.can_edit_scope(user, scope), roadmaps_of(scope), groups)


def overview(user: User) -> Overview:
    organisation = user.organisation
    org_card = _card(user, access.organisation_scope(organisation)) if organisation else None
    region_card = None
    members: list[Organisation] = []
    if organisation is not None and organisation.region_id is not None:
        region = db.session.get(Region, organisation.region_id)
        if region is not None:
            region_card = _card(user, access.region_scope(region))
            members = list(
                db.session.execute(
                    db.select(Organisation)
                    .where(Organisation.region_id == region.id)
                    .order_by(Organisation.name)
                ).scalars()
            )
    memberships = db.session.execute(
        db.select(GroupMembership)
        .join(Group)
        .where(GroupMembership.user_id == user.id)
        .order_by(Group.name)
    ).scalars()
    return Overview(org_card, region_card, list(memberships), members)
