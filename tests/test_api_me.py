"""GET /api/v1/me, /me/progress and /me/badges: the caller's own data, by personal token."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from campus.auth.models import User
from campus.badges.awarding import award
from campus.badges.issuers import IssuingContext
from campus.badges.issuers import get_badge
from campus.badges.models import AwardSource
from campus.badges.revocation import revoke
from campus.extensions import db
from campus.paths import services as paths
from campus.paths.models import CompletionSource
from tests.api_support import bearer
from tests.api_support import client_token
from tests.api_support import pat_for
from tests.conftest import BASE_URL
from tests.conftest import now

EMAIL = "learner@example.org"


def _user(email: str = EMAIL) -> User:
    return db.session.execute(db.select(User).where(User.email == email)).scalar_one()


def test_me_needs_a_token_with_profile_read(
    app: Flask, client: FlaskClient, make_user: Callable[..., int]
) -> None:
    make_user(EMAIL)
    missing = client.get("/api/v1/me")
    assert missing.status_code == 401
    assert missing.mimetype == "application/problem+json"
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/api/v1/me", headers=bearer("cmp_pat_nonsense")).status_code == 401
    network_only = pat_for(app, EMAIL, ["network:read"])
    assert client.get("/api/v1/me", headers=bearer(network_only)).status_code == 403
    token = pat_for(app, EMAIL, ["profile:read"])
    body = client.get("/api/v1/me", headers=bearer(token)).get_json()
    assert body["email"] == EMAIL
    assert body["roles"] == ["learner"]
    assert body["organisation"]["slug"] == "test-college"


def test_a_client_never_reads_a_person(
    app: Flask, client: FlaskClient, make_org: Callable[..., int]
) -> None:
    token = client_token(app, make_org(), ["organisation:read"])
    assert client.get("/api/v1/me/progress", headers=bearer(token)).status_code == 403


def test_progress_is_the_dashboards(
    app: Flask, client: FlaskClient, make_user: Callable[..., int]
) -> None:
    make_user(EMAIL)
    make_user("other@example.org")
    with app.app_context():
        user = _user()
        path = paths.get_path("basics")
        assert path is not None
        paths.enroll(user, path, now())
        welcome = paths.get_module(path, "welcome")
        assert welcome is not None
        paths.complete_module(user, welcome, CompletionSource.SELF, now())
        paths.enroll(_user("other@example.org"), path, now())
        db.session.commit()
    token = pat_for(app, EMAIL, ["profile:read"])
    response = client.get("/api/v1/me/progress", headers=bearer(token))
    assert response.status_code == 200
    assert response.headers["X-Total-Count"] == "1"
    assert 'rel="first"' in response.headers["Link"]
    (basics,) = response.get_json()
    assert basics["slug"] == "basics"
    assert basics["enrolled"] is True
    assert basics["completed_at"] is None
    states = {m["slug"]: m["state"] for m in basics["modules"]}
    assert states["welcome"] == "done"
    assert basics["next_module"] != "welcome"
    assert basics["required_done"] == 1
    assert 0 < basics["percent"] < 100


def test_badges_link_both_editions_and_show_revoked_ones(
    app: Flask, client: FlaskClient, make_user: Callable[..., int]
) -> None:
    make_user(EMAIL)
    make_user("other@example.org")
    with app.app_context():
        context = IssuingContext.from_config(app.config)
        mine = award(_user(), get_badge("basics"), context, now(), AwardSource.BULK).assertion  # type: ignore[arg-type]
        gone = award(_user(), get_badge("reviewed"), context, now(), AwardSource.BULK).assertion  # type: ignore[arg-type]
        award(_user("other@example.org"), get_badge("basics"), context, now(), AwardSource.BULK)  # type: ignore[arg-type]
        assert mine is not None and gone is not None
        revoke(gone, "Mistake.", now())
        db.session.commit()
        uuids = {mine.uuid: "valid", gone.uuid: "revoked"}
    token = pat_for(app, EMAIL, ["profile:read"])
    response = client.get("/api/v1/me/badges?per_page=2", headers=bearer(token))
    assert response.status_code == 200
    assert response.headers["X-Total-Count"] == "3"  # and the milestone "both" the two made
    assert 'rel="next"' in response.headers["Link"]
    listed = (
        response.get_json()
        + client.get("/api/v1/me/badges?page=2&per_page=2", headers=bearer(token)).get_json()
    )
    statuses = {b["uuid"]: b["status"] for b in listed}
    assert {uuid: statuses[uuid] for uuid in uuids} == uuids
    assert [b["badge"]["slug"] for b in listed if b["uuid"] not in uuids] == ["both"]
    basics = next(b for b in listed if b["badge"]["slug"] == "basics")
    assert basics["links"]["ob2"] == f"{BASE_URL}/ob/assertions/{basics['uuid']}"
    assert basics["links"]["ob3"] == f"{BASE_URL}/ob/v3/credentials/{basics['uuid']}"
    revoked = next(b for b in listed if b["status"] == "revoked")
    assert revoked["revocation_reason"] == "Mistake."


def test_bad_paging_is_a_422_problem(
    app: Flask, client: FlaskClient, make_user: Callable[..., int]
) -> None:
    make_user(EMAIL)
    token = pat_for(app, EMAIL, ["profile:read"])
    response = client.get("/api/v1/me/badges?per_page=0", headers=bearer(token))
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
