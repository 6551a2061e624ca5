"""Schemas of an organisation's progress table and assessment aggregates (org admins)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema
from marshmallow import fields
from marshmallow import validate

from campus.assessments.aggregates import Breakdown
from campus.assessments.aggregates import Figure
from campus.manage.progress import SORTS

CELL_STATUSES = ("not_started", "enrolled", "completed")


class ProgressArgs(Schema):
    q = fields.String(load_default="", validate=validate.Length(max=100))
    sort = fields.String(load_default="name", validate=validate.OneOf(SORTS))
    dir = fields.String(load_default=None, validate=validate.OneOf(("asc", "desc")))
    theme = fields.String(
        load_default=None, metadata={"description": "Only the paths of this theme (its slug)."}
    )
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))


class ProgressCellSchema(Schema):
    path = fields.String(required=True, metadata={"description": "The path's slug."})
    status = fields.String(required=True, validate=validate.OneOf(CELL_STATUSES))
    required_done = fields.Integer(required=True)
    required_total = fields.Integer(required=True)
    completed_at = fields.DateTime(allow_none=True, required=True)


class MemberProgressSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    email = fields.String(required=True)
    paths_done = fields.Integer(required=True)
    modules_done = fields.Integer(required=True)
    last_activity = fields.DateTime(allow_none=True, required=True)
    paths = fields.List(fields.Nested(ProgressCellSchema), required=True)


class ResponseRateSchema(Schema):
    submitted = fields.Integer(required=True)
    asked = fields.Integer(required=True)
    percent = fields.Integer(required=True)


class RoundSchema(Schema):
    id = fields.Integer(required=True)
    instrument = fields.String(required=True, metadata={"description": "The instrument's slug."})
    title = fields.String(required=True)
    opens_on = fields.Date(required=True)
    closes_on = fields.Date(required=True)
    target_role = fields.String(allow_none=True, required=True)
    response_rate = fields.Nested(ResponseRateSchema, required=True)


class FigureSchema(Schema):
    """An aggregate; `withheld` when fewer than `min_respondents` people are behind it (then it
    carries no numbers at all)."""

    withheld = fields.Boolean(required=True)
    n = fields.Integer(allow_none=True, required=True)
    mean = fields.Float(allow_none=True, required=True)
    counts = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={"description": 'Answers per value ("0": not relevant).'},
    )


class BreakdownSchema(Schema):
    total = fields.Nested(FigureSchema, required=True)
    groups = fields.Dict(keys=fields.String(), values=fields.Nested(FigureSchema), required=True)


class ItemFiguresSchema(Schema):
    key = fields.String(required=True)
    statement = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    figures = fields.Nested(BreakdownSchema, required=True)


class ComparisonSchema(Schema):
    previous = fields.Nested(FigureSchema, allow_none=True, required=True)
    region = fields.Nested(FigureSchema, allow_none=True, required=True)
    campus = fields.Nested(FigureSchema, required=True)


class AreaFiguresSchema(Schema):
    key = fields.String(required=True)
    title = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    figures = fields.Nested(BreakdownSchema, required=True)
    compared = fields.Nested(ComparisonSchema, required=True)
    items = fields.List(fields.Nested(ItemFiguresSchema), required=True)


class RoundReportSchema(Schema):
    round = fields.Nested(RoundSchema, required=True)
    min_respondents = fields.Integer(required=True)
    respondents = fields.Nested(BreakdownSchema, required=True)
    areas = fields.List(fields.Nested(AreaFiguresSchema), required=True)


def figure_dict(figure: Figure) -> dict[str, Any]:
    if figure.withheld:
        return {"withheld": True, "n": None, "mean": None, "counts": {}}
    return {
        "withheld": False,
        "n": figure.n,
        "mean": figure.mean,
        "counts": {str(value): count for value, count in sorted(figure.counts.items())},
    }


def breakdown_dict(breakdown: Breakdown) -> dict[str, Any]:
    return {
        "total": figure_dict(breakdown.total),
        "groups": {str(group): figure_dict(f) for group, f in breakdown.groups.items()},
    }
