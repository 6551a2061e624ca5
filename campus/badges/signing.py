"""RSA signing keys and RS256 JWS. Private keys stay in KEYS_DIR and are never logged."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from campus import keystore
from campus.badges.models import Issuer
from campus.badges.models import SigningKey
from campus.extensions import db

ALGORITHM = "RS256"


KeyUnavailable = keystore.KeyUnavailable


def active_key(issuer: Issuer) -> SigningKey | None:
    """The RSA key that signs 2.0 assertions now (the issuer's Ed25519 keys are for OB 3.0)."""
    return db.session.execute(
        db.select(SigningKey)
        .where(
            SigningKey.issuer_id == issuer.id,
            SigningKey.algorithm == ALGORITHM,
            SigningKey.retired_at.is_(None),
        )
        .order_by(SigningKey.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def create_key(issuer: Issuer, keys_dir: Path, passphrase: str | None, now: datetime) -> SigningKey:
    """Generate an RSA-2048 pair: the private half to a 0600 file, the public half to the database."""
    kid = str(uuid.uuid4())
    public_pem = keystore.generate(keys_dir, kid, passphrase)
    key = SigningKey(
        kid=kid, issuer=issuer, algorithm=ALGORITHM, public_pem=public_pem, created_at=now
    )
    db.session.add(key)
    db.session.flush()
    return key


def key_for_signing(
    issuer: Issuer, keys_dir: Path, passphrase: str | None, now: datetime
) -> SigningKey:
    """The issuer's active key, created on first use."""
    return active_key(issuer) or create_key(issuer, keys_dir, passphrase, now)


def rotate_key(issuer: Issuer, keys_dir: Path, passphrase: str | None, now: datetime) -> SigningKey:
    """Retire the active key (it stays published) and start signing with a new one."""
    current = active_key(issuer)
    if current is not None:
        current.retired_at = now
        db.session.flush()
    return create_key(issuer, keys_dir, passphrase, now)


def load_private_key(key: SigningKey, keys_dir: Path, passphrase: str | None) -> RSAPrivateKey:
    return keystore.load(keys_dir, key.kid, passphrase)


def sign_assertion(payload: dict, key: SigningKey, keys_dir: Path, passphrase: str | None) -> str:
    """Compact JWS (RS256) whose payload is the Assertion JSON."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode(
        "utf-8"
    )
    private = load_private_key(key, keys_dir, passphrase)
    return jwt.api_jws.PyJWS().encode(
        body, private, algorithm=ALGORITHM, headers={"kid": key.kid, "typ": None}
    )
