"""DID documents, credentials and achievements (public, for verifiers and wallets).

Every answer is JSON readable from any origin with a strong ETag (conditional GET); an unknown
address is a JSON 404, as under /ob. A revoked award's credential is still served: its status
list entry says it is revoked (that is how OB 3.0 verifiers learn it).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from flask import Response
from flask import current_app
from flask import redirect
from flask import request
from werkzeug.exceptions import NotFound

from campus.badges import ob2
from campus.badges.documents import find_badge_without_artwork
from campus.badges.http_cache import conditional
from campus.badges.issuers import CAMPUS_ISSUER
from campus.badges.models import Assertion
from campus.badges.models import Issuer
from campus.badges.ob3 import credential as ob3_credential
from campus.badges.ob3 import did
from campus.badges.ob3.web import ob3_bp
from campus.badges.revocation import find_assertion_without_images
from campus.badges.web import JSON_LD
from campus.badges.web import issuing_context
from campus.badges.web import ob_error
from campus.config import DEFAULT_LOCALE
from campus.extensions import db

DID_MEDIA_TYPE = "application/did+json"
CREDENTIAL_TYPES = [ob3_credential.MEDIA_TYPE, JSON_LD, "application/json"]


def _not_found() -> Response:
    response = ob_error(NotFound())  # machines read these: JSON, as every /ob error
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _json(
    document: Any, mimetype: str, cache_seconds: int = 60, vary_accept: bool = False
) -> Response:
    response = Response(json.dumps(document, ensure_ascii=False, indent=2), mimetype=mimetype)
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = (
        f"public, max-age={cache_seconds}" if cache_seconds else "no-cache"
    )
    if vary_accept:
        response.vary.add("Accept")
    return conditional(response)


def _issuer(slug: str) -> Issuer | None:
    return db.session.execute(db.select(Issuer).where(Issuer.slug == slug)).scalar_one_or_none()


def _did_response(issuer: Issuer | None) -> Response:
    if issuer is None:
        return _not_found()
    context = issuing_context()
    document = did.did_document(issuer, context.urls.base, context.urls.issuer(issuer.slug))
    # a rotation adds a key: caches must not keep an old document long
    return _json(document, DID_MEDIA_TYPE, cache_seconds=300)


@ob3_bp.get("/.well-known/did.json")
def campus_did_document() -> Response:
    """did:web:<host>: the campus issuer's keys (every one, retired ones too)."""
    return _did_response(_issuer(CAMPUS_ISSUER))


@ob3_bp.get("/did.json")
def campus_did_document_on_path() -> Response:
    """did:web:<host>:<path…> resolves to <BASE_URL>/did.json when BASE_URL has a path."""
    if not urlsplit(str(current_app.config["BASE_URL"])).path.strip("/"):
        return _not_found()
    return _did_response(_issuer(CAMPUS_ISSUER))


@ob3_bp.get("/ob/v3/issuers/<slug>/did.json")
def issuer_did_document(slug: str) -> Response:
    """An organisation issuer's did:web (the campus's own lives at /.well-known/did.json)."""
    if slug == CAMPUS_ISSUER:
        return _not_found()
    return _did_response(_issuer(slug))


def _assertion(assertion_uuid: str) -> Assertion | None:
    if len(assertion_uuid) > 36:
        return None
    return find_assertion_without_images(assertion_uuid)


@ob3_bp.get("/ob/v3/credentials/<assertion_uuid>")
def credential(assertion_uuid: str) -> Response:
    """The OpenBadgeCredential with its eddsa-rdfc-2022 proof: `application/vc+ld+json` (OB 3.0
    5.2), or `application/ld+json` / `application/json` when the client asks for those."""
    assertion = _assertion(assertion_uuid)
    if assertion is None:
        return _not_found()
    document = ob3_credential.credential_for(assertion, issuing_context())
    db.session.commit()  # an issuer without an Ed25519 key got one just now
    mimetype = request.accept_mimetypes.best_match(CREDENTIAL_TYPES) or CREDENTIAL_TYPES[0]
    return _json(document, mimetype, vary_accept=True)


@ob3_bp.get("/ob/v3/credentials/<assertion_uuid>.jwt")
def credential_jwt(assertion_uuid: str) -> Response:
    """The same credential as a VC-JWT (compact JWS, `text/plain` as OB 3.0 5.2 says)."""
    assertion = _assertion(assertion_uuid)
    if assertion is None:
        return _not_found()
    token = ob3_credential.vc_jwt_for(assertion, issuing_context())
    response = Response(token, mimetype="text/plain")
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "public, max-age=60"
    return conditional(response)


@ob3_bp.get("/ob/v3/credentials/<assertion_uuid>/refresh")
def refresh(assertion_uuid: str) -> Response:
    """The credential's refresh service: the learner's newest award of the same badge (a
    renewal after expiry), else the credential itself."""
    assertion = _assertion(assertion_uuid)
    if assertion is None:
        return _not_found()
    newest = db.session.execute(
        db.select(Assertion.uuid)
        .where(
            Assertion.user_id == assertion.user_id,
            Assertion.badge_class_id == assertion.badge_class_id,
            Assertion.revoked_at.is_(None),
            Assertion.issued_at >= assertion.issued_at,
        )
        .order_by(Assertion.issued_at.desc(), Assertion.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    target = ob3_credential.credential_url(newest or assertion.uuid, issuing_context().urls.base)
    response = redirect(target, 303)
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "no-cache"
    return response


@ob3_bp.get("/ob/v3/achievements/<slug>")
def achievement(slug: str) -> Response:
    """The Achievement in Finnish at the bare address (the id credentials name); `?lang=sv|en`
    is its edition in that language. Another language (or `?lang=fi`) leads to the original."""
    badge = find_badge_without_artwork(slug)
    if badge is None:
        return _not_found()
    context = issuing_context()
    language = request.args.get("lang")
    if language is not None and (
        language == DEFAULT_LOCALE or language not in ob2.badge_languages(badge)
    ):
        response = redirect(ob3_credential.achievement_url(badge.slug, context.urls.base), 302)
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response
    document = ob3_credential.achievement_document(badge, context, language or DEFAULT_LOCALE)
    return _json(document, JSON_LD)
