"""Every place that checks a password goes through the one login throttle (campus.auth.login):
after FREE_FAILURES_PER_ACCOUNT failures the next attempt, even with the right password, is
answered 429 with Retry-After, and the failures of one form count for all the others. The last
test holds any later form to `pages.check_password`, which throttles all of them alike."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import PASSWORD
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from campus.auth.login import FREE_FAILURES_PER_ACCOUNT
from campus.auth.models import LoginFailure
from campus.auth.models import User
from campus.extensions import db
from campus.lti.models import LtiIdentity
from tests.oidc_support import OidcPeer
from tests.oidc_support import add_provider
from tests.oidc_support import enable_sso
from tests.oidc_support import oidc_peer_fixture  # noqa: F401 (fixture)
from tests.oidc_support import sso_login

EMAIL = "learner@example.org"
CAMPUS = Path(__file__).resolve().parent.parent / "campus"


def assert_throttled(response: TestResponse) -> None:
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert "Too many failed attempts. Please wait" in response.get_data(as_text=True)


def failures(app: Flask, email: str = EMAIL) -> int:
    with app.app_context():
        return db.session.execute(
            db.select(db.func.count()).select_from(LoginFailure).where(LoginFailure.email == email)
        ).scalar_one()


def login_form(client: FlaskClient, password: str) -> TestResponse:
    return client.post("/auth/login", data={"email": EMAIL, "password": password})


def change_password_form(client: FlaskClient, password: str) -> TestResponse:
    return client.post(
        "/auth/account",
        data={
            "password-current_password": password,
            "password-new_password": "a brand new password",
            "password-confirm": "a brand new password",
            "password-submit": "1",
        },
    )


def change_email_form(client: FlaskClient, password: str) -> TestResponse:
    return client.post(
        "/auth/account/email", data={"email": "new.address@example.org", "password": password}
    )


def delete_account_form(client: FlaskClient, password: str) -> TestResponse:
    return client.post(
        "/auth/account/delete", data={"badges": "keep", "password": password, "confirm": "y"}
    )


# (form, needs a login first, status of a wrong password)
FORMS = {
    "log in": (login_form, False, 401),
    "change password": (change_password_form, True, 400),
    "change e-mail": (change_email_form, True, 400),
    "delete account": (delete_account_form, True, 400),
}


@pytest.mark.parametrize("name", list(FORMS))
def test_each_password_form_is_throttled(
    app: Flask, client: FlaskClient, auth, make_user: Callable[..., int], name: str
) -> None:  # type: ignore[no-untyped-def]
    form, logged_in, wrong_status = FORMS[name]
    user_id = make_user(EMAIL)
    if logged_in:
        assert auth.login().status_code == 302
    for _ in range(FREE_FAILURES_PER_ACCOUNT):
        assert form(client, "wrong password").status_code == wrong_status
    assert failures(app) == FREE_FAILURES_PER_ACCOUNT  # each one recorded
    assert_throttled(form(client, PASSWORD))  # the right password waits too
    assert failures(app) == FREE_FAILURES_PER_ACCOUNT  # a refused attempt is not checked
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user.deleted_at is None and user.email == EMAIL  # nothing happened


def test_failures_in_one_form_count_in_the_others(
    app: Flask, client: FlaskClient, auth, make_user: Callable[..., int]
) -> None:  # type: ignore[no-untyped-def]
    """One throttle per account: guessing on the deletion page slows the password change and
    the login of the same browser alike."""
    make_user(EMAIL)
    auth.login()
    for _ in range(2):
        assert delete_account_form(client, "guess").status_code == 400
    for _ in range(2):
        assert change_email_form(client, "guess").status_code == 400
    for _ in range(FREE_FAILURES_PER_ACCOUNT - 4):
        assert change_password_form(client, "guess").status_code == 400
    assert_throttled(delete_account_form(client, PASSWORD))
    assert_throttled(change_email_form(client, PASSWORD))
    assert_throttled(change_password_form(client, PASSWORD))
    auth.logout()
    assert_throttled(login_form(client, PASSWORD))


def test_linking_an_lms_account_is_throttled(
    app: Flask, client: FlaskClient, make_user: Callable[..., int]
) -> None:
    """An LMS-made account links to a campus account with that account's password."""
    make_user(EMAIL)
    lms_made = make_user("lti-0123abcd@lti.invalid")  # logged in here as its launch would
    assert (
        client.post(
            "/auth/login", data={"email": "lti-0123abcd@lti.invalid", "password": PASSWORD}
        ).status_code
        == 302
    )

    def link(password: str) -> TestResponse:
        return client.post(
            "/lti/tool/link",
            data={"confirm": "yes", "email": EMAIL, "password": password},
            headers={"Accept-Language": "en"},
        )

    for _ in range(FREE_FAILURES_PER_ACCOUNT):
        assert link("wrong password").status_code == 401
    assert failures(app) == FREE_FAILURES_PER_ACCOUNT
    assert_throttled(link(PASSWORD))
    with app.app_context():  # nothing was linked
        assert db.session.get(User, lms_made).deleted_at is None
        assert db.session.execute(db.select(db.func.count(LtiIdentity.id))).scalar_one() == 0


def test_linking_a_single_sign_on_identity_is_throttled(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., int],
    make_org: Callable[..., int],
    oidc_peer: OidcPeer,
) -> None:
    """A provider's identity whose address has a campus account links with its password."""
    enable_sso(app)
    add_provider(app, make_org("North College", "north"), oidc_peer.issuer)
    make_user("dave@example.org", organisation_id=make_org("South", "south"))
    assert sso_login(client, oidc_peer, "dave").headers["Location"].endswith("/auth/sso/link")

    def link(password: str) -> TestResponse:
        return client.post(
            "/auth/sso/link", data={"password": password}, headers={"Accept-Language": "en"}
        )

    for _ in range(FREE_FAILURES_PER_ACCOUNT):
        assert link("wrong password").status_code == 401
    assert failures(app, "dave@example.org") == FREE_FAILURES_PER_ACCOUNT
    assert_throttled(link(PASSWORD))
    assert client.get("/auth/account").status_code == 302  # not logged in, nothing linked


# --- no second way to check a password ----------------------------------------------------------


def _calls_and_imports(path: Path) -> set[str]:
    """Names this module calls (`f(`, `x.f(`) or imports (`from m import f`)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            function = node.func
            if isinstance(function, ast.Name):
                found.add(function.id)
            elif isinstance(function, ast.Attribute):
                base = function.value.id if isinstance(function.value, ast.Name) else "?"
                found.add(f"{base}.{function.attr}")
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.update(f"{node.module}:{alias.name}" for alias in node.names)
    return found


def test_passwords_are_checked_only_behind_the_throttle() -> None:
    """Only services.authenticate hashes a password guess, only login.check_password calls it
    (after the throttle), and views reach it through pages.check_password, which records the
    failure and answers 429: a new password form cannot skip the throttle by accident."""
    users: dict[str, set[str]] = {
        "check_password_hash": set(),
        "authenticate": set(),
        "login.check_password": set(),
    }
    for path in sorted(CAMPUS.rglob("*.py")):
        name = path.relative_to(CAMPUS.parent).as_posix()
        found = _calls_and_imports(path)
        if found & {"check_password_hash", "werkzeug.security:check_password_hash"}:
            users["check_password_hash"].add(name)
        if found & {"campus.auth.services:authenticate", "services.authenticate"}:
            users["authenticate"].add(name)
        if found & {
            "login.check_password",
            "login_service.check_password",
            "campus.auth.login:check_password",
        }:
            users["login.check_password"].add(name)
    assert users == {
        "check_password_hash": {"campus/auth/services.py"},
        "authenticate": {"campus/auth/login.py"},
        "login.check_password": {"campus/auth/pages.py"},
    }
