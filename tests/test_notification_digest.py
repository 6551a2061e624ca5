"""Scheduled notifications (issue 12): the daily digest, badges about to expire, organisation
admins' weekly summary, failed follow-ups for admins; each sent once however often it runs, and
through the outbox, which waits out a mail server that is down."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import now
from flask import Flask
from notification_support import context
from notification_support import kinds_of
from notification_support import notices
from notification_support import queued_mails
from notification_support import submit_module_evidence
from notification_support import with_notifications
from smtp_support import smtp_server  # noqa: F401

from campus.auth.models import Role
from campus.auth.models import User
from campus.badges.awarding import award
from campus.badges.issuers import get_badge
from campus.badges.models import Assertion
from campus.badges.models import AwardSource
from campus.badges.revocation import revoke
from campus.clock import utcnow
from campus.extensions import db
from campus.notifications import digest
from campus.notifications import services
from campus.notifications.events import outbox_item_failed
from campus.notifications.models import Delivery
from campus.outbox import services as outbox
from campus.outbox.models import OutboxItem
from campus.outbox.models import OutboxStatus
from campus.outbox.services import enqueue
from campus.outbox.services import handler
from campus.paths import services as paths
from campus.paths.models import Completion
from campus.paths.models import CompletionSource
from campus.paths.models import PathCompletion


@pytest.fixture
def app(app: Flask, tmp_path: Path) -> Iterator[Flask]:
    with with_notifications(app, tmp_path) as ready:
        yield ready


def _english(app: Flask, user_id: int, delivery: Delivery = Delivery.IMMEDIATE) -> None:
    with app.app_context():
        db.session.get(User, user_id).locale = "en"
        services.save_setting(user_id, delivery, False, now())
        db.session.commit()


def _award(app: Flask, user_id: int, slug: str, moment=None) -> Assertion:  # type: ignore[no-untyped-def]
    user = db.session.get(User, user_id)
    result = award(user, get_badge(slug), context(app), moment or now(), AwardSource.BULK)
    assert result.assertion is not None
    return result.assertion


def _daily(app: Flask) -> str:
    result = app.test_cli_runner().invoke(args=["notifications", "daily"])
    assert result.exit_code == 0, result.output
    return result.output


def test_daily_digest_collects_everything_once(app: Flask, make_user, make_org) -> None:
    home = make_org("Home")
    digest_id = make_user("digest@home.fi", organisation_id=home)
    off_id = make_user("off@home.fi", organisation_id=home)
    reviewer_id = make_user("rev@home.fi", {Role.REVIEWER}, organisation_id=home)
    _english(app, digest_id, Delivery.DAILY_DIGEST)
    _english(app, off_id, Delivery.OFF)
    _english(app, reviewer_id)  # mail at once, but queues come in the digest
    with app.app_context():
        badge_id = _award(app, digest_id, "basics").id
        _award(app, digest_id, "reviewed")  # and the milestone "both"
        _award(app, off_id, "basics")
        db.session.commit()
    submit_module_evidence(app, off_id)  # a new item in the reviewer's queue
    assert queued_mails(app) == []  # nothing yet: digest, off, and a digest-only queue item

    assert "2 digest(s) queued" in _daily(app)
    mails = {mail["to"]: mail for mail in queued_mails(app)}
    assert sorted(mails) == ["digest@home.fi", "rev@home.fi"]
    mine = mails["digest@home.fi"]
    assert mine["subject"] == "3 new notifications from Campus — virtual competence campus"
    for name in ("Basics badge", "Reviewed work", "Both"):
        assert f"You earned the badge “{name}”" in mine["text"]
        assert f"You earned the badge “{name}”" in mine["html"]
    assert '<html lang="en"' in mine["html"] and mine["unsubscribe_url"] in mine["text"]
    queue = mails["rev@home.fi"]
    assert queue["subject"] == "1 new notification from Campus — virtual competence campus"
    assert "New evidence to review from Off" in queue["text"]
    assert "https://campus.test/badges/reviews" in queue["text"]

    assert "0 digest(s) queued" in _daily(app)  # again: nothing is sent twice
    assert len(queued_mails(app)) == 2
    with app.app_context():
        assert all(n.digest_sent_at is not None for n in notices(digest_id))
        assert all(n.digest_sent_at is None and n.emailed_at is None for n in notices(off_id))
        assert kinds_of(app, off_id) == ["badge_awarded"]  # still in the campus

    # Earned later the same day: tomorrow's digest (one a day, however often cron runs it).
    with app.app_context():
        revoke(db.session.get(Assertion, badge_id), "Issued in error", utcnow())
        db.session.commit()
    assert "0 digest(s) queued" in _daily(app)
    with app.app_context():
        assert digest.send_daily_digests(utcnow() + timedelta(days=1)) == 1
        db.session.commit()
    assert "Your badge “Basics badge” was revoked" in queued_mails(app)[-1]["text"]

    # Read in the campus before the digest ran: not mailed again.
    with app.app_context():
        _award(app, digest_id, "basics", utcnow())  # earned again
        db.session.commit()
        services.mark_all_read(digest_id, utcnow())
        db.session.commit()
        assert digest.send_daily_digests(utcnow() + timedelta(days=3)) == 0


def test_a_failing_mail_server_gets_the_digest_once_it_is_back(
    app: Flask,
    make_user,
    smtp_server,  # noqa: F811
) -> None:
    learner_id = make_user("learner@example.org")
    _english(app, learner_id, Delivery.DAILY_DIGEST)
    with app.app_context():
        _award(app, learner_id, "basics")
        db.session.commit()
    smtp_server.configure(app)
    smtp_server.stop()  # connections refused
    _daily(app)
    with app.app_context():
        assert outbox.run_due(utcnow(), timeout=5) == (0, 1)
        [item] = db.session.execute(db.select(OutboxItem)).scalars()
        assert item.status == OutboxStatus.PENDING and "MailError" in item.last_error
    assert smtp_server.messages == []

    smtp_server.start()
    with app.app_context():
        assert outbox.run_due(utcnow() + timedelta(minutes=5), timeout=5) == (1, 0)
    [message] = smtp_server.wait_for(1)
    assert message["To"] == "learner@example.org"
    assert message["Subject"] == "1 new notification from Campus — virtual competence campus"
    assert message["Content-Language"] == "en"
    assert message["List-Unsubscribe"].startswith("<https://campus.test/notifications/unsub")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = message.get_body(("plain",)).get_content()
    assert "You earned the badge “Basics badge”" in text
    assert "https://campus.test/notifications/settings" in text
    html = message.get_body(("html",)).get_content()
    assert '<html lang="en"' in html and "Basics badge" in html

    _daily(app)
    with app.app_context():
        assert outbox.run_due(utcnow() + timedelta(days=1), timeout=5) == (0, 0)
    assert len(smtp_server.messages) == 1


def test_expiring_badges_are_notified_once_with_the_way_to_renew(app: Flask, make_user) -> None:
    learner_id = make_user()
    _english(app, learner_id)
    with app.app_context():
        review_badge = _award(app, learner_id, "reviewed", now() - timedelta(days=350))
        path_badge = _award(app, learner_id, "basics")
        path_badge.expires_at = now() + timedelta(days=20)
        db.session.commit()
        assert digest.notify_expiring_badges(now() - timedelta(days=30)) == 0  # not yet
        assert digest.notify_expiring_badges(now()) == 2
        db.session.commit()
        assert digest.notify_expiring_badges(now() + timedelta(days=1)) == 0  # once each
        expiring = [n for n in notices(learner_id) if n.kind == "badge_expiring"]
        assert {n.params["assertion_id"] for n in expiring} == {review_badge.id, path_badge.id}
    by_link = {mail["subject"]: mail["text"] for mail in queued_mails(app)}
    path_mail = by_link["Your badge “Basics badge” expires on December 13, 2026"]
    assert "completing the path “Basics” again" in path_mail
    assert "https://campus.test/paths/basics" in path_mail
    review_mail = by_link["Your badge “Reviewed work” expires on December 8, 2026"]
    assert "https://campus.test/badges/reviewed" in review_mail

    with app.app_context():  # revoked or renewed badges are not announced
        other = make_user("other@example.org")
        gone = _award(app, other, "reviewed", utcnow() - timedelta(days=350))
        gone.revoked_at, gone.active_key = utcnow(), None
        db.session.commit()
    assert "0 expiring badge(s) notified" in _daily(app)


def test_weekly_summary_for_organisation_admins_who_asked(app: Flask, make_user, make_org) -> None:
    home, other = make_org("Home"), make_org("Other")
    boss_id = make_user("boss@home.fi", {Role.ORG_ADMIN}, organisation_id=home)
    quiet_id = make_user("quiet@home.fi", {Role.ORG_ADMIN}, organisation_id=home)
    other_boss = make_user("boss@other.fi", {Role.ORG_ADMIN}, organisation_id=other)
    learner_id = make_user("learner@home.fi", organisation_id=home)
    idle_id = make_user("idle@home.fi", organisation_id=home)
    outsider_id = make_user("learner@other.fi", organisation_id=other)
    moment = utcnow()
    with app.app_context():
        db.session.get(User, boss_id).locale = "en"
        services.save_setting(boss_id, Delivery.OFF, True, moment)  # the weekly is its own choice
        services.save_setting(other_boss, Delivery.IMMEDIATE, True, moment)
        basics = paths.get_path("basics")
        for user_id, days in ((learner_id, 2), (outsider_id, 1), (idle_id, 20)):
            db.session.add(
                PathCompletion(
                    user_id=user_id, path_id=basics.id, completed_at=moment - timedelta(days=days)
                )
            )
            db.session.add(
                Completion(
                    user_id=user_id,
                    module_id=basics.modules[0].id,
                    completed_at=moment - timedelta(days=days),
                    source=CompletionSource.SELF,
                )
            )
        _award(app, learner_id, "basics", moment - timedelta(days=2))
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["notifications", "weekly"])
    assert "2 weekly summary(ies) queued." in result.output
    result = app.test_cli_runner().invoke(args=["notifications", "weekly"])
    assert "0 weekly summary(ies) queued." in result.output  # once a week
    assert kinds_of(app, quiet_id) == []
    with app.app_context():
        [weekly] = notices(boss_id)
        counts = {key: weekly.params[key] for key in ("paths", "modules", "badges", "active")}
        assert counts == {"paths": 1, "modules": 1, "badges": 1, "active": 1}
    mails = {mail["to"]: mail for mail in queued_mails(app) if mail["to"].startswith("boss")}
    assert sorted(mails) == ["boss@home.fi", "boss@other.fi"]  # not quiet@, who did not ask
    mail = mails["boss@home.fi"]
    assert mail["subject"].startswith("Progress of Home, ")
    for line in ("1 path completed", "1 module completed", "1 badge earned", "1 person active"):
        assert line in mail["text"] and line in mail["html"]
    assert f"https://campus.test/manage/organisations/{home}/progress" in mail["text"]


def _failed_item(kind: str, error: str) -> OutboxItem:
    item = OutboxItem(
        kind=kind, payload={}, status=OutboxStatus.FAILED, attempts=10, last_error=error
    )
    item.finished_at = now()
    db.session.add(item)
    db.session.flush()
    return item


def test_admins_hear_of_failed_follow_ups_once_a_day_per_kind(app: Flask, make_user) -> None:
    admin_id = make_user("admin@example.org", {Role.ADMIN})
    learner_id = make_user()
    _english(app, admin_id)
    with app.app_context():
        outbox_item_failed.send(_failed_item("lti.grade", "HTTPError: 503"))
        outbox_item_failed.send(_failed_item("lti.grade", "HTTPError: 502"))
        outbox_item_failed.send(_failed_item("mail.send", "MailError: refused"))
        db.session.commit()
        grade, mail_failure = notices(admin_id)
        assert grade.params["count"] == 2 and grade.params["error"] == "HTTPError: 502"
        assert mail_failure.in_app_only and mail_failure.emailed_at is None
    assert kinds_of(app, learner_id) == []
    [mail] = [m for m in queued_mails(app) if m.get("to")]  # no mail about a failed mail
    # Rendered after the commit: the one mail tells of both failures, with the latest error.
    assert mail["to"] == "admin@example.org" and "HTTPError: 502" in mail["text"]
    assert "2 follow-ups of this kind" in mail["text"]
    assert "https://campus.test/manage/follow-ups/" in mail["text"]
    assert "0 digest(s) queued" in _daily(app)


@handler("tests.always-fails")
def _always_fails(payload: dict, now_: object, timeout: float) -> None:
    raise RuntimeError("the LMS is down")


@pytest.mark.skipif(
    "outbox_item_failed" not in inspect.getsource(outbox),
    reason="needs the hook in campus/outbox/services.py (_record_failure)",
)
def test_a_follow_up_giving_up_notifies_admins(app: Flask, make_user) -> None:
    admin_id = make_user("admin@example.org", {Role.ADMIN})
    app.config["OUTBOX_MAX_ATTEMPTS"] = 1
    with app.app_context():
        item = enqueue("tests.always-fails", {}, now())
        db.session.commit()
        outbox.run_item(item.id, now(), 5.0)
        assert db.session.get(OutboxItem, item.id).status == OutboxStatus.FAILED
        [notice] = notices(admin_id)
        assert notice.kind == "followup_failed" and "the LMS is down" in notice.params["error"]
