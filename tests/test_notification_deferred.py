"""Notification mails are rendered after the commit (issue 16): an award writes the notice and a
small outbox item; the outbox renders the mail in the recipient's language of that moment,
exactly once, and nothing at all when the award rolls back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from conftest import now
from flask import Flask
from notification_support import context
from notification_support import notices
from notification_support import with_notifications

from campus.auth.models import User
from campus.badges.awarding import award
from campus.badges.issuers import get_badge
from campus.badges.models import AwardSource
from campus.badges.transaction_cache import in_transaction
from campus.extensions import db
from campus.mailing import MAIL_SEND
from campus.notifications import mails
from campus.notifications.mails import NOTIFICATION_MAIL
from campus.notifications.models import Notification
from campus.outbox.models import OutboxItem
from campus.outbox.services import run_due


@pytest.fixture
def app(app: Flask, tmp_path: Path) -> Iterator[Flask]:
    with with_notifications(app, tmp_path) as ready:
        yield ready


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The locale of every notification mail rendered."""
    seen: list[str] = []
    real = mails.render_mail

    def counting(template: str, locale: str | None, **kwargs: Any) -> tuple[str, str]:
        seen.append(str(locale))
        return real(template, locale, **kwargs)

    monkeypatch.setattr(mails, "render_mail", counting)
    return seen


def _items(kind: str) -> list[OutboxItem]:
    return list(
        db.session.execute(
            db.select(OutboxItem).where(OutboxItem.kind == kind).order_by(OutboxItem.id)
        ).scalars()
    )


def _run_outbox(times: int = 2) -> None:
    """As cron would: each run takes what is due, including what the previous run queued."""
    for _ in range(times):
        run_due(now() + timedelta(minutes=1), timeout=5.0)


def _award(app: Flask, user_id: int) -> None:
    award(db.session.get(User, user_id), get_badge("basics"), context(app), now(), AwardSource.PATH)


def test_the_award_queues_a_small_item_and_the_outbox_renders_one_mail(
    app: Flask, make_user, renders: list[str]
) -> None:
    user_id = make_user("lea@example.org")
    with app.app_context():
        db.session.get(User, user_id).locale = "en"
        _award(app, user_id)
        db.session.commit()
        assert renders == []  # nothing rendered while the award's transaction was open
        [item] = _items(NOTIFICATION_MAIL)
        [notice] = notices(user_id)
        assert item.payload == {"notification_id": notice.id, "to": "lea@example.org"}
        assert item.user_id == user_id and notice.emailed_at is not None
        assert _items(MAIL_SEND) == []
        _run_outbox(times=3)
        assert renders == ["en"]  # exactly once, however often the outbox runs
        [mail] = _items(MAIL_SEND)
        assert (
            mail.status == "done"
            and mail.payload["subject"] == "You earned the badge “Basics badge”"
        )
        assert _items(NOTIFICATION_MAIL)[0].status == "done"
    assert len(list((Path(app.config["MAIL_DIR"])).glob("*.eml"))) == 1


def test_the_mail_is_in_the_language_the_person_has_when_it_is_rendered(
    app: Flask, make_user, renders: list[str]
) -> None:
    user_id = make_user("lea@example.org")
    with app.app_context():
        db.session.get(User, user_id).locale = "en"
        _award(app, user_id)
        db.session.commit()
        db.session.get(User, user_id).locale = "fi"  # changed before the outbox ran
        db.session.commit()
        _run_outbox()
        assert renders == ["fi"]
        [mail] = _items(MAIL_SEND)
        assert "Perusteet-merkki" in mail.payload["subject"]
    [path] = Path(app.config["MAIL_DIR"]).glob("*.eml")
    message = message_from_bytes(path.read_bytes(), policy=default)
    assert message["Content-Language"] == "fi"
    assert 'lang="fi"' in message.get_body(("html",)).get_content()


def test_nothing_is_queued_or_sent_when_the_award_rolls_back(
    app: Flask, make_user, renders: list[str]
) -> None:
    user_id = make_user("lea@example.org")
    with app.app_context():
        _award(app, user_id)
        assert len(_items(NOTIFICATION_MAIL)) == 1  # written in the award's transaction
        db.session.rollback()
        _run_outbox()
        assert notices(user_id) == []
        assert db.session.execute(db.select(OutboxItem)).first() is None
    assert renders == []


def test_a_notice_erased_before_its_turn_is_not_mailed(
    app: Flask, make_user, renders: list[str]
) -> None:
    user_id = make_user("lea@example.org")
    with app.app_context():
        _award(app, user_id)
        db.session.commit()
        db.session.execute(db.delete(Notification))
        db.session.commit()
        _run_outbox()
        assert [item.status for item in _items(NOTIFICATION_MAIL)] == ["done"]
        assert _items(MAIL_SEND) == []
    assert renders == []


def test_many_awards_in_one_transaction_render_nothing_until_it_commits(
    app: Flask, make_user, renders: list[str]
) -> None:
    ids = [make_user(f"u{i}@example.org") for i in range(5)]
    with app.app_context():
        for number, user_id in enumerate(ids):
            db.session.get(User, user_id).locale = "en" if number % 2 else "fi"
        for user_id in ids:
            _award(app, user_id)
        db.session.commit()
        assert renders == [] and len(_items(NOTIFICATION_MAIL)) == 5
        _run_outbox()
        assert sorted(renders) == ["en", "en", "fi", "fi", "fi"]
        sent = {item.payload["to"]: item.payload["subject"] for item in _items(MAIL_SEND)}
        assert len(sent) == 5
        assert "Basics badge" in sent["u1@example.org"]
        assert "Perusteet-merkki" in sent["u0@example.org"]


def test_choices_hold_mail_back_in_a_large_batch_too(app: Flask, make_user) -> None:
    """After a few look-ups, a transaction reads every non-default choice at once."""
    from campus.notifications import services
    from campus.notifications.models import Delivery

    ids = [make_user(f"u{i}@example.org") for i in range(16)]
    with app.app_context():
        services.save_setting(ids[3], Delivery.OFF, False, now())
        services.save_setting(ids[14], Delivery.DAILY_DIGEST, False, now())
        db.session.commit()
        for user_id in ids[:12]:  # the prefetch happens on the 11th
            _award(app, user_id)
        assert "choices" in in_transaction(services.CHOICES)
        services.save_setting(ids[15], Delivery.OFF, False, now())  # seen by the batch
        services.save_setting(ids[3], Delivery.IMMEDIATE, False, now())
        for user_id in ids[12:]:
            _award(app, user_id)
        db.session.commit()
        assert "choices" not in in_transaction(services.CHOICES)  # the next one reads again
        mailed = {item.user_id for item in _items(NOTIFICATION_MAIL)}
        assert mailed == set(ids) - {ids[3], ids[14], ids[15]}
        assert all(len(notices(user_id)) == 1 for user_id in ids)
