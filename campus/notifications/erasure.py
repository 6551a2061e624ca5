"""Data rights: a deleted account's notifications and settings go (they hold reviewers'
feedback and names), and the data download has them (the `notifications` section)."""

from __future__ import annotations

from typing import Any

from campus.auth.data_export import exports
from campus.auth.data_export import time_text
from campus.auth.deletion import Erasure
from campus.auth.deletion import erases
from campus.auth.models import User
from campus.extensions import db
from campus.notifications.models import Notification
from campus.notifications.models import NotificationSetting


@erases("notifications")
def erase_notifications(erasure: Erasure) -> None:
    user_id = erasure.user.id
    for model in (Notification, NotificationSetting):
        db.session.execute(
            db.delete(model)
            .where(model.user_id == user_id)
            .execution_options(synchronize_session=False)
        )


@exports("notifications")
def personal_data(user: User) -> dict[str, Any]:
    """The person's notification settings and notifications (what they were about: ids and
    data, as stored)."""
    setting = db.session.get(NotificationSetting, user.id)
    rows = db.session.execute(
        db.select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
    ).scalars()
    return {
        "settings": {
            "delivery": str(setting.delivery) if setting else "immediate",
            "weekly_org_digest": bool(setting.weekly_org_digest) if setting else False,
        },
        "notifications": [
            {
                "kind": row.kind,
                "params": row.params,
                "created_at": time_text(row.created_at),
                "read_at": time_text(row.read_at),
                "emailed_at": time_text(row.emailed_at),
                "digest_sent_at": time_text(row.digest_sent_at),
            }
            for row in rows
        ],
    }
