"""Keep ItemTally and RespondentTally in step with submitted answers.

Aggregate views read only these counters, so they stay fast at millions of answers and never
touch a person's `Answer` rows. Each change is one SQL upsert (`INSERT … ON CONFLICT DO UPDATE
SET count = count + excluded.count`, SQLite ≥ 3.24 and PostgreSQL): two people submitting at the
same moment both add to the same cell instead of one overwriting the other. The caller commits.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_
from sqlalchemy import exists
from sqlalchemy import func
from sqlalchemy import literal
from sqlalchemy import update
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite

from campus.assessments.models import Answer
from campus.assessments.models import AssessmentResponse
from campus.assessments.models import ItemTally
from campus.assessments.models import RespondentTally
from campus.extensions import db

NOT_RELEVANT = 0  # the tally value of a "not relevant to my work" answer (Answer.value None)


def round_key(response: AssessmentResponse) -> int:
    """Tallies key rounds by id; answers given outside any round count under 0."""
    return response.round_id or 0


def _insert(model: type[Any]) -> Any:
    dialect = db.session.get_bind(mapper=model).dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(dialect)
    if insert is None:
        raise NotImplementedError(f"tallies do not support {dialect}")
    return insert(model)


def record_submission(response: AssessmentResponse) -> None:
    """Add the response's answers to ItemTally and one respondent to RespondentTally.

    Call once, when the response is submitted (its answers flushed or pending in the session).
    The answers are grouped in SQL: one statement whatever the number of items.
    """
    db.session.flush()
    key = round_key(response)
    value = func.coalesce(Answer.value, NOT_RELEVANT)
    grouped = (
        db.select(
            Answer.item_id,
            literal(response.organisation_id),
            literal(key),
            literal(response.staff_group, ItemTally.staff_group.type),
            value,
            func.count(),
        )
        # The WHERE clause also keeps SQLite's parser from reading ON CONFLICT as a join.
        .where(Answer.response_id == response.id)
        .group_by(Answer.item_id, value)
    )
    items = _insert(ItemTally).from_select(
        ["item_id", "organisation_id", "round_key", "staff_group", "value", "count"], grouped
    )
    items = items.on_conflict_do_update(
        index_elements=["item_id", "organisation_id", "round_key", "staff_group", "value"],
        set_={"count": ItemTally.count + items.excluded["count"]},
    )
    db.session.execute(items)

    people = _insert(RespondentTally).values(
        instrument_id=response.instrument_id,
        organisation_id=response.organisation_id,
        round_key=key,
        staff_group=response.staff_group,
        count=1,
    )
    people = people.on_conflict_do_update(
        index_elements=["instrument_id", "organisation_id", "round_key", "staff_group"],
        set_={"count": RespondentTally.count + people.excluded["count"]},
    )
    db.session.execute(people)


def forget_values(response: AssessmentResponse) -> None:
    """Subtract the response's answers from ItemTally; the respondent still counts.

    Call before its Answer rows are deleted (the answers say which cells to decrement). A
    response never submitted was never tallied, so there is nothing to subtract.
    """
    if response.submitted_at is None:
        return
    db.session.flush()
    answered = exists().where(
        and_(
            Answer.response_id == response.id,
            Answer.item_id == ItemTally.item_id,
            func.coalesce(Answer.value, NOT_RELEVANT) == ItemTally.value,
        )
    )
    statement = (
        update(ItemTally)
        .where(
            ItemTally.organisation_id == response.organisation_id,
            ItemTally.round_key == round_key(response),
            ItemTally.staff_group == response.staff_group,
            ItemTally.count > 0,
            answered,
        )
        .values(count=ItemTally.count - 1)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(statement)
