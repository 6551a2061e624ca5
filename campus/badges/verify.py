"""The campus's own verifier: trusts only objects this campus issued, fetches nothing.

Accepts a compact JWS, one of our assertion URLs, or a baked PNG/SVG, and reports each check
so that a person sees why a badge fails.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from flask_babel import gettext as _

from campus.badges import ob2
from campus.badges.awarding import is_expired
from campus.badges.baking import unbake
from campus.badges.models import Assertion
from campus.badges.models import SigningKey
from campus.badges.revocation import find_assertion_without_images
from campus.extensions import db

JWS_SHAPE = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")
UUID_SHAPE = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
ADDRESS_SHAPE = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|www\.)\S+$", re.IGNORECASE)


@dataclass(frozen=True)
class Check:
    label: str
    passed: bool
    detail: str = ""


@dataclass
class Verification:
    checks: list[Check] = field(default_factory=list)
    assertion: Assertion | None = None
    payload: dict[str, Any] | None = None
    # Set when what was given is no badge at all (plain text, another page, a plain image):
    # the verdict the page shows instead of "not valid".
    not_a_badge: str = ""
    recipient: tuple[str, bool] | None = None  # the e-mail checked and whether it matched
    standard: str = "2.0"  # the Open Badges version of what was given ("3.0": a credential)

    @property
    def valid(self) -> bool:
        return bool(self.checks) and all(check.passed for check in self.checks)

    @property
    def verdict(self) -> str:
        """ "valid", "invalid" (a badge that fails a check) or "not-a-badge"."""
        if self.valid:
            return "valid"
        return "not-a-badge" if self.not_a_badge else "invalid"

    def add(self, label: str, passed: bool, detail: str = "") -> bool:
        self.checks.append(Check(label, passed, detail))
        return passed


def verify_image(
    image: bytes, urls: ob2.Urls, now: datetime, email: str | None = None
) -> Verification:
    payload: str | dict[str, Any] | None = unbake(image) or _unbake_credential(image)
    result = Verification()
    if not result.add(
        _("The image carries a badge"),
        payload is not None,
        "" if payload else _("No Open Badges data was found in this PNG or SVG."),
    ):
        result.not_a_badge = _("This image carries no badge")
        return result
    if isinstance(payload, dict):  # an OB 3.0 credential with its proof
        from campus.badges import verify_ob3

        return verify_ob3.verify_credential(payload, urls, now, email, result)
    assert payload is not None
    return verify_text(payload, urls, now, email, result)


def _unbake_credential(image: bytes) -> str | dict[str, Any] | None:
    """An OB 3.0 credential baked in the image (JSON with its proof, or a VC-JWT)."""
    from campus.badges.ob3.baking import unbake_credential

    return unbake_credential(image)


def verify_text(
    text: str,
    urls: ob2.Urls,
    now: datetime,
    email: str | None = None,
    result: Verification | None = None,
) -> Verification:
    """A pasted JWS, VC-JWT, OB 3.0 credential (JSON) or assertion URL."""
    from campus.badges import verify_ob3

    result = result or Verification()
    text = text.strip()
    if text.startswith(("{", "[")):
        return verify_ob3.verify_json_text(text, urls, now, email, result)
    if JWS_SHAPE.match(text):
        if verify_ob3.vc_jwt_claims(text) is not None:
            return verify_ob3.verify_vc_jwt(text, urls, now, email, result)
        return _verify_jws(text, urls, now, email, result)
    if not ADDRESS_SHAPE.match(text):
        result.not_a_badge = _("This is not a badge address")
        result.add(
            _("It is a badge's address or a signed badge"),
            False,
            _(
                "This looks like plain text. Paste the address of a badge page (it begins "
                "with %(base)s/badges/a/) or a signed badge (JWS), or upload the badge image.",
                base=urls.base,
            ),
        )
        return result
    match = re.fullmatch(
        re.escape(urls.base)
        + r"/(?:ob/assertions|badges/a|ob/v3/credentials)/("
        + UUID_SHAPE
        + r")(?:\.json)?",
        text,
    )
    if not result.add(
        _("The address belongs to this campus"),
        match is not None,
        ""
        if match
        else _(
            "Only badges issued by this campus (%(base)s) can be checked here; "
            "other addresses are not fetched.",
            base=urls.base,
        ),
    ):
        if text.startswith(urls.base + "/"):
            result.checks[-1] = Check(
                _("It is a badge's address"),
                False,
                _(
                    "This address is on this campus but is not a badge. Open the badge and copy "
                    "the address of its page (it begins with %(base)s/badges/a/).",
                    base=urls.base,
                ),
            )
            result.not_a_badge = _("This is not a badge address")
        return result
    assert match is not None
    assertion = find_assertion_without_images(match[1])
    if not result.add(
        _("The badge exists"),
        assertion is not None,
        "" if assertion else _("No badge with this address was issued here."),
    ):
        return result
    assert assertion is not None
    return _verify_jws(assertion.jws, urls, now, email, result)


def _verify_jws(
    token: str, urls: ob2.Urls, now: datetime, email: str | None, result: Verification
) -> Verification:
    """Every field is read defensively: a pasted badge is anyone's JSON, never a 500."""
    try:
        unverified = jwt.api_jws.PyJWS().decode_complete(token, options={"verify_signature": False})
        payload = json.loads(unverified["payload"])
    except (jwt.PyJWTError, ValueError, RecursionError):
        result.add(
            _("The signed badge can be read"), False, _("This is not a valid signed badge (JWS).")
        )
        return result
    result.add(_("The signed badge can be read"), True)
    if not result.add(
        _("It is an Open Badges 2.0 assertion"),
        isinstance(payload, dict)
        and payload.get("type") == "Assertion"
        and payload.get("@context") == ob2.CONTEXT,
        "" if isinstance(payload, dict) else _("The signed content is not an assertion."),
    ):
        return result
    result.payload = payload
    key = _signing_key(payload, urls)
    if not result.add(
        _("It was signed with a key of this campus"),
        key is not None,
        "" if key else _("The signing key is not one this campus published."),
    ):
        return result
    assert key is not None
    signature_ok = _signature_ok(token, key)
    if not result.add(
        _("The signature is valid"),
        signature_ok,
        "" if signature_ok else _("The badge was changed after it was signed."),
    ):
        return result
    assertion = _issued_assertion(payload, urls)
    result.assertion = assertion
    owner_ok = assertion is not None and assertion.badge_class.issuer_id == key.issuer_id
    if not result.add(
        _("The key belongs to the badge's issuer"),
        owner_ok,
        "" if owner_ok else _("The badge and its key do not belong together."),
    ):
        return result
    assert assertion is not None
    if key.id != assertion.signing_key_id:
        # A copy saved before a key rotation: the campus re-signed its stored editions since.
        result.add(
            _("This copy was signed with an earlier key of this campus"),
            True,
            _("Download the badge again for a copy that every verifier accepts."),
        )
    result.add(
        _("The badge has not been revoked"),
        assertion.revoked_at is None,
        _("Revoked: %(reason)s", reason=assertion.revocation_reason or "")
        if assertion.revoked_at
        else "",
    )
    expired = is_expired(assertion, now)
    result.add(
        _("The badge has not expired"),
        not expired,
        _("Expired on %(date)s.", date=ob2.iso(assertion.expires_at)[:10])
        if expired and assertion.expires_at
        else "",
    )
    if email:
        check_recipient(result, email, assertion.recipient_salt, assertion.recipient_hash)
    return result


def _signing_key(payload: dict[str, Any], urls: ob2.Urls) -> SigningKey | None:
    verification = payload.get("verification")
    creator = verification.get("creator") if isinstance(verification, dict) else None
    if not isinstance(creator, str):
        return None
    match = re.fullmatch(re.escape(urls.key("")) + r"([0-9a-f-]{36})", creator)
    if match is None:
        return None
    return db.session.execute(
        db.select(SigningKey).where(SigningKey.kid == match[1], SigningKey.algorithm == "RS256")
    ).scalar_one_or_none()


def _signature_ok(token: str, key: SigningKey) -> bool:
    try:
        jwt.api_jws.PyJWS().decode(
            token, load_pem_public_key(key.public_pem.encode()), algorithms=["RS256"]
        )
    except jwt.PyJWTError:
        return False
    return True


def _issued_assertion(payload: dict[str, Any], urls: ob2.Urls) -> Assertion | None:
    """The stored assertion that this signed payload states exactly, or None.

    Each field must equal what the campus issued: a copy signed with a retired key (even a leaked
    one) can only ever repeat a badge the campus gave, never change its recipient or dates.
    """
    found = re.fullmatch(r"urn:uuid:(" + UUID_SHAPE + ")", str(payload.get("id", "")))
    assertion = find_assertion_without_images(found[1]) if found else None
    if assertion is None:
        return None
    issued = {
        "badge": urls.badge(assertion.badge_class.slug),
        "recipient": {
            "type": "email",
            "hashed": True,
            "salt": assertion.recipient_salt,
            "identity": assertion.recipient_hash,
        },
        "issuedOn": ob2.iso(assertion.issued_at),
        "expires": ob2.iso(assertion.expires_at) if assertion.expires_at else None,
        "evidence": assertion.evidence or None,
    }
    same = all(payload.get(name) == value for name, value in issued.items())
    return assertion if same else None


def check_recipient(result: Verification, email: str, salt: str, identity: str) -> None:
    """The address as typed, as OB 2.0 verifiers hash it (OB 3.0's IdentityObject holds the same
    hash); earlier campus badges hashed it lower-cased, so that form is accepted too, with a note
    when only it matches."""
    exact = ob2.recipient_hash(email, salt) == identity
    legacy = not exact and ob2.legacy_recipient_hash(email, salt) == identity
    detail = ""
    if legacy:
        detail = _(
            "Matches only when letter case is ignored; other verifiers need the address "
            "exactly as %(email)s.",
            email=email.strip().lower(),
        )
    elif not exact:
        detail = _("The badge was issued to a different e-mail address.")
    result.recipient = (email, exact or legacy)
    result.add(_("It was issued to %(email)s", email=email), exact or legacy, detail)
