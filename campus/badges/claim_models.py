"""Badge claims: awards that wait for a verified address.

A claim is made when a badge is awarded to an address nobody has verified yet: an unknown
address (the person has no account: a claim mail invites them) or an account whose address is
not confirmed (a held award, `user_id` set). It is issued once the person verifies that address.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from campus.badges.models import AwardSource
from campus.badges.models import BadgeClass
from campus.extensions import EnumText
from campus.extensions import db


class BadgeClaim(db.Model):
    """One award waiting for `email` (normalised). `open_key` is "<badge>:<email>" while the claim
    is open and NULL once issued or cancelled, so the database keeps one open claim per badge
    and address (a double click or a second CSV row finds the first)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    badge_class_id: Mapped[int] = mapped_column(ForeignKey("badge_class.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    open_key: Mapped[str | None] = mapped_column(String(300), unique=True)
    source: Mapped[AwardSource] = mapped_column(EnumText(AwardSource, 16))
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    claim_mail_sent_at: Mapped[datetime | None]
    issued_assertion_id: Mapped[int | None] = mapped_column(
        ForeignKey("assertion.id", ondelete="SET NULL")
    )
    issued_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]

    badge_class: Mapped[BadgeClass] = relationship()

    @property
    def is_open(self) -> bool:
        return self.issued_at is None and self.cancelled_at is None


def open_key(badge: BadgeClass, email: str) -> str:
    return f"{badge.id}:{email}"
