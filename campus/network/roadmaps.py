"""Roadmaps (tiekartta) of regions and organisations: goals, their status history and sharing by
link. Mirroring to the region's goals is in campus.network.roadmap_mirror, the measured starting
point in campus.network.roadmap_measures.

Services take plain arguments and only flush; the view commits. Refused input raises
`RoadmapError` with a translated message for the person who typed it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _

from campus.auth.models import User
from campus.badges.models import BadgeClass
from campus.extensions import db
from campus.i18n import pick
from campus.network import structure
from campus.network.access import Scope
from campus.network.access import scope_of
from campus.network.clock_models import ClockAction
from campus.network.models import DevelopmentArea
from campus.network.models import Focus
from campus.network.models import Goal
from campus.network.models import GoalStatus
from campus.network.models import GoalStatusChange
from campus.network.models import Roadmap
from campus.network.roadmap_measures import find_area
from campus.network.years import EARLIEST_YEAR
from campus.network.years import LATEST_YEAR
from campus.paths.models import LearningPath

MAX_YEARS = 10
TITLE_MAX = 200  # the title columns' length


class RoadmapError(ValueError):
    """Input a roadmap or goal refuses; the message is shown to the editor."""


# ------------------------------------------------------------------------------- roadmaps


def _title(title: str, what: str) -> str:
    """The title without surrounding spaces; refused when empty or too long (never cut)."""
    title = (title or "").strip()
    if not title:
        raise RoadmapError(what)
    if len(title) > TITLE_MAX:
        raise RoadmapError(_("A title can be at most %(max)d characters long.", max=TITLE_MAX))
    return title


def _check_period(first_year: int, last_year: int) -> None:
    for year in (first_year, last_year):
        if not EARLIEST_YEAR <= year <= LATEST_YEAR:
            raise RoadmapError(
                _(
                    "Years must be between %(first)d and %(last)d.",
                    first=EARLIEST_YEAR,
                    last=LATEST_YEAR,
                )
            )
    if last_year < first_year:
        raise RoadmapError(_("The last year cannot be before the first year."))
    if last_year - first_year + 1 > MAX_YEARS:
        raise RoadmapError(_("A roadmap covers at most %(years)d years.", years=MAX_YEARS))


def create_roadmap(scope: Scope, title: str, first_year: int, last_year: int) -> Roadmap:
    title = _title(title, _("The roadmap needs a title."))
    _check_period(first_year, last_year)
    roadmap = Roadmap(title=title, first_year=first_year, last_year=last_year, **scope.columns())
    db.session.add(roadmap)
    db.session.flush()
    return roadmap


def edit_roadmap(roadmap: Roadmap, title: str, first_year: int, last_year: int) -> None:
    title = _title(title, _("The roadmap needs a title."))
    _check_period(first_year, last_year)
    roadmap.title, roadmap.first_year, roadmap.last_year = title, first_year, last_year
    db.session.flush()


def _release_goals(goal_ids: list[int]) -> None:
    """Forget links to goals about to be deleted (SQLite does not apply ON DELETE SET NULL)."""
    if not goal_ids:
        return
    db.session.execute(
        db.update(Goal).where(Goal.serves_goal_id.in_(goal_ids)).values(serves_goal_id=None)
    )
    db.session.execute(
        db.update(ClockAction).where(ClockAction.goal_id.in_(goal_ids)).values(goal_id=None)
    )


def delete_roadmap(roadmap: Roadmap) -> None:
    _release_goals([goal.id for goal in roadmap.goals])
    db.session.delete(roadmap)
    db.session.flush()


def roadmaps_of(scope: Scope) -> list[Roadmap]:
    """The scope's roadmaps, latest period first."""
    column = Roadmap.region_id if scope.is_region else Roadmap.organisation_id
    other = Roadmap.organisation_id if scope.is_region else Roadmap.region_id
    query = (
        db.select(Roadmap)
        .where(column == scope.id, other.is_(None))
        .order_by(Roadmap.first_year.desc(), Roadmap.id.desc())
    )
    return list(db.session.execute(query).scalars())


def enable_sharing(roadmap: Roadmap, renew: bool = False) -> str:
    """Turn read-only sharing by link on (a new secret link when `renew`); returns the token."""
    if roadmap.share_token is None or renew:
        roadmap.share_token = secrets.token_urlsafe(32)
        db.session.flush()
    return roadmap.share_token


def disable_sharing(roadmap: Roadmap) -> None:
    roadmap.share_token = None
    db.session.flush()


def shared_roadmap(token: str) -> Roadmap | None:
    if not token or len(token) > 64:
        return None
    return db.session.execute(
        db.select(Roadmap).where(Roadmap.share_token == token)
    ).scalar_one_or_none()


# ---------------------------------------------------------------------------------- goals


def _check_slugs(paths: list[str], badges: list[str]) -> None:
    """Only active paths and existing badges (one query each, only when slugs were given)."""
    known_paths = structure.existing_path_slugs() if paths else set()
    unknown_paths = [slug for slug in paths if slug not in known_paths]
    if unknown_paths:
        raise RoadmapError(_("Unknown paths: %(slugs)s", slugs=", ".join(unknown_paths)))
    known_badges = structure.existing_badge_slugs() if badges else set()
    unknown_badges = [slug for slug in badges if slug not in known_badges]
    if unknown_badges:
        raise RoadmapError(_("Unknown badges: %(slugs)s", slugs=", ".join(unknown_badges)))


def _check_group(scope: Scope, group_id: int | None) -> None:
    if group_id is None:
        return
    if group_id not in {group.id for group in structure.groups_of(scope, with_region=True)}:
        raise RoadmapError(
            _("The responsible group must be a group of this organisation or region.")
        )


def _check_measure(instrument_slug: str | None, area_key: str | None) -> None:
    if not instrument_slug and not area_key:
        return
    if not instrument_slug or not area_key:
        raise RoadmapError(_("Choose both the assessment and its area, or neither."))
    if find_area(instrument_slug, area_key) is None:
        raise RoadmapError(_("There is no such assessment area."))


@dataclass
class GoalInput:
    """What an editor types for a goal (slugs as typed: comma- or line-separated)."""

    area: str
    focus: str
    title: str
    starting_point: str = ""
    target_state: str = ""
    indicators: str = ""
    group_id: int | None = None
    instrument_slug: str | None = None
    assessment_area_key: str | None = None
    paths: str | list[str] = ""
    badges: str | list[str] = ""

    def checked(self, scope: Scope) -> dict[str, object]:
        try:
            area, focus = DevelopmentArea(self.area), Focus(self.focus)
        except ValueError:
            raise RoadmapError(_("Choose a development area and a focus.")) from None
        title = _title(self.title, _("The goal needs a title."))
        paths = structure.split_slugs(self.paths or "")
        badges = structure.split_slugs(self.badges or "")
        _check_slugs(paths, badges)
        _check_group(scope, self.group_id)
        instrument = (self.instrument_slug or "").strip() or None
        area_key = (self.assessment_area_key or "").strip() or None
        _check_measure(instrument, area_key)
        return {
            "area": area,
            "focus": focus,
            "title": title,
            "starting_point": (self.starting_point or "").strip(),
            "target_state": (self.target_state or "").strip(),
            "indicators": (self.indicators or "").strip(),
            "group_id": self.group_id,
            "instrument_slug": instrument,
            "assessment_area_key": area_key,
            "path_slugs": paths,
            "badge_slugs": badges,
        }


def _status(status: GoalStatus | str) -> GoalStatus:
    try:
        return GoalStatus(status)
    except ValueError:
        raise RoadmapError(_("Unknown status.")) from None


def add_goal(
    roadmap: Roadmap,
    data: GoalInput,
    user: User | None,
    now: datetime,
    status: GoalStatus | str = GoalStatus.PLANNED,
) -> Goal:
    """A new goal at the end of the roadmap; its first status is recorded in the history."""
    values = data.checked(scope_of(roadmap))
    first = _status(status)
    last = max((goal.position for goal in roadmap.goals), default=-1)
    goal = Goal(roadmap=roadmap, position=last + 1, status=first, **values)
    db.session.add(goal)
    goal.history.append(
        GoalStatusChange(
            status=first, note="", changed_at=now, changed_by_id=user.id if user else None
        )
    )
    db.session.flush()
    return goal


def edit_goal(goal: Goal, data: GoalInput) -> None:
    for name, value in data.checked(scope_of(goal.roadmap)).items():
        setattr(goal, name, value)
    db.session.flush()


def delete_goal(goal: Goal) -> None:
    _release_goals([goal.id])
    goal.roadmap.goals.remove(goal)  # delete-orphan: the goal and its history go
    db.session.flush()


def move_goal(goal: Goal, direction: str) -> bool:
    """Move a goal up or down among the goals of its development area (False: already there)."""
    if direction not in ("up", "down"):
        raise RoadmapError(_("Move a goal up or down."))
    goals = sorted(goal.roadmap.goals, key=lambda g: (g.position, g.id))
    for index, each in enumerate(goals):
        each.position = index
    same_area = [g for g in goals if g.area == goal.area]
    at = same_area.index(goal)
    other_at = at - 1 if direction == "up" else at + 1
    if not 0 <= other_at < len(same_area):
        return False
    other = same_area[other_at]
    goal.position, other.position = other.position, goal.position
    db.session.flush()
    return True


def set_status(
    goal: Goal, status: GoalStatus | str, note: str, user: User | None, now: datetime
) -> GoalStatusChange:
    """Change the goal's status (or note its unchanged status); the history keeps every change."""
    new = _status(status)
    note = (note or "").strip()
    if new == goal.status and not note:
        raise RoadmapError(_("The goal already has this status; write a note to record it again."))
    change = GoalStatusChange(
        status=new, note=note, changed_at=now, changed_by_id=user.id if user else None
    )
    goal.status = new
    goal.history.append(change)
    db.session.flush()
    return change


def goals_by_area(goals: list[Goal]) -> list[tuple[DevelopmentArea, list[Goal]]]:
    """Goals grouped by development area, in the areas' order (empty areas left out)."""
    ordered = sorted(goals, key=lambda g: (g.position, g.id))
    grouped = [(area, [g for g in ordered if g.area == area]) for area in DevelopmentArea]
    return [(area, items) for area, items in grouped if items]


def goal_links(goals: list[Goal]) -> dict[str, dict[str, str]]:
    """Titles of the paths and badges the goals name, by slug (one query each)."""
    paths = {slug for goal in goals for slug in goal.path_slugs}
    badges = {slug for goal in goals for slug in goal.badge_slugs}
    found_paths = (
        db.session.execute(db.select(LearningPath).where(LearningPath.slug.in_(paths))).scalars()
        if paths
        else []
    )
    found_badges = (
        db.session.execute(db.select(BadgeClass).where(BadgeClass.slug.in_(badges))).scalars()
        if badges
        else []
    )
    return {
        "paths": {path.slug: pick(path.title) for path in found_paths},
        "badges": {badge.slug: pick(badge.name) for badge in found_badges},
    }
