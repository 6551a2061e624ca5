"""Badge classes (public), a badge's awards, awarding and revoking (campus admins)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from campus.auth.models import Role
from campus.auth.models import User
from campus.badges.claim_models import BadgeClaim
from campus.badges.models import Assertion
from campus.extensions import db
from tests.api_support import bearer
from tests.api_support import client_token
from tests.api_support import pat_for
from tests.conftest import BASE_URL


@pytest.fixture
def admin(app: Flask, make_user: Callable[..., int]) -> str:
    make_user("admin@campus.fi", roles={Role.ADMIN})
    make_user("learner@example.org")
    return pat_for(app, "admin@campus.fi", ["badges:read", "badges:write"])


def test_badge_classes_are_public(client: FlaskClient) -> None:
    response = client.get("/api/v1/badges")
    assert response.status_code == 200
    assert response.headers["X-Total-Count"] == "3"
    slugs = [b["slug"] for b in response.get_json()]
    assert slugs == ["basics", "both", "reviewed"]
    basics = client.get("/api/v1/badges/basics").get_json()
    assert basics["path"] == "basics"
    assert basics["alignment"][0]["framework"] == "DigCompEdu"
    assert basics["links"]["ob2"] == f"{BASE_URL}/ob/badges/basics"
    assert basics["links"]["ob3"] == f"{BASE_URL}/ob/v3/achievements/basics"
    etag = client.get("/api/v1/badges/basics").headers["ETag"]
    assert client.get("/api/v1/badges/basics", headers={"If-None-Match": etag}).status_code == 304
    missing = client.get("/api/v1/badges/nope")
    assert missing.status_code == 404
    assert missing.mimetype == "application/problem+json"


def test_award_list_and_revoke(app: Flask, client: FlaskClient, admin: str) -> None:
    url = "/api/v1/badges/basics/awards"
    created = client.post(
        url,
        json={"email": "Learner@Example.org", "narrative": "Ran a workshop."},
        headers=bearer(admin),
    )
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["status"] == "valid"
    assert body["recipient"]["email"] == "learner@example.org"
    assert created.headers["Location"].endswith(f"/api/v1/assertions/{body['uuid']}")
    again = client.post(url, json={"email": "learner@example.org"}, headers=bearer(admin))
    assert again.status_code == 200
    assert again.get_json()["uuid"] == body["uuid"]
    with app.app_context():
        stored = db.session.execute(db.select(Assertion)).scalars().all()
        assert len(stored) == 1
        assert stored[0].evidence == [{"narrative": "Ran a workshop."}]
    listed = client.get("/api/v1/badges/basics/assertions", headers=bearer(admin))
    assert listed.status_code == 200
    assert [a["uuid"] for a in listed.get_json()] == [body["uuid"]]
    revoke_url = f"/api/v1/assertions/{body['uuid']}/revoke"
    assert client.post(revoke_url, json={"reason": ""}, headers=bearer(admin)).status_code == 422
    revoked = client.post(revoke_url, json={"reason": "Awarded by mistake."}, headers=bearer(admin))
    assert revoked.status_code == 200
    assert revoked.get_json()["status"] == "revoked"
    twice = client.post(revoke_url, json={"reason": "Other reason."}, headers=bearer(admin))
    assert twice.get_json()["revocation_reason"] == "Awarded by mistake."
    revocations = client.get("/ob/issuers/campus/revocations").get_json()
    assert body["uuid"] in str(revocations)
    unknown = client.post(
        "/api/v1/assertions/00000000-0000-0000-0000-000000000000/revoke",
        json={"reason": "x"},
        headers=bearer(admin),
    )
    assert unknown.status_code == 404


def test_an_unknown_address_gets_a_claim(app: Flask, client: FlaskClient, admin: str) -> None:
    response = client.post(
        "/api/v1/badges/reviewed/awards", json={"email": "new@example.org"}, headers=bearer(admin)
    )
    assert response.status_code == 202
    assert response.get_json()["status"] == "held"
    with app.app_context():
        claim = db.session.execute(db.select(BadgeClaim)).scalar_one()
        assert claim.email == "new@example.org" and claim.is_open
        assert db.session.execute(db.select(Assertion)).first() is None
    with app.app_context():  # an account whose address is not confirmed yet: held too
        learner = db.session.execute(
            db.select(User).where(User.email == "learner@example.org")
        ).scalar_one()
        learner.email_verified_at = None
        db.session.commit()
    held = client.post(
        "/api/v1/badges/reviewed/awards",
        json={"email": "learner@example.org"},
        headers=bearer(admin),
    )
    assert held.status_code == 202
    assert held.get_json()["email"] == "learner@example.org"
    bad = client.post(
        "/api/v1/badges/reviewed/awards", json={"email": "not-an-address"}, headers=bearer(admin)
    )
    assert bad.status_code == 422
    assert bad.mimetype == "application/problem+json"


def test_only_campus_admins_award(
    app: Flask, client: FlaskClient, admin: str, make_org: Callable[..., int], make_user
) -> None:
    url = "/api/v1/badges/basics/awards"
    payload = {"email": "learner@example.org"}
    assert client.post(url, json=payload).status_code == 401
    read_only = pat_for(app, "admin@campus.fi", ["badges:read"])
    assert client.post(url, json=payload, headers=bearer(read_only)).status_code == 403
    make_user("boss@example.org", roles={Role.ORG_ADMIN})
    with pytest.raises(ValueError):
        pat_for(app, "boss@example.org", ["badges:write"])
    org_client = client_token(app, make_org("Elsewhere"), ["organisation:read"])
    assert client.post(url, json=payload, headers=bearer(org_client)).status_code == 403
    assert (
        client.get("/api/v1/badges/basics/assertions", headers=bearer(org_client)).status_code
        == 403
    )
    campus_client = client_token(app, None, ["badges:write"])
    response = client.post(url, json=payload, headers=bearer(campus_client))
    assert response.status_code == 201
    with app.app_context():
        claim_or_assertion = db.session.execute(db.select(Assertion)).scalar_one()
        assert claim_or_assertion.source == "bulk"
