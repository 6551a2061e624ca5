"""Assessment rounds: an organisation asks its staff (or one role) to answer between two dates.

Services take plain arguments and only flush; the view commits. A person's response counts in
the round open for them when they start (`open_round_for`), so rounds of one instrument in one
organisation never overlap: there is never a question which round an answer belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import exists

from campus.assessments.models import AssessmentResponse
from campus.assessments.models import AssessmentRound
from campus.assessments.models import Instrument
from campus.auth.models import Role
from campus.auth.models import User
from campus.auth.models import UserRole
from campus.extensions import db


class RoundError(ValueError):
    """A round that cannot be opened; the message is shown to the org admin."""


def _day(today: date | datetime) -> date:
    return today.date() if isinstance(today, datetime) else today


def open_round(
    organisation_id: int,
    instrument: Instrument,
    title: str,
    opens_on: date,
    closes_on: date,
    target_role: Role | None,
    created_by: User | None,
) -> AssessmentRound:
    """Open a round for the organisation (target_role None or learner: everyone)."""
    title = title.strip()
    if not title:
        raise RoundError(_("The round needs a title."))
    if instrument.is_retired:
        raise RoundError(_("This assessment is no longer in use."))
    if closes_on < opens_on:
        raise RoundError(_("The round cannot close before it opens."))
    overlapping = db.session.execute(
        db.select(AssessmentRound.title).where(
            AssessmentRound.organisation_id == organisation_id,
            AssessmentRound.instrument_id == instrument.id,
            AssessmentRound.opens_on <= closes_on,
            AssessmentRound.closes_on >= opens_on,
        )
    ).scalar()
    if overlapping is not None:
        raise RoundError(
            _("The dates overlap the round “%(title)s” of the same assessment.", title=overlapping)
        )
    round_ = AssessmentRound(
        instrument_id=instrument.id,
        organisation_id=organisation_id,
        title=title[:200],
        opens_on=opens_on,
        closes_on=closes_on,
        target_role=None if target_role in (None, Role.LEARNER) else Role(target_role).value,
        created_by_id=created_by.id if created_by is not None else None,
    )
    db.session.add(round_)
    db.session.flush()
    return round_


def rounds_of(organisation_id: int, instrument_id: int | None = None) -> list[AssessmentRound]:
    """The organisation's rounds, newest first."""
    query = db.select(AssessmentRound).where(AssessmentRound.organisation_id == organisation_id)
    if instrument_id is not None:
        query = query.where(AssessmentRound.instrument_id == instrument_id)
    query = query.order_by(AssessmentRound.opens_on.desc(), AssessmentRound.id.desc())
    return list(db.session.execute(query).scalars())


def open_round_for(
    user: User, instrument: Instrument, today: date | datetime
) -> AssessmentRound | None:
    """The round of the user's organisation open `today` for this instrument and meant for them.

    A datetime is taken as its date. A round for one role is not open for people without it
    (admins included: holding every role for access is not being in the target group).
    """
    day = _day(today)
    candidates = db.session.execute(
        db.select(AssessmentRound)
        .where(
            AssessmentRound.organisation_id == user.organisation_id,
            AssessmentRound.instrument_id == instrument.id,
            AssessmentRound.opens_on <= day,
            AssessmentRound.closes_on >= day,
        )
        .order_by(AssessmentRound.opens_on.desc(), AssessmentRound.id.desc())
    ).scalars()
    for round_ in candidates:
        if round_.target_role is None or Role(round_.target_role) in user.roles:
            return round_
    return None


def previous_round(round_: AssessmentRound) -> AssessmentRound | None:
    """The organisation's round of the same instrument just before this one."""
    return db.session.execute(
        db.select(AssessmentRound)
        .where(
            AssessmentRound.organisation_id == round_.organisation_id,
            AssessmentRound.instrument_id == round_.instrument_id,
            AssessmentRound.id != round_.id,
            (AssessmentRound.opens_on < round_.opens_on)
            | ((AssessmentRound.opens_on == round_.opens_on) & (AssessmentRound.id < round_.id)),
        )
        .order_by(AssessmentRound.opens_on.desc(), AssessmentRound.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def _target_people(round_: AssessmentRound):  # type: ignore[no-untyped-def]
    """The people a round asks: active accounts of its organisation (with its role, if any)."""
    query = db.select(User).where(
        User.organisation_id == round_.organisation_id, User.is_active_account.is_(True)
    )
    if round_.target_role is not None:
        query = query.where(
            exists().where(UserRole.user_id == User.id, UserRole.role == round_.target_role)
        )
    return query


def _submitted_in(round_: AssessmentRound):  # type: ignore[no-untyped-def]
    return exists().where(
        AssessmentResponse.user_id == User.id,
        AssessmentResponse.round_id == round_.id,
        AssessmentResponse.submitted_at.is_not(None),
    )


@dataclass(frozen=True)
class ResponseRate:
    submitted: int  # people of the target group who submitted in the round
    asked: int  # people in the target group today

    @property
    def percent(self) -> int:
        return round(100 * self.submitted / self.asked) if self.asked else 0


def response_rate(round_: AssessmentRound) -> ResponseRate:
    """Submitted responses of the target group over the people in it (counted in SQL)."""
    people = _target_people(round_).subquery()
    asked = db.session.scalar(db.select(db.func.count()).select_from(people)) or 0
    submitted = (
        db.session.scalar(
            db.select(db.func.count()).select_from(
                _target_people(round_).where(_submitted_in(round_)).subquery()
            )
        )
        or 0
    )
    return ResponseRate(submitted=submitted, asked=asked)


def non_respondents(round_: AssessmentRound) -> list[User]:
    """People of the target group who have not submitted in the round (names for reminding)."""
    query = _target_people(round_).where(~_submitted_in(round_)).order_by(User.name, User.email)
    return list(db.session.execute(query).scalars())
