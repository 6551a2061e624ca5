"""Outgoing e-mail through a real SMTP server on loopback (issue 12): password-reset mail in the
recipient's language, plain text plus HTML, sent after the commit through the outbox; a failing
server is retried and the message delivered exactly once when it is back."""

from __future__ import annotations

import re
import socket
import stat
import time
from collections.abc import Callable
from datetime import timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale
from flask_babel import gettext
from smtp_support import SmtpServer
from smtp_support import self_signed_tls
from smtp_support import smtp_server  # noqa: F401  (the fixture)

from campus import mail
from campus.auth.models import User
from campus.clock import utcnow
from campus.extensions import db
from campus.mailing import MAIL_SEND
from campus.mailing import queue_mail
from campus.mailing import render_mail
from campus.outbox import services as outbox
from campus.outbox.models import OutboxItem
from campus.outbox.models import OutboxStatus

NEW_PASSWORD = "a-new-password-2026"
EMAIL = "teacher@school.fi"
SUBJECT = "Set a new password for the campus"
# Every sentence of the reset mail: each must be translated for fi and sv (by the lead).
RESET_MAIL_MSGIDS = (
    SUBJECT,
    "Someone asked to set a new password for your campus account.",
    "Open this link to choose a new password. It works once, for one hour:",
    "Choose a new password",
    "If the button does not work, copy this address to your browser:",
    "If you did not ask for this, you can ignore this message: your password stays as it is.",
    "This message was sent automatically by %(campus)s. Please do not reply to it.",
    "Stop these e-mails",
    "Stop these e-mails:",
    "A link to set a new password is on its way to %(address)s.",
)


@pytest.fixture(autouse=True)
def mail_dir(app: Flask, tmp_path: Path) -> Path:
    """No test writes into the repository's instance/mail."""
    app.config["MAIL_DIR"] = str(tmp_path / "mail")
    return tmp_path / "mail"


def _ask(client: FlaskClient, email: str = EMAIL) -> Any:
    return client.post("/auth/forgot", data={"email": email})


def _text(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


def _html(message: EmailMessage) -> str:
    return message.get_body(("html",)).get_content()


def _link_path(message: EmailMessage) -> str:
    link = re.search(r"https?://\S+/auth/reset/\S+", _text(message))[0]
    assert f'href="{link}"' in _html(message)  # the same link in both parts
    return "/" + link.split("://", 1)[1].split("/", 1)[1]


def _english_browser(app: Flask) -> FlaskClient:
    browser = app.test_client()
    browser.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return browser


def _set_password(client: FlaskClient, path: str) -> Any:
    return client.post(path, data={"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})


def _items(app: Flask) -> list[OutboxItem]:
    with app.app_context():
        items = db.session.execute(db.select(OutboxItem).order_by(OutboxItem.id)).scalars()
        return [item for item in items if item.kind == MAIL_SEND]


def _run_later(app: Flask, minutes: int = 5) -> tuple[int, int]:
    with app.app_context():
        return outbox.run_due(utcnow() + timedelta(minutes=minutes), timeout=5)


def test_the_reset_mail_arrives_in_two_parts_and_its_link_works_once(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., int],
    smtp_server: SmtpServer,  # noqa: F811  (the fixture)
) -> None:
    smtp_server.configure(app)
    make_user(EMAIL)
    page = _ask(client)
    assert page.status_code == 200
    assert "instance/mail" not in page.get_data(as_text=True)  # a server is configured
    [message] = smtp_server.wait_for(1)
    assert smtp_server.envelopes == [("badges@campus.example", [EMAIL])]
    assert message["To"] == EMAIL and message["Subject"] == SUBJECT
    assert message["From"].addresses[0].addr_spec == "badges@campus.example"
    assert message["From"].addresses[0].display_name == "Campus — virtual competence campus"
    assert message["Content-Language"] == "en"  # the request's: the account has no language
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"] and message["List-Unsubscribe"] is None  # not a notification
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == [
        "text/plain",
        "text/html",
    ]
    html = _html(message)
    assert '<html lang="en"' in html and "Campus — virtual competence campus" in html
    assert "<h1" in html and SUBJECT in html
    path = _link_path(message)
    assert client.get(path).status_code == 200
    done = _set_password(client, path)
    assert done.status_code == 302 and done.headers["Location"].endswith("/dashboard")
    again = _set_password(_english_browser(app), path)
    assert again.status_code == 400 and "not valid any more" in again.get_data(as_text=True)
    # Sent once; the stored follow-up no longer holds the link.
    [item] = _items(app)
    assert item.status == OutboxStatus.DONE and item.payload == {"to": EMAIL, "subject": SUBJECT}
    assert _run_later(app) == (0, 0) and len(smtp_server.messages) == 1


def test_the_mail_is_in_the_recipients_language_not_the_askers(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., int],
    smtp_server: SmtpServer,  # noqa: F811  (the fixture)
) -> None:
    smtp_server.configure(app)
    user_id = make_user(EMAIL)
    with app.app_context():
        db.session.get(User, user_id).locale = "fi"
        db.session.commit()
    _ask(client)  # an English browser
    [message] = smtp_server.wait_for(1)
    assert message["Content-Language"] == "fi"
    assert '<html lang="fi"' in _html(message)
    assert message["From"].addresses[0].display_name == "Campus — virtuaalinen osaamiskampus"
    with app.test_request_context(), force_locale("fi"):
        subject = gettext(SUBJECT)
        first_line = gettext("Someone asked to set a new password for your campus account.")
    assert subject != SUBJECT, "the fi translation of the reset subject is missing"
    assert message["Subject"] == subject and first_line in _text(message)
    assert _set_password(client, _link_path(message)).status_code == 302


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_every_sentence_of_the_reset_mail_is_translated(app: Flask, language: str) -> None:
    """Fails until the lead has translated the new strings (issue 12 translations)."""
    with app.test_request_context(), force_locale(language):
        missing = [msgid for msgid in RESET_MAIL_MSGIDS if gettext(msgid) == msgid]
    assert missing == [], f"not translated into {language}: {missing}"


def test_a_server_that_is_down_gets_the_mail_once_when_it_is_back(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., int],
    smtp_server: SmtpServer,  # noqa: F811  (the fixture)
) -> None:
    smtp_server.configure(app)
    make_user(EMAIL)
    smtp_server.stop()
    assert _ask(client).status_code == 200  # the page does not wait for or show the failure
    [item] = _items(app)
    assert (item.status, item.attempts) == (OutboxStatus.PENDING, 1)
    assert "ConnectionRefusedError" in item.last_error
    message_id = item.payload["message_id"]
    assert _run_later(app) == (0, 1)  # still down: it waits again
    smtp_server.start()
    assert _run_later(app, minutes=60) == (1, 0)
    [message] = smtp_server.wait_for(1)
    assert message["Message-ID"] == message_id  # the message queued, not a new one
    assert _set_password(client, _link_path(message)).status_code == 302
    # Nothing more to send: neither a later run, nor the command, nor the item itself.
    assert _run_later(app, minutes=600) == (0, 0)
    result = app.test_cli_runner().invoke(args=["outbox", "run"])
    assert result.exit_code == 0 and "0 done, 0 not done" in result.output
    with app.app_context():
        assert outbox.run_item(item.id, utcnow() + timedelta(days=1), 5) == []
    time.sleep(0.1)
    assert len(smtp_server.messages) == 1


def test_a_refusing_server_is_retried_and_the_admin_page_still_answers(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., int],
    auth: Any,
    smtp_server: SmtpServer,  # noqa: F811  (the fixture)
) -> None:
    from campus.auth.models import Role

    smtp_server.configure(app)
    teacher = make_user(EMAIL)
    make_user("admin@school.fi", roles={Role.ADMIN})
    auth.login("admin@school.fi")
    smtp_server.refusing = True
    answer = client.post(f"/auth/users/{teacher}/send-reset", follow_redirects=True)
    assert answer.status_code == 200
    assert f"A link to set a new password is on its way to {EMAIL}." in answer.get_data(
        as_text=True
    )
    [item] = _items(app)
    assert item.status == OutboxStatus.PENDING and "SMTPDataError" in item.last_error
    assert smtp_server.messages == []
    smtp_server.refusing = False
    assert _run_later(app) == (1, 0)
    [message] = smtp_server.wait_for(1)
    assert message["To"] == EMAIL and "/auth/reset/" in _text(message)
    assert _run_later(app, minutes=600) == (0, 0) and len(smtp_server.messages) == 1


def test_a_silent_server_costs_the_request_only_the_inline_budget(
    app: Flask, client: FlaskClient, make_user: Callable[..., int]
) -> None:
    """A server that takes the connection but never greets: the send times out, the page
    answers and the mail waits for `flask outbox run`."""
    make_user(EMAIL)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        app.config.update(
            MAIL_HOST="127.0.0.1", MAIL_PORT=silent.getsockname()[1], OUTBOX_INLINE_SECONDS=0.5
        )
        started = time.monotonic()
        assert _ask(client).status_code == 200
        assert time.monotonic() - started < 3
    [item] = _items(app)
    assert item.status == OutboxStatus.PENDING and "timed out" in item.last_error


def test_without_a_server_the_message_is_a_private_file_and_the_page_says_so(
    app: Flask, client: FlaskClient, make_user: Callable[..., int], mail_dir: Path
) -> None:
    assert not app.config["MAIL_HOST"]
    make_user(EMAIL)
    page = _ask(client).get_data(as_text=True)
    assert "messages are written to the instance/mail folder" in page
    [saved] = mail_dir.glob("*.eml")
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    message = message_from_bytes(saved.read_bytes(), policy=default)
    assert message["To"] == EMAIL and message["Content-Language"] == "en"
    assert [part.get_content_type() for part in message.iter_parts()] == [
        "text/plain",
        "text/html",
    ]
    assert _set_password(client, _link_path(message)).status_code == 302
    [item] = _items(app)
    assert item.status == OutboxStatus.DONE and set(item.payload) == {"to", "subject"}


def test_a_notification_carries_its_unsubscribe_link(
    app: Flask,
    smtp_server: SmtpServer,  # noqa: F811  (the fixture)
) -> None:
    smtp_server.configure(app)
    unsubscribe = "https://campus.test/notifications/unsubscribe/abc"
    with app.test_request_context():
        text, html = render_mail(
            "password_reset", "sv", link="https://campus.test/x", unsubscribe_url=unsubscribe
        )
        queue_mail("learner@school.fi", "Hej", text, html, unsubscribe_url=unsubscribe)
        db.session.commit()
        with force_locale("en"):  # what admins read on the follow-up page
            assert str(outbox.label_of(MAIL_SEND)) == "E-mail"
    assert _run_later(app) == (1, 0)
    [message] = smtp_server.wait_for(1)
    assert message["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Content-Language"] == "sv"  # from the HTML part's lang
    assert f'href="{unsubscribe}"' in _html(message) and unsubscribe in _text(message)


def _settings(tmp_path: Path, port: int, **config: Any) -> mail.MailSettings:
    return mail.MailSettings.from_config(
        {"MAIL_HOST": "127.0.0.1", "MAIL_PORT": port, "MAIL_DIR": str(tmp_path), **config}
    )


def test_starttls_with_a_login(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server_tls, client_tls = self_signed_tls(tmp_path)
    monkeypatch.setattr(mail, "tls_context", lambda: client_tls)
    with SmtpServer(starttls=server_tls, credentials=("campus", "s3cret")) as server:
        plain = _settings(tmp_path, server.port, MAIL_USERNAME="campus", MAIL_PASSWORD="s3cret")
        with pytest.raises(mail.MailError):  # the server insists on TLS first
            mail.send(plain, EMAIL, "Hei", "x\n", timeout=5)
        tls = _settings(
            tmp_path,
            server.port,
            MAIL_USE_TLS=True,
            MAIL_USERNAME="campus",
            MAIL_PASSWORD="s3cret",
        )
        wrong = _settings(tmp_path, server.port, MAIL_USE_TLS=True, MAIL_USERNAME="campus")
        with pytest.raises(mail.MailError, match="SMTPAuthenticationError"):
            mail.send(wrong, EMAIL, "Hei", "x\n", timeout=5)
        assert mail.send(tls, EMAIL, "Hei", "Linkki å\n", html="<p>å</p>", timeout=5) is None
        [message] = server.wait_for(1)
    assert server.logins == ["campus"] and _text(message) == "Linkki å\n"


def test_implicit_tls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server_tls, client_tls = self_signed_tls(tmp_path)
    monkeypatch.setattr(mail, "tls_context", lambda: client_tls)
    assert mail.MailSettings.from_config({"MAIL_PORT": 465, "MAIL_DIR": "x"}).use_ssl
    with SmtpServer(implicit_tls=server_tls) as server:
        settings = _settings(tmp_path, server.port, MAIL_USE_SSL=True)
        assert mail.send(settings, EMAIL, "Hei", "x\n", timeout=5) is None
        [message] = server.wait_for(1)
    assert message["Subject"] == "Hei"


def test_the_verification_mail_arrives_in_finnish_and_its_link_confirms_once(
    app: Flask,
    make_org: Callable[..., int],
    smtp_server: SmtpServer,  # noqa: F811  (the fixture)
) -> None:
    """Registration in a Finnish browser: the confirmation mail comes through the SMTP server in
    Finnish, in two parts, and its link confirms the address once, not twice."""
    smtp_server.configure(app)
    org_id = make_org()
    browser = app.test_client()
    browser.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fi"
    answer = browser.post(
        "/auth/register",
        data={
            "name": "Aino",
            "email": "aino@koulu.fi",
            "organisation": org_id,
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    assert answer.status_code == 302
    [message] = smtp_server.wait_for(1)
    assert message["To"] == "aino@koulu.fi"
    assert message["Content-Language"] == "fi"
    english = "Confirm your e-mail address for the campus"
    with app.test_request_context(), force_locale("fi"):
        finnish = gettext(english)
    assert finnish != english and message["Subject"] == finnish
    link = re.search(r"https?://\S+/auth/verify/\S+", _text(message))[0]
    assert f'href="{link}"' in _html(message)
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    assert browser.get(path).status_code == 200  # opening it (a mail scanner) changes nothing
    with app.app_context():
        user = db.session.execute(db.select(User).where(User.email == "aino@koulu.fi")).scalar_one()
        assert user.email_verified_at is None
    assert browser.post(path).status_code == 302
    assert browser.post(path).status_code == 410  # used already
    with app.app_context():
        user = db.session.execute(db.select(User).where(User.email == "aino@koulu.fi")).scalar_one()
        assert user.email_verified_at is not None
