"""The pieces the template reader is made of: limits, the error, and a checker that collects
problems (each naming its field) instead of stopping at the first."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _

FORMAT = "campus-network-template/1"
LANGUAGES = ("fi", "sv", "en")
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
MAX_FILE_BYTES = 256 * 1024
MAX_GOALS = 100
MAX_ACTIONS = 200
MAX_TEXT = 5000  # long texts: descriptions, starting points, questions
MAX_TITLE = 200  # titles (the database holds 200 characters)
MAX_SLUG = 80
MAX_ITEMS = 100  # entries of a list (questions, tasks, paths …)
MAX_YEARS = 10

ToolkitDocument = dict[str, Any]


class ToolkitError(Exception):
    """A template that cannot be read, published or copied; `problems` says why, one per line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def choices(values: Any) -> str:
    return ", ".join(str(value) for value in values)


class Checker:
    """Reads one document, collecting problems instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def problem(self, message: str) -> None:
        self.problems.append(message)

    def table(self, value: Any, field: str, allowed: set[str]) -> dict[str, Any] | None:
        if not isinstance(value, Mapping):
            self.problem(_("%(field)s: should be a table", field=field))
            return None
        for key in value:
            if key not in allowed:
                name = f"{field}.{key}" if field else str(key)
                self.problem(_("%(field)s: unknown field", field=name))
        return dict(value)

    def text(
        self,
        table: Mapping[str, Any],
        key: str,
        field: str,
        limit: int,
        required: bool = False,
    ) -> str:
        value = table.get(key)
        if value is None:
            if required:
                self.problem(_("%(field)s: is required", field=field))
            return ""
        if not isinstance(value, str):
            self.problem(_("%(field)s: should be text", field=field))
            return ""
        value = value.strip()
        if required and not value:
            self.problem(_("%(field)s: is required", field=field))
        if len(value) > limit:
            self.problem(
                _(
                    "%(field)s: %(length)d characters; at most %(limit)d",
                    field=field,
                    length=len(value),
                    limit=limit,
                )
            )
        return value

    def pattern(self, value: str, field: str, pattern: re.Pattern[str]) -> None:
        if value and not pattern.match(value):
            self.problem(
                _(
                    '%(field)s: "%(value)s" may contain only lowercase letters a–z, digits and'
                    " hyphens",
                    field=field,
                    value=value,
                )
            )

    def choice(self, table: Mapping[str, Any], key: str, field: str, values: Any) -> str:
        text = self.text(table, key, field, MAX_SLUG, required=True)
        if text and text not in [str(value) for value in values]:
            self.problem(
                _(
                    '%(field)s: "%(value)s" is not one of %(choices)s',
                    field=field,
                    value=text,
                    choices=choices(values),
                )
            )
        return text

    def integer(self, table: Mapping[str, Any], key: str, field: str) -> int | None:
        value = table.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(_("%(field)s: should be a whole number", field=field))
            return None
        return value

    def texts(
        self, table: Mapping[str, Any], key: str, field: str, limit: int, pattern: bool = False
    ) -> list[str]:
        value = table.get(key, [])
        if not isinstance(value, list):
            self.problem(_("%(field)s: should be a list of texts", field=field))
            return []
        if len(value) > MAX_ITEMS:
            self.problem(
                _(
                    "%(field)s: %(count)d entries; at most %(limit)d",
                    field=field,
                    count=len(value),
                    limit=MAX_ITEMS,
                )
            )
        result = []
        for number, item in enumerate(value, start=1):
            name = f"{field}[{number}]"
            text = self.text({"item": item}, "item", name, limit, required=True)
            if pattern:
                self.pattern(text, name, SLUG_PATTERN)
            result.append(text)
        return result

    def tables(self, table: Mapping[str, Any], key: str, field: str, limit: int) -> list[Any]:
        value = table.get(key, [])
        if not isinstance(value, list):
            self.problem(_("%(field)s: should be a list of tables", field=field))
            return []
        if len(value) > limit:
            self.problem(
                _(
                    "%(field)s: %(count)d entries; at most %(limit)d",
                    field=field,
                    count=len(value),
                    limit=limit,
                )
            )
            return []
        return value


def decode_file(data: bytes) -> str:
    """An uploaded file's text (ToolkitError when too large or not UTF-8)."""
    if len(data) > MAX_FILE_BYTES:
        raise ToolkitError(
            [
                _(
                    "The file is %(size)d KB; a template can be at most %(limit)d KB.",
                    size=-(-len(data) // 1024),
                    limit=MAX_FILE_BYTES // 1024,
                )
            ]
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ToolkitError([_("The file is not UTF-8 text.")]) from None
