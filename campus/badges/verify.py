"""The campus's own verifier: trusts only objects this campus issued, fetches nothing.

Accepts a compact JWS, one of our assertion URLs, or a baked PNG/SVG, and reports each check
so that a person sees why a badge fails.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from flask_babel import gettext as _

from campus.badges import ob2
from campus.badges.baking import unbake
from campus.badges.models import Assertion
from campus.badges.models import SigningKey
from campus.badges.services import find_assertion
from campus.extensions import db

JWS_SHAPE = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")
UUID_SHAPE = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


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

    @property
    def valid(self) -> bool:
        return bool(self.checks) and all(check.passed for check in self.checks)

    def add(self, label: str, passed: bool, detail: str = "") -> bool:
        self.checks.append(Check(label, passed, detail))
        return passed


def verify_image(
    image: bytes, urls: ob2.Urls, now: datetime, email: str | None = None
) -> Verification:
    payload = unbake(image)
    result = Verification()
    if not result.add(
        _("The image carries a badge"),
        payload is not None,
        "" if payload else _("No Open Badges data was found in this PNG or SVG."),
    ):
        return result
    assert payload is not None
    return verify_text(payload, urls, now, email, result)


def verify_text(
    text: str,
    urls: ob2.Urls,
    now: datetime,
    email: str | None = None,
    result: Verification | None = None,
) -> Verification:
    """A pasted JWS or assertion URL."""
    result = result or Verification()
    text = text.strip()
    if JWS_SHAPE.match(text):
        return _verify_jws(text, urls, now, email, result)
    match = re.fullmatch(
        re.escape(urls.base) + r"/(?:ob/assertions|badges/a)/(" + UUID_SHAPE + r")(?:\.json)?", text
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
        return result
    assert match is not None
    assertion = find_assertion(match[1])
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
    try:
        unverified = jwt.api_jws.PyJWS().decode_complete(token, options={"verify_signature": False})
        payload = json.loads(unverified["payload"])
    except (jwt.PyJWTError, ValueError):
        result.add(
            _("The signed badge can be read"), False, _("This is not a valid signed badge (JWS).")
        )
        return result
    result.payload = payload
    result.add(_("The signed badge can be read"), True)
    if not result.add(
        _("It is an Open Badges 2.0 assertion"),
        isinstance(payload, dict)
        and payload.get("type") == "Assertion"
        and payload.get("@context") == ob2.CONTEXT,
    ):
        return result
    creator = str((payload.get("verification") or {}).get("creator", ""))
    key_match = re.fullmatch(re.escape(urls.key("")) + r"([0-9a-f-]{36})", creator)
    key = None
    if key_match:
        key = db.session.execute(
            db.select(SigningKey).where(SigningKey.kid == key_match[1])
        ).scalar_one_or_none()
    if not result.add(
        _("It was signed with a key of this campus"),
        key is not None,
        "" if key else _("The signing key is not one this campus published."),
    ):
        return result
    assert key is not None
    try:
        jwt.api_jws.PyJWS().decode(
            token, load_pem_public_key(key.public_pem.encode()), algorithms=["RS256"]
        )
        signature_ok = True
    except jwt.PyJWTError:
        signature_ok = False
    if not result.add(
        _("The signature is valid"),
        signature_ok,
        "" if signature_ok else _("The badge was changed after it was signed."),
    ):
        return result
    uuid_match = re.fullmatch(r"urn:uuid:(" + UUID_SHAPE + ")", str(payload.get("id", "")))
    assertion = find_assertion(uuid_match[1]) if uuid_match else None
    result.assertion = assertion
    badge_url = urls.badge(assertion.badge_class.slug) if assertion else None
    owner_ok = (
        assertion is not None
        and assertion.signing_key_id == key.id
        and payload.get("badge") == badge_url
        and assertion.badge_class.issuer_id == key.issuer_id
    )
    if not result.add(
        _("The key belongs to the badge's issuer"),
        owner_ok,
        "" if owner_ok else _("The badge and its key do not belong together."),
    ):
        return result
    assert assertion is not None
    result.add(
        _("The badge has not been revoked"),
        assertion.revoked_at is None,
        _("Revoked: %(reason)s", reason=assertion.revocation_reason or "")
        if assertion.revoked_at
        else "",
    )
    expires = payload.get("expires")
    expired = False
    if expires:
        expired = datetime.strptime(expires, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) <= now
    result.add(
        _("The badge has not expired"),
        not expired,
        _("Expired on %(date)s.", date=expires[:10]) if expired else "",
    )
    if email:
        recipient = payload.get("recipient") or {}
        matches = ob2.recipient_hash(email, str(recipient.get("salt", ""))) == recipient.get(
            "identity"
        )
        result.add(
            _("It was issued to %(email)s", email=email.strip().lower()),
            matches,
            "" if matches else _("The badge was issued to a different e-mail address."),
        )
    return result
