"""Organisation progress: who has done which path, searched, sorted and paged in SQL.

Two steps, each a fixed number of queries however many people a page shows (issue 16):
1. the members in the asked order, (id, name, e-mail) only: a page of them with LIMIT, or all of
   them fetched in chunks for the CSV. Sorting by name touches the user table alone; sorting by
   progress or activity joins the grouped figures it sorts on, counted for this organisation.
2. for one page or chunk, four `IN` queries: completed modules, enrolments, completed paths and
   each person's latest activity. The cells and the per-person figures come from those rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import date
from datetime import datetime

from sqlalchemy import func
from sqlalchemy import union_all
from sqlalchemy.orm import contains_eager
from sqlalchemy.orm import load_only
from sqlalchemy.orm import selectinload

from campus.auth.models import Organisation
from campus.auth.models import User
from campus.clock import aware_or_none
from campus.extensions import db
from campus.paths.models import Completion
from campus.paths.models import Enrollment
from campus.paths.models import EvidenceSubmission
from campus.paths.models import LearningPath
from campus.paths.models import Module
from campus.paths.models import PathCompletion
from campus.paths.models import QuizAttempt
from campus.paths.models import ReflectionAnswer
from campus.paths.models import Theme

PER_PAGE = 50
CHUNK = 500  # members per batch of the CSV export (10 paths: 5,000 rows)
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
class Member:
    """What the table shows of a person: not the whole account row (nor its roles)."""

    id: int
    name: str
    email: str


@dataclass(frozen=True)
class MemberFacts:
    paths_done: int
    modules_done: int
    last_activity: datetime | None


@dataclass(frozen=True)
class ProgressTable:
    organisation: Organisation
    paths: list[LearningPath]
    rows: list[tuple[Member, list[ProgressCell]]]
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
    """Offered paths (optionally of one theme) with their themes and modules, in two queries.

    Only the columns the progress views use: module bodies and settings are large JSON.
    """
    query = (
        db.select(LearningPath)
        .join(Theme)
        .where(LearningPath.is_retired.is_(False))
        .options(
            load_only(
                LearningPath.slug, LearningPath.theme_id, LearningPath.position, LearningPath.title
            ),
            selectinload(LearningPath.modules).load_only(
                Module.path_id, Module.position, Module.is_required, Module.is_retired
            ),
            contains_eager(LearningPath.theme).load_only(Theme.slug, Theme.position, Theme.title),
        )
    )
    if theme is not None:
        query = query.where(LearningPath.theme_id == theme.id)
    query = query.order_by(Theme.position, LearningPath.position, LearningPath.slug)
    return list(db.session.execute(query).scalars())


def required_ids(paths: list[LearningPath]) -> set[int]:
    return {module.id for path in paths for module in path.required_modules}


def _members(organisation: Organisation):  # type: ignore[no-untyped-def]
    return db.select(User.id).where(User.organisation_id == organisation.id).scalar_subquery()


def activity_sources():  # type: ignore[no-untyped-def]
    """(user id, time) of every kind of row that counts as a person's activity."""
    return [
        (Enrollment.user_id, Enrollment.enrolled_at),
        (Completion.user_id, Completion.completed_at),
        (PathCompletion.user_id, PathCompletion.completed_at),
        (QuizAttempt.user_id, QuizAttempt.submitted_at),
        (ReflectionAnswer.user_id, ReflectionAnswer.submitted_at),
        (EvidenceSubmission.user_id, EvidenceSubmission.submitted_at),
    ]


def _last_activity(who):  # type: ignore[no-untyped-def]
    """(user_id, last) of the users `who` names (a list of ids or a subquery of them)."""
    sources = activity_sources()
    activity = union_all(
        *(
            db.select(user_id.label("user_id"), moment.label("at")).where(user_id.in_(who))
            for user_id, moment in sources
        )
    ).subquery()
    return (
        db.select(activity.c.user_id, func.max(activity.c.at).label("last"))
        .group_by(activity.c.user_id)
        .subquery()
    )


def last_activity_subquery(organisation: Organisation):  # type: ignore[no-untyped-def]
    """(user_id, last): the latest enrolment, completion, answer or submission of each member."""
    return _last_activity(_members(organisation))


def _search_filter(text: str):  # type: ignore[no-untyped-def]
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return db.or_(User.name.ilike(pattern, escape="\\"), User.email.ilike(pattern, escape="\\"))


def _conditions(organisation: Organisation, query: ProgressQuery) -> list:  # type: ignore[type-arg]
    conditions = [User.organisation_id == organisation.id]
    if query.search:
        conditions.append(_search_filter(query.search))
    return conditions


def _ordered(organisation: Organisation, paths: list[LearningPath], query: ProgressQuery):  # type: ignore[no-untyped-def]
    """(id, name, email) of the matching members in the asked order, ties broken by name.

    Only the sort that needs them joins grouped figures, and those are counted over this
    organisation's members alone: over every learner in the country they took seconds.
    """
    statement = db.select(User.id, User.name, User.email).where(*_conditions(organisation, query))
    keys = []
    if query.sort == "progress":
        members = _members(organisation)
        paths_done = (
            # count(*) is count(DISTINCT …) here: one row per (user, path), per (user, module).
            db.select(PathCompletion.user_id, func.count(PathCompletion.path_id).label("n"))
            .where(
                PathCompletion.user_id.in_(members),
                PathCompletion.path_id.in_([path.id for path in paths]),
            )
            .group_by(PathCompletion.user_id)
            .subquery()
        )
        modules_done = (
            db.select(Completion.user_id, func.count(Completion.module_id).label("n"))
            .where(Completion.user_id.in_(members), Completion.module_id.in_(required_ids(paths)))
            .group_by(Completion.user_id)
            .subquery()
        )
        n_paths = func.coalesce(paths_done.c.n, 0)
        n_modules = func.coalesce(modules_done.c.n, 0)
        statement = statement.outerjoin(paths_done, paths_done.c.user_id == User.id).outerjoin(
            modules_done, modules_done.c.user_id == User.id
        )
        keys = [n_paths.desc(), n_modules.desc()] if query.descending else [n_paths, n_modules]
    elif query.sort == "activity":
        last = last_activity_subquery(organisation)
        statement = statement.outerjoin(last, last.c.user_id == User.id)
        keys = [last.c.last.desc().nulls_last() if query.descending else last.c.last.nulls_first()]
    name_order = User.name.desc() if query.sort == "name" and query.descending else User.name
    return statement.order_by(*keys, name_order, User.id)


def _details(
    members: list[Member], paths: list[LearningPath]
) -> tuple[dict[int, list[ProgressCell]], dict[int, MemberFacts]]:
    """Each member's cell for each path and their figures, in four queries.

    (Completion and enrolment pairs are read from the unique (user, …) indexes alone.)
    """
    user_ids = [member.id for member in members]
    done: dict[int, set[int]] = defaultdict(set)
    enrolled: set[tuple[int, int]] = set()
    finished: dict[tuple[int, int], datetime | None] = {}
    last: dict[int, datetime | None] = {}
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
            finished[(user_id, path_id)] = aware_or_none(completed_at)
        latest = _last_activity(user_ids)
        for user_id, moment in db.session.execute(db.select(latest.c.user_id, latest.c.last)):
            last[user_id] = aware_or_none(moment)
    required = [(path.id, {module.id for module in path.required_modules}) for path in paths]
    all_required = set().union(*(ids for _path_id, ids in required))
    cells: dict[int, list[ProgressCell]] = {}
    facts: dict[int, MemberFacts] = {}
    for user_id in user_ids:
        mine = done[user_id]
        row = []
        for path_id, ids in required:
            key = (user_id, path_id)
            status = (
                "completed" if key in finished else "enrolled" if key in enrolled else "not_started"
            )
            row.append(ProgressCell(status, len(ids & mine), len(ids), finished.get(key)))
        cells[user_id] = row
        paths_done = sum(1 for path_id, _ids in required if (user_id, path_id) in finished)
        facts[user_id] = MemberFacts(paths_done, len(all_required & mine), last.get(user_id))
    return cells, facts


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
    if not paged:
        everyone = list(iter_progress(organisation, paths, query))
        return ProgressTable(
            organisation=organisation,
            paths=paths,
            rows=[(member, cells) for member, _facts, cells in everyone],
            facts={member.id: facts for member, facts, _cells in everyone},
            total=len(everyone),
            page=1,
            per_page=max(len(everyone), 1),
        )
    statement = _ordered(organisation, paths, query)
    statement = statement.limit(query.per_page).offset((query.page - 1) * query.per_page)
    members = [Member(*row) for row in db.session.execute(statement)]
    total = db.session.execute(
        db.select(func.count(User.id)).where(*_conditions(organisation, query))
    ).scalar_one()
    cells, facts = _details(members, paths)
    return ProgressTable(
        organisation=organisation,
        paths=paths,
        rows=[(member, cells[member.id]) for member in members],
        facts=facts,
        total=total,
        page=query.page,
        per_page=query.per_page,
    )


def iter_progress(
    organisation: Organisation,
    paths: list[LearningPath],
    query: ProgressQuery | None = None,
    chunk: int = CHUNK,
) -> Iterator[tuple[Member, MemberFacts, list[ProgressCell]]]:
    """Every matching member in order, read `chunk` members at a time (`yield_per`): an export
    of 100,000 rows never holds more than one chunk of people and their cells."""
    statement = _ordered(organisation, paths, query or ProgressQuery())
    result = db.session.execute(statement.execution_options(yield_per=chunk))
    try:
        for rows in result.partitions():
            members = [Member(*row) for row in rows]
            cells, facts = _details(members, paths)
            for member in members:
                yield member, facts[member.id], cells[member.id]
    finally:  # also when the download is abandoned half-way: no cursor left open
        result.close()


def organisation_progress(organisation: Organisation, theme: Theme | None = None) -> ProgressTable:
    """Every member × every offered path (optionally of one theme), sorted by name."""
    return progress_table(organisation, theme, paged=False)


def month_start(today: date, months_back: int) -> date:
    index = today.year * 12 + today.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def start_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
