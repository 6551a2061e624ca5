"""Schemas of the caller's own account, progress and badges (GET /api/v1/me/…)."""

from __future__ import annotations

from marshmallow import Schema
from marshmallow import fields
from marshmallow import validate

from campus.api.schemas_badges import AssertionSchema

MODULE_STATES = ("done", "waiting", "returned", "todo")


class OrganisationRefSchema(Schema):
    slug = fields.String(required=True)
    name = fields.String(required=True)


class MeSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    email = fields.String(required=True)
    email_verified = fields.Boolean(required=True)
    locale = fields.String(allow_none=True, required=True)
    roles = fields.List(fields.String(), required=True)
    organisation = fields.Nested(OrganisationRefSchema, required=True)


class ModuleProgressSchema(Schema):
    slug = fields.String(required=True)
    title = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    required = fields.Boolean(required=True)
    state = fields.String(required=True, validate=validate.OneOf(MODULE_STATES))


class PathProgressSchema(Schema):
    slug = fields.String(required=True)
    title = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    theme = fields.String(required=True, metadata={"description": "The theme's slug."})
    enrolled = fields.Boolean(required=True)
    completed_at = fields.DateTime(allow_none=True, required=True)
    required_total = fields.Integer(required=True)
    required_done = fields.Integer(required=True)
    percent = fields.Integer(required=True)
    next_module = fields.String(
        allow_none=True, required=True, metadata={"description": "Slug of the module to do next."}
    )
    modules = fields.List(fields.Nested(ModuleProgressSchema), required=True)


class MyBadgeSchema(AssertionSchema):
    """One of the caller's awards, with the addresses of its 2.0 and 3.0 editions."""
