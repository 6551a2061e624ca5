"""The campus verifier for Open Badges 3.0: a credential with a Data Integrity proof (JSON) or a
VC-JWT. Trusts only this campus's issuers and keys, found in the database; fetches nothing.

Each step is a line of the same report as 2.0 (campus.badges.verify.Verification). A pasted
credential is anyone's JSON: every field is read defensively, never a 500.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from flask_babel import gettext as _

from campus.badges import ob2
from campus.badges.models import Assertion
from campus.badges.models import Issuer
from campus.badges.models import SigningKey
from campus.badges.ob3 import status
from campus.badges.revocation import find_assertion_without_images
from campus.badges.verify import UUID_SHAPE
from campus.badges.verify import Verification
from campus.badges.verify import check_recipient
from campus.badges.verify_guard import safe_to_canonicalise
from campus.clock import aware
from campus.extensions import db

VC_V2 = status.VC_V2
CREDENTIAL_TYPES = frozenset({"OpenBadgeCredential", "AchievementCredential"})
MAX_JSON_DEPTH = 64  # deeper than any credential; guards pyld and the checks below


def vc_jwt_claims(token: str) -> dict[str, Any] | None:
    """The unverified claims of a compact JWS when they carry an OB 3.0 credential, else None
    (then it may be a 2.0 signed badge)."""
    try:
        unverified = jwt.api_jws.PyJWS().decode_complete(token, options={"verify_signature": False})
        claims = json.loads(unverified["payload"])
    except (jwt.PyJWTError, ValueError, RecursionError):
        return None
    return claims if is_ob3(credential_of(claims)) else None


def credential_of(claims: Any) -> Any:
    """A VC-JWT's credential: the `vc` claim (VC-JWT 1.1 style) or the claims themselves."""
    if isinstance(claims, dict) and isinstance(claims.get("vc"), dict):
        return claims["vc"]
    return claims


def is_ob3(document: Any) -> bool:
    """A VC Data Model 2.0 credential of an OB 3.0 type (context and type both say so)."""
    if not isinstance(document, dict):
        return False
    contexts = document.get("@context")
    contexts = contexts if isinstance(contexts, list) else [contexts]
    types = document.get("type")
    types = types if isinstance(types, list) else [types]
    return VC_V2 in contexts and any(t in CREDENTIAL_TYPES for t in types if isinstance(t, str))


def verify_json_text(
    text: str, urls: ob2.Urls, now: datetime, email: str | None, result: Verification
) -> Verification:
    """Pasted JSON: an OB 3.0 credential with its proof, or a clear word on why it is not."""
    detail = ""
    try:
        document = json.loads(text)
    except RecursionError:
        detail = _("It is nested too deeply to be a credential.")
    except ValueError as problem:
        detail = _("This is not valid JSON: %(error)s", error=str(problem))
    else:
        if _too_deep(document):
            detail = _("It is nested too deeply to be a credential.")
    if detail:
        result.add(_("The credential can be read"), False, detail)
        return result
    result.add(_("The credential can be read"), True)
    return verify_credential(document, urls, now, email, result)


def verify_credential(
    document: Any, urls: ob2.Urls, now: datetime, email: str | None, result: Verification
) -> Verification:
    """A credential with an embedded Data Integrity proof (eddsa-rdfc-2022)."""
    if not _check_type(document, result):
        return result
    issuer = _check_issuer(document, urls, result)
    if issuer is None:
        return result
    proof = document.get("proof")
    proof = proof[0] if isinstance(proof, list) and len(proof) == 1 else proof
    method = proof.get("verificationMethod") if isinstance(proof, dict) else None
    key = _check_key(method, issuer, urls, result, "Ed25519")
    if key is None:
        return result
    assert isinstance(method, str)
    if not safe_to_canonicalise(document):
        result.add(
            _("The signature is valid"),
            False,
            _(
                "The credential is not shaped like the campus's credentials, so its signature "
                "was not computed."
            ),
        )
        return result
    if not _signature(result, _data_integrity_ok(document, method, key)):
        return result
    return _check_award(document, issuer, urls, now, email, result)


def verify_vc_jwt(
    token: str, urls: ob2.Urls, now: datetime, email: str | None, result: Verification
) -> Verification:
    """A VC-JWT: RS256 with the issuer's RSA key named by the header's `kid`."""
    result.add(_("The signed credential can be read"), True)
    claims = vc_jwt_claims(token) or {}
    document = credential_of(claims)
    if not _check_type(document, result):
        return result
    issuer = _check_issuer(document, urls, result)
    if issuer is None:
        return result
    try:
        method = jwt.get_unverified_header(token).get("kid")
    except jwt.PyJWTError:
        method = None
    key = _check_key(method, issuer, urls, result, "RS256")
    if key is None:
        return result
    assert isinstance(method, str)
    if not _signature(result, _jwt_ok(token, method, key)):
        return result
    return _check_award(document, issuer, urls, now, email, result)


# --- the steps -------------------------------------------------------------------------------


def _check_type(document: Any, result: Verification) -> bool:
    ok = is_ob3(document)
    detail = ""
    if not ok:
        detail = _(
            "It is not an Open Badges 3.0 credential (the credentials v2 context and the "
            "type OpenBadgeCredential)."
        )
        if isinstance(document, dict) and document.get("@context") == ob2.CONTEXT:
            detail = _(
                "This is Open Badges 2.0 JSON: paste the badge's address or its signed "
                "edition (JWS) instead."
            )
    result.standard = "3.0"
    if ok:
        result.payload = document
    return result.add(_("It is an Open Badges 3.0 credential"), ok, detail)


def _check_issuer(document: dict[str, Any], urls: ob2.Urls, result: Verification) -> Issuer | None:
    """The credential's issuer must be one of this campus's did:web identifiers."""
    from campus.badges.ob3 import did

    named = document.get("issuer")
    named = named.get("id") if isinstance(named, dict) else named
    slug = did.slug_for_did(named, urls.base) if isinstance(named, str) else None
    issuer = (
        db.session.execute(db.select(Issuer).where(Issuer.slug == slug)).scalar_one_or_none()
        if slug
        else None
    )
    result.add(
        _("It was issued by this campus"),
        issuer is not None,
        ""
        if issuer
        else _(
            "This credential was not issued by this campus (%(base)s): only the campus's "
            "own credentials can be checked here, nothing is fetched from elsewhere.",
            base=urls.base,
        ),
    )
    return issuer


def _check_key(
    method: Any, issuer: Issuer, urls: ob2.Urls, result: Verification, algorithm: str
) -> SigningKey | None:
    from campus.badges.ob3 import did

    key = did.key_for_verification_method(method, urls.base) if isinstance(method, str) else None
    if key is not None and key.algorithm != algorithm:
        key = None
    if not result.add(
        _("It was signed with a key of this campus"),
        key is not None,
        "" if key else _("The signing key is not one this campus published."),
    ):
        return None
    assert key is not None and isinstance(method, str)
    own = key.issuer_id == issuer.id and method.startswith(did.issuer_did(issuer, urls.base) + "#")
    if not result.add(
        _("The key belongs to the badge's issuer"),
        own,
        "" if own else _("The badge and its key do not belong together."),
    ):
        return None
    return key


def _signature(result: Verification, ok: bool) -> bool:
    return result.add(
        _("The signature is valid"),
        ok,
        "" if ok else _("The badge was changed after it was signed."),
    )


def _check_award(
    document: dict[str, Any],
    issuer: Issuer,
    urls: ob2.Urls,
    now: datetime,
    email: str | None,
    result: Verification,
) -> Verification:
    """The signed credential states exactly an award of this issuer (a leaked retired key can
    only repeat what the campus issued), then revocation, expiry and recipient."""
    assertion = _issued_assertion(document, issuer, urls)
    if not result.add(
        _("It is a badge this campus issued"),
        assertion is not None,
        "" if assertion else _("The credential does not match any badge this campus issued."),
    ):
        return result
    assert assertion is not None
    result.assertion = assertion
    n, index = status.position(assertion.id)
    revoked = status.revoked_in_list(issuer, n, index)  # the list as served, from the database
    result.add(
        _("The badge has not been revoked"),
        not revoked,
        _("Revoked: %(reason)s", reason=assertion.revocation_reason or "") if revoked else "",
    )
    until = _moment(document.get("validUntil"))
    expired = until is not None and until <= now
    result.add(
        _("The badge has not expired"),
        not expired,
        _("Expired on %(date)s.", date=ob2.iso(until)[:10]) if expired and until else "",
    )
    if email:
        check_recipient(result, email, assertion.recipient_salt, assertion.recipient_hash)
    return result


def _issued_assertion(document: dict[str, Any], issuer: Issuer, urls: ob2.Urls) -> Assertion | None:
    found = re.fullmatch(
        re.escape(urls.base) + r"/ob/v3/credentials/(" + UUID_SHAPE + ")",
        str(document.get("id", "")),
    )
    assertion = find_assertion_without_images(found[1]) if found else None
    if assertion is None or assertion.badge_class.issuer_id != issuer.id:
        return None
    subject = document.get("credentialSubject")
    identifiers = subject.get("identifier") if isinstance(subject, dict) else None
    identity = {
        "type": "IdentityObject",
        "identityHash": assertion.recipient_hash,
        "identityType": "emailAddress",
        "hashed": True,
        "salt": assertion.recipient_salt,
    }
    stated = {
        "validFrom": _second(_moment(document.get("validFrom"))),
        "validUntil": _second(_moment(document.get("validUntil"))),
        "credentialStatus": document.get("credentialStatus"),
    }
    issued = {
        "validFrom": _second(assertion.issued_at),
        "validUntil": _second(assertion.expires_at),
        "credentialStatus": status.status_entry(assertion, urls.base),
    }
    same = stated == issued and isinstance(identifiers, list) and identity in identifiers
    return assertion if same else None


# --- signatures ------------------------------------------------------------------------------


def _data_integrity_ok(document: dict[str, Any], method: str, key: SigningKey) -> bool:
    from campus.badges.ob3 import dataintegrity

    public = _ed25519_public(key)

    def public_key_for(asked: str) -> Ed25519PublicKey | None:
        return public if asked == method else None

    try:
        return public is not None and bool(dataintegrity.verify(document, public_key_for))
    except Exception:  # noqa: BLE001 - a hostile document (bad JSON-LD, odd values) is "not valid"
        return False


def _jwt_ok(token: str, method: str, key: SigningKey) -> bool:
    """RS256 with this key only, its claims agreeing with the credential; times are judged
    against `now` by the report, not by the machine's clock."""
    from campus.badges.ob3 import vcjwt

    def key_lookup(kid: str) -> RSAPublicKey | None:
        return vcjwt.public_rsa_key(key) if kid == method else None

    try:
        return vcjwt.verify_vc_jwt(token, key_lookup) is not None
    except Exception:  # noqa: BLE001 - a hostile token is "not valid", never a 500
        return False


def _ed25519_public(key: SigningKey) -> Ed25519PublicKey | None:
    """The key's public half: its PEM, else its Multikey (z6Mk…)."""
    try:
        loaded = load_pem_public_key(key.public_pem.encode())
        if isinstance(loaded, Ed25519PublicKey):
            return loaded
    except (ValueError, TypeError):
        pass
    from campus.badges.ob3 import keys
    from campus.badges.ob3 import multibase

    try:
        raw = multibase.ed25519_from_multikey(keys.public_multibase(key))
    except (ValueError, TypeError):
        return None
    return Ed25519PublicKey.from_public_bytes(raw)


def _moment(value: Any) -> datetime | None:
    """An ISO 8601 date-time of the credential, else None."""
    if not isinstance(value, str):
        return None
    try:
        return aware(datetime.fromisoformat(value))
    except ValueError:
        return None


def _second(moment: datetime | None) -> datetime | None:
    """Times as the documents write them: UTC, whole seconds."""
    return aware(moment).replace(microsecond=0) if moment is not None else None


def _too_deep(value: Any, depth: int = 0) -> bool:
    if depth > MAX_JSON_DEPTH:
        return True
    if isinstance(value, dict):
        return any(_too_deep(v, depth + 1) for v in value.values())
    if isinstance(value, list):
        return any(_too_deep(v, depth + 1) for v in value)
    return False
