"""Checks on files authors hand us before anything walks them (pure: no Flask, no database).

Parsers and renderers recurse: a manifest with hundreds of nested arrays, or a Markdown body
with hundreds of nested lists, would end the checker with a RecursionError instead of a
`file:line` message. And a symbolic link could pull a file from anywhere on the server into
pages that everyone reads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

# Our manifests nest five levels at most (questions → choice → text); this leaves room.
MAX_DEPTH = 32
TOO_DEEP = f"the file nests too deeply (more than {MAX_DEPTH} levels of arrays or tables)"
MARKDOWN_TOO_DEEP = "lists or quotes nest too deeply to show"


def depth(value: Any) -> int:
    """How deeply tables and arrays nest in a parsed value (iterative: no recursion to exhaust)."""
    deepest = 0
    stack = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level + 1)
        if deepest > MAX_DEPTH:
            return deepest  # enough to refuse it
        stack.extend((child, level + 1) for child in children)
    return deepest


def too_deep_key(data: dict[str, Any]) -> str | None:
    """The top-level key whose value nests too deeply, if any."""
    return next((key for key, value in data.items() if depth(value) >= MAX_DEPTH), None)


def deep_line(text: str, limit: int = MAX_DEPTH) -> int | None:
    """The line where brackets and braces first nest deeper than `limit` (strings and comments
    skipped): where to point, as the parser keeps no positions."""
    level = 0
    line = 1
    index = 0
    quote = ""
    while index < len(text):
        char = text[index]
        if char == "\n":
            line += 1
        if quote:
            if char == "\\" and quote in ('"', '"""'):
                line += text[index + 1 : index + 2] == "\n"
                index += 2
                continue
            if text.startswith(quote, index):
                index += len(quote)
                quote = ""
                continue
        elif char == "#":
            end = text.find("\n", index)
            index = len(text) if end < 0 else end
            continue
        elif char in "\"'":
            quote = char * 3 if text.startswith(char * 3, index) else char
            index += len(quote)
            continue
        elif char in "[{":
            level += 1
            if level > limit:
                return line
        elif char in "]}":
            level = max(0, level - 1)
        index += 1
    return None


def markdown_deep_line(text: str) -> int:
    """The line that is indented or quoted furthest, where a renderer gives up on nesting."""
    lines = text.splitlines() or [""]

    def nesting(line: str) -> int:
        stripped = line.lstrip(" \t>")
        return len(line) - len(stripped)

    return max(range(len(lines)), key=lambda number: nesting(lines[number])) + 1


def outside_message(root: Path) -> str:
    return f"links to a file outside {root.name}/ (copy the file into the folder instead)"


def outside(file: Path, root: Path) -> bool:
    """True when `file`, following every link, is not under `root` (itself resolved)."""
    return not file.resolve().is_relative_to(root.resolve())
