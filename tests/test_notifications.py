"""Notifications (issue 12): who hears of what, mail at once in their language, the list with
its unread count, the settings, and unsubscribing from a mail without logging in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import now
from flask import Flask
from notification_support import apply
from notification_support import context
from notification_support import eml_files
from notification_support import kinds_of
from notification_support import notices
from notification_support import queued_mails
from notification_support import signed_in
from notification_support import submit_module_evidence
from notification_support import with_notifications

from campus.auth.models import Role
from campus.auth.models import User
from campus.badges.applications import accept_application
from campus.badges.awarding import award
from campus.badges.issuers import get_badge
from campus.badges.models import AwardSource
from campus.badges.models import BadgeApplication
from campus.badges.revocation import revoke
from campus.extensions import db
from campus.notifications import services
from campus.notifications.models import Delivery
from campus.notifications.models import NotificationSetting
from campus.outbox.models import OutboxItem
from campus.paths import services as paths
from campus.paths.kinds.quiz import submit_quiz
from campus.paths.kinds.read import mark_read
from campus.paths.models import EvidenceSubmission
from campus.review.services import review_module_evidence


@pytest.fixture
def app(app: Flask, tmp_path: Path) -> Iterator[Flask]:
    with with_notifications(app, tmp_path) as ready:
        yield ready


@pytest.fixture
def people(app: Flask, make_user, make_org) -> dict[str, int]:
    """The learner reads English (the source strings); others keep the campus default."""
    home, other = make_org("Home"), make_org("Other")
    ids = {
        "learner": make_user("learner@home.fi", organisation_id=home, name="Lea Learner"),
        "reviewer": make_user("rev@home.fi", {Role.REVIEWER}, organisation_id=home),
        "outsider": make_user("rev@other.fi", {Role.REVIEWER}, organisation_id=other),
        "admin": make_user("admin@other.fi", {Role.ADMIN}, organisation_id=other),
        "colleague": make_user("colleague@home.fi", organisation_id=home),
    }
    with app.app_context():
        db.session.get(User, ids["learner"]).locale = "en"
        db.session.commit()
    return ids


def test_evidence_reaches_its_reviewers_and_the_verdict_its_learner(
    app: Flask, people: dict[str, int]
) -> None:
    submission_id = submit_module_evidence(app, people["learner"])
    # New evidence: for the reviewers who may review it (their organisation's, and admins).
    assert kinds_of(app, people["reviewer"]) == ["review_queue"]
    assert kinds_of(app, people["admin"]) == ["review_queue"]
    assert kinds_of(app, people["outsider"]) == []
    assert kinds_of(app, people["learner"]) == kinds_of(app, people["colleague"]) == []
    assert queued_mails(app) == []  # queues go into the daily digest only

    with app.app_context():
        submission = db.session.get(EvidenceSubmission, submission_id)
        reviewer = db.session.get(User, people["reviewer"])
        review_module_evidence(submission, reviewer, False, "Add the workshop feedback.", now())
        db.session.commit()
        [notice] = notices(people["learner"])
        assert notice.kind == "evidence_returned"
        assert notice.params["feedback"] == "Add the workshop feedback."
        assert notice.emailed_at is not None and notice.read_at is None
    assert kinds_of(app, people["outsider"]) == []
    [mail] = queued_mails(app)  # the learner chose nothing: one mail at once
    assert mail["to"] == "learner@home.fi"
    assert mail["subject"] == "Your evidence for “Show your work” was returned"
    assert "Add the workshop feedback." in mail["text"]
    assert "Add the workshop feedback." in mail["html"]
    assert "https://campus.test/paths/advanced/show-your-work" in mail["text"]
    assert mail["unsubscribe_url"].startswith("https://campus.test/notifications/unsubscribe/")
    assert mail["unsubscribe_url"] in mail["text"] and mail["unsubscribe_url"] in mail["html"]
    assert "https://campus.test/notifications/settings" in mail["text"]


def test_an_accepted_application_is_one_notice_naming_the_badge(
    app: Flask, people: dict[str, int]
) -> None:
    application_id = apply(app, people["learner"])
    assert kinds_of(app, people["reviewer"]) == ["review_queue"]
    assert kinds_of(app, people["outsider"]) == []
    with app.app_context():
        application = db.session.get(BadgeApplication, application_id)
        reviewer = db.session.get(User, people["reviewer"])
        accept_application(application, reviewer, "Well documented.", context(app), now())
        db.session.commit()
        [notice] = notices(people["learner"])  # not a second one for the award itself
        assert notice.kind == "evidence_accepted"
        assert notice.params["assertion_id"] == application.assertion_id
    [mail] = queued_mails(app)
    assert mail["subject"] == "Your application for the badge “Reviewed work” was accepted"
    assert "Well documented." in mail["text"]
    assert mail["locale"] == "en" and '<html lang="en"' in mail["html"]


def test_awards_and_revocations_reach_the_holder_only(app: Flask, people: dict[str, int]) -> None:
    with app.app_context():
        learner = db.session.get(User, people["learner"])
        assertion = award(learner, get_badge("basics"), context(app), now(), AwardSource.PATH)
        assert assertion.assertion is not None
        db.session.commit()
        assert revoke(assertion.assertion, "Issued in error", now() + timedelta(hours=1))
        db.session.commit()
        awarded, revoked = notices(people["learner"])
        assert (awarded.kind, revoked.kind) == ("badge_awarded", "badge_revoked")
        assert revoked.params["reason"] == "Issued in error"
    for person in ("reviewer", "outsider", "admin", "colleague"):
        assert kinds_of(app, people[person]) == []
    first, second = queued_mails(app)
    assert first["subject"] == "You earned the badge “Basics badge”"
    assert second["subject"] == "Your badge “Basics badge” was revoked"
    assert "Issued in error" in second["text"]


@pytest.mark.parametrize(
    ("locale", "name"), [("fi", "Perusteet-merkki"), ("en", "Basics badge"), ("sv", None)]
)
def test_mail_is_in_the_recipients_language(
    app: Flask, make_user, locale: str, name: str | None
) -> None:
    user_id = make_user(f"{locale}@example.org")
    with app.app_context():
        user = db.session.get(User, user_id)
        user.locale = locale
        award(user, get_badge("basics"), context(app), now(), AwardSource.PATH)
        db.session.commit()
    [mail] = queued_mails(app)
    assert mail["locale"] == locale
    assert f'<html lang="{locale}"' in mail["html"]
    # Swedish readers get the Finnish badge name (content is written in Finnish and English).
    assert (name or "Perusteet-merkki") in mail["subject"]
    campus = {"fi": "virtuaalinen osaamiskampus", "en": "virtual competence campus"}
    assert campus.get(locale, "virtuellt kompetenscampus") in mail["html"]


def test_delivered_after_the_request_as_a_multipart_mail(app: Flask, people) -> None:
    """Through the web: the learner's mail leaves after the reviewer's request committed."""
    submission_id = submit_module_evidence(app, people["learner"])
    reviewer = signed_in(app, "rev@home.fi")
    response = reviewer.post(
        f"/badges/reviews/evidence/{submission_id}", data={"accept": "1", "feedback": "Great."}
    )
    assert response.status_code == 302
    [path] = eml_files(app)
    message = message_from_bytes(path.read_bytes(), policy=default)
    assert message["To"] == "learner@home.fi"
    assert message["Subject"] == "Your evidence for “Show your work” was accepted"
    assert message["Content-Language"] == "en"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Great." in message.get_body(("plain",)).get_content()
    assert 'lang="en"' in message.get_body(("html",)).get_content()


def test_preferences_off_and_digest_keep_mail_back_but_not_the_notice(
    app: Flask, people: dict[str, int]
) -> None:
    with app.app_context():
        services.save_setting(people["learner"], Delivery.OFF, False, now())
        services.save_setting(people["colleague"], Delivery.DAILY_DIGEST, False, now())
        db.session.commit()
        for who in ("learner", "colleague"):
            user = db.session.get(User, people[who])
            award(user, get_badge("basics"), context(app), now(), AwardSource.PATH)
        db.session.commit()
    assert kinds_of(app, people["learner"]) == ["badge_awarded"]
    assert kinds_of(app, people["colleague"]) == ["badge_awarded"]
    assert queued_mails(app) == []


def test_settings_page(app: Flask, people: dict[str, int], make_user) -> None:
    learner = signed_in(app, "learner@home.fi")
    page = learner.get("/notifications/settings").get_data(as_text=True)
    assert "<legend>E-mail</legend>" in page
    assert re.search(r'<input checked[^>]*value="immediate"', page)
    assert "weekly summary" not in page  # for organisation admins only
    saved = learner.post(
        "/notifications/settings",
        data={"delivery": "daily_digest", "weekly_org_digest": "y"},
        follow_redirects=True,
    )
    assert "Your notification settings were saved." in saved.get_data(as_text=True)
    assert learner.post("/notifications/settings", data={"delivery": "never"}).status_code == 400
    with app.app_context():
        setting = db.session.get(NotificationSetting, people["learner"])
        assert setting.delivery == Delivery.DAILY_DIGEST
        assert setting.weekly_org_digest is False  # not theirs to ask for

    make_user("boss@home.fi", {Role.ORG_ADMIN})
    boss = signed_in(app, "boss@home.fi")
    assert "weekly summary" in boss.get("/notifications/settings").get_data(as_text=True)
    boss.post("/notifications/settings", data={"delivery": "off", "weekly_org_digest": "y"})
    with app.app_context():
        user = db.session.execute(db.select(User).filter_by(email="boss@home.fi")).scalar_one()
        setting = db.session.get(NotificationSetting, user.id)
        assert (setting.delivery, setting.weekly_org_digest) == (Delivery.OFF, True)
    assert app.test_client().get("/notifications/settings").status_code == 302  # log in first


def test_unsubscribe_link_from_the_mail(app: Flask, people: dict[str, int]) -> None:
    with app.app_context():
        services.save_setting(people["learner"], Delivery.IMMEDIATE, True, now())
        award(
            db.session.get(User, people["learner"]),
            get_badge("basics"),
            context(app),
            now(),
            AwardSource.PATH,
        )
        db.session.commit()
    [mail] = queued_mails(app)
    path = urlsplit(mail["unsubscribe_url"]).path
    anonymous = app.test_client()
    anonymous.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    asked = anonymous.get(path)
    assert asked.status_code == 200
    text = asked.get_data(as_text=True)
    assert "le…@home.fi" in text and "learner@home.fi" not in text
    assert f'action="{path}"' in text
    with app.app_context():  # asking changes nothing (mail scanners follow links)
        assert services.setting_for(people["learner"]).delivery == Delivery.IMMEDIATE

    app.config["WTF_CSRF_ENABLED"] = True  # mail clients post without a token (RFC 8058)
    done = anonymous.post(path, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    assert "no more notification e-mails" in done.get_data(as_text=True)
    with app.app_context():
        setting = services.setting_for(people["learner"])
        assert (setting.delivery, setting.weekly_org_digest) == (Delivery.OFF, False)

    other_token = services.unsubscribe_token("another-secret", people["learner"])
    for bad in (other_token, "nonsense", path.rsplit("/", 1)[1][:-2] + "xx"):
        answer = anonymous.get(f"/notifications/unsubscribe/{bad}")
        assert answer.status_code == 404
        assert "This unsubscribe link is not valid." in answer.get_data(as_text=True)
        assert anonymous.post(f"/notifications/unsubscribe/{bad}").status_code == 404


def test_header_count_list_and_marking_read(app: Flask, people: dict[str, int]) -> None:
    with app.app_context():
        learner = db.session.get(User, people["learner"])
        award(learner, get_badge("basics"), context(app), now(), AwardSource.PATH)
        award(learner, get_badge("reviewed"), context(app), now(), AwardSource.BULK)
        db.session.commit()  # and the milestone "both", which these two complete
        first, second, third = (notice.id for notice in notices(people["learner"]))
    client = signed_in(app, "learner@home.fi")
    home = client.get("/").get_data(as_text=True)
    assert (
        'Notifications <span class="count">3</span><span class="visually-hidden"> unread</span>'
    ) in home
    page = client.get("/notifications/").get_data(as_text=True)
    assert "3 unread notifications." in page
    assert "You earned the badge “Basics badge”" in page and "Reviewed work" in page
    assert 'href="/notifications/" aria-current="page"' in page

    outsider = signed_in(app, "rev@other.fi")
    assert outsider.post(f"/notifications/{first}/read").status_code == 404
    assert outsider.get(f"/notifications/{first}").status_code == 404
    assert "Notifications</a>" in outsider.get("/").get_data(as_text=True)  # no count: none

    assert client.post(f"/notifications/{first}/read").status_code == 302
    assert '<span class="count">2</span>' in client.get("/").get_data(as_text=True)
    page = client.get("/notifications/").get_data(as_text=True)
    assert page.index(f"/notifications/{third}") < page.index("Basics badge")  # unread first
    opened = client.get(f"/notifications/{second}")  # following it marks it read
    assert opened.status_code == 302 and opened.location.startswith("/badges/a/")
    assert '<span class="count">1</span>' in client.get("/").get_data(as_text=True)
    marked = client.post("/notifications/read", follow_redirects=True)
    assert "1 notification(s) marked as read." in marked.get_data(as_text=True)
    assert "No unread notifications." in marked.get_data(as_text=True)
    assert '<span class="count">' not in marked.get_data(as_text=True)
    with app.app_context():
        assert services.unread_count(people["learner"]) == 0
    assert client.get("/notifications/?page=2").status_code == 404
    assert app.test_client().get("/notifications/").status_code == 302


def test_a_broken_notification_never_undoes_the_review(
    app: Flask, people: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    submission_id = submit_module_evidence(app, people["learner"])

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("template error")

    monkeypatch.setattr("campus.notifications.mails.render_mail", broken)
    reviewer = signed_in(app, "rev@home.fi")
    response = reviewer.post(f"/badges/reviews/evidence/{submission_id}", data={"accept": "1"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(EvidenceSubmission, submission_id).status == "accepted"
    # The notice is kept; its mail, rendered after the commit, fails and waits for a retry.
    assert kinds_of(app, people["learner"]) == ["evidence_accepted"]
    assert queued_mails(app) == []
    with app.app_context():
        [item] = db.session.execute(db.select(OutboxItem)).scalars()
        assert (item.kind, item.status) == ("notification.mail", "pending")
        assert "template error" in item.last_error


def test_deleting_the_account_erases_its_notices_and_mails(
    app: Flask, people: dict[str, int]
) -> None:
    from campus.auth.data_export import personal_data
    from campus.auth.deletion import delete_account

    submission_id = submit_module_evidence(app, people["learner"])
    with app.app_context():
        learner = db.session.get(User, people["learner"])
        award(learner, get_badge("basics"), context(app), now(), AwardSource.PATH)
        services.save_setting(learner.id, Delivery.DAILY_DIGEST, False, now())
        db.session.commit()
        exported = personal_data(learner)["notifications"]  # in "Download my data"
        assert exported["settings"]["delivery"] == "daily_digest"
        assert [n["kind"] for n in exported["notifications"]] == ["badge_awarded"]
        delete_account(learner, keep_badges=False, now=now())  # revoking notifies: erased too
        db.session.commit()
        assert notices(people["learner"]) == []
        assert db.session.get(NotificationSetting, people["learner"]) is None
        [queue_item] = notices(people["reviewer"])  # the reviewer's list no longer names them
        assert queue_item.params["submission_id"] == submission_id
    assert [mail for mail in queued_mails(app) if mail.get("to") == "learner@home.fi"] == []
    page = signed_in(app, "rev@home.fi").get("/notifications/").get_data(as_text=True)
    assert "New evidence to review from —" in page and "Lea Learner" not in page


def test_a_path_badge_earned_on_a_page_is_mailed_through_the_outbox(
    app: Flask, people: dict[str, int]
) -> None:
    """The award is itself a follow-up; its mail is one more, sent at the latest by cron."""
    with app.app_context():
        learner = db.session.get(User, people["learner"])
        path = paths.get_path("basics")
        mark_read(learner, paths.get_module(path, "welcome"), now())
        answers = {"q1": ["b"], "q2": ["a", "c"], "q3": ["a"]}
        submit_quiz(learner, paths.get_module(path, "check-quiz"), answers, now())
        db.session.commit()
    client = signed_in(app, "learner@home.fi")
    text = "Reflection long enough to count here, really."
    client.post("/paths/basics/my-thoughts/reflection", data={"text": text})
    assert kinds_of(app, people["learner"]) == ["badge_awarded"]
    result = app.test_cli_runner().invoke(args=["outbox", "run"])
    assert result.exit_code == 0, result.output
    [path] = eml_files(app)
    message = message_from_bytes(path.read_bytes(), policy=default)
    assert message["Subject"] == "You earned the badge “Basics badge”"
