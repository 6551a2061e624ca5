"""The ICT annual clock (vuosikello): actions, their dates in a year, RACI and done per year.

Dates. An action runs from (start_month, start_day) to (end_month, end_day) every year from
`first_year` to `last_year` (open-ended when None). A missing day is the whole month: from the
1st, to the month's last day. An end before the start runs over the new year (10 Dec – 20 Jan
runs into the next January) and the run *belongs to the year it starts*: done/not done is kept
per run, keyed by that year. Day 29 of February is allowed; in a year without 29 February the
day is the 28th (both as a start and as an end).

A year's view (circle, month list) shows the runs that overlap 1 January – 31 December of that
year: the year's own runs, and the previous year's run when it crosses the new year, so the
January of year Y shows the December (Y-1) – January (Y) run.

Services take plain arguments and never commit (the view commits once per request).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from campus.auth.models import User
from campus.clock import utcnow
from campus.extensions import db
from campus.network.access import Scope
from campus.network.access import scope_of
from campus.network.clock_models import ClockAction
from campus.network.clock_models import ClockActionDone
from campus.network.clock_models import Raci
from campus.network.clock_models import RaciEntry
from campus.network.models import Goal
from campus.network.models import Group
from campus.network.models import GroupRole
from campus.network.models import Roadmap
from campus.network.models import roles_for
from campus.network.structure import existing_path_slugs
from campus.network.structure import groups_of
from campus.network.structure import split_slugs
from campus.network.years import EARLIEST_YEAR
from campus.network.years import LATEST_YEAR

LEAP_YEAR = 2000  # the year used to check that a (month, day) can exist at all


class ClockError(ValueError):
    """Input the clock refuses; the message is shown to the person who gave it."""


class RaciError(ClockError):
    pass


@dataclass
class ActionData:
    title: str
    start_month: int
    end_month: int
    first_year: int
    start_day: int | None = None
    end_day: int | None = None
    last_year: int | None = None
    description: str = ""
    group_id: int | None = None
    goal_id: int | None = None
    path_slugs: list[str] = field(default_factory=list)


# --- Dates -----------------------------------------------------------------------------------


def _day(year: int, month: int, day: int | None, *, end: bool) -> date:
    last = calendar.monthrange(year, month)[1]
    if day is None:
        return date(year, month, last if end else 1)
    return date(year, month, min(day, last))  # 29 Feb → 28 Feb in a common year


def wraps(action: ClockAction) -> bool:
    """Whether a run ends in the next year (its end comes before its start in the year)."""
    start = (action.start_month, action.start_day or 1)
    end = (action.end_month, action.end_day or 31)
    return end < start


def occurrence(action: ClockAction, year: int) -> tuple[date, date]:
    """The run that starts in `year`: (first day, last day), both inclusive."""
    start = _day(year, action.start_month, action.start_day, end=False)
    end_year = year + 1 if wraps(action) else year
    return start, _day(end_year, action.end_month, action.end_day, end=True)


def recurs_in(action: ClockAction, year: int) -> bool:
    """Whether the action has a run starting in `year`."""
    return action.first_year <= year and (action.last_year is None or year <= action.last_year)


@dataclass(frozen=True)
class Run:
    """One run of an action as shown in a year's view."""

    action: ClockAction
    year: int  # the year the run starts (what done/not done is kept by)
    start: date
    end: date  # inclusive
    regional: bool  # the region's action shown in an organisation's clock (read-only there)

    def months_in(self, year: int) -> list[int]:
        """The months of `year` this run touches."""
        first = self.start if self.start.year == year else date(year, 1, 1)
        last = self.end if self.end.year == year else date(year, 12, 31)
        if first > last:
            return []
        return list(range(first.month, last.month + 1))


def runs_in_view(actions: Iterable[tuple[ClockAction, bool]], year: int) -> list[Run]:
    """The runs overlapping 1 Jan – 31 Dec of `year`, sorted by start date."""
    runs: list[Run] = []
    for action, regional in actions:
        for run_year in (year - 1, year):
            if not recurs_in(action, run_year):
                continue
            start, end = occurrence(action, run_year)
            if end >= date(year, 1, 1) and start <= date(year, 12, 31):
                runs.append(Run(action, run_year, start, end, regional))
    return sorted(runs, key=lambda run: (run.start, run.end, run.action.title))


def month_list(runs: list[Run], year: int) -> list[tuple[int, list[Run]]]:
    """Twelve (month, runs) pairs: each run is listed in every month of `year` it touches."""
    months: dict[int, list[Run]] = {month: [] for month in range(1, 13)}
    for run in runs:
        for month in run.months_in(year):
            months[month].append(run)
    return list(months.items())


# --- Status ----------------------------------------------------------------------------------

DONE = "done"
NOT_DONE = "not_done"  # the run has ended and nobody marked it done
IN_PROGRESS = "in_progress"
UPCOMING = "upcoming"
NOT_DUE = "not_due"  # no run that year (before first_year or after last_year)


def done_years(action: ClockAction) -> set[int]:
    return {row.year for row in action.done}


def status(action: ClockAction, year: int, today: date) -> str:
    if not recurs_in(action, year):
        return NOT_DUE
    if year in done_years(action):
        return DONE
    start, end = occurrence(action, year)
    if today < start:
        return UPCOMING
    return IN_PROGRESS if today <= end else NOT_DONE


def year_on_year(
    scope: Scope, years: list[int], today: date | None = None
) -> list[tuple[ClockAction, bool, list[str]]]:
    """Per action of the scope (and, for an organisation, its region's): a status per year."""
    today = today or utcnow().date()
    return [
        (action, regional, [status(action, year, today) for year in years])
        for action, regional in visible_actions(scope)
    ]


# --- Queries ---------------------------------------------------------------------------------


def _in_scope(model, scope_kind: str, scope_id: int):  # type: ignore[no-untyped-def]
    if scope_kind == "region":
        return (model.region_id == scope_id) & model.organisation_id.is_(None)
    return (model.organisation_id == scope_id) & model.region_id.is_(None)


# What the pages and the feed read of every action, loaded with it (a query per relation, not
# one per action): done marks (status), the responsible group, the RACI rows and their groups.
LOADS = (
    selectinload(ClockAction.done),
    selectinload(ClockAction.group),
    selectinload(ClockAction.raci).selectinload(RaciEntry.group),
)


def actions_of(scope_kind: str, scope_id: int) -> list[ClockAction]:
    query = (
        db.select(ClockAction)
        .options(*LOADS)
        .where(_in_scope(ClockAction, scope_kind, scope_id))
        .order_by(ClockAction.start_month, ClockAction.start_day, ClockAction.title)
    )
    return list(db.session.execute(query).scalars())


def visible_actions(scope: Scope) -> list[tuple[ClockAction, bool]]:
    """The scope's actions, then (for an organisation in a region) the region's, flagged True."""
    own = [(action, False) for action in actions_of(scope.kind, scope.id)]
    if scope.is_region or scope.region_id is None:
        return own
    return own + [(action, True) for action in actions_of("region", scope.region_id)]


def actions_in_year(scope: Scope, year: int) -> list[tuple[ClockAction, bool]]:
    """The actions that have a run starting in `year` (regional ones flagged True)."""
    return [
        (action, regional) for action, regional in visible_actions(scope) if recurs_in(action, year)
    ]


def group_actions(group: Group) -> list[ClockAction]:
    """The actions a group is responsible for or has a RACI letter in."""
    with_letter = db.select(RaciEntry.action_id).where(RaciEntry.group_id == group.id)
    query = (
        db.select(ClockAction)
        .options(*LOADS)
        .where((ClockAction.group_id == group.id) | ClockAction.id.in_(with_letter))
        .order_by(ClockAction.start_month, ClockAction.start_day, ClockAction.title)
    )
    return list(db.session.execute(query).scalars())


def allowed_goals(scope: Scope) -> list[Goal]:
    """Goals of the scope's roadmaps, and for an organisation its region's."""
    condition = _in_scope(Roadmap, scope.kind, scope.id)
    if not scope.is_region and scope.region_id is not None:
        condition = condition | _in_scope(Roadmap, "region", scope.region_id)
    query = (
        db.select(Goal)
        .join(Roadmap)
        .where(condition)
        .order_by(Roadmap.first_year, Roadmap.id, Goal.position, Goal.id)
    )
    return list(db.session.execute(query).scalars())


# --- Editing ---------------------------------------------------------------------------------


def _check_date(month: int, day: int | None, which: str) -> None:
    if not 1 <= month <= 12:
        raise ClockError(_("The %(which)s month must be 1–12.", which=which))
    if day is not None and not 1 <= day <= calendar.monthrange(LEAP_YEAR, month)[1]:
        raise ClockError(_("That %(which)s day does not exist in that month.", which=which))


def validate(scope: Scope, data: ActionData) -> None:
    if not data.title.strip():
        raise ClockError(_("Give the action a title."))
    _check_date(data.start_month, data.start_day, _("start"))
    _check_date(data.end_month, data.end_day, _("end"))
    for year in (data.first_year, data.last_year):
        if year is not None and not EARLIEST_YEAR <= year <= LATEST_YEAR:
            raise ClockError(
                _(
                    "Give a year between %(first)s and %(last)s.",
                    first=EARLIEST_YEAR,
                    last=LATEST_YEAR,
                )
            )
    if data.last_year is not None and data.last_year < data.first_year:
        raise ClockError(_("The last year cannot come before the first year."))
    if data.group_id is not None and data.group_id not in {
        g.id for g in groups_of(scope, with_region=True)
    }:
        raise ClockError(_("The responsible group must be a group of this clock or its region."))
    if data.goal_id is not None and data.goal_id not in {g.id for g in allowed_goals(scope)}:
        raise ClockError(_("The goal must be on a roadmap of this clock or its region."))
    if data.path_slugs:
        known = existing_path_slugs()
        missing = [slug for slug in split_slugs(data.path_slugs) if slug not in known]
        if missing:
            raise ClockError(_("No such path: %(slugs)s.", slugs=", ".join(missing)))


def _apply(action: ClockAction, data: ActionData) -> None:
    action.title = data.title.strip()
    action.description = data.description.strip()
    action.start_month, action.start_day = data.start_month, data.start_day
    action.end_month, action.end_day = data.end_month, data.end_day
    action.first_year, action.last_year = data.first_year, data.last_year
    action.group_id, action.goal_id = data.group_id, data.goal_id
    action.path_slugs = split_slugs(data.path_slugs)


def create_action(scope: Scope, data: ActionData) -> ClockAction:
    validate(scope, data)
    action = ClockAction(**scope.columns())
    _apply(action, data)
    db.session.add(action)
    db.session.flush()
    return action


def update_action(action: ClockAction, data: ActionData) -> None:
    validate(scope_of(action), data)
    _apply(action, data)
    db.session.flush()


def delete_action(action: ClockAction) -> None:
    db.session.delete(action)
    db.session.flush()


def accountable_count(letters: Iterable[str]) -> int:
    """How many of the letters ("R", "A", "C", "I", "" or Raci values) are Accountable: the one
    count behind "exactly one A" (here) and the kickoff matrix's "at most one A per task"."""
    return sum(letter == Raci.ACCOUNTABLE for letter in letters)


def set_raci(action: ClockAction, entries: list[tuple[int, GroupRole | None, str]]) -> None:
    """Replace the action's matrix; exactly one party is Accountable ("A")."""
    groups = {group.id: group for group in groups_of(scope_of(action), with_region=True)}
    seen: set[tuple[int, GroupRole | None]] = set()
    rows: list[RaciEntry] = []
    for group_id, role, letter in entries:
        group = groups.get(group_id)
        if group is None:
            raise RaciError(_("A party must be a group of this clock or its region."))
        if role is not None and role not in roles_for(group.kind):
            raise RaciError(_("%(group)s has no such role.", group=group.name))
        try:
            value = Raci(letter)
        except ValueError:
            raise RaciError(_("A letter is one of R, A, C and I.")) from None
        if (group_id, role) in seen:
            raise RaciError(_("Each party can have one letter only."))
        seen.add((group_id, role))
        rows.append(RaciEntry(group_id=group_id, member_role=role, letter=value))
    accountable = accountable_count(row.letter for row in rows)
    if accountable != 1:
        raise RaciError(
            _(
                "Exactly one party is Accountable (A) for an action; this matrix has %(n)s.",
                n=accountable,
            )
        )
    action.raci.clear()
    db.session.flush()  # the unique (action, group, role) must be free before the new rows
    action.raci.extend(rows)
    db.session.flush()


def mark_done(action: ClockAction, year: int, user: User | None, note: str, now: datetime) -> None:
    if not recurs_in(action, year):
        raise ClockError(_("The action has no run in %(year)s.", year=year))
    row = db.session.get(ClockActionDone, (action.id, year))
    if row is None:
        row = ClockActionDone(action_id=action.id, year=year)
        db.session.add(row)
    row.note = note.strip()
    row.done_at = now
    row.done_by_id = user.id if user is not None else None
    db.session.flush()
    db.session.refresh(action, ["done"])


def mark_not_done(action: ClockAction, year: int) -> None:
    row = db.session.get(ClockActionDone, (action.id, year))
    if row is not None:
        db.session.delete(row)
        db.session.flush()
        db.session.refresh(action, ["done"])
