"""Badge classes (public, as the badge catalogue), and for campus admins: a badge's awards,
awarding one (POST /badges/<slug>/awards) and revoking one (POST /assertions/<uuid>/revoke).

The services are the admin pages': claims.award_to_address (at once to a confirmed address,
else a claim that waits for the address) and revocation.revoke. Each POST commits once.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask import url_for
from flask_smorest import Blueprint
from sqlalchemy.orm import defer
from sqlalchemy.orm import selectinload

from campus.api.auth import Principal
from campus.api.auth import current_principal
from campus.api.auth import require
from campus.api.caching import ETAG_HEADERS
from campus.api.caching import NOT_MODIFIED
from campus.api.caching import conditional_json
from campus.api.paging import PAGING_HEADERS
from campus.api.paging import PageArgs
from campus.api.paging import paginate
from campus.api.problems import abort_problem
from campus.api.schemas_badges import AdminAssertionSchema
from campus.api.schemas_badges import AwardInSchema
from campus.api.schemas_badges import BadgeClassSchema
from campus.api.schemas_badges import ClaimSchema
from campus.api.schemas_badges import RevokeInSchema
from campus.api.schemas_badges import admin_assertion_dict
from campus.api.schemas_badges import badge_class_dict
from campus.api.schemas_badges import claim_dict
from campus.badges.claims import award_to_address
from campus.badges.issuers import BadgeError
from campus.badges.issuers import get_badge
from campus.badges.models import Assertion
from campus.badges.models import AwardSource
from campus.badges.models import BadgeClass
from campus.badges.revocation import find_assertion
from campus.badges.revocation import revoke as revoke_assertion
from campus.badges.web import issuing_context
from campus.clock import utcnow
from campus.extensions import db
from campus.i18n import current_language

# One blueprint for /badges and /assertions (hence the bare /api/v1 prefix).
blp = Blueprint(
    "api_badges",
    __name__,
    url_prefix="/api/v1",
    description="Badge classes; a badge's awards, awarding and revoking (campus admins).",
)

_WITHOUT_ARTWORK = (defer(BadgeClass.image_png), defer(BadgeClass.image_svg))
_WITHOUT_EDITIONS = (defer(Assertion.baked_png), defer(Assertion.baked_svg), defer(Assertion.jws))


def _badge(slug: str) -> BadgeClass:
    badge = get_badge(slug)
    if badge is None:
        abort_problem(404, detail="No such badge.")
    return badge  # type: ignore[return-value]


def _ensure_awarder() -> Principal:
    """Issue and revoke: campus admins (as the admin pages) and campus-wide clients."""
    principal = current_principal()
    if principal is None or not principal.can_award():
        abort_problem(403, detail="Only campus administrators award and revoke badges.")
    return principal  # type: ignore[return-value]


def _assertion(assertion_uuid: str) -> Assertion:
    assertion = find_assertion(assertion_uuid) if len(assertion_uuid) <= 36 else None
    if assertion is None:
        abort_problem(404, detail="No such assertion.")
    return assertion  # type: ignore[return-value]


@blp.route("/badges")
@blp.arguments(PageArgs, location="query")
@blp.response(200, BadgeClassSchema(many=True), headers={**ETAG_HEADERS, **PAGING_HEADERS})
@blp.alt_response(304, description=NOT_MODIFIED, headers=ETAG_HEADERS)
def badge_classes(page: dict[str, int]):  # type: ignore[no-untyped-def]
    """List badges

    The badges the campus awards (public, as the badge catalogue), by slug.
    """
    query = (
        db.select(BadgeClass)
        .where(BadgeClass.is_retired.is_(False))
        .order_by(BadgeClass.slug)
        .options(*_WITHOUT_ARTWORK, selectinload(BadgeClass.issuer))
    )
    items, headers = paginate(query, page["page"], page["per_page"])
    urls = issuing_context().urls
    payload = BadgeClassSchema(many=True).dump([badge_class_dict(b, urls) for b in items])
    return conditional_json(payload, headers=headers)


@blp.route("/badges/<slug>")
@blp.response(200, BadgeClassSchema, headers=ETAG_HEADERS)
@blp.alt_response(304, description=NOT_MODIFIED, headers=ETAG_HEADERS)
@blp.alt_response(404, response="NOT_FOUND")
def badge_class(slug: str):  # type: ignore[no-untyped-def]
    """Get a badge

    Its criteria, alignment and the addresses of its Open Badges documents.
    """
    payload = BadgeClassSchema().dump(badge_class_dict(_badge(slug), issuing_context().urls))
    return conditional_json(payload)


@blp.route("/badges/<slug>/assertions")
@require("badges:read")
@blp.arguments(PageArgs, location="query")
@blp.response(200, AdminAssertionSchema(many=True), headers=PAGING_HEADERS)
@blp.alt_response(404, response="NOT_FOUND")
def badge_assertions(page: dict[str, int], slug: str):  # type: ignore[no-untyped-def]
    """List a badge's awards

    Newest first, revoked and expired ones too (the badge's admin page). Campus admins.
    """
    badge = _badge(slug)
    query = (
        db.select(Assertion)
        .where(Assertion.badge_class_id == badge.id)
        .order_by(Assertion.issued_at.desc(), Assertion.id.desc())
        .options(*_WITHOUT_EDITIONS, selectinload(Assertion.user))
    )
    items, headers = paginate(query, page["page"], page["per_page"])
    urls = issuing_context().urls
    now = utcnow()
    return [admin_assertion_dict(a, urls, now) for a in items], 200, headers


@blp.route("/badges/<slug>/awards", methods=["POST"])
@require("badges:write")
@blp.arguments(AwardInSchema)
@blp.response(201, AdminAssertionSchema, description="The badge was awarded now.")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(
    200, schema=AdminAssertionSchema, description="The address holds this badge already."
)
@blp.alt_response(
    202,
    schema=ClaimSchema,
    description="No confirmed account has the address: the badge waits for it (a claim), and "
    "a message tells the person how to receive it.",
)
def award(data: dict[str, Any], slug: str):  # type: ignore[no-untyped-def]
    """Award a badge

    To whoever reads `email`, as the badge's admin page does: at once to a confirmed
    address (201; 200 when it holds the badge already), else a claim that waits (202).
    """
    principal = _ensure_awarder()
    badge = _badge(slug)
    narrative = data["narrative"].strip()
    try:
        result = award_to_address(
            data["email"],
            badge,
            issuing_context(),
            utcnow(),
            AwardSource.BULK,
            [{"narrative": narrative}] if narrative else [],
            principal.user,
            current_language(),
        )
    except BadgeError as error:
        db.session.rollback()
        abort_problem(422, detail=str(error))
    db.session.commit()
    if result.assertion is None:
        assert result.claim is not None
        return jsonify(ClaimSchema().dump(claim_dict(result.claim))), 202
    body = admin_assertion_dict(result.assertion, issuing_context().urls, utcnow())
    if not result.created:
        return jsonify(AdminAssertionSchema().dump(body)), 200
    location = url_for(".assertion", assertion_uuid=result.assertion.uuid, _external=True)
    return body, 201, {"Location": location}


@blp.route("/assertions/<assertion_uuid>")
@require("badges:read")
@blp.response(200, AdminAssertionSchema)
@blp.alt_response(404, response="NOT_FOUND")
def assertion(assertion_uuid: str) -> dict[str, Any]:
    """Get an award

    One award, with its recipient and status. Campus admins.
    """
    return admin_assertion_dict(_assertion(assertion_uuid), issuing_context().urls, utcnow())


@blp.route("/assertions/<assertion_uuid>/revoke", methods=["POST"])
@require("badges:write")
@blp.arguments(RevokeInSchema)
@blp.response(200, AdminAssertionSchema, description="Revoked (now, or before: its reason stands).")
@blp.alt_response(404, response="NOT_FOUND")
def revoke(data: dict[str, Any], assertion_uuid: str) -> dict[str, Any]:
    """Revoke an award

    Every verifier then refuses it (the 2.0 revocation list and the 3.0 status list). A
    second revocation changes nothing: the first reason stands.
    """
    _ensure_awarder()
    found = _assertion(assertion_uuid)
    try:
        revoke_assertion(found, data["reason"], utcnow())
    except BadgeError as error:
        db.session.rollback()
        abort_problem(422, detail=str(error))
    db.session.commit()
    return admin_assertion_dict(found, issuing_context().urls, utcnow())
