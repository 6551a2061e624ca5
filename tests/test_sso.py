"""Single sign-on against a certified OpenID Provider (oidc-provider, see tests/oidc_support.py):
provisioning, the same account at the next login, linking, SSO-only organisations, logout."""

from __future__ import annotations

import re
from collections.abc import Callable
from email import message_from_bytes
from email.policy import default
from html import unescape
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urljoin

import pytest
from flask import Flask
from flask.testing import FlaskClient

from campus.auth.models import LoginSession
from campus.auth.models import Organisation
from campus.auth.models import Role
from campus.auth.models import User
from campus.auth.services import set_roles
from campus.auth.sso.models import OidcIdentity
from campus.auth.sso.models import OidcLoginSession
from campus.auth.sso.models import OidcProvider
from campus.auth.sso.services import Profile
from campus.auth.sso.services import sync_roles
from campus.extensions import db
from tests.conftest import BASE_URL
from tests.conftest import PASSWORD
from tests.oidc_support import OidcPeer
from tests.oidc_support import add_provider
from tests.oidc_support import back_to_campus
from tests.oidc_support import enable_sso
from tests.oidc_support import oidc_peer_fixture  # noqa: F401 (fixture)
from tests.oidc_support import query_of
from tests.oidc_support import sso_login
from tests.oidc_support import start_login


@pytest.fixture
def sso(app: Flask, make_org: Callable[..., int], oidc_peer: OidcPeer, tmp_path: Path):
    enable_sso(app)
    app.config["MAIL_DIR"] = str(tmp_path / "mail")
    org_id = make_org("North College", "north")
    provider_id = add_provider(
        app, org_id, oidc_peer.issuer, roles_claim="roles", role_map={"teacher": "tutor_teacher"}
    )
    return SimpleNamespace(app=app, org_id=org_id, peer=oidc_peer, provider_id=provider_id)


def _user(app: Flask, email: str) -> User | None:
    with app.app_context():
        user = db.session.execute(db.select(User).where(User.email == email)).scalar_one_or_none()
        if user is not None:
            _ = user.roles, user.organisation.slug  # loaded before the context ends
        return user


def _count(app: Flask, model: type) -> int:
    with app.app_context():
        return db.session.execute(db.select(db.func.count()).select_from(model)).scalar_one()


def _logged_in(client: FlaskClient) -> bool:
    return client.get("/auth/account").status_code == 200


def test_first_login_makes_an_account_for_the_identity(sso, client: FlaskClient) -> None:
    authorization = start_login(client)
    query = query_of(authorization)
    assert authorization.startswith(f"{sso.peer.issuer}/auth?")
    assert query["response_type"] == "code" and query["client_id"] == "campus"
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert query["redirect_uri"] == f"{BASE_URL}/auth/sso/oidc/callback"
    assert len(query["state"]) >= 32 and len(query["nonce"]) >= 32
    assert "code_verifier" not in authorization

    answer = back_to_campus(client, sso.peer.authorize(sso.peer.browser(), authorization, "alice"))
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/dashboard")
    assert _logged_in(client)
    user = _user(sso.app, "alice@example.org")
    assert user is not None and user.name == "Alice Opettaja"
    assert user.email_verified and user.organisation.slug == "north"
    assert user.password_hash == "!sso"  # no password logs in to it
    assert Role.TUTOR_TEACHER in user.roles  # the provider's "teacher", through the role map
    with sso.app.app_context():
        identity = db.session.execute(db.select(OidcIdentity)).scalar_one()
        assert (identity.issuer, identity.subject, identity.user_id) == (
            sso.peer.issuer,
            "alice",
            user.id,
        )
    stranger = sso.app.test_client()
    tried = stranger.post("/auth/login", data={"email": user.email, "password": "!sso"})
    assert tried.status_code == 401


def test_the_next_login_finds_the_same_account_by_subject_not_by_address(
    sso, app: Flask, client: FlaskClient
) -> None:
    assert sso_login(client, sso.peer, "alice").status_code == 302
    first = _user(app, "alice@example.org")
    with app.app_context():  # the address changed on the campus since: the identity still finds it
        db.session.get(User, first.id).email = "alice.old@example.org"
        db.session.commit()
    other_browser = app.test_client()
    assert sso_login(other_browser, sso.peer, "alice").status_code == 302
    assert _logged_in(other_browser)
    again = _user(app, "alice@example.org")  # the provider's address is taken back (it is free)
    assert again is not None and again.id == first.id
    assert _count(app, User) == 1 and _count(app, OidcIdentity) == 1


def test_an_address_the_provider_does_not_vouch_for_stays_unconfirmed(
    sso, client: FlaskClient
) -> None:
    assert sso_login(client, sso.peer, "bob").status_code == 302
    bob = _user(sso.app, "bob@example.org")
    assert bob is not None and not bob.email_verified and Role.TUTOR_TEACHER not in bob.roles


def test_an_existing_address_is_linked_only_with_its_password(
    sso, app: Flask, client: FlaskClient, make_user, make_org
) -> None:
    dave_id = make_user("dave@example.org", organisation_id=make_org("South", "south"))
    answer = sso_login(client, sso.peer, "dave")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/auth/sso/link")
    assert not _logged_in(client)  # never joined by the matching address alone
    assert _count(app, OidcIdentity) == 0
    page = client.get("/auth/sso/link")
    assert page.status_code == 200 and "dave@example.org" in page.get_data(as_text=True)
    assert client.post("/auth/sso/link", data={"password": "wrong password"}).status_code == 401
    assert not _logged_in(client)
    linked = client.post("/auth/sso/link", data={"password": PASSWORD})
    assert linked.status_code == 302 and linked.headers["Location"].endswith("/dashboard")
    assert _logged_in(client)
    with app.app_context():
        identity = db.session.execute(db.select(OidcIdentity)).scalar_one()
        assert identity.user_id == dave_id and identity.subject == "dave"
    assert _count(app, User) == 1
    # From now on the provider logs in to the linked account directly.
    later = app.test_client()
    assert sso_login(later, sso.peer, "dave").headers["Location"].endswith("/dashboard")


def _mailed_link(mail_dir: Path) -> str:
    files = sorted(mail_dir.glob("*.eml"))
    assert files, "no mail was written"
    message = message_from_bytes(files[-1].read_bytes(), policy=default)
    text = message.get_body(("plain",)).get_content()
    return re.search(r"https?://\S+/auth/sso/link/confirm/\S+", text)[0]


def test_an_existing_address_is_linked_with_a_mailed_link_in_the_same_browser(
    sso, app: Flask, client: FlaskClient, make_user, tmp_path: Path
) -> None:
    dave_id = make_user("dave@example.org")
    assert sso_login(client, sso.peer, "dave").headers["Location"].endswith("/auth/sso/link")
    sent = client.post("/auth/sso/link/mail")
    assert sent.status_code == 200 and "dave@example.org" in sent.get_data(as_text=True)
    link = _mailed_link(tmp_path / "mail")
    path = link[len(BASE_URL) :]
    elsewhere = app.test_client()  # whoever else opens the mail cannot link anything
    assert elsewhere.get(path).status_code == 403
    token = path.rsplit("/", 1)[1]
    assert elsewhere.post("/auth/sso/link/confirm", data={"token": token}).status_code == 403
    assert _count(app, OidcIdentity) == 0
    page = client.get(path)
    assert page.status_code == 200
    done = client.post("/auth/sso/link/confirm", data={"token": token})
    assert done.status_code == 302 and _logged_in(client)
    with app.app_context():
        assert db.session.execute(db.select(OidcIdentity.user_id)).scalar_one() == dave_id


def test_sso_only_organisation_has_no_password_logins(
    sso, app: Flask, client: FlaskClient, make_user
) -> None:
    with app.app_context():
        organisation = db.session.get(Organisation, sso.org_id)
        organisation.sso_only = True
        db.session.commit()
    with app.app_context():
        db.session.get(OidcProvider, sso.provider_id).allowed_domains = ["example.org"]
        db.session.commit()
    make_user("dave@example.org", organisation_id=sso.org_id)
    refused = client.post("/auth/login", data={"email": "dave@example.org", "password": PASSWORD})
    assert refused.status_code == 401 and not _logged_in(client)
    page = unescape(refused.get_data(as_text=True))
    assert "Addresses at example.org log in with Test IdP oidc" in page
    assert "Log in with Test IdP oidc" in page  # the button is on the login page
    # Linking that member's account cannot take the password either: the mailed link only.
    assert sso_login(client, sso.peer, "dave").headers["Location"].endswith("/auth/sso/link")
    link_page = client.get("/auth/sso/link").get_data(as_text=True)
    assert 'type="password"' not in link_page
    assert client.post("/auth/sso/link", data={"password": PASSWORD}).status_code == 400
    # New members come in through the provider.
    other = app.test_client()
    assert sso_login(other, sso.peer, "alice").status_code == 302 and _logged_in(other)


def test_logout_ends_the_campus_session_and_the_providers(
    sso, app: Flask, client: FlaskClient
) -> None:
    browser = sso.peer.browser()
    assert sso_login(client, sso.peer, "alice", browser=browser).status_code == 302
    with app.app_context():
        kept = db.session.execute(db.select(OidcLoginSession)).scalar_one()
        id_token = kept.id_token
    answer = client.post("/auth/sso/logout")
    assert answer.status_code == 200  # a page goes on (form-action would block a redirect)
    page = answer.get_data(as_text=True)
    target = unescape(re.search(r'href="([^"]+)" id="provider-logout"', page)[1])
    assert unescape(re.search(r'http-equiv="refresh" content="0; url=([^"]+)"', page)[1]) == target
    assert target.startswith(f"{sso.peer.issuer}/session/end?")
    query = query_of(target)
    assert query["id_token_hint"] == id_token and query["client_id"] == "campus"
    assert query["post_logout_redirect_uri"] == f"{BASE_URL}/auth/sso/logged-out"
    assert not _logged_in(client)  # the campus session ended before the provider's page
    assert _count(app, LoginSession) == 0 and _count(app, OidcLoginSession) == 0

    confirm = browser.get(target, allow_redirects=False)
    assert confirm.status_code == 200
    action = unescape(re.search(r'<form[^>]*action="([^"]+)"', confirm.text)[1])
    fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', confirm.text))
    ended = browser.post(
        urljoin(target, action), data={**fields, "logout": "yes"}, allow_redirects=False
    )
    assert ended.status_code in (302, 303)
    back = ended.headers["Location"]
    assert back.startswith(f"{BASE_URL}/auth/sso/logged-out")
    assert back_to_campus(client, back).status_code == 302
    # The provider forgot the login too: the next request asks who is there again.
    again = browser.get(start_login(client), allow_redirects=False)
    assert "/interaction/" in again.headers["Location"]


def test_a_password_login_logs_out_on_the_campus_only(
    sso, client: FlaskClient, auth, make_user
) -> None:
    make_user("learner@example.org")
    auth.login("learner@example.org")
    answer = client.post("/auth/sso/logout")
    assert answer.status_code == 302 and answer.headers["Location"] == "/"
    assert not _logged_in(client)


def test_unknown_key_ids_refetch_the_key_set(sso, client: FlaskClient) -> None:
    """A provider that rotated its keys: the cached set lacks the kid, so it is fetched again."""
    import time

    from campus.auth.sso import client as sso_client

    document = sso_client._metadata_cache  # filled by the first login below
    assert sso_login(client, sso.peer, "alice").status_code == 302
    jwks_uri = next(iter(document.values()))[1]["jwks_uri"]
    sso_client._jwks_cache[jwks_uri] = (time.monotonic() - 60, {"keys": []})  # stale rotation
    other = sso.app.test_client()
    assert sso_login(other, sso.peer, "alice").status_code == 302
    assert sso_client._jwks_cache[jwks_uri][1]["keys"]


def test_claims_map_organisation_and_roles(sso, app: Flask, client: FlaskClient, make_org) -> None:
    """erin: school "north", roles principal and teacher (tests/oidc/provider.mjs)."""
    mapped_org = make_org("North Primary", "north-primary")
    with app.app_context():
        provider = db.session.get(OidcProvider, sso.provider_id)
        provider.organisation_claim = "school"
        provider.organisation_map = {"north": "north-primary"}
        provider.role_map = {"teacher": "tutor_teacher", "principal": "org_admin"}
        db.session.commit()
    assert sso_login(client, sso.peer, "erin").status_code == 302
    erin = _user(app, "erin@example.org")
    assert erin.organisation_id == mapped_org
    assert {Role.TUTOR_TEACHER, Role.ORG_ADMIN} <= erin.roles and Role.ADMIN not in erin.roles


def test_role_sync_keeps_campus_roles_and_never_gives_admin(app: Flask, app_ctx, make_org) -> None:

    user = User(email="t@example.org", name="T", password_hash="!sso", organisation_id=make_org())
    db.session.add(user)
    db.session.flush()
    set_roles(user, {Role.REVIEWER, Role.ORG_ADMIN})
    provider = OidcProvider(
        roles_claim="urn:mpass.id:role",
        role_map={"Opettaja": "tutor_teacher", "Rehtori": "org_admin", "Boss": "admin"},
    )
    values = ("1.2.246.562.10.12345678907;99900;7B;Opettaja", "Boss")
    sync_roles(user, provider, Profile("iss", "sub", None, False, "T", (), values))
    # Given by the claim's last field; org_admin (managed, not claimed) goes; reviewer (the
    # campus's own) stays; admin is never given by a provider.
    assert user.roles == {Role.LEARNER, Role.TUTOR_TEACHER, Role.REVIEWER}


def test_next_page_is_kept_and_never_leaves_the_campus(sso, client: FlaskClient) -> None:
    browser = sso.peer.browser()
    url = start_login(client, next_url="/auth/account")
    answer = back_to_campus(client, sso.peer.authorize(browser, url, "alice"))
    assert answer.headers["Location"] == "/auth/account"
    other = sso.app.test_client()
    url = start_login(other, next_url="https://evil.test/")
    answer = back_to_campus(other, sso.peer.authorize(browser, url, "alice"))
    assert answer.headers["Location"] == "/dashboard"
