"""Read and validate the content tree (pure: no Flask, no database).

`load_tree` never raises for bad content: every problem is collected as `file:line: message`
so that an author sees all of them at once.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

from campus.paths import guards
from campus.paths.keylines import KeyLines
from campus.paths.models import Audience
from campus.paths.models import ModuleKind
from campus.paths.rendering import MarkdownTooDeep
from campus.paths.rendering import render_markdown

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
LANGUAGES = ("fi", "sv", "en")
REQUIRED_LANGUAGES = ("fi", "en")
MARKDOWN_NAME = re.compile(r"^module\.([a-z]{2})\.md$")
MAX_BODY_BYTES = 200_000

COMMON_MODULE_KEYS = {"version", "kind", "required", "minutes", "title"}
KIND_KEYS = {
    ModuleKind.READ: set(),
    ModuleKind.QUIZ: {"pass_mark", "max_attempts", "questions"},
    ModuleKind.REFLECTION: {"min_length", "prompt"},
    ModuleKind.EVIDENCE: {"prompt", "accept_file", "accept_link"},
    ModuleKind.LTI: {"tool", "url", "custom", "presentation", "pass_mark"},
}


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


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


class ManifestReader:
    """Validates one manifest, collecting problems against its file and lines."""

    def __init__(self, path: Path, root: Path, problems: list[Problem]) -> None:
        self.path = path
        self.root = root
        self.name = display_name(path, root)
        self.problems = problems
        self.raw = b""
        self.data: dict[str, Any] = {}
        self.lines = KeyLines("")

    def load(self) -> bool:
        if guards.outside(self.path, self.root):
            self.report(1, guards.outside_message(self.root))
            return False
        try:
            self.raw = self.path.read_bytes()
            text = self.raw.decode("utf-8")
        except UnicodeDecodeError:
            self.report(1, "file is not UTF-8 text")
            return False
        except OSError as error:
            self.report(1, f"cannot read file: {error.strerror}")
            return False
        try:
            self.data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            match = re.search(r"line (\d+)", str(error))
            self.report(int(match[1]) if match else 1, f"invalid TOML: {error}")
            return False
        except RecursionError:
            self.report(guards.deep_line(text) or 1, guards.TOO_DEEP)
            return False
        self.lines = KeyLines(text)
        if (key := guards.too_deep_key(self.data)) is not None:
            self.report(guards.deep_line(text) or self.lines.line(key), guards.TOO_DEEP)
            return False
        if self.data.get("version") != 1:
            self.report_key("version", "`version = 1` is required")
            return False
        return True

    def report(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.name, line, message))

    def report_key(self, key: str, message: str) -> None:
        self.report(self.lines.line(key), message)

    def unknown_keys(self, allowed: set[str]) -> None:
        for key in sorted(set(self.data) - allowed):
            self.report_key(key, f"unknown key `{key}`")

    def texts(self, key: str, value: Any = None, required: bool = True) -> dict[str, str]:
        """A {language: text} table with Finnish and English."""
        value = self.data.get(key) if value is None else value
        if value is None:
            if required:
                self.report_key(key, f"`{key}` is required (a table with fi and en texts)")
            return {}
        if not isinstance(value, Mapping):
            self.report_key(key, f'`{key}` must be a table like {{ fi = "…", en = "…" }}')
            return {}
        texts: dict[str, str] = {}
        for language, text in value.items():
            if language not in LANGUAGES:
                self.report_key(key, f"`{key}` has unknown language `{language}` (use fi, sv, en)")
            elif not isinstance(text, str) or not text.strip():
                self.report_key(key, f"`{key}.{language}` must be non-empty text")
            else:
                texts[language] = text.strip()
        for language in REQUIRED_LANGUAGES:
            if language not in value:
                self.report_key(key, f"`{key}` lacks the `{language}` text")
        return texts

    def integer(self, key: str, low: int, high: int, default: int | None = None) -> int:
        value = self.data.get(key, default)
        if value is None:
            self.report_key(key, f"`{key}` is required (a whole number {low}–{high})")
            return low
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.report_key(key, f"`{key}` must be a whole number {low}–{high}")
            return low
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            self.report_key(key, f"`{key}` must be true or false")
            return default
        return value

    def slug_list(self, key: str, required: bool = False, check_slugs: bool = True) -> list[str]:
        value = self.data.get(key, [] if not required else None)
        if value is None:
            self.report_key(key, f"`{key}` is required (a list of slugs)")
            return []
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.report_key(key, f"`{key}` must be a list of text slugs")
            return []
        for item in value if check_slugs else []:
            if not SLUG.match(item):
                self.report_key(key, f"`{item}` in `{key}` is not a valid slug")
        if len(set(value)) != len(value):
            self.report_key(key, f"`{key}` lists the same slug twice")
        return list(dict.fromkeys(value))


def display_name(path: Path, root: Path) -> str:
    """A file as authors know it: relative to the folder that holds `content/`."""
    return str(path.relative_to(root.parent)) if path.is_relative_to(root.parent) else str(path)


def digest(*parts: Any) -> str:
    payload = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


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
    kind = reader.data.get("kind")
    kinds = [k.value for k in KIND_KEYS]
    if kind not in kinds:
        reader.report_key("kind", f"`kind` must be one of: {', '.join(kinds)}")
        return None
    module_kind = ModuleKind(kind)
    reader.unknown_keys(COMMON_MODULE_KEYS | KIND_KEYS[module_kind])
    required = reader.boolean("required", True)
    minutes = reader.integer("minutes", 1, 600, default=10)
    title = reader.texts("title")
    settings = _module_settings(reader, module_kind)
    bodies = _read_bodies(module_dir, root, reader)
    body_html = {}
    for language, text in bodies.items():
        try:
            body_html[language] = render_markdown(text, drop_leading_title=True)
        except MarkdownTooDeep:
            body = module_dir / f"module.{language}.md"
            problems.append(
                Problem(
                    display_name(body, root),
                    guards.markdown_deep_line(text),
                    guards.MARKDOWN_TOO_DEEP,
                )
            )
    if len(problems) != before:
        return None
    return ModuleSpec(
        slug=module_dir.name,
        position=position,
        kind=module_kind.value,
        required=required,
        minutes=minutes,
        title=title,
        body_html=body_html,
        settings=settings,
        content_hash=digest(reader.data, bodies, position),
    )


def _read_bodies(module_dir: Path, root: Path, reader: ManifestReader) -> dict[str, str]:
    bodies: dict[str, str] = {}
    for file in sorted(module_dir.glob("*.md")):
        body_reader = ManifestReader(file, root, reader.problems)
        match = MARKDOWN_NAME.match(file.name)
        if not match or match[1] not in LANGUAGES:
            body_reader.report(1, "body files are named module.fi.md, module.en.md or module.sv.md")
            continue
        if guards.outside(file, root):
            body_reader.report(1, guards.outside_message(root))
            continue
        try:
            if file.stat().st_size > MAX_BODY_BYTES:
                body_reader.report(1, f"body is larger than {MAX_BODY_BYTES // 1000} kB")
                continue
            text = file.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            body_reader.report(1, "file is not UTF-8 text")
            continue
        except OSError as error:
            body_reader.report(1, f"cannot read file: {error.strerror}")
            continue
        if not text.strip():
            body_reader.report(1, "body is empty")
            continue
        bodies[match[1]] = text
    for language in REQUIRED_LANGUAGES:
        if language not in bodies and not (module_dir / f"module.{language}.md").exists():
            reader.report(1, f"module.{language}.md is missing")
    return bodies


def _module_settings(reader: ManifestReader, kind: ModuleKind) -> dict[str, Any]:
    if kind is ModuleKind.QUIZ:
        return _quiz_settings(reader)
    if kind is ModuleKind.REFLECTION:
        return {
            "min_length": reader.integer("min_length", 20, 5000),
            "prompt": reader.texts("prompt"),
        }
    if kind is ModuleKind.EVIDENCE:
        accept_file = reader.boolean("accept_file", True)
        accept_link = reader.boolean("accept_link", True)
        if not accept_file and not accept_link:
            reader.report_key("accept_link", "an evidence module must accept a file or a link")
        return {
            "prompt": reader.texts("prompt"),
            "accept_file": accept_file,
            "accept_link": accept_link,
        }
    if kind is ModuleKind.LTI:
        return _lti_settings(reader)
    return {}


def _lti_settings(reader: ManifestReader) -> dict[str, Any]:
    """An external tool: registered by an admin under `tool`; the link may be picked later."""
    tool = reader.data.get("tool")
    if not isinstance(tool, str) or not SLUG.match(tool):
        reader.report_key("tool", "`tool` must be the short name of a registered LTI tool")
    url = reader.data.get("url")
    if url is not None and (
        not isinstance(url, str) or not url.startswith(("https://", "http://"))
    ):
        reader.report_key("url", "`url` must be a web address")
    custom = reader.data.get("custom", {})
    if not isinstance(custom, dict) or not all(
        isinstance(v, str | int | float) for v in custom.values()
    ):
        reader.report_key("custom", "`custom` must be a table of text values")
        custom = {}
    presentation = reader.data.get("presentation", "window")
    if presentation not in ("window", "iframe"):
        reader.report_key("presentation", '`presentation` must be "window" or "iframe"')
    pass_mark = reader.integer("pass_mark", 0, 100, default=0)
    return {
        "tool": tool,
        "url": url,
        "custom": {str(k): str(v) for k, v in custom.items()},
        "presentation": presentation,
        "pass_mark": pass_mark,
    }


def _quiz_settings(reader: ManifestReader) -> dict[str, Any]:
    pass_mark = reader.integer("pass_mark", 1, 100)
    max_attempts = reader.integer("max_attempts", 0, 100, default=0)
    raw_questions = reader.data.get("questions")
    if not isinstance(raw_questions, list) or not raw_questions:
        reader.report_key("questions", "a quiz needs at least one [[questions]] entry")
        return {}
    questions = []
    seen_ids: set[str] = set()
    for index, raw in enumerate(raw_questions):
        where = f"questions[{index}]"
        if not isinstance(raw, Mapping):
            reader.report_key(where, "each question must be a table")
            continue
        for key in sorted(set(raw) - {"id", "prompt", "explanation", "choices"}):
            reader.report_key(f"{where}.{key}", f"unknown key `{key}` in a question")
        question_id = raw.get("id")
        if not isinstance(question_id, str) or not SLUG.match(question_id):
            reader.report_key(f"{where}.id", "each question needs an `id` slug")
        elif question_id in seen_ids:
            reader.report_key(f"{where}.id", f"question id `{question_id}` is used twice")
        seen_ids.add(str(question_id))
        prompt = reader.texts(f"{where}.prompt", raw.get("prompt", {}) or {})
        explanation = reader.texts(f"{where}.explanation", raw.get("explanation"), required=False)
        choices = _quiz_choices(reader, where, raw.get("choices"))
        questions.append(
            {"id": question_id, "prompt": prompt, "explanation": explanation, "choices": choices}
        )
    return {"pass_mark": pass_mark, "max_attempts": max_attempts, "questions": questions}


def _quiz_choices(reader: ManifestReader, where: str, raw_choices: Any) -> list[dict[str, Any]]:
    if not isinstance(raw_choices, list) or not 2 <= len(raw_choices) <= 8:
        reader.report_key(f"{where}.choices", "a question needs 2–8 `choices`")
        return []
    choices = []
    ids: set[str] = set()
    for index, raw in enumerate(raw_choices):
        spot = f"{where}.choices[{index}]"
        if not isinstance(raw, Mapping):
            reader.report_key(spot, "each choice must be a table { id = …, text = { … } }")
            continue
        for key in sorted(set(raw) - {"id", "text", "correct"}):
            reader.report_key(spot, f"unknown key `{key}` in a choice")
        choice_id = raw.get("id")
        if not isinstance(choice_id, str) or not SLUG.match(choice_id):
            reader.report_key(spot, "each choice needs an `id` slug")
        elif choice_id in ids:
            reader.report_key(spot, f"choice id `{choice_id}` is used twice")
        ids.add(str(choice_id))
        correct = raw.get("correct", False)
        if not isinstance(correct, bool):
            reader.report_key(spot, "`correct` must be true or false")
        text = reader.texts(spot, raw.get("text", {}) or {})
        choices.append({"id": choice_id, "text": text, "correct": correct is True})
    if choices and not any(choice["correct"] for choice in choices):
        reader.report_key(f"{where}.choices", "a question needs at least one correct choice")
    return choices


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
