"""Starting-point assessment: instruments from content files, responses owned by the respondent,
rounds opened by organisations, tallies that aggregates are read from, and personal plans.

Privacy: `Answer` rows are read only for their own respondent. Every view for others reads
`ItemTally` (counts per value), kept in step with submitted answers, and shows nothing over fewer
than MIN_RESPONDENTS people.
"""

from __future__ import annotations

from datetime import date
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from campus.auth.models import utcnow
from campus.extensions import EnumText
from campus.extensions import db

Texts = dict[str, str]
MIN_RESPONDENTS = 5  # no aggregate over fewer people is ever shown, exported or compared


class Respondent(StrEnum):
    PERSON = "person"  # answers about their own competence
    ORGANISATION = "organisation"  # leaders and the digi group answer about the organisation


class Scale(StrEnum):
    LEVELS = "levels"  # six proficiency statements, A1 (aware) … C2 (initiate): values 1–6
    AGREEMENT = "agreement"  # five-point agreement: values 1–5


class StaffGroup(StrEnum):
    """What a respondent says they are, at the start of an assessment (SELFIE's groups)."""

    LEADER = "leader"
    TEACHER = "teacher"
    SUPPORT = "support"
    OTHER = "other"


class Instrument(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    respondent: Mapped[Respondent] = mapped_column(EnumText(Respondent, 16))
    title: Mapped[Texts] = mapped_column(JSON)
    summary: Mapped[Texts] = mapped_column(JSON)
    intro_html: Mapped[Texts] = mapped_column(JSON)  # Markdown rendered and sanitised at sync
    audience: Mapped[list[str]] = mapped_column(JSON)  # campus.paths.models.Audience values
    minutes: Mapped[int] = mapped_column(default=20)
    position: Mapped[int] = mapped_column(default=0)
    content_hash: Mapped[str] = mapped_column(String(64))
    is_retired: Mapped[bool] = mapped_column(default=False)

    areas: Mapped[list[AssessmentArea]] = relationship(
        back_populates="instrument", order_by="AssessmentArea.position"
    )


class AssessmentArea(db.Model):
    __table_args__ = (UniqueConstraint("instrument_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instrument.id"), index=True)
    key: Mapped[str] = mapped_column(String(80))
    position: Mapped[int]
    title: Mapped[Texts] = mapped_column(JSON)
    description: Mapped[Texts] = mapped_column(JSON)
    is_retired: Mapped[bool] = mapped_column(default=False)

    instrument: Mapped[Instrument] = relationship(back_populates="areas")
    items: Mapped[list[AssessmentItem]] = relationship(
        back_populates="area", order_by="AssessmentItem.position"
    )


class AssessmentItem(db.Model):
    __table_args__ = (UniqueConstraint("area_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("assessment_area.id"), index=True)
    key: Mapped[str] = mapped_column(String(80))
    position: Mapped[int]
    scale: Mapped[Scale] = mapped_column(EnumText(Scale, 16))
    statement: Mapped[Texts] = mapped_column(JSON)
    # Six {language: text} statements for Scale.LEVELS (A1 … C2); [] for agreement items.
    levels: Mapped[list[Texts]] = mapped_column(JSON)
    allows_not_relevant: Mapped[bool] = mapped_column(default=False)
    alignment: Mapped[str | None] = mapped_column(String(40))  # e.g. a DigCompEdu code "3.1"
    path_slugs: Mapped[list[str]] = mapped_column(JSON)  # campus paths that develop it
    is_retired: Mapped[bool] = mapped_column(default=False)

    area: Mapped[AssessmentArea] = relationship(back_populates="items")

    @property
    def top(self) -> int:
        return 6 if self.scale == Scale.LEVELS else 5


class AssessmentRound(db.Model):
    """An organisation asks its staff (or a target group) to answer between two dates."""

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instrument.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    opens_on: Mapped[date]
    closes_on: Mapped[date]
    target_role: Mapped[str | None] = mapped_column(String(32))  # a campus Role, or everyone
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    instrument: Mapped[Instrument] = relationship()


class AssessmentResponse(db.Model):
    """One person's answering of an instrument (resumable until submitted); theirs alone."""

    __table_args__ = (Index("ix_assessment_response_round_org", "round_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instrument.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    # Where the answers count: the person's organisation and its round open at the start.
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    round_id: Mapped[int | None] = mapped_column(
        ForeignKey("assessment_round.id", ondelete="SET NULL")
    )
    staff_group: Mapped[StaffGroup] = mapped_column(EnumText(StaffGroup, 16))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]
    # The person deleted their answers: the response still counts as one respondent, no values.
    answers_deleted_at: Mapped[datetime | None]

    instrument: Mapped[Instrument] = relationship()
    answers: Mapped[list[Answer]] = relationship(
        back_populates="response", cascade="all, delete-orphan"
    )


class Answer(db.Model):
    __table_args__ = (UniqueConstraint("response_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(
        ForeignKey("assessment_response.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("assessment_item.id"), index=True)
    value: Mapped[int | None]  # 1–6 (levels) or 1–5 (agreement); None: "not relevant to my work"
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)

    response: Mapped[AssessmentResponse] = relationship(back_populates="answers")


class ItemTally(db.Model):
    """How many submitted answers gave `value` to one item, per organisation, round and staff
    group. Aggregate views read only this (GROUP BY over a few thousand rows, not millions)."""

    __table_args__ = (
        UniqueConstraint(
            "item_id",
            "organisation_id",
            "round_key",
            "staff_group",
            "value",
            name="uq_item_tally_cell",
        ),
        Index("ix_item_tally_org_round", "organisation_id", "round_key"),
        # Comparisons read whole rounds: a covering index answers them without the table.
        Index(
            "ix_item_tally_round_cells", "round_key", "organisation_id", "item_id", "value", "count"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("assessment_item.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    round_key: Mapped[int] = mapped_column(default=0)  # the round's id; 0: outside any round
    staff_group: Mapped[StaffGroup] = mapped_column(EnumText(StaffGroup, 16))
    value: Mapped[int] = mapped_column(default=0)  # 0 counts "not relevant"
    count: Mapped[int] = mapped_column(default=0)


class RespondentTally(db.Model):
    """Submitted respondents per organisation, round, instrument and staff group: the number the
    five-person threshold is checked against (also after a person deletes their answers)."""

    __table_args__ = (
        UniqueConstraint(
            "instrument_id",
            "organisation_id",
            "round_key",
            "staff_group",
            name="uq_respondent_tally_cell",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instrument.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    round_key: Mapped[int] = mapped_column(default=0)
    staff_group: Mapped[StaffGroup] = mapped_column(EnumText(StaffGroup, 16))
    count: Mapped[int] = mapped_column(default=0)


class PlanItem(db.Model):
    """A path a person chose for their development plan (often from a recommendation)."""

    __table_args__ = (UniqueConstraint("user_id", "path_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    path_id: Mapped[int] = mapped_column(ForeignKey("learning_path.id"), index=True)
    target_date: Mapped[date | None]
    reason: Mapped[str | None] = mapped_column(Text)  # why it was recommended, in the words shown
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
