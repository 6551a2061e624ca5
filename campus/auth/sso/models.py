"""OpenID Connect providers, the identities they vouch for, and logins under way."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from campus.auth.models import Organisation
from campus.auth.models import User
from campus.clock import utcnow
from campus.extensions import db

DEFAULT_SCOPES = "openid email profile"


class OidcProvider(db.Model):
    """An OpenID Provider an admin configured (Entra ID tenant, Google Workspace, MPASSid…).

    `client_secret` is kept to call the token endpoint; pages and logs never show it.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    issuer: Mapped[str] = mapped_column(String(500))
    # Empty: <issuer>/.well-known/openid-configuration (OpenID Connect Discovery).
    discovery_url: Mapped[str | None] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(255))
    client_secret: Mapped[str] = mapped_column(String(1000))
    scopes: Mapped[str] = mapped_column(String(500), default=DEFAULT_SCOPES)
    # New users join this organisation unless `organisation_claim` maps them elsewhere.
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    name_claim: Mapped[str] = mapped_column(String(100), default="name")
    email_claim: Mapped[str] = mapped_column(String(100), default="email")
    organisation_claim: Mapped[str | None] = mapped_column(String(100))
    # claim value → organisation slug; only listed values move anyone.
    organisation_map: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    roles_claim: Mapped[str | None] = mapped_column(String(100))
    # claim value → campus role (never admin); roles that appear here follow the provider.
    role_map: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # Lower-case domains; empty: any address the provider gives.
    allowed_domains: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The provider checks every address it gives (Entra ID sends no `email_verified`).
    trust_email_verified: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    is_enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation] = relationship()


class OidcIdentity(db.Model):
    """One person at one issuer (`iss`, `sub`), joined to one campus account.

    Made at the first login or by linking (password or mailed link); never by matching e-mail.
    """

    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("oidc_provider.id"), index=True)
    issuer: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column()

    provider: Mapped[OidcProvider] = relationship()
    user: Mapped[User] = relationship()


class OidcLoginAttempt(db.Model):
    """An authorization request sent to a provider: what its answer must match.

    Keyed by the hash of `state`; used once (deleted when the answer comes), kept 10 minutes.
    """

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("oidc_provider.id", ondelete="CASCADE"))
    nonce: Mapped[str] = mapped_column(String(100))
    code_verifier: Mapped[str] = mapped_column(String(128))
    next_url: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(index=True)


class OidcPendingLink(db.Model):
    """A provider identity whose e-mail belongs to an existing account: it waits until the
    account's password is given or a link mailed to it is opened in the same browser."""

    id: Mapped[int] = mapped_column(primary_key=True)
    browser_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    mail_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("oidc_provider.id", ondelete="CASCADE"))
    issuer: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    # The validated claims (name, e-mail, roles…) applied once the link is made.
    claims: Mapped[dict[str, Any]] = mapped_column(JSON)
    id_token: Mapped[str] = mapped_column(Text)
    next_url: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(index=True)

    provider: Mapped[OidcProvider] = relationship()
    user: Mapped[User] = relationship()


class OidcLoginSession(db.Model):
    """A campus login (LoginSession) that came through a provider: its ID token is the hint
    for RP-initiated logout."""

    token_hash: Mapped[str] = mapped_column(
        ForeignKey("login_session.token_hash", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("oidc_provider.id", ondelete="CASCADE"))
    id_token: Mapped[str] = mapped_column(Text)
