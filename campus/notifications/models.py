"""Notifications (one row per message to one person) and each person's delivery choice.

A row stores what happened as ids and data (`params`), never translated text: the list page and
the mails render it in whatever language the reader has when they read it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from campus.clock import utcnow
from campus.extensions import EnumText
from campus.extensions import db


class Delivery(StrEnum):
    IMMEDIATE = "immediate"  # one mail per notification, right after it happens
    DAILY_DIGEST = "daily_digest"  # one mail a day (`flask notifications daily`)
    OFF = "off"  # in the campus only


class Notification(db.Model):
    """One message to one person. `once_key` makes "once per thing" notices (a badge about to
    expire, a week's progress) unique per person and kind, so a second scan adds nothing."""

    __table_args__ = (
        # The header's unread count: WHERE user_id = ? AND read_at IS NULL.
        Index("ix_notification_unread", "user_id", "read_at"),
        UniqueConstraint("user_id", "kind", "once_key", name="uq_notification_once"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    once_key: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
    emailed_at: Mapped[datetime | None]  # queued as its own mail (the outbox delivers it)
    digest_sent_at: Mapped[datetime | None]  # taken into a daily digest
    # Never mailed, whatever the person chose (failures of mail itself: no mail about mail).
    in_app_only: Mapped[bool] = mapped_column(default=False)
    # Mailed only in the daily digest, also to people who chose one mail per notification.
    digest_only: Mapped[bool] = mapped_column(default=False)


class NotificationSetting(db.Model):
    """A person's choice; no row means the defaults (mail at once, no weekly digest)."""

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    delivery: Mapped[Delivery] = mapped_column(EnumText(Delivery, 16), default=Delivery.IMMEDIATE)
    # Organisation admins' weekly progress mail (opt-in).
    weekly_org_digest: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
