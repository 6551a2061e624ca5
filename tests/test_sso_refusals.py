"""What the campus refuses from an OpenID login: each answer is a 4xx, nobody is logged in and no
account or identity is made. The tokens refused are real ones the provider signed (for another
client, another nonce, or read after they expired), handed to the campus by `TokenProxy`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from types import SimpleNamespace
from urllib.parse import urlencode
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from campus.auth.models import User
from campus.auth.sso.models import OidcIdentity
from campus.auth.sso.models import OidcProvider
from campus.extensions import db
from tests.oidc_support import OTHER_CLIENT
from tests.oidc_support import OTHER_REDIRECT
from tests.oidc_support import SHORT_CLIENT
from tests.oidc_support import OidcPeer
from tests.oidc_support import TokenProxy
from tests.oidc_support import add_provider
from tests.oidc_support import back_to_campus
from tests.oidc_support import enable_sso
from tests.oidc_support import oidc_peer_fixture  # noqa: F401 (fixture)
from tests.oidc_support import query_of
from tests.oidc_support import sso_login
from tests.oidc_support import start_login
from tests.oidc_support import token_proxy_fixture  # noqa: F401 (fixture)


@pytest.fixture
def sso(app: Flask, make_org: Callable[..., int], oidc_peer: OidcPeer):
    enable_sso(app)
    org_id = make_org("North College", "north")
    add_provider(app, org_id, oidc_peer.issuer)
    return SimpleNamespace(app=app, org_id=org_id, peer=oidc_peer)


def _nothing_made(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        assert db.session.execute(db.select(db.func.count()).select_from(User)).scalar_one() == 0
        identities = db.session.execute(db.select(db.func.count()).select_from(OidcIdentity))
        assert identities.scalar_one() == 0
    assert client.get("/auth/account").status_code == 302  # to the login page


def _refused(answer, status: int) -> None:  # type: ignore[no-untyped-def]
    assert answer.status_code == status, answer.get_data(as_text=True)[:300]
    assert "<h1>" in answer.get_data(as_text=True)  # a page that says what happened


def _with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {**query_of(url), **changes}
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_a_wrong_state_is_refused(sso, client: FlaskClient) -> None:
    authorization = start_login(client)
    back = sso.peer.authorize(sso.peer.browser(), authorization, "alice")
    _refused(back_to_campus(client, _with_query(back, state="forged-state-value")), 400)
    _nothing_made(sso.app, client)
    # The right state from another browser (a login CSRF) is refused as well.
    _refused(back_to_campus(sso.app.test_client(), back), 400)
    _nothing_made(sso.app, client)


def test_a_replayed_code_is_refused(sso, client: FlaskClient) -> None:
    back = sso.peer.authorize(sso.peer.browser(), start_login(client), "alice")
    assert back_to_campus(client, back).status_code == 302  # the code's one use: alice logs in
    assert client.post("/auth/sso/logout").status_code == 200  # on to the provider's logout
    with sso.app.app_context():
        users = db.session.execute(db.select(db.func.count()).select_from(User)).scalar_one()
    # Replayed as it was (its state is used up) …
    _refused(back_to_campus(client, back), 400)
    # … or with the state of a new login in this browser: the provider refuses the used code.
    fresh_state = query_of(start_login(client))["state"]
    _refused(back_to_campus(client, _with_query(back, state=fresh_state)), 400)
    assert client.get("/auth/account").status_code == 302
    with sso.app.app_context():
        assert (
            db.session.execute(db.select(db.func.count()).select_from(User)).scalar_one() == users
        )


def _proxied(sso, proxy: TokenProxy, slug: str, client: tuple[str, str]) -> None:
    add_provider(
        sso.app,
        sso.org_id,
        sso.peer.issuer,
        slug=slug,
        client=client,
        discovery_url=f"{proxy.base}/.well-known/openid-configuration",
    )


def test_an_id_token_for_another_audience_is_refused(
    sso,
    client: FlaskClient,
    token_proxy: TokenProxy,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _proxied(sso, token_proxy, "oidc-proxy", ("campus", "campus-client-secret"))
    authorization = start_login(client, "oidc-proxy")
    nonce = query_of(authorization)["nonce"]
    # The same person logs in to another application with the campus's nonce: a real token,
    # signed by the provider, for the audience "other-app".
    browser = sso.peer.browser()
    code, verifier = sso.peer.code_for(browser, "alice", OTHER_CLIENT[0], OTHER_REDIRECT, nonce)
    foreign = sso.peer.tokens(OTHER_CLIENT, code, OTHER_REDIRECT, verifier)["id_token"]
    token_proxy.replacement = foreign
    back = sso.peer.authorize(browser, authorization, "alice")
    with caplog.at_level(logging.WARNING):
        _refused(back_to_campus(client, back), 401)
    assert "aud" in caplog.text
    assert token_proxy.seen and token_proxy.seen[-1]["id_token"] != foreign  # it was swapped
    _nothing_made(sso.app, client)


def test_a_wrong_nonce_is_refused(
    sso, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    """A code obtained with another nonce (injected into this browser's login) is refused."""
    authorization = start_login(client)
    tampered = _with_query(authorization, nonce="a-nonce-the-campus-never-sent")
    back = sso.peer.authorize(sso.peer.browser(), tampered, "alice")
    with caplog.at_level(logging.WARNING):
        _refused(back_to_campus(client, back), 401)
    assert "nonce" in caplog.text
    _nothing_made(sso.app, client)


def test_an_expired_id_token_is_refused(
    sso,
    client: FlaskClient,
    token_proxy: TokenProxy,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The client whose ID tokens live one second; the answer arrives two seconds later."""
    _proxied(sso, token_proxy, "oidc-short", SHORT_CLIENT)
    token_proxy.delay = 2.0
    with caplog.at_level(logging.WARNING):
        _refused(sso_login(client, sso.peer, "alice", slug="oidc-short"), 401)
    assert "ExpiredTokenError" in caplog.text
    _nothing_made(sso.app, client)


def test_a_provider_that_is_not_configured_is_refused(sso, client: FlaskClient) -> None:
    _refused(client.get("/auth/sso/nowhere/login"), 404)
    _refused(client.get("/auth/sso/nowhere/callback?code=x&state=y"), 404)
    # A disabled provider is not there either, also for a login already under way.
    authorization = start_login(client)
    back = sso.peer.authorize(sso.peer.browser(), authorization, "alice")
    with sso.app.app_context():
        db.session.execute(db.update(OidcProvider).values(is_enabled=False))
        db.session.commit()
    _refused(client.get("/auth/sso/oidc/login"), 404)
    _refused(back_to_campus(client, back), 404)
    _nothing_made(sso.app, client)


def test_an_address_outside_the_allowed_domains_is_refused(sso, client: FlaskClient) -> None:
    with sso.app.app_context():
        db.session.execute(db.update(OidcProvider).values(allowed_domains=["example.org"]))
        db.session.commit()
    _refused(sso_login(client, sso.peer, "carol"), 403)  # carol@elsewhere.test
    _nothing_made(sso.app, client)
    assert sso_login(client, sso.peer, "alice").status_code == 302  # alice@example.org


def test_an_answer_naming_another_issuer_is_refused(sso, client: FlaskClient) -> None:
    """RFC 9207: the `iss` of the authorization response must be this provider's (mix-up)."""
    back = sso.peer.authorize(sso.peer.browser(), start_login(client), "alice")
    assert query_of(back)["iss"] == sso.peer.issuer  # oidc-provider sends it
    _refused(back_to_campus(client, _with_query(back, iss="https://evil.test")), 400)
    _nothing_made(sso.app, client)


def test_a_cancelled_login_and_a_missing_code_are_refused(sso, client: FlaskClient) -> None:
    state = query_of(start_login(client))["state"]
    query = urlencode({"state": state, "error": "access_denied", "iss": sso.peer.issuer})
    _refused(client.get(f"/auth/sso/oidc/callback?{query}"), 403)
    state = query_of(start_login(client))["state"]
    _refused(client.get(f"/auth/sso/oidc/callback?state={state}"), 400)
    _nothing_made(sso.app, client)
