"""An organisation's progress at a glance: the figures behind the progress page's charts.

A fixed number of grouped queries, whatever the size of the organisation.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from datetime import timedelta

from sqlalchemy import func

from campus.auth.models import Organisation
from campus.auth.models import User
from campus.extensions import db
from campus.manage.progress import last_activity_subquery
from campus.manage.progress import month_start
from campus.manage.progress import start_of
from campus.paths.models import Completion
from campus.paths.models import Enrollment
from campus.paths.models import LearningPath
from campus.paths.models import PathCompletion
from campus.paths.models import Theme

ACTIVE_DAYS = 30
MONTHS = 12


@dataclass(frozen=True)
class Count:
    """Members who completed / are doing something (a path, or any path of a theme)."""

    item: LearningPath | Theme
    completed: int
    in_progress: int


@dataclass(frozen=True)
class MonthCount:
    month: date  # its first day
    modules: int
    paths: int


@dataclass(frozen=True)
class Overview:
    members: int
    active_recently: int  # members with any activity in the last ACTIVE_DAYS days
    paths: list[Count]
    themes: list[Count]
    months: list[MonthCount]


def _members(organisation: Organisation):  # type: ignore[no-untyped-def]
    return db.select(User.id).where(User.organisation_id == organisation.id).scalar_subquery()


def _grouped(statement) -> dict[int, int]:  # type: ignore[no-untyped-def]
    return {int(key): int(count) for key, count in db.session.execute(statement)}


def _people_per(organisation: Organisation, path_ids: list[int]) -> dict[str, dict[int, int]]:
    """Distinct members who completed / have an unfinished enrolment, per path and per theme."""
    members = _members(organisation)
    done = (
        db.select(PathCompletion.user_id, PathCompletion.path_id, LearningPath.theme_id)
        .join(LearningPath, LearningPath.id == PathCompletion.path_id)
        .where(PathCompletion.user_id.in_(members), PathCompletion.path_id.in_(path_ids))
        .subquery()
    )
    finished = db.select(PathCompletion.id).where(
        PathCompletion.user_id == Enrollment.user_id,
        PathCompletion.path_id == Enrollment.path_id,
    )
    doing = (
        db.select(Enrollment.user_id, Enrollment.path_id, LearningPath.theme_id)
        .join(LearningPath, LearningPath.id == Enrollment.path_id)
        .where(Enrollment.user_id.in_(members), Enrollment.path_id.in_(path_ids))
        .where(~finished.exists())
        .subquery()
    )
    result = {}
    for name, source in (("done", done), ("doing", doing)):
        for key in ("path_id", "theme_id"):
            column = source.c[key]
            result[f"{name}_{key}"] = _grouped(
                db.select(column, func.count(source.c.user_id.distinct())).group_by(column)
            )
    return result


def _months(organisation: Organisation, paths: list[LearningPath], today: date) -> list[MonthCount]:
    """Module and path completions per calendar month (UTC), the last MONTHS months."""
    members = _members(organisation)
    since = start_of(month_start(today, MONTHS - 1))
    module_ids = [module.id for path in paths for module in path.active_modules]
    path_ids = [path.id for path in paths]
    counts: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    sources = (
        (Completion.completed_at, Completion.user_id, Completion.module_id, module_ids),
        (PathCompletion.completed_at, PathCompletion.user_id, PathCompletion.path_id, path_ids),
    )
    for index, (moment, user_id, item_id, ids) in enumerate(sources):
        year = func.extract("year", moment)
        month = func.extract("month", moment)
        statement = (
            db.select(year, month, func.count())
            .where(user_id.in_(members), item_id.in_(ids), moment >= since)
            .group_by(year, month)
        )
        for y, m, count in db.session.execute(statement):
            counts[(int(y), int(m))][index] = int(count)
    months = []
    for back in range(MONTHS - 1, -1, -1):
        day = month_start(today, back)
        modules, finished = counts.get((day.year, day.month), [0, 0])
        months.append(MonthCount(day, modules, finished))
    return months


def overview(organisation: Organisation, paths: list[LearningPath], today: date) -> Overview:
    """The organisation's figures for the charts (paths come from progress.offered_paths)."""
    path_ids = [path.id for path in paths]
    people = _people_per(organisation, path_ids)
    themes: dict[int, Theme] = {path.theme.id: path.theme for path in paths}
    last = last_activity_subquery(organisation)
    since = start_of(today) - timedelta(days=ACTIVE_DAYS - 1)
    active = db.session.execute(
        db.select(func.count()).select_from(last).where(last.c.last >= since)
    ).scalar_one()
    total = db.session.execute(
        db.select(func.count(User.id)).where(User.organisation_id == organisation.id)
    ).scalar_one()
    return Overview(
        members=int(total),
        active_recently=int(active),
        paths=[
            Count(
                path,
                people["done_path_id"].get(path.id, 0),
                people["doing_path_id"].get(path.id, 0),
            )
            for path in paths
        ],
        themes=[
            Count(
                theme,
                people["done_theme_id"].get(theme.id, 0),
                people["doing_theme_id"].get(theme.id, 0),
            )
            for theme in themes.values()
        ],
        months=_months(organisation, paths, today),
    )
