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
from campus.badges.transaction_cache import in_transaction
from campus.extensions import db

ALGORITHM = "RS256"


KeyUnavailable = keystore.KeyUnavailable


ED25519 = "Ed25519"  # OB 3.0 Data Integrity keys (campus.badges.ob3.keys)
# How each kind of key pair is made; the private half goes to a 0600 file, the public half here.
GENERATORS = {ALGORITHM: keystore.generate, ED25519: keystore.generate_ed25519}


def active_key(issuer: Issuer, algorithm: str = ALGORITHM) -> SigningKey | None:
    """The issuer's key of `algorithm` that signs now: RSA for 2.0 assertions by default."""
    return db.session.execute(
        db.select(SigningKey)
        .where(
            SigningKey.issuer_id == issuer.id,
            SigningKey.algorithm == algorithm,
            SigningKey.retired_at.is_(None),
        )
        .order_by(SigningKey.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def create_key(
    issuer: Issuer,
    keys_dir: Path,
    passphrase: str | None,
    now: datetime,
    algorithm: str = ALGORITHM,
) -> SigningKey:
    """Generate a pair (RSA-2048 by default): the private half to a 0600 file, the public half
    to the database."""
    kid = str(uuid.uuid4())
    public_pem = GENERATORS[algorithm](keys_dir, kid, passphrase)
    key = SigningKey(
        kid=kid, issuer=issuer, algorithm=algorithm, public_pem=public_pem, created_at=now
    )
    db.session.add(key)
    db.session.flush()
    _keys_in_transaction()[(issuer.id, algorithm)] = key
    return key


def key_for_signing(
    issuer: Issuer,
    keys_dir: Path,
    passphrase: str | None,
    now: datetime,
    algorithm: str = ALGORITHM,
) -> SigningKey:
    """The issuer's active key, created on first use; asked of the database once a transaction
    (a bulk award of 10,000 badges signs with the same two keys throughout)."""
    held = _keys_in_transaction()
    found = held.get((issuer.id, algorithm))
    if found is None:
        found = active_key(issuer, algorithm) or create_key(
            issuer, keys_dir, passphrase, now, algorithm
        )
        held[(issuer.id, algorithm)] = found
    return found


def _keys_in_transaction() -> dict[tuple[int, str], SigningKey]:
    """The signing keys found in the session's current transaction; create_key replaces its
    entry."""
    return in_transaction("campus.signing_keys")


def rotate_key(
    issuer: Issuer,
    keys_dir: Path,
    passphrase: str | None,
    now: datetime,
    algorithm: str = ALGORITHM,
) -> SigningKey:
    """Retire the active key (it stays published) and start signing with a new one."""
    current = active_key(issuer, algorithm)
    if current is not None:
        current.retired_at = now
        db.session.flush()
    return create_key(issuer, keys_dir, passphrase, now, algorithm)


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
