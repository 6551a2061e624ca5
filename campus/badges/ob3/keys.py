"""Ed25519 keys for OB 3.0 Data Integrity proofs: rows of the same SigningKey table as the RSA
keys (algorithm "Ed25519"), the private half a 0600 file in KEYS_DIR.

Credentials are built on demand, never stored, so the key that signs one must follow from the
assertion alone: the issuer's newest Ed25519 key created at or before the issue time (else its
oldest). Ed25519 signatures are deterministic: every host makes the same bytes.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.hazmat.primitives.serialization import PublicFormat
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from campus import keystore
from campus.badges import signing
from campus.badges.models import Assertion
from campus.badges.models import Issuer
from campus.badges.models import SigningKey
from campus.badges.ob3 import multibase
from campus.clock import aware
from campus.extensions import db

ED25519 = signing.ED25519


def ed25519_keys(issuer: Issuer) -> list[SigningKey]:
    """Every Ed25519 key of the issuer, oldest first (retired ones too)."""
    return list(
        db.session.execute(
            db.select(SigningKey)
            .where(SigningKey.issuer_id == issuer.id, SigningKey.algorithm == ED25519)
            .order_by(SigningKey.created_at, SigningKey.id)
        ).scalars()
    )


def active_ed25519_key(issuer: Issuer) -> SigningKey | None:
    return signing.active_key(issuer, ED25519)


def create_ed25519_key(
    issuer: Issuer, keys_dir: Path, passphrase: str | None, now: datetime
) -> SigningKey:
    return signing.create_key(issuer, keys_dir, passphrase, now, ED25519)


def ed25519_key_for_signing(
    issuer: Issuer, keys_dir: Path, passphrase: str | None, now: datetime
) -> SigningKey:
    """The issuer's active Ed25519 key, created on first use."""
    return signing.key_for_signing(issuer, keys_dir, passphrase, now, ED25519)


def rotate_ed25519_key(
    issuer: Issuer, keys_dir: Path, passphrase: str | None, now: datetime
) -> SigningKey:
    """Retire the active Ed25519 key (it stays in the DID document) and start a new one.

    Nothing is re-signed: a credential is signed on demand with the key of its issue time.
    """
    return signing.rotate_key(issuer, keys_dir, passphrase, now, ED25519)


def key_at(keys: list[SigningKey], moment: datetime) -> SigningKey | None:
    """The newest of `keys` (oldest first) created at or before `moment`, else the oldest."""
    if not keys:
        return None
    moment = aware(moment)
    chosen = keys[0]
    for key in keys:
        if aware(key.created_at) <= moment:
            chosen = key
    return chosen


def ed25519_key_for(assertion: Assertion) -> SigningKey:
    """The key that signs this assertion's credential (see the module docstring).

    Raises keystore.KeyUnavailable when the issuer has no Ed25519 key at all.
    """
    key = key_at(ed25519_keys(assertion.badge_class.issuer), assertion.issued_at)
    if key is None:
        raise keystore.KeyUnavailable("the issuer has no Ed25519 key yet")
    return key


def load_ed25519_private(
    key: SigningKey, keys_dir: Path, passphrase: str | None
) -> Ed25519PrivateKey:
    return keystore.load_ed25519(keys_dir, key.kid, passphrase)


def public_key(key: SigningKey) -> Ed25519PublicKey:
    loaded = load_pem_public_key(key.public_pem.encode("ascii"))
    if not isinstance(loaded, Ed25519PublicKey):
        raise ValueError(f"key {key.kid} is not an Ed25519 key")
    return loaded


def public_multibase(key: SigningKey) -> str:
    """`publicKeyMultibase` for the DID document (z6Mk…)."""
    raw = public_key(key).public_bytes(Encoding.Raw, PublicFormat.Raw)
    return multibase.ed25519_multikey(raw)
