"""Mirroring an organisation's roadmap to its region's: which organisation goal serves which
regional goal, and the regional goals no goal serves (the gaps).

Services take plain arguments and only flush; the view commits. Refused input raises
`RoadmapError` (from campus.network.roadmaps) with a translated message.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from campus.auth.models import Organisation
from campus.extensions import db
from campus.network.models import Goal
from campus.network.models import Roadmap
from campus.network.roadmaps import RoadmapError


def _region_of(roadmap: Roadmap) -> int | None:
    """The region of an organisation roadmap's organisation (None: no region or not an
    organisation's roadmap)."""
    if roadmap.organisation_id is None:
        return None
    organisation = db.session.get(Organisation, roadmap.organisation_id)
    return organisation.region_id if organisation is not None else None


def _overlap(one: Roadmap, other: Roadmap) -> bool:
    return one.first_year <= other.last_year and other.first_year <= one.last_year


def set_serves(goal: Goal, regional_goal: Goal | None) -> None:
    """Mirror an organisation's goal to a goal of its region's roadmap of overlapping years
    (None: serves none)."""
    if regional_goal is None:
        goal.serves_goal_id = None
        db.session.flush()
        return
    if goal.roadmap.organisation_id is None:
        raise RoadmapError(_("Only an organisation's goal can serve a regional goal."))
    if regional_goal.roadmap.region_id is None:
        raise RoadmapError(_("A goal can serve only a goal of the region's roadmap."))
    region_id = _region_of(goal.roadmap)
    if region_id is None or regional_goal.roadmap.region_id != region_id:
        raise RoadmapError(_("The goal can serve only a goal of its own region's roadmap."))
    if not _overlap(goal.roadmap, regional_goal.roadmap):
        raise RoadmapError(
            _(
                "The regional roadmap (%(first)d–%(last)d) does not cover any year of this "
                "roadmap.",
                first=regional_goal.roadmap.first_year,
                last=regional_goal.roadmap.last_year,
            )
        )
    goal.serves_goal_id = regional_goal.id
    db.session.flush()


def regional_roadmaps_for(roadmap: Roadmap) -> list[Roadmap]:
    """The roadmaps of the organisation's region whose period overlaps this roadmap's."""
    region_id = _region_of(roadmap)
    if region_id is None:
        return []
    query = (
        db.select(Roadmap)
        .where(
            Roadmap.region_id == region_id,
            Roadmap.organisation_id.is_(None),
            Roadmap.first_year <= roadmap.last_year,
            Roadmap.last_year >= roadmap.first_year,
        )
        .order_by(Roadmap.first_year, Roadmap.id)
    )
    return list(db.session.execute(query).scalars())


@dataclass
class MirrorRow:
    regional_goal: Goal
    serving: list[Goal]  # the organisation's goals that serve it


@dataclass
class MirrorRoadmap:
    roadmap: Roadmap
    rows: list[MirrorRow]


@dataclass
class MirrorView:
    roadmaps: list[MirrorRoadmap]
    unlinked: list[Goal]  # the organisation's goals that serve no regional goal
    elsewhere: list[Goal]  # serve a regional goal outside the shown roadmaps
    gaps: list[Goal]  # regional goals no goal of this roadmap serves
    has_region: bool = True


def _ordered(goals: list[Goal]) -> list[Goal]:
    return sorted(goals, key=lambda g: (g.position, g.id))


def mirror_view(roadmap: Roadmap) -> MirrorView:
    """The region's goals beside the organisation's: who serves what, and the gaps."""
    if roadmap.organisation_id is None:
        return MirrorView([], [], [], [], has_region=False)
    regional = regional_roadmaps_for(roadmap)
    own = _ordered(roadmap.goals)
    shown_ids = {goal.id for each in regional for goal in each.goals}
    result = MirrorView([], [], [], [], has_region=_region_of(roadmap) is not None)
    for each in regional:
        rows = []
        for regional_goal in _ordered(each.goals):
            serving = [g for g in own if g.serves_goal_id == regional_goal.id]
            rows.append(MirrorRow(regional_goal, serving))
            if not serving:
                result.gaps.append(regional_goal)
        result.roadmaps.append(MirrorRoadmap(each, rows))
    for goal in own:
        if goal.serves_goal_id is None:
            result.unlinked.append(goal)
        elif goal.serves_goal_id not in shown_ids:
            result.elsewhere.append(goal)
    return result


def serve_choices(roadmap: Roadmap) -> list[Goal]:
    """The regional goals an organisation roadmap's goals can serve."""
    return [goal for each in regional_roadmaps_for(roadmap) for goal in _ordered(each.goals)]
