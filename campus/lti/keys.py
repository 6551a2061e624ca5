"""The campus's LTI settings and signing keys: one key set for both directions (`/lti/jwks`
signs our launches as a platform and our service requests as a tool)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import Any

from lti1p3platform.registration import Registration

from campus import keystore
from campus.clock import aware
from campus.extensions import db
from campus.lti.models import LtiKey
from campus.outbound import OutboundPolicy
from campus.routing import external_url

KEY_GRACE = timedelta(days=30)


@dataclass(frozen=True)
class PlatformContext:
    """The configuration every LTI service needs; the addresses of our endpoints need a request."""

    base_url: str
    keys_dir: Path
    passphrase: str | None
    secret_key: str
    outbound: OutboundPolicy = OutboundPolicy()

    @classmethod
    def from_config(cls, config: Any) -> PlatformContext:
        return cls(
            str(config["BASE_URL"]).rstrip("/"),
            Path(config["KEYS_DIR"]),
            config.get("KEY_PASSPHRASE"),
            str(config["SECRET_KEY"]),
            OutboundPolicy.from_config(config),
        )

    @property
    def issuer(self) -> str:
        return self.base_url

    @property
    def token_url(self) -> str:
        return external_url("lti.token")

    def lineitems_url(self, context_id: str) -> str:
        return external_url("lti.lineitems", context_id=context_id)

    def lineitem_url(self, context_id: str, item_id: int) -> str:
        return external_url("lti.lineitem", context_id=context_id, item_id=item_id)

    def memberships_url(self, context_id: str, **query: Any) -> str:
        return external_url("lti.memberships", context_id=context_id, **query)


def jwk(public_pem: str) -> dict[str, Any]:
    return Registration.get_jwk(public_pem)


def active_key(context: PlatformContext, now: datetime) -> LtiKey:
    """The campus's current key, created on first use."""
    key = db.session.execute(
        db.select(LtiKey).where(LtiKey.retired_at.is_(None)).order_by(LtiKey.id.desc()).limit(1)
    ).scalar_one_or_none()
    return key or _new_key(context, now)


def private_key(context: PlatformContext, key: LtiKey) -> Any:
    return keystore.load(context.keys_dir, key.file_name, context.passphrase)


def _new_key(context: PlatformContext, now: datetime) -> LtiKey:
    file_name = f"lti-{uuid.uuid4()}"
    public_pem = keystore.generate(context.keys_dir, file_name, context.passphrase)
    key = LtiKey(
        kid=jwk(public_pem)["kid"], file_name=file_name, public_pem=public_pem, created_at=now
    )
    db.session.add(key)
    db.session.flush()
    return key


def rotate_key(context: PlatformContext, now: datetime) -> LtiKey:
    current = db.session.execute(db.select(LtiKey).where(LtiKey.retired_at.is_(None))).scalars()
    for key in current:
        key.retired_at = now
    db.session.flush()
    return _new_key(context, now)


def jwks(now: datetime) -> dict[str, Any]:
    """Active keys and keys retired within the grace period (tools may hold their tokens)."""
    keys = db.session.execute(db.select(LtiKey).order_by(LtiKey.id)).scalars()
    return {
        "keys": [
            jwk(k.public_pem)
            for k in keys
            if k.retired_at is None or aware(k.retired_at) > now - KEY_GRACE
        ]
    }
