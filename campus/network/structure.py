"""Groups and their members: the services behind the group pages (regions and units are in
campus.network.regions).

Services take plain arguments, refuse bad input with `StructureError` (its message is translated
and shown to people) and never commit: the view does. The rules of the structure and the flags
that report breaks in it live in campus.network.rules (re-exported here).
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from campus.auth.models import Organisation
from campus.auth.models import User
from campus.auth.services import find_user_by_email
from campus.badges.models import BadgeClass
from campus.extensions import db
from campus.network.access import Scope
from campus.network.clock_models import CalendarFeed
from campus.network.clock_models import ClockAction
from campus.network.clock_models import RaciEntry
from campus.network.models import ORGANISATION_KINDS
from campus.network.models import REGION_KINDS
from campus.network.models import Goal
from campus.network.models import Group
from campus.network.models import GroupKickoff
from campus.network.models import GroupKind
from campus.network.models import GroupMembership
from campus.network.models import GroupRole
from campus.network.models import leading_role
from campus.network.models import roles_for
from campus.paths.models import LearningPath
from campus.paths.models import Theme

NAME_MAX = 200
MANDATE_MAX = 5000
RESPONSIBILITIES_MAX = 2000

# Paths and badges that matter to a group of each kind (only those the campus has are suggested).
DEFAULT_PATHS: dict[GroupKind, tuple[str, ...]] = {
    GroupKind.STEERING: ("digital-strategy", "pedagogical-leadership"),
    GroupKind.REGIONAL: ("regional-developer",),
    GroupKind.DIGI: ("digital-strategy", "regional-developer"),
    GroupKind.TUTORS: ("tutor-teacher",),
    GroupKind.THEME: (),
}
DEFAULT_BADGES: dict[GroupKind, tuple[str, ...]] = {
    GroupKind.STEERING: ("digital-strategy", "pedagogical-leadership"),
    GroupKind.REGIONAL: ("regional-developer", "regional-development-work"),
    GroupKind.DIGI: ("digital-strategy",),
    GroupKind.TUTORS: ("tutor-teacher", "tutoring-work"),
    GroupKind.THEME: (),
}


class StructureError(Exception):
    """Refused input; `message` is already translated."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def clean_name(value: str, what: str | None = None) -> str:
    name = " ".join((value or "").split())
    if not name:
        raise StructureError(what or _("Give a name."))
    if len(name) > NAME_MAX:
        raise StructureError(_("A name can be at most %(count)s characters.", count=NAME_MAX))
    return name


# Groups ----------------------------------------------------------------------------------------


def allowed_kinds(scope: Scope) -> tuple[GroupKind, ...]:
    return REGION_KINDS if scope.is_region else ORGANISATION_KINDS


def member_options():  # type: ignore[no-untyped-def]
    """Loader options: a group's members, with their users and organisations (three queries
    for any number of groups, instead of two a member)."""
    return selectinload(Group.memberships).options(
        selectinload(GroupMembership.user), selectinload(GroupMembership.organisation)
    )


def with_members(query):  # type: ignore[no-untyped-def]
    """The query's groups come with their members, and the members' users and organisations."""
    return query.options(member_options())


def groups_of(scope: Scope, *, with_region: bool = False, members: bool = False) -> list[Group]:
    """The scope's groups; `with_region` adds an organisation's region's groups (those its goals,
    actions and RACI may name); `members` loads their members too (in two queries, not one a
    group). The one query for "groups of a scope" in the network."""
    query = db.select(Group).order_by(Group.kind, Group.name, Group.id)
    if members:
        query = with_members(query)
    if scope.is_region:
        query = query.where(Group.region_id == scope.id, Group.organisation_id.is_(None))
    elif with_region and scope.region_id is not None:
        query = query.where(
            ((Group.organisation_id == scope.id) & Group.region_id.is_(None))
            | ((Group.region_id == scope.region_id) & Group.organisation_id.is_(None))
        )
    else:
        query = query.where(Group.organisation_id == scope.id, Group.region_id.is_(None))
    return list(db.session.execute(query).scalars())


def existing_path_slugs() -> set[str]:
    """Paths that can be linked: active ones (the one rule for every network link to a path)."""
    query = db.select(LearningPath.slug).where(LearningPath.is_retired.is_(False))
    return set(db.session.execute(query).scalars())


def existing_badge_slugs() -> set[str]:
    return set(db.session.execute(db.select(BadgeClass.slug)).scalars())


def split_slugs(values: list[str] | str) -> list[str]:
    """Slugs from a list or from text separated by commas or new lines, in order, once each."""
    parts = values.replace(",", "\n").splitlines() if isinstance(values, str) else values
    slugs: list[str] = []
    for part in parts:
        slug = part.strip()
        if slug and slug not in slugs:
            slugs.append(slug)
    return slugs


def default_paths(kind: GroupKind) -> list[str]:
    existing = existing_path_slugs()
    return [slug for slug in DEFAULT_PATHS[kind] if slug in existing]


def default_badges(kind: GroupKind) -> list[str]:
    existing = existing_badge_slugs()
    return [slug for slug in DEFAULT_BADGES[kind] if slug in existing]


def _slugs(values: list[str], existing: set[str], message: str) -> list[str]:
    slugs = split_slugs(values)
    unknown = [slug for slug in slugs if slug not in existing]
    if unknown:
        raise StructureError(message % {"slugs": ", ".join(unknown)})
    return slugs


def _theme(kind: GroupKind, theme_slug: str | None) -> str | None:
    slug = (theme_slug or "").strip() or None
    if slug is None or kind != GroupKind.THEME:
        return None
    known = db.session.execute(db.select(Theme.id).where(Theme.slug == slug)).first()
    if known is None:
        raise StructureError(_("There is no theme %(slug)s.", slug=slug))
    return slug


def create_group(
    scope: Scope,
    kind: GroupKind,
    name: str,
    mandate: str = "",
    theme_slug: str | None = None,
    path_slugs: list[str] | None = None,
    badge_slugs: list[str] | None = None,
) -> Group:
    """A new group in the scope; without paths or badges it gets those of its kind."""
    if kind not in allowed_kinds(scope):
        if scope.is_region:
            raise StructureError(_("A region cannot have a group of this kind."))
        raise StructureError(_("An organisation cannot have a group of this kind."))
    group = Group(kind=kind, name=clean_name(name, _("Give the group a name.")), **scope.columns())
    _set_texts(group, mandate, theme_slug)
    set_slugs(
        group,
        default_paths(kind) if path_slugs is None else path_slugs,
        default_badges(kind) if badge_slugs is None else badge_slugs,
    )
    db.session.add(group)
    db.session.flush()
    return group


def _set_texts(group: Group, mandate: str, theme_slug: str | None) -> None:
    mandate = (mandate or "").strip()
    if len(mandate) > MANDATE_MAX:
        raise StructureError(_("A mandate can be at most %(count)s characters.", count=MANDATE_MAX))
    group.mandate = mandate
    group.theme_slug = _theme(group.kind, theme_slug)


def set_slugs(group: Group, path_slugs: list[str], badge_slugs: list[str]) -> None:
    group.path_slugs = _slugs(
        path_slugs, existing_path_slugs(), _("The campus has no path %(slugs)s.")
    )
    group.badge_slugs = _slugs(
        badge_slugs, existing_badge_slugs(), _("The campus has no badge %(slugs)s.")
    )


def update_group(
    group: Group,
    name: str,
    mandate: str,
    theme_slug: str | None,
    path_slugs: list[str],
    badge_slugs: list[str],
) -> None:
    group.name = clean_name(name, _("Give the group a name."))
    _set_texts(group, mandate, theme_slug)
    set_slugs(group, path_slugs, badge_slugs)


def _release_group(group_id: int) -> None:
    """Remove or unlink what refers to a group about to be deleted (SQLite does not apply the
    foreign keys' ON DELETE CASCADE / SET NULL)."""
    for model in (RaciEntry, CalendarFeed, GroupKickoff):
        db.session.execute(
            db.delete(model)
            .where(model.group_id == group_id)
            .execution_options(synchronize_session="fetch")
        )
    for model in (Goal, ClockAction):
        db.session.execute(
            db.update(model)
            .where(model.group_id == group_id)
            .values(group_id=None)
            .execution_options(synchronize_session="fetch")
        )


def delete_group(group: Group) -> None:
    _release_group(group.id)
    db.session.delete(group)
    db.session.flush()


# Members ---------------------------------------------------------------------------------------


def member_organisations(group: Group) -> list[Organisation]:
    """The organisations a member of the group can represent."""
    if group.region_id is not None:
        query = db.select(Organisation).where(Organisation.region_id == group.region_id)
        return list(db.session.execute(query.order_by(Organisation.name)).scalars())
    organisation = db.session.get(Organisation, group.organisation_id)
    return [organisation] if organisation is not None else []


def _check_role(group: Group, role: GroupRole, member: GroupMembership | None = None) -> None:
    if role not in roles_for(group.kind):
        raise StructureError(_("A member of this group cannot have that role."))
    if role != leading_role(group.kind):
        return
    for other in group.memberships:
        if other is not member and other.role == role:
            raise StructureError(
                _(
                    "%(name)s already leads the group: change their role first.",
                    name=other.user.name,
                )
            )


def _represented(group: Group, organisation_id: int, allowed: set[int] | None = None) -> int:
    if allowed is None:
        allowed = {organisation.id for organisation in member_organisations(group)}
    if organisation_id not in allowed:
        if group.region_id is not None:
            raise StructureError(
                _("A member of a regional group represents an organisation of the region.")
            )
        raise StructureError(_("A member of this group represents its organisation."))
    return organisation_id


def _responsibilities(text: str) -> str:
    text = (text or "").strip()
    if len(text) > RESPONSIBILITIES_MAX:
        raise StructureError(
            _("Responsibilities can be at most %(count)s characters.", count=RESPONSIBILITIES_MAX)
        )
    return text


def add_member(
    group: Group,
    email: str,
    role: GroupRole,
    organisation_id: int | None = None,
    responsibilities: str = "",
) -> GroupMembership:
    """Add a person by e-mail; they represent their own organisation unless another is given.

    Only people of the group's organisations (a regional group: of the region's) can join, and
    the message does not tell whether the address is known elsewhere on the campus."""
    allowed = {organisation.id for organisation in member_organisations(group)}
    user: User | None = find_user_by_email(email or "")
    if user is None or not user.is_active_account or user.organisation_id not in allowed:
        raise StructureError(
            _(
                "No one with that address can join this group: members come from the group's"
                " organisations."
            )
        )
    if any(member.user_id == user.id for member in group.memberships):
        raise StructureError(_("%(name)s is already a member.", name=user.name))
    _check_role(group, role)
    member = GroupMembership(
        user=user,
        role=role,
        organisation_id=_represented(group, organisation_id or user.organisation_id, allowed),
        responsibilities=_responsibilities(responsibilities),
    )
    group.memberships.append(member)
    db.session.flush()
    return member


def change_member(
    member: GroupMembership,
    role: GroupRole,
    organisation_id: int,
    responsibilities: str,
) -> None:
    _check_role(member.group, role, member)
    member.organisation_id = _represented(member.group, organisation_id)
    member.role = role
    member.responsibilities = _responsibilities(responsibilities)


def remove_member(member: GroupMembership) -> None:
    member.group.memberships.remove(member)


def chair_of(group: Group) -> GroupMembership | None:
    leading = leading_role(group.kind)
    return next((member for member in group.memberships if member.role == leading), None)
