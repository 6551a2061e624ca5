"""Roadmaps: the period, goals and their status history, mirroring to the region's goals, the
measured starting point (five-person threshold), editing rights and sharing by link."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from datetime import date
from datetime import datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from campus.auth.models import Organisation
from campus.auth.models import Region
from campus.auth.models import Role
from campus.extensions import db
from campus.network import roadmaps
from campus.network.access import organisation_scope
from campus.network.access import region_scope
from campus.network.models import Goal
from campus.network.models import GoalStatus
from campus.network.models import Group
from campus.network.models import GroupKind
from campus.network.models import Roadmap
from campus.network.roadmaps import GoalInput
from campus.network.roadmaps import RoadmapError
from tests.conftest import AuthActions
from tests.test_assessment_aggregates import answer_many
from tests.test_assessment_aggregates import make_round
from tests.test_assessment_tallies import make_instrument

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TODAY = date(2026, 11, 23)


@pytest.fixture
def app(app: Flask) -> Iterator[Flask]:
    """The conftest app, with the roadmap pages registered if the package does not yet."""
    if "network_roadmaps" not in app.blueprints:
        from campus.network.views_roadmaps import bp

        app.register_blueprint(bp)
    yield app


@dataclass
class World:
    coast: int  # region
    lakes: int  # another region
    north: int  # organisations of the coast
    south: int
    west: int  # of the lakes


@pytest.fixture
def world(app: Flask) -> World:
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
    assert roadmaps.split_slugs("a, b\nc,,a") == ["a", "b", "c"]


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
        roadmaps.set_serves(goal, elsewhere)  # across regions
    with pytest.raises(RoadmapError, match="Only an organisation's goal"):
        roadmaps.set_serves(regional, regional)  # from a region roadmap
    with pytest.raises(RoadmapError, match="only a goal of the region's roadmap"):
        roadmaps.set_serves(goal, other_org)  # to an organisation's goal
    assert goal.serves_goal_id is None

    roadmaps.set_serves(goal, regional)
    assert goal.serves_goal_id == regional.id
    roadmaps.set_serves(goal, None)
    assert goal.serves_goal_id is None


def test_mirror_view_shows_who_serves_what_and_the_gaps(app_ctx: None, world: World) -> None:
    ours = org_roadmap(world.north, 2025, 2028)
    served = roadmaps.add_goal(ours, goal_input("Ours, serving"), None, NOW)
    alone = roadmaps.add_goal(ours, goal_input("Ours, alone"), None, NOW)
    region = region_roadmap(world.coast, 2024, 2026)
    covered = roadmaps.add_goal(region, goal_input("Covered"), None, NOW)
    gap = roadmaps.add_goal(region, goal_input("Gap"), None, NOW)
    later = region_roadmap(world.coast, 2029, 2032)  # does not overlap 2025–2028
    roadmaps.add_goal(later, goal_input("Later"), None, NOW)
    roadmaps.set_serves(served, covered)

    view = roadmaps.mirror_view(ours)
    assert [m.roadmap.id for m in view.roadmaps] == [region.id]
    rows = {row.regional_goal.title: row.serving for row in view.roadmaps[0].rows}
    assert rows == {"Covered": [served], "Gap": []}
    assert view.gaps == [gap]
    assert view.unlinked == [alone]
    assert roadmaps.mirror_view(region).roadmaps == []  # a region's roadmap mirrors nothing

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
    assert roadmaps.measured_starting_point(goal, north, TODAY).reason == "no_round"
    round_ = make_round(instrument, north.id, "Autumn", date(2026, 11, 1), date(2026, 11, 30))
    answer_many(instrument, north.id, round_.id, people, 4)

    measured = roadmaps.measured_starting_point(goal, north, TODAY)
    regional = roadmaps.measured_starting_point(goal, coast, TODAY)
    assert measured.shown is shown and regional.shown is shown
    if shown:
        assert measured.mean == 4 and measured.respondents == 5 and measured.round.id == round_.id
        assert regional.mean == 4 and regional.organisations == 1
    else:
        assert measured.reason == "too_few" and measured.mean is None
        assert measured.respondents == 0 and measured.figure.counts == {}
    plain = roadmaps.add_goal(goal.roadmap, goal_input("Not measured"), None, NOW)
    assert roadmaps.measured_starting_point(plain, north, TODAY) is None


def test_sharing_tokens(app_ctx: None, world: World) -> None:
    roadmap = org_roadmap(world.north)
    assert roadmap.share_token is None  # off by default
    token = roadmaps.enable_sharing(roadmap)
    assert len(token) >= 40 and roadmaps.enable_sharing(roadmap) == token
    assert roadmaps.shared_roadmap(token) is roadmap
    assert roadmaps.enable_sharing(roadmap, renew=True) != token
    roadmaps.disable_sharing(roadmap)
    assert roadmap.share_token is None and roadmaps.shared_roadmap(token) is None


# ---------------------------------------------------------------------------------------- web


@pytest.fixture
def people(world: World, make_user: Callable[..., int]) -> dict[str, int]:
    return {
        "admin": make_user("boss@north.org", {Role.ORG_ADMIN}, world.north),
        "staff": make_user("staff@north.org", set(), world.north),
        "south": make_user("boss@south.org", {Role.ORG_ADMIN}, world.south),
        "developer": make_user("dev@south.org", {Role.REGIONAL_DEVELOPER}, world.south),
        "outsider": make_user("staff@west.org", set(), world.west),
    }


def make_web_roadmap(app: Flask, world: World) -> tuple[int, int, int]:
    """North's roadmap with one goal serving the coast's regional goal: (roadmap, goal, regional)."""
    with app.app_context():
        ours = org_roadmap(world.north)
        goal = roadmaps.add_goal(ours, goal_input("Platform for all", paths="basics"), None, NOW)
        regional = roadmaps.add_goal(
            region_roadmap(world.coast), goal_input("Regional platform"), None, NOW
        )
        roadmaps.add_goal(regional.roadmap, goal_input("Nobody serves this"), None, NOW)
        roadmaps.set_serves(goal, regional)
        db.session.commit()
        return ours.id, goal.id, regional.id


def test_pages_read_and_edit_by_role(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World, people: dict[str, int]
) -> None:
    roadmap_id, goal_id, regional_id = make_web_roadmap(app, world)
    page = f"/network/roadmaps/{roadmap_id}"

    auth.login("staff@north.org")
    html = client.get(page).get_data(as_text=True)
    assert "Platform for all" in html and "Regional platform" in html
    assert "Gap: no goal of ours serves it yet" in html and "Add a goal" not in html
    assert (
        client.post(f"/network/goals/{goal_id}/status", data={"status": "achieved"}).status_code
        == 403
    )
    auth.logout()

    auth.login("boss@south.org")
    assert client.get(page).status_code == 403
    assert (
        client.post(f"/network/goals/{goal_id}/status", data={"status": "achieved"}).status_code
        == 403
    )
    auth.logout()
    auth.login("staff@west.org")
    assert client.get(page).status_code == 403
    auth.logout()

    auth.login("boss@north.org")
    assert "Add a goal" in client.get(page).get_data(as_text=True)
    response = client.post(
        f"/network/goals/{goal_id}/status",
        data={"status": "in_progress", "note": "Pilot schools started", "back": "roadmap"},
    )
    assert response.status_code == 302 and f"#goal-{goal_id}" in response.location
    goal_page = client.get(f"/network/goals/{goal_id}").get_data(as_text=True)
    assert "Pilot schools started" in goal_page and "Boss" in goal_page
    response = client.post(
        f"/network/organisation/{world.north}/roadmaps",
        data={"title": "Next period", "first_year": "2029", "last_year": "2032"},
    )
    assert response.status_code == 302
    with app.app_context():
        goal = db.session.get(Goal, goal_id)
        assert [c.status for c in goal.history] == [GoalStatus.PLANNED, GoalStatus.IN_PROGRESS]
        assert db.session.scalar(db.select(Roadmap).where(Roadmap.title == "Next period"))


def test_regional_developer_edits_the_region_roadmap(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World, people: dict[str, int]
) -> None:
    _roadmap_id, _goal_id, regional_id = make_web_roadmap(app, world)
    with app.app_context():
        region_roadmap_id = db.session.get(Goal, regional_id).roadmap_id
    new_goal = f"/network/roadmaps/{region_roadmap_id}/goals/new"
    data = {
        "area": "services",
        "focus": "trust",
        "title": "Shared data protection guide",
        "status": "planned",
    }
    auth.login("boss@north.org")  # an org admin reads the region but does not edit it
    assert client.get(f"/network/roadmaps/{region_roadmap_id}").status_code == 200
    assert client.post(new_goal, data=data).status_code == 403
    auth.logout()
    auth.login("dev@south.org")
    assert client.post(new_goal, data=data).status_code == 302
    html = client.get(f"/network/roadmaps/{region_roadmap_id}").get_data(as_text=True)
    assert "Shared data protection guide" in html


def test_bad_input_gets_a_message_and_a_4xx(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World, people: dict[str, int]
) -> None:
    roadmap_id, goal_id, _regional_id = make_web_roadmap(app, world)
    auth.login("boss@north.org")
    response = client.post(
        f"/network/organisation/{world.north}/roadmaps",
        data={"title": "Backwards", "first_year": "2028", "last_year": "2025"},
    )
    assert response.status_code == 400
    assert "The last year cannot be before the first year." in response.get_data(as_text=True)
    response = client.post(f"/network/goals/{goal_id}/status", data={"status": "finished"})
    assert response.status_code == 400 and "Not a valid choice" in response.get_data(as_text=True)
    response = client.post(
        f"/network/roadmaps/{roadmap_id}/goals/new",
        data={
            "area": "competence",
            "focus": "learning",
            "title": "X",
            "status": "planned",
            "badges": "nope",
        },
    )
    assert response.status_code == 400 and "Unknown badges: nope" in response.get_data(as_text=True)
    response = client.post(f"/network/goals/{goal_id}/serves", data={"regional_goal": "999999"})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Roadmap.id))) == 2
        assert db.session.get(Goal, goal_id).status == GoalStatus.PLANNED


def test_shared_link_works_without_login_only_while_on(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World, people: dict[str, int]
) -> None:
    roadmap_id, goal_id, _regional_id = make_web_roadmap(app, world)
    auth.login("boss@north.org")
    client.post(
        f"/network/goals/{goal_id}/status", data={"status": "in_progress", "note": "Boss said so"}
    )
    assert (
        client.post(f"/network/roadmaps/{roadmap_id}/sharing", data={"action": "on"}).status_code
        == 302
    )
    with app.app_context():
        token = db.session.get(Roadmap, roadmap_id).share_token
    assert token and token in client.get(f"/network/roadmaps/{roadmap_id}").get_data(as_text=True)
    auth.logout()

    response = client.get(f"/network/shared/roadmaps/{token}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "noindex" in response.headers["X-Robots-Tag"]
    assert "Platform for all" in html and "In progress" in html
    assert "Boss" not in html and '<form method="post" action="/network' not in html
    assert client.get("/network/shared/roadmaps/not-a-token").status_code == 404

    auth.login("boss@north.org")
    client.post(f"/network/roadmaps/{roadmap_id}/sharing", data={"action": "off"})
    auth.logout()
    assert client.get(f"/network/shared/roadmaps/{token}").status_code == 404


def test_measured_figure_on_the_page(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World, people: dict[str, int]
) -> None:
    with app.app_context():
        instrument = make_instrument()
        # the page reads the clock: a round well in the past
        round_ = make_round(instrument, world.north, "Spring", date(2024, 3, 1), date(2024, 3, 31))
        answer_many(instrument, world.north, round_.id, 5, 4)
        roadmap = org_roadmap(world.north)
        roadmaps.add_goal(
            roadmap, goal_input(instrument_slug="staff", assessment_area_key="area-1"), None, NOW
        )
        db.session.commit()
        roadmap_id = roadmap.id
    auth.login("staff@north.org")
    html = client.get(f"/network/roadmaps/{roadmap_id}").get_data(as_text=True)
    assert "mean 4.0 on a scale of 1–6" in html and "5 respondents" in html


def duplicate_ids(html: str) -> list[str]:
    counts = Counter(re.findall(r'\sid="([^"]+)"', html))
    return [key for key, n in counts.items() if n > 1]


def test_editor_pages_edit_move_and_delete(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World, people: dict[str, int]
) -> None:
    roadmap_id, goal_id, regional_id = make_web_roadmap(app, world)
    auth.login("boss@north.org")
    with app.app_context():
        second = roadmaps.add_goal(
            db.session.get(Roadmap, roadmap_id), goal_input("Second"), None, NOW
        )
        db.session.commit()
        second_id = second.id
    for url in (
        f"/network/roadmaps/{roadmap_id}",
        f"/network/goals/{goal_id}",
        f"/network/roadmaps/{roadmap_id}/edit",
        f"/network/roadmaps/{roadmap_id}/goals/new",
        f"/network/organisation/{world.north}/roadmaps",
    ):
        response = client.get(url)
        html = response.get_data(as_text=True)
        assert response.status_code == 200, url
        assert duplicate_ids(html) == [], url
        assert html.count("<h1") == 1, url

    edited = {
        "area": "content",
        "focus": "community",
        "title": "Open materials",
        "paths": "basics\nadvanced",
        "measure": "",
        "group": "",
    }
    assert client.post(f"/network/goals/{goal_id}", data=edited).status_code == 302
    response = client.post(f"/network/goals/{goal_id}", data=edited | {"title": ""})
    assert response.status_code == 400 and "The goal needs a title." in response.get_data(
        as_text=True
    )
    assert (
        client.post(f"/network/goals/{second_id}/move", data={"direction": "up"}).status_code == 302
    )
    assert (
        client.post(f"/network/goals/{second_id}/move", data={"direction": "sideways"}).status_code
        == 400
    )
    edited_roadmap = {"title": "Ours, renamed", "first_year": "2025", "last_year": "2029"}
    assert (
        client.post(f"/network/roadmaps/{roadmap_id}/edit", data=edited_roadmap).status_code == 302
    )
    with app.app_context():
        goal = db.session.get(Goal, goal_id)
        assert (goal.title, goal.area.value, goal.path_slugs) == (
            "Open materials",
            "content",
            ["basics", "advanced"],
        )
        assert goal.serves_goal_id == regional_id  # editing keeps the mirroring
        assert db.session.get(Roadmap, roadmap_id).last_year == 2029

    assert client.post(f"/network/goals/{goal_id}/delete").status_code == 302
    assert client.get(f"/network/goals/{goal_id}").status_code == 404
    assert client.post(f"/network/roadmaps/{roadmap_id}/delete").status_code == 302
    assert client.get(f"/network/roadmaps/{roadmap_id}").status_code == 404
    with app.app_context():
        assert db.session.get(Goal, second_id) is None
        assert db.session.get(Goal, regional_id) is not None


def test_forms_carry_csrf_tokens(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World, people: dict[str, int]
) -> None:
    """With CSRF on, the roadmap page's per-goal status form posts (its token is prefixed)."""
    roadmap_id, goal_id, _regional_id = make_web_roadmap(app, world)
    auth.login("boss@north.org")
    app.config["WTF_CSRF_ENABLED"] = True
    html = client.get(f"/network/roadmaps/{roadmap_id}").get_data(as_text=True)
    assert duplicate_ids(html) == []
    prefix = f"status-{goal_id}"
    match = re.search(rf'name="{prefix}-csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        rf'value="([^"]+)"[^>]*name="{prefix}-csrf_token"', html
    )
    assert match, "no prefixed CSRF token on the page"
    data = {f"{prefix}-status": "achieved", f"{prefix}-note": "", f"{prefix}-csrf_token": match[1]}
    assert client.post(f"/network/goals/{goal_id}/status", data=data).status_code == 302
    no_token = {f"{prefix}-status": "paused"}
    assert client.post(f"/network/goals/{goal_id}/status", data=no_token).status_code == 400
    with app.app_context():
        assert db.session.get(Goal, goal_id).status == GoalStatus.ACHIEVED
