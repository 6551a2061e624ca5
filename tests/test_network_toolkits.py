"""Templates that travel: publish, import (a bad file changes nothing), copy (independent rows,
RACI resolved to the copier's groups, all or nothing), download, and who may do what."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from typing import Any

import pytest
from flask import Flask

from campus.auth.models import Organisation
from campus.auth.models import Region
from campus.auth.models import Role
from campus.auth.models import User
from campus.extensions import db
from campus.network import access
from campus.network import toolkit_copy
from campus.network import toolkits
from campus.network.access import organisation_scope
from campus.network.access import region_scope
from campus.network.clock_models import ClockAction
from campus.network.clock_models import Raci
from campus.network.clock_models import RaciEntry
from campus.network.clock_models import Toolkit
from campus.network.models import DevelopmentArea
from campus.network.models import Focus
from campus.network.models import Goal
from campus.network.models import GoalStatus
from campus.network.models import GoalStatusChange
from campus.network.models import Group
from campus.network.models import GroupKind
from campus.network.models import GroupRole
from campus.network.models import KickoffKit
from campus.network.models import Roadmap
from campus.network.toolkits import ToolkitError
from campus.network.years import EARLIEST_YEAR
from campus.network.years import LATEST_YEAR
from campus.paths.models import LearningPath
from tests.test_network_toolkit_format import SAMPLE

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TABLES = (Toolkit, Roadmap, Goal, GoalStatusChange, ClockAction, RaciEntry, Group, KickoffKit)


@dataclass
class World:
    region: int
    north: int  # an organisation of the region, with a roadmap, a clock and a kit
    south: int  # another organisation of the region, with nothing yet
    lonely: int  # an organisation without a region
    roadmap: int
    steering: int  # the region's steering group


def _counts() -> dict[str, int]:
    return {
        table.__name__: db.session.execute(
            db.select(db.func.count()).select_from(table)
        ).scalar_one()
        for table in TABLES
    }


@pytest.fixture
def world(app: Flask, make_user: Callable[..., int]) -> World:
    with app.app_context():
        region = Region(slug="coast", name="Coast region")
        north = Organisation(slug="north", name="North", region=region)
        south = Organisation(slug="south", name="South", region=region)
        lonely = Organisation(slug="lonely", name="Lonely")
        db.session.add_all([region, north, south, lonely])
        db.session.flush()
        steering = Group(kind=GroupKind.STEERING, name="Coast steering", region_id=region.id)
        digi = Group(kind=GroupKind.DIGI, name="North digi group", organisation_id=north.id)
        tutors = Group(kind=GroupKind.TUTORS, name="North tutors", organisation_id=north.id)
        roadmap = Roadmap(
            title="North roadmap", first_year=2025, last_year=2028, organisation_id=north.id
        )
        goal = Goal(
            roadmap=roadmap,
            area=DevelopmentArea.COMPETENCE,
            focus=Focus.LEARNING,
            title="Staff competence",
            target_state="Most staff at B1",
            status=GoalStatus.IN_PROGRESS,
            group=digi,
            path_slugs=["basics"],
        )
        action = ClockAction(
            title="Device onboarding",
            start_month=8,
            start_day=10,
            end_month=9,
            first_year=2025,
            organisation_id=north.id,
            group=digi,
            goal=goal,
        )
        action.raci = [
            RaciEntry(group=digi, letter=Raci.ACCOUNTABLE),
            RaciEntry(group=tutors, member_role=GroupRole.CHAIR, letter=Raci.RESPONSIBLE),
            RaciEntry(group=steering, letter=Raci.INFORMED),
        ]
        kit = KickoffKit(
            title="Kick-off",
            questions=["Why?"],
            tasks=["Plan"],
            parties=["Chair"],
            organisation_id=north.id,
        )
        db.session.add_all([steering, digi, tutors, roadmap, action, kit])
        db.session.commit()
        built = World(region.id, north.id, south.id, lonely.id, roadmap.id, steering.id)
    make_user("north-admin@example.org", {Role.ORG_ADMIN}, organisation_id=built.north)
    make_user("south-admin@example.org", {Role.ORG_ADMIN}, organisation_id=built.south)
    make_user("north-learner@example.org", organisation_id=built.north)
    make_user("developer@example.org", {Role.REGIONAL_DEVELOPER}, organisation_id=built.north)
    make_user("admin@example.org", {Role.ADMIN}, organisation_id=built.lonely)
    return built


def _user(email: str) -> User:
    return db.session.execute(db.select(User).where(User.email == email)).scalar_one()


def _north(world: World) -> Any:
    return organisation_scope(db.session.get(Organisation, world.north))


def _publish(world: World, slug: str = "north-toolkit") -> Toolkit:
    roadmap = db.session.get(Roadmap, world.roadmap)
    return toolkits.publish(
        _north(world),
        roadmap,
        "North toolkit",
        slug,
        "",
        "en",
        _user("north-admin@example.org"),
        NOW,
    )


def test_publish_maps_groups_to_kinds(app: Flask, world: World) -> None:
    with app.app_context():
        body = _publish(world).body
        db.session.commit()
        goal = body["roadmap"]["goals"][0]
        assert goal["key"] == "staff-competence" and goal["group"] == "digi_group"
        assert body["roadmap"]["years"] == 4
        action = body["clock"]["actions"][0]
        assert action["goal"] == "staff-competence" and action["start_day"] == 10
        assert action["raci"] == {"digi_group": "A", "tutor_network.chair": "R", "steering": "I"}
        assert body["kit"]["questions"] == ["Why?"]
        assert toolkits.read_toolkit(toolkits.to_toml(body)) == body
        with pytest.raises(ToolkitError) as caught:
            _publish(world)
        assert caught.value.problems[0].startswith('slug: "north-toolkit" is already')


def test_copy_into_an_organisation_of_the_region(app: Flask, world: World) -> None:
    with app.app_context():
        south = organisation_scope(db.session.get(Organisation, world.south))
        report = toolkits.apply(_publish(world), south, 2027, _user("south-admin@example.org"), NOW)
        db.session.commit()
        roadmap = report.roadmap
        assert roadmap is not None and roadmap.organisation_id == world.south
        assert (roadmap.first_year, roadmap.last_year) == (2027, 2030)
        (goal,) = roadmap.goals
        assert goal.status == GoalStatus.PLANNED and goal.path_slugs == ["basics"]
        assert [change.status for change in goal.history] == [GoalStatus.PLANNED]
        (action,) = db.session.execute(
            db.select(ClockAction).where(ClockAction.organisation_id == world.south)
        ).scalars()
        assert action.first_year == 2027 and action.goal_id == goal.id
        # Own kinds are created empty (digi group, tutors); the steering group is the region's.
        created = {group.kind: group for group in report.created_groups}
        assert set(created) == {GroupKind.DIGI, GroupKind.TUTORS}
        assert created[GroupKind.DIGI].name == "Digi group"
        assert created[GroupKind.DIGI].organisation_id == world.south
        assert created[GroupKind.DIGI].memberships == []
        cells = {(cell.group_id, cell.member_role, cell.letter) for cell in action.raci}
        assert cells == {
            (created[GroupKind.DIGI].id, None, Raci.ACCOUNTABLE),
            (created[GroupKind.TUTORS].id, GroupRole.CHAIR, Raci.RESPONSIBLE),
            (world.steering, None, Raci.INFORMED),
        }
        assert goal.group_id == action.group_id == created[GroupKind.DIGI].id
        assert report.dropped == [] and report.kit is not None and report.kit.title == "Kick-off"


def test_regional_kinds_are_dropped_where_there_is_no_such_group(app: Flask, world: World) -> None:
    with app.app_context():
        document = toolkits.read_toolkit(SAMPLE)
        lonely = organisation_scope(db.session.get(Organisation, world.lonely))
        report = toolkits.apply(document, lonely, 2026, None, NOW)
        dropped = {(cell.party, cell.letter) for cell in report.dropped}
        assert dropped == {("steering", "I"), ("regional_ict", "C")}
        # Unknown paths and badges are left out, and said so; known ones are kept.
        goal = report.roadmap.goals[0]  # type: ignore[union-attr]
        assert goal.path_slugs == ["basics"] and goal.badge_slugs == ["basics"]
        assert goal.instrument_slug is None  # this campus has no such assessment
        warnings = " ".join(report.warnings)
        assert "no-such-path" in warnings and "no-such-badge" in warnings
        assert "staff-digital-competence" in warnings
        # A region cannot have a digi group: copied into the region, those cells are dropped.
        region = region_scope(db.session.get(Region, world.region))
        report = toolkits.apply(document, region, 2026, None, NOW)
        assert {cell.party for cell in report.dropped} == {"digi_group"}
        assert [g.kind for g in report.created_groups] == [GroupKind.TUTORS, GroupKind.REGIONAL]


def test_a_copy_is_independent_of_its_source(app: Flask, world: World) -> None:
    with app.app_context():
        toolkit = _publish(world)
        body_before = toolkits.to_toml(toolkit.body)
        south = organisation_scope(db.session.get(Organisation, world.south))
        report = toolkits.apply(toolkit, south, 2027, None, NOW)
        db.session.commit()
        copy_goal = report.roadmap.goals[0]  # type: ignore[union-attr]
        copy_goal.title = "Our own wording"
        copy_action = db.session.execute(
            db.select(ClockAction).where(ClockAction.organisation_id == world.south)
        ).scalar_one()
        copy_action.title = "Tablets in August"
        copy_action.raci[0].letter = Raci.CONSULTED
        db.session.commit()
        source = db.session.get(Roadmap, world.roadmap)
        assert source.goals[0].title == "Staff competence"  # type: ignore[union-attr]
        source_action = db.session.execute(
            db.select(ClockAction).where(ClockAction.organisation_id == world.north)
        ).scalar_one()
        assert source_action.title == "Device onboarding"
        assert {c.letter for c in source_action.raci} == {
            Raci.ACCOUNTABLE,
            Raci.RESPONSIBLE,
            Raci.INFORMED,
        }
        stored = db.session.get(Toolkit, toolkit.id)
        assert stored is not None and toolkits.to_toml(stored.body) == body_before
        toolkits.delete_toolkit(toolkit)
        db.session.commit()
        kept = db.session.get(Goal, copy_goal.id)
        assert kept is not None and kept.title == "Our own wording"
        assert db.session.get(ClockAction, copy_action.id) is not None


def test_a_failed_copy_leaves_nothing(
    app: Flask, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any) -> None:
        raise RuntimeError("disk full")

    with app.app_context():
        toolkit = _publish(world)
        db.session.commit()
        before = _counts()
        monkeypatch.setattr(
            toolkit_copy, "_copy_kit", broken
        )  # after goals and actions are flushed
        south = organisation_scope(db.session.get(Organisation, world.south))
        with pytest.raises(RuntimeError):
            toolkits.apply(toolkit, south, 2027, None, NOW)
        assert _counts() == before
        db.session.commit()
        assert _counts() == before


def test_import_of_a_bad_file_changes_nothing(app: Flask, world: World) -> None:
    with app.app_context():
        before = _counts()
        with pytest.raises(ToolkitError):
            toolkits.import_file(
                SAMPLE.replace('area = "competence"', 'area = "skills"'), None, NOW
            )
        toolkits.import_file(SAMPLE, None, NOW)
        with pytest.raises(ToolkitError):  # the same slug again
            toolkits.import_file(SAMPLE, None, NOW)
        db.session.commit()
        after = _counts()
        assert after.pop("Toolkit") == before.pop("Toolkit") + 1 and after == before


def test_the_last_year_of_a_copy_may_be_the_latest_year(app: Flask, world: World) -> None:
    with app.app_context():
        document = toolkits.read_toolkit(SAMPLE)  # a 4-year roadmap
        assert toolkits.first_year_range(4) == (EARLIEST_YEAR, LATEST_YEAR - 3)
        assert toolkits.first_year_range(1) == (EARLIEST_YEAR, LATEST_YEAR)
        south = organisation_scope(db.session.get(Organisation, world.south))
        report = toolkits.apply(document, south, LATEST_YEAR - 3, None, NOW)
        assert report.roadmap is not None and report.roadmap.last_year == LATEST_YEAR
        for year in (LATEST_YEAR - 2, EARLIEST_YEAR - 1):
            with pytest.raises(ToolkitError) as caught:
                toolkits.apply(document, south, year, None, NOW)
            assert caught.value.problems == [
                f"The first year must be between {EARLIEST_YEAR} and {LATEST_YEAR - 3}."
            ]
        assert toolkits.apply(document, south, EARLIEST_YEAR, None, NOW).goals == 2


def test_publish_skips_cells_whose_group_is_gone(app: Flask, world: World) -> None:
    with app.app_context():
        tutors = db.session.execute(
            db.select(Group.id).where(Group.kind == GroupKind.TUTORS)
        ).scalar_one()
        # SQLite does not enforce foreign keys: the RACI cell outlives its group.
        db.session.execute(db.delete(Group).where(Group.id == tutors))
        db.session.commit()
        db.session.expire_all()
        action = _publish(world).body["clock"]["actions"][0]
        assert action["raci"] == {"digi_group": "A", "steering": "I"}


def test_copy_uses_own_groups_and_the_regions(app: Flask, world: World) -> None:
    with app.app_context():
        north = _north(world)
        digi = db.session.execute(
            db.select(Group.id).where(Group.kind == GroupKind.DIGI)
        ).scalar_one()
        report = toolkits.apply(toolkits.read_toolkit(SAMPLE), north, 2027, None, NOW)
        assert report.created_groups == []  # North has a digi group and tutors already
        assert {cell.party for cell in report.dropped} == {"regional_ict"}
        action = db.session.execute(
            db.select(ClockAction).where(
                ClockAction.organisation_id == world.north, ClockAction.first_year == 2027
            )
        ).scalars()
        cells = {(c.group_id, c.letter) for a in action for c in a.raci}
        assert (digi, Raci.ACCOUNTABLE) in cells and (world.steering, Raci.INFORMED) in cells


def test_retired_paths_are_left_out_of_a_copy(app: Flask, world: World) -> None:
    with app.app_context():
        path = db.session.execute(
            db.select(LearningPath).where(LearningPath.slug == "basics")
        ).scalar_one()
        path.is_retired = True
        db.session.flush()
        document = toolkits.read_toolkit(SAMPLE)
        assert "basics" in " ".join(toolkits.unknown_references(document))
        south = organisation_scope(db.session.get(Organisation, world.south))
        report = toolkits.apply(document, south, 2027, None, NOW)
        assert report.roadmap is not None and report.roadmap.goals[0].path_slugs == []


def test_an_imported_file_keeps_its_summary(app: Flask, world: World) -> None:
    with app.app_context():
        toolkit = toolkits.import_file(SAMPLE, None, NOW)
        db.session.commit()
        stored = db.session.get(Toolkit, toolkit.id)
        assert stored is not None and stored.summary == (
            "A four-year roadmap, the annual clock and the digi group kick-off kit."
        )
        assert stored.body["summary"] == stored.summary and stored.region_id is None


def test_who_may_import_and_delete_templates(app: Flask, world: World) -> None:
    with app.app_context():
        toolkit = _publish(world)
        db.session.flush()
        north_admin, south_admin = (
            _user("north-admin@example.org"),
            _user("south-admin@example.org"),
        )
        learner, admin = _user("north-learner@example.org"), _user("admin@example.org")
        developer = _user("developer@example.org")
        assert access.can_delete_toolkit(north_admin, toolkit)  # its publisher
        assert access.can_delete_toolkit(admin, toolkit)
        assert not access.can_delete_toolkit(south_admin, toolkit)
        assert not access.can_delete_toolkit(developer, toolkit)
        assert [s.kind for s in access.editable_scopes(north_admin)] == ["organisation"]
        assert [(s.kind, s.id) for s in access.editable_scopes(developer)] == [
            ("region", world.region)
        ]
        assert len(access.editable_scopes(admin)) == 1 + 3  # every region and organisation
        assert access.editable_scopes(learner) == []
        assert not access.can_import_toolkit(learner)
        assert access.can_import_toolkit(developer) and access.can_import_toolkit(admin)
