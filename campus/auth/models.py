"""Organisations, users and their roles."""

from __future__ import annotations

import enum
import functools
import hashlib
from datetime import UTC
from datetime import datetime
from datetime import timedelta

from flask_login import UserMixin
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import bindparam
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import joinedload
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from campus.extensions import EnumText
from campus.extensions import db
from campus.extensions import login_manager


def utcnow() -> datetime:
    return datetime.now(UTC)


class Role(enum.StrEnum):
    LEARNER = "learner"
    TUTOR_TEACHER = "tutor_teacher"
    REGIONAL_DEVELOPER = "regional_developer"
    REVIEWER = "reviewer"
    ORG_ADMIN = "org_admin"
    ADMIN = "admin"


class OrganisationKind(enum.StrEnum):
    EDUCATION_PROVIDER = "education_provider"
    MUNICIPALITY = "municipality"
    OTHER = "other"


class Region(db.Model):
    """Municipalities and providers that develop together (seutu); organisations belong to one."""

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class Organisation(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[OrganisationKind] = mapped_column(
        EnumText(OrganisationKind, 32), default=OrganisationKind.EDUCATION_PROVIDER
    )
    region_id: Mapped[int | None] = mapped_column(
        ForeignKey("region.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    users: Mapped[list[User]] = relationship(back_populates="organisation")
    # Members log in only through the organisation's OpenID provider (no campus passwords).
    sso_only: Mapped[bool] = mapped_column(default=False, server_default="0")
    region: Mapped[Region | None] = relationship()


class UserRole(db.Model):
    """One row per extra role; every user is a learner without a row."""

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[Role] = mapped_column(EnumText(Role, 32), primary_key=True)


class User(UserMixin, db.Model):
    # The organisation progress page lists members by name, a page at a time.
    __table_args__ = (Index("ix_user_organisation_name", "organisation_id", "name", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    locale: Mapped[str | None] = mapped_column(String(8))
    # Where badges go when the login e-mail is not a real address (accounts made by an LMS launch).
    badge_email: Mapped[str | None] = mapped_column(String(254))
    is_active_account: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When the person proved they read `email` (a link, or a provider that vouches for it):
    # badges are issued to verified addresses only (campus.auth.verification).
    email_verified_at: Mapped[datetime | None] = mapped_column()
    # Set when the person deleted their account: the row stays, anonymised, so organisation
    # statistics keep their counts (campus.auth.deletion).
    deleted_at: Mapped[datetime | None] = mapped_column()

    organisation: Mapped[Organisation] = relationship(back_populates="users")
    role_rows: Mapped[list[UserRole]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by=UserRole.role
    )

    # The token of the login this request belongs to (set by sign_in and by the user loader):
    # Flask-Login keeps it in the session cookie, the server keeps its hash in LoginSession.
    login_token = None  # not a column

    def get_id(self) -> str:
        if not self.login_token:
            raise RuntimeError("sign in through campus.auth.login.sign_in")
        return self.login_token

    @property
    def is_active(self) -> bool:
        return self.is_active_account

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def roles(self) -> set[Role]:
        return {Role.LEARNER} | {Role(row.role) for row in self.role_rows}

    def has_role(self, *roles: Role) -> bool:
        """Admins hold every role."""
        held = self.roles
        return Role.ADMIN in held or any(role in held for role in roles)

    def can_manage_organisation(self, organisation_id: int) -> bool:
        if Role.ADMIN in self.roles:
            return True
        return Role.ORG_ADMIN in self.roles and self.organisation_id == organisation_id


class LoginFailure(db.Model):
    """Failed logins, kept for the throttle window only (see campus.auth.login)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    remote_addr: Mapped[str] = mapped_column(String(64), index=True)
    failed_at: Mapped[datetime] = mapped_column(index=True)
    # The device-cookie id when the attempt came from a browser this account has logged in from:
    # such failures slow down that browser only, never the owner's other browsers.
    device: Mapped[str | None] = mapped_column(String(32))


class RegistrationAttempt(db.Model):
    """Registrations per address, kept one hour, so that probing for accounts is slow."""

    id: Mapped[int] = mapped_column(primary_key=True)
    remote_addr: Mapped[str] = mapped_column(String(64), index=True)
    attempted_at: Mapped[datetime] = mapped_column(index=True)


class PasswordResetRequest(db.Model):
    """Password-reset requests, kept one hour: bounds mails per account and requests per
    address (campus.auth.reset), so the form cannot be used to flood an inbox."""

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    remote_addr: Mapped[str] = mapped_column(String(64), index=True)
    requested_at: Mapped[datetime] = mapped_column(index=True)


class LoginSession(db.Model):
    """One login (one browser): its cookie holds a random token, the server only its hash.

    Logging out deletes the row, and changing a password deletes all of them, so a copy of the
    cookie taken before stops working (a signed cookie alone cannot be taken back).
    """

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


def login_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@functools.cache
def _loader_statement():  # type: ignore[no-untyped-def]
    """Built once: the login's user with their roles, in one statement (every page asks)."""
    return (
        db.select(User)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(
            LoginSession.token_hash == bindparam("token_hash"),
            LoginSession.created_at >= bindparam("oldest"),
            User.is_active_account.is_(True),
        )
        .options(joinedload(User.role_rows))
    )


@login_manager.user_loader
def load_user(login_token: str) -> User | None:
    from flask import current_app

    oldest = datetime.now(UTC) - current_app.config.get("LOGIN_MAX_AGE", timedelta(days=90))
    user = (
        db.session.execute(
            _loader_statement(), {"token_hash": login_token_hash(login_token), "oldest": oldest}
        )
        .unique()
        .scalar_one_or_none()
    )
    if user is not None:
        user.login_token = login_token
    return user
