"""Logging out ends the login on the server; savepoints never commit on their own."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from campus import create_app
from campus.auth.models import LoginSession
from campus.auth.models import Organisation
from campus.extensions import db
from tests.conftest import FAST_HASH
from tests.conftest import PASSWORD
from tests.test_postgres import pg_app  # noqa: F401  (the fixture)

NEW_PASSWORD = "another correct horse"


def _browser(app: Flask) -> FlaskClient:
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def _login(client: FlaskClient, password: str = PASSWORD) -> None:
    response = client.post(
        "/auth/login", data={"email": "learner@example.org", "password": password}
    )
    assert response.status_code == 302


def _session_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def _with_cookie(app: Flask, value: str) -> FlaskClient:
    """Another browser holding a copy of a session cookie (stolen, or left on a shared PC)."""
    thief = _browser(app)
    thief.set_cookie("session", value)
    return thief


def _logged_in(client: FlaskClient) -> bool:
    return client.get("/auth/account").status_code == 200


def test_a_cookie_copied_before_logout_stops_working(app: Flask, make_user) -> None:
    make_user()
    browser = _browser(app)
    _login(browser)
    copy = _session_cookie(browser)
    assert _logged_in(_with_cookie(app, copy))
    assert browser.post("/auth/logout").status_code == 302
    assert not _logged_in(browser)
    assert not _logged_in(_with_cookie(app, copy))


def test_logging_out_one_browser_keeps_the_others(app: Flask, make_user) -> None:
    make_user()
    laptop, phone = _browser(app), _browser(app)
    _login(laptop)
    _login(phone)
    laptop.post("/auth/logout")
    assert not _logged_in(laptop) and _logged_in(phone)


def test_a_password_change_ends_every_other_login(app: Flask, make_user) -> None:
    make_user()
    browser, other = _browser(app), _browser(app)
    _login(browser)
    _login(other)
    copy = _session_cookie(browser)
    response = browser.post(
        "/auth/account",
        data={
            "password-current_password": PASSWORD,
            "password-new_password": NEW_PASSWORD,
            "password-confirm": NEW_PASSWORD,
            "password-submit": "1",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert _logged_in(browser)  # this browser goes on, with a new login
    assert not _logged_in(other)
    assert not _logged_in(_with_cookie(app, copy))


def test_the_server_keeps_only_a_hash_and_old_logins_end(app: Flask, make_user) -> None:
    make_user()
    browser = _browser(app)
    _login(browser)
    with app.app_context():
        [row] = db.session.execute(db.select(LoginSession)).scalars()
        assert len(row.token_hash) == 64
        db.session.execute(
            db.update(LoginSession).values(created_at=row.created_at - timedelta(days=91))
        )
        db.session.commit()
    assert not _logged_in(browser)


def test_set_password_from_the_command_line_ends_logins(app: Flask, make_user) -> None:
    make_user()
    browser = _browser(app)
    _login(browser)
    result = app.test_cli_runner().invoke(
        args=["auth", "set-password", "learner@example.org"],
        input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert not _logged_in(browser)


# --- savepoints --------------------------------------------------------------------------------


def _savepoint_then_fail() -> None:
    """The first write of a transaction inside a savepoint, then a failure and a rollback."""
    with db.session.begin_nested():
        db.session.add(Organisation(name="Inside a savepoint", slug="inside"))
    db.session.add(Organisation(name="After it", slug="after"))
    db.session.flush()
    db.session.rollback()


def _organisations() -> list[str]:
    return list(db.session.execute(db.select(Organisation.slug)).scalars())


def test_a_rollback_after_a_savepoint_leaves_nothing_on_sqlite(tmp_path: Path) -> None:
    """On a file database a savepoint that had committed would be seen by a new connection."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "k",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'campus.db'}",
            "PASSWORD_HASH_METHOD": FAST_HASH,
        }
    )
    with app.app_context():
        db.create_all()
        db.session.remove()
        _savepoint_then_fail()
        db.session.remove()
        db.engine.dispose()
        assert _organisations() == []


def test_a_rollback_after_a_savepoint_leaves_nothing_on_postgres(pg_app: Flask) -> None:  # noqa: F811
    with pg_app.app_context():
        _savepoint_then_fail()
        db.session.remove()
        assert _organisations() == []
