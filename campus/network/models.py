"""The development network: units, groups and their members, roadmaps and goals.

Roadmaps, groups, annual-clock actions and kick-off kits belong to a *scope*: exactly one of a
region or an organisation (a CHECK constraint holds it; `campus.network.access.Scope` reads it).
Texts people type are stored as typed, in the language they wrote them in; templates carry
their language (see campus.network.toolkits).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON
from sqlalchemy import CheckConstraint
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from campus.auth.models import Organisation
from campus.auth.models import Region
from campus.auth.models import User
from campus.auth.models import utcnow
from campus.extensions import EnumText
from campus.extensions import db

ONE_SCOPE = "(region_id IS NULL) <> (organisation_id IS NULL)"


class GroupKind(StrEnum):
    STEERING = "steering"  # ohjausryhmä: leading education officials of the region
    REGIONAL = (
        "regional_ict"  # seudullinen TVT-kehittämisryhmä: one representative per municipality
    )
    DIGI = "digi_group"  # a municipality's (or provider's) digi group
    TUTORS = "tutor_network"  # tutor-teacher network
    THEME = "theme_team"  # a Digiosaava theme team (lead, developers, participants)


class GroupRole(StrEnum):
    CHAIR = "chair"
    SECRETARY = "secretary"
    MEMBER = "member"
    LEAD = "lead"  # theme teams
    DEVELOPER = "developer"  # theme teams
    PARTICIPANT = "participant"  # theme teams


THEME_ROLES = (GroupRole.LEAD, GroupRole.DEVELOPER, GroupRole.PARTICIPANT)
GROUP_ROLES = (GroupRole.CHAIR, GroupRole.SECRETARY, GroupRole.MEMBER)


# Which kinds of group a region and an organisation can have.
REGION_KINDS = (GroupKind.STEERING, GroupKind.REGIONAL, GroupKind.TUTORS, GroupKind.THEME)
ORGANISATION_KINDS = (GroupKind.DIGI, GroupKind.TUTORS, GroupKind.THEME)


def roles_for(kind: GroupKind) -> tuple[GroupRole, ...]:
    """The roles a member can hold in a group of this kind."""
    return THEME_ROLES if kind == GroupKind.THEME else GROUP_ROLES


def leading_role(kind: GroupKind) -> GroupRole:
    """The role that leads a group of this kind (one person holds it)."""
    return GroupRole.LEAD if kind == GroupKind.THEME else GroupRole.CHAIR


class DevelopmentArea(StrEnum):
    COMPETENCE = "competence"
    INFRASTRUCTURE = "infrastructure"
    SERVICES = "services"
    CONTENT = "content"


class Focus(StrEnum):
    LEADERSHIP = "leadership"
    COMMUNITY = "community"
    LEARNING = "learning"
    TRUST = "trust"


class GoalStatus(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    ACHIEVED = "achieved"
    PAUSED = "paused"
    DROPPED = "dropped"


class Unit(db.Model):
    """A school or campus of an organisation."""

    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation] = relationship()


class Group(db.Model):
    __tablename__ = "network_group"  # GROUP is an SQL keyword
    __table_args__ = (CheckConstraint(ONE_SCOPE, name="one_scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[GroupKind] = mapped_column(EnumText(GroupKind, 24))
    name: Mapped[str] = mapped_column(String(200))
    region_id: Mapped[int | None] = mapped_column(
        ForeignKey("region.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    mandate: Mapped[str] = mapped_column(Text, default="")
    theme_slug: Mapped[str | None] = mapped_column(String(80))  # theme teams: the Digiosaava theme
    path_slugs: Mapped[list[str]] = mapped_column(JSON, default=list)  # paths that matter to it
    badge_slugs: Mapped[list[str]] = mapped_column(JSON, default=list)  # badges that matter to it
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    region: Mapped[Region | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    memberships: Mapped[list[GroupMembership]] = relationship(
        back_populates="group", cascade="all, delete-orphan", order_by="GroupMembership.id"
    )


class GroupMembership(db.Model):
    __table_args__ = (UniqueConstraint("group_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(
        ForeignKey("network_group.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    role: Mapped[GroupRole] = mapped_column(EnumText(GroupRole, 16), default=GroupRole.MEMBER)
    # The organisation the member speaks for (a municipality's representative in the region).
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    responsibilities: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    group: Mapped[Group] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship()
    organisation: Mapped[Organisation] = relationship()


class KickoffKit(db.Model):
    """A question battery and a responsibility-matrix template for starting a digi group."""

    __table_args__ = (CheckConstraint(ONE_SCOPE, name="one_scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int | None] = mapped_column(
        ForeignKey("region.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    questions: Mapped[list[str]] = mapped_column(JSON, default=list)
    tasks: Mapped[list[str]] = mapped_column(JSON, default=list)  # the matrix's rows
    parties: Mapped[list[str]] = mapped_column(JSON, default=list)  # its columns (roles)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class GroupKickoff(db.Model):
    """A group's filled-in kit: its starting document (a copy of the kit's questions, so that
    later edits to the kit do not change what the group answered)."""

    group_id: Mapped[int] = mapped_column(
        ForeignKey("network_group.id", ondelete="CASCADE"), primary_key=True
    )
    kit_id: Mapped[int | None] = mapped_column(ForeignKey("kickoff_kit.id", ondelete="SET NULL"))
    questions: Mapped[list[str]] = mapped_column(JSON, default=list)
    answers: Mapped[list[str]] = mapped_column(JSON, default=list)  # one per question
    tasks: Mapped[list[str]] = mapped_column(JSON, default=list)
    parties: Mapped[list[str]] = mapped_column(JSON, default=list)
    # matrix[task index][party index] is "", "R", "A", "C" or "I"
    matrix: Mapped[list[list[str]]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))


class Roadmap(db.Model):
    __table_args__ = (
        CheckConstraint(ONE_SCOPE, name="one_scope"),
        CheckConstraint("first_year <= last_year", name="period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int | None] = mapped_column(
        ForeignKey("region.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    first_year: Mapped[int]
    last_year: Mapped[int]
    # Read-only sharing by link: None is off (the default); a random token turns it on.
    share_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    region: Mapped[Region | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    goals: Mapped[list[Goal]] = relationship(
        back_populates="roadmap", cascade="all, delete-orphan", order_by="Goal.position, Goal.id"
    )


class Goal(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    roadmap_id: Mapped[int] = mapped_column(
        ForeignKey("roadmap.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    area: Mapped[DevelopmentArea] = mapped_column(EnumText(DevelopmentArea, 16))
    focus: Mapped[Focus] = mapped_column(EnumText(Focus, 16))
    title: Mapped[str] = mapped_column(String(200))
    starting_point: Mapped[str] = mapped_column(Text, default="")
    target_state: Mapped[str] = mapped_column(Text, default="")
    indicators: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[GoalStatus] = mapped_column(EnumText(GoalStatus, 16), default=GoalStatus.PLANNED)
    # The assessment area whose aggregate is this goal's measured starting point (optional).
    instrument_slug: Mapped[str | None] = mapped_column(String(80))
    assessment_area_key: Mapped[str | None] = mapped_column(String(80))
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("network_group.id", ondelete="SET NULL"), index=True
    )
    # Mirroring: the regional goal this organisation's goal serves.
    serves_goal_id: Mapped[int | None] = mapped_column(
        ForeignKey("goal.id", ondelete="SET NULL"), index=True
    )
    path_slugs: Mapped[list[str]] = mapped_column(JSON, default=list)
    badge_slugs: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    roadmap: Mapped[Roadmap] = relationship(back_populates="goals")
    group: Mapped[Group | None] = relationship()
    serves: Mapped[Goal | None] = relationship(remote_side="Goal.id")
    history: Mapped[list[GoalStatusChange]] = relationship(
        back_populates="goal",
        cascade="all, delete-orphan",
        order_by="GoalStatusChange.changed_at, GoalStatusChange.id",
    )


class GoalStatusChange(db.Model):
    """Every status a goal has had, who set it and why (the first row is its creation)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goal.id", ondelete="CASCADE"), index=True)
    status: Mapped[GoalStatus] = mapped_column(EnumText(GoalStatus, 16))
    note: Mapped[str] = mapped_column(Text, default="")
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    goal: Mapped[Goal] = relationship(back_populates="history")
    changed_by: Mapped[User | None] = relationship()
