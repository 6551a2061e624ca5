"""Public catalogue: themes, paths and modules, exactly what the catalogue pages show anonymously.

Retired themes, paths and modules are left out as on the pages; module bodies and settings
(quiz answers) are not public: the module pages need a login.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_smorest import Blueprint
from sqlalchemy import String
from sqlalchemy import cast
from sqlalchemy import func
from sqlalchemy.orm import contains_eager
from sqlalchemy.orm import selectinload

from campus.api import schemas_catalogue as s
from campus.api.caching import ETAG_HEADERS
from campus.api.caching import NOT_MODIFIED
from campus.api.caching import conditional_json
from campus.api.paging import PAGING_HEADERS
from campus.api.paging import paginate
from campus.api.problems import abort_problem
from campus.badges.models import BadgeClass
from campus.extensions import db
from campus.i18n import pick
from campus.paths import services
from campus.paths.models import LearningPath
from campus.paths.models import Module
from campus.paths.models import Theme
from campus.routing import external_url

blp = Blueprint(
    "api_catalogue",
    __name__,
    url_prefix="/api/v1",
    description="The public catalogue of themes, learning paths and modules (no token needed).",
)

_PATH_LOADS = (
    selectinload(LearningPath.modules).options(*services.LIST_ONLY),
    selectinload(LearningPath.prerequisites),
)


def _documented(schema: Any, listed: bool = False):  # type: ignore[no-untyped-def]
    """The 200 (with ETag, and paging headers for lists) and 304 of a catalogue GET."""
    headers = {**ETAG_HEADERS, **(PAGING_HEADERS if listed else {})}

    def decorate(view):  # type: ignore[no-untyped-def]
        view = blp.alt_response(304, description=NOT_MODIFIED, headers=ETAG_HEADERS)(view)
        view = view if listed else blp.alt_response(404, response="NOT_FOUND")(view)
        return blp.response(200, schema, headers=headers)(view)

    return decorate


@blp.get("/themes")
@blp.arguments(s.ThemeListArgs, location="query", as_kwargs=True)
@_documented(s.ThemeSchema(many=True), listed=True)
def themes(page: int, per_page: int, lang: str | None = None):
    """List themes

    Themes in catalogue order.
    """
    query = db.select(Theme).where(Theme.is_retired.is_(False)).order_by(Theme.position, Theme.id)
    items, headers = paginate(query, page, per_page)
    counts = _path_counts([theme.id for theme in items])
    payload = [_theme(theme, counts.get(theme.id, 0), lang) for theme in items]
    return conditional_json(payload, headers=headers)


@blp.get("/themes/<slug>")
@blp.arguments(s.LangArgs, location="query", as_kwargs=True)
@_documented(s.ThemeDetailSchema)
def theme(slug: str, lang: str | None = None):
    """Get a theme with its paths"""
    found = db.session.execute(
        db.select(Theme).where(Theme.slug == slug, Theme.is_retired.is_(False))
    ).scalar_one_or_none()
    if found is None:
        abort_problem(404, detail="No such theme.")
    paths = list(
        db.session.execute(
            db.select(LearningPath)
            .where(LearningPath.theme_id == found.id, LearningPath.is_retired.is_(False))
            .order_by(LearningPath.position, LearningPath.id)
            .options(*_PATH_LOADS)
        ).scalars()
    )
    badges = services.path_badges(paths) if paths else {}
    payload = _theme(found, len(paths), lang)
    payload["paths"] = [_path(path, found.slug, badges.get(path.id), lang) for path in paths]
    return conditional_json(payload)


@blp.get("/paths")
@blp.arguments(s.PathListArgs, location="query", as_kwargs=True)
@_documented(s.PathSchema(many=True), listed=True)
def paths(
    page: int,
    per_page: int,
    lang: str | None = None,
    theme: str | None = None,
    audience: str | None = None,
):
    """List learning paths

    Paths in catalogue order (by theme), optionally of one theme or for one audience.
    """
    query = (
        db.select(LearningPath)
        .join(LearningPath.theme)
        .where(LearningPath.is_retired.is_(False), Theme.is_retired.is_(False))
        .order_by(Theme.position, Theme.id, LearningPath.position, LearningPath.id)
        .options(contains_eager(LearningPath.theme), *_PATH_LOADS)
    )
    if theme is not None:
        query = query.where(Theme.slug == theme)
    if audience is not None:
        # A JSON list of known words: its text holds the quoted word exactly when it is listed.
        query = query.where(cast(LearningPath.audience, String).like(f'%"{audience}"%'))
    items, headers = paginate(query, page, per_page)
    badges = services.path_badges(items) if items else {}
    payload = [_path(path, path.theme.slug, badges.get(path.id), lang) for path in items]
    return conditional_json(payload, headers=headers)


@blp.get("/paths/<slug>")
@blp.arguments(s.LangArgs, location="query", as_kwargs=True)
@_documented(s.PathDetailSchema)
def path(slug: str, lang: str | None = None):
    """Get a learning path with its modules"""
    found = services.get_path(slug, selectinload(LearningPath.theme), *_PATH_LOADS)
    if found is None:
        abort_problem(404, detail="No such learning path.")
    badge = services.path_badges([found]).get(found.id)
    payload = _path(found, found.theme.slug, badge, lang)
    payload["modules"] = [_module(module, found.slug, lang) for module in found.active_modules]
    return conditional_json(payload)


@blp.get("/paths/<path_slug>/modules/<module_slug>")
@blp.arguments(s.LangArgs, location="query", as_kwargs=True)
@_documented(s.ModuleSchema)
def module(path_slug: str, module_slug: str, lang: str | None = None):
    """Get a module of a learning path

    Module slugs are unique within their path. The module's material needs a login on the
    campus and is not part of the public catalogue.
    """
    modules = selectinload(LearningPath.modules).options(*services.LIST_ONLY)
    found = services.get_path(path_slug, modules)
    shown = services.get_module(found, module_slug) if found is not None else None
    if found is None or shown is None:
        abort_problem(404, detail="No such module.")
    payload = _module(shown, found.slug, lang)
    payload["path"] = found.slug
    return conditional_json(payload)


# --- JSON ---------------------------------------------------------------------------------


def _texts(value: Mapping[str, str] | None, lang: str | None) -> str | dict[str, str]:
    if lang is not None:
        return pick(value, lang)
    return {language: text for language, text in (value or {}).items() if text}


def _theme(theme: Theme, path_count: int, lang: str | None) -> dict[str, Any]:
    return {
        "slug": theme.slug,
        "title": _texts(theme.title, lang),
        "summary": _texts(theme.summary, lang),
        "colour": theme.colour,
        "position": theme.position,
        "path_count": path_count,
        "url": external_url("api_catalogue.theme", slug=theme.slug),
    }


def _path(
    path: LearningPath, theme_slug: str, badge: BadgeClass | None, lang: str | None
) -> dict[str, Any]:
    return {
        "slug": path.slug,
        "theme": theme_slug,
        "title": _texts(path.title, lang),
        "summary": _texts(path.summary, lang),
        "audience": list(path.audience),
        "minutes": path.minutes,
        "module_count": len(path.active_modules),
        "prerequisites": [required.slug for required in path.prerequisites],
        "badge": _badge(badge, lang),
        "url": external_url("api_catalogue.path", slug=path.slug),
        "page_url": external_url("paths.path_detail", slug=path.slug),
    }


def _badge(badge: BadgeClass | None, lang: str | None) -> dict[str, Any] | None:
    if badge is None:
        return None
    return {
        "slug": badge.slug,
        "name": _texts(badge.name, lang),
        "url": external_url("badges.detail", slug=badge.slug),
    }


def _module(module: Module, path_slug: str, lang: str | None) -> dict[str, Any]:
    return {
        "slug": module.slug,
        "position": module.position,
        "title": _texts(module.title, lang),
        "kind": module.kind,
        "minutes": module.minutes,
        "is_required": module.is_required,
        "url": external_url("api_catalogue.module", path_slug=path_slug, module_slug=module.slug),
    }


def _path_counts(theme_ids: list[int]) -> dict[int, int]:
    if not theme_ids:
        return {}
    rows = db.session.execute(
        db.select(LearningPath.theme_id, func.count())
        .where(LearningPath.theme_id.in_(theme_ids), LearningPath.is_retired.is_(False))
        .group_by(LearningPath.theme_id)
    )
    return {theme_id: count for theme_id, count in rows}
