"""Schemas of network groups, the goals a group is responsible for, and its annual clock."""

from __future__ import annotations

from marshmallow import Schema
from marshmallow import fields
from marshmallow import validate

from campus.network import annual
from campus.network.models import DevelopmentArea
from campus.network.models import Focus
from campus.network.models import GoalStatus
from campus.network.models import GroupKind
from campus.network.models import GroupRole
from campus.network.years import EARLIEST_YEAR
from campus.network.years import LATEST_YEAR

RUN_STATUSES = (annual.DONE, annual.NOT_DONE, annual.IN_PROGRESS, annual.UPCOMING, annual.NOT_DUE)


def _one_of(values: object) -> validate.OneOf:
    return validate.OneOf([str(v) for v in values])  # type: ignore[attr-defined]


class ScopeSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(("region", "organisation")))
    id = fields.Integer(required=True)
    name = fields.String(required=True)


class GroupSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, validate=_one_of(GroupKind))
    name = fields.String(required=True)
    scope = fields.Nested(ScopeSchema, required=True)
    mandate = fields.String(required=True)
    theme = fields.String(allow_none=True, required=True)
    paths = fields.List(fields.String(), required=True)
    badges = fields.List(fields.String(), required=True)
    member_count = fields.Integer(required=True)


class MemberSchema(Schema):
    name = fields.String(required=True)
    role = fields.String(required=True, validate=_one_of(GroupRole))
    organisation = fields.String(required=True)
    responsibilities = fields.String(required=True)


class GroupDetailSchema(GroupSchema):
    members = fields.List(fields.Nested(MemberSchema), required=True)


class RoadmapRefSchema(Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    first_year = fields.Integer(required=True)
    last_year = fields.Integer(required=True)
    scope = fields.Nested(ScopeSchema, required=True)


class GoalSchema(Schema):
    id = fields.Integer(required=True)
    roadmap = fields.Nested(RoadmapRefSchema, required=True)
    area = fields.String(required=True, validate=_one_of(DevelopmentArea))
    focus = fields.String(required=True, validate=_one_of(Focus))
    title = fields.String(required=True)
    starting_point = fields.String(required=True)
    target_state = fields.String(required=True)
    indicators = fields.String(required=True)
    status = fields.String(required=True, validate=_one_of(GoalStatus))
    paths = fields.List(fields.String(), required=True)
    badges = fields.List(fields.String(), required=True)


class YearArgs(Schema):
    year = fields.Integer(
        load_default=None,
        validate=validate.Range(min=EARLIEST_YEAR, max=LATEST_YEAR),
        metadata={"description": "The year to show (default: this year)."},
    )


class RaciLetterSchema(Schema):
    letter = fields.String(required=True, validate=validate.OneOf(("R", "A", "C", "I")))
    role = fields.String(
        allow_none=True, required=True, metadata={"description": "A member role, or all."}
    )


class RunSchema(Schema):
    year = fields.Integer(required=True, metadata={"description": "The year the run starts."})
    start = fields.Date(required=True)
    end = fields.Date(required=True)
    status = fields.String(required=True, validate=validate.OneOf(RUN_STATUSES))


class ClockActionSchema(Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    description = fields.String(required=True)
    scope = fields.Nested(ScopeSchema, required=True)
    start_month = fields.Integer(required=True)
    start_day = fields.Integer(allow_none=True, required=True)
    end_month = fields.Integer(required=True)
    end_day = fields.Integer(allow_none=True, required=True)
    first_year = fields.Integer(required=True)
    last_year = fields.Integer(allow_none=True, required=True)
    responsible = fields.Boolean(
        required=True, metadata={"description": "The group is the action's responsible group."}
    )
    raci = fields.List(fields.Nested(RaciLetterSchema), required=True)
    runs = fields.List(fields.Nested(RunSchema), required=True)
    paths = fields.List(fields.String(), required=True)


class GroupClockSchema(Schema):
    group = fields.Integer(required=True)
    year = fields.Integer(required=True)
    actions = fields.List(fields.Nested(ClockActionSchema), required=True)
