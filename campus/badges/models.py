"""Issuers, signing keys, badge classes, assertions and badge applications."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import LargeBinary
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from campus.auth.models import User
from campus.clock import utcnow
from campus.extensions import EnumText
from campus.extensions import db
from campus.insert_once import one_waiting

Texts = dict[str, str]


class AwardSource(enum.StrEnum):
    PATH = "path"
    MILESTONE = "milestone"
    REVIEW = "review"
    BULK = "bulk"


class ApplicationStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    RETURNED = "returned"


class AwardRule(enum.StrEnum):
    """`badge.toml`'s `award`, besides "path:<slug>" (see PATH_RULE_PREFIX)."""

    REVIEW = "review"
    MILESTONE = "milestone"


PATH_RULE_PREFIX = "path:"


class AssertionStatus(enum.StrEnum):
    """What a page shows for one award (computed, never stored)."""

    VALID = "valid"
    EXPIRED = "expired"
    REVOKED = "revoked"


class Issuer(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(500))
    email: Mapped[str] = mapped_column(String(254))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    keys: Mapped[list[SigningKey]] = relationship(back_populates="issuer", order_by="SigningKey.id")


class SigningKey(db.Model):
    """An RSA key pair. The private half is a file in KEYS_DIR; only the public half is here.

    Rotation retires a key but keeps it published so that badges signed with it still verify.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuer.id"), index=True)
    algorithm: Mapped[str] = mapped_column(String(16), default="RS256")
    public_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None]

    issuer: Mapped[Issuer] = relationship(back_populates="keys")


class BadgeClass(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuer.id"), index=True)
    name: Mapped[Texts] = mapped_column(JSON)
    description: Mapped[Texts] = mapped_column(JSON)
    criteria: Mapped[Texts] = mapped_column(JSON)  # Markdown, rendered on the page
    award_rule: Mapped[str] = mapped_column(String(100))  # "path:<slug>" or an AwardRule
    path_id: Mapped[int | None] = mapped_column(ForeignKey("learning_path.id"), index=True)
    members: Mapped[list[str]] = mapped_column(JSON)
    tags: Mapped[list[str] | dict[str, list[str]]] = mapped_column(JSON)  # or per language
    valid_for_days: Mapped[int | None]
    alignment: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    image_alt: Mapped[Texts] = mapped_column(JSON)
    colour: Mapped[str | None] = mapped_column(String(7))
    image_png: Mapped[bytes] = mapped_column(LargeBinary)
    image_svg: Mapped[bytes] = mapped_column(LargeBinary)
    content_hash: Mapped[str] = mapped_column(String(64))
    is_retired: Mapped[bool] = mapped_column(default=False)

    issuer: Mapped[Issuer] = relationship()

    @property
    def is_review(self) -> bool:
        return self.award_rule == AwardRule.REVIEW

    @property
    def is_milestone(self) -> bool:
        return self.award_rule == AwardRule.MILESTONE


class Assertion(db.Model):
    """One award. `active_key` is "<badge>:<user>" while valid and NULL once revoked, so the
    database itself refuses a second active award of the same badge to the same person."""

    __table_args__ = (
        # The public revocation list (every verifier fetches it): revoked rows of an issuer's
        # badges found in the index, never by reading each row past its baked images.
        Index("ix_assertion_badge_class_id_revoked_at", "badge_class_id", "revoked_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    badge_class_id: Mapped[int] = mapped_column(ForeignKey("badge_class.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    active_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    recipient_salt: Mapped[str] = mapped_column(String(64))
    recipient_hash: Mapped[str] = mapped_column(String(100))
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    source: Mapped[AwardSource] = mapped_column(EnumText(AwardSource, 16))
    signing_key_id: Mapped[int] = mapped_column(ForeignKey("signing_key.id"))
    jws: Mapped[str] = mapped_column(Text)
    baked_png: Mapped[bytes] = mapped_column(LargeBinary)
    baked_svg: Mapped[bytes] = mapped_column(LargeBinary)
    revoked_at: Mapped[datetime | None]
    revocation_reason: Mapped[str | None] = mapped_column(String(500))

    badge_class: Mapped[BadgeClass] = relationship()
    user: Mapped[User] = relationship()
    signing_key: Mapped[SigningKey] = relationship()


class BadgeApplication(db.Model):
    """Evidence a learner submits for a review badge; a reviewer accepts or returns it."""

    # One application at a time waits for review: the database refuses a concurrent twin.
    __table_args__ = (one_waiting("uq_badge_application_waiting", "user_id", "badge_class_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    badge_class_id: Mapped[int] = mapped_column(ForeignKey("badge_class.id"), index=True)
    narrative: Mapped[str] = mapped_column(Text)
    link_url: Mapped[str | None] = mapped_column(String(2000))
    file_name: Mapped[str | None] = mapped_column(String(255))
    stored_name: Mapped[str | None] = mapped_column(String(64))
    file_size: Mapped[int | None]
    status: Mapped[ApplicationStatus] = mapped_column(
        EnumText(ApplicationStatus, 16), default=ApplicationStatus.SUBMITTED
    )
    submitted_at: Mapped[datetime]
    reviewed_at: Mapped[datetime | None]
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    feedback: Mapped[str | None] = mapped_column(Text)
    assertion_id: Mapped[int | None] = mapped_column(ForeignKey("assertion.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    badge_class: Mapped[BadgeClass] = relationship()
