"""A per-process copy of the shared content structure: themes, paths, module titles.

Every learner page draws the same few dozen themes, paths and modules; reading and decoding
them through the ORM on each request cost more than the rest of the page. The copy holds no
per-user state (completions and progress are read fresh on every request) and is safe to lose.

Each request checks the copy with one small query (ids, content hashes and the retired flags of
the content rows, and the prerequisite pairs): a sync in any process changes these, so no host
serves stale content. A flush in this process that touches content also drops the copy (direct
edits, such as in tests, need not change a hash).

The entries are plain read-only objects with the attributes the pages use (the ORM models'
names); code that changes content or needs a module's body or settings loads the ORM rows.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from flask import current_app
from sqlalchemy import event
from sqlalchemy import text
from sqlalchemy.orm import Session

from campus.extensions import db
from campus.paths.models import LearningPath
from campus.paths.models import Module
from campus.paths.models import PathPrerequisite
from campus.paths.models import Theme

Texts = dict[str, str]

_CONTENT_MODELS = (Theme, LearningPath, Module, PathPrerequisite)

# What changes whenever a sync changes content (it writes rows only with a new hash).
FINGERPRINT_SQL = (
    "SELECT 't', id, content_hash, is_retired FROM theme"
    " UNION ALL SELECT 'p', id, content_hash, is_retired FROM learning_path"
    " UNION ALL SELECT 'm', id, content_hash, is_retired FROM module"
    " UNION ALL SELECT 'q', path_id, CAST(required_path_id AS VARCHAR(20)), is_retired"
    " FROM path_prerequisite JOIN learning_path ON learning_path.id = path_prerequisite.path_id"
    " ORDER BY 1, 2, 3"
)
_FINGERPRINT = text(FINGERPRINT_SQL)


@dataclass(eq=False, slots=True)
class ModuleEntry:
    id: int
    path_id: int
    slug: str
    position: int
    kind: str
    is_required: bool
    minutes: int
    title: Texts
    is_retired: bool
    path: PathEntry = field(init=False)


@dataclass(eq=False, slots=True)
class PathEntry:
    id: int
    slug: str
    theme_id: int
    position: int
    audience: list[str]
    badge_slug: str | None
    title: Texts
    summary: Texts
    is_retired: bool
    theme: ThemeEntry = field(init=False)
    modules: list[ModuleEntry] = field(default_factory=list)
    prerequisites: list[PathEntry] = field(default_factory=list)
    active_modules: list[ModuleEntry] = field(default_factory=list)
    required_modules: list[ModuleEntry] = field(default_factory=list)
    minutes: int = 0
    # What a search matches, by the page's language order (recommend.search_text fills it).
    search_texts: dict[tuple[str, ...], str] = field(default_factory=dict)


@dataclass(eq=False, slots=True)
class ThemeEntry:
    id: int
    slug: str
    position: int
    colour: str
    title: Texts
    summary: Texts
    is_retired: bool
    paths: list[PathEntry] = field(default_factory=list)


@dataclass(eq=False)
class Catalogue:
    """The content as pages show it; `themes` are the offered ones, in order."""

    themes: list[ThemeEntry]
    paths: dict[int, PathEntry]
    by_slug: dict[str, PathEntry]
    art: dict[str, str] = field(default_factory=dict)  # theme slug -> static filename

    def offered_path(self, slug: str) -> PathEntry | None:
        path = self.by_slug.get(slug)
        return path if path is not None and not path.is_retired else None

    def active_paths(self, theme: ThemeEntry) -> list[PathEntry]:
        return [path for path in theme.paths if not path.is_retired]


class _Holder:
    """One app's copy: (generation, fingerprint, catalogue), replaced as a whole."""

    value: tuple[int, list[tuple[Any, ...]], Catalogue] | None = None


_generation = itertools.count()
_current = [next(_generation)]


def current() -> Catalogue:
    """The catalogue, checked against the database (one query); rebuilt when it changed."""
    holder: _Holder = current_app.extensions.setdefault("campus_catalogue", _Holder())
    fingerprint = [tuple(row) for row in db.session.execute(_FINGERPRINT)]
    generation = _current[0]
    value = holder.value
    if value is not None and value[0] == generation and value[1] == fingerprint:
        return value[2]
    catalogue = _load(current_app.static_folder)
    holder.value = (generation, fingerprint, catalogue)
    return catalogue


def forget() -> None:
    """Drop every app's copy in this process (the next request rebuilds it)."""
    _current[0] = next(_generation)


def _load(static_folder: str | None) -> Catalogue:
    """Copied from the ORM rows (three queries, only when the content changed)."""
    from campus.paths import services

    themes: list[ThemeEntry] = []
    paths: dict[int, PathEntry] = {}
    rows = services.list_themes(include_retired=True)
    for row in rows:
        theme = ThemeEntry(
            row.id, row.slug, row.position, row.colour, row.title, row.summary, row.is_retired
        )
        themes.append(theme)
        for path_row in row.paths:
            path = PathEntry(
                path_row.id,
                path_row.slug,
                path_row.theme_id,
                path_row.position,
                list(path_row.audience or []),
                path_row.badge_slug,
                path_row.title,
                path_row.summary,
                path_row.is_retired,
            )
            path.theme = theme
            theme.paths.append(path)
            paths[path.id] = path
            for m in path_row.modules:
                module = ModuleEntry(
                    m.id,
                    m.path_id,
                    m.slug,
                    m.position,
                    m.kind,
                    m.is_required,
                    m.minutes,
                    m.title,
                    m.is_retired,
                )
                module.path = path
                path.modules.append(module)
            path.active_modules = [m for m in path.modules if not m.is_retired]
            path.required_modules = [m for m in path.active_modules if m.is_required]
            path.minutes = sum(m.minutes for m in path.active_modules)
    for row in rows:
        for path_row in row.paths:
            paths[path_row.id].prerequisites = [paths[p.id] for p in path_row.prerequisites]
    return Catalogue(
        themes=[theme for theme in themes if not theme.is_retired],
        paths=paths,
        by_slug={path.slug: path for path in paths.values()},
        art=_theme_art(static_folder, themes),
    )


def _theme_art(static_folder: str | None, themes: Any) -> dict[str, str]:
    from campus.paths.recommend import theme_art

    return theme_art(static_folder, themes)


_TOUCHED = "campus_content_touched"


def _forget_on_content_flush(session: Session, _context: Any) -> None:
    """A flush that writes content (a sync, or an edit) in this process drops the copy, and
    so does its commit (a request in another thread may have copied the old rows meanwhile)."""
    for instance in itertools.chain(session.new, session.dirty, session.deleted):
        if isinstance(instance, _CONTENT_MODELS):
            session.info[_TOUCHED] = True
            forget()
            return


def _forget_on_content_commit(session: Session) -> None:
    if session.info.pop(_TOUCHED, False):
        forget()


def _clear_on_rollback(session: Session) -> None:
    session.info.pop(_TOUCHED, None)


event.listen(Session, "after_flush", _forget_on_content_flush)
event.listen(Session, "after_commit", _forget_on_content_commit)
event.listen(Session, "after_soft_rollback", lambda session, _previous: _clear_on_rollback(session))
