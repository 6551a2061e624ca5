"""Shared set-up of the notification tests: the capability on the test app, people in two
organisations, evidence for review, and the mails the outbox holds."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from pathlib import Path
from typing import Any

from conftest import PASSWORD
from conftest import now
from flask import Flask
from flask.testing import FlaskClient

from campus.auth.models import User
from campus.badges.applications import apply_for_badge
from campus.badges.issuers import IssuingContext
from campus.badges.issuers import get_badge
from campus.extensions import db
from campus.mailing import MAIL_SEND
from campus.notifications.models import Notification
from campus.outbox.models import OutboxItem
from campus.paths import services as paths
from campus.paths.kinds.evidence import submit_evidence
from campus.paths.models import PathCompletion
from campus.paths.uploads import EvidenceFile
from campus.paths.uploads import UploadRules


@contextmanager
def with_notifications(app: Flask, tmp_path: Path) -> Iterator[Flask]:
    """The test app with this capability (also before the factory lists it) and a mail folder.

    Signal receivers are process-wide: when this added them, they are taken back afterwards,
    so that later test modules run as their factory made their apps.
    """
    added = "notifications" not in app.blueprints
    if added:
        from campus import notifications

        notifications.init_app(app)
        with app.app_context():
            db.create_all()
    app.config["MAIL_DIR"] = str(tmp_path / "mail")
    try:
        yield app
    finally:
        if added:
            from campus.notifications.events import disconnect_receivers

            disconnect_receivers()


def signed_in(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.post("/auth/login", data={"email": email, "password": PASSWORD})
    return client


def context(app: Flask) -> IssuingContext:
    return IssuingContext.from_config(app.config)


def submit_module_evidence(app: Flask, learner_id: int) -> int:
    """Evidence for the advanced path's evidence module (its prerequisite marked done)."""
    with app.app_context():
        learner = db.session.get(User, learner_id)
        db.session.add(
            PathCompletion(
                user_id=learner_id, path_id=paths.get_path("basics").id, completed_at=now()
            )
        )
        submission = submit_evidence(
            learner,
            paths.get_module(paths.get_path("advanced"), "show-your-work"),
            "My plan, my workshop and the feedback I got.",
            None,
            EvidenceFile("plan.pdf", io.BytesIO(b"%PDF-1.4 plan")),
            UploadRules.from_config(app.config),
            now(),
        )
        db.session.commit()
        return submission.id


def apply(app: Flask, learner_id: int) -> int:
    with app.app_context():
        application = apply_for_badge(
            db.session.get(User, learner_id),
            get_badge("reviewed"),
            "Three workshops for my colleagues, with feedback.",
            "https://example.org/report",
            None,
            UploadRules(Path("/nonexistent"), ("pdf",), 10),
            now(),
        )
        db.session.commit()
        return application.id


def notices(user_id: int) -> list[Notification]:
    """Inside an app context: the person's notifications, oldest first."""
    return list(
        db.session.execute(
            db.select(Notification).where(Notification.user_id == user_id).order_by(Notification.id)
        ).scalars()
    )


def kinds_of(app: Flask, user_id: int) -> list[str]:
    with app.app_context():
        return [notice.kind for notice in notices(user_id)]


def queued_mails(app: Flask) -> list[dict[str, Any]]:
    """Payloads of every mail written to the outbox (done ones keep only to and subject), once
    the notices committed so far are rendered (as the outbox runner would render them)."""
    with app.app_context():
        render_deferred_mails()
        return [
            item.payload
            for item in db.session.execute(
                db.select(OutboxItem).where(OutboxItem.kind == MAIL_SEND).order_by(OutboxItem.id)
            ).scalars()
        ]


def render_deferred_mails() -> None:
    """Inside an app context: run the pending notice-rendering items (not the mails)."""
    from campus.notifications.mails import NOTIFICATION_MAIL
    from campus.outbox.services import run_item

    pending = db.session.execute(
        db.select(OutboxItem.id, OutboxItem.next_attempt_at)
        .where(OutboxItem.kind == NOTIFICATION_MAIL, OutboxItem.status == "pending")
        .order_by(OutboxItem.id)
    ).all()
    for item_id, due in pending:  # each when it is due (a notice may be dated after now())
        run_item(item_id, max(now(), due.replace(tzinfo=UTC)), 5.0)


def eml_files(app: Flask) -> list[Path]:
    folder = Path(app.config["MAIL_DIR"])
    return sorted(folder.glob("*.eml")) if folder.exists() else []
