"""One TOML manifest read and checked, every problem kept as `file:line: message` (pure).

Content (themes, paths, modules and each module kind's settings) and badge files share it.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from campus.paths import guards
from campus.paths.keylines import KeyLines

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
LANGUAGES = ("fi", "sv", "en")
REQUIRED_LANGUAGES = ("fi", "en")


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


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
        if (key := key_with_nul(self.data)) is not None:
            # PostgreSQL cannot store it, and no page or baked badge should carry it.
            shown = key.replace("\x00", "\\u0000")
            self.report_key(key, f"`{shown}` contains a NUL character (\\u0000)")
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


def key_with_nul(data: dict[str, Any]) -> str | None:
    """The top-level key whose value holds a NUL in some text or table key, if any."""
    for key, value in data.items():
        stack = [key, value]
        while stack:
            item = stack.pop()
            if isinstance(item, str) and "\x00" in item:
                return key
            if isinstance(item, dict):
                stack.extend(item.keys())
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
    return None


def display_name(path: Path, root: Path) -> str:
    """A file as authors know it: relative to the folder that holds `content/`."""
    return str(path.relative_to(root.parent)) if path.is_relative_to(root.parent) else str(path)


def digest(*parts: Any) -> str:
    payload = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def read_language_files(
    folder: Path, root: Path, reader: ManifestReader, stem: str, noun: str, max_bytes: int
) -> dict[str, str]:
    """The Markdown texts `<stem>.<language>.md` of one folder, by language (module bodies,
    instrument intros): wrong names, links out of the tree, oversized, unreadable and empty
    files and missing required languages are reported as problems, never raised."""
    name = re.compile(rf"^{re.escape(stem)}\.([a-z]{{2}})\.md$")
    texts: dict[str, str] = {}
    for file in sorted(folder.glob("*.md")):
        file_reader = ManifestReader(file, root, reader.problems)
        match = name.match(file.name)
        if not match or match[1] not in LANGUAGES:
            file_reader.report(
                1, f"{noun} files are named {stem}.fi.md, {stem}.en.md or {stem}.sv.md"
            )
            continue
        if guards.outside(file, root):
            file_reader.report(1, guards.outside_message(root))
            continue
        try:
            if file.stat().st_size > max_bytes:
                file_reader.report(1, f"{noun} is larger than {max_bytes // 1000} kB")
                continue
            text = file.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            file_reader.report(1, "file is not UTF-8 text")
            continue
        except OSError as error:
            file_reader.report(1, f"cannot read file: {error.strerror}")
            continue
        if not text.strip():
            file_reader.report(1, f"{noun} is empty")
            continue
        texts[match[1]] = text
    for language in REQUIRED_LANGUAGES:
        if language not in texts and not (folder / f"{stem}.{language}.md").exists():
            reader.report(1, f"{stem}.{language}.md is missing")
    return texts


def render_language_files(
    texts: dict[str, str], folder: Path, root: Path, stem: str, problems: list[Problem]
) -> dict[str, str]:
    """Render what read_language_files read; a file nested too deeply is reported, not raised."""
    from campus.paths.rendering import MarkdownTooDeep
    from campus.paths.rendering import render_markdown

    html: dict[str, str] = {}
    for language, text in texts.items():
        try:
            html[language] = render_markdown(text, drop_leading_title=True)
        except MarkdownTooDeep:
            file = folder / f"{stem}.{language}.md"
            problems.append(
                Problem(
                    display_name(file, root),
                    guards.markdown_deep_line(text),
                    guards.MARKDOWN_TOO_DEEP,
                )
            )
    return html
