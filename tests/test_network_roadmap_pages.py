"""Roadmap pages: reading and editing by role, bad input, sharing by link (no measured figures
on the public page), the forms' CSRF tokens and unique ids. Services: test_network_roadmaps.py."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient

from campus.auth.models import Role
from campus.extensions import db
from campus.network import roadmap_mirror
from campus.network import roadmaps
from campus.network.models import Goal
from campus.network.models import GoalStatus
from campus.network.models import Group
from campus.network.models import GroupKind
from campus.network.models import Roadmap
from tests.conftest import AuthActions
from tests.test_assessment_aggregates import answer_many
from tests.test_assessment_aggregates import make_round
from tests.test_assessment_tallies import make_instrument
from tests.test_network_roadmaps import NOW
from tests.test_network_roadmaps import World
from tests.test_network_roadmaps import goal_input
from tests.test_network_roadmaps import make_world
from tests.test_network_roadmaps import org_roadmap
from tests.test_network_roadmaps import region_roadmap


@pytest.fixture
def world(app: Flask) -> World:
    return make_world(app)


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
        roadmap_mirror.set_serves(goal, regional)
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


def test_measured_figure_for_readers_not_on_the_public_link(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World, people: dict[str, int]
) -> None:
    with app.app_context():
        instrument = make_instrument()
        # the page reads the clock: a round well in the past
        round_ = make_round(instrument, world.north, "Spring", date(2024, 3, 1), date(2024, 3, 31))
        answer_many(instrument, world.north, round_.id, 5, 4)
        roadmap = org_roadmap(world.north)
        goal = roadmaps.add_goal(
            roadmap, goal_input(instrument_slug="staff", assessment_area_key="area-1"), None, NOW
        )
        token = roadmaps.enable_sharing(roadmap)
        db.session.commit()
        roadmap_id, goal_id = roadmap.id, goal.id
    auth.login("staff@north.org")
    for page in (f"/network/roadmaps/{roadmap_id}", f"/network/goals/{goal_id}"):
        html = client.get(page).get_data(as_text=True)
        assert "mean 4.0 on a scale of 1–6" in html and "5 respondents" in html, page
    auth.logout()
    # a link anyone may pass on does not publish the survey's aggregates
    html = client.get(f"/network/shared/roadmaps/{token}").get_data(as_text=True)
    assert "Every teacher uses the learning platform" in html
    assert "mean 4.0" not in html and "respondent" not in html and "Measured" not in html


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
    for page in (  # pages with several forms: the tokens carry no repeated id
        f"/network/roadmaps/{roadmap_id}/edit",
        f"/network/goals/{goal_id}",
        f"/network/organisation/{world.north}/roadmaps",
    ):
        response = client.get(page)
        assert response.status_code == 200 and duplicate_ids(response.get_data(as_text=True)) == []
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


def test_a_goal_links_its_group_except_on_the_shared_page(
    app: Flask, client: FlaskClient, auth: AuthActions, world: World, people: dict[str, int]
) -> None:
    with app.app_context():
        group = Group(kind=GroupKind.DIGI, name="North digi", organisation_id=world.north)
        db.session.add(group)
        db.session.flush()
        roadmap = org_roadmap(world.north)
        goal = roadmaps.add_goal(roadmap, goal_input(group_id=group.id), None, NOW)
        token = roadmaps.enable_sharing(roadmap)
        db.session.commit()
        group_id, goal_id = group.id, goal.id
    link = f'href="/network/groups/{group_id}"'
    auth.login("staff@north.org")
    assert link in client.get(f"/network/goals/{goal_id}").get_data(as_text=True)
    auth.logout()
    html = client.get(f"/network/shared/roadmaps/{token}").get_data(as_text=True)
    assert "North digi" in html and link not in html
