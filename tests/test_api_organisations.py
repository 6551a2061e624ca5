"""GET /api/v1/organisations/<slug>/progress and /assessments: org admins (and admins, and
the organisation's clients) only; the assessment threshold as on the pages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from campus.assessments import rounds
from campus.assessments.models import StaffGroup
from campus.auth.models import Role
from campus.auth.models import User
from campus.extensions import db
from campus.paths import services as paths
from campus.paths.models import CompletionSource
from tests.api_support import bearer
from tests.api_support import client_token
from tests.api_support import pat_for
from tests.conftest import now
from tests.test_assessment_tallies import make_instrument
from tests.test_assessment_tallies import submit


@pytest.fixture
def orgs(app: Flask, make_org: Callable[..., int], make_user: Callable[..., int]) -> dict:
    home = make_org("Home College", "home")
    other = make_org("Other College", "other")
    make_user("boss@home.fi", roles={Role.ORG_ADMIN}, organisation_id=home, name="Boss")
    make_user("boss@other.fi", roles={Role.ORG_ADMIN}, organisation_id=other)
    make_user("learner@home.fi", organisation_id=home, name="Anna")
    make_user("admin@campus.fi", roles={Role.ADMIN}, organisation_id=other)
    for n in range(3):
        make_user(f"person{n}@home.fi", organisation_id=home, name=f"Person {n}")
    return {"home": home, "other": other}


def test_progress_pages_over_members(app: Flask, client: FlaskClient, orgs: dict) -> None:
    with app.app_context():
        anna = db.session.execute(
            db.select(User).where(User.email == "learner@home.fi")
        ).scalar_one()
        path = paths.get_path("basics")
        paths.enroll(anna, path, now())  # type: ignore[arg-type]
        paths.complete_module(anna, paths.get_module(path, "welcome"), CompletionSource.SELF, now())  # type: ignore[arg-type]
        db.session.commit()
    token = pat_for(app, "boss@home.fi", ["organisation:read"])
    first = client.get("/api/v1/organisations/home/progress?per_page=2", headers=bearer(token))
    assert first.status_code == 200
    assert first.headers["X-Total-Count"] == "5"
    assert 'rel="next"' in first.headers["Link"] and 'rel="last"' in first.headers["Link"]
    assert [m["name"] for m in first.get_json()] == ["Anna", "Boss"]
    anna_row = first.get_json()[0]
    basics = next(cell for cell in anna_row["paths"] if cell["path"] == "basics")
    assert basics["status"] == "enrolled" and basics["required_done"] == 1
    assert anna_row["last_activity"] is not None
    searched = client.get(
        "/api/v1/organisations/home/progress?q=person&sort=name&dir=desc", headers=bearer(token)
    ).get_json()
    assert [m["name"] for m in searched] == ["Person 2", "Person 1", "Person 0"]
    assert "boss@other.fi" not in str(searched)


def test_who_reads_an_organisation(app: Flask, client: FlaskClient, orgs: dict) -> None:
    url = "/api/v1/organisations/home/progress"
    assert client.get(url).status_code == 401
    other_boss = pat_for(app, "boss@other.fi", ["organisation:read"])
    assert client.get(url, headers=bearer(other_boss)).status_code == 403
    assert (
        client.get("/api/v1/organisations/nowhere/progress", headers=bearer(other_boss)).status_code
        == 404
    )
    admin = pat_for(app, "admin@campus.fi", ["organisation:read"])
    assert client.get(url, headers=bearer(admin)).status_code == 200
    own_client = client_token(app, orgs["home"], ["organisation:read"])
    assert client.get(url, headers=bearer(own_client)).status_code == 200
    other_client = client_token(app, orgs["other"], ["organisation:read"])
    assert client.get(url, headers=bearer(other_client)).status_code == 403
    # A learner's token cannot hold organisation:read at all (the roles do not allow it).
    with pytest.raises(ValueError):
        pat_for(app, "learner@home.fi", ["organisation:read"])


def test_bad_progress_arguments_are_422(app: Flask, client: FlaskClient, orgs: dict) -> None:
    token = pat_for(app, "boss@home.fi", ["organisation:read"])
    for query in ("sort=shoe", "dir=up", "per_page=1000", "page=0"):
        response = client.get(f"/api/v1/organisations/home/progress?{query}", headers=bearer(token))
        assert response.status_code == 422, query
        assert response.mimetype == "application/problem+json"
    unknown_theme = client.get(
        "/api/v1/organisations/home/progress?theme=nope", headers=bearer(token)
    )
    assert unknown_theme.status_code == 404


def test_assessment_aggregates_withhold_small_groups(
    app: Flask, client: FlaskClient, orgs: dict
) -> None:
    with app.app_context():
        instrument = make_instrument()
        round_ = rounds.open_round(
            orgs["home"], instrument, "Autumn", date(2026, 9, 1), date(2026, 12, 1), None, None
        )
        for _ in range(6):
            submit(instrument, orgs["home"], 4, round_id=round_.id, staff_group=StaffGroup.TEACHER)
        for _ in range(2):
            submit(instrument, orgs["home"], 1, round_id=round_.id, staff_group=StaffGroup.LEADER)
        other_round = rounds.open_round(
            orgs["other"], instrument, "Theirs", date(2026, 9, 1), date(2026, 12, 1), None, None
        )
        db.session.commit()
        round_id, other_round_id = round_.id, other_round.id
    token = pat_for(app, "boss@home.fi", ["organisation:read"])
    listed = client.get("/api/v1/organisations/home/assessments", headers=bearer(token))
    assert listed.status_code == 200
    assert [r["id"] for r in listed.get_json()] == [round_id]
    assert listed.get_json()[0]["response_rate"]["submitted"] == 8
    report = client.get(
        f"/api/v1/organisations/home/assessments/{round_id}", headers=bearer(token)
    ).get_json()
    assert report["min_respondents"] == 5
    total = report["respondents"]["total"]
    assert total == {"withheld": False, "n": 8, "mean": None, "counts": {}}
    groups = report["respondents"]["groups"]
    # Two leaders are withheld, and so are the teachers (else total − teachers = leaders).
    assert groups["leader"]["withheld"] and groups["teacher"]["withheld"]
    assert groups["teacher"]["n"] is None and groups["teacher"]["counts"] == {}
    area = report["areas"][0]
    assert area["figures"]["total"]["counts"] == {"1": 4, "4": 12}
    assert area["figures"]["groups"]["leader"]["withheld"] is True
    assert area["compared"]["campus"]["withheld"] is False
    # Another organisation's round is not in this organisation (404, as the pages).
    response = client.get(
        f"/api/v1/organisations/home/assessments/{other_round_id}", headers=bearer(token)
    )
    assert response.status_code == 404


def _statements(app: Flask, client: FlaskClient, url: str, token: str) -> int:
    """How many SQL statements serving `url` (a 200) ran."""
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.get(url, headers=bearer(token))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 200, response.get_json()
    return len(statements)


def test_progress_reads_one_page_of_members_in_fixed_queries(
    app: Flask, client: FlaskClient, orgs: dict
) -> None:
    """The 500-person table: a page costs the same few queries whatever the members."""
    token = pat_for(app, "boss@home.fi", ["organisation:read"])
    url = "/api/v1/organisations/home/progress?per_page=5"
    _statements(app, client, url, token)  # the first use of a token records it
    few = _statements(app, client, url, token)
    with app.app_context():
        for n in range(120):
            db.session.add(
                User(
                    email=f"many{n}@home.fi",
                    name=f"Many {n:03d}",
                    password_hash="x",
                    organisation_id=orgs["home"],
                )
            )
        db.session.commit()
    response = client.get(url, headers=bearer(token))
    assert response.headers["X-Total-Count"] == "125"
    assert len(response.get_json()) == 5
    assert _statements(app, client, url, token) == few
