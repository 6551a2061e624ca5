"""Admin pages and `flask sso providers` for OpenID Providers, and the SSO-only switch."""

from __future__ import annotations

from collections.abc import Callable
from html import unescape

import pytest
from flask import Flask
from flask.testing import FlaskClient

from campus.auth.models import Organisation
from campus.auth.models import Role
from campus.auth.sso.client import address_problem
from campus.auth.sso.models import OidcProvider
from campus.extensions import db
from tests.conftest import BASE_URL
from tests.oidc_support import CAMPUS_CLIENT
from tests.oidc_support import OidcPeer
from tests.oidc_support import enable_sso
from tests.oidc_support import oidc_peer_fixture  # noqa: F401 (fixture)
from tests.oidc_support import sso_login

SECRET = "s3cret-that-must-never-show"


@pytest.fixture
def admin(app: Flask, client: FlaskClient, make_user, make_org, auth):  # type: ignore[no-untyped-def]
    enable_sso(app)
    north = make_org("North College", "north")
    make_user("admin@campus.test", roles={Role.ADMIN}, organisation_id=make_org("Campus", "hq"))
    auth.login("admin@campus.test")
    return north


def _form(issuer: str, organisation_id: int, /, **changes: str) -> dict[str, str]:
    data = {
        "name": "North IdP",
        "slug": "north",
        "issuer": issuer,
        "discovery_url": "",
        "client_id": "campus",
        "client_secret": SECRET,
        "scopes": "openid email profile campus",
        "organisation": str(organisation_id),
        "name_claim": "name",
        "email_claim": "email",
        "organisation_claim": "school",
        "organisation_map": "north = north",
        "roles_claim": "roles",
        "role_map": "teacher = tutor_teacher\nprincipal = org_admin",
        "allowed_domains": "example.org\n@Example.com",
        "trust_email_verified": "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value != ""}


def _provider(app: Flask) -> OidcProvider:
    with app.app_context():
        return db.session.execute(db.select(OidcProvider)).scalar_one()


def test_only_admins_see_the_provider_pages(
    app: Flask, client: FlaskClient, make_user, auth
) -> None:
    enable_sso(app)
    assert client.get("/manage/sso/providers").status_code == 302  # to the login page
    make_user("boss@example.org", roles={Role.ORG_ADMIN})
    auth.login("boss@example.org")
    assert client.get("/manage/sso/providers").status_code == 403
    assert client.post("/manage/sso/providers", data={"name": "x"}).status_code == 403


def test_an_admin_adds_and_edits_a_provider_without_ever_seeing_its_secret(
    app: Flask,
    client: FlaskClient,
    admin: int,
    oidc_peer: OidcPeer,
) -> None:
    created = client.post("/manage/sso/providers", data=_form(oidc_peer.issuer, admin))
    assert created.status_code == 302
    provider = _provider(app)
    assert provider.client_secret == SECRET and provider.is_enabled
    assert provider.role_map == {"teacher": "tutor_teacher", "principal": "org_admin"}
    assert provider.organisation_map == {"north": "north"}
    assert provider.allowed_domains == ["example.com", "example.org"]
    page = client.get(created.headers["Location"])
    text = unescape(page.get_data(as_text=True))
    assert page.status_code == 200 and SECRET not in text
    assert f"{BASE_URL}/auth/sso/north/callback" in text
    assert f"{BASE_URL}/auth/sso/logged-out" in text
    assert "could not be used" not in text  # discovery worked
    listing = client.get("/manage/sso/providers").get_data(as_text=True)
    assert "North IdP" in listing and SECRET not in listing

    edit = f"/manage/sso/providers/{provider.id}"
    kept = client.post(edit, data=_form(oidc_peer.issuer, admin, client_secret="", name="N"))
    assert kept.status_code == 302
    assert _provider(app).client_secret == SECRET and _provider(app).name == "N"
    client.post(edit, data=_form(oidc_peer.issuer, admin, client_secret="new-secret"))
    assert _provider(app).client_secret == "new-secret"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"role_map": "boss = admin"}, "is not a role a provider may give"),
        ({"scopes": "email profile"}, "must include openid"),
        ({"organisation_map": "x = no-such-org"}, "There is no organisation no-such-org"),
        ({"organisation_map": "no equals sign"}, "is not “value = target”"),
        ({"slug": "link"}, "reserved"),
        ({"client_secret": ""}, "Give the client secret"),
        ({"issuer": "ftp://idp.example"}, "https"),
        ({"allowed_domains": "not a domain"}, "is not an e-mail domain"),
        ({"name_claim": "two words"}, "no spaces"),
    ],
)
def test_bad_provider_settings_are_a_clear_400(
    app: Flask, client: FlaskClient, admin: int, changes: dict[str, str], message: str
) -> None:
    answer = client.post(
        "/manage/sso/providers", data=_form("https://idp.example", admin, **changes)
    )
    assert answer.status_code == 400
    assert message in unescape(answer.get_data(as_text=True))
    with app.app_context():
        assert (
            db.session.execute(db.select(db.func.count()).select_from(OidcProvider)).scalar() == 0
        )


def test_an_unreachable_issuer_is_saved_with_a_warning(
    app: Flask, client: FlaskClient, admin: int
) -> None:
    answer = client.post(
        "/manage/sso/providers", data=_form("http://127.0.0.1:9", admin), follow_redirects=True
    )
    assert answer.status_code == 200
    assert "discovery document could not be used" in unescape(answer.get_data(as_text=True))


def test_http_issuers_only_on_loopback_outside_tests() -> None:
    assert address_problem("https://login.microsoftonline.com/tenant/v2.0", False) is None
    assert address_problem("http://127.0.0.1:8080", False) is None
    assert address_problem("http://localhost:8080", False) is None
    assert address_problem("http://idp.example", False) is not None
    assert address_problem("http://idp.example", True) is None  # TESTING
    assert address_problem("https://idp.example/?x=1", False) is not None


def test_a_disabled_provider_logs_nobody_in(
    app: Flask,
    client: FlaskClient,
    admin: int,
    oidc_peer: OidcPeer,
) -> None:
    client.post("/manage/sso/providers", data=_form(oidc_peer.issuer, admin))
    provider_id = _provider(app).id
    assert client.post(f"/manage/sso/providers/{provider_id}/toggle").status_code == 302
    assert not _provider(app).is_enabled
    visitor = app.test_client()
    visitor.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert visitor.get("/auth/sso/north/login").status_code == 404
    assert "Log in with North IdP" not in visitor.get("/auth/login").get_data(as_text=True)
    client.post(f"/manage/sso/providers/{provider_id}/toggle")
    assert visitor.get("/auth/sso/north/login").status_code == 302
    assert "Log in with North IdP" in visitor.get("/auth/login").get_data(as_text=True)


def _sso_only(app: Flask, organisation_id: int) -> bool:
    with app.app_context():
        return db.session.get(Organisation, organisation_id).sso_only


def test_the_sso_only_switch_never_locks_an_organisation_out(
    app: Flask,
    client: FlaskClient,
    admin: int,
    oidc_peer: OidcPeer,
    make_org: Callable[..., int],
) -> None:
    switch = f"/manage/sso/organisations/{admin}/sso-only"
    refused = client.post(switch)  # no provider serves North yet
    assert refused.status_code == 400 and not _sso_only(app, admin)
    assert "First add an enabled provider" in unescape(refused.get_data(as_text=True))
    client.post("/manage/sso/providers", data=_form(oidc_peer.issuer, admin))
    assert client.post(switch).status_code == 302 and _sso_only(app, admin)
    assert client.post(switch).status_code == 302 and not _sso_only(app, admin)
    # The admin's own organisation: not before the admin has logged in with its provider.
    with app.app_context():
        own = db.session.execute(
            db.select(Organisation.id).where(Organisation.slug == "hq")
        ).scalar_one()
        provider = db.session.execute(db.select(OidcProvider)).scalar_one()
        provider.organisation_id = own
        db.session.commit()
    assert client.post(f"/manage/sso/organisations/{own}/sso-only").status_code == 400
    assert not _sso_only(app, own)


def test_cli_adds_and_lists_providers_without_printing_the_secret(
    app: Flask,
    admin: int,
    oidc_peer: OidcPeer,
) -> None:
    runner = app.test_cli_runner()
    added = runner.invoke(
        args=[
            "sso", "providers", "add",
            "--slug", "oidc", "--name", "North IdP", "--issuer", oidc_peer.issuer,
            "--client-id", "campus", "--client-secret", CAMPUS_CLIENT[1], "--organisation", "north",
            "--allowed-domain", "example.org", "--roles-claim", "roles",
            "--role-map", "teacher=tutor_teacher",
        ]
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert f"{BASE_URL}/auth/sso/oidc/callback" in added.output
    assert "Warning" not in added.output and CAMPUS_CLIENT[1] not in added.output
    listed = runner.invoke(args=["sso", "providers", "list"])
    assert "oidc\tenabled" in listed.output and CAMPUS_CLIENT[1] not in listed.output
    assert runner.invoke(args=["sso", "providers", "disable", "oidc"]).exit_code == 0
    assert "oidc\tdisabled" in runner.invoke(args=["sso", "providers", "list"]).output
    twice = runner.invoke(
        args=["sso", "providers", "add", "--slug", "oidc", "--name", "x", "--issuer",
              oidc_peer.issuer, "--client-id", "c", "--client-secret", "s",
              "--organisation", "north"]
    )  # fmt: skip
    assert twice.exit_code != 0 and "Another provider has this short name" in twice.output
    # The provider made on the command line logs people in (and maps their role).
    assert runner.invoke(args=["sso", "providers", "enable", "oidc"]).exit_code == 0
    visitor = app.test_client()
    visitor.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert sso_login(visitor, oidc_peer, "alice", slug="oidc").status_code == 302
