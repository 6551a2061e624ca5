"""A goal's measured starting point: the starting-point assessment's aggregate for the goal's
assessment area, read through campus.assessments.aggregates (tallies only, never answers; a
figure over fewer than MIN_RESPONDENTS people is withheld there and stays withheld here).

An organisation's goal reads the organisation's latest round of the instrument; a region's goal
reads the regional comparison of its organisations' latest rounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from campus.assessments import aggregates
from campus.assessments.models import MIN_RESPONDENTS
from campus.assessments.models import AssessmentArea
from campus.assessments.models import AssessmentRound
from campus.assessments.models import Instrument
from campus.auth.models import Organisation
from campus.auth.models import Region
from campus.extensions import db
from campus.network.access import Scope
from campus.network.models import Goal

Reason = Literal["shown", "too_few", "no_round", "missing"]


def find_area(instrument_slug: str, area_key: str) -> AssessmentArea | None:
    """The (not retired) area `area_key` of the instrument `instrument_slug`."""
    return db.session.execute(
        db.select(AssessmentArea)
        .join(Instrument, Instrument.id == AssessmentArea.instrument_id)
        .where(
            Instrument.slug == instrument_slug,
            AssessmentArea.key == area_key,
            AssessmentArea.is_retired.is_(False),
        )
    ).scalar_one_or_none()


def area_choices() -> list[tuple[Instrument, AssessmentArea]]:
    """Every instrument area a goal can be measured by (instruments and areas in use)."""
    rows = db.session.execute(
        db.select(Instrument, AssessmentArea)
        .join(AssessmentArea, AssessmentArea.instrument_id == Instrument.id)
        .where(Instrument.is_retired.is_(False), AssessmentArea.is_retired.is_(False))
        .order_by(Instrument.position, Instrument.slug, AssessmentArea.position)
    )
    return [(instrument, area) for instrument, area in rows]


@dataclass(frozen=True)
class MeasuredStart:
    """What the assessment says about a goal's area in the scope (or why it says nothing)."""

    reason: Reason
    instrument: Instrument | None = None
    area: AssessmentArea | None = None
    figure: aggregates.Figure | None = None
    round: AssessmentRound | None = None  # an organisation's round
    organisations: int = 0  # a region's comparison: organisations counted
    top: int = 6  # the top of the items' scale

    @property
    def shown(self) -> bool:
        return self.reason == "shown"

    @property
    def mean(self) -> float | None:
        return self.figure.mean if self.shown and self.figure is not None else None

    @property
    def respondents(self) -> int:
        return self.figure.n if self.shown and self.figure is not None else 0

    @property
    def min_respondents(self) -> int:
        return MIN_RESPONDENTS

    @property
    def mean_text(self) -> str:
        from flask_babel import format_decimal

        mean = self.mean
        return "" if mean is None else format_decimal(mean, "0.0")


def _top(area: AssessmentArea) -> int:
    return max((item.top for item in area.items if not item.is_retired), default=6)


def _judged(figure: aggregates.Figure) -> Reason:
    return "too_few" if figure.withheld or figure.mean is None else "shown"


@dataclass
class _Reading:
    """One instrument read for one scope: its latest round(s) and the figures per area."""

    reason: Reason
    figures: dict[int, aggregates.Figure]  # by area id
    round: AssessmentRound | None = None
    organisations: int = 0


class Readings:
    """Each instrument read once for the scope, however many goals (and areas) ask: a region's
    comparison adds up all its organisations' latest rounds, too dear to repeat per goal."""

    def __init__(self, scope: Organisation | Region, today: date) -> None:
        self.scope = scope
        self.today = today
        self._by_instrument: dict[int, _Reading] = {}

    def read(self, instrument: Instrument) -> _Reading:
        if instrument.id not in self._by_instrument:
            self._by_instrument[instrument.id] = self._read(instrument)
        return self._by_instrument[instrument.id]

    def _read(self, instrument: Instrument) -> _Reading:
        if isinstance(self.scope, Organisation):
            recent = aggregates.recent_rounds(instrument.id, self.today, [self.scope.id], count=1)
            rounds = recent.get(self.scope.id, [])
            if not rounds:
                return _Reading("no_round", {})
            report = aggregates.organisation_report(instrument, self.scope.id, rounds[0].id)
            figures = {row.area.id: row.figures.total for row in report.areas}
            return _Reading("shown", figures, rounds[0])
        members = list(
            db.session.execute(
                db.select(Organisation.id).where(Organisation.region_id == self.scope.id)
            ).scalars()
        )
        keys = aggregates.latest_round_keys(instrument.id, self.today, members) if members else []
        if not keys:
            return _Reading("no_round", {})
        compared = aggregates.comparison(instrument, keys)
        figures = dict(compared.areas)
        return _Reading("shown", figures, organisations=compared.organisations)


def measured_starting_point(
    goal: Goal,
    scope: Organisation | Region,
    today: date | None = None,
    readings: Readings | None = None,
) -> MeasuredStart | None:
    """The aggregate of the goal's assessment area in the scope's latest round; None when the
    goal names no assessment area."""
    if not goal.instrument_slug or not goal.assessment_area_key:
        return None
    if today is None:
        from campus.clock import utcnow

        today = utcnow().date()
    area = find_area(goal.instrument_slug, goal.assessment_area_key)
    if area is None:
        return MeasuredStart("missing")
    instrument = area.instrument
    top = _top(area)
    reading = (readings or Readings(scope, today)).read(instrument)
    if reading.reason != "shown":
        return MeasuredStart(reading.reason, instrument, area, top=top)
    figure = reading.figures.get(area.id) or aggregates.Figure.hidden()
    return MeasuredStart(
        _judged(figure),
        instrument,
        area,
        figure,
        reading.round,
        organisations=reading.organisations,
        top=top,
    )


def measures_for(goals: list[Goal], scope: Scope, today: date) -> dict[int, MeasuredStart]:
    """The measured starting point of each goal that names an assessment area, by goal id, in
    the scope (goals measured by the same area read it once, each instrument is read once)."""
    owner: Organisation | Region | None = db.session.get(
        Region if scope.is_region else Organisation, scope.id
    )
    if owner is None:
        return {}
    readings = Readings(owner, today)
    measured: dict[int, MeasuredStart] = {}
    seen: dict[tuple[str | None, str | None], MeasuredStart | None] = {}
    for goal in goals:
        key = (goal.instrument_slug, goal.assessment_area_key)
        if key not in seen:
            seen[key] = measured_starting_point(goal, owner, today, readings)
        found = seen[key]
        if found is not None:
            measured[goal.id] = found
    return measured
