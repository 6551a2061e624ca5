"""A person answering an instrument: start, resume, save area by area, submit, delete.

A response is its respondent's alone: every service takes the user and refuses (as "not found")
a response that belongs to someone else, administrators included. Services flush; the view
commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from campus.assessments import rounds
from campus.assessments import tallies
from campus.assessments.models import Answer
from campus.assessments.models import AssessmentArea
from campus.assessments.models import AssessmentItem
from campus.assessments.models import AssessmentResponse
from campus.assessments.models import Instrument
from campus.assessments.models import StaffGroup
from campus.auth.models import Role
from campus.auth.models import User
from campus.extensions import db

NOT_RELEVANT = "nr"  # the form value of "not relevant to my work"

# Audiences a person may belong to whatever their roles: they say which at the start.
_OPEN_AUDIENCES = {"all_staff", "leaders", "teachers", "support_staff"}
_ROLE_AUDIENCES = {
    Role.TUTOR_TEACHER: "tutor_teachers",
    Role.REGIONAL_DEVELOPER: "regional_developers",
}
STAFF_GROUP_AUDIENCES = {
    StaffGroup.LEADER: "leaders",
    StaffGroup.TEACHER: "teachers",
    StaffGroup.SUPPORT: "support_staff",
}


class ResponseError(Exception):
    """A refused action on a response; the message is shown to the person."""


class ResponseNotFound(LookupError):
    """No such response for this user (it may exist and belong to someone else)."""


@dataclass
class Progress:
    answered: int
    total: int

    @property
    def percent(self) -> int:
        return int(100 * self.answered / self.total) if self.total else 0

    @property
    def is_complete(self) -> bool:
        return self.total > 0 and self.answered >= self.total


def user_audiences(user: User, staff_group: StaffGroup | str | None = None) -> set[str]:
    """The path audiences a person belongs to: everyone's, their roles', their staff group's."""
    audiences = {"all_staff"}
    audiences |= {audience for role, audience in _ROLE_AUDIENCES.items() if user.has_role(role)}
    if staff_group is not None and staff_group in STAFF_GROUP_AUDIENCES:
        audiences.add(STAFF_GROUP_AUDIENCES[StaffGroup(staff_group)])
    return audiences


def instruments_for(user: User) -> list[Instrument]:
    """Instruments the person may answer: role-bound ones (tutor teachers …) only for holders."""
    instruments = db.session.execute(
        db.select(Instrument)
        .where(Instrument.is_retired.is_(False))
        .order_by(Instrument.position, Instrument.slug)
    ).scalars()
    mine = user_audiences(user) | _OPEN_AUDIENCES
    return [i for i in instruments if not i.audience or mine & set(i.audience)]


def get_instrument(slug: str) -> Instrument | None:
    return db.session.execute(
        db.select(Instrument).where(Instrument.slug == slug, Instrument.is_retired.is_(False))
    ).scalar_one_or_none()


def active_areas(instrument: Instrument) -> list[tuple[AssessmentArea, list[AssessmentItem]]]:
    """The areas that are still asked, each with its items still asked (empty areas left out)."""
    result = []
    for area in instrument.areas:
        if area.is_retired:
            continue
        items = [item for item in area.items if not item.is_retired]
        if items:
            result.append((area, items))
    return result


def responses_of(user: User, instrument: Instrument | None = None) -> list[AssessmentResponse]:
    """The person's responses, newest first."""
    query = db.select(AssessmentResponse).where(AssessmentResponse.user_id == user.id)
    if instrument is not None:
        query = query.where(AssessmentResponse.instrument_id == instrument.id)
    query = query.order_by(AssessmentResponse.started_at.desc(), AssessmentResponse.id.desc())
    return list(db.session.execute(query).scalars())


def get_own_response(user: User, response_id: int) -> AssessmentResponse:
    """The response if it is this user's; ResponseNotFound otherwise (nobody else reads it)."""
    response = db.session.execute(
        db.select(AssessmentResponse)
        .where(AssessmentResponse.id == response_id, AssessmentResponse.user_id == user.id)
        .options(selectinload(AssessmentResponse.answers))
    ).scalar_one_or_none()
    if response is None:
        raise ResponseNotFound(response_id)
    return response


def _check_owner(user: User, response: AssessmentResponse) -> None:
    if response.user_id != user.id:
        raise ResponseNotFound(response.id)


def unfinished_response(user: User, instrument: Instrument) -> AssessmentResponse | None:
    return db.session.execute(
        db.select(AssessmentResponse)
        .where(
            AssessmentResponse.user_id == user.id,
            AssessmentResponse.instrument_id == instrument.id,
            AssessmentResponse.submitted_at.is_(None),
        )
        .order_by(AssessmentResponse.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def start_response(
    user: User, instrument: Instrument, staff_group: StaffGroup | str, now: datetime
) -> AssessmentResponse:
    """Start answering, or give back the unfinished response (one at a time per instrument)."""
    existing = unfinished_response(user, instrument)
    if existing is not None:
        return existing
    open_round = rounds.open_round_for(user, instrument, now)
    response = AssessmentResponse(
        instrument_id=instrument.id,
        user_id=user.id,
        organisation_id=user.organisation_id,
        round_id=open_round.id if open_round is not None else None,
        staff_group=StaffGroup(staff_group),
        started_at=now,
    )
    db.session.add(response)
    db.session.flush()
    return response


def answers_by_item(response: AssessmentResponse) -> dict[int, int | None]:
    return {answer.item_id: answer.value for answer in response.answers}


def progress(response: AssessmentResponse) -> Progress:
    """Items answered (a "not relevant" counts) of the items still asked."""
    item_ids = {item.id for _area, items in active_areas(response.instrument) for item in items}
    answered = sum(1 for answer in response.answers if answer.item_id in item_ids)
    return Progress(answered=answered, total=len(item_ids))


def first_unanswered_area(response: AssessmentResponse) -> int:
    """The 1-based number of the first area with an unanswered item (the last when all are)."""
    answered = answers_by_item(response)
    areas = active_areas(response.instrument)
    for number, (_area, items) in enumerate(areas, start=1):
        if any(item.id not in answered for item in items):
            return number
    return max(len(areas), 1)


def parse_value(item: AssessmentItem, raw: str) -> int | None:
    """A form value as an answer: 1…top, or None for "not relevant" where the item offers it."""
    raw = raw.strip()
    if raw == NOT_RELEVANT:
        if not item.allows_not_relevant:
            raise ResponseError(_("This statement has no “not relevant” answer."))
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= item.top:
        raise ResponseError(_("Choose one of the options."))
    return int(raw)


def _check_open(response: AssessmentResponse) -> None:
    if response.submitted_at is not None or response.answers_deleted_at is not None:
        raise ResponseError(_("These answers have been submitted and can no longer be changed."))


def save_area(
    user: User,
    response: AssessmentResponse,
    items: list[AssessmentItem],
    raw: Mapping[int, str],
    now: datetime,
) -> dict[int, str]:
    """Save one area's answers (`raw`: item id → form value; blank or missing: not yet).

    Returns item id → error message; when there is any error nothing of the area is saved.
    """
    _check_owner(user, response)
    _check_open(response)
    asked = {item.id: item for item in items if item.area.instrument_id == response.instrument_id}
    errors: dict[int, str] = {}
    values: dict[int, int | None] = {}
    for item_id, value in raw.items():
        item = asked.get(item_id)
        if item is None or not value.strip():
            continue
        try:
            values[item_id] = parse_value(item, value)
        except ResponseError as error:
            errors[item_id] = str(error)
    if errors:
        return errors
    existing = {answer.item_id: answer for answer in response.answers}
    for item_id, value in values.items():
        answer = existing.get(item_id)
        if answer is None:
            response.answers.append(Answer(item_id=item_id, value=value, answered_at=now))
        elif answer.value != value:
            answer.value, answer.answered_at = value, now
    db.session.flush()
    return {}


def submit(user: User, response: AssessmentResponse, now: datetime) -> None:
    """Submit a complete response and add it to the tallies (the organisation's aggregates)."""
    _check_owner(user, response)
    _check_open(response)
    state = progress(response)
    if not state.is_complete:
        raise ResponseError(
            _(
                "Answer every statement before submitting: %(missing)d still unanswered.",
                missing=state.total - state.answered,
            )
        )
    response.submitted_at = now
    db.session.flush()
    tallies.record_submission(response)


def delete_answers(user: User, response: AssessmentResponse, now: datetime) -> bool:
    """Delete the person's answers. A submitted response keeps counting as one respondent
    (the published counts stay) but its values leave the tallies; an unfinished one, never
    tallied, goes entirely. Returns True when the response itself is kept."""
    _check_owner(user, response)
    if response.submitted_at is None:
        db.session.delete(response)
        db.session.flush()
        return False
    if response.answers_deleted_at is None:
        tallies.forget_values(response)  # reads the answers: before they go
        db.session.execute(db.delete(Answer).where(Answer.response_id == response.id))
        response.answers_deleted_at = now
        db.session.flush()
        db.session.expire(response, ["answers"])
    return True
