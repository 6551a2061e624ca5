"""The counting queries behind the dashboards (campus.network.dashboard): each one GROUP BY over
all the organisations (and regions) asked for at once, so their number never grows with people,
paths, badges, goals or actions. Counts only: no query returns a person."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime

from sqlalchemy import ColumnElement
from sqlalchemy import and_
from sqlalchemy import case
from sqlalchemy import distinct
from sqlalchemy import func
from sqlalchemy import or_

from campus.auth.models import User
from campus.badges.models import Assertion
from campus.badges.models import BadgeClass
from campus.extensions import db
from campus.network.clock_models import ClockAction
from campus.network.clock_models import ClockActionDone
from campus.network.models import Goal
from campus.network.models import GoalStatus
from campus.network.models import Roadmap
from campus.paths.models import LearningPath
from campus.paths.models import PathCompletion
from campus.paths.models import Theme

TUTOR_BADGES = ("tutor-teacher", "tutoring-work")
REGIONAL_BADGES = ("regional-developer", "regional-development-work")

ScopeKey = tuple[str, int]  # ("organisation", id) or ("region", id)


@dataclass(frozen=True)
class BadgeRow:
    slug: str
    name: dict[str, str]
    holders: int


@dataclass
class Badges:
    tutor: int = 0  # people holding a tutor-teacher badge
    regional: int = 0  # people holding a regional-developer badge
    by_badge: list[BadgeRow] = field(default_factory=list)  # every badge held, most held first


@dataclass
class Goals:
    roadmaps: int = 0
    by_status: dict[GoalStatus, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    def count(self, status: GoalStatus) -> int:
        return self.by_status.get(status, 0)


@dataclass
class Actions:
    due: int = 0
    done: int = 0

    @property
    def share(self) -> float:
        return self.done / self.due if self.due else 0.0


def themes() -> list[Theme]:
    query = db.select(Theme).where(Theme.is_retired.is_(False)).order_by(Theme.position, Theme.id)
    return list(db.session.execute(query).scalars())


def people(ids: list[int]) -> dict[int, int]:
    rows = db.session.execute(
        db.select(User.organisation_id, func.count(User.id))
        .where(User.organisation_id.in_(ids), User.is_active_account.is_(True))
        .group_by(User.organisation_id)
    )
    return {org: int(n) for org, n in rows}


def completions(
    ids: list[int], moment: datetime
) -> tuple[dict[tuple[int, int], tuple[int, int]], dict[int, int]]:
    """{(organisation, theme): (people with a completed path, completions)}, {organisation: people
    with any completed path}: two GROUP BY queries."""
    where = (
        User.organisation_id.in_(ids),
        User.is_active_account.is_(True),
        PathCompletion.completed_at < moment,
    )
    base = (
        db.select()
        .select_from(PathCompletion)
        .join(User, User.id == PathCompletion.user_id)
        .where(*where)
    )
    by_theme = db.session.execute(
        base.add_columns(
            User.organisation_id,
            LearningPath.theme_id,
            func.count(distinct(PathCompletion.user_id)),
            func.count(PathCompletion.id),
        )
        .join(LearningPath, LearningPath.id == PathCompletion.path_id)
        .group_by(User.organisation_id, LearningPath.theme_id)
    )
    completed = {(org, theme): (int(p), int(c)) for org, theme, p, c in by_theme}
    anyone = db.session.execute(
        base.add_columns(
            User.organisation_id, func.count(distinct(PathCompletion.user_id))
        ).group_by(User.organisation_id)
    )
    return completed, {org: int(n) for org, n in anyone}


def badges(ids: list[int], moment: datetime) -> dict[int, Badges]:
    """Badges held at `moment` (issued by then, not revoked, not expired): two GROUP BY queries."""
    held = (
        Assertion.revoked_at.is_(None),
        Assertion.issued_at < moment,
        or_(Assertion.expires_at.is_(None), Assertion.expires_at > moment),
        User.organisation_id.in_(ids),
    )

    def holders_of(slugs: tuple[str, ...]) -> ColumnElement[int]:
        return func.count(distinct(case((BadgeClass.slug.in_(slugs), Assertion.user_id))))

    base = (
        db.select()
        .select_from(Assertion)
        .join(User, User.id == Assertion.user_id)
        .join(BadgeClass, BadgeClass.id == Assertion.badge_class_id)
        .where(*held)
    )
    result: dict[int, Badges] = defaultdict(Badges)
    for org, tutor, regional in db.session.execute(
        base.add_columns(
            User.organisation_id, holders_of(TUTOR_BADGES), holders_of(REGIONAL_BADGES)
        ).group_by(User.organisation_id)
    ):
        result[org].tutor, result[org].regional = int(tutor), int(regional)
    # Grouped by id only: PostgreSQL cannot GROUP BY a JSON column (the name), so the names
    # come in a second query.
    rows = list(
        db.session.execute(
            base.add_columns(
                User.organisation_id, BadgeClass.id, func.count(distinct(Assertion.user_id))
            ).group_by(User.organisation_id, BadgeClass.id)
        )
    )
    names = {
        badge_id: (slug, name)
        for badge_id, slug, name in db.session.execute(
            db.select(BadgeClass.id, BadgeClass.slug, BadgeClass.name).where(
                BadgeClass.id.in_({row[1] for row in rows})
            )
        )
    }
    for org, badge_id, n in rows:
        slug, name = names[badge_id]
        result[org].by_badge.append(BadgeRow(slug, name, int(n)))
    for badges in result.values():
        badges.by_badge.sort(key=lambda row: (-row.holders, row.slug))
    return dict(result)


def _scope_filter(
    model: type[Roadmap] | type[ClockAction], keys: list[ScopeKey]
) -> ColumnElement[bool]:
    organisations = [i for kind, i in keys if kind == "organisation"]
    regions = [i for kind, i in keys if kind == "region"]
    return or_(
        and_(model.organisation_id.in_(organisations), model.region_id.is_(None)),
        and_(model.region_id.in_(regions), model.organisation_id.is_(None)),
    )


def scope_key(organisation_id: int | None, region_id: int | None) -> ScopeKey:
    if organisation_id is not None:
        return ("organisation", organisation_id)
    return ("region", region_id or 0)


def goals(keys: list[ScopeKey], year: int) -> dict[ScopeKey, Goals]:
    """Goals by status in the roadmaps whose period covers `year`: two GROUP BY queries."""
    covering = and_(Roadmap.first_year <= year, Roadmap.last_year >= year)
    result: dict[ScopeKey, Goals] = {key: Goals() for key in keys}
    roadmaps = db.session.execute(
        db.select(Roadmap.organisation_id, Roadmap.region_id, func.count(Roadmap.id))
        .where(covering, _scope_filter(Roadmap, keys))
        .group_by(Roadmap.organisation_id, Roadmap.region_id)
    )
    for org, region, n in roadmaps:
        result[scope_key(org, region)].roadmaps = int(n)
    statuses = db.session.execute(
        db.select(Roadmap.organisation_id, Roadmap.region_id, Goal.status, func.count(Goal.id))
        .join(Goal, Goal.roadmap_id == Roadmap.id)
        .where(covering, _scope_filter(Roadmap, keys))
        .group_by(Roadmap.organisation_id, Roadmap.region_id, Goal.status)
    )
    for org, region, status, n in statuses:
        result[scope_key(org, region)].by_status[GoalStatus(status)] = int(n)
    return result


def actions(keys: list[ScopeKey], year: int) -> dict[ScopeKey, Actions]:
    """Annual-clock actions due in `year` and done in it: one GROUP BY query."""
    result: dict[ScopeKey, Actions] = {key: Actions() for key in keys}
    rows = db.session.execute(
        db.select(
            ClockAction.organisation_id,
            ClockAction.region_id,
            func.count(ClockAction.id),
            func.count(ClockActionDone.action_id),
        )
        .outerjoin(
            ClockActionDone,
            and_(ClockActionDone.action_id == ClockAction.id, ClockActionDone.year == year),
        )
        .where(
            _scope_filter(ClockAction, keys),
            ClockAction.first_year <= year,
            or_(ClockAction.last_year.is_(None), ClockAction.last_year >= year),
        )
        .group_by(ClockAction.organisation_id, ClockAction.region_id)
    )
    for org, region, due, done in rows:
        result[scope_key(org, region)] = Actions(int(due), int(done))
    return result
