"""Bitstring Status List credentials (public, fetched by every verifier)."""

from __future__ import annotations

import json
from datetime import datetime

from flask import Response
from werkzeug.exceptions import NotFound

from campus.badges.http_cache import conditional
from campus.badges.models import Issuer
from campus.badges.ob3 import status
from campus.badges.ob3.web import ob3_bp
from campus.badges.web import JSON_LD
from campus.badges.web import issuing_context
from campus.badges.web import ob_error
from campus.clock import utcnow
from campus.extensions import db


@ob3_bp.get("/ob/v3/issuers/<slug>/status/<int:n>")
def status_list(slug: str, n: int) -> Response:
    """`no-cache`: a revocation must be seen at once; the ETag makes asking again cheap (304)."""
    issuer = db.session.execute(db.select(Issuer).where(Issuer.slug == slug)).scalar_one_or_none()
    if issuer is None or not status.list_exists(issuer, n):
        missing = ob_error(NotFound())  # machines read this: JSON, as every /ob error
        missing.headers["Access-Control-Allow-Origin"] = "*"
        return missing
    document = status.status_list_credential(issuer, n, issuing_context(), utcnow())
    db.session.commit()  # an issuer without an Ed25519 key got one just now
    response = Response(json.dumps(document, ensure_ascii=False, indent=2), mimetype=JSON_LD)
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Access-Control-Allow-Origin"] = "*"
    # validFrom is the latest revocation in the list (or the issuer's creation): its Last-Modified
    return conditional(response, datetime.fromisoformat(document["validFrom"]))
