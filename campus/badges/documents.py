"""/ob: the Open Badges 2.0 documents that verifiers and backpacks fetch."""

from __future__ import annotations

from flask import Response
from flask import abort
from flask import current_app
from flask import request

from campus.badges import ob2
from campus.badges.models import Issuer
from campus.badges.models import SigningKey
from campus.badges.revocation import revoked_for_issuer
from campus.badges.signing import active_key
from campus.badges.web import assertion_or_404
from campus.badges.web import badge_or_404
from campus.badges.web import issuing_context
from campus.badges.web import json_ld
from campus.badges.web import ob_bp
from campus.extensions import db


def _issuer_or_404(slug: str) -> Issuer:
    found = db.session.execute(db.select(Issuer).where(Issuer.slug == slug)).scalar_one_or_none()
    if found is None:
        abort(404)
    return found


@ob_bp.get("/issuers/<slug>")
def issuer(slug: str):
    found = _issuer_or_404(slug)
    current = active_key(found)
    return json_ld(
        ob2.issuer_document(
            issuing_context().urls,
            found.slug,
            found.name,
            found.url,
            found.email,
            current.kid if current else None,
        )
    )


@ob_bp.get("/issuers/<slug>/revocations")
def revocations(slug: str):
    found = _issuer_or_404(slug)
    return json_ld(
        ob2.revocation_document(issuing_context().urls, found.slug, revoked_for_issuer(found)),
        cache_seconds=0,  # a revocation must be seen at once
    )


@ob_bp.get("/keys/<kid>")
def key(kid: str):
    """Every key stays published, retired ones too, naming the issuer as its owner."""
    found = db.session.execute(
        db.select(SigningKey).where(SigningKey.kid == kid)
    ).scalar_one_or_none()
    if found is None:
        abort(404)
    return json_ld(
        ob2.key_document(issuing_context().urls, found.issuer.slug, found.kid, found.public_pem)
    )


@ob_bp.get("/badges/<slug>")
def badge_class(slug: str):
    badge = badge_or_404(slug)
    language = request.args.get("lang", "fi")
    if language not in current_app.config["LANGUAGES"]:
        language = "fi"
    return json_ld(ob2.badge_document(issuing_context().urls, badge, badge.issuer.slug, language))


@ob_bp.get("/badges/<slug>/image.png")
def badge_image(slug: str):
    badge = badge_or_404(slug)
    return Response(
        badge.image_png, mimetype="image/png", headers={"Cache-Control": "public, max-age=3600"}
    )


@ob_bp.get("/assertions/<assertion_uuid>")
def hosted_assertion(assertion_uuid: str):
    """The hosted edition; a revoked badge answers 410 with `revoked: true` (OB 2.0 hosted)."""
    assertion = assertion_or_404(assertion_uuid)
    urls = issuing_context().urls
    if assertion.revoked_at is not None:
        return json_ld(
            {
                "@context": ob2.CONTEXT,
                "id": urls.hosted_assertion(assertion.uuid),
                "type": "Assertion",
                "revoked": True,
                "revocationReason": assertion.revocation_reason,
            },
            status=410,
            cache_seconds=0,
        )
    return json_ld(
        ob2.assertion_document(
            urls,
            uuid=assertion.uuid,
            badge_slug=assertion.badge_class.slug,
            identity=assertion.recipient_hash,
            salt=assertion.recipient_salt,
            issued_at=assertion.issued_at,
            expires_at=assertion.expires_at,
            evidence=assertion.evidence,
            key_id=None,
        ),
        cache_seconds=0,  # revocation must show at once
    )


@ob_bp.get("/assertions/<assertion_uuid>.jws")
def signed_assertion(assertion_uuid: str):
    assertion = assertion_or_404(assertion_uuid)
    return Response(
        assertion.jws, mimetype="text/plain", headers={"Access-Control-Allow-Origin": "*"}
    )
