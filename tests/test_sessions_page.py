"""The account page's logins (issue 12, part): the list of browsers, "this browser" marked,
and "log out other devices", which ends the others and keeps this one."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask import render_template
from flask.testing import FlaskClient

import campus.auth.session_views  # noqa: F401  (routes; until campus.auth imports it)
from campus.auth import sessions
from campus.auth.models import LoginSession
from campus.auth.models import User
from campus.auth.models import login_token_hash
from campus.clock import utcnow
from campus.extensions import db
from tests.conftest import PASSWORD

# These tests add routes of their own: each gets an app of its own (tests/conftest.py).
pytestmark = pytest.mark.fresh_app

EMAIL = "teacher@school.fi"
LOGOUT_OTHERS = "/auth/account/logout-others"


@pytest.fixture
def sessions_page(app: Flask) -> str:
    """The partial on a page of its own (the lead includes it in auth/account.html)."""
    app.add_url_rule(
        "/test/sessions", "test_sessions", lambda: render_template("auth/_sessions.html")
    )
    return "/test/sessions"


def _browser(app: Flask) -> FlaskClient:
    browser = app.test_client()
    browser.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return browser


def _login(client: FlaskClient, email: str = EMAIL) -> None:
    answer = client.post("/auth/login", data={"email": email, "password": PASSWORD})
    assert answer.status_code == 302


def _rows(html: str) -> list[str]:
    """The logins table's body rows, as text."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = body.split("<tr")[1:]
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in rows]


def test_two_browsers_are_listed_and_logout_others_keeps_only_this_one(
    app: Flask, client: FlaskClient, make_user: Callable[..., int], sessions_page: str
) -> None:
    user_id = make_user(EMAIL)
    make_user("someone@school.fi")
    other = _browser(app)
    _login(other)
    _login(client)
    _login(_browser(app), "someone@school.fi")  # another account's login is not listed

    html = client.get(sessions_page).get_data(as_text=True)
    rows = _rows(html)
    assert len(rows) == 2
    assert "This browser" in rows[0] and "Another browser or device" in rows[1]
    assert "This browser" not in rows[1]
    assert "<caption>Browsers and devices logged in to this account</caption>" in html
    assert f'action="{LOGOUT_OTHERS}"' in html and 'name="csrf_token"' in html

    done = client.post(LOGOUT_OTHERS)
    assert done.status_code == 302 and done.headers["Location"].endswith("/auth/account")
    assert "1 other device was logged out." in client.get("/auth/account").get_data(as_text=True)
    # The other browser has to log in again; this one stays logged in.
    gone = other.get("/auth/account")
    assert gone.status_code == 302 and "/auth/login" in gone.headers["Location"]
    assert client.get("/auth/account").status_code == 200
    html = client.get(sessions_page).get_data(as_text=True)
    assert len(_rows(html)) == 1 and "This browser" in _rows(html)[0]
    assert LOGOUT_OTHERS not in html and "not logged in anywhere else" in html
    with app.app_context():
        owners = db.session.execute(db.select(LoginSession.user_id)).scalars().all()
        assert sorted(owners).count(user_id) == 1 and len(owners) == 2  # the other account's

    again = client.post(LOGOUT_OTHERS, follow_redirects=True)
    assert "No other devices were logged in." in again.get_data(as_text=True)


def test_visitors_are_sent_to_log_in_and_get_is_not_allowed(
    client: FlaskClient, make_user: Callable[..., int], sessions_page: str
) -> None:
    answer = client.post(LOGOUT_OTHERS)
    assert answer.status_code == 302 and "/auth/login" in answer.headers["Location"]
    assert _rows(client.get(sessions_page).get_data(as_text=True)) == []
    make_user(EMAIL)
    _login(client)
    assert client.get(LOGOUT_OTHERS).status_code == 405


def test_active_logins_leave_out_expired_ones_and_put_this_browser_first(
    app: Flask, make_user: Callable[..., int]
) -> None:
    user_id = make_user(EMAIL)
    now = utcnow()
    with app.app_context():
        user = db.session.get(User, user_id)
        for token, age in (("mine", 5), ("newer", 1), ("older", 10), ("expired", 24 * 91)):
            db.session.add(
                LoginSession(
                    token_hash=login_token_hash(token),
                    user_id=user_id,
                    created_at=now - timedelta(hours=age),
                )
            )
        db.session.flush()
        logins = sessions.active_logins(user, login_token_hash("mine"), now)
        assert [login.current for login in logins] == [True, False, False]
        assert [now - login.created_at for login in logins] == [
            timedelta(hours=5),
            timedelta(hours=1),
            timedelta(hours=10),
        ]
        assert sessions.end_other_logins(user, login_token_hash("mine")) == 3
        left = db.session.execute(db.select(LoginSession.token_hash)).scalars().all()
        assert left == [login_token_hash("mine")]
