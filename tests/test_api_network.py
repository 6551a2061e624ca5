"""GET /api/v1/network/groups[/<id>[/roadmap|/clock]]: who reads which group (as the pages),
the goals a group carries and its annual clock."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from campus.auth.models import Organisation
from campus.auth.models import User
from campus.extensions import db
from campus.network import access
from campus.network import annual
from campus.network import roadmaps
from campus.network.access import organisation_scope
from campus.network.models import Group
from tests.api_support import bearer
from tests.api_support import client_token
from tests.api_support import pat_for
from tests.conftest import now
from tests.test_network_groups_web import ids  # noqa: F401  (the Lakeside fixture)

READERS = (
    "admin@campus.fi",
    "chair@north.fi",
    "learner@north.fi",
    "chair@south.fi",
    "dev@south.fi",
    "someone@faraway.fi",
)


def _listed(client: FlaskClient, token: str) -> set[int]:
    response = client.get("/api/v1/network/groups?per_page=100", headers=bearer(token))
    assert response.status_code == 200
    return {group["id"] for group in response.get_json()}


def test_group_list_is_what_the_pages_let_each_person_read(
    app: Flask,
    client: FlaskClient,
    ids: dict[str, int],  # noqa: F811
) -> None:
    assert client.get("/api/v1/network/groups").status_code == 401
    for email in READERS:
        token = pat_for(app, email, ["network:read"])
        with app.app_context():
            user = db.session.execute(db.select(User).where(User.email == email)).scalar_one()
            expected = {
                group.id
                for group in db.session.execute(db.select(Group)).scalars()
                if access.can_read_group(user, group)
            }
        assert _listed(client, token) == expected, email
        for group_id in (ids["north_digi"], ids["south_digi"], ids["regional"]):
            status = client.get(f"/api/v1/network/groups/{group_id}", headers=bearer(token))
            assert status.status_code == (200 if group_id in expected else 403), email
    token = pat_for(app, "learner@north.fi", ["network:read"])
    assert client.get("/api/v1/network/groups/99999", headers=bearer(token)).status_code == 404
    north = client.get(f"/api/v1/network/groups/{ids['north_digi']}", headers=bearer(token))
    body = north.get_json()
    assert body["scope"] == {"kind": "organisation", "id": ids["north"], "name": "North"}
    assert [(m["name"], m["role"]) for m in body["members"]] == [("Chair", "chair")]


def test_clients_read_their_organisation_only(
    app: Flask,
    client: FlaskClient,
    ids: dict[str, int],  # noqa: F811
) -> None:
    north_client = client_token(app, ids["north"], ["network:read"])
    assert _listed(client, north_client) == {ids["north_digi"]}
    url = f"/api/v1/network/groups/{ids['regional']}/clock"
    assert client.get(url, headers=bearer(north_client)).status_code == 403
    campus_client = client_token(app, None, ["network:read"])
    assert _listed(client, campus_client) == {ids["north_digi"], ids["south_digi"], ids["regional"]}
    no_scope = client_token(app, ids["north"], ["organisation:read"])
    assert client.get("/api/v1/network/groups", headers=bearer(no_scope)).status_code == 403


def test_roadmap_goals_and_clock_of_a_group(
    app: Flask,
    client: FlaskClient,
    ids: dict[str, int],  # noqa: F811
) -> None:
    with app.app_context():
        north = organisation_scope(db.session.get(Organisation, ids["north"]))  # type: ignore[arg-type]
        roadmap = roadmaps.create_roadmap(north, "Digital North", 2026, 2028)
        roadmaps.add_goal(
            roadmap,
            roadmaps.GoalInput(
                area="competence",
                focus="learning",
                title="Everyone does the basics",
                group_id=ids["north_digi"],
                paths="basics",
            ),
            None,
            now(),
        )
        roadmaps.add_goal(
            roadmap,
            roadmaps.GoalInput(area="content", focus="trust", title="Not the group's"),
            None,
            now(),
        )
        action = annual.create_action(
            north,
            annual.ActionData(
                title="Plan the year",
                start_month=11,
                end_month=2,
                first_year=2029,
                group_id=ids["north_digi"],
            ),
        )
        annual.mark_done(action, 2029, None, "Done early.", now())
        db.session.commit()
    token = pat_for(app, "learner@north.fi", ["network:read"])
    base = f"/api/v1/network/groups/{ids['north_digi']}"
    goals = client.get(f"{base}/roadmap", headers=bearer(token)).get_json()
    assert [g["title"] for g in goals] == ["Everyone does the basics"]
    assert goals[0]["paths"] == ["basics"] and goals[0]["roadmap"]["first_year"] == 2026
    clock = client.get(f"{base}/clock?year=2030", headers=bearer(token)).get_json()
    assert clock["year"] == 2030
    (listed,) = clock["actions"]
    assert listed["title"] == "Plan the year" and listed["responsible"] is True
    # The winter run that started in 2029 (done) and the one that starts in November 2030.
    assert [(run["year"], run["status"]) for run in listed["runs"]] == [
        (2029, "done"),
        (2030, "upcoming"),
    ]
    assert client.get(f"{base}/clock?year=1999", headers=bearer(token)).status_code == 422
    outsider = pat_for(app, "someone@faraway.fi", ["network:read"])
    assert client.get(f"{base}/roadmap", headers=bearer(outsider)).status_code == 403
