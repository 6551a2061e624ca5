"""Schemas of the public catalogue: documentation of the JSON the catalogue views build."""

from __future__ import annotations

import marshmallow as ma

from campus.api.paging import PageArgs
from campus.config import LANGUAGES
from campus.paths.models import Audience

LANGUAGE_CHOICES = tuple(LANGUAGES)

_TEXTS = {
    "type": "object",
    "properties": {language: {"type": "string"} for language in LANGUAGE_CHOICES},
    "additionalProperties": {"type": "string"},
}
_LOCALIZED = {
    "oneOf": [{"type": "string"}, _TEXTS],
    "description": "Text in each language ({fi, sv, en}); one string when `lang` is given",
}


def localized(description: str) -> ma.fields.Raw:
    return ma.fields.Raw(required=True, metadata={**_LOCALIZED, "title": description})


class LangArgs(ma.Schema):
    lang = ma.fields.String(
        validate=ma.validate.OneOf(LANGUAGE_CHOICES),
        metadata={
            "description": "Give texts in this language only (falling back to Finnish, "
            "then English, as the pages do) instead of {fi, sv, en} maps"
        },
    )


class ThemeListArgs(PageArgs, LangArgs):
    pass


class PathListArgs(PageArgs, LangArgs):
    theme = ma.fields.String(
        validate=ma.validate.Length(max=80), metadata={"description": "Only this theme's paths"}
    )
    audience = ma.fields.String(
        validate=ma.validate.OneOf([audience.value for audience in Audience]),
        metadata={"description": "Only paths for this audience (e.g. teachers)"},
    )


class ThemeSchema(ma.Schema):
    slug = ma.fields.String(required=True)
    title = localized("Title")
    summary = localized("Summary")
    colour = ma.fields.String(required=True, metadata={"description": "#rrggbb"})
    position = ma.fields.Integer(required=True)
    path_count = ma.fields.Integer(required=True)
    url = ma.fields.String(required=True, metadata={"description": "This resource"})


class CatalogueBadgeSchema(ma.Schema):
    slug = ma.fields.String(required=True)
    name = localized("Name")
    url = ma.fields.String(required=True, metadata={"description": "The public badge page"})


class ModuleSummarySchema(ma.Schema):
    slug = ma.fields.String(required=True)
    position = ma.fields.Integer(required=True)
    title = localized("Title")
    kind = ma.fields.String(required=True, metadata={"description": "page, quiz, evidence …"})
    minutes = ma.fields.Integer(required=True)
    is_required = ma.fields.Boolean(required=True)
    url = ma.fields.String(required=True, metadata={"description": "This resource"})


class PathSchema(ma.Schema):
    slug = ma.fields.String(required=True)
    theme = ma.fields.String(required=True, metadata={"description": "The theme's slug"})
    title = localized("Title")
    summary = localized("Summary")
    audience = ma.fields.List(ma.fields.String(), required=True)
    minutes = ma.fields.Integer(required=True, metadata={"description": "Estimated duration"})
    module_count = ma.fields.Integer(required=True)
    prerequisites = ma.fields.List(
        ma.fields.String(), required=True, metadata={"description": "Slugs of required paths"}
    )
    badge = ma.fields.Nested(CatalogueBadgeSchema, allow_none=True, required=True)
    url = ma.fields.String(required=True, metadata={"description": "This resource"})
    page_url = ma.fields.String(required=True, metadata={"description": "The path's page"})


class ThemeDetailSchema(ThemeSchema):
    paths = ma.fields.List(ma.fields.Nested(PathSchema), required=True)


class PathDetailSchema(PathSchema):
    modules = ma.fields.List(ma.fields.Nested(ModuleSummarySchema), required=True)


class ModuleSchema(ModuleSummarySchema):
    path = ma.fields.String(required=True, metadata={"description": "The path's slug"})
