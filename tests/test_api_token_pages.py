"""The account's API token pages and the admins' API client pages."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from campus.api.auth import principal_for
from campus.api.token_models import ApiClient
from campus.api.token_models import PersonalAccessToken
from campus.auth.models import Role
from campus.clock import aware
from campus.clock import utcnow
from campus.extensions import db
from tests.conftest import csrf_token_from

PAGE = "/account/api"
CLIENTS = "/account/api/clients"


def _secret(html: str, prefix: str) -> str:
    match = re.search(prefix + r"[A-Za-z0-9_\-]{43}", html)
    assert match, "no secret on the page"
    return match[0]


def _tokens(app) -> list[PersonalAccessToken]:  # type: ignore[no-untyped-def]
    with app.app_context():
        rows = db.session.execute(db.select(PersonalAccessToken)).scalars().all()
        db.session.expunge_all()
        return list(rows)


def test_the_page_needs_a_login(client) -> None:
    response = client.get(PAGE)

    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def test_scopes_offered_are_those_the_roles_allow(client, auth, make_user) -> None:
    make_user("learner@example.org")
    auth.login("learner@example.org")

    html = client.get(PAGE).get_data(as_text=True)

    assert "<h1>API tokens</h1>" in html
    assert 'value="profile:read"' in html and 'value="network:read"' in html
    assert 'value="organisation:read"' not in html and 'value="badges:write"' not in html
    assert "You have no API tokens." in html


def test_an_org_admin_is_offered_organisation_read(client, auth, make_user) -> None:
    make_user("boss@example.org", roles={Role.ORG_ADMIN})
    auth.login("boss@example.org")

    html = client.get(PAGE).get_data(as_text=True)

    assert 'value="organisation:read"' in html and 'value="badges:write"' not in html


def test_creating_shows_the_secret_once(app, client, auth, make_user) -> None:
    make_user("learner@example.org")
    auth.login("learner@example.org")

    response = client.post(
        PAGE, data={"name": "My script", "scopes": ["profile:read"], "expiry": "30"}
    )

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    secret = _secret(html, "cmp_pat_")
    assert "shown only this once" in html
    assert response.headers["Cache-Control"] == "no-store"
    (token,) = _tokens(app)
    assert token.name == "My script" and token.scopes == ["profile:read"]
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    expires = aware(token.expires_at) - aware(token.created_at)
    assert expires == timedelta(days=30)
    with app.app_context():
        assert principal_for(secret, utcnow()) is not None

    listing = client.get(PAGE).get_data(as_text=True)
    assert "My script" in listing
    assert secret not in listing
    assert "cmp_pat_" not in listing


def test_a_token_without_expiry(app, client, auth, make_user) -> None:
    make_user("learner@example.org")
    auth.login("learner@example.org")

    client.post(PAGE, data={"name": "Forever", "scopes": ["network:read"], "expiry": "never"})

    (token,) = _tokens(app)
    assert token.expires_at is None


def test_the_list_shows_when_a_token_was_last_used(app, client, auth, make_user) -> None:
    make_user("learner@example.org")
    auth.login("learner@example.org")
    html = client.post(
        PAGE, data={"name": "Used", "scopes": ["profile:read"], "expiry": "90"}
    ).get_data(as_text=True)
    assert "Never" in client.get(PAGE).get_data(as_text=True)
    with app.test_request_context():
        principal_for(_secret(html, "cmp_pat_"), utcnow())

    listing = client.get(PAGE).get_data(as_text=True)

    row = listing[listing.index("Used") :]
    row = row[: row.index("</tr>")]
    assert "Never" not in row


def test_a_scope_beyond_the_roles_is_refused(app, client, auth, make_user) -> None:
    make_user("learner@example.org")
    auth.login("learner@example.org")

    response = client.post(
        PAGE, data={"name": "Sneaky", "scopes": ["badges:write"], "expiry": "30"}
    )

    assert response.status_code == 400
    assert _tokens(app) == []


def test_a_token_needs_a_name_and_a_scope(app, client, auth, make_user) -> None:
    make_user("learner@example.org")
    auth.login("learner@example.org")

    no_scope = client.post(PAGE, data={"name": "Empty", "expiry": "30"})
    no_name = client.post(PAGE, data={"name": "", "scopes": ["profile:read"], "expiry": "30"})
    odd_expiry = client.post(PAGE, data={"name": "x", "scopes": ["profile:read"], "expiry": "7"})

    assert (no_scope.status_code, no_name.status_code, odd_expiry.status_code) == (400, 400, 400)
    assert "Choose at least one." in no_scope.get_data(as_text=True)
    assert _tokens(app) == []


def test_revoking_a_token(app, client, auth, make_user) -> None:
    make_user("learner@example.org")
    auth.login("learner@example.org")
    html = client.post(
        PAGE, data={"name": "Old", "scopes": ["profile:read"], "expiry": "30"}
    ).get_data(as_text=True)
    secret = _secret(html, "cmp_pat_")
    (token,) = _tokens(app)

    response = client.post(f"{PAGE}/{token.id}/revoke", follow_redirects=True)

    assert response.status_code == 200
    assert "The token Old was revoked." in response.get_data(as_text=True)
    assert "You have no API tokens." in response.get_data(as_text=True)
    with app.app_context():
        assert principal_for(secret, utcnow()) is None
    assert client.post(f"{PAGE}/{token.id}/revoke").status_code == 404


def test_other_peoples_tokens_are_not_visible_nor_revocable(app, client, auth, make_user) -> None:
    make_user("owner@example.org")
    make_user("other@example.org")
    auth.login("owner@example.org")
    client.post(PAGE, data={"name": "Owner's token", "scopes": ["profile:read"], "expiry": "30"})
    (token,) = _tokens(app)
    auth.logout()
    auth.login("other@example.org")

    assert "Owner&#39;s token" not in client.get(PAGE).get_data(as_text=True)
    assert client.post(f"{PAGE}/{token.id}/revoke").status_code == 404
    assert client.post(f"{PAGE}/999999/revoke").status_code == 404
    (still,) = _tokens(app)
    assert still.revoked_at is None


def test_forms_carry_a_csrf_token_and_need_it(app, client, auth, make_user) -> None:
    make_user("learner@example.org")
    auth.login("learner@example.org")
    client.post(PAGE, data={"name": "Kept", "scopes": ["profile:read"], "expiry": "30"})
    (token,) = _tokens(app)
    app.config["WTF_CSRF_ENABLED"] = True

    html = client.get(PAGE).get_data(as_text=True)

    assert csrf_token_from(html)
    assert html.count('name="csrf_token"') >= 3  # create form, revoke form, header forms
    assert client.post(f"{PAGE}/{token.id}/revoke").status_code == 400
    refused = client.post(PAGE, data={"name": "X", "scopes": ["profile:read"], "expiry": "30"})
    assert refused.status_code == 400
    assert len(_tokens(app)) == 1 and _tokens(app)[0].revoked_at is None
    accepted = client.post(f"{PAGE}/{token.id}/revoke", data={"csrf_token": csrf_token_from(html)})
    assert accepted.status_code == 302


# --- API clients (admins) ---------------------------------------------------------------------


def test_client_pages_are_for_admins_only(client, auth, make_user) -> None:
    make_user("boss@example.org", roles={Role.ORG_ADMIN})
    auth.login("boss@example.org")

    assert client.get(CLIENTS).status_code == 403
    assert client.post(CLIENTS, data={"name": "x"}).status_code == 403
    assert client.post(f"{CLIENTS}/1/revoke").status_code == 403


def test_an_admin_creates_an_organisation_client(app, client, auth, make_user, make_org) -> None:
    org = make_org("Home")
    make_user("admin@example.org", roles={Role.ADMIN})
    auth.login("admin@example.org")
    assert 'value="badges:write"' in client.get(CLIENTS).get_data(as_text=True)

    response = client.post(
        CLIENTS,
        data={"name": "HR", "organisation": str(org), "scopes": ["organisation:read"]},
    )

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    secret = _secret(html, "cmp_cs_")
    with app.app_context():
        stored = db.session.execute(db.select(ApiClient)).scalar_one()
        assert stored.organisation_id == org and stored.scopes == ["organisation:read"]
        assert stored.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert stored.expires_at is None
        client_id = stored.client_id
    assert client_id in html
    listing = client.get(CLIENTS).get_data(as_text=True)
    assert client_id in listing and secret not in listing and "Home" in listing


def test_an_organisation_client_cannot_award(app, client, auth, make_user, make_org) -> None:
    org = make_org("Home")
    make_user("admin@example.org", roles={Role.ADMIN})
    auth.login("admin@example.org")

    response = client.post(
        CLIENTS, data={"name": "LMS", "organisation": str(org), "scopes": ["badges:write"]}
    )

    assert response.status_code == 400
    assert "whole campus only" in response.get_data(as_text=True)
    campus = client.post(
        CLIENTS, data={"name": "Registry", "organisation": "0", "scopes": ["badges:write"]}
    )
    assert campus.status_code == 200
    with app.app_context():
        (stored,) = db.session.execute(db.select(ApiClient)).scalars()
        assert stored.organisation_id is None and stored.name == "Registry"


def test_an_admin_revokes_a_client(app, client, auth, make_user) -> None:
    make_user("admin@example.org", roles={Role.ADMIN})
    auth.login("admin@example.org")
    client.post(CLIENTS, data={"name": "Old", "organisation": "0", "scopes": ["network:read"]})
    with app.app_context():
        client_pk = db.session.execute(db.select(ApiClient.id)).scalar_one()

    response = client.post(f"{CLIENTS}/{client_pk}/revoke", follow_redirects=True)

    assert "The client Old was revoked." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(ApiClient, client_pk).revoked_at is not None
    assert client.post(f"{CLIENTS}/999999/revoke").status_code == 404
