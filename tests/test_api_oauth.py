"""The token endpoint: OAuth 2.0 client credentials (RFC 6749 §4.4, errors §5.2)."""

from __future__ import annotations

import base64

import pytest
from flask import Flask
from flask.testing import FlaskClient

from campus.api import oauth
from campus.api import token_services
from campus.api.token_models import ApiAccessToken
from campus.api.token_models import ApiClient
from campus.api.token_models import ClientAuthFailure
from campus.clock import utcnow
from campus.extensions import db

TOKEN_URL = "/api/v1/oauth/token"


@pytest.fixture
def api(app: Flask) -> FlaskClient:
    return app.test_client()


def _client(app: Flask, organisation_id: int | None, scopes: list[str]) -> tuple[str, str]:
    with app.app_context():
        client, secret = token_services.create_client(
            "HR system", organisation_id, scopes, None, None, utcnow()
        )
        db.session.commit()
        return client.client_id, secret


def _basic(client_id: str, secret: str) -> dict[str, str]:
    pair = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


def _me(api: FlaskClient, token: str):  # type: ignore[no-untyped-def]
    """Any bearer-protected call: the organisation endpoint of HC (needs organisation:read)."""
    return api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})


def test_client_secret_basic_gets_an_access_token(app, api, make_org) -> None:
    client_id, secret = _client(app, make_org("Home"), ["organisation:read", "network:read"])

    response = api.post(
        TOKEN_URL, data={"grant_type": "client_credentials"}, headers=_basic(client_id, secret)
    )

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "organisation:read network:read"
    assert body["access_token"].startswith("cmp_at_")
    with app.app_context():
        assert db.session.execute(db.select(ApiClient)).scalar_one().last_used_at is not None


def test_client_secret_post_gets_an_access_token_with_fewer_scopes(app, api, make_org) -> None:
    client_id, secret = _client(app, make_org("Home"), ["organisation:read", "network:read"])

    response = api.post(
        TOKEN_URL,
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": secret,
            "scope": "network:read",
        },
    )

    assert response.status_code == 200
    assert response.json["scope"] == "network:read"
    with app.app_context():
        stored = db.session.execute(db.select(ApiAccessToken)).scalar_one()
        assert stored.scopes == ["network:read"]


def test_the_access_token_works_as_a_bearer_token(app, api, make_org) -> None:
    from campus.api.auth import principal_for

    org = make_org("Home")
    client_id, secret = _client(app, org, ["organisation:read"])
    token = api.post(
        TOKEN_URL, data={"grant_type": "client_credentials"}, headers=_basic(client_id, secret)
    ).json["access_token"]

    with app.app_context():
        principal = principal_for(token, utcnow())
    assert principal is not None
    assert principal.client_id == client_id and principal.organisation_id == org
    assert principal.can_read_organisation(org)
    # A client acts for an organisation, never as a person.
    response = _me(api, token)
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]


@pytest.mark.parametrize("scope", ["badges:write", "profile:read", "nonsense", "network:read"])
def test_a_scope_the_client_does_not_hold_is_invalid_scope(app, api, make_org, scope) -> None:
    client_id, secret = _client(app, make_org("Home"), ["organisation:read"])

    response = api.post(
        TOKEN_URL,
        data={"grant_type": "client_credentials", "scope": scope},
        headers=_basic(client_id, secret),
    )

    assert response.status_code == 400
    assert response.json["error"] == "invalid_scope"
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("how", ["basic", "post"])
def test_a_wrong_secret_is_401_invalid_client(app, api, make_org, how) -> None:
    client_id, _secret = _client(app, make_org("Home"), ["organisation:read"])
    wrong = token_services.new_secret("cmp_cs_")
    if how == "basic":
        response = api.post(
            TOKEN_URL, data={"grant_type": "client_credentials"}, headers=_basic(client_id, wrong)
        )
    else:
        response = api.post(
            TOKEN_URL,
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": wrong,
            },
        )

    assert response.status_code == 401
    assert response.json["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(ClientAuthFailure.id))).scalar() == 1
        assert db.session.execute(db.select(ApiAccessToken)).first() is None


@pytest.mark.parametrize(
    ("data", "headers", "status", "error"),
    [
        ({}, {}, 400, "invalid_request"),
        ({"grant_type": "password"}, {}, 400, "unsupported_grant_type"),
        ({"grant_type": "client_credentials"}, {}, 401, "invalid_client"),
        (
            {"grant_type": "client_credentials", "client_id": "cmp_ci_unknown"},
            {},
            401,
            "invalid_client",
        ),
        (
            {"grant_type": "client_credentials"},
            {"Authorization": "Basic not base64!"},
            401,
            "invalid_client",
        ),
        (
            {"grant_type": "client_credentials"},
            {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()},
            401,
            "invalid_client",
        ),
    ],
)
def test_malformed_requests_get_rfc6749_errors(api, data, headers, status, error) -> None:
    response = api.post(TOKEN_URL, data=data, headers=headers)

    assert response.status_code == status
    assert response.json["error"] == error
    assert response.json["error_description"]


def test_two_authentication_methods_at_once_are_refused(app, api, make_org) -> None:
    client_id, secret = _client(app, make_org("Home"), ["organisation:read"])

    response = api.post(
        TOKEN_URL,
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
        headers=_basic(client_id, secret),
    )

    assert response.status_code == 400
    assert response.json["error"] == "invalid_request"


def test_a_json_body_is_refused(app, api, make_org) -> None:
    client_id, secret = _client(app, make_org("Home"), ["organisation:read"])

    response = api.post(
        TOKEN_URL, json={"grant_type": "client_credentials"}, headers=_basic(client_id, secret)
    )

    assert response.status_code == 400
    assert response.json["error"] == "invalid_request"


def test_a_revoked_client_gets_no_token_and_its_tokens_stop(app, api, make_org) -> None:
    client_id, secret = _client(app, make_org("Home"), ["network:read"])
    token = api.post(
        TOKEN_URL, data={"grant_type": "client_credentials"}, headers=_basic(client_id, secret)
    ).json["access_token"]
    with app.app_context():
        token_services.revoke_client(token_services.find_client(client_id), utcnow())
        db.session.commit()

    response = api.post(
        TOKEN_URL, data={"grant_type": "client_credentials"}, headers=_basic(client_id, secret)
    )

    assert response.status_code == 401
    assert response.json["error"] == "invalid_client"
    network = api.get("/api/v1/network/groups", headers={"Authorization": f"Bearer {token}"})
    assert network.status_code == 401


def test_wrong_secrets_for_one_client_are_throttled(app, api, make_org) -> None:
    client_id, secret = _client(app, make_org("Home"), ["organisation:read"])
    wrong = _basic(client_id, "cmp_cs_wrong")
    form = {"grant_type": "client_credentials"}
    for _ in range(oauth.MAX_FAILURES_PER_CLIENT):
        assert api.post(TOKEN_URL, data=form, headers=wrong).status_code == 401

    throttled = api.post(TOKEN_URL, data=form, headers=wrong)

    assert throttled.status_code == 429
    assert int(throttled.headers["Retry-After"]) >= 1
    assert throttled.mimetype == "application/problem+json"
    # The right secret still works: a stranger cannot lock the institution's system out.
    assert api.post(TOKEN_URL, data=form, headers=_basic(client_id, secret)).status_code == 200


def test_failures_from_one_address_are_throttled(app, api, make_org) -> None:
    client_id, secret = _client(app, make_org("Home"), ["organisation:read"])
    form = {"grant_type": "client_credentials"}
    for number in range(oauth.MAX_FAILURES_PER_ADDRESS):
        other = _basic(f"cmp_ci_guess{number}", "cmp_cs_wrong")
        assert api.post(TOKEN_URL, data=form, headers=other).status_code == 401

    throttled = api.post(TOKEN_URL, data=form, headers=_basic(client_id, secret))

    assert throttled.status_code == 429
    assert int(throttled.headers["Retry-After"]) >= 1
    elsewhere = api.post(
        TOKEN_URL,
        data=form,
        headers=_basic(client_id, secret),
        environ_base={"REMOTE_ADDR": "192.0.2.7"},
    )
    assert elsewhere.status_code == 200


def test_the_token_endpoint_is_in_the_openapi_document(api) -> None:
    document = api.get("/api/v1/openapi.json").json

    operation = document["paths"][TOKEN_URL]["post"]
    body = operation["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert body["properties"]["grant_type"]["enum"] == ["client_credentials"]
    assert body["required"] == ["grant_type"]
    success = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert set(success["required"]) == {"access_token", "token_type", "expires_in", "scope"}
    assert operation["responses"]["401"]["content"]["application/json"]
    assert "Retry-After" in operation["responses"]["429"]["headers"]


def test_the_token_endpoint_needs_no_csrf_token(app, api, make_org) -> None:
    """Programs post here: the API blueprints are exempt from the pages' CSRF check."""
    client_id, secret = _client(app, make_org("Home"), ["organisation:read"])
    app.config["WTF_CSRF_ENABLED"] = True

    response = api.post(
        TOKEN_URL, data={"grant_type": "client_credentials"}, headers=_basic(client_id, secret)
    )

    assert response.status_code == 200
