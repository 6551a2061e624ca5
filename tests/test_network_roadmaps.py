"""Roadmaps: the period, goals and their status history, mirroring to the region's goals, the
measured starting point (five-person threshold), editing rights and sharing by link."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from datetime import date
from datetime import datetime

import pytest
from flask import Flask

from campus.auth.models import Organisation
from campus.auth.models import Region
from campus.extensions import db
from campus.network import roadmap_mirror
from campus.network import roadmaps
from campus.network.access import organisation_scope
from campus.network.access import region_scope
from campus.network.models import Goal
from campus.network.models import GoalStatus
from campus.network.models import Group
from campus.network.models import GroupKind
from campus.network.models import Roadmap
from campus.network.roadmap_measures import measured_starting_point
from campus.network.roadmaps import GoalInput
from campus.network.roadmaps import RoadmapError
from campus.paths.models import LearningPath
from tests.test_assessment_aggregates import answer_many
from tests.test_assessment_aggregates import make_round
from tests.test_assessment_tallies import make_instrument

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TODAY = date(2026, 11, 23)


@dataclass
class World:
    coast: int  # region
    lakes: int  # another region
    north: int  # organisations of the coast
    south: int
    west: int  # of the lakes


def make_world(app: Flask) -> World:
    """Two regions; North and South in the coast, West in the lakes."""
    with app.app_context():
        coast, lakes = Region(slug="coast", name="Coast"), Region(slug="lakes", name="Lakes")
        db.session.add_all([coast, lakes])
        db.session.flush()
        orgs = [
            Organisation(name=name, slug=name.lower(), region_id=region.id)
            for name, region in (("North", coast), ("South", coast), ("West", lakes))
        ]
        db.session.add_all(orgs)
        db.session.commit()
        return World(coast.id, lakes.id, *(org.id for org in orgs))


@pytest.fixture
def world(app: Flask) -> World:
    return make_world(app)


def goal_input(title: str = "Every teacher uses the learning platform", **extra) -> GoalInput:  # type: ignore[no-untyped-def]
    return GoalInput(area="competence", focus="learning", title=title, **extra)


def org_roadmap(org_id: int, first: int = 2025, last: int = 2028) -> Roadmap:
    organisation = db.session.get(Organisation, org_id)
    return roadmaps.create_roadmap(organisation_scope(organisation), "Ours", first, last)


def region_roadmap(region_id: int, first: int = 2025, last: int = 2028) -> Roadmap:
    region = db.session.get(Region, region_id)
    return roadmaps.create_roadmap(region_scope(region), "Regional", first, last)


# ----------------------------------------------------------------------------------- services


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [
        (2028, 2025, "cannot be before"),
        (2025, 2035, "at most 10 years"),
        (1990, 1995, "between 2000 and 2100"),
    ],
)
def test_the_period_is_checked(app_ctx: None, world: World, first: int, last: int, message: str):
    with pytest.raises(RoadmapError, match=message):
        org_roadmap(world.north, first, last)
    roadmap = org_roadmap(world.north, 2025, 2034)  # ten years is allowed
    with pytest.raises(RoadmapError, match=message):
        roadmaps.edit_roadmap(roadmap, "Ours", first, last)
    assert (roadmap.first_year, roadmap.last_year) == (2025, 2034)


def test_status_history_is_kept_in_order(app_ctx: None, world: World) -> None:
    roadmap = org_roadmap(world.north)
    goal = roadmaps.add_goal(roadmap, goal_input(), None, NOW)
    roadmaps.set_status(goal, "in_progress", "Kick-off done", None, NOW.replace(day=24))
    roadmaps.set_status(goal, GoalStatus.PAUSED, "", None, NOW.replace(day=25))
    roadmaps.set_status(
        goal, GoalStatus.PAUSED, "Still waiting for devices", None, NOW.replace(day=26)
    )
    with pytest.raises(RoadmapError, match="already has this status"):
        roadmaps.set_status(goal, GoalStatus.PAUSED, "", None, NOW.replace(day=27))
    with pytest.raises(RoadmapError, match="Unknown status"):
        roadmaps.set_status(goal, "finished", "", None, NOW.replace(day=27))
    db.session.commit()
    db.session.expire_all()
    goal = db.session.get(Goal, goal.id)
    assert goal.status == GoalStatus.PAUSED
    assert [(c.status, c.note) for c in goal.history] == [
        (GoalStatus.PLANNED, ""),
        (GoalStatus.IN_PROGRESS, "Kick-off done"),
        (GoalStatus.PAUSED, ""),
        (GoalStatus.PAUSED, "Still waiting for devices"),
    ]


def test_goal_input_is_checked(app_ctx: None, world: World) -> None:
    roadmap = org_roadmap(world.north)
    theirs = Group(kind=GroupKind.DIGI, name="South digi", organisation_id=world.south)
    regional = Group(kind=GroupKind.REGIONAL, name="Coast ICT", region_id=world.coast)
    db.session.add_all([theirs, regional])
    db.session.flush()
    with pytest.raises(RoadmapError, match="group of this organisation or region"):
        roadmaps.add_goal(roadmap, goal_input(group_id=theirs.id), None, NOW)
    with pytest.raises(RoadmapError, match="Unknown paths: no-such-path"):
        roadmaps.add_goal(roadmap, goal_input(paths="no-such-path"), None, NOW)
    with pytest.raises(RoadmapError, match="Unknown badges: nope"):
        roadmaps.add_goal(roadmap, goal_input(badges="nope"), None, NOW)
    with pytest.raises(RoadmapError, match="no such assessment area"):
        roadmaps.add_goal(
            roadmap, goal_input(instrument_slug="x", assessment_area_key="y"), None, NOW
        )
    with pytest.raises(RoadmapError, match="development area and a focus"):
        roadmaps.add_goal(
            roadmap, GoalInput(area="weather", focus="learning", title="x"), None, NOW
        )
    goal = roadmaps.add_goal(roadmap, goal_input(group_id=regional.id), None, NOW)
    assert goal.group_id == regional.id  # an organisation's goal can be led by its region's group


def test_a_retired_path_is_refused(app_ctx: None, world: World) -> None:
    roadmap = org_roadmap(world.north)
    goal = roadmaps.add_goal(roadmap, goal_input(paths="basics, advanced"), None, NOW)
    assert goal.path_slugs == ["basics", "advanced"]
    basics = db.session.execute(
        db.select(LearningPath).where(LearningPath.slug == "basics")
    ).scalar_one()
    basics.is_retired = True
    db.session.flush()
    with pytest.raises(RoadmapError, match="Unknown paths: basics$"):
        roadmaps.add_goal(roadmap, goal_input(paths="advanced\nbasics"), None, NOW)
    with pytest.raises(RoadmapError, match="Unknown paths: basics$"):
        roadmaps.edit_goal(goal, goal_input(paths="basics"))


def test_a_long_title_is_refused_not_cut(app_ctx: None, world: World) -> None:
    long = "x" * 201
    north = organisation_scope(db.session.get(Organisation, world.north))
    with pytest.raises(RoadmapError, match="at most 200 characters"):
        roadmaps.create_roadmap(north, long, 2025, 2028)
    roadmap = org_roadmap(world.north)
    with pytest.raises(RoadmapError, match="at most 200 characters"):
        roadmaps.edit_roadmap(roadmap, long, 2025, 2028)
    with pytest.raises(RoadmapError, match="at most 200 characters"):
        roadmaps.add_goal(roadmap, goal_input(long), None, NOW)
    goal = roadmaps.add_goal(roadmap, goal_input("y" * 200), None, NOW)  # the limit itself is fine
    with pytest.raises(RoadmapError, match="at most 200 characters"):
        roadmaps.edit_goal(goal, goal_input(long))
    assert (roadmap.title, goal.title) == ("Ours", "y" * 200)


def test_goals_move_within_their_area(app_ctx: None, world: World) -> None:
    roadmap = org_roadmap(world.north)
    first = roadmaps.add_goal(roadmap, goal_input("First"), None, NOW)
    other = roadmaps.add_goal(roadmap, GoalInput("content", "trust", "Other area"), None, NOW)
    second = roadmaps.add_goal(roadmap, goal_input("Second"), None, NOW)
    assert roadmaps.move_goal(second, "up") is True
    grouped = dict(roadmaps.goals_by_area(roadmap.goals))
    assert [g.title for g in grouped["competence"]] == ["Second", "First"]
    assert roadmaps.move_goal(second, "up") is False  # already first in its area
    assert [g.title for g in grouped["content"]] == [other.title]
    assert first.position > second.position


def test_mirroring_rules(app_ctx: None, world: World) -> None:
    ours = org_roadmap(world.north)
    goal = roadmaps.add_goal(ours, goal_input(), None, NOW)
    regional = roadmaps.add_goal(region_roadmap(world.coast), goal_input("Regional"), None, NOW)
    elsewhere = roadmaps.add_goal(region_roadmap(world.lakes), goal_input("Lakes"), None, NOW)
    other_org = roadmaps.add_goal(org_roadmap(world.south), goal_input("South's"), None, NOW)

    with pytest.raises(RoadmapError, match="own region"):
        roadmap_mirror.set_serves(goal, elsewhere)  # across regions
    with pytest.raises(RoadmapError, match="Only an organisation's goal"):
        roadmap_mirror.set_serves(regional, regional)  # from a region roadmap
    with pytest.raises(RoadmapError, match="only a goal of the region's roadmap"):
        roadmap_mirror.set_serves(goal, other_org)  # to an organisation's goal
    assert goal.serves_goal_id is None

    roadmap_mirror.set_serves(goal, regional)
    assert goal.serves_goal_id == regional.id
    roadmap_mirror.set_serves(goal, None)
    assert goal.serves_goal_id is None


def test_a_goal_serves_only_a_regional_roadmap_of_overlapping_years(
    app_ctx: None, world: World
) -> None:
    goal = roadmaps.add_goal(org_roadmap(world.north, 2025, 2028), goal_input(), None, NOW)
    later = roadmaps.add_goal(region_roadmap(world.coast, 2029, 2032), goal_input("L"), None, NOW)
    earlier = roadmaps.add_goal(region_roadmap(world.coast, 2020, 2024), goal_input("E"), None, NOW)
    edge = roadmaps.add_goal(region_roadmap(world.coast, 2028, 2031), goal_input("Edge"), None, NOW)
    for regional in (later, earlier):
        with pytest.raises(RoadmapError, match="does not cover any year"):
            roadmap_mirror.set_serves(goal, regional)
        assert goal.serves_goal_id is None
    roadmap_mirror.set_serves(goal, edge)  # one shared year is enough
    assert goal.serves_goal_id == edge.id


def test_mirror_view_shows_who_serves_what_and_the_gaps(app_ctx: None, world: World) -> None:
    ours = org_roadmap(world.north, 2025, 2028)
    served = roadmaps.add_goal(ours, goal_input("Ours, serving"), None, NOW)
    alone = roadmaps.add_goal(ours, goal_input("Ours, alone"), None, NOW)
    region = region_roadmap(world.coast, 2024, 2026)
    covered = roadmaps.add_goal(region, goal_input("Covered"), None, NOW)
    gap = roadmaps.add_goal(region, goal_input("Gap"), None, NOW)
    later = region_roadmap(world.coast, 2029, 2032)  # does not overlap 2025–2028
    roadmaps.add_goal(later, goal_input("Later"), None, NOW)
    roadmap_mirror.set_serves(served, covered)

    view = roadmap_mirror.mirror_view(ours)
    assert [m.roadmap.id for m in view.roadmaps] == [region.id]
    rows = {row.regional_goal.title: row.serving for row in view.roadmaps[0].rows}
    assert rows == {"Covered": [served], "Gap": []}
    assert view.gaps == [gap]
    assert view.unlinked == [alone]
    assert roadmap_mirror.mirror_view(region).roadmaps == []  # a region's roadmap mirrors nothing

    roadmaps.delete_roadmap(region)  # the organisation's goal loses the link, not its life
    assert served.serves_goal_id is None


@pytest.mark.parametrize(("people", "shown"), [(4, False), (5, True)])
def test_measured_starting_point_keeps_the_threshold(
    app_ctx: None, world: World, people: int, shown: bool
) -> None:
    instrument = make_instrument()
    north = db.session.get(Organisation, world.north)
    coast = db.session.get(Region, world.coast)
    goal = roadmaps.add_goal(
        org_roadmap(world.north),
        goal_input(instrument_slug="staff", assessment_area_key="area-1"),
        None,
        NOW,
    )
    assert measured_starting_point(goal, north, TODAY).reason == "no_round"
    round_ = make_round(instrument, north.id, "Autumn", date(2026, 11, 1), date(2026, 11, 30))
    answer_many(instrument, north.id, round_.id, people, 4)

    measured = measured_starting_point(goal, north, TODAY)
    regional = measured_starting_point(goal, coast, TODAY)
    assert measured.shown is shown and regional.shown is shown
    if shown:
        assert measured.mean == 4 and measured.respondents == 5 and measured.round.id == round_.id
        assert regional.mean == 4 and regional.organisations == 1
    else:
        assert measured.reason == "too_few" and measured.mean is None
        assert measured.respondents == 0 and measured.figure.counts == {}
    plain = roadmaps.add_goal(goal.roadmap, goal_input("Not measured"), None, NOW)
    assert measured_starting_point(plain, north, TODAY) is None


def test_sharing_tokens(app_ctx: None, world: World) -> None:
    roadmap = org_roadmap(world.north)
    assert roadmap.share_token is None  # off by default
    token = roadmaps.enable_sharing(roadmap)
    assert len(token) >= 40 and roadmaps.enable_sharing(roadmap) == token
    assert roadmaps.shared_roadmap(token) is roadmap
    assert roadmaps.enable_sharing(roadmap, renew=True) != token
    roadmaps.disable_sharing(roadmap)
    assert roadmap.share_token is None and roadmaps.shared_roadmap(token) is None
