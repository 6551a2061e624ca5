"""A respondent's own results: profile per area, strengths and growth areas, recommended paths
(ranked by gap, audience and prerequisites, each with the reason in words), and growth over the
person's earlier responses. Reads the respondent's own answers only."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import datetime

from babel.lists import format_list
from flask_babel import format_decimal
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy.orm import selectinload

from campus.assessments.models import AssessmentArea
from campus.assessments.models import AssessmentItem
from campus.assessments.models import AssessmentResponse
from campus.assessments.models import Scale
from campus.assessments.responses import active_areas
from campus.assessments.responses import answers_by_item
from campus.assessments.responses import user_audiences
from campus.auth.models import User
from campus.clock import aware
from campus.extensions import db
from campus.i18n import pick
from campus.paths.models import LearningPath
from campus.paths.models import PathCompletion

LEVEL_CODES = ("A1", "A2", "B1", "B2", "C1", "C2")
LEVEL_WORDS = (
    _l("aware"),
    _l("tried"),
    _l("use"),
    _l("analyse and select"),
    _l("reflect"),
    _l("initiate"),
)
AGREEMENT_WORDS = (
    _l("strongly disagree"),
    _l("disagree"),
    _l("neither agree nor disagree"),
    _l("agree"),
    _l("strongly agree"),
)


def level_label(value: float, scale: Scale | str) -> str:
    """A value (or a mean, rounded) in words: "A2 (tried)" or "agree"."""
    index = max(1, min(int(value + 0.5), 6 if scale == Scale.LEVELS else 5)) - 1
    if scale == Scale.LEVELS:
        return f"{LEVEL_CODES[index]} ({LEVEL_WORDS[index]})"
    return str(AGREEMENT_WORDS[index])


@dataclass
class AreaResult:
    area: AssessmentArea
    number: int
    mean: float | None  # on the items' scale; None when every answer was "not relevant"
    top: int
    scale: Scale | None  # None when the area mixes scales (then only `share` is meaningful)
    answered: int

    @property
    def share(self) -> float:
        """0…1, for bars: the mean as a share of the top of the scale."""
        return (self.mean or 0) / self.top

    @property
    def label(self) -> str:
        if self.mean is None:
            return _("not relevant to my work")
        if self.scale is None:
            return _("%(percent)d %% of the top", percent=round(100 * self.share))
        return level_label(self.mean, self.scale)

    @property
    def display_mean(self) -> str:
        return "–" if self.mean is None else format_decimal(self.mean, "0.0")


@dataclass
class Recommendation:
    path: LearningPath
    gap: int
    items: list[AssessmentItem]
    explanation: str
    fits_audience: bool
    missing_prerequisites: list[LearningPath] = field(default_factory=list)
    completed_at: datetime | None = None  # completed after the answers were submitted


@dataclass
class Results:
    response: AssessmentResponse
    areas: list[AreaResult]
    strengths: list[AreaResult]
    growth_areas: list[AreaResult]
    recommendations: list[Recommendation]
    completed_since: list[Recommendation]


def area_results(response: AssessmentResponse) -> list[AreaResult]:
    """The mean answer per area (items the person found "not relevant" are left out)."""
    answers = answers_by_item(response)
    result = []
    for number, (area, items) in enumerate(active_areas(response.instrument), start=1):
        scales = {item.scale for item in items}
        values = [answers[i.id] for i in items if answers.get(i.id) is not None]
        tops = [i.top for i in items if answers.get(i.id) is not None]
        if len(scales) == 1:
            scale: Scale | None = next(iter(scales))
            top = items[0].top
            mean = sum(values) / len(values) if values else None  # type: ignore[arg-type]
        else:  # mixed scales: compare as shares of each item's top, shown as a percentage
            scale, top = None, 100
            shares = [100 * v / t for v, t in zip(values, tops, strict=True)]  # type: ignore[operator]
            mean = sum(shares) / len(shares) if shares else None
        answered = sum(1 for i in items if i.id in answers)
        result.append(AreaResult(area, number, mean, top, scale, answered))
    return result


def strengths_and_growth(areas: list[AreaResult]) -> tuple[list[AreaResult], list[AreaResult]]:
    """Up to two strongest and two weakest areas (a third of the areas each, at least one)."""
    rated = sorted((a for a in areas if a.mean is not None), key=lambda a: (-a.share, a.number))
    if len(rated) < 2:
        return rated, []
    count = min(2, max(1, len(rated) // 3))
    strengths = [a for a in rated[:count]]
    growth = [a for a in reversed(rated[-count:]) if a.share < strengths[-1].share]
    return strengths, growth


def _item_name(item: AssessmentItem) -> str:
    if item.alignment:
        return item.alignment
    text = pick(item.statement).rstrip(" .?!")
    return f"“{text[:57]}…”" if len(text) > 60 else f"“{text}”"


def _explain(area_results: list[AreaResult], items: list[AssessmentItem], answers) -> str:  # type: ignore[no-untyped-def]
    """ "Your answers in Strategy were at A2 (tried); this path covers 3.1 and 3.2." The two
    areas with the lowest answers among the linked items are named, and at most five items."""
    locale = get_locale() or "en"
    areas = {result.area.id: result.area for result in area_results}
    levels = []
    for area_id in dict.fromkeys(item.area_id for item in items):
        linked = [item for item in items if item.area_id == area_id]
        scale = linked[0].scale
        values = [answers[item.id] for item in linked if item.scale == scale]
        mean = sum(values) / len(values)
        levels.append((mean / linked[0].top, areas[area_id], level_label(mean, scale)))
    levels.sort(key=lambda entry: entry[0])
    parts = [
        _("your answers in %(area)s were at %(level)s", area=pick(area.title), level=level)
        for _share, area, level in levels[:2]
    ]
    names = list(dict.fromkeys(_item_name(item) for item in items))
    if len(names) > 5:
        rest = len(names) - 4
        names = names[:4] + [ngettext("%(num)d other", "%(num)d others", rest)]
    sentence = _(
        "%(answers)s; this path covers %(items)s.",
        answers=format_list(parts, locale=locale),
        items=format_list(names, locale=locale),
    )
    return sentence[:1].upper() + sentence[1:]


def recommendations(
    user: User, response: AssessmentResponse, areas: list[AreaResult] | None = None
) -> tuple[list[Recommendation], list[Recommendation]]:
    """Paths linked to the items with a gap (top − answer), ranked: paths for the person's
    audience first, then paths they can start now (prerequisites done), then by total gap.
    Paths completed before the answers are left out; those completed since come second."""
    answers = answers_by_item(response)
    areas = areas if areas is not None else area_results(response)
    linked: dict[str, list[AssessmentItem]] = {}
    gaps: dict[str, int] = {}
    for _area, items in active_areas(response.instrument):
        for item in items:
            value = answers.get(item.id)
            if value is None or value >= item.top:
                continue
            for slug in item.path_slugs:
                linked.setdefault(slug, []).append(item)
                gaps[slug] = gaps.get(slug, 0) + item.top - value
    if not linked:
        return [], []
    paths = db.session.execute(
        db.select(LearningPath)
        .where(LearningPath.slug.in_(linked), LearningPath.is_retired.is_(False))
        .options(selectinload(LearningPath.prerequisites), selectinload(LearningPath.theme))
    ).scalars()
    finished = {
        path_id: aware(at)
        for path_id, at in db.session.execute(
            db.select(PathCompletion.path_id, PathCompletion.completed_at).where(
                PathCompletion.user_id == user.id
            )
        )
    }
    answered_at = aware(response.submitted_at or response.started_at)
    audiences = user_audiences(user, response.staff_group)
    open_list, done_list = [], []
    for path in paths:
        completed = finished.get(path.id)
        if completed is not None and completed <= answered_at:
            continue  # done before answering: nothing to recommend
        recommendation = Recommendation(
            path=path,
            gap=gaps[path.slug],
            items=linked[path.slug],
            explanation=_explain(areas, linked[path.slug], answers),
            fits_audience=not path.audience or bool(audiences & set(path.audience)),
            missing_prerequisites=[p for p in path.prerequisites if p.id not in finished],
            completed_at=completed,
        )
        (done_list if completed is not None else open_list).append(recommendation)
    open_list.sort(
        key=lambda r: (
            not r.fits_audience,
            bool(r.missing_prerequisites),
            -r.gap,
            r.path.theme.position,
            r.path.position,
            r.path.slug,
        )
    )
    done_list.sort(key=lambda r: r.completed_at or answered_at)
    return open_list, done_list


def results_for(user: User, response: AssessmentResponse) -> Results:
    """Everything the results page shows about one of the person's own responses."""
    if response.user_id != user.id:
        from campus.assessments.responses import ResponseNotFound

        raise ResponseNotFound(response.id)
    areas = area_results(response)
    strengths, growth = strengths_and_growth(areas)
    recommended, completed = recommendations(user, response, areas)
    return Results(response, areas, strengths, growth, recommended, completed)


@dataclass
class GrowthPoint:
    response: AssessmentResponse
    areas: list[AreaResult]


def growth(user: User, response: AssessmentResponse) -> list[GrowthPoint]:
    """The person's submitted responses to the same instrument up to this one, oldest first
    (those whose answers were deleted have nothing to show and are left out)."""
    if response.submitted_at is None:
        return []
    earlier = db.session.execute(
        db.select(AssessmentResponse)
        .where(
            AssessmentResponse.user_id == user.id,
            AssessmentResponse.instrument_id == response.instrument_id,
            AssessmentResponse.submitted_at.is_not(None),
            AssessmentResponse.submitted_at <= response.submitted_at,
            AssessmentResponse.answers_deleted_at.is_(None),
        )
        .order_by(AssessmentResponse.submitted_at, AssessmentResponse.id)
        .options(selectinload(AssessmentResponse.answers))
    ).scalars()
    return [GrowthPoint(r, area_results(r)) for r in earlier]


def chart_ticks(areas: list[AreaResult]) -> list[tuple[float, str]]:
    """Gridlines of the profile chart: the levels A1…C2, the agreement points 1…5, or
    percentages when the areas use different scales."""
    scales = {area.scale for area in areas}
    if scales == {Scale.LEVELS}:
        return [(k / 6, code) for k, code in enumerate(LEVEL_CODES, start=1)]
    if scales == {Scale.AGREEMENT}:
        return [(k / 5, str(k)) for k in range(1, 6)]
    return [(k / 4, f"{25 * k} %") for k in range(1, 5)]


def short_label(area: AreaResult) -> str:
    """The bar's own text in the chart: "B2 · 3.8" (the words are in the table and <desc>)."""
    if area.mean is None:
        return _("not relevant")
    if area.scale == Scale.LEVELS:
        return f"{LEVEL_CODES[max(1, min(int(area.mean + 0.5), 6)) - 1]} · {area.display_mean}"
    if area.scale is None:
        return f"{round(area.mean)} %"
    return f"{area.display_mean} / {area.top}"
