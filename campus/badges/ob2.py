"""Open Badges 2.0 documents (pure: no Flask, no database access beyond the objects given)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from typing import Any

from campus.clock import aware
from campus.config import DEFAULT_LOCALE
from campus.config import LANGUAGES
from campus.i18n import FALLBACK_ORDER
from campus.i18n import pick

CONTEXT = "https://w3id.org/openbadges/v2"
# A never-issued entry that keeps every revocation list an array of two or more: the official
# validator ignores a list holding exactly one entry (JSON-LD compaction turns it into an object).
PLACEHOLDER_REVOCATION = {
    "id": "urn:uuid:00000000-0000-4000-8000-000000000000",
    "revocationReason": "Placeholder entry: no badge has this id.",
}


def _in(language: str | None) -> str:
    """The query that names a language version; none for the original (Finnish)."""
    return "" if language in (None, DEFAULT_LOCALE) else f"?lang={language}"


@dataclass(frozen=True)
class Urls:
    """Every public Open Badges address, built from the configured BASE_URL."""

    base: str

    def issuer(self, slug: str, language: str | None = None) -> str:
        return f"{self.base}/ob/issuers/{slug}{_in(language)}"

    def revocations(self, slug: str) -> str:
        return f"{self.base}/ob/issuers/{slug}/revocations"

    def key(self, kid: str) -> str:
        return f"{self.base}/ob/keys/{kid}"

    def badge(self, slug: str, language: str | None = None) -> str:
        """The badge class; the Finnish original's id has no `?lang=` (assertions name it)."""
        return f"{self.base}/ob/badges/{slug}{_in(language)}"

    def badge_image(self, slug: str, language: str | None = None, fmt: str = "png") -> str:
        return f"{self.base}/ob/badges/{slug}/image.{fmt}{_in(language)}"

    def criteria(self, slug: str) -> str:
        return f"{self.base}/badges/{slug}"

    def hosted_assertion(self, uuid: str) -> str:
        return f"{self.base}/ob/assertions/{uuid}"

    def assertion_page(self, uuid: str) -> str:
        return f"{self.base}/badges/a/{uuid}"


def iso(moment: datetime) -> str:
    return aware(moment).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def recipient_hash(email: str, salt: str) -> str:
    """OB 2.0 hashed identity: "sha256$" + hex(sha256(email + salt)), the address as given.

    Verifiers (the 1EdTech validator, backpacks) hash the address exactly as the earner typed
    it, so nothing is lower-cased or stripped here.
    """
    return "sha256$" + hashlib.sha256((email + salt).encode("utf-8")).hexdigest()


def legacy_recipient_hash(email: str, salt: str) -> str:
    """How the campus hashed before it followed the spec: the address stripped and lower-cased."""
    return recipient_hash(email.strip().lower(), salt)


def recipient_matches(email: str, salt: str, identity: str) -> bool:
    """The address hashes to `identity` as given, or in the campus's earlier lower-cased form."""
    return identity in (recipient_hash(email, salt), legacy_recipient_hash(email, salt))


def issuer_document(
    urls: Urls,
    slug: str,
    names: dict[str, str],
    url: str,
    email: str,
    key_id: str | None,
    language: str = DEFAULT_LOCALE,
) -> dict[str, Any]:
    """The issuer profile in one language (its own id); `publicKey` is the one key that signs
    now (see campus.badges.rotation). One name for every language: one document, no versions."""
    versions = (
        [lang for lang in LANGUAGES if names.get(lang)] if len(set(names.values())) > 1 else []
    )
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "type": "Issuer",
        "id": urls.issuer(slug, language if versions else None),
    }
    if versions:
        document["@language"] = language
    document |= {
        "name": pick(names, language),
        "url": url,
        "email": email,
        "revocationList": urls.revocations(slug),
    }
    if key_id is not None:
        document["publicKey"] = urls.key(key_id)
    if len(versions) > 1:
        document["related"] = [
            {"type": "Issuer", "id": urls.issuer(slug, other), "@language": other}
            for other in versions
            if other != language
        ]
    return document


def key_document(urls: Urls, issuer_slug: str, kid: str, public_pem: str) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "type": "CryptographicKey",
        "id": urls.key(kid),
        "owner": urls.issuer(issuer_slug),
        "publicKeyPem": public_pem,
    }


def revocation_document(
    urls: Urls, issuer_slug: str, revoked: list[tuple[str, str]]
) -> dict[str, Any]:
    entries = [{"id": f"urn:uuid:{uuid}", "revocationReason": reason} for uuid, reason in revoked]
    return {
        "@context": CONTEXT,
        "type": "RevocationList",
        "id": urls.revocations(issuer_slug),
        "issuer": urls.issuer(issuer_slug),
        "revokedAssertions": entries + [PLACEHOLDER_REVOCATION],
    }


def badge_languages(badge: Any) -> list[str]:
    """The languages a badge class is written in: name, description and criteria all given.

    The original (Finnish) is always one; `?lang=` asks for the others.
    """
    return [DEFAULT_LOCALE] + [
        language
        for language in LANGUAGES
        if language != DEFAULT_LOCALE
        and all(
            (texts or {}).get(language) for texts in (badge.name, badge.description, badge.criteria)
        )
    ]


def tags_in(tags: Any, language: str) -> list[str]:
    """A badge's tags in `language`: a list is the same in every language; a mapping is per
    language, falling back like every other text."""
    if not tags:
        return []
    if isinstance(tags, list):
        return list(tags)
    for candidate in FALLBACK_ORDER.get(language, LANGUAGES):
        if tags.get(candidate):
            return list(tags[candidate])
    return list(next(iter(tags.values()), []))


def badge_document(
    urls: Urls, badge: Any, issuer_slug: str, language: str = DEFAULT_LOCALE
) -> dict[str, Any]:
    """A BadgeClass in one language, with an id of its own, naming its other language versions
    (OB 2.0 `related`). Assertions name the original's id, which never changes."""
    versions = badge_languages(badge)
    if language not in versions:
        language = DEFAULT_LOCALE
    version = (badge.content_hash or "")[:12] or None
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "type": "BadgeClass",
        "id": urls.badge(badge.slug, language),
        "@language": language,
        "name": pick(badge.name, language),
        "description": pick(badge.description, language),
        "image": urls.badge_image(badge.slug, language),
        "criteria": {"id": urls.criteria(badge.slug), "narrative": pick(badge.criteria, language)},
        "issuer": urls.issuer(issuer_slug),
    }
    if version:
        document["version"] = version
    if tags := tags_in(badge.tags, language):
        document["tags"] = tags
    related = [
        {"type": "BadgeClass", "id": urls.badge(badge.slug, other), "@language": other}
        | ({"version": version} if version else {})
        for other in versions
        if other != language
    ]
    if related:
        document["related"] = related
    if badge.alignment:
        document["alignment"] = [
            {
                key: value
                for key, value in {
                    "targetName": item["name"],
                    "targetUrl": item["url"],
                    "targetFramework": item.get("framework"),
                    "targetCode": item.get("code"),
                    "targetDescription": item.get("description"),
                }.items()
                if value
            }
            for item in badge.alignment
        ]
    return document


def assertion_document(
    urls: Urls,
    *,
    uuid: str,
    badge_slug: str,
    identity: str,
    salt: str,
    issued_at: datetime,
    expires_at: datetime | None,
    evidence: list[dict[str, Any]],
    key_id: str | None,
) -> dict[str, Any]:
    """Signed (key_id given: id urn:uuid, SignedBadge) or hosted (id URL, HostedBadge)."""
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "type": "Assertion",
        "id": f"urn:uuid:{uuid}" if key_id else urls.hosted_assertion(uuid),
        "recipient": {"type": "email", "hashed": True, "salt": salt, "identity": identity},
        "badge": urls.badge(badge_slug),
        "issuedOn": iso(issued_at),
        "verification": (
            {"type": "SignedBadge", "creator": urls.key(key_id)}
            if key_id
            else {"type": "HostedBadge"}
        ),
    }
    if expires_at is not None:
        document["expires"] = iso(expires_at)
    if evidence:
        document["evidence"] = evidence
    return document
