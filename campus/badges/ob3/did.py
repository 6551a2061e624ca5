"""did:web identities of the issuers and their DID documents.

The campus issuer is `did:web:<host>` (a port as `%3A<port>`, BASE_URL's path segments appended
with `:`), resolved at `/.well-known/did.json` (or `<path>/did.json`); an organisation issuer is
`<campus did>:ob:v3:issuers:<slug>`, resolved at `/ob/v3/issuers/<slug>/did.json`. A DID document
lists every key of its issuer, retired ones too, so earlier credentials keep verifying.
"""

from __future__ import annotations

import base64
from functools import lru_cache
from typing import Any
from urllib.parse import quote
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from campus.badges.issuers import CAMPUS_ISSUER
from campus.badges.models import Issuer
from campus.badges.models import SigningKey
from campus.badges.ob3.keys import ED25519
from campus.badges.ob3.keys import public_multibase
from campus.extensions import db

DID_CONTEXT = [
    "https://www.w3.org/ns/did/v1",
    "https://w3id.org/security/multikey/v1",
    "https://w3id.org/security/jwk/v1",
]
ORG_PATH = ("ob", "v3", "issuers")


@lru_cache(maxsize=64)
def campus_did(base_url: str) -> str:
    """did:web for BASE_URL: host, `%3A<port>` when one is given, then its path segments."""
    parts = urlsplit(base_url)
    host = (parts.hostname or "").lower()
    if parts.port is not None:
        host += f"%3A{parts.port}"
    segments = [quote(s, safe="") for s in parts.path.split("/") if s]
    return ":".join(["did:web", host, *segments])


def issuer_did(issuer: Issuer, base_url: str) -> str:
    return did_for_slug(issuer.slug, base_url)


def did_for_slug(slug: str, base_url: str) -> str:
    base = campus_did(base_url)
    return base if slug == CAMPUS_ISSUER else ":".join([base, *ORG_PATH, quote(slug, safe="")])


def slug_for_did(did: str, base_url: str) -> str | None:
    """The issuer slug a did:web of ours names; None for anyone else's DID."""
    base = campus_did(base_url)
    if did == base:
        return CAMPUS_ISSUER
    prefix = ":".join([base, *ORG_PATH]) + ":"
    if did.startswith(prefix) and ":" not in did[len(prefix) :] and did[len(prefix) :]:
        return did[len(prefix) :]
    return None


def verification_method(issuer: Issuer, key: SigningKey, base_url: str) -> str:
    return f"{issuer_did(issuer, base_url)}#{key.kid}"


def _b64url_uint(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def public_jwk(key: SigningKey) -> dict[str, str]:
    """The RSA key as a public JWK (never a private member)."""
    loaded = load_pem_public_key(key.public_pem.encode("ascii"))
    if not isinstance(loaded, RSAPublicKey):
        raise ValueError(f"key {key.kid} is not an RSA key")
    numbers = loaded.public_numbers()
    return {
        "kty": "RSA",
        "alg": "RS256",
        "use": "sig",
        "n": _b64url_uint(numbers.n),
        "e": _b64url_uint(numbers.e),
    }


def verification_method_document(issuer: Issuer, key: SigningKey, base_url: str) -> dict:
    did = issuer_did(issuer, base_url)
    method: dict[str, Any] = {"id": f"{did}#{key.kid}", "controller": did}
    if key.algorithm == ED25519:
        method |= {"type": "Multikey", "publicKeyMultibase": public_multibase(key)}
    else:
        method |= {"type": "JsonWebKey", "publicKeyJwk": public_jwk(key)}
    return method


def did_document(issuer: Issuer, base_url: str, profile_url: str | None = None) -> dict:
    """Every key of the issuer (Ed25519 as Multikey, RSA as JsonWebKey), all assertionMethod.

    `profile_url` (the 2.0 issuer profile) goes to `alsoKnownAs`.
    """
    did = issuer_did(issuer, base_url)
    keys = list(
        db.session.execute(
            db.select(SigningKey).where(SigningKey.issuer_id == issuer.id).order_by(SigningKey.id)
        ).scalars()
    )
    methods = [verification_method_document(issuer, key, base_url) for key in keys]
    document: dict[str, Any] = {"@context": DID_CONTEXT, "id": did}
    if profile_url:
        document["alsoKnownAs"] = [profile_url]
    document["verificationMethod"] = methods
    document["assertionMethod"] = [method["id"] for method in methods]
    return document


def key_for_verification_method(vm: str, base_url: str) -> SigningKey | None:
    """The key `<did>#<kid>` names when the DID is the key's own issuer's (a database lookup,
    nothing fetched); None otherwise."""
    did, _hash, kid = vm.partition("#")
    if not kid or slug_for_did(did, base_url) is None:
        return None
    key = db.session.execute(
        db.select(SigningKey).where(SigningKey.kid == kid)
    ).scalar_one_or_none()
    if key is None or issuer_did(key.issuer, base_url) != did:
        return None
    return key
