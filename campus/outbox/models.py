"""What follows a completion (a badge, a grade for the LMS, later a mail), written with it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from campus.auth.models import utcnow
from campus.extensions import EnumText
from campus.extensions import db


class OutboxStatus(StrEnum):
    PENDING = "pending"  # waiting for its first run or for a retry
    RUNNING = "running"  # claimed by a runner (a stale claim is taken over)
    DONE = "done"
    FAILED = "failed"  # gave up after the last retry; an admin may retry it


class OutboxItem(db.Model):
    """One follow-up: its handler `kind`, what the handler needs, and how its runs went."""

    __tablename__ = "outbox_item"
    __table_args__ = (Index("ix_outbox_item_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Whose action it follows (the learner who completed): announcements go only to them.
    user_id: Mapped[int | None] = mapped_column(index=True)
    status: Mapped[OutboxStatus] = mapped_column(
        EnumText(OutboxStatus, 16), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
