"""LTI endpoints of the campus as a platform (blueprint "lti"): keys, launch, deep-linking return,
token. The AGS and NRPS endpoints are in `service_views`, the tool admin pages in `admin_views`.

Endpoints that tools POST to cross-site (authorize, token, deep-link return, AGS) are exempt
from CSRF: each one is authenticated by a signed JWT or a Bearer token instead.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required

from campus.auth.models import Role
from campus.clock import utcnow
from campus.extensions import csrf
from campus.extensions import db
from campus.lti import keys
from campus.lti.errors import LtiError
from campus.lti.keys import PlatformContext
from campus.lti.pages import auto_post
from campus.lti.platform import deep_linking
from campus.lti.platform import launch as launches
from campus.lti.platform import tokens
from campus.paths.models import Module
from campus.paths.models import ModuleKind

bp = Blueprint("lti", __name__, url_prefix="/lti")


def platform_context() -> PlatformContext:
    return PlatformContext.from_config(current_app.config)


def json_response(
    document: Any,
    status: int = 200,
    media_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> Response:
    return Response(
        json.dumps(document, ensure_ascii=False),
        status=status,
        mimetype=media_type,
        headers=headers or {},
    )


def error_response(
    error: LtiError, denied: str = "access_denied", headers: dict[str, str] | None = None
) -> Response:
    """A JSON error body; `denied` names 401/403 (the token endpoint says invalid_client)."""
    db.session.rollback()
    if error.code:
        code = error.code
    elif error.status in (401, 403):
        code = denied
    elif error.status >= 500:
        code = "temporarily_unavailable"
    else:
        code = "invalid_request"
    return json_response(
        {"error": code, "error_description": str(error)}, status=error.status, headers=headers
    )


@bp.get("/jwks")
def jwks():  # type: ignore[no-untyped-def]
    document = keys.jwks(utcnow())
    db.session.commit()
    return json_response(document)


@bp.get("/modules/<int:module_id>/launch")
@login_required
def launch(module_id: int):  # type: ignore[no-untyped-def]
    """Start the third-party initiated login: send the browser to the tool."""
    module = db.get_or_404(Module, module_id)
    if module.kind != ModuleKind.LTI or module.is_retired:
        abort(404)
    deep_link = request.args.get("deep_link") == "1"
    if deep_link and not current_user.has_role(Role.ADMIN):
        abort(403)
    try:
        url = launches.login_initiation_url(
            current_user, module, platform_context(), utcnow(), deep_link=deep_link
        )
    except LtiError as error:
        db.session.rollback()
        abort(error.status, description=str(error))
    db.session.commit()
    return redirect(url)


@bp.route("/authorize", methods=["GET", "POST"])
@csrf.exempt
@login_required
def authorize():  # type: ignore[no-untyped-def]
    params = {k: v for k, v in (request.form if request.method == "POST" else request.args).items()}
    try:
        form = launches.authorize(params, current_user, platform_context(), utcnow())
    except LtiError as error:
        db.session.rollback()
        return render_template("lti/refused.html", message=str(error)), error.status
    db.session.commit()
    return auto_post(
        form.action,
        {"id_token": form.id_token, "state": form.state},
        _("Opening the tool…"),
        _("Continue to the tool"),
    )


@bp.post("/deep-link/return")
@csrf.exempt
def deep_link_return():  # type: ignore[no-untyped-def]
    """Cross-site POST from the tool: authenticated by the signed response, not by a cookie."""
    try:
        link = deep_linking.accept_deep_link(
            request.form.get("JWT", ""), platform_context(), utcnow()
        )
    except LtiError as error:
        db.session.rollback()
        return render_template("lti/refused.html", message=str(error)), error.status
    db.session.commit()
    flash(_("The module now opens the content you picked."), "success")
    module = db.session.get(Module, link.module_id)
    return redirect(url_for("paths.module", path_slug=module.path.slug, module_slug=module.slug))


@bp.post("/token")
@csrf.exempt
def token():  # type: ignore[no-untyped-def]
    try:
        document = tokens.issue_token(
            request.mimetype, request.form.to_dict(flat=False), platform_context(), utcnow()
        )
    except LtiError as error:
        return error_response(error, denied="invalid_client", headers=tokens.NO_STORE)
    db.session.commit()
    return json_response(document, headers=tokens.NO_STORE)
