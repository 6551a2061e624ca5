"""Schemas of badge classes, assertions, awards and revocations (/api/v1/badges, /assertions)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from marshmallow import Schema
from marshmallow import fields
from marshmallow import validate

from campus.badges.awarding import status_of
from campus.badges.claim_models import BadgeClaim
from campus.badges.models import PATH_RULE_PREFIX
from campus.badges.models import Assertion
from campus.badges.models import BadgeClass
from campus.badges.ob2 import Urls
from campus.clock import aware
from campus.clock import aware_or_none

ASSERTION_STATUSES = ("valid", "expired", "revoked")


def _texts(**kwargs: object) -> fields.Dict:
    return fields.Dict(keys=fields.String(), values=fields.String(), **kwargs)  # type: ignore[arg-type]


class AlignmentSchema(Schema):
    name = fields.String(required=True)
    url = fields.String(required=True)
    framework = fields.String()
    code = fields.String()
    description = fields.String()


class BadgeClassSchema(Schema):
    slug = fields.String(required=True)
    name = _texts(required=True)
    description = _texts(required=True)
    criteria = _texts(required=True, metadata={"description": "Markdown, per language."})
    issuer = fields.String(required=True, metadata={"description": "The issuer's slug."})
    award_rule = fields.String(
        required=True, metadata={"description": '"path:<slug>", "review" or "milestone".'}
    )
    path = fields.String(allow_none=True, required=True)
    members = fields.List(fields.String(), required=True)
    valid_for_days = fields.Integer(allow_none=True, required=True)
    alignment = fields.List(fields.Nested(AlignmentSchema), required=True)
    links = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        required=True,
        metadata={"description": "page, ob2 (BadgeClass), ob3 (Achievement), image."},
    )


class BadgeRefSchema(Schema):
    slug = fields.String(required=True)
    name = _texts(required=True)


class AssertionLinksSchema(Schema):
    page = fields.String(required=True, metadata={"description": "The public badge page."})
    ob2 = fields.String(required=True, metadata={"description": "OB 2.0 hosted assertion."})
    ob3 = fields.String(required=True, metadata={"description": "OB 3.0 credential."})


class AssertionSchema(Schema):
    uuid = fields.String(required=True)
    badge = fields.Nested(BadgeRefSchema, required=True)
    issued_at = fields.DateTime(required=True)
    expires_at = fields.DateTime(allow_none=True, required=True)
    status = fields.String(required=True, validate=validate.OneOf(ASSERTION_STATUSES))
    revoked_at = fields.DateTime(allow_none=True, required=True)
    revocation_reason = fields.String(allow_none=True, required=True)
    source = fields.String(required=True)
    links = fields.Nested(AssertionLinksSchema, required=True)


class RecipientSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    email = fields.String(required=True)


class AdminAssertionSchema(AssertionSchema):
    """An award as the badge's admins see it: with its recipient."""

    recipient = fields.Nested(RecipientSchema, required=True)


class AwardInSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(min=3, max=254))
    narrative = fields.String(
        load_default="",
        validate=validate.Length(max=5000),
        metadata={"description": "Evidence narrative carried by the assertion."},
    )


class ClaimSchema(Schema):
    """An award waiting for the recipient to confirm their address (or to create an account)."""

    id = fields.Integer(required=True)
    badge = fields.Nested(BadgeRefSchema, required=True)
    email = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    status = fields.String(required=True, validate=validate.OneOf(("held",)))


class RevokeInSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


# --- what the views dump (plain dicts from the models) ---------------------------------------


def badge_ref(badge: BadgeClass) -> dict[str, Any]:
    return {"slug": badge.slug, "name": badge.name}


def badge_class_dict(badge: BadgeClass, urls: Urls) -> dict[str, Any]:
    return {
        **badge_ref(badge),
        "description": badge.description,
        "criteria": badge.criteria,
        "issuer": badge.issuer.slug,
        "award_rule": badge.award_rule,
        "path": badge.award_rule.removeprefix(PATH_RULE_PREFIX)
        if badge.award_rule.startswith(PATH_RULE_PREFIX)
        else None,
        "members": list(badge.members or []),
        "valid_for_days": badge.valid_for_days,
        "alignment": [
            {key: str(value) for key, value in entry.items() if key in _ALIGNMENT_KEYS}
            for entry in badge.alignment or []
            if "name" in entry and "url" in entry
        ],
        "links": {
            "page": urls.criteria(badge.slug),
            "ob2": urls.badge(badge.slug),
            "ob3": f"{urls.base}/ob/v3/achievements/{badge.slug}",
            "image": urls.badge_image(badge.slug),
        },
    }


_ALIGNMENT_KEYS = {"name", "url", "framework", "code", "description"}


def assertion_dict(assertion: Assertion, urls: Urls, now: datetime) -> dict[str, Any]:
    return {
        "uuid": assertion.uuid,
        "badge": badge_ref(assertion.badge_class),
        "issued_at": aware(assertion.issued_at),
        "expires_at": aware_or_none(assertion.expires_at),
        "status": status_of(assertion, now).value,
        "revoked_at": aware_or_none(assertion.revoked_at),
        "revocation_reason": assertion.revocation_reason,
        "source": str(assertion.source),
        "links": {
            "page": urls.assertion_page(assertion.uuid),
            "ob2": urls.hosted_assertion(assertion.uuid),
            "ob3": f"{urls.base}/ob/v3/credentials/{assertion.uuid}",
        },
    }


def admin_assertion_dict(assertion: Assertion, urls: Urls, now: datetime) -> dict[str, Any]:
    user = assertion.user
    return {
        **assertion_dict(assertion, urls, now),
        "recipient": {"id": user.id, "name": user.name, "email": user.badge_email or user.email},
    }


def claim_dict(claim: BadgeClaim) -> dict[str, Any]:
    return {
        "id": claim.id,
        "badge": badge_ref(claim.badge_class),
        "email": claim.email,
        "created_at": aware(claim.created_at),
        "status": "held",
    }
