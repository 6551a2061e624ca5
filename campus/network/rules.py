"""The rules of the network's structure, and the flags that report breaks in them.

A region has a steering group and a regional ICT development group. Each municipality of the
region has one representative in the regional group, and a digi group of its own, which its
representative is a member of and chairs (or leads). Every group has exactly one leading member
(its chair; a theme team's lead), and a member's role fits the kind of group (theme teams have
leads, developers and participants; the other groups chairs, secretaries and members).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from flask_babel import gettext as _

from campus.auth.models import Organisation
from campus.auth.models import OrganisationKind
from campus.auth.models import Region
from campus.extensions import db
from campus.network.access import organisation_scope
from campus.network.access import region_scope
from campus.network.models import Group
from campus.network.models import GroupKind
from campus.network.models import leading_role
from campus.network.models import roles_for
from campus.network.regions import region_organisations
from campus.network.structure import groups_of
from campus.network.structure import with_members

Severity = Literal["warning", "notice"]
WARNING: Severity = "warning"
NOTICE: Severity = "notice"  # softer: how the design says it is done, not a break


@dataclass(frozen=True)
class Flag:
    code: str  # stable, for tests and styling: "no_regional_group", "no_representative", …
    severity: Severity
    message: str  # translated, with the names in it
    group: Group | None = None
    organisation: Organisation | None = None


def _organisation_groups(organisation_ids: list[int]) -> list[Group]:
    if not organisation_ids:
        return []
    query = with_members(
        db.select(Group)
        .where(Group.organisation_id.in_(organisation_ids), Group.region_id.is_(None))
        .order_by(Group.organisation_id, Group.kind, Group.name)
    )
    return list(db.session.execute(query).scalars())


def group_flags(group: Group) -> list[Flag]:
    """One leading member; roles that fit the kind; regional members from the region."""
    flags: list[Flag] = []
    leading = leading_role(group.kind)
    leaders = [member for member in group.memberships if member.role == leading]
    if not leaders:
        flags.append(
            Flag(
                "no_leader", WARNING, _("%(group)s has no chair or lead.", group=group.name), group
            )
        )
    elif len(leaders) > 1:
        names = ", ".join(member.user.name for member in leaders)
        flags.append(
            Flag(
                "many_leaders",
                WARNING,
                _(
                    "%(group)s has more than one chair or lead: %(names)s.",
                    group=group.name,
                    names=names,
                ),
                group,
            )
        )
    allowed = roles_for(group.kind)
    for member in group.memberships:
        if member.role not in allowed:
            if group.kind == GroupKind.THEME:
                message = _(
                    "%(name)s has a role in %(group)s that theme teams do not have.",
                    name=member.user.name,
                    group=group.name,
                )
            else:
                message = _(
                    "%(name)s has a theme-team role in %(group)s, which is not a theme team.",
                    name=member.user.name,
                    group=group.name,
                )
            flags.append(Flag("role_mismatch", WARNING, message, group))
        if group.region_id is not None and member.organisation.region_id != group.region_id:
            flags.append(
                Flag(
                    "outside_region",
                    WARNING,
                    _(
                        "%(name)s represents %(organisation)s in %(group)s, but %(organisation)s is not in the region.",
                        name=member.user.name,
                        organisation=member.organisation.name,
                        group=group.name,
                    ),
                    group,
                    member.organisation,
                )
            )
    return flags


def _organisation_rules(
    organisation: Organisation, regional: list[Group], digis: list[Group]
) -> list[Flag]:
    flags: list[Flag] = []
    is_municipality = organisation.kind == OrganisationKind.MUNICIPALITY
    if is_municipality and not digis:
        flags.append(
            Flag(
                "no_digi_group",
                WARNING,
                _("%(organisation)s has no digi group.", organisation=organisation.name),
                None,
                organisation,
            )
        )
    representatives = [
        (group, member)
        for group in regional
        for member in group.memberships
        if member.organisation_id == organisation.id
    ]
    if is_municipality:
        flags.extend(_many_representatives(organisation, regional))
    if is_municipality and regional and not representatives:
        flags.append(
            Flag(
                "no_representative",
                WARNING,
                _(
                    "%(organisation)s has no representative in %(group)s.",
                    organisation=organisation.name,
                    group=regional[0].name,
                ),
                regional[0],
                organisation,
            )
        )
    if not digis:
        return flags
    for _group, representative in representatives:
        in_digi = [
            (digi, member)
            for digi in digis
            for member in digi.memberships
            if member.user_id == representative.user_id
        ]
        if not in_digi:
            flags.append(
                Flag(
                    "representative_not_in_digi",
                    WARNING,
                    _(
                        "%(name)s represents %(organisation)s in the regional group but is not a member of its digi group %(group)s.",
                        name=representative.user.name,
                        organisation=organisation.name,
                        group=digis[0].name,
                    ),
                    digis[0],
                    organisation,
                )
            )
        elif not any(member.role == leading_role(digi.kind) for digi, member in in_digi):
            flags.append(
                Flag(
                    "representative_not_chair",
                    NOTICE,
                    _(
                        "%(name)s represents %(organisation)s in the regional group; the representative usually chairs or leads the digi group %(group)s.",
                        name=representative.user.name,
                        organisation=organisation.name,
                        group=in_digi[0][0].name,
                    ),
                    in_digi[0][0],
                    organisation,
                )
            )
    return flags


def _many_representatives(organisation: Organisation, regional: list[Group]) -> list[Flag]:
    """A municipality has one representative in the regional group."""
    flags: list[Flag] = []
    for group in regional:
        names = [
            member.user.name
            for member in group.memberships
            if member.organisation_id == organisation.id
        ]
        if len(names) > 1:
            flags.append(
                Flag(
                    "many_representatives",
                    WARNING,
                    _(
                        "%(organisation)s has more than one representative in %(group)s: %(names)s.",
                        organisation=organisation.name,
                        group=group.name,
                        names=", ".join(names),
                    ),
                    group,
                    organisation,
                )
            )
    return flags


def _by_kind(groups: list[Group], kind: GroupKind) -> list[Group]:
    return [group for group in groups if group.kind == kind]


def structure_flags(region: Region) -> list[Flag]:
    """Every break in the region's structure, region-level first, then by organisation."""
    flags: list[Flag] = []
    groups = groups_of(region_scope(region), members=True)
    regional = _by_kind(groups, GroupKind.REGIONAL)
    if not regional:
        flags.append(
            Flag(
                "no_regional_group",
                WARNING,
                _("%(region)s has no regional ICT development group.", region=region.name),
            )
        )
    if not _by_kind(groups, GroupKind.STEERING):
        flags.append(
            Flag(
                "no_steering_group",
                WARNING,
                _("%(region)s has no steering group.", region=region.name),
            )
        )
    organisations = region_organisations(region)
    organisation_groups = _organisation_groups([organisation.id for organisation in organisations])
    for organisation in organisations:
        digis = [
            group
            for group in _by_kind(organisation_groups, GroupKind.DIGI)
            if group.organisation_id == organisation.id
        ]
        flags.extend(_organisation_rules(organisation, regional, digis))
    for group in groups + organisation_groups:
        flags.extend(group_flags(group))
    return flags


def organisation_flags(organisation: Organisation) -> list[Flag]:
    """The breaks that concern one organisation: its digi group, its representation in the
    region, and its own groups."""
    every = groups_of(organisation_scope(organisation), with_region=True, members=True)
    regional = _by_kind(
        [group for group in every if group.organisation_id is None], GroupKind.REGIONAL
    )
    groups = [group for group in every if group.organisation_id is not None]
    flags = _organisation_rules(organisation, regional, _by_kind(groups, GroupKind.DIGI))
    for group in groups:
        flags.extend(group_flags(group))
    return flags
