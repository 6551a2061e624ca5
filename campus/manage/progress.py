"""Organisation progress: who has done which path, searched, sorted and paged in SQL.

Every function runs a fixed number of queries, however many people a page shows: the
per-person figures (paths completed, required modules done, last activity) are grouped
subqueries joined to the member query, and a page's cells come from three `IN` queries.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import date
from datetime import datetime

from sqlalchemy import func
from sqlalchemy import union_all
from sqlalchemy.orm import contains_eager
from sqlalchemy.orm import selectinload

from campus.auth.models import Organisation
from campus.auth.models import User
from campus.clock import aware_or_none
from campus.extensions import db
from campus.paths.models import Completion
from campus.paths.models import Enrollment
from campus.paths.models import EvidenceSubmission
from campus.paths.models import LearningPath
from campus.paths.models import PathCompletion
from campus.paths.models import QuizAttempt
from campus.paths.models import ReflectionAnswer
from campus.paths.models import Theme

PER_PAGE = 50
SORTS = ("name", "progress", "activity")
# The first click on a column sorts the way a leader most often wants it.
DEFAULT_DESCENDING = {"name": False, "progress": True, "activity": True}


@dataclass(frozen=True)
class ProgressCell:
    status: str  # "not_started" | "enrolled" | "completed"
    required_done: int
    required_total: int
    completed_at: datetime | None

    @property
    def percent(self) -> int:
        return int(100 * self.required_done / self.required_total) if self.required_total else 0


@dataclass(frozen=True)
class MemberFacts:
    paths_done: int
    modules_done: int
    last_activity: datetime | None


@dataclass(frozen=True)
class ProgressTable:
    organisation: Organisation
    paths: list[LearningPath]
    rows: list[tuple[User, list[ProgressCell]]]
    facts: dict[int, MemberFacts] = field(default_factory=dict)
    total: int = 0  # members matching the search (all pages)
    page: int = 1
    per_page: int = PER_PAGE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    def completed_count(self, path_index: int) -> int:
        return sum(1 for _user, cells in self.rows if cells[path_index].status == "completed")


@dataclass(frozen=True)
class ProgressQuery:
    """What a leader asked for: a name fragment, a sort column and direction, a page."""

    search: str = ""
    sort: str = "name"
    descending: bool = False
    page: int = 1
    per_page: int = PER_PAGE

    @classmethod
    def parse(cls, search: str, sort: str, direction: str, page: int) -> ProgressQuery:
        """Anything unknown falls back to the default (a bookmark never breaks the page)."""
        sort = sort if sort in SORTS else "name"
        descending = (
            direction == "desc" if direction in {"asc", "desc"} else DEFAULT_DESCENDING[sort]
        )
        return cls(search.strip()[:100], sort, descending, max(page, 1))


def offered_paths(theme: Theme | None = None) -> list[LearningPath]:
    """Offered paths (optionally of one theme) with their themes and modules, in two queries."""
    query = (
        db.select(LearningPath)
        .join(Theme)
        .where(LearningPath.is_retired.is_(False))
        .options(selectinload(LearningPath.modules), contains_eager(LearningPath.theme))
    )
    if theme is not None:
        query = query.where(LearningPath.theme_id == theme.id)
    query = query.order_by(Theme.position, LearningPath.position, LearningPath.slug)
    return list(db.session.execute(query).scalars())


def required_ids(paths: list[LearningPath]) -> set[int]:
    return {module.id for path in paths for module in path.required_modules}


def _members(organisation: Organisation):  # type: ignore[no-untyped-def]
    return db.select(User.id).where(User.organisation_id == organisation.id).scalar_subquery()


def last_activity_subquery(organisation: Organisation):  # type: ignore[no-untyped-def]
    """(user_id, last): the latest enrolment, completion, answer or submission of each member."""
    members = _members(organisation)
    sources = [
        (Enrollment.user_id, Enrollment.enrolled_at),
        (Completion.user_id, Completion.completed_at),
        (PathCompletion.user_id, PathCompletion.completed_at),
        (QuizAttempt.user_id, QuizAttempt.submitted_at),
        (ReflectionAnswer.user_id, ReflectionAnswer.submitted_at),
        (EvidenceSubmission.user_id, EvidenceSubmission.submitted_at),
    ]
    activity = union_all(
        *(
            db.select(user_id.label("user_id"), moment.label("at")).where(user_id.in_(members))
            for user_id, moment in sources
        )
    ).subquery()
    return (
        db.select(activity.c.user_id, func.max(activity.c.at).label("last"))
        .group_by(activity.c.user_id)
        .subquery()
    )


def _search_filter(text: str):  # type: ignore[no-untyped-def]
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return db.or_(User.name.ilike(pattern, escape="\\"), User.email.ilike(pattern, escape="\\"))


def _member_rows(
    organisation: Organisation, paths: list[LearningPath], query: ProgressQuery, limit: bool
) -> tuple[list[tuple[User, MemberFacts]], int]:
    """The members in the asked order (one page, or all) and how many match, in two queries."""
    path_ids = [path.id for path in paths]
    # Counted for this organisation's members only: over every learner in the country the
    # aggregates took seconds (issue 16: 3 s for 500 staff among 100,000 users).
    members = _members(organisation)
    paths_done = (
        db.select(PathCompletion.user_id, func.count(PathCompletion.path_id.distinct()).label("n"))
        .where(PathCompletion.user_id.in_(members), PathCompletion.path_id.in_(path_ids))
        .group_by(PathCompletion.user_id)
        .subquery()
    )
    modules_done = (
        db.select(Completion.user_id, func.count(Completion.module_id.distinct()).label("n"))
        .where(Completion.user_id.in_(members), Completion.module_id.in_(required_ids(paths)))
        .group_by(Completion.user_id)
        .subquery()
    )
    last = last_activity_subquery(organisation)
    n_paths = func.coalesce(paths_done.c.n, 0)
    n_modules = func.coalesce(modules_done.c.n, 0)
    conditions = [User.organisation_id == organisation.id]
    if query.search:
        conditions.append(_search_filter(query.search))
    if query.sort == "progress":
        keys = [n_paths.desc(), n_modules.desc()] if query.descending else [n_paths, n_modules]
    elif query.sort == "activity":
        keys = [last.c.last.desc().nulls_last() if query.descending else last.c.last.nulls_first()]
    else:
        keys = []
    name_order = User.name.desc() if query.sort == "name" and query.descending else User.name
    statement = (
        db.select(User, n_paths, n_modules, last.c.last)
        .outerjoin(paths_done, paths_done.c.user_id == User.id)
        .outerjoin(modules_done, modules_done.c.user_id == User.id)
        .outerjoin(last, last.c.user_id == User.id)
        .where(*conditions)
        .order_by(*keys, name_order, User.id)
    )
    if limit:
        statement = statement.limit(query.per_page).offset((query.page - 1) * query.per_page)
    rows = [
        (user, MemberFacts(int(done), int(modules), aware_or_none(moment)))
        for user, done, modules, moment in db.session.execute(statement)
    ]
    if limit:
        total = db.session.execute(db.select(func.count(User.id)).where(*conditions)).scalar_one()
    else:
        total = len(rows)
    return rows, total


def _cells(users: list[User], paths: list[LearningPath]) -> dict[int, list[ProgressCell]]:
    """Each user's cell for each path, in three queries."""
    user_ids = [user.id for user in users]
    done: dict[int, set[int]] = defaultdict(set)
    enrolled: set[tuple[int, int]] = set()
    finished: dict[tuple[int, int], datetime] = {}
    if user_ids:
        for user_id, module_id in db.session.execute(
            db.select(Completion.user_id, Completion.module_id).where(
                Completion.user_id.in_(user_ids)
            )
        ):
            done[user_id].add(module_id)
        for user_id, path_id in db.session.execute(
            db.select(Enrollment.user_id, Enrollment.path_id).where(
                Enrollment.user_id.in_(user_ids)
            )
        ):
            enrolled.add((user_id, path_id))
        for user_id, path_id, completed_at in db.session.execute(
            db.select(
                PathCompletion.user_id, PathCompletion.path_id, PathCompletion.completed_at
            ).where(PathCompletion.user_id.in_(user_ids))
        ):
            finished[(user_id, path_id)] = completed_at
    required = {path.id: {m.id for m in path.required_modules} for path in paths}
    cells: dict[int, list[ProgressCell]] = {}
    for user in users:
        row = []
        for path in paths:
            key = (user.id, path.id)
            status = (
                "completed" if key in finished else "enrolled" if key in enrolled else "not_started"
            )
            row.append(
                ProgressCell(
                    status=status,
                    required_done=len(required[path.id] & done[user.id]),
                    required_total=len(required[path.id]),
                    completed_at=aware_or_none(finished.get(key)),
                )
            )
        cells[user.id] = row
    return cells


def progress_table(
    organisation: Organisation,
    theme: Theme | None = None,
    query: ProgressQuery | None = None,
    *,
    paged: bool = True,
    paths: list[LearningPath] | None = None,
) -> ProgressTable:
    """Members × offered paths: one page of `query` (or every matching member)."""
    query = query or ProgressQuery()
    paths = offered_paths(theme) if paths is None else paths
    members, total = _member_rows(organisation, paths, query, limit=paged)
    users = [user for user, _facts in members]
    cells = _cells(users, paths)
    return ProgressTable(
        organisation=organisation,
        paths=paths,
        rows=[(user, cells[user.id]) for user in users],
        facts={user.id: facts for user, facts in members},
        total=total,
        page=query.page if paged else 1,
        per_page=query.per_page if paged else max(total, 1),
    )


def organisation_progress(organisation: Organisation, theme: Theme | None = None) -> ProgressTable:
    """Every member × every offered path (optionally of one theme), sorted by name."""
    return progress_table(organisation, theme, paged=False)


def month_start(today: date, months_back: int) -> date:
    index = today.year * 12 + today.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def start_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
