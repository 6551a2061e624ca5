"""VC-JWT, the compact JWS form of OB 3.0 ("JSON Web Token Proof Format"): RS256 with the RSA key
that signed the award's 2.0 edition, header kid `<did>#<kid>`, payload the credential (without
its Data Integrity proof) plus iss, jti, nbf, iat and exp (sub only when the subject has an id:
ours is identified by a hashed e-mail address, not an id)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from campus.badges import signing
from campus.badges.models import SigningKey

ALGORITHM = "RS256"
CLAIMS = ("iss", "jti", "sub", "nbf", "iat", "exp")


def _timestamp(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC).timestamp())


def _issuer_id(credential: dict[str, Any]) -> Any:
    issuer = credential.get("issuer")
    return issuer.get("id") if isinstance(issuer, dict) else issuer


def _subject_id(credential: dict[str, Any]) -> Any:
    subject = credential.get("credentialSubject")
    return subject.get("id") if isinstance(subject, dict) else None


def payload_for(credential: dict[str, Any]) -> dict[str, Any]:
    """The JWT payload: the credential without `proof`, then the registered claims."""
    payload = {key: value for key, value in credential.items() if key != "proof"}
    payload["iss"] = _issuer_id(credential)
    payload["jti"] = credential["id"]
    if (subject := _subject_id(credential)) is not None:
        payload["sub"] = subject
    payload["nbf"] = payload["iat"] = _timestamp(credential["validFrom"])
    if "validUntil" in credential:
        payload["exp"] = _timestamp(credential["validUntil"])
    return payload


def sign_vc_jwt(
    credential: dict[str, Any],
    key: SigningKey,
    verification_method: str,
    keys_dir: Path,
    passphrase: str | None,
) -> str:
    """Compact JWS; RSA PKCS#1 v1.5 is deterministic, so every host makes the same token."""
    body = json.dumps(payload_for(credential), ensure_ascii=False, separators=(",", ":"))
    private = signing.load_private_key(key, keys_dir, passphrase)
    return jwt.api_jws.PyJWS().encode(
        body.encode("utf-8"),
        private,
        algorithm=ALGORITHM,
        headers={"kid": verification_method, "typ": "JWT"},
    )


def public_rsa_key(key: SigningKey) -> RSAPublicKey | None:
    loaded = load_pem_public_key(key.public_pem.encode("ascii"))
    return loaded if isinstance(loaded, RSAPublicKey) else None


def verify_vc_jwt(
    token: str, key_lookup: Callable[[str], RSAPublicKey | None]
) -> dict[str, Any] | None:
    """The credential inside `token` when its RS256 signature verifies with the key its header
    kid names (`key_lookup` answers None for a kid it does not trust) and its claims agree with
    the credential (iss, jti, nbf, exp, sub); None otherwise. Times are the caller's to judge."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        return None
    kid = header.get("kid")
    if header.get("alg") != ALGORITHM or not isinstance(kid, str):
        return None
    public = key_lookup(kid)
    if not isinstance(public, RSAPublicKey):
        return None
    try:
        body = jwt.api_jws.PyJWS().decode(token, public, algorithms=[ALGORITHM])
        payload = json.loads(body)
    except (jwt.PyJWTError, ValueError):
        return None
    if not isinstance(payload, dict) or not _claims_agree(payload):
        return None
    return {key: value for key, value in payload.items() if key not in CLAIMS}


def _claims_agree(payload: dict[str, Any]) -> bool:
    try:
        if payload.get("iss") != _issuer_id(payload) or payload.get("jti") != payload.get("id"):
            return False
        if payload.get("nbf") != _timestamp(payload["validFrom"]):
            return False
        if ("exp" in payload or "validUntil" in payload) and payload.get("exp") != _timestamp(
            payload["validUntil"]
        ):
            return False
    except (KeyError, TypeError, ValueError, AttributeError):
        return False
    return payload.get("sub") == _subject_id(payload)
