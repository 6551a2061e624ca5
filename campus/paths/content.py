"""Read and validate the content tree (pure: no Flask, no database).

`load_tree` never raises for bad content: every problem is collected as `file:line: message`
so that an author sees all of them at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

from campus.paths import kinds
from campus.paths.keylines import KeyLines  # noqa: F401 - part of this module's interface
from campus.paths.manifest import SLUG
from campus.paths.manifest import ManifestReader
from campus.paths.manifest import Problem
from campus.paths.manifest import digest
from campus.paths.manifest import read_language_files
from campus.paths.manifest import render_language_files
from campus.paths.models import Audience

COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
MAX_BODY_BYTES = 200_000

# Keys every module may use; each kind adds its own `settings_keys`.
COMMON_MODULE_KEYS = {"version", "kind", "required", "minutes", "title"}


@dataclass(frozen=True)
class ThemeSpec:
    slug: str
    position: int
    colour: str
    title: dict[str, str]
    summary: dict[str, str]
    content_hash: str


@dataclass(frozen=True)
class ModuleSpec:
    slug: str
    position: int
    kind: str
    required: bool
    minutes: int
    title: dict[str, str]
    body_html: dict[str, str]
    settings: dict[str, Any]
    content_hash: str


@dataclass(frozen=True)
class PathSpec:
    slug: str
    theme: str
    position: int
    audience: tuple[str, ...]
    requires: tuple[str, ...]
    badge: str | None
    title: dict[str, str]
    summary: dict[str, str]
    modules: tuple[ModuleSpec, ...]
    content_hash: str


@dataclass
class ContentTree:
    themes: list[ThemeSpec] = field(default_factory=list)
    paths: list[PathSpec] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def is_valid(self) -> bool:
        return not self.problems


def load_tree(root: Path) -> ContentTree:
    """Parse and validate every theme, path and module under `root`."""
    tree = ContentTree()
    problems = tree.problems
    if not root.is_dir():
        problems.append(Problem(str(root), 1, "content folder not found"))
        return tree
    tree.themes = _load_themes(root, problems)
    # A theme file with problems reports them itself; paths naming it are not blamed too.
    theme_slugs = {file.stem for file in (root / "themes").glob("*.toml")}
    paths_dir = root / "paths"
    readers: dict[str, ManifestReader] = {}
    for path_dir in (
        sorted(p for p in paths_dir.iterdir() if p.is_dir()) if paths_dir.is_dir() else []
    ):
        spec, reader = _load_path(path_dir, root, theme_slugs, problems)
        if spec is not None and reader is not None:
            tree.paths.append(spec)
            readers[spec.slug] = reader
    folders = {p.name for p in paths_dir.iterdir() if p.is_dir()} if paths_dir.is_dir() else set()
    _check_prerequisites(tree.paths, readers, folders)
    return tree


def _load_themes(root: Path, problems: list[Problem]) -> list[ThemeSpec]:
    themes: list[ThemeSpec] = []
    positions: dict[int, str] = {}
    theme_dir = root / "themes"
    if not theme_dir.is_dir():
        problems.append(Problem(f"{root.name}/themes", 1, "the themes folder is missing"))
        return themes
    for file in sorted(theme_dir.glob("*.toml")):
        reader = ManifestReader(file, root, problems)
        slug = file.stem
        if not SLUG.match(slug):
            reader.report(1, f"`{slug}` is not a valid slug for a file name")
            continue
        if not reader.load():
            continue
        reader.unknown_keys({"version", "position", "colour", "title", "summary"})
        before = len(problems)
        position = reader.integer("position", 1, 99)
        colour = reader.data.get("colour")
        if not isinstance(colour, str) or not COLOUR.match(colour):
            reader.report_key("colour", '`colour` must be a colour like "#0b5fa5"')
        if position in positions:
            reader.report_key(
                "position", f"position {position} is already used by theme `{positions[position]}`"
            )
        positions[position] = slug
        title = reader.texts("title")
        summary = reader.texts("summary")
        if len(problems) == before:
            themes.append(
                ThemeSpec(slug, position, str(colour).lower(), title, summary, digest(reader.data))
            )
    if not themes and not any(p.file.startswith(f"{root.name}/themes") for p in problems):
        problems.append(Problem(f"{root.name}/themes", 1, "no themes found"))
    return themes


def _load_path(
    path_dir: Path, root: Path, theme_slugs: set[str], problems: list[Problem]
) -> tuple[PathSpec | None, ManifestReader | None]:
    manifest = path_dir / "path.toml"
    reader = ManifestReader(manifest, root, problems)
    slug = path_dir.name
    if not SLUG.match(slug):
        reader.report(1, f"`{slug}` is not a valid slug for a folder name")
        return None, None
    if not manifest.exists():
        reader.report(1, "path.toml is missing")
        return None, None
    if not reader.load():
        return None, None
    before = len(problems)
    reader.unknown_keys(
        {
            "version",
            "theme",
            "position",
            "audience",
            "requires",
            "badge",
            "title",
            "summary",
            "modules",
        }
    )
    theme = reader.data.get("theme")
    if not isinstance(theme, str) or theme not in theme_slugs:
        reader.report_key("theme", f"`theme` must name an existing theme, not {theme!r}")
    position = reader.integer("position", 1, 999)
    audience = reader.slug_list("audience", required=True, check_slugs=False)
    known_audiences = {a.value for a in Audience}
    for item in audience:
        if item not in known_audiences:
            reader.report_key(
                "audience", f"unknown audience `{item}` (use: {', '.join(sorted(known_audiences))})"
            )
    if not audience and "audience" in reader.data:
        reader.report_key("audience", "`audience` needs at least one group")
    requires = reader.slug_list("requires")
    if slug in requires:
        reader.report_key("requires", "a path cannot require itself")
    badge = reader.data.get("badge")
    if badge is not None and (not isinstance(badge, str) or not SLUG.match(badge)):
        reader.report_key("badge", "`badge` must be a badge slug")
    title = reader.texts("title")
    summary = reader.texts("summary")
    module_slugs = reader.slug_list("modules", required=True)
    if not module_slugs and "modules" in reader.data:
        reader.report_key("modules", "a path needs at least one module")
    modules: list[ModuleSpec] = []
    for position_in_path, module_slug in enumerate(module_slugs, start=1):
        module_dir = path_dir / module_slug
        if not module_dir.is_dir():
            reader.report_key(
                "modules", f"module `{module_slug}` is listed but its folder is missing"
            )
            continue
        module = _load_module(module_dir, root, position_in_path, problems)
        if module is not None:
            modules.append(module)
    for extra in sorted(p.name for p in path_dir.iterdir() if p.is_dir()):
        if extra not in module_slugs:
            reader.report_key("modules", f"folder `{extra}` is not listed in `modules`")
    if modules and not any(module.required for module in modules):
        reader.report_key("modules", "a path needs at least one required module")
    if len(problems) != before:
        return None, reader
    spec = PathSpec(
        slug=slug,
        theme=str(theme),
        position=position,
        audience=tuple(audience),
        requires=tuple(requires),
        badge=badge,
        title=title,
        summary=summary,
        modules=tuple(modules),
        content_hash=digest(reader.data),
    )
    return spec, reader


def _load_module(
    module_dir: Path, root: Path, position: int, problems: list[Problem]
) -> ModuleSpec | None:
    reader = ManifestReader(module_dir / "module.toml", root, problems)
    if not (module_dir / "module.toml").exists():
        reader.report(1, "module.toml is missing")
        return None
    if not reader.load():
        return None
    before = len(problems)
    key = reader.data.get("kind")
    kind = kinds.get(key) if isinstance(key, str) else None
    if kind is None:
        keys = sorted(k.key for k in kinds.all_kinds())
        reader.report_key("kind", f"`kind` must be one of: {', '.join(keys)}")
        return None
    reader.unknown_keys(COMMON_MODULE_KEYS | kind.settings_keys)
    required = reader.boolean("required", True)
    minutes = reader.integer("minutes", 1, 600, default=10)
    title = reader.texts("title")
    settings = kind.read_settings(reader)
    bodies = read_language_files(module_dir, root, reader, "module", "body", MAX_BODY_BYTES)
    body_html = render_language_files(bodies, module_dir, root, "module", problems)
    if len(problems) != before:
        return None
    return ModuleSpec(
        slug=module_dir.name,
        position=position,
        kind=kind.key,
        required=required,
        minutes=minutes,
        title=title,
        body_html=body_html,
        settings=settings,
        content_hash=digest(reader.data, bodies, position),
    )


def _check_prerequisites(
    paths: list[PathSpec], readers: dict[str, ManifestReader], folders: set[str]
) -> None:
    """Every required path exists (a broken one reports its own problems) and there is no cycle."""
    graph = {path.slug: path.requires for path in paths}
    for path in paths:
        for required in path.requires:
            if required not in folders:
                readers[path.slug].report_key(
                    "requires", f"required path `{required}` does not exist"
                )
    # Depth-first search for cycles; each cycle reported once, on its first path.
    state: dict[str, int] = {}

    def visit(slug: str, trail: list[str]) -> None:
        state[slug] = 1
        for nxt in graph.get(slug, ()):
            if state.get(nxt) == 1:
                cycle = trail[trail.index(nxt) :] + [nxt] if nxt in trail else [slug, nxt]
                readers[nxt].report_key(
                    "requires", "prerequisites form a cycle: " + " → ".join(cycle)
                )
            elif nxt in graph and state.get(nxt) is None:
                visit(nxt, trail + [nxt])
        state[slug] = 2

    for slug in sorted(graph):
        if state.get(slug) is None:
            visit(slug, [slug])
