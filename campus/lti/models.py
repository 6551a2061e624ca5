"""LTI 1.3 tables of both directions: tools we launch (platform side), LMSs that launch us (tool
side), the shared keys and replay records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlalchemy import Float
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from campus.auth.models import Organisation
from campus.clock import utcnow
from campus.extensions import db


class LtiTool(db.Model):
    """An external tool the campus launches (we are the platform)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    client_id: Mapped[str] = mapped_column(String(255), unique=True)
    deployment_id: Mapped[str] = mapped_column(String(255))
    oidc_login_url: Mapped[str] = mapped_column(String(2000))
    launch_url: Mapped[str] = mapped_column(String(2000))
    deep_link_url: Mapped[str | None] = mapped_column(String(2000))
    # Where the tool may receive id_tokens: the launch and deep-linking URLs plus any listed here.
    redirect_uris: Mapped[list[str]] = mapped_column(JSON)
    jwks_url: Mapped[str | None] = mapped_column(String(2000))
    jwks: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    is_enabled: Mapped[bool] = mapped_column(default=True)
    # What the tool learns about people (Moodle's "share name / e-mail", Canvas's privacy level):
    # ToolPrivacy values; applied to launches and to the member list (NRPS) alike.
    privacy: Mapped[str] = mapped_column(
        String(16), default="name_email", server_default="name_email"
    )
    # A `sub` of its own per tool (pairwise), so that tools cannot join their records by it.
    pairwise_sub: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def allowed_redirect_uris(self) -> set[str]:
        return {u for u in [self.launch_url, self.deep_link_url, *self.redirect_uris] if u}


class LtiKey(db.Model):
    """The platform's signing keys; retired keys stay in the JWKS for a grace period."""

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(100), unique=True)
    file_name: Mapped[str] = mapped_column(String(100))
    public_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    retired_at: Mapped[datetime | None]


class LtiReplay(db.Model):
    """Single-use values (token jti, nonces) until they expire."""

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class LtiResourceLink(db.Model):
    """What a module launches: chosen by deep linking, or the tool's launch URL."""

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("module.id"), unique=True)
    tool_id: Mapped[int] = mapped_column(ForeignKey("lti_tool.id"))
    resource_link_id: Mapped[str] = mapped_column(String(64), unique=True)
    url: Mapped[str | None] = mapped_column(String(2000))
    title: Mapped[str | None] = mapped_column(String(500))
    custom: Mapped[dict[str, str]] = mapped_column(JSON)

    tool: Mapped[LtiTool] = relationship()


class LtiLineItem(db.Model):
    __table_args__ = (UniqueConstraint("tool_id", "context_id", "resource_id", "tag"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tool_id: Mapped[int] = mapped_column(ForeignKey("lti_tool.id"), index=True)
    context_id: Mapped[str] = mapped_column(String(80), index=True)  # the path slug
    resource_link_id: Mapped[str | None] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(500))
    score_maximum: Mapped[float] = mapped_column(Float)
    # Optional in AGS: None when the tool gave none, so several such items can coexist (NULLs
    # never collide in the unique key; the same resourceId and tag twice still do).
    resource_id: Mapped[str | None] = mapped_column(String(255))
    tag: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LtiScore(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    line_item_id: Mapped[int] = mapped_column(
        ForeignKey("lti_line_item.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    score_given: Mapped[float | None] = mapped_column(Float)
    score_maximum: Mapped[float | None] = mapped_column(Float)
    activity_progress: Mapped[str] = mapped_column(String(32))
    grading_progress: Mapped[str] = mapped_column(String(32))
    comment: Mapped[str | None] = mapped_column(Text)
    timestamp: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- tool side: institutions launch the campus from their LMS ----------------------------------


class LtiPlatform(db.Model):
    """An LMS (Moodle, Canvas…) that launches the campus; we are its tool."""

    __table_args__ = (UniqueConstraint("issuer", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    issuer: Mapped[str] = mapped_column(String(500), index=True)
    client_id: Mapped[str] = mapped_column(String(255))
    auth_login_url: Mapped[str] = mapped_column(String(2000))
    auth_token_url: Mapped[str] = mapped_column(String(2000))
    jwks_url: Mapped[str | None] = mapped_column(String(2000))
    jwks: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    deployment_ids: Mapped[list[str]] = mapped_column(JSON)
    # Origins (https://lms.example) whose pages may show the campus in a frame, besides the
    # issuer's own: Canvas courses live on the school's domain, not on its issuer.
    frame_origins: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    is_enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation] = relationship()


class LtiIdentity(db.Model):
    """A person as an LMS knows them: (platform, sub). Never matched to accounts by e-mail."""

    __table_args__ = (UniqueConstraint("platform_id", "sub"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platform.id"))
    sub: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LtiStoreEntry(db.Model):
    """Server-side storage for pylti1p3 (nonces, launch data) instead of the cookie session."""

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class LtiGradeTarget(db.Model):
    """Where to send a learner's result: the LMS line item of a launched module or path."""

    __table_args__ = (UniqueConstraint("platform_id", "user_id", "target"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platform.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    target: Mapped[str] = mapped_column(String(200))  # constants.target_key: a module or a path
    sub: Mapped[str] = mapped_column(String(255))
    ags: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class LtiLoginToken(db.Model):
    """One-time token to continue an embedded launch in a new window (third-party cookies blocked)."""

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    target_url: Mapped[str] = mapped_column(String(2000))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class LtiToolSubject(db.Model):
    """The `sub` a tool with `pairwise_sub` knows a person by: random, one per tool and person,
    so two tools cannot match their records; kept so that scores sent back find the person."""

    __table_args__ = (UniqueConstraint("tool_id", "sub"),)

    tool_id: Mapped[int] = mapped_column(
        ForeignKey("lti_tool.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    sub: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
