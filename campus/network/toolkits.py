"""Templates that travel (the DigiErko toolkit idea): a region or organisation publishes its
roadmap, annual clock and kick-off kit as one document; another copies it in one step.

The document is the TOML file's content (campus.network.toolkit_format reads, checks and writes
it). Publishing and importing store it in a `Toolkit`; `apply` creates new rows owned by the
copier (a roadmap and its goals, clock actions and their RACI, a kit), so a copy never changes
its source, and the source never changes the copy. Services only flush; the view commits.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Any

from flask_babel import gettext as _

from campus.auth.models import User
from campus.extensions import db
from campus.network.access import Scope
from campus.network.clock_models import ClockAction
from campus.network.clock_models import Raci
from campus.network.clock_models import RaciEntry
from campus.network.clock_models import Toolkit
from campus.network.kickoff import scope_kit
from campus.network.models import Roadmap
from campus.network.toolkit_copy import CopyReport
from campus.network.toolkit_copy import DroppedCell
from campus.network.toolkit_copy import apply
from campus.network.toolkit_copy import first_year_range
from campus.network.toolkit_copy import unknown_references
from campus.network.toolkit_format import FORMAT
from campus.network.toolkit_format import ToolkitDocument
from campus.network.toolkit_format import ToolkitError
from campus.network.toolkit_format import decode_file
from campus.network.toolkit_format import read_toolkit
from campus.network.toolkit_format import to_toml
from campus.network.toolkit_format import validate_document

__all__ = [  # the module the views, the CLI and the demo use
    "FORMAT",
    "CopyReport",
    "DroppedCell",
    "ToolkitDocument",
    "ToolkitError",
    "apply",
    "decode_file",
    "document_from_scope",
    "first_year_range",
    "import_file",
    "publish",
    "read_toolkit",
    "to_toml",
    "unknown_references",
    "validate_document",
]


# ---------------------------------------------------------------------------- publishing


def _key_for(title: str, taken: set[str]) -> str:
    """A goal key from its title ("Henkilöstön osaaminen" → "henkiloston-osaaminen")."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:60] or "goal"
    key, number = base, 2
    while key in taken:
        key, number = f"{base}-{number}", number + 1
    return key


def _party(entry: RaciEntry) -> str | None:
    """The cell's party ("<kind>" or "<kind>.<role>"); None when its group is gone."""
    if entry.group is None:
        return None
    kind = entry.group.kind.value
    return f"{kind}.{entry.member_role.value}" if entry.member_role else kind


def scope_actions(scope: Scope) -> list[ClockAction]:
    query = db.select(ClockAction).filter_by(**scope.columns())
    actions = db.session.execute(query).scalars()
    return sorted(actions, key=lambda a: (a.start_month, a.start_day or 0, a.id))


def document_from_scope(
    scope: Scope, roadmap: Roadmap, title: str, slug: str, summary: str, language: str
) -> ToolkitDocument:
    """What publishing stores: the roadmap's goals, the scope's annual clock (RACI by group
    kind, and role as "<kind>.<role>") and its kick-off kit; checked like a file."""
    if not scope.owns(roadmap):
        raise ToolkitError([_("The roadmap is not one of this region's or organisation's.")])
    keys: dict[int, str] = {}
    goals = []
    for goal in roadmap.goals:
        keys[goal.id] = _key_for(goal.title, set(keys.values()))
        entry: dict[str, Any] = {
            "key": keys[goal.id],
            "area": goal.area.value,
            "focus": goal.focus.value,
            "title": goal.title,
            "starting_point": goal.starting_point,
            "target_state": goal.target_state,
            "indicators": goal.indicators,
            "paths": list(goal.path_slugs or []),
            "badges": list(goal.badge_slugs or []),
        }
        if goal.instrument_slug and goal.assessment_area_key:
            entry["instrument"] = goal.instrument_slug
            entry["assessment_area"] = goal.assessment_area_key
        if goal.group is not None:
            entry["group"] = goal.group.kind.value
        goals.append(entry)
    actions = []
    for action in scope_actions(scope):
        item: dict[str, Any] = {
            "title": action.title,
            "description": action.description,
            "start_month": action.start_month,
            "end_month": action.end_month,
            "paths": list(action.path_slugs or []),
        }
        for name in ("start_day", "end_day"):
            if getattr(action, name) is not None:
                item[name] = getattr(action, name)
        if action.group is not None:
            item["group"] = action.group.kind.value
        if action.goal_id in keys:
            item["goal"] = keys[action.goal_id]  # goals of other roadmaps do not travel
        raci: dict[str, str] = {}
        for cell in action.raci:
            party = _party(cell)
            if party is None:
                continue
            # Two groups of one kind become one party; the accountable one wins.
            if party not in raci or cell.letter == Raci.ACCOUNTABLE:
                raci[party] = cell.letter.value
        item["raci"] = raci
        actions.append(item)
    document: dict[str, Any] = {
        "format": FORMAT,
        "slug": slug,
        "title": title,
        "summary": summary,
        "language": language,
        "roadmap": {
            "title": roadmap.title,
            "years": roadmap.last_year - roadmap.first_year + 1,
            "goals": goals,
        },
        "clock": {"actions": actions},
    }
    kit = scope_kit(scope)
    if kit is not None:
        document["kit"] = {
            "title": kit.title,
            "questions": list(kit.questions or []),
            "tasks": list(kit.tasks or []),
            "parties": list(kit.parties or []),
        }
    return validate_document(document)


def _check_slug_free(slug: str) -> None:
    taken = db.session.execute(
        db.select(Toolkit.title).where(Toolkit.slug == slug)
    ).scalar_one_or_none()
    if taken is not None:
        raise ToolkitError(
            [
                _(
                    'slug: "%(slug)s" is already the address of the template "%(title)s"',
                    slug=slug,
                    title=taken,
                )
            ]
        )


def _store(document: ToolkitDocument, user: User | None, now: datetime, **source: Any) -> Toolkit:
    _check_slug_free(document["slug"])
    toolkit = Toolkit(
        slug=document["slug"],
        title=document["title"],
        summary=document["summary"],
        language=document["language"],
        body=document,
        published_by_id=user.id if user is not None else None,
        published_at=now,
        **source,
    )
    db.session.add(toolkit)
    db.session.flush()
    return toolkit


def publish(
    scope: Scope,
    roadmap: Roadmap,
    title: str,
    slug: str,
    summary: str,
    language: str,
    user: User | None,
    now: datetime,
) -> Toolkit:
    """Publish the scope's roadmap, annual clock and kit as a template (ToolkitError: why not)."""
    document = document_from_scope(scope, roadmap, title, slug, summary, language)
    return _store(document, user, now, **scope.columns())


def import_file(text: str, user: User | None, now: datetime) -> Toolkit:
    """Store a template file; nothing is added unless the whole file is right."""
    document = read_toolkit(text)
    return _store(document, user, now, region_id=None, organisation_id=None)


def delete_toolkit(toolkit: Toolkit) -> None:
    """Copies stay: they are rows of their own."""
    db.session.delete(toolkit)
    db.session.flush()


def toolkits() -> list[Toolkit]:
    query = db.select(Toolkit).order_by(Toolkit.published_at.desc(), Toolkit.id.desc())
    return list(db.session.execute(query).scalars())
