"""Password reset by e-mail (issue 12, part): a signed link that works once, for one hour; the
same answer for every address; bounds per account and per address; every login ends."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from campus.auth import reset
from campus.auth.models import PasswordResetRequest
from campus.auth.models import User
from campus.extensions import db
from tests.conftest import PASSWORD
from tests.conftest import now

NEW_PASSWORD = "a-new-password-2026"


@pytest.fixture
def mail_dir(app: Flask, tmp_path: Path) -> Path:
    app.config["MAIL_DIR"] = str(tmp_path / "mail")
    return tmp_path / "mail"


def _messages(mail_dir: Path) -> list[Any]:
    files = sorted(mail_dir.glob("*.eml")) if mail_dir.exists() else []
    return [message_from_bytes(f.read_bytes(), policy=default) for f in files]


def _text(message: Any) -> str:
    return message.get_body(("plain",)).get_content()


def _link(message: Any) -> str:
    return re.search(r"https?://\S+/auth/reset/\S+", _text(message))[0]


def _ask(client: FlaskClient, email: str, **headers: str) -> Any:
    return client.post("/auth/forgot", data={"email": email}, headers=headers)


def _login(client: FlaskClient, email: str, password: str) -> Any:
    return client.post("/auth/login", data={"email": email, "password": password})


def test_a_forgotten_password_is_reset_with_the_mailed_link_once(
    app: Flask, client: FlaskClient, make_user: Callable[..., int], mail_dir: Path
) -> None:
    make_user("teacher@school.fi")
    other_browser = app.test_client()
    assert _login(other_browser, "teacher@school.fi", PASSWORD).status_code == 302
    assert "/auth/forgot" in client.get("/auth/login").get_data(as_text=True)
    page = _ask(client, "Teacher@School.fi")
    assert page.status_code == 200
    assert "If Teacher@School.fi has a campus account" in page.get_data(as_text=True)
    [message] = _messages(mail_dir)
    assert message["To"] == "teacher@school.fi"
    assert message["Subject"] == "Set a new password for the campus"
    link = _link(message)
    path = link.split("://", 1)[1].split("/", 1)[1]
    assert client.get(f"/{path}").status_code == 200
    mismatch = client.post(f"/{path}", data={"new_password": NEW_PASSWORD, "confirm": "other"})
    assert mismatch.status_code == 400 and "do not match" in mismatch.get_data(as_text=True)
    done = client.post(f"/{path}", data={"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"].endswith("/dashboard")
    assert client.get("/dashboard").status_code == 200  # this browser is logged in
    # Every other login ended; the old password is gone and the new one works.
    assert other_browser.get("/dashboard").status_code == 302
    assert _login(app.test_client(), "teacher@school.fi", PASSWORD).status_code != 302
    assert _login(app.test_client(), "teacher@school.fi", NEW_PASSWORD).status_code == 302
    # The link worked once.
    again = app.test_client().get(f"/{path}", headers={"Accept-Language": "en"})
    assert again.status_code == 400 and "not valid any more" in again.get_data(as_text=True)


def test_every_address_gets_the_same_answer_and_only_accounts_get_mail(
    client: FlaskClient, make_user: Callable[..., int], mail_dir: Path
) -> None:
    make_user("teacher@school.fi")
    known = _ask(client, "teacher@school.fi").get_data(as_text=True)
    unknown = _ask(client, "nobody@school.fi").get_data(as_text=True)
    assert known.replace("teacher@school.fi", "X") == unknown.replace("nobody@school.fi", "X")
    assert [m["To"] for m in _messages(mail_dir)] == ["teacher@school.fi"]


def test_the_message_is_in_the_language_of_the_request(
    client: FlaskClient, make_user: Callable[..., int], mail_dir: Path
) -> None:
    make_user("opettaja@school.fi")
    _ask(client, "opettaja@school.fi", **{"Accept-Language": "sv"})
    [message] = _messages(mail_dir)
    assert message["Subject"] == "Ange ett nytt lösenord för campuset"
    assert message["Content-Language"] == "sv"
    assert "/auth/reset/" in _text(message)


def test_an_expired_or_tampered_link_sets_nothing(
    app: Flask, client: FlaskClient, make_user: Callable[..., int]
) -> None:
    user_id = make_user("teacher@school.fi")
    with app.app_context():
        user = db.session.get(User, user_id)
        token = reset.reset_token(app.config["SECRET_KEY"], user)
        before = user.password_hash
        with pytest.raises(reset.AccountError):
            reset.user_for_token(app.config["SECRET_KEY"], token, max_age=timedelta(seconds=-1))
        with pytest.raises(reset.AccountError):
            reset.user_for_token("another-secret", token)
    for bad in (token[:-2] + "xx", "nonsense", "x" * 600):
        page = client.post(
            f"/auth/reset/{bad}", data={"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
        )
        assert page.status_code == 400
    with app.app_context():
        assert db.session.get(User, user_id).password_hash == before


def test_mails_per_account_and_requests_per_address_are_bounded(
    app: Flask, client: FlaskClient, make_user: Callable[..., int], mail_dir: Path
) -> None:
    make_user("teacher@school.fi")
    for _ in range(reset.MAILS_PER_ACCOUNT + 2):
        assert _ask(client, "teacher@school.fi").status_code == 200  # the same page every time
    assert len(_messages(mail_dir)) == reset.MAILS_PER_ACCOUNT
    for number in range(reset.REQUESTS_PER_ADDRESS):
        _ask(client, f"someone{number}@school.fi")
    throttled = _ask(client, "teacher@school.fi")
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0
    with app.app_context():
        recorded = db.session.execute(
            db.select(db.func.count()).select_from(PasswordResetRequest)
        ).scalar()
    assert recorded == reset.REQUESTS_PER_ADDRESS  # the refused one is not recorded


def test_bad_input_is_a_clear_400(client: FlaskClient, mail_dir: Path) -> None:
    for email in ("", "not-an-address", "x" * 300 + "@school.fi"):
        page = _ask(client, email)
        assert page.status_code == 400 and "Traceback" not in page.get_data(as_text=True)
    assert _messages(mail_dir) == []


def test_lms_made_accounts_get_no_reset_mail(
    app: Flask, client: FlaskClient, make_user: Callable[..., int], mail_dir: Path
) -> None:
    make_user("lms-1@lti.invalid")
    assert _ask(client, "lms-1@lti.invalid").status_code == 400  # not a deliverable address
    with app.app_context():  # and the rule itself, past the form
        assert reset.request_reset("lms-1@lti.invalid", "192.0.2.1", now()) is None
    assert _messages(mail_dir) == []


def test_an_admin_sends_a_reset_link_without_seeing_it(
    app: Flask, client: FlaskClient, make_user: Callable[..., int], auth: Any, mail_dir: Path
) -> None:
    from campus.auth.models import Role

    teacher = make_user("teacher@school.fi")
    make_user("admin@school.fi", roles={Role.ADMIN})
    make_user("learner@school.fi")
    auth.login("learner@school.fi")
    assert client.post(f"/auth/users/{teacher}/send-reset").status_code == 403
    client.post("/auth/logout")
    auth.login("admin@school.fi")
    assert "Send a password link" in client.get(f"/manage/users/{teacher}").get_data(as_text=True)
    answer = client.post(f"/auth/users/{teacher}/send-reset", follow_redirects=True)
    page = answer.get_data(as_text=True)
    assert "A link to set a new password is on its way to teacher@school.fi." in page
    assert "/auth/reset/" not in page  # the admin never sees the link
    [message] = _messages(mail_dir)
    assert message["To"] == "teacher@school.fi" and "/auth/reset/" in _text(message)
    assert client.post("/auth/users/999999/send-reset").status_code == 404
