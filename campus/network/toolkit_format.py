"""The template (toolkit) file: TOML in, a checked document out, and back to TOML.

`read_toolkit` parses a file and checks every field, collecting all problems (each names its
field, e.g. `roadmap.goals[2].area: "skills" is not one of competence, …`; list positions count
from 1, as people count the `[[roadmap.goals]]` blocks). The document it returns is normalised:
defaults filled in, optional fields left out when empty, so that
`read_toolkit(to_toml(document)) == document` (the writer, `to_toml`, lives in
campus.network.toolkit_writer and is re-exported here). Nothing here touches the database.
"""

from __future__ import annotations

import calendar
import tomllib
from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _

from campus.network.clock_models import Raci
from campus.network.models import DevelopmentArea
from campus.network.models import Focus
from campus.network.models import GroupKind
from campus.network.models import GroupRole
from campus.network.models import roles_for
from campus.network.toolkit_checker import FORMAT
from campus.network.toolkit_checker import KEY_PATTERN
from campus.network.toolkit_checker import LANGUAGES
from campus.network.toolkit_checker import MAX_ACTIONS
from campus.network.toolkit_checker import MAX_FILE_BYTES
from campus.network.toolkit_checker import MAX_GOALS
from campus.network.toolkit_checker import MAX_SLUG
from campus.network.toolkit_checker import MAX_TEXT
from campus.network.toolkit_checker import MAX_TITLE
from campus.network.toolkit_checker import MAX_YEARS
from campus.network.toolkit_checker import SLUG_PATTERN
from campus.network.toolkit_checker import Checker
from campus.network.toolkit_checker import ToolkitDocument
from campus.network.toolkit_checker import ToolkitError
from campus.network.toolkit_checker import choices
from campus.network.toolkit_checker import decode_file
from campus.network.toolkit_writer import to_toml

__all__ = [
    "FORMAT",
    "MAX_FILE_BYTES",
    "MAX_SLUG",
    "MAX_TEXT",
    "MAX_TITLE",
    "SLUG_PATTERN",
    "ToolkitDocument",
    "ToolkitError",
    "decode_file",
    "party_label_parts",
    "read_toolkit",
    "to_toml",
    "validate_document",
]

_TOP_FIELDS = {"format", "slug", "title", "summary", "language", "roadmap", "clock", "kit"}
_ROADMAP_FIELDS = {"title", "years", "goals"}
_GOAL_FIELDS = {
    "key",
    "area",
    "focus",
    "title",
    "starting_point",
    "target_state",
    "indicators",
    "instrument",
    "assessment_area",
    "group",
    "paths",
    "badges",
}
_ACTION_FIELDS = {
    "title",
    "description",
    "start_month",
    "start_day",
    "end_month",
    "end_day",
    "group",
    "goal",
    "paths",
    "raci",
}
_KIT_FIELDS = {"title", "questions", "tasks", "parties"}


def _optional(target: dict[str, Any], key: str, value: Any) -> None:
    """Optional fields are left out of the document when empty (TOML has no null)."""
    if value not in (None, ""):
        target[key] = value


def _group_kind(check: Checker, table: Mapping[str, Any], field: str) -> str | None:
    if table.get("group") in (None, ""):
        return None
    return check.choice(table, "group", field, [kind.value for kind in GroupKind]) or None


def _goal(check: Checker, raw: Any, field: str) -> dict[str, Any] | None:
    table = check.table(raw, field, _GOAL_FIELDS)
    if table is None:
        return None
    key = check.text(table, "key", f"{field}.key", MAX_SLUG, required=True)
    if key and not KEY_PATTERN.match(key):
        check.problem(
            _(
                '%(field)s: "%(value)s" may contain only lowercase letters a–z, digits, hyphens'
                " and underscores",
                field=f"{field}.key",
                value=key,
            )
        )
    goal: dict[str, Any] = {
        "key": key,
        "area": check.choice(table, "area", f"{field}.area", [a.value for a in DevelopmentArea]),
        "focus": check.choice(table, "focus", f"{field}.focus", [f.value for f in Focus]),
        "title": check.text(table, "title", f"{field}.title", MAX_TITLE, required=True),
        "starting_point": check.text(table, "starting_point", f"{field}.starting_point", MAX_TEXT),
        "target_state": check.text(table, "target_state", f"{field}.target_state", MAX_TEXT),
        "indicators": check.text(table, "indicators", f"{field}.indicators", MAX_TEXT),
    }
    instrument = check.text(table, "instrument", f"{field}.instrument", MAX_SLUG)
    check.pattern(instrument, f"{field}.instrument", SLUG_PATTERN)
    _optional(goal, "instrument", instrument)
    area = check.text(table, "assessment_area", f"{field}.assessment_area", MAX_SLUG)
    if bool(area) != bool(instrument):
        check.problem(
            _(
                "%(field)s: give both instrument and assessment_area, or neither",
                field=f"{field}.{'instrument' if area else 'assessment_area'}",
            )
        )
    _optional(goal, "assessment_area", area)
    _optional(goal, "group", _group_kind(check, table, f"{field}.group"))
    goal["paths"] = check.texts(table, "paths", f"{field}.paths", MAX_SLUG, pattern=True)
    goal["badges"] = check.texts(table, "badges", f"{field}.badges", MAX_SLUG, pattern=True)
    return goal


def _month_day(
    check: Checker, table: Mapping[str, Any], which: str, field: str, default_month: int | None
) -> tuple[int | None, int | None]:
    month_field = f"{field}.{which}_month"
    month = check.integer(table, f"{which}_month", month_field)
    if month is None and table.get(f"{which}_month") is None:
        if which == "start":
            check.problem(_("%(field)s: is required", field=month_field))
        month = default_month
    elif month is not None and not 1 <= month <= 12:
        check.problem(
            _("%(field)s: %(value)d is not a month (1–12)", field=month_field, value=month)
        )
        month = None
    day_field = f"{field}.{which}_day"
    day = check.integer(table, f"{which}_day", day_field)
    if day is not None and month is not None:
        # A yearly action: 29 February is not there three years in four.
        last = calendar.monthrange(2025, month)[1]
        if not 1 <= day <= last:
            check.problem(
                _(
                    "%(field)s: month %(month)d has no day %(day)d (a yearly date: 1–%(last)d)",
                    field=day_field,
                    month=month,
                    day=day,
                    last=last,
                )
            )
    return month, day


def _party(check: Checker, party: str, field: str) -> bool:
    kinds = [kind.value for kind in GroupKind]
    kind, _dot, role = party.partition(".")
    if kind not in kinds:
        check.problem(
            _(
                '%(field)s: "%(party)s" is not a group kind (%(kinds)s), or a kind and a role'
                ' ("digi_group.chair")',
                field=field,
                party=party,
                kinds=choices(kinds),
            )
        )
        return False
    if _dot:
        roles = [r.value for r in roles_for(GroupKind(kind))]
        if role not in roles:
            check.problem(
                _(
                    '%(field)s: "%(role)s" is not a role in a %(kind)s group (%(roles)s)',
                    field=field,
                    role=role,
                    kind=kind,
                    roles=choices(roles),
                )
            )
            return False
    return True


def _raci(check: Checker, raw: Any, field: str) -> dict[str, str]:
    if raw is None:
        return {}
    table = check.table(raw, field, set(raw) if isinstance(raw, Mapping) else set())
    if table is None:
        return {}
    raci: dict[str, str] = {}
    letters = [letter.value for letter in Raci]
    for party, letter in table.items():
        cell = f'{field}."{party}"' if "." in party else f"{field}.{party}"
        known = _party(check, party, cell)
        if not isinstance(letter, str) or letter.strip().upper() not in letters:
            check.problem(
                _(
                    '%(field)s: "%(value)s" is not one of %(choices)s',
                    field=cell,
                    value=letter,
                    choices=choices(letters),
                )
            )
            continue
        if known:
            raci[party] = letter.strip().upper()
    accountable = sum(1 for letter in table.values() if str(letter).strip().upper() == "A")
    if table and accountable != 1:
        check.problem(
            _(
                '%(field)s: exactly one party is accountable ("A"); found %(count)d',
                field=field,
                count=accountable,
            )
        )
    return raci


def _action(check: Checker, raw: Any, field: str, goal_keys: set[str]) -> dict[str, Any] | None:
    table = check.table(raw, field, _ACTION_FIELDS)
    if table is None:
        return None
    action: dict[str, Any] = {
        "title": check.text(table, "title", f"{field}.title", MAX_TITLE, required=True),
        "description": check.text(table, "description", f"{field}.description", MAX_TEXT),
    }
    start_month, start_day = _month_day(check, table, "start", field, None)
    end_month, end_day = _month_day(check, table, "end", field, start_month)
    action["start_month"] = start_month
    _optional(action, "start_day", start_day)
    action["end_month"] = end_month
    _optional(action, "end_day", end_day)
    _optional(action, "group", _group_kind(check, table, f"{field}.group"))
    goal = check.text(table, "goal", f"{field}.goal", MAX_SLUG)
    if goal and goal not in goal_keys:
        check.problem(
            _('%(field)s: no goal has the key "%(value)s"', field=f"{field}.goal", value=goal)
        )
    _optional(action, "goal", goal)
    action["paths"] = check.texts(table, "paths", f"{field}.paths", MAX_SLUG, pattern=True)
    action["raci"] = _raci(check, table.get("raci"), f"{field}.raci")
    return action


def _kit(check: Checker, raw: Any) -> dict[str, Any] | None:
    table = check.table(raw, "kit", _KIT_FIELDS)
    if table is None:
        return None
    return {
        "title": check.text(table, "title", "kit.title", MAX_TITLE, required=True),
        "questions": check.texts(table, "questions", "kit.questions", MAX_TEXT),
        "tasks": check.texts(table, "tasks", "kit.tasks", MAX_TEXT),
        "parties": check.texts(table, "parties", "kit.parties", MAX_TITLE),
    }


def _roadmap(check: Checker, raw: Any) -> dict[str, Any] | None:
    if raw is None:
        check.problem(_("%(field)s: is required", field="roadmap"))
        return None
    table = check.table(raw, "roadmap", _ROADMAP_FIELDS)
    if table is None:
        return None
    roadmap: dict[str, Any] = {
        "title": check.text(table, "title", "roadmap.title", MAX_TITLE, required=True)
    }
    years = check.integer(table, "years", "roadmap.years")
    if years is None and "years" not in table:
        check.problem(_("%(field)s: is required", field="roadmap.years"))
    elif years is not None and not 1 <= years <= MAX_YEARS:
        check.problem(
            _(
                "%(field)s: %(value)d is not between 1 and %(limit)d",
                field="roadmap.years",
                value=years,
                limit=MAX_YEARS,
            )
        )
    roadmap["years"] = years
    goals: list[dict[str, Any]] = []
    first_of: dict[str, int] = {}
    for number, raw_goal in enumerate(check.tables(table, "goals", "roadmap.goals", MAX_GOALS), 1):
        field = f"roadmap.goals[{number}]"
        goal = _goal(check, raw_goal, field)
        if goal is None:
            continue
        if goal["key"] in first_of:
            check.problem(
                _(
                    '%(field)s: "%(value)s" is already the key of goal %(other)d',
                    field=f"{field}.key",
                    value=goal["key"],
                    other=first_of[goal["key"]],
                )
            )
        elif goal["key"]:
            first_of[goal["key"]] = number
        goals.append(goal)
    roadmap["goals"] = goals
    return roadmap


def validate_document(data: Mapping[str, Any]) -> ToolkitDocument:
    """The normalised document, or ToolkitError listing every problem found."""
    check = Checker()
    table = check.table(data, "", _TOP_FIELDS)
    if table is None:
        raise ToolkitError(check.problems)
    fmt = table.get("format")
    if fmt != FORMAT:
        check.problem(
            _(
                'format: "%(value)s" is not a template format this campus reads (expected'
                ' "%(expected)s")',
                value="" if fmt is None else fmt,
                expected=FORMAT,
            )
        )
    slug = check.text(table, "slug", "slug", MAX_SLUG, required=True)
    check.pattern(slug, "slug", SLUG_PATTERN)
    document: ToolkitDocument = {
        "format": FORMAT,
        "slug": slug,
        "title": check.text(table, "title", "title", MAX_TITLE, required=True),
        "summary": check.text(table, "summary", "summary", MAX_TEXT),
        "language": check.choice(table, "language", "language", LANGUAGES),
    }
    roadmap = _roadmap(check, table.get("roadmap"))
    document["roadmap"] = roadmap
    goal_keys = {goal["key"] for goal in (roadmap or {}).get("goals", [])}
    actions: list[dict[str, Any]] = []
    clock = check.table(table.get("clock", {}), "clock", {"actions"})
    if clock is not None:
        raw_actions = check.tables(clock, "actions", "clock.actions", MAX_ACTIONS)
        for number, raw in enumerate(raw_actions, start=1):
            action = _action(check, raw, f"clock.actions[{number}]", goal_keys)
            if action is not None:
                actions.append(action)
    document["clock"] = {"actions": actions}
    if table.get("kit") is not None:
        _optional(document, "kit", _kit(check, table["kit"]))
    if check.problems:
        raise ToolkitError(check.problems)
    return document


def read_toolkit(text: str) -> ToolkitDocument:
    """Parse and check a template file (ToolkitError lists every problem)."""
    decode_file(text.encode("utf-8"))  # the size limit
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ToolkitError([_("The file is not valid TOML: %(error)s", error=str(error))]) from None
    return validate_document(data)


def party_label_parts(party: str) -> tuple[GroupKind, GroupRole | None]:
    """A RACI party of a checked document: its group kind and role (None: the whole group)."""
    kind, _dot, role = party.partition(".")
    return GroupKind(kind), GroupRole(role) if role else None
