"""The ICT annual clock (vuosikello): recurring actions, their RACI, done per year; calendar
feeds; and toolkits (templates another organisation copies).

An action recurs every year from `first_year` (to `last_year`, if set). It runs from
(start_month, start_day) to (end_month, end_day); an end before the start means the action runs
over the turn of the year (December → January), and the year it belongs to is the year it starts.
A missing day means the whole month (from the 1st, to the month's last day).
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
from campus.network.models import ONE_SCOPE
from campus.network.models import Goal
from campus.network.models import Group
from campus.network.models import GroupRole


class Raci(StrEnum):
    RESPONSIBLE = "R"
    ACCOUNTABLE = "A"  # exactly one per action
    CONSULTED = "C"
    INFORMED = "I"


class ClockAction(db.Model):
    __table_args__ = (
        CheckConstraint(ONE_SCOPE, name="one_scope"),
        CheckConstraint("start_month BETWEEN 1 AND 12 AND end_month BETWEEN 1 AND 12", "months"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int | None] = mapped_column(
        ForeignKey("region.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    start_month: Mapped[int]
    start_day: Mapped[int | None]
    end_month: Mapped[int]
    end_day: Mapped[int | None]
    first_year: Mapped[int]
    last_year: Mapped[int | None]
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("network_group.id", ondelete="SET NULL"), index=True
    )
    goal_id: Mapped[int | None] = mapped_column(
        ForeignKey("goal.id", ondelete="SET NULL"), index=True
    )
    path_slugs: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    region: Mapped[Region | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    group: Mapped[Group | None] = relationship()
    goal: Mapped[Goal | None] = relationship()
    raci: Mapped[list[RaciEntry]] = relationship(
        back_populates="action", cascade="all, delete-orphan", order_by="RaciEntry.id"
    )
    done: Mapped[list[ClockActionDone]] = relationship(
        back_populates="action", cascade="all, delete-orphan", order_by="ClockActionDone.year"
    )


class RaciEntry(db.Model):
    """One cell of an action's responsibility matrix: a group (or one role in it) and a letter."""

    __table_args__ = (UniqueConstraint("action_id", "group_id", "member_role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(
        ForeignKey("clock_action.id", ondelete="CASCADE"), index=True
    )
    group_id: Mapped[int] = mapped_column(
        ForeignKey("network_group.id", ondelete="CASCADE"), index=True
    )
    member_role: Mapped[GroupRole | None] = mapped_column(EnumText(GroupRole, 16))  # None: all
    letter: Mapped[Raci] = mapped_column(EnumText(Raci, 1))

    action: Mapped[ClockAction] = relationship(back_populates="raci")
    group: Mapped[Group] = relationship()


class ClockActionDone(db.Model):
    """The action was done in `year` (the year its run starts)."""

    action_id: Mapped[int] = mapped_column(
        ForeignKey("clock_action.id", ondelete="CASCADE"), primary_key=True
    )
    year: Mapped[int] = mapped_column(primary_key=True)
    note: Mapped[str] = mapped_column(Text, default="")
    done_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    action: Mapped[ClockAction] = relationship(back_populates="done")
    done_by: Mapped[User | None] = relationship()


class CalendarFeed(db.Model):
    """A secret iCalendar URL for one organisation's, region's or group's actions.

    The token is the only credential (calendar apps cannot log in), so only its SHA-256 is kept;
    a new feed replaces the old one and the old URL stops working.
    """

    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN organisation_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN region_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN group_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_owner",
        ),
    )

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), unique=True
    )
    region_id: Mapped[int | None] = mapped_column(
        ForeignKey("region.id", ondelete="CASCADE"), unique=True
    )
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("network_group.id", ondelete="CASCADE"), unique=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))


class Toolkit(db.Model):
    """A published template: a roadmap, an annual clock and a kick-off kit, as one document.

    `body` is the same document the TOML file holds (campus.network.toolkits reads and writes
    both); copying it creates new rows owned by the copier, so a copy never changes its source.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(8))
    body: Mapped[dict] = mapped_column(JSON)
    # Where it came from: the publishing region or organisation, or None for an imported file.
    region_id: Mapped[int | None] = mapped_column(
        ForeignKey("region.id", ondelete="SET NULL"), index=True
    )
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="SET NULL"), index=True
    )
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    published_at: Mapped[datetime] = mapped_column(default=utcnow)

    region: Mapped[Region | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
