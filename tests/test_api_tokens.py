"""Bearer tokens and `require(scope)`: personal access tokens, client tokens, the Principal."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from campus.api import token_services
from campus.api.auth import current_principal
from campus.api.auth import principal_for
from campus.api.auth import refuse_scope
from campus.api.auth import require
from campus.api.token_cli import api_cli
from campus.api.token_models import ApiAccessToken
from campus.api.token_models import ApiClient
from campus.api.token_models import PersonalAccessToken
from campus.auth.models import Role
from campus.auth.models import User
from campus.auth.services import set_roles
from campus.clock import aware
from campus.clock import utcnow
from campus.extensions import db

# These tests add routes of their own: each gets an app of its own (tests/conftest.py).
pytestmark = pytest.mark.fresh_app


def _whoami() -> dict[str, object]:
    principal = current_principal()
    assert principal is not None
    return {
        "user": principal.user.id if principal.user else None,
        "organisation": principal.organisation_id,
        "scopes": sorted(principal.scopes),
        "client": principal.client_id,
        "award": principal.can_award(),
    }


def _organisation(organisation_id: int) -> dict[str, object]:
    principal = current_principal()
    if principal is None or not principal.can_read_organisation(organisation_id):
        refuse_scope("organisation:read", "Not this organisation.")
    return {"organisation": organisation_id}


@pytest.fixture
def api_app(app: Flask) -> Flask:
    """The app with test-only routes guarded by `require` (before its first request)."""
    app.add_url_rule("/api/v1/_test/profile", "test_profile", require("profile:read")(_whoami))
    app.add_url_rule("/api/v1/_test/network", "test_network", require("network:read")(_whoami))
    app.add_url_rule(
        "/api/v1/_test/organisations/<int:organisation_id>",
        "test_organisation",
        require("organisation:read")(_organisation),
    )
    return app


@pytest.fixture
def api(api_app: Flask) -> FlaskClient:
    return api_app.test_client()


def _user(email: str) -> User:
    return db.session.execute(db.select(User).where(User.email == email)).scalar_one()


def _pat(app: Flask, email: str, scopes: list[str], days: int | None = None, at=None) -> str:
    with app.app_context():
        _token, secret = token_services.create_pat(
            _user(email), "script", scopes, days, at or utcnow()
        )
        db.session.commit()
        return secret


def _client_token(app: Flask, organisation_id: int | None, scopes: list[str]) -> str:
    with app.app_context():
        client, _secret = token_services.create_client(
            "HR", organisation_id, scopes, None, None, utcnow()
        )
        _access, secret = token_services.issue_access_token(client, None, utcnow())
        db.session.commit()
        return secret


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_pat_acts_as_its_user_with_its_scopes(api_app, api, make_user) -> None:
    user_id = make_user("learner@example.org")
    token = _pat(api_app, "learner@example.org", ["profile:read"])
    assert token.startswith("cmp_pat_")

    response = api.get("/api/v1/_test/profile", headers=_bearer(token))

    assert response.status_code == 200
    assert response.json["user"] == user_id
    assert response.json["scopes"] == ["profile:read"]
    assert response.json["client"] is None


def test_no_token_is_401_with_a_plain_bearer_challenge(api) -> None:
    response = api.get("/api/v1/_test/profile")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="campus"'
    assert response.mimetype == "application/problem+json"
    assert response.json["status"] == 401


@pytest.mark.parametrize(
    "header",
    ["Bearer cmp_pat_nonsense", "Bearer cmp_at_nonsense", "Bearer ", "Bearer x" * 100],
)
def test_a_token_that_does_not_work_is_401_invalid_token(api, header: str) -> None:
    response = api.get("/api/v1/_test/profile", headers={"Authorization": header})

    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert response.mimetype == "application/problem+json"


def test_the_session_cookie_is_never_used(api_app, client, auth, make_user) -> None:
    make_user("learner@example.org")
    auth.login("learner@example.org")

    assert client.get("/auth/account").status_code == 200  # logged in for the pages
    assert client.get("/api/v1/_test/profile").status_code == 401


def test_an_expired_pat_is_refused(api_app, api, make_user) -> None:
    make_user("learner@example.org")
    token = _pat(
        api_app, "learner@example.org", ["profile:read"], 30, utcnow() - timedelta(days=31)
    )

    response = api.get("/api/v1/_test/profile", headers=_bearer(token))

    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_a_revoked_pat_is_refused(api_app, api, make_user) -> None:
    make_user("learner@example.org")
    token = _pat(api_app, "learner@example.org", ["profile:read"])
    assert api.get("/api/v1/_test/profile", headers=_bearer(token)).status_code == 200
    with api_app.app_context():
        assert token_services.revoke_all_pats(_user("learner@example.org"), utcnow()) == 1
        db.session.commit()

    assert api.get("/api/v1/_test/profile", headers=_bearer(token)).status_code == 401


def test_a_deleted_users_pat_is_refused(api_app, api, make_user) -> None:
    make_user("learner@example.org")
    token = _pat(api_app, "learner@example.org", ["profile:read"])
    with api_app.app_context():
        _user("learner@example.org").deleted_at = utcnow()  # even if a token row were left
        db.session.commit()

    assert api.get("/api/v1/_test/profile", headers=_bearer(token)).status_code == 401


def test_deleting_the_account_erases_its_tokens(api_app, api, make_user) -> None:
    from campus.auth.deletion import delete_account

    user_id = make_user("learner@example.org")
    token = _pat(api_app, "learner@example.org", ["profile:read"])
    with api_app.app_context():
        delete_account(db.session.get(User, user_id), keep_badges=True, now=utcnow())
        db.session.commit()
        assert db.session.execute(db.select(PersonalAccessToken)).first() is None

    assert api.get("/api/v1/_test/profile", headers=_bearer(token)).status_code == 401


def test_the_data_download_lists_tokens_without_secrets(api_app, make_user) -> None:
    from campus.auth.data_export import personal_data

    make_user("learner@example.org")
    token = _pat(api_app, "learner@example.org", ["profile:read", "network:read"])
    with api_app.test_request_context():
        data = personal_data(_user("learner@example.org"))
    text = json.dumps(data, default=str)

    assert data["api_tokens"][0]["name"] == "script"
    assert data["api_tokens"][0]["scopes"] == ["profile:read", "network:read"]
    assert token not in text
    assert hashlib.sha256(token.encode()).hexdigest() not in text


def test_a_missing_scope_is_403_insufficient_scope(api_app, api, make_user) -> None:
    make_user("learner@example.org")
    token = _pat(api_app, "learner@example.org", ["network:read"])

    assert api.get("/api/v1/_test/network", headers=_bearer(token)).status_code == 200
    response = api.get("/api/v1/_test/profile", headers=_bearer(token))

    assert response.status_code == 403
    challenge = response.headers["WWW-Authenticate"]
    assert 'error="insufficient_scope"' in challenge and 'scope="profile:read"' in challenge
    assert response.mimetype == "application/problem+json"


def test_a_token_never_gives_more_than_the_roles(api_app, make_user) -> None:
    make_user("learner@example.org")
    with api_app.app_context():
        user = _user("learner@example.org")
        for scope in ("organisation:read", "badges:read", "badges:write"):
            with pytest.raises(token_services.TokenError):
                token_services.create_pat(user, "x", [scope], None, utcnow())
        with pytest.raises(token_services.TokenError):
            token_services.create_pat(user, "x", [], None, utcnow())
        with pytest.raises(token_services.TokenError):
            token_services.create_pat(user, "x", ["profile:read"], 7, utcnow())
        with pytest.raises(token_services.TokenError):
            token_services.create_pat(user, " ", ["profile:read"], None, utcnow())


def test_losing_a_role_takes_the_scope_from_existing_tokens(api_app, api, make_user, make_org):
    org = make_org("Home")
    make_user("boss@example.org", roles={Role.ORG_ADMIN}, organisation_id=org)
    token = _pat(api_app, "boss@example.org", ["organisation:read"])
    url = f"/api/v1/_test/organisations/{org}"
    assert api.get(url, headers=_bearer(token)).status_code == 200
    with api_app.app_context():
        set_roles(_user("boss@example.org"), set())
        db.session.commit()

    response = api.get(url, headers=_bearer(token))

    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]


def test_organisations_are_isolated(api_app, api, make_user, make_org) -> None:
    home, other = make_org("Home"), make_org("Other")
    make_user("boss@example.org", roles={Role.ORG_ADMIN}, organisation_id=home)
    make_user("admin@example.org", roles={Role.ADMIN}, organisation_id=other)
    boss = _pat(api_app, "boss@example.org", ["organisation:read"])
    admin = _pat(api_app, "admin@example.org", ["organisation:read"])
    home_client = _client_token(api_app, home, ["organisation:read"])
    campus_client = _client_token(api_app, None, ["organisation:read"])

    def status(token: str, org: int) -> int:
        return api.get(f"/api/v1/_test/organisations/{org}", headers=_bearer(token)).status_code

    assert (status(boss, home), status(boss, other)) == (200, 403)
    assert (status(home_client, home), status(home_client, other)) == (200, 403)
    assert (status(admin, home), status(admin, other)) == (200, 200)
    assert (status(campus_client, home), status(campus_client, other)) == (200, 200)


def test_client_tokens_act_for_their_organisation(api_app, api, make_org) -> None:
    org = make_org("Home")
    token = _client_token(api_app, org, ["network:read"])
    assert token.startswith("cmp_at_")

    response = api.get("/api/v1/_test/network", headers=_bearer(token))

    assert response.status_code == 200
    assert response.json["user"] is None
    assert response.json["organisation"] == org
    assert response.json["client"].startswith("cmp_ci_")
    assert response.json["award"] is False
    assert api.get("/api/v1/_test/profile", headers=_bearer(token)).status_code == 403


def test_who_may_award(api_app, api, make_user, make_org) -> None:
    org = make_org("Home")
    make_user("admin@example.org", roles={Role.ADMIN}, organisation_id=org)
    make_user("boss@example.org", roles={Role.ORG_ADMIN}, organisation_id=org)
    admin = _pat(api_app, "admin@example.org", ["network:read", "badges:write"])
    admin_read = _pat(api_app, "admin@example.org", ["network:read"])
    campus_client = _client_token(api_app, None, ["network:read", "badges:write"])

    def award(token: str) -> bool:
        return api.get("/api/v1/_test/network", headers=_bearer(token)).json["award"]

    assert award(admin) is True
    assert award(admin_read) is False
    assert award(campus_client) is True
    with api_app.app_context():
        with pytest.raises(token_services.TokenError):
            token_services.create_pat(
                _user("boss@example.org"), "x", ["badges:write"], None, utcnow()
            )
        for scopes in (["badges:write"], ["badges:read"], ["profile:read"]):
            with pytest.raises(token_services.TokenError):
                token_services.create_client("HR", org, scopes, None, None, utcnow())
        with pytest.raises(token_services.TokenError):
            token_services.create_client("HR", None, ["profile:read"], None, None, utcnow())


def test_revoked_clients_and_expired_access_tokens_are_refused(api_app, api, make_org) -> None:
    token = _client_token(api_app, make_org("Home"), ["network:read"])
    with api_app.app_context():
        assert principal_for(token, utcnow() + timedelta(minutes=59)) is not None
        assert principal_for(token, utcnow() + timedelta(minutes=61)) is None
        client = db.session.execute(db.select(ApiClient)).scalar_one()
        token_services.revoke_client(client, utcnow())
        db.session.commit()

    assert api.get("/api/v1/_test/network", headers=_bearer(token)).status_code == 401


def test_last_used_is_written_at_most_once_a_minute(api_app, make_user) -> None:
    make_user("learner@example.org")
    token = _pat(api_app, "learner@example.org", ["profile:read"])
    start = utcnow()
    with api_app.test_request_context():
        row = db.session.execute(db.select(PersonalAccessToken)).scalar_one()
        assert row.last_used_at is None
        principal_for(token, start)
        assert aware(row.last_used_at) == start
        principal_for(token, start + timedelta(seconds=30))
        assert aware(row.last_used_at) == start
        principal_for(token, start + timedelta(seconds=61))
        assert aware(row.last_used_at) == start + timedelta(seconds=61)


def test_secrets_are_hashed_at_rest(api_app, make_user, make_org) -> None:
    make_user("learner@example.org")
    pat = _pat(api_app, "learner@example.org", ["profile:read"])
    with api_app.app_context():
        client, client_secret = token_services.create_client(
            "HR", make_org("Home"), ["network:read"], None, None, utcnow()
        )
        _access, access_token = token_services.issue_access_token(client, None, utcnow())
        db.session.commit()
        stored = json.dumps(
            [
                [str(value) for value in row]
                for model in (PersonalAccessToken, ApiClient, ApiAccessToken)
                for row in db.session.execute(db.select(model.__table__)).all()
            ]
        )
        pat_row = db.session.execute(db.select(PersonalAccessToken)).scalar_one()
        assert pat_row.token_hash == hashlib.sha256(pat.encode()).hexdigest()
    assert client_secret.startswith("cmp_cs_")
    for secret in (pat, client_secret, access_token):
        assert secret not in stored
        assert secret.split("_", 2)[2] not in stored
        assert hashlib.sha256(secret.encode()).hexdigest() in stored


def test_cli_manages_clients_and_revokes_a_persons_tokens(api_app, make_user, make_org) -> None:
    make_org("Home", slug="home")
    make_user("learner@example.org")
    token = _pat(api_app, "learner@example.org", ["profile:read"])
    runner = api_app.test_cli_runner()

    added = runner.invoke(
        api_cli, ["clients", "add", "HR", "--organisation", "home", "--scope", "organisation:read"]
    )
    assert added.exit_code == 0, added.output
    assert "cmp_cs_" in added.output
    client_id = added.output.split("client_id:")[1].split()[0]
    refused = runner.invoke(
        api_cli, ["clients", "add", "X", "--organisation", "home", "--scope", "badges:write"]
    )
    assert refused.exit_code != 0
    listed = runner.invoke(api_cli, ["clients", "list"])
    assert client_id in listed.output and "home" in listed.output and "active" in listed.output
    assert runner.invoke(api_cli, ["clients", "revoke", client_id]).exit_code == 0
    assert "revoked" in runner.invoke(api_cli, ["clients", "list"]).output

    revoked = runner.invoke(api_cli, ["tokens", "revoke-all", "Learner@Example.org"])
    assert revoked.exit_code == 0, revoked.output
    assert "Revoked 1 token" in revoked.output
    with api_app.app_context():
        assert principal_for(token, utcnow()) is None


def test_principal_is_cached_per_request(api_app, make_user) -> None:
    make_user("learner@example.org")
    token = _pat(api_app, "learner@example.org", ["profile:read"])
    with api_app.test_request_context(headers=_bearer(token)):
        first = current_principal()
        assert first is not None and first is current_principal()
        assert first.token_id.startswith("pat:")
