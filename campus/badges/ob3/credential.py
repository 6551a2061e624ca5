"""OpenBadgeCredentials (OB 3.0, VC Data Model 2.0) built on demand from an Assertion row.

Nothing here is stored: the credential follows from the assertion, its badge class and the
issuer's keys, so it is the same on every host. Texts are the Finnish original (`inLanguage`
"fi"); the achievement names its Swedish and English editions in `related`, as 2.0 does.
Every property used is defined by the two contexts (see dataintegrity.dropped_terms).
`awardedDate` is left out: context 3.0.3 types it `xsd:dateTime` with no `xsd` prefix, so its
RDF would carry the datatype IRI "xsd:dateTime" (validFrom says the same, correctly typed).
"""

from __future__ import annotations

import copy
import json
from collections import OrderedDict
from typing import Any

from campus.badges import ob2
from campus.badges.issuers import IssuingContext
from campus.badges.models import PATH_RULE_PREFIX
from campus.badges.models import Assertion
from campus.badges.models import BadgeClass
from campus.badges.models import Issuer
from campus.badges.ob3 import dataintegrity
from campus.badges.ob3 import did
from campus.badges.ob3 import keys
from campus.badges.ob3 import vcjwt
from campus.clock import utcnow
from campus.config import DEFAULT_LOCALE
from campus.i18n import pick

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
CONTEXT = [VC_CONTEXT, OB_CONTEXT]
MEDIA_TYPE = "application/vc+ld+json"
# The refresh service's type: the RefreshService class itself (an absolute IRI, so JSON-LD keeps
# it). "1EdTechCredentialRefresh" would ask verifiers for the VCCR protocol, which the campus
# does not offer; its refresh is a plain GET that leads to the learner's current credential.
REFRESH_TYPE = "https://www.w3.org/2018/credentials#RefreshService"
_UNSAFE_IRI = set(' <>"{}|\\^`')
_CACHE_SIZE = 512
_signed: OrderedDict[str, dict[str, Any]] = OrderedDict()
_achievements: OrderedDict[tuple[Any, ...], str] = OrderedDict()


def credential_url(uuid: str, base: str) -> str:
    return f"{base}/ob/v3/credentials/{uuid}"


def refresh_url(uuid: str, base: str) -> str:
    return f"{base}/ob/v3/credentials/{uuid}/refresh"


def achievement_url(slug: str, base: str, language: str | None = None) -> str:
    query = "" if language in (None, DEFAULT_LOCALE) else f"?lang={language}"
    return f"{base}/ob/v3/achievements/{slug}{query}"


def _absolute_iri(value: Any) -> bool:
    return (
        isinstance(value, str)
        and value.startswith(("https://", "http://"))
        and not (_UNSAFE_IRI & set(value))
        and value.isprintable()
    )


def achievement(badge: BadgeClass, context: IssuingContext, language: str) -> dict[str, Any]:
    """The Achievement in one language (no @context: it sits inside a credential).

    Kept per process as JSON by what names its content (the badge file's hash): every call
    gets objects of its own, at the cost of one json.loads."""
    if not badge.content_hash:
        return _achievement(badge, context, language)
    key = (badge.id, badge.slug, badge.content_hash, context.urls.base, language)
    text = _achievements.get(key)
    if text is None:
        text = json.dumps(_achievement(badge, context, language), ensure_ascii=False)
        _achievements[key] = text
        while len(_achievements) > _CACHE_SIZE:
            _achievements.popitem(last=False)
    return json.loads(text)


def _achievement(badge: BadgeClass, context: IssuingContext, language: str) -> dict[str, Any]:
    urls, base = context.urls, context.urls.base
    versions = ob2.badge_languages(badge)
    if language not in versions:
        language = DEFAULT_LOCALE
    document: dict[str, Any] = {
        "id": achievement_url(badge.slug, base, language),
        "type": ["Achievement"],
        "achievementType": "Badge",
        "name": pick(badge.name, language),
        "description": pick(badge.description, language),
        "criteria": {"id": urls.criteria(badge.slug), "narrative": pick(badge.criteria, language)},
        "image": {
            "id": urls.badge_image(badge.slug, language),
            "type": "Image",
            "caption": pick(badge.image_alt, language) or pick(badge.name, language),
        },
        "inLanguage": language,
    }
    version = (badge.content_hash or "")[:12]
    if version:
        document["version"] = version
    if tags := ob2.tags_in(badge.tags, language):
        document["tag"] = tags
    if badge.alignment:
        document["alignment"] = [_alignment(item) for item in badge.alignment]
    related = [
        {"id": achievement_url(badge.slug, base, other), "type": ["Related"], "inLanguage": other}
        | ({"version": version} if version else {})
        for other in versions
        if other != language
    ]
    if related:
        document["related"] = related
    return document


def _alignment(item: dict[str, str]) -> dict[str, Any]:
    aligned: dict[str, Any] = {"type": ["Alignment"]}
    for key, source in (
        ("targetName", "name"),
        ("targetUrl", "url"),
        ("targetFramework", "framework"),
        ("targetCode", "code"),
        ("targetDescription", "description"),
    ):
        if item.get(source):
            aligned[key] = str(item[source])
    return aligned


def achievement_document(
    badge: BadgeClass, context: IssuingContext, language: str = DEFAULT_LOCALE
) -> dict[str, Any]:
    """The Achievement served at its id, with the OB 3.0 @context."""
    return {"@context": CONTEXT} | achievement(badge, context, language)


def issuer_profile(issuer: Issuer, context: IssuingContext) -> dict[str, Any]:
    profile: dict[str, Any] = {
        "id": did.issuer_did(issuer, context.urls.base),
        "type": ["Profile"],
        "name": context.issuer_name_in(issuer, DEFAULT_LOCALE),
    }
    if _absolute_iri(issuer.url):
        profile["url"] = issuer.url
    if issuer.email:
        profile["email"] = issuer.email
    return profile


def _evidence(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """2.0 evidence as OB 3.0 Evidence: an id only when it is an absolute URL."""
    evidence = []
    for item in items:
        entry: dict[str, Any] = {"type": ["Evidence"]}
        if _absolute_iri(item.get("id")):
            entry["id"] = item["id"]
        for key in ("name", "description", "narrative", "genre", "audience"):
            if isinstance(item.get(key), str) and item[key]:
                entry[key] = item[key]
        if len(entry) > 1:
            evidence.append(entry)
    return evidence


def can_be_earned_again(badge: BadgeClass) -> bool:
    """An expiring badge, or a path's badge: the learner may hold a newer award later."""
    return bool(badge.valid_for_days) or badge.award_rule.startswith(PATH_RULE_PREFIX)


def unsigned_credential(assertion: Assertion, context: IssuingContext) -> dict[str, Any]:
    badge = assertion.badge_class
    base = context.urls.base
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "id": credential_url(assertion.uuid, base),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": pick(badge.name, DEFAULT_LOCALE),
        "description": pick(badge.description, DEFAULT_LOCALE),
        "issuer": issuer_profile(badge.issuer, context),
        "validFrom": ob2.iso(assertion.issued_at),
    }
    if assertion.expires_at is not None:
        document["validUntil"] = ob2.iso(assertion.expires_at)
    document["credentialSubject"] = {
        "type": ["AchievementSubject"],
        "identifier": [
            {
                "type": "IdentityObject",
                "identityHash": assertion.recipient_hash,
                "identityType": "emailAddress",
                "hashed": True,
                "salt": assertion.recipient_salt,
            }
        ],
        "achievement": achievement(badge, context, DEFAULT_LOCALE),
    }
    if evidence := _evidence(assertion.evidence or []):
        document["evidence"] = evidence
    if (entry := _status_entry(assertion, base)) is not None:
        document["credentialStatus"] = entry
    if can_be_earned_again(badge):
        document["refreshService"] = {"id": refresh_url(assertion.uuid, base), "type": REFRESH_TYPE}
    return document


def _status_entry(assertion: Assertion, base: str) -> dict[str, Any] | None:
    try:
        from campus.badges.ob3 import status
    except ImportError:  # pragma: no cover - the status list module ships with this one
        return None
    return status.status_entry(assertion, base)


def signing_key(assertion: Assertion, context: IssuingContext):  # noqa: ANN201
    """The Ed25519 key of the assertion's issue time; an issuer without one gets one now
    (it flushes: the caller commits)."""
    issuer = assertion.badge_class.issuer
    if not keys.ed25519_keys(issuer):
        keys.ed25519_key_for_signing(issuer, context.keys_dir, context.passphrase, utcnow())
    return keys.ed25519_key_for(assertion)


def credential_for(assertion: Assertion, context: IssuingContext) -> dict[str, Any]:
    """The signed (eddsa-rdfc-2022) credential. Signing is deterministic, so a per-process
    cache keyed on the unsigned document and the key gives the same bytes every time."""
    unsigned = unsigned_credential(assertion, context)
    key = signing_key(assertion, context)
    method = did.verification_method(assertion.badge_class.issuer, key, context.urls.base)
    cache_key = json.dumps([unsigned, method, unsigned["validFrom"]], sort_keys=True)
    cached = _signed.get(cache_key)
    if cached is None:
        cached = dataintegrity.sign(
            unsigned, key, method, assertion.issued_at, context.keys_dir, context.passphrase
        )
        _signed[cache_key] = cached
        while len(_signed) > _CACHE_SIZE:
            _signed.popitem(last=False)
    else:
        _signed.move_to_end(cache_key)
    return copy.deepcopy(cached)


def vc_jwt_for(assertion: Assertion, context: IssuingContext) -> str:
    """VC-JWT signed RS256 with the RSA key that signed the award's 2.0 edition."""
    unsigned = unsigned_credential(assertion, context)
    key = assertion.signing_key
    method = did.verification_method(assertion.badge_class.issuer, key, context.urls.base)
    return vcjwt.sign_vc_jwt(unsigned, key, method, context.keys_dir, context.passphrase)
