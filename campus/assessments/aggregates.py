"""Organisation, regional and campus aggregates, read from the tallies only (never from answers).

The threshold is applied here, once, so every page, comparison and CSV shows the same thing:
- a figure (a distribution, a mean, a respondent count) over fewer than MIN_RESPONDENTS people is
  withheld, and a withheld figure carries no numbers at all (nothing for a template to leak);
- a mean needs MIN_RESPONDENTS answers with a value ("not relevant" answers count apart);
- complementary suppression: when a breakdown by staff group withholds some groups while its total
  is shown, the next-smallest groups are withheld too until the withheld ones together hold at least
  MIN_RESPONDENTS people, so "total minus the shown groups" never reveals a smaller group;
- a comparison (region, campus) adds up only organisations whose own figure passes the threshold.

"People behind" a figure: an item's answers (each person answers an item once); for an area, the
largest number of answers to one of its items (a lower bound on the people in it).
"""

from __future__ import annotations

import time
from collections import Counter
from collections import defaultdict
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from typing import Any

from sqlalchemy import func

from campus.assessments.models import MIN_RESPONDENTS
from campus.assessments.models import AssessmentArea
from campus.assessments.models import AssessmentItem
from campus.assessments.models import AssessmentRound
from campus.assessments.models import Instrument
from campus.assessments.models import ItemTally
from campus.assessments.models import RespondentTally
from campus.assessments.models import StaffGroup
from campus.extensions import db

GROUPS = tuple(StaffGroup)


@dataclass(frozen=True)
class Figure:
    """The counts behind one shown aggregate: answers per value (0: not relevant)."""

    counts: Mapping[int, int] = field(default_factory=dict)
    n: int = 0  # the people behind it
    withheld: bool = False

    @classmethod
    def of(cls, counts: Mapping[int, int], n: int) -> Figure:
        return cls(dict(counts), n) if n >= MIN_RESPONDENTS else cls.hidden()

    @classmethod
    def hidden(cls) -> Figure:
        return cls({}, 0, True)

    @property
    def valued(self) -> int:
        return sum(c for v, c in self.counts.items() if v > 0)

    @property
    def not_relevant(self) -> int:
        return self.counts.get(0, 0)

    @property
    def mean(self) -> float | None:
        if self.withheld or self.valued < MIN_RESPONDENTS:
            return None
        return sum(v * c for v, c in self.counts.items() if v > 0) / self.valued

    def count(self, value: int) -> int:
        return self.counts.get(value, 0)


@dataclass(frozen=True)
class Breakdown:
    total: Figure
    groups: Mapping[StaffGroup, Figure]

    def pick(self, group: StaffGroup | None) -> Figure:
        return self.total if group is None else self.groups[group]


def suppressed(total: int, parts: Mapping[Any, int]) -> set[Any]:
    """The parts to withhold so that neither a part nor "total minus shown parts" is small."""
    if total < MIN_RESPONDENTS:
        return set(parts)
    withheld = {key for key, n in parts.items() if n < MIN_RESPONDENTS}
    shown = sorted((n, str(key)) for key, n in parts.items() if n >= MIN_RESPONDENTS)
    by_name = {str(key): key for key in parts}
    while shown and sum(parts[key] for key in withheld) < MIN_RESPONDENTS:
        if not any(parts[key] for key in withheld):
            break  # nothing small is withheld: the shown parts add up to the total
        withheld.add(by_name[shown.pop(0)[1]])
    return withheld


def breakdown(
    counts: Mapping[StaffGroup, Mapping[int, int]], people: Mapping[StaffGroup, int], total: int
) -> Breakdown:
    """One figure for everyone and one per staff group, suppressed together."""
    parts = {group: people.get(group, 0) for group in GROUPS}
    hidden = suppressed(total, parts)
    summed: Counter[int] = Counter()
    for group_counts in counts.values():
        summed.update(group_counts)
    return Breakdown(
        total=Figure.of(summed, total),
        groups={
            group: Figure.hidden()
            if group in hidden
            else Figure.of(counts.get(group, {}), parts[group])
            for group in GROUPS
        },
    )


@dataclass
class ItemRow:
    item: AssessmentItem
    figures: Breakdown


@dataclass
class AreaRow:
    area: AssessmentArea
    figures: Breakdown
    items: list[ItemRow]


@dataclass
class Report:
    """One organisation's round: respondents and every area and item, by staff group."""

    instrument: Instrument
    organisation_id: int
    round_key: int
    respondents: Breakdown
    areas: list[AreaRow]

    @property
    def top(self) -> int:
        return max((row.item.top for area in self.areas for row in area.items), default=6)


def _items(instrument: Instrument) -> list[tuple[AssessmentArea, list[AssessmentItem]]]:
    return [
        (area, [item for item in area.items if not item.is_retired])
        for area in instrument.areas
        if not area.is_retired
    ]


def organisation_report(instrument: Instrument, organisation_id: int, round_key: int) -> Report:
    """Aggregates of one organisation's round (round_key 0: answers outside any round)."""
    rows = db.session.execute(
        db.select(
            ItemTally.item_id, ItemTally.staff_group, ItemTally.value, func.sum(ItemTally.count)
        )
        .join(AssessmentItem, AssessmentItem.id == ItemTally.item_id)
        .join(AssessmentArea, AssessmentArea.id == AssessmentItem.area_id)
        .where(
            AssessmentArea.instrument_id == instrument.id,
            ItemTally.organisation_id == organisation_id,
            ItemTally.round_key == round_key,
        )
        .group_by(ItemTally.item_id, ItemTally.staff_group, ItemTally.value)
    )
    cells: dict[int, dict[StaffGroup, Counter[int]]] = defaultdict(lambda: defaultdict(Counter))
    for item_id, group, value, count in rows:
        cells[item_id][StaffGroup(group)][value] += int(count or 0)
    tallied = db.session.execute(
        db.select(RespondentTally.staff_group, func.sum(RespondentTally.count))
        .where(
            RespondentTally.instrument_id == instrument.id,
            RespondentTally.organisation_id == organisation_id,
            RespondentTally.round_key == round_key,
        )
        .group_by(RespondentTally.staff_group)
    )
    people = {StaffGroup(group): int(count or 0) for group, count in tallied}
    respondents = breakdown({}, people, sum(people.values()))
    return Report(
        instrument, organisation_id, round_key, respondents, _area_rows(instrument, cells)
    )


def _area_rows(
    instrument: Instrument, cells: Mapping[int, Mapping[StaffGroup, Counter[int]]]
) -> list[AreaRow]:
    areas = []
    for area, items in _items(instrument):
        item_rows = []
        area_counts: dict[StaffGroup, Counter[int]] = defaultdict(Counter)
        area_people: Counter[StaffGroup] = Counter()
        area_total = 0
        for item in items:
            by_group = cells.get(item.id, {})
            answers = {group: sum(by_group[group].values()) for group in by_group}
            total = sum(answers.values())
            item_rows.append(ItemRow(item, breakdown(by_group, answers, total)))
            for group, counts in by_group.items():
                area_counts[group].update(counts)
                area_people[group] = max(area_people[group], answers[group])
            area_total = max(area_total, total)
        areas.append(AreaRow(area, breakdown(area_counts, area_people, area_total), item_rows))
    return areas


@dataclass
class Comparison:
    """Several organisations' rounds added up; each organisation's figure passes the threshold."""

    organisations: int
    areas: dict[int, Figure]  # by area id
    items: dict[int, Figure]  # by item id

    def area(self, area_id: int) -> Figure:
        return self.areas.get(area_id) or Figure.hidden()

    def item(self, item_id: int) -> Figure:
        return self.items.get(item_id) or Figure.hidden()


def comparison(instrument: Instrument, round_keys: Iterable[int]) -> Comparison:
    """Sum of the given rounds (one per organisation), leaving out every organisation's item
    answered by fewer than MIN_RESPONDENTS people.

    One GROUP BY over the rounds' tally cells (the covering index `ix_item_tally_round_cells`);
    the per-organisation threshold is applied to those few thousand sums here.
    """
    keys = sorted(set(round_keys) - {0})
    if not keys:
        return Comparison(0, {}, {})
    area_of = {item.id: area.id for area, items in _items(instrument) for item in items}
    rows = db.session.execute(
        db.select(
            ItemTally.organisation_id, ItemTally.item_id, ItemTally.value, func.sum(ItemTally.count)
        )
        .where(ItemTally.round_key.in_(keys), ItemTally.item_id.in_(list(area_of)))
        .group_by(ItemTally.organisation_id, ItemTally.item_id, ItemTally.value)
    )
    cells: dict[tuple[int, int], Counter[int]] = defaultdict(Counter)
    for organisation_id, item_id, value, count in rows:
        cells[(organisation_id, item_id)][value] += int(count or 0)
    item_counts: dict[int, Counter[int]] = defaultdict(Counter)
    organisations: set[int] = set()
    for (organisation_id, item_id), counts in cells.items():
        if sum(counts.values()) >= MIN_RESPONDENTS:
            item_counts[item_id].update(counts)
            organisations.add(organisation_id)
    items = {i: Figure.of(c, sum(c.values())) for i, c in item_counts.items()}
    area_counts: dict[int, Counter[int]] = defaultdict(Counter)
    area_n: Counter[int] = Counter()
    for item_id, counts in item_counts.items():
        area_counts[area_of[item_id]].update(counts)
        area_n[area_of[item_id]] = max(area_n[area_of[item_id]], sum(counts.values()))
    areas = {a: Figure.of(c, area_n[a]) for a, c in area_counts.items()}
    return Comparison(len(organisations), areas, items)


_CAMPUS_CACHE: dict[tuple[int, tuple[int, ...]], tuple[float, Comparison]] = {}


def campus_comparison(
    instrument: Instrument, round_keys: Iterable[int], cache_seconds: float
) -> Comparison:
    """The whole campus's figure, the same for every organisation's page: computed at most once
    per `cache_seconds` per worker for the same set of rounds (it moves slowly, and summing
    every organisation's round is the one aggregate that grows with the campus)."""
    key = (instrument.id, tuple(sorted(set(round_keys))))
    now = time.monotonic()
    cached = _CAMPUS_CACHE.get(key)
    if cached is not None and now - cached[0] < cache_seconds:
        return cached[1]
    result = comparison(instrument, key[1])
    if len(_CAMPUS_CACHE) > 64:
        _CAMPUS_CACHE.clear()
    _CAMPUS_CACHE[key] = (now, result)
    return result


def recent_rounds(
    instrument_id: int, today: date, organisation_ids: Iterable[int] | None = None, count: int = 2
) -> dict[int, list[AssessmentRound]]:
    """Each organisation's latest opened rounds of the instrument, newest first."""
    query = db.select(AssessmentRound).where(
        AssessmentRound.instrument_id == instrument_id, AssessmentRound.opens_on <= today
    )
    if organisation_ids is not None:
        query = query.where(AssessmentRound.organisation_id.in_(list(organisation_ids)))
    query = query.order_by(AssessmentRound.opens_on.desc(), AssessmentRound.id.desc())
    rounds: dict[int, list[AssessmentRound]] = defaultdict(list)
    for round_ in db.session.execute(query).scalars():
        if len(rounds[round_.organisation_id]) < count:
            rounds[round_.organisation_id].append(round_)
    return dict(rounds)


def latest_round_keys(
    instrument_id: int, today: date, organisation_ids: Iterable[int] | None = None
) -> list[int]:
    return [
        rounds[0].id
        for rounds in recent_rounds(instrument_id, today, organisation_ids, count=1).values()
    ]


def area_figures_by_round(
    instrument: Instrument, round_keys: Iterable[int]
) -> dict[int, dict[int, Figure]]:
    """{round key: {area id: figure}} for rounds side by side (totals over staff groups)."""
    keys = sorted(set(round_keys) - {0})
    if not keys:
        return {}
    rows = db.session.execute(
        db.select(
            ItemTally.round_key,
            AssessmentItem.area_id,
            ItemTally.item_id,
            ItemTally.value,
            func.sum(ItemTally.count),
        )
        .join(AssessmentItem, AssessmentItem.id == ItemTally.item_id)
        .join(AssessmentArea, AssessmentArea.id == AssessmentItem.area_id)
        .where(AssessmentArea.instrument_id == instrument.id, ItemTally.round_key.in_(keys))
        .group_by(ItemTally.round_key, AssessmentItem.area_id, ItemTally.item_id, ItemTally.value)
    )
    counts: dict[tuple[int, int], Counter[int]] = defaultdict(Counter)
    answers: dict[tuple[int, int, int], int] = defaultdict(int)
    for key, area_id, item_id, value, count in rows:
        counts[(key, area_id)][value] += int(count or 0)
        answers[(key, area_id, item_id)] += int(count or 0)
    people: Counter[tuple[int, int]] = Counter()
    for (key, area_id, _item_id), n in answers.items():
        people[(key, area_id)] = max(people[(key, area_id)], n)
    result: dict[int, dict[int, Figure]] = {key: {} for key in keys}
    for (key, area_id), area_counts in counts.items():
        result[key][area_id] = Figure.of(area_counts, people[(key, area_id)])
    return result
