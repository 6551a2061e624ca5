"""The campus's LTI settings and signing keys: one key set for both directions (`/lti/jwks`
signs our launches as a platform and our service requests as a tool)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from lti1p3platform.registration import Registration
from sqlalchemy import false as sa_false
from sqlalchemy import text

from campus import keystore
from campus.clock import aware
from campus.extensions import db
from campus.lti.models import LtiKey
from campus.outbound import OutboundPolicy
from campus.routing import external_url

KEY_GRACE = timedelta(days=30)
# The PostgreSQL advisory lock that serialises the creation of keys (any constant of our own).
KEY_LOCK_ID = 0x4C5449


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
    """The campus's current key, created on first use (`flask lti keys ensure` creates it at
    set-up, so that tools registered before the first launch find it in the JWKS)."""
    return ensure_key(context, now)[0]


def ensure_key(context: PlatformContext, now: datetime) -> tuple[LtiKey, bool]:
    """The current key and whether it was created now. Two requests that find no key at the
    same moment create one between them: the second waits for the first (`_lock_keys`) and
    then finds its key."""
    key = _current_key()
    if key is not None:
        return key, False
    _lock_keys()
    key = _current_key()
    if key is not None:
        return key, False
    return _new_key(context, now), True


def _current_key() -> LtiKey | None:
    return db.session.execute(
        db.select(LtiKey).where(LtiKey.retired_at.is_(None)).order_by(LtiKey.id.desc()).limit(1)
    ).scalar_one_or_none()


def _lock_keys() -> None:
    """Serialise key creation until the transaction ends: an advisory lock on PostgreSQL; on
    SQLite a write that changes nothing takes the database's write lock."""
    if db.session.get_bind(mapper=LtiKey).dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": KEY_LOCK_ID})
    else:
        db.session.execute(
            db.update(LtiKey).where(sa_false()).values(retired_at=None),
            execution_options={"synchronize_session": False},
        )


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
    _lock_keys()
    current = db.session.execute(db.select(LtiKey).where(LtiKey.retired_at.is_(None))).scalars()
    for key in current:
        key.retired_at = now
    db.session.flush()
    return _new_key(context, now)


def jwks(now: datetime, context: PlatformContext | None = None) -> dict[str, Any]:
    """Active keys and keys retired within the grace period (tools may hold their tokens).

    Never empty: without a key (a campus set up without `flask lti keys ensure`) one is
    created now, so a tool that reads the set at registration finds the key launches will use.
    `context` defaults to the application's configuration; the caller commits."""
    ensure_key(context or PlatformContext.from_config(current_app.config), now)
    keys = db.session.execute(db.select(LtiKey).order_by(LtiKey.id)).scalars()
    return {
        "keys": [
            jwk(k.public_pem)
            for k in keys
            if k.retired_at is None or aware(k.retired_at) > now - KEY_GRACE
        ]
    }
