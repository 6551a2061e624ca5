"""Personal access tokens, OAuth clients and their access tokens (hashed at rest).

Every secret is `secrets.token_urlsafe(32)` (256 bits) behind a visible prefix, so a leaked one
is easy to recognise (and to scan for). Only its SHA-256 is stored: with that much entropy a
plain hash cannot be reversed, and a lookup by hash is the comparison (no timing to measure).
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import JSON
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from campus.auth.models import Organisation
from campus.auth.models import User
from campus.clock import utcnow
from campus.extensions import db

PAT_PREFIX = "cmp_pat_"
CLIENT_ID_PREFIX = "cmp_ci_"
CLIENT_SECRET_PREFIX = "cmp_cs_"
ACCESS_TOKEN_PREFIX = "cmp_at_"

# What a token may be for (see campus.api.token_services for who may hold which).
PROFILE_READ = "profile:read"
ORGANISATION_READ = "organisation:read"
BADGES_READ = "badges:read"
BADGES_WRITE = "badges:write"
NETWORK_READ = "network:read"
SCOPES = (PROFILE_READ, ORGANISATION_READ, BADGES_READ, BADGES_WRITE, NETWORK_READ)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class PersonalAccessToken(db.Model):
    """A token a person made for their own scripts: acts as them, within its scopes."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column()
    expires_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()

    user: Mapped[User] = relationship()


class ApiClient(db.Model):
    """An institutional system (OAuth 2.0 client credentials), made by a campus admin.

    Bound to one organisation (reads that organisation only) or campus-wide (None).
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    secret_hash: Mapped[str] = mapped_column(String(64))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column()
    expires_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()

    organisation: Mapped[Organisation | None] = relationship()


class ApiAccessToken(db.Model):
    """An access token issued at the token endpoint (1 h); revoking its client ends it too."""

    id: Mapped[int] = mapped_column(primary_key=True)
    client_pk: Mapped[int] = mapped_column(
        ForeignKey("api_client.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)

    client: Mapped[ApiClient] = relationship()


class ClientAuthFailure(db.Model):
    """Failed client authentications at the token endpoint, kept for the throttle window."""

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), index=True)
    remote_addr: Mapped[str] = mapped_column(String(64), index=True)
    failed_at: Mapped[datetime] = mapped_column(index=True)
