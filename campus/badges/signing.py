"""RSA signing keys and RS256 JWS. Private keys stay in KEYS_DIR and are never logged."""

from __future__ import annotations

import json
import os
import uuid
from datetime import datetime
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from campus.badges.models import Issuer
from campus.badges.models import SigningKey
from campus.extensions import db

ALGORITHM = "RS256"


class KeyUnavailable(Exception):
    """The private key file is missing or cannot be opened: nothing can be signed."""


def _key_file(keys_dir: Path, kid: str) -> Path:
    return keys_dir / f"{kid}.pem"


def active_key(issuer: Issuer) -> SigningKey | None:
    return db.session.execute(
        db.select(SigningKey)
        .where(SigningKey.issuer_id == issuer.id, SigningKey.retired_at.is_(None))
        .order_by(SigningKey.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def create_key(issuer: Issuer, keys_dir: Path, passphrase: str | None, now: datetime) -> SigningKey:
    """Generate an RSA-2048 pair: the private half to a 0600 file, the public half to the database."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = str(uuid.uuid4())
    encryption = (
        serialization.BestAvailableEncryption(passphrase.encode())
        if passphrase
        else serialization.NoEncryption()
    )
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(_key_file(keys_dir, kid), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )
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


_PRIVATE_CACHE: dict[tuple[str, str], RSAPrivateKey] = {}


def load_private_key(key: SigningKey, keys_dir: Path, passphrase: str | None) -> RSAPrivateKey:
    cache_key = (str(keys_dir), key.kid)
    if cache_key in _PRIVATE_CACHE:
        return _PRIVATE_CACHE[cache_key]
    path = _key_file(keys_dir, key.kid)
    try:
        loaded = serialization.load_pem_private_key(
            path.read_bytes(), password=passphrase.encode() if passphrase else None
        )
    except (OSError, ValueError, TypeError) as error:
        raise KeyUnavailable(f"signing key {key.kid} cannot be loaded from {keys_dir}") from error
    if not isinstance(loaded, RSAPrivateKey):
        raise KeyUnavailable(f"signing key {key.kid} is not an RSA key")
    _PRIVATE_CACHE[cache_key] = loaded
    return loaded


def sign_assertion(payload: dict, key: SigningKey, keys_dir: Path, passphrase: str | None) -> str:
    """Compact JWS (RS256) whose payload is the Assertion JSON."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode(
        "utf-8"
    )
    private = load_private_key(key, keys_dir, passphrase)
    return jwt.api_jws.PyJWS().encode(
        body, private, algorithm=ALGORITHM, headers={"kid": key.kid, "typ": None}
    )
