"""Import a validated content tree into the database: upsert by slug, retire, never delete."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import datetime

from campus.extensions import db
from campus.paths.content import ContentTree
from campus.paths.content import ModuleSpec
from campus.paths.content import PathSpec
from campus.paths.content import ThemeSpec
from campus.paths.models import LearningPath
from campus.paths.models import Module
from campus.paths.models import Theme


class ContentInvalid(Exception):
    """The tree has problems; nothing was imported."""


@dataclass
class SyncReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.retired or self.restored)

    def summary(self) -> str:
        return (
            f"{len(self.created)} created, {len(self.updated)} updated, "
            f"{len(self.retired)} retired, {len(self.restored)} restored"
        )


def sync_tree(tree: ContentTree, now: datetime) -> SyncReport:
    """Bring the database in line with `tree`; the caller commits (or rolls back) once.

    Rows are matched by slug and only touched when their content hash changed, so a second
    run is a no-op. Removed themes, paths and modules are retired: learners keep completions.
    """
    if not tree.is_valid:
        raise ContentInvalid(f"{len(tree.problems)} problem(s) in the content")
    report = SyncReport()
    themes = _sync_themes(tree.themes, report)
    paths = _sync_paths(tree.paths, themes, report, now)
    _sync_prerequisites(tree.paths, paths, report)
    db.session.flush()
    return report


def _sync_themes(specs: list[ThemeSpec], report: SyncReport) -> dict[str, Theme]:
    existing = {theme.slug: theme for theme in db.session.execute(db.select(Theme)).scalars()}
    for spec in specs:
        theme = existing.get(spec.slug)
        label = f"theme {spec.slug}"
        if theme is None:
            theme = Theme(slug=spec.slug)
            db.session.add(theme)
            existing[spec.slug] = theme
            report.created.append(label)
        elif theme.content_hash == spec.content_hash and not theme.is_retired:
            continue
        elif theme.is_retired:
            report.restored.append(label)
        else:
            report.updated.append(label)
        theme.position = spec.position
        theme.colour = spec.colour
        theme.title = spec.title
        theme.summary = spec.summary
        theme.content_hash = spec.content_hash
        theme.is_retired = False
    wanted = {spec.slug for spec in specs}
    for slug, theme in existing.items():
        if slug not in wanted and not theme.is_retired:
            theme.is_retired = True
            report.retired.append(f"theme {slug}")
    return existing


def _sync_paths(
    specs: list[PathSpec], themes: dict[str, Theme], report: SyncReport, now: datetime
) -> dict[str, LearningPath]:
    existing = {path.slug: path for path in db.session.execute(db.select(LearningPath)).scalars()}
    for spec in specs:
        path = existing.get(spec.slug)
        label = f"path {spec.slug}"
        if path is None:
            path = LearningPath(slug=spec.slug)
            db.session.add(path)
            existing[spec.slug] = path
            report.created.append(label)
        elif path.is_retired:
            report.restored.append(label)
        elif path.content_hash != spec.content_hash:
            report.updated.append(label)
        if path.content_hash != spec.content_hash or path.is_retired:
            path.theme = themes[spec.theme]
            path.position = spec.position
            path.audience = list(spec.audience)
            path.badge_slug = spec.badge
            path.title = spec.title
            path.summary = spec.summary
            path.content_hash = spec.content_hash
            path.is_retired = False
            path.updated_at = now
        _sync_modules(path, spec.modules, report)
    wanted = {spec.slug for spec in specs}
    for slug, path in existing.items():
        if slug not in wanted and not path.is_retired:
            path.is_retired = True
            path.updated_at = now
            report.retired.append(f"path {slug}")
    return existing


def _sync_modules(path: LearningPath, specs: tuple[ModuleSpec, ...], report: SyncReport) -> None:
    existing = {module.slug: module for module in path.modules}
    for spec in specs:
        module = existing.get(spec.slug)
        label = f"module {path.slug}/{spec.slug}"
        if module is None:
            module = Module(slug=spec.slug)
            path.modules.append(module)
            report.created.append(label)
        elif module.is_retired:
            report.restored.append(label)
        elif module.content_hash != spec.content_hash:
            report.updated.append(label)
        else:
            continue
        module.position = spec.position
        module.kind = spec.kind
        module.is_required = spec.required
        module.minutes = spec.minutes
        module.title = spec.title
        module.body_html = spec.body_html
        module.settings = spec.settings
        module.content_hash = spec.content_hash
        module.is_retired = False
    wanted = {spec.slug for spec in specs}
    for slug, module in existing.items():
        if slug not in wanted and not module.is_retired:
            module.is_retired = True
            report.retired.append(f"module {path.slug}/{slug}")


def _sync_prerequisites(
    specs: list[PathSpec], paths: dict[str, LearningPath], report: SyncReport
) -> None:
    """Prerequisites are part of the path's hash; here they are only written when they differ."""
    for spec in specs:
        path = paths[spec.slug]
        wanted = [paths[slug] for slug in sorted(spec.requires)]
        if [p.slug for p in path.prerequisites] != [p.slug for p in wanted]:
            path.prerequisites = wanted
