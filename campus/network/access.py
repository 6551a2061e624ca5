"""Who may read and edit what in the network: the one place these rules live.

A *scope* is a region or an organisation; roadmaps, clock actions, groups and kits belong to one.
- Read a scope: admins; everyone in the organisation (for a region: in any of its organisations);
  regional developers also read the organisations of their region.
- Edit a scope: admins; org admins their own organisation; regional developers their region.
- Groups: their scope's editors, and the group's chair (lead, in a theme team), edit the group,
  its members and the actions it is responsible for; members read it.
Views call the `ensure_*` functions (403 on refusal); services and templates call the `can_*`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from typing import Protocol

from flask import abort

from campus.auth.models import Organisation
from campus.auth.models import Region
from campus.auth.models import Role
from campus.auth.models import User
from campus.extensions import db
from campus.network.models import Group
from campus.network.models import GroupMembership
from campus.network.models import leading_role

ScopeKind = Literal["region", "organisation"]
SCOPE_KINDS = ("region", "organisation")  # the <kind> in /network/<kind>/<id>/… URLs


class Scoped(Protocol):
    region_id: int | None
    organisation_id: int | None


@dataclass(frozen=True)
class Scope:
    kind: ScopeKind
    id: int
    name: str
    region_id: int | None  # the region itself, or the organisation's region

    @property
    def is_region(self) -> bool:
        return self.kind == "region"

    def owns(self, row: Scoped) -> bool:
        """Whether `row` (a roadmap, action, group, kit) belongs to this scope."""
        if self.is_region:
            return row.region_id == self.id and row.organisation_id is None
        return row.organisation_id == self.id and row.region_id is None

    def columns(self) -> dict[str, int | None]:
        """Keyword arguments that put a new row in this scope."""
        if self.is_region:
            return {"region_id": self.id, "organisation_id": None}
        return {"region_id": None, "organisation_id": self.id}


def region_scope(region: Region) -> Scope:
    return Scope("region", region.id, region.name, region.id)


def organisation_scope(organisation: Organisation) -> Scope:
    return Scope("organisation", organisation.id, organisation.name, organisation.region_id)


def scope_of(row: Scoped) -> Scope:
    """The scope a roadmap, action, group or kit belongs to."""
    if row.region_id is not None:
        return region_scope(db.session.get(Region, row.region_id))  # type: ignore[arg-type]
    return organisation_scope(db.session.get(Organisation, row.organisation_id))  # type: ignore[arg-type]


def resolve_scope(kind: str, scope_id: int) -> Scope:
    """The scope named by a URL (404 when there is none)."""
    if kind == "region":
        return region_scope(db.get_or_404(Region, scope_id))
    if kind == "organisation":
        return organisation_scope(db.get_or_404(Organisation, scope_id))
    abort(404)


def _is_admin(user: User) -> bool:
    return Role.ADMIN in user.roles


def _user_region_id(user: User) -> int | None:
    return user.organisation.region_id if user.organisation is not None else None


def can_read_scope(user: User, scope: Scope) -> bool:
    if not user.is_authenticated:
        return False
    if _is_admin(user):
        return True
    if scope.is_region:
        return _user_region_id(user) == scope.id
    if user.organisation_id == scope.id:
        return True
    return (
        Role.REGIONAL_DEVELOPER in user.roles
        and scope.region_id is not None
        and _user_region_id(user) == scope.region_id
    )


def can_edit_scope(user: User, scope: Scope) -> bool:
    if not user.is_authenticated:
        return False
    if _is_admin(user):
        return True
    if scope.is_region:
        return Role.REGIONAL_DEVELOPER in user.roles and _user_region_id(user) == scope.id
    return Role.ORG_ADMIN in user.roles and user.organisation_id == scope.id


def can_manage_regions(user: User) -> bool:
    """Create regions and move organisations between them: admins only."""
    return user.is_authenticated and _is_admin(user)


def can_edit_units(user: User, organisation: Organisation) -> bool:
    """An organisation's units: its org admins, its region's regional developers, admins."""
    if can_edit_scope(user, organisation_scope(organisation)):
        return True
    return (
        user.is_authenticated
        and Role.REGIONAL_DEVELOPER in user.roles
        and organisation.region_id is not None
        and _user_region_id(user) == organisation.region_id
    )


def membership(user: User, group: Group) -> GroupMembership | None:
    if not user.is_authenticated:
        return None
    return db.session.execute(
        db.select(GroupMembership).where(
            GroupMembership.group_id == group.id, GroupMembership.user_id == user.id
        )
    ).scalar_one_or_none()


def leads_group(user: User, group: Group) -> bool:
    member = membership(user, group)
    return member is not None and member.role == leading_role(group.kind)


def can_read_group(user: User, group: Group) -> bool:
    return can_read_scope(user, scope_of(group)) or membership(user, group) is not None


def can_edit_group(user: User, group: Group) -> bool:
    """The group's mandate, members and kick-off document."""
    return can_edit_scope(user, scope_of(group)) or leads_group(user, group)


class HasGroup(Scoped, Protocol):
    group_id: int | None


def can_edit_action(user: User, action: HasGroup) -> bool:
    """An annual-clock action: its scope's editors and the chair of its responsible group."""
    if can_edit_scope(user, scope_of(action)):
        return True
    if action.group_id is None:
        return False
    group = db.session.get(Group, action.group_id)
    return group is not None and leads_group(user, group)


def ensure(allowed: bool) -> None:
    """403 unless `allowed` (views: `access.ensure(access.can_edit_scope(current_user, scope))`)."""
    if not allowed:
        abort(403)


# Templates (toolkits) ------------------------------------------------------------------------


class Published(Protocol):
    published_by_id: int | None


def editable_scopes(user: User) -> list[Scope]:
    """The regions and organisations `user` can edit (where a template can be copied to and
    published from): every one for an admin; else the user's organisation and its region."""
    if not user.is_authenticated:
        return []
    if can_manage_regions(user):
        regions = db.session.execute(db.select(Region).order_by(Region.name)).scalars()
        organisations = db.session.execute(
            db.select(Organisation).order_by(Organisation.name)
        ).scalars()
        return [region_scope(r) for r in regions] + [organisation_scope(o) for o in organisations]
    candidates = []
    if user.organisation is not None:
        candidates.append(organisation_scope(user.organisation))
        if user.organisation.region is not None:
            candidates.append(region_scope(user.organisation.region))
    return [scope for scope in candidates if can_edit_scope(user, scope)]


def can_import_toolkit(user: User) -> bool:
    """Import a template file: whoever can edit some region or organisation."""
    return bool(editable_scopes(user))


def can_delete_toolkit(user: User, toolkit: Published) -> bool:
    """A template: its publisher or an admin (copies made of it are not touched)."""
    if not user.is_authenticated:
        return False
    return _is_admin(user) or (
        toolkit.published_by_id is not None and toolkit.published_by_id == user.id
    )
