"""Baked OB 3.0 images and JSON/JWT downloads of a learner's credentials.

Public by the award's uuid, like the 2.0 `/badges/a/<uuid>/badge.png`: whoever holds the link
may import the badge into a wallet. A revoked award is not handed out again (410).
Only an ETag validates them: the VC-JWT is re-signed when the issuer's RSA key rotates and the
recipient hash changes when the badge is re-issued to a new address, while `issued_at` stays.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response
from flask import abort

from campus.badges import artwork
from campus.badges.http_cache import conditional
from campus.badges.models import Assertion
from campus.badges.ob3.baking import bake_credential
from campus.badges.ob3.credential import credential_for
from campus.badges.ob3.credential import vc_jwt_for
from campus.badges.ob3.web import ob3_bp
from campus.badges.revocation import find_assertion_without_images
from campus.badges.web import issuing_context
from campus.extensions import db
from campus.i18n import current_language

JSON_MEDIA_TYPE = "application/vc+ld+json"  # OB 3.0 5.2: JSON with an embedded proof
JWT_MEDIA_TYPE = "text/plain"  # OB 3.0 5.2: a compact JWS
IMAGE_TYPES = {"png": "image/png", "svg": "image/svg+xml"}
# An SVG opened directly must not run anything (as the 2.0 download).
SVG_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def _downloadable(assertion_uuid: str) -> Assertion:
    assertion = find_assertion_without_images(assertion_uuid)
    if assertion is None:
        abort(404)
    if assertion.revoked_at is not None:
        abort(410)  # a revoked badge is not handed out again
    return assertion


def _filename(assertion: Assertion, extension: str) -> str:
    return f"{assertion.badge_class.slug}-{assertion.uuid[:8]}-ob3.{extension}"


def _download(assertion: Assertion, body: bytes | str, mimetype: str, extension: str) -> Response:
    headers: dict[str, Any] = {
        "Content-Disposition": f'attachment; filename="{_filename(assertion, extension)}"',
        "Access-Control-Allow-Origin": "*",  # web wallets and backpacks import the file
        "Cache-Control": "no-cache",  # ask every time (cheap: the ETag answers 304)
    }
    if extension == "svg":
        headers["Content-Security-Policy"] = SVG_POLICY
    return conditional(Response(body, mimetype=mimetype, headers=headers))


def _credential(assertion: Assertion) -> dict[str, Any]:
    credential = credential_for(assertion, issuing_context())
    db.session.commit()  # an issuer's first credential creates its Ed25519 key: keep it
    return credential


@ob3_bp.get("/badges/a/<assertion_uuid>/ob3.json")
def download_json(assertion_uuid: str) -> Response:
    """The OpenBadgeCredential with its Data Integrity proof (eddsa-rdfc-2022): for VC wallets."""
    assertion = _downloadable(assertion_uuid)
    body = json.dumps(_credential(assertion), ensure_ascii=False, indent=2)
    return _download(assertion, body, JSON_MEDIA_TYPE, "json")


@ob3_bp.get("/badges/a/<assertion_uuid>/ob3.jwt")
def download_jwt(assertion_uuid: str) -> Response:
    """The same credential as a VC-JWT (compact JWS, RS256): for wallets that take JWTs."""
    assertion = _downloadable(assertion_uuid)
    return _download(assertion, vc_jwt_for(assertion, issuing_context()), JWT_MEDIA_TYPE, "jwt")


@ob3_bp.get("/badges/a/<assertion_uuid>/ob3.<extension>")
def download_image(assertion_uuid: str, extension: str) -> Response:
    """The badge's artwork in the page's language, baked with the JSON credential."""
    if extension not in IMAGE_TYPES:
        abort(404)
    assertion = _downloadable(assertion_uuid)
    badge = assertion.badge_class
    image = artwork.edition(badge.image_png, badge.image_svg, current_language(), extension)
    baked = bake_credential(image, extension, _credential(assertion))
    return _download(assertion, baked, IMAGE_TYPES[extension], extension)
