"""Data rights: a deleted account's notifications and settings go (they hold reviewers'
feedback and names); the data download lists them (`personal_data`)."""

from __future__ import annotations

from typing import Any

from campus.auth.deletion import Erasure
from campus.auth.deletion import erases
from campus.clock import aware_or_none
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


def _time(value: Any) -> str | None:
    moment = aware_or_none(value)
    return moment.isoformat() if moment is not None else None


def personal_data(user_id: int) -> dict[str, Any]:
    """The person's notification settings and notifications, for campus.auth.data_export."""
    setting = db.session.get(NotificationSetting, user_id)
    rows = db.session.execute(
        db.select(Notification).where(Notification.user_id == user_id).order_by(Notification.id)
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
                "created_at": _time(row.created_at),
                "read_at": _time(row.read_at),
                "emailed_at": _time(row.emailed_at),
                "digest_sent_at": _time(row.digest_sent_at),
            }
            for row in rows
        ],
    }
