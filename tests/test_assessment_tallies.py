"""Tallies: submitted answers counted per item, value, organisation, round and staff group.

The builders here (an instrument made in the database, a submitted response) are shared with
tests/test_assessment_aggregates.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from datetime import datetime

from flask import Flask

from campus.assessments import tallies
from campus.assessments.models import Answer
from campus.assessments.models import AssessmentArea
from campus.assessments.models import AssessmentItem
from campus.assessments.models import AssessmentResponse
from campus.assessments.models import Instrument
from campus.assessments.models import ItemTally
from campus.assessments.models import Respondent
from campus.assessments.models import RespondentTally
from campus.assessments.models import Scale
from campus.assessments.models import StaffGroup
from campus.auth.models import Organisation
from campus.auth.models import Role
from campus.auth.models import User
from campus.extensions import db
from tests.conftest import FAST_HASH
from tests.test_postgres import pg_app  # noqa: F401  (the PostgreSQL fixture)

SUBMITTED = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def make_instrument(
    slug: str = "staff", areas: Sequence[Sequence[Scale]] = ((Scale.LEVELS,) * 2,) * 2
) -> Instrument:
    """An instrument with one area per entry of `areas`, one item per scale in the entry."""
    instrument = Instrument(
        slug=slug,
        respondent=Respondent.PERSON,
        title={"fi": slug, "en": slug.title()},
        summary={},
        intro_html={},
        audience=["all_staff"],
        content_hash="x" * 64,
    )
    db.session.add(instrument)
    for a, scales in enumerate(areas, start=1):
        area = AssessmentArea(
            instrument=instrument,
            key=f"area-{a}",
            position=a,
            title={"fi": f"Alue {a}", "en": f"Area {a}"},
            description={},
        )
        db.session.add(area)
        for i, scale in enumerate(scales, start=1):
            db.session.add(
                AssessmentItem(
                    area=area,
                    key=f"item-{a}-{i}",
                    position=i,
                    scale=scale,
                    statement={"fi": f"Väite {a}.{i}", "en": f"Statement {a}.{i}"},
                    levels=[],
                    allows_not_relevant=True,
                    path_slugs=[],
                )
            )
    db.session.flush()
    return instrument


def items_of(instrument: Instrument) -> list[AssessmentItem]:
    return [item for area in instrument.areas for item in area.items]


def make_person(organisation_id: int, email: str, roles: Sequence[str] = ()) -> User:
    from campus.auth.services import set_roles

    user = User(
        email=email,
        name=email.split("@")[0].title(),
        password_hash=FAST_HASH,
        organisation_id=organisation_id,
    )
    db.session.add(user)
    db.session.flush()
    if roles:
        set_roles(user, {Role(role) for role in roles})
    return user


def submit(
    instrument: Instrument,
    organisation_id: int,
    values: Sequence[int | None] | int | None,
    *,
    round_id: int | None = None,
    staff_group: StaffGroup = StaffGroup.TEACHER,
    user: User | None = None,
) -> AssessmentResponse:
    """A submitted response answering every item (`values` per item, or one value for all)."""
    items = items_of(instrument)
    if not isinstance(values, Sequence):
        values = [values] * len(items)
    if user is None:
        count = db.session.scalar(db.select(db.func.count(User.id))) or 0
        user = make_person(organisation_id, f"person{count + 1}@example.org")
    response = AssessmentResponse(
        instrument_id=instrument.id,
        user_id=user.id,
        organisation_id=organisation_id,
        round_id=round_id,
        staff_group=staff_group,
        submitted_at=SUBMITTED,
    )
    db.session.add(response)
    for item, value in zip(items, values, strict=True):
        response.answers.append(Answer(item_id=item.id, value=value))
    db.session.flush()
    tallies.record_submission(response)
    return response


def make_organisation(slug: str, region_id: int | None = None) -> Organisation:
    org = Organisation(slug=slug, name=slug.title(), region_id=region_id)
    db.session.add(org)
    db.session.flush()
    return org


def tally_cells() -> dict[tuple[int, int, int, str, int], int]:
    rows = db.session.execute(
        db.select(
            ItemTally.item_id,
            ItemTally.organisation_id,
            ItemTally.round_key,
            ItemTally.staff_group,
            ItemTally.value,
            ItemTally.count,
        )
    )
    return {(i, o, r, str(g), v): c for i, o, r, g, v, c in rows}


def respondent_cells() -> dict[tuple[int, int, int, str], int]:
    rows = db.session.execute(
        db.select(
            RespondentTally.instrument_id,
            RespondentTally.organisation_id,
            RespondentTally.round_key,
            RespondentTally.staff_group,
            RespondentTally.count,
        )
    )
    return {(i, o, r, str(g)): c for i, o, r, g, c in rows}


def test_submission_counts_each_value_and_one_respondent(app: Flask) -> None:
    with app.app_context():
        instrument = make_instrument()
        org = make_organisation("north")
        first, second, third, fourth = (item.id for item in items_of(instrument))
        submit(instrument, org.id, [3, 3, None, 6])
        submit(instrument, org.id, [3, 4, None, 6])
        submit(instrument, org.id, [5, 5, 5, 5], staff_group=StaffGroup.LEADER)
        db.session.commit()

        cells = tally_cells()
        assert cells[(first, org.id, 0, "teacher", 3)] == 2
        assert cells[(second, org.id, 0, "teacher", 3)] == 1
        assert cells[(second, org.id, 0, "teacher", 4)] == 1
        assert cells[(third, org.id, 0, "teacher", 0)] == 2  # "not relevant" counts as value 0
        assert cells[(fourth, org.id, 0, "teacher", 6)] == 2
        assert cells[(first, org.id, 0, "leader", 5)] == 1
        assert sum(cells.values()) == 12
        assert respondent_cells() == {
            (instrument.id, org.id, 0, "teacher"): 2,
            (instrument.id, org.id, 0, "leader"): 1,
        }


def test_round_key_is_the_round_id(app: Flask) -> None:
    from datetime import date

    from campus.assessments.models import AssessmentRound

    with app.app_context():
        instrument = make_instrument()
        org = make_organisation("north")
        round_ = AssessmentRound(
            instrument_id=instrument.id,
            organisation_id=org.id,
            title="Autumn",
            opens_on=date(2026, 11, 1),
            closes_on=date(2026, 11, 30),
        )
        db.session.add(round_)
        db.session.flush()
        submit(instrument, org.id, 2, round_id=round_.id)
        submit(instrument, org.id, 2)
        assert respondent_cells() == {
            (instrument.id, org.id, round_.id, "teacher"): 1,
            (instrument.id, org.id, 0, "teacher"): 1,
        }


def test_forget_values_keeps_the_respondent(app: Flask) -> None:
    with app.app_context():
        instrument = make_instrument()
        org = make_organisation("north")
        first = items_of(instrument)[0].id
        kept = submit(instrument, org.id, [2, 2, None, 2])
        gone = submit(instrument, org.id, [2, 3, None, 4])
        tallies.forget_values(gone)
        cells = tally_cells()
        assert cells[(first, org.id, 0, "teacher", 2)] == 1
        assert {k[-1]: c for k, c in cells.items() if k[0] == first and c} == {2: 1}
        assert sum(cells.values()) == 4  # only the kept response's four answers
        assert respondent_cells() == {(instrument.id, org.id, 0, "teacher"): 2}
        assert kept.id != gone.id


def test_forget_values_of_an_unsubmitted_response_changes_nothing(app: Flask) -> None:
    with app.app_context():
        instrument = make_instrument()
        org = make_organisation("north")
        done = submit(instrument, org.id, 4)
        draft = AssessmentResponse(
            instrument_id=instrument.id,
            user_id=done.user_id,
            organisation_id=org.id,
            staff_group=StaffGroup.TEACHER,
        )
        db.session.add(draft)
        for item in items_of(instrument):
            draft.answers.append(Answer(item_id=item.id, value=4))
        db.session.flush()
        before = tally_cells()
        tallies.forget_values(draft)
        assert tally_cells() == before


def test_tallies_on_postgres(pg_app: Flask) -> None:  # noqa: F811  (the fixture)
    """The same upserts run on PostgreSQL (ON CONFLICT DO UPDATE adds to the cell)."""
    with pg_app.app_context():
        instrument = make_instrument()
        org = make_organisation("pg-north")
        first = items_of(instrument)[0].id
        submit(instrument, org.id, [1, 2, None, 3])
        gone = submit(instrument, org.id, [1, 2, 3, 3])
        db.session.commit()
        assert tally_cells()[(first, org.id, 0, "teacher", 1)] == 2
        tallies.forget_values(gone)
        db.session.commit()
        assert tally_cells()[(first, org.id, 0, "teacher", 1)] == 1
        assert respondent_cells() == {(instrument.id, org.id, 0, "teacher"): 2}
