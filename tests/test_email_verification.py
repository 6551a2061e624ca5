"""E-mail verification (issue 12): a mailed link confirms the address at registration and on a
change of login address; badges wait for a confirmed address; links work once, for 48 hours,
and only a POST (the page's button) changes anything."""

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
from flask import render_template
from flask.testing import FlaskClient
from flask_login import login_user

from campus.auth import verification
from campus.auth import verification_views
from campus.auth.models import User
from campus.auth.services import find_user_by_email
from campus.auth.verification_models import EmailChange
from campus.badges.models import Assertion
from campus.clock import utcnow
from campus.extensions import db
from campus.lti.models import LtiPlatform
from campus.lti.tool.provisioning import user_for_launch
from campus.outbox import services as outbox
from campus.paths import services as paths
from campus.paths.kinds.quiz import submit_quiz
from campus.paths.kinds.read import mark_read
from campus.paths.kinds.reflection import submit_reflection
from tests.conftest import BASE_URL
from tests.conftest import PASSWORD
from tests.conftest import now

NEW_PASSWORD = "a long new password"
LINK = re.compile(re.escape(BASE_URL) + r"/auth/verify/(\S+)")


@pytest.fixture(autouse=True)
def mail_dir(app: Flask, tmp_path: Path) -> Path:
    app.config["MAIL_DIR"] = str(tmp_path / "mail")
    return tmp_path / "mail"


def _messages(mail_dir: Path) -> list[Any]:
    files = sorted(mail_dir.glob("*.eml")) if mail_dir.exists() else []
    return [message_from_bytes(path.read_bytes(), policy=default) for path in files]


def _in_finnish(app: Flask, msgid: str) -> str:
    """A subject as a recipient with no saved language gets it (the campus default, fi)."""
    from flask_babel import force_locale
    from flask_babel import gettext

    with app.test_request_context(), force_locale("fi"):
        translated = gettext(msgid)
    assert translated != msgid
    return translated


def _text(message: Any) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def _token(message: Any) -> str:
    found = LINK.search(_text(message))
    assert found, _text(message)
    return found[1]


def _register(client: FlaskClient, org_id: int, email: str = "aino@example.org") -> Any:
    return client.post(
        "/auth/register",
        data={
            "name": "Aino",
            "email": email,
            "organisation": org_id,
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )


def _login(client: FlaskClient, email: str, password: str = NEW_PASSWORD) -> Any:
    return client.post("/auth/login", data={"email": email, "password": password})


def _user(app: Flask, email: str) -> User:
    with app.app_context():
        user = find_user_by_email(email)
        assert user is not None
        db.session.expunge(user)
        return user


@pytest.fixture
def registered(
    app: Flask, client: FlaskClient, make_org: Callable[..., int], mail_dir: Path
) -> str:
    """Aino registered; returns the token of the link mailed to her."""
    response = _register(client, make_org("Omnia"))
    assert response.status_code == 302 and response.headers["Location"] == "/auth/login"
    [message] = _messages(mail_dir)
    assert message["To"] == "aino@example.org"
    assert message["Subject"] == "Confirm your e-mail address for the campus"
    return _token(message)


def test_registration_mails_a_link_and_the_account_waits_unverified(
    app: Flask, client: FlaskClient, registered: str
) -> None:
    assert not _user(app, "aino@example.org").email_verified
    page = client.get("/auth/login").get_data(as_text=True)
    assert "Check your inbox: we sent a message to the address you gave" in page
    assert "instance/mail folder" in page  # no mail server configured here
    assert _login(client, "aino@example.org").status_code == 302  # logging in is allowed
    account = client.get("/auth/account").get_data(as_text=True)
    assert "not confirmed yet" in account and "Send the link again" in account
    assert "Badges are issued only to an address you have confirmed" in account


def test_a_mail_about_a_waiting_badge_fills_in_the_address(
    client: FlaskClient, make_org: Callable[..., int]
) -> None:
    make_org("Omnia")
    page = client.get("/auth/register?email=new.person@example.org").get_data(as_text=True)
    assert 'value="new.person@example.org"' in page
    assert "badges are issued to confirmed addresses only" in page


def test_opening_the_link_changes_nothing_and_the_button_confirms_once(
    app: Flask, client: FlaskClient, registered: str
) -> None:
    opened = client.get(f"/auth/verify/{registered}")
    assert opened.status_code == 200
    assert "Confirm aino@example.org" in opened.get_data(as_text=True)
    assert not _user(app, "aino@example.org").email_verified  # a mail scanner did no harm
    confirmed = client.post(f"/auth/verify/{registered}")
    assert confirmed.status_code == 302 and confirmed.headers["Location"] == "/auth/login"
    assert _user(app, "aino@example.org").email_verified
    again = client.post(f"/auth/verify/{registered}")
    assert again.status_code == 410
    assert "This link has been used already: aino@example.org is confirmed." in again.get_data(
        as_text=True
    )
    _login(client, "aino@example.org")
    refused = client.get(f"/auth/verify/{registered}")
    assert refused.status_code == 410 and "Send the link again" not in refused.get_data(
        as_text=True
    )


def test_an_expired_or_damaged_link_is_refused(
    app: Flask, client: FlaskClient, registered: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    damaged = client.post(f"/auth/verify/{registered[:-3]}xyz")
    assert damaged.status_code == 400 and "not valid" in damaged.get_data(as_text=True)
    later = utcnow() + verification.LINK_MAX_AGE + timedelta(minutes=1)
    monkeypatch.setattr(verification_views, "utcnow", lambda: later)
    expired = client.post(f"/auth/verify/{registered}")
    assert expired.status_code == 410
    assert "This link has expired" in expired.get_data(as_text=True)
    _login(client, "aino@example.org")
    assert "Send the link again" in client.post(f"/auth/verify/{registered}").get_data(as_text=True)
    assert not _user(app, "aino@example.org").email_verified


def test_a_link_for_another_account_is_refused(
    app: Flask, client: FlaskClient, registered: str, make_user: Callable[..., int]
) -> None:
    make_user("other@example.org")
    _login(client, "other@example.org", PASSWORD)
    refused = client.post(f"/auth/verify/{registered}")
    assert refused.status_code == 403
    assert "sent for another account" in refused.get_data(as_text=True)
    assert not _user(app, "aino@example.org").email_verified
    with app.app_context():  # a link for Aino naming an address she never asked for
        aino = find_user_by_email("aino@example.org")
        forged = verification.make_token(aino, "other@example.org")
    client.post("/auth/logout")
    assert client.post(f"/auth/verify/{forged}").status_code == 410
    assert _user(app, "aino@example.org").email == "aino@example.org"


def test_sending_the_link_again_is_bounded_per_hour(
    app: Flask, client: FlaskClient, registered: str, mail_dir: Path
) -> None:
    _login(client, "aino@example.org")
    for _ in range(verification.MAILS_PER_HOUR - 1):  # registration sent the first
        sent = client.post("/auth/verify/resend")
        assert sent.status_code == 200 and "is on its way" in sent.get_data(as_text=True)
    blocked = client.post("/auth/verify/resend")
    assert blocked.status_code == 429 and 0 < int(blocked.headers["Retry-After"]) <= 3600
    assert "Several messages were sent within the hour" in blocked.get_data(as_text=True)
    messages = _messages(mail_dir)
    assert len(messages) == verification.MAILS_PER_HOUR
    tokens = {_token(message) for message in messages}
    assert client.post(f"/auth/verify/{tokens.pop()}").status_code == 302
    assert all(client.post(f"/auth/verify/{token}").status_code == 410 for token in tokens)


def test_registering_a_taken_address_mails_its_owner_and_tells_nobody(
    app: Flask, client: FlaskClient, make_user: Callable[..., int], mail_dir: Path
) -> None:
    make_user("taken@example.org")
    with app.app_context():
        org_id = find_user_by_email("taken@example.org").organisation_id
    response = _register(client, org_id, "taken@example.org")
    assert response.status_code == 302 and response.headers["Location"] == "/auth/login"
    assert "Check your inbox" in client.get("/auth/login").get_data(as_text=True)
    [message] = _messages(mail_dir)
    assert message["To"] == "taken@example.org"
    # In the owner's language (no choice saved: the campus default, Finnish), not the asker's.
    assert message["Subject"] == _in_finnish(app, "You already have a campus account")
    assert LINK.search(_text(message)) is None  # no confirmation link for a stranger to use


def _change(client: FlaskClient, email: str, password: str = PASSWORD) -> Any:
    return client.post("/auth/account/email", data={"email": email, "password": password})


def test_changing_the_address_needs_the_password_and_a_free_address(
    app: Flask, client: FlaskClient, make_user: Callable[..., int], mail_dir: Path
) -> None:
    make_user("teacher@school.fi")
    make_user("colleague@school.fi")
    _login(client, "teacher@school.fi", PASSWORD)
    assert client.get("/auth/account/email").status_code == 200
    wrong = _change(client, "new@home.fi", "not my password")
    assert wrong.status_code == 400
    assert "The current password is not correct." in wrong.get_data(as_text=True)
    taken = _change(client, "Colleague@School.fi")
    assert taken.status_code == 409
    assert "Another account uses colleague@school.fi" in taken.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(EmailChange)) == 0
    assert _messages(mail_dir) == []


def test_the_link_from_the_mail_changes_the_login_address(
    app: Flask, client: FlaskClient, make_user: Callable[..., int], mail_dir: Path
) -> None:
    make_user("teacher@school.fi")
    _login(client, "teacher@school.fi", PASSWORD)
    sent = _change(client, "New@Home.fi")
    assert sent.status_code == 200
    assert "Until you open it, you log in with teacher@school.fi" in sent.get_data(as_text=True)
    [message] = _messages(mail_dir)
    assert message["To"] == "new@home.fi"
    assert message["Subject"] == _in_finnish(app, "Confirm your new e-mail address for the campus")
    token = _token(message)
    other = app.test_client()
    assert _login(other, "teacher@school.fi", PASSWORD).status_code == 302  # old one still works
    assert _login(app.test_client(), "new@home.fi", PASSWORD).status_code == 401
    assert "Waiting for confirmation: new@home.fi" in client.get("/auth/account").get_data(
        as_text=True
    )
    opened = client.get(f"/auth/verify/{token}")
    assert opened.status_code == 200 and "from now on you log in" in opened.get_data(as_text=True)
    assert _user(app, "teacher@school.fi").email == "teacher@school.fi"
    confirmed = client.post(f"/auth/verify/{token}")
    assert confirmed.status_code == 302 and confirmed.headers["Location"] == "/auth/account"
    with app.app_context():
        user = find_user_by_email("new@home.fi")
        assert user is not None and user.email_verified
        assert aware_now_close(user.email_verified_at)
        assert find_user_by_email("teacher@school.fi") is None
        assert db.session.get(EmailChange, user.id) is None
    [notice] = [m for m in _messages(mail_dir) if m["To"] == "teacher@school.fi"]
    assert "new@home.fi" in _text(notice)  # the old address hears of the change
    assert _login(app.test_client(), "teacher@school.fi", PASSWORD).status_code == 401
    assert _login(app.test_client(), "new@home.fi", PASSWORD).status_code == 302
    assert client.post(f"/auth/verify/{token}").status_code == 410


def aware_now_close(moment: Any) -> bool:
    from campus.clock import aware

    return abs(aware(moment) - utcnow()) < timedelta(minutes=5)


def test_a_newer_change_replaces_the_older_link(
    app: Flask, client: FlaskClient, make_user: Callable[..., int], mail_dir: Path
) -> None:
    make_user("teacher@school.fi")
    _login(client, "teacher@school.fi", PASSWORD)
    _change(client, "first@home.fi")
    _change(client, "second@home.fi")
    by_address = {message["To"]: _token(message) for message in _messages(mail_dir)}
    first, second = by_address["first@home.fi"], by_address["second@home.fi"]
    assert client.post(f"/auth/verify/{first}").status_code == 410
    assert client.post(f"/auth/verify/{second}").status_code == 302
    assert _user(app, "second@home.fi").email_verified


def _complete_basics(user: User) -> None:
    path = paths.get_path("basics")
    mark_read(user, paths.get_module(path, "welcome"), now())
    submit_quiz(
        user,
        paths.get_module(path, "check-quiz"),
        {"q1": ["b"], "q2": ["a", "c"], "q3": ["a"]},
        now(),
    )
    submit_reflection(
        user,
        paths.get_module(path, "my-thoughts"),
        "Reflection long enough to count here, really.",
        now(),
    )
    db.session.commit()
    outbox.run_committed(now())


def _assertions(app: Flask, email: str) -> list[str]:
    with app.app_context():
        user = find_user_by_email(email)
        return list(
            db.session.execute(
                db.select(Assertion.uuid).where(Assertion.user_id == user.id)
            ).scalars()
        )


def test_a_badge_earned_before_confirming_is_issued_when_the_address_is_confirmed(
    app: Flask, client: FlaskClient, registered: str
) -> None:
    with app.app_context():
        _complete_basics(find_user_by_email("aino@example.org"))
    assert _assertions(app, "aino@example.org") == []  # held for the unconfirmed address
    _login(client, "aino@example.org")
    confirmed = client.post(f"/auth/verify/{registered}")
    assert confirmed.status_code == 302 and confirmed.headers["Location"] == "/badges/backpack"
    assert len(_assertions(app, "aino@example.org")) == 1
    page = client.get(confirmed.headers["Location"]).get_data(as_text=True)
    assert "1 badge that was waiting for the confirmation has been issued." in page


def test_the_banner_says_why_badges_wait(app: Flask, registered: str) -> None:
    with app.test_request_context("/"):
        user = find_user_by_email("aino@example.org")
        user.login_token = "test"
        login_user(user)
        banner = render_template("auth/_unverified_banner.html")
        assert "badges you earn wait" in banner and "Send the link again" in banner
        assert 'action="/auth/verify/resend"' in banner
    with app.test_request_context("/auth/account"):
        user = find_user_by_email("aino@example.org")
        user.login_token = "test"
        login_user(user)
        assert render_template("auth/_unverified_banner.html").strip() == ""  # shown there
    with app.test_request_context("/"):
        user = find_user_by_email("aino@example.org")
        verification.confirm(registered, utcnow())
        assert render_template("auth/_unverified_banner.html").strip() == ""


def test_accounts_made_by_an_lms_that_sent_an_address_are_verified(
    app: Flask, app_ctx: None, make_org: Callable[..., int]
) -> None:
    platform = LtiPlatform(
        name="Moodle",
        issuer="https://moodle.example",
        client_id="campus",
        auth_login_url="https://moodle.example/auth",
        auth_token_url="https://moodle.example/token",
        jwks_url="https://moodle.example/jwks",
        deployment_ids=["1"],
        organisation_id=make_org("Omnia"),
    )
    db.session.add(platform)
    db.session.flush()
    with_address = user_for_launch(platform, {"sub": "a", "email": "Aino@School.fi"}, now())
    without = user_for_launch(platform, {"sub": "b"}, now())
    assert with_address.email_verified and with_address.badge_email == "aino@school.fi"
    assert not without.email_verified
    assert user_for_launch(platform, {"sub": "b", "email": "b@school.fi"}, now()).email_verified


def test_every_page_shows_the_banner_until_the_address_is_confirmed(
    app: Flask, client: FlaskClient, registered: str
) -> None:
    _login(client, "aino@example.org")
    for page in ("/", "/dashboard", "/badges/backpack"):
        assert "badges you earn wait" in client.get(page).get_data(as_text=True), page
    client.post(f"/auth/verify/{registered}")
    assert "badges you earn wait" not in client.get("/dashboard").get_data(as_text=True)
