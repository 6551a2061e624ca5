"""Tables of e-mail verification (campus.auth.verification): pending address changes and the
hourly bound on verification mails."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from campus.extensions import db


class EmailChange(db.Model):
    """An address someone asked to log in with: the login address changes only when the link
    mailed there is followed. One per account; a newer request replaces it."""

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    new_email: Mapped[str] = mapped_column(String(254))
    requested_at: Mapped[datetime] = mapped_column()


class VerificationRequest(db.Model):
    """Verification mails sent and address changes tried, per account, kept one hour: the
    bound that stops anyone using the campus to flood an inbox or to probe for accounts."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    requested_at: Mapped[datetime] = mapped_column(index=True)
