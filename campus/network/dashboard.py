"""The digital-capability dashboards (digikyvykkyys): an organisation's figures, and a region's
organisations side by side.

Counts only, never a list of people. Every figure comes from a handful of GROUP BY queries over
all the organisations asked for at once, so a page runs the same number of queries whatever the
number of people, paths or badges. Assessment figures come from campus.assessments.aggregates,
which withholds what fewer than MIN_RESPONDENTS people gave.

"As of" a year: path completions and badges count up to the end of that year (or now, for the
current year); roadmaps count when their period covers the year; an annual-clock action is due
in a year Y when first_year <= Y and (last_year is None or Y <= last_year), and done when it has
a ClockActionDone row for Y.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from datetime import date
from datetime import datetime

from campus.assessments import aggregates
from campus.assessments.models import AssessmentArea
from campus.assessments.models import AssessmentRound
from campus.assessments.models import Instrument
from campus.auth.models import Organisation
from campus.auth.models import Region
from campus.extensions import db
from campus.network import dashboard_queries as queries
from campus.network.dashboard_queries import REGIONAL_BADGES
from campus.network.dashboard_queries import TUTOR_BADGES
from campus.network.dashboard_queries import Actions
from campus.network.dashboard_queries import BadgeRow
from campus.network.dashboard_queries import Badges
from campus.network.dashboard_queries import Goals
from campus.network.dashboard_queries import ScopeKey
from campus.network.models import GoalStatus
from campus.paths.models import Theme

__all__ = [
    "REGIONAL_BADGES",
    "TUTOR_BADGES",
    "Actions",
    "BadgeRow",
    "Badges",
    "Goals",
    "organisation_dashboard",
    "region_dashboard",
]


def as_of(year: int, now: datetime) -> datetime:
    """The moment a year's figures are read at: its end, or now while it lasts."""
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    return min(now, end)


@dataclass(frozen=True)
class ThemeRow:
    theme: Theme
    people: int  # people in the organisation(s)
    completers: int  # of them, people with at least one completed path of the theme
    completions: int  # completed paths of the theme

    @property
    def share(self) -> float:
        return self.completers / self.people if self.people else 0.0


@dataclass
class AssessmentBlock:
    """One instrument: each organisation's latest round and its area figures."""

    instrument: Instrument
    areas: list[AssessmentArea]
    top: int
    rounds: dict[int, AssessmentRound]  # by organisation id
    figures: dict[int, dict[int, aggregates.Figure]]  # organisation id → area id → figure
    total: aggregates.Comparison | None = None  # the region: organisations with enough answers

    def figure(self, organisation_id: int, area_id: int) -> aggregates.Figure:
        return self.figures.get(organisation_id, {}).get(area_id) or aggregates.Figure.hidden()

    def region_area(self, area_id: int) -> aggregates.Figure:
        return self.total.area(area_id) if self.total else aggregates.Figure.hidden()


@dataclass
class MemberFigures:
    """One organisation's figures (or a region's totals, with organisation None)."""

    organisation: Organisation | None
    people: int
    completers: int  # people with at least one completed path (any theme)
    themes: list[ThemeRow]
    badges: Badges
    goals: Goals
    actions: Actions


@dataclass
class OrganisationDashboard:
    organisation: Organisation
    year: int
    figures: MemberFigures
    assessments: list[AssessmentBlock]


@dataclass
class RegionDashboard:
    region: Region
    year: int
    themes: list[Theme]
    members: list[MemberFigures]
    totals: MemberFigures
    goals: Goals  # the region's own roadmaps
    actions: Actions  # the region's own annual clock
    assessments: list[AssessmentBlock]


# ------------------------------------------------------------------------------ the services


def organisation_dashboard(
    organisation: Organisation, year: int, now: datetime
) -> OrganisationDashboard:
    members = _member_figures([organisation], year, now)
    today = as_of(year, now).date()
    return OrganisationDashboard(
        organisation, year, members[0], _assessments([organisation.id], today, with_total=False)
    )


def region_dashboard(region: Region, year: int, now: datetime) -> RegionDashboard:
    organisations = list(
        db.session.execute(
            db.select(Organisation)
            .where(Organisation.region_id == region.id)
            .order_by(Organisation.name, Organisation.id)
        ).scalars()
    )
    members = _member_figures(organisations, year, now)
    themes = queries.themes()
    own: ScopeKey = ("region", region.id)
    goals = queries.goals([own], year)
    actions = queries.actions([own], year)
    totals = _totals(members, themes)
    today = as_of(year, now).date()
    assessments = _assessments([o.id for o in organisations], today, with_total=True)
    return RegionDashboard(
        region, year, themes, members, totals, goals[own], actions[own], assessments
    )


def _totals(members: list[MemberFigures], themes: list[Theme]) -> MemberFigures:
    people = sum(m.people for m in members)
    theme_rows = [
        ThemeRow(
            theme,
            people,
            sum(m.themes[i].completers for m in members),
            sum(m.themes[i].completions for m in members),
        )
        for i, theme in enumerate(themes)
    ]
    held: Counter[str] = Counter()
    names: dict[str, dict[str, str]] = {}
    for member in members:
        for row in member.badges.by_badge:
            held[row.slug] += row.holders
            names[row.slug] = row.name
    badges = Badges(
        sum(m.badges.tutor for m in members),
        sum(m.badges.regional for m in members),
        [BadgeRow(slug, names[slug], n) for slug, n in _most_first(held)],
    )
    statuses: Counter[GoalStatus] = Counter()
    for member in members:
        statuses.update(member.goals.by_status)
    return MemberFigures(
        None,
        people,
        sum(m.completers for m in members),
        theme_rows,
        badges,
        Goals(sum(m.goals.roadmaps for m in members), dict(statuses)),
        Actions(sum(m.actions.due for m in members), sum(m.actions.done for m in members)),
    )


def _most_first(counts: Counter[str]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))


def _member_figures(
    organisations: Sequence[Organisation], year: int, now: datetime
) -> list[MemberFigures]:
    ids = [o.id for o in organisations]
    moment = as_of(year, now)
    themes = queries.themes()
    people = queries.people(ids)
    completed, completers = queries.completions(ids, moment)
    badges = queries.badges(ids, moment)
    keys: list[ScopeKey] = [("organisation", i) for i in ids]
    goals = queries.goals(keys, year)
    actions = queries.actions(keys, year)
    result = []
    for organisation in organisations:
        n = people.get(organisation.id, 0)
        rows = [
            ThemeRow(theme, n, *completed.get((organisation.id, theme.id), (0, 0)))
            for theme in themes
        ]
        result.append(
            MemberFigures(
                organisation,
                n,
                completers.get(organisation.id, 0),
                rows,
                badges.get(organisation.id, Badges()),
                goals[("organisation", organisation.id)],
                actions[("organisation", organisation.id)],
            )
        )
    return result


def _assessments(ids: list[int], today: date, *, with_total: bool) -> list[AssessmentBlock]:
    """Per instrument with a round opened by `today`: each organisation's latest round's area
    figures (threshold applied by campus.assessments.aggregates). Queries grow with the number
    of instruments in use, never with people."""
    if not ids:
        return []
    instruments = db.session.execute(
        db.select(Instrument)
        .where(
            Instrument.is_retired.is_(False),
            Instrument.id.in_(
                db.select(AssessmentRound.instrument_id).where(
                    AssessmentRound.organisation_id.in_(ids), AssessmentRound.opens_on <= today
                )
            ),
        )
        .order_by(Instrument.position, Instrument.slug)
    ).scalars()
    blocks = []
    for instrument in instruments:
        latest = {
            org: rounds[0]
            for org, rounds in aggregates.recent_rounds(instrument.id, today, ids, 1).items()
        }
        keys = [round_.id for round_ in latest.values()]
        by_round = aggregates.area_figures_by_round(instrument, keys)
        areas = [area for area in instrument.areas if not area.is_retired]
        top = max((item.top for area in areas for item in area.items), default=6)
        blocks.append(
            AssessmentBlock(
                instrument,
                areas,
                top,
                latest,
                {org: by_round.get(round_.id, {}) for org, round_ in latest.items()},
                aggregates.comparison(instrument, keys) if with_total else None,
            )
        )
    return blocks
