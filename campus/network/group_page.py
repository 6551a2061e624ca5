"""What a group's page shows besides its members: the annual-clock actions it is responsible
for or has a RACI letter in, the paths and badges that matter to it (and how many members hold
the badges), its structure flags and its links. Read-only queries."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from typing import Any

from babel.dates import get_month_names
from flask import url_for
from flask_babel import get_locale

from campus.badges.models import Assertion
from campus.badges.models import BadgeClass
from campus.extensions import db
from campus.i18n import pick
from campus.network import annual
from campus.network.clock_models import ClockAction
from campus.network.clock_models import RaciEntry
from campus.network.models import Group
from campus.network.rules import group_flags
from campus.paths.models import LearningPath
from campus.paths.models import Theme


@dataclass
class GroupAction:
    action: ClockAction
    months: str
    responsible: bool  # the group is the action's responsible group
    letters: list[tuple[str, str | None]] = field(default_factory=list)  # (letter, role or None)
    url: str = ""


def _months(action: ClockAction) -> str:
    names = get_month_names("wide", locale=get_locale() or "en")

    def point(month: int, day: int | None) -> str:
        return f"{day}. {names[month]}" if day else str(names[month])

    start = point(action.start_month, action.start_day)
    end = point(action.end_month, action.end_day)
    return start if start == end else f"{start} – {end}"


def group_actions(group: Group) -> list[GroupAction]:
    """The actions the group is responsible for or has a RACI letter in, with its letters."""
    entries = list(
        db.session.execute(db.select(RaciEntry).where(RaciEntry.group_id == group.id)).scalars()
    )
    return [
        GroupAction(
            action,
            _months(action),
            action.group_id == group.id,
            [
                (entry.letter.value, entry.member_role.value if entry.member_role else None)
                for entry in entries
                if entry.action_id == action.id
            ],
            url_for("network_clock.action", action_id=action.id),
        )
        for action in annual.group_actions(group)
    ]


def _paths(slugs: list[str]) -> list[tuple[str, str, str]]:
    if not slugs:
        return []
    found = {
        path.slug: path
        for path in db.session.execute(
            db.select(LearningPath).where(LearningPath.slug.in_(slugs))
        ).scalars()
    }
    return [
        (slug, pick(found[slug].title), url_for("paths.path_detail", slug=slug))
        for slug in slugs
        if slug in found
    ]


def _badges(group: Group) -> list[tuple[str, str, int]]:
    """(slug, name, members holding it) for the group's badges."""
    slugs = list(group.badge_slugs)
    if not slugs:
        return []
    found = {
        badge.slug: badge
        for badge in db.session.execute(
            db.select(BadgeClass).where(BadgeClass.slug.in_(slugs))
        ).scalars()
    }
    user_ids = [member.user_id for member in group.memberships]
    held: dict[int, int] = {}
    if user_ids and found:
        rows = db.session.execute(
            db.select(Assertion.badge_class_id, db.func.count(db.distinct(Assertion.user_id)))
            .where(
                Assertion.badge_class_id.in_([badge.id for badge in found.values()]),
                Assertion.user_id.in_(user_ids),
                Assertion.revoked_at.is_(None),
            )
            .group_by(Assertion.badge_class_id)
        )
        held = {badge_id: count for badge_id, count in rows}
    return [
        (slug, pick(found[slug].name), held.get(found[slug].id, 0))
        for slug in slugs
        if slug in found
    ]


def group_context(group: Group, *, with_choices: bool = False) -> dict[str, Any]:
    if with_choices:
        themes = db.session.execute(
            db.select(Theme).where(Theme.is_retired.is_(False)).order_by(Theme.position)
        ).scalars()
        paths = db.session.execute(
            db.select(LearningPath)
            .where(LearningPath.is_retired.is_(False))
            .order_by(LearningPath.slug)
        ).scalars()
        badges = db.session.execute(db.select(BadgeClass).order_by(BadgeClass.slug)).scalars()
        return {
            "theme_choices": [(theme.slug, pick(theme.title)) for theme in themes],
            "path_choices": [(path.slug, pick(path.title)) for path in paths],
            "badge_choices": [(badge.slug, pick(badge.name)) for badge in badges],
        }
    return {
        "actions": group_actions(group),
        "paths": _paths(list(group.path_slugs)),
        "badges": _badges(group),
        "flags": group_flags(group),
        "clock_url": url_for("network_clock.group_clock", group_id=group.id),
        "badges_url": url_for("badges.catalogue"),
    }
