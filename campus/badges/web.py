"""The two badge blueprints and what their views share: `ob` (the public Open Badges
documents verifiers read) and `badges` (pages, verification and admin)."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from campus.badges.awarding import recipient_verified
from campus.badges.claim_models import BadgeClaim
from campus.badges.claims import held_claims
from campus.badges.issuers import IssuingContext
from campus.badges.issuers import get_badge
from campus.badges.models import Assertion
from campus.badges.models import BadgeClass
from campus.badges.revocation import find_assertion

ob_bp = Blueprint("ob", __name__, url_prefix="/ob")
bp = Blueprint("badges", __name__, url_prefix="/badges")

JSON_LD = "application/ld+json"
# Flash category prefix of "you earned a badge": f"{EARNED}:{assertion uuid}". The message stays
# readable text; pages.badge_moments turns it into one moment (badges/_earned.html).
EARNED = "badge-earned"


def issuing_context() -> IssuingContext:
    return IssuingContext.from_config(current_app.config)


def json_ld(document: dict[str, Any], status: int = 200, cache_seconds: int = 60) -> Response:
    """Public JSON-LD, readable by other backpacks and verifiers (CORS open)."""
    response = Response(
        json.dumps(document, ensure_ascii=False, indent=2), status=status, mimetype=JSON_LD
    )
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = (
        f"public, max-age={cache_seconds}" if cache_seconds else "no-cache"
    )
    return response


@bp.app_template_global()
def waiting_badges(user: Any) -> list[BadgeClaim]:
    """Badges held until `user` (the template's current_user) confirms their address: for
    badges/_held_notice.html on any page. Empty for visitors and for confirmed addresses."""
    if not getattr(user, "is_authenticated", False) or recipient_verified(user):
        return []
    return held_claims(user)


def badge_or_404(slug: str) -> BadgeClass:
    badge = get_badge(slug)
    if badge is None:
        abort(404)
    return badge


def assertion_or_404(assertion_uuid: str) -> Assertion:
    assertion = find_assertion(assertion_uuid)
    if assertion is None:
        abort(404)
    return assertion


@ob_bp.after_request
def open_to_backpacks(response: Response) -> Response:
    """Every /ob answer (documents, images, errors) is readable by web backpacks and verifiers."""
    response.headers.setdefault("Access-Control-Allow-Origin", "*")
    return response


@ob_bp.errorhandler(HTTPException)
def ob_error(error: HTTPException) -> Response:
    """Machines read /ob: an error is JSON, never the HTML error page."""
    code = error.code or 500
    messages = {404: _("No such Open Badges document."), 410: _("This is no longer available.")}
    body = {"error": code, "message": messages.get(code, error.name)}
    response = Response(
        json.dumps(body, ensure_ascii=False), status=code, mimetype="application/json"
    )
    response.headers["Cache-Control"] = "no-cache"
    return response


@ob_bp.route("/", defaults={"unknown": ""})
@ob_bp.route("/<path:unknown>")
def ob_not_found(unknown: str) -> Response:
    """Any other /ob address: a JSON 404 (the routes above match first)."""
    abort(404)
