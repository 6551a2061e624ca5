"""LTI endpoints (platform side) and the admin pages for tools.

Endpoints that tools POST to cross-site (authorize, token, deep-link return, AGS) are exempt
from CSRF: each one is authenticated by a signed JWT or a Bearer token instead.
"""

from __future__ import annotations

import json
from datetime import UTC
from datetime import datetime
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
from campus.extensions import csrf
from campus.extensions import db
from campus.lti import ags
from campus.lti import payload
from campus.lti import services
from campus.lti import tokens
from campus.lti.forms import ActionForm
from campus.lti.forms import ToolForm
from campus.lti.models import LtiTool
from campus.lti.pages import auto_post
from campus.paths.models import Module
from campus.routing import page_number
from campus.security import require_role

bp = Blueprint("lti", __name__, url_prefix="/lti")


def _now() -> datetime:
    return datetime.now(UTC)


def _context() -> services.PlatformContext:
    return services.PlatformContext.from_config(current_app.config)


def _json(
    document: Any,
    status: int = 200,
    media_type: str = "application/json",
    headers: dict | None = None,
) -> Response:
    return Response(
        services.dumps(document), status=status, mimetype=media_type, headers=headers or {}
    )


def _error(error: services.LtiError, denied: str = "access_denied") -> Response:
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
    return _json({"error": code, "error_description": str(error)}, status=error.status)


@bp.get("/jwks")
def jwks():
    document = services.jwks(_now())
    db.session.commit()
    return _json(document)


# --- launch --------------------------------------------------------------------------------


@bp.get("/modules/<int:module_id>/launch")
@login_required
def launch(module_id: int):
    """Start the third-party initiated login: send the browser to the tool."""
    module = db.get_or_404(Module, module_id)
    if module.kind != "lti" or module.is_retired:
        abort(404)
    deep_link = request.args.get("deep_link") == "1"
    if deep_link and not current_user.has_role(Role.ADMIN):
        abort(403)
    try:
        url = services.login_initiation_url(
            current_user, module, _context(), _now(), deep_link=deep_link
        )
    except services.LtiError as error:
        db.session.rollback()
        abort(error.status, description=str(error))
    db.session.commit()
    return redirect(url)


@bp.route("/authorize", methods=["GET", "POST"])
@csrf.exempt
@login_required
def authorize():
    params = {k: v for k, v in (request.form if request.method == "POST" else request.args).items()}
    try:
        form = services.authorize(params, current_user, _context(), _now())
    except services.LtiError as error:
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
def deep_link_return():
    """Cross-site POST from the tool: authenticated by the signed response, not by a cookie."""
    try:
        link = services.accept_deep_link(request.form.get("JWT", ""), _context(), _now())
    except services.LtiError as error:
        db.session.rollback()
        return render_template("lti/refused.html", message=str(error)), error.status
    db.session.commit()
    flash(_("The module now opens the content you picked."), "success")
    module = db.session.get(Module, link.module_id)
    return redirect(url_for("paths.module", path_slug=module.path.slug, module_slug=module.slug))


# --- services: token, AGS, NRPS --------------------------------------------------------------


@bp.post("/token")
@csrf.exempt
def token():
    try:
        document = tokens.issue_token(
            request.mimetype, request.form.to_dict(flat=False), _context(), _now()
        )
    except services.LtiError as error:
        return _error(error, denied="invalid_client")
    db.session.commit()
    return _json(document, headers={"Cache-Control": "no-store"})


def _tool(scopes: set[str]) -> LtiTool:
    return tokens.authenticate(request.headers.get("Authorization"), scopes, _context(), _now())


LINEITEM_CONTAINER = "application/vnd.ims.lis.v2.lineitemcontainer+json"
LINEITEM = "application/vnd.ims.lis.v2.lineitem+json"


def _body() -> dict[str, Any]:
    return payload.json_object(request.get_data(), request.mimetype)


@bp.route("/ags/<context_id>/lineitems", methods=["GET", "POST"])
@csrf.exempt
def lineitems(context_id: str):
    context = _context()
    try:
        if request.method == "POST":
            tool = _tool({services.SCOPE_LINEITEM})
            item = ags.create_line_item(tool, context_id, _body())
            db.session.commit()
            return _json(ags.line_item_document(item, context), 201, LINEITEM)
        tool = _tool({services.SCOPE_LINEITEM, services.SCOPE_LINEITEM_READONLY})
        filters = {
            "resource_link_id": request.args.get("resource_link_id", ""),
            "resource_id": request.args.get("resource_id", ""),
            "tag": request.args.get("tag", ""),
        }
        items = ags.list_line_items(tool, context_id, filters)
        return _json(
            [ags.line_item_document(i, context) for i in items], media_type=LINEITEM_CONTAINER
        )
    except services.LtiError as error:
        return _error(error)


@bp.route("/ags/<context_id>/lineitems/<int:item_id>", methods=["GET", "PUT", "DELETE"])
@csrf.exempt
def lineitem(context_id: str, item_id: int):
    context = _context()
    try:
        if request.method == "GET":
            tool = _tool({services.SCOPE_LINEITEM, services.SCOPE_LINEITEM_READONLY})
            return _json(
                ags.line_item_document(ags.get_line_item(tool, context_id, item_id), context),
                media_type=LINEITEM,
            )
        tool = _tool({services.SCOPE_LINEITEM})
        item = ags.get_line_item(tool, context_id, item_id)
        if request.method == "DELETE":
            db.session.delete(item)
            db.session.commit()
            return Response(status=204)
        ags.update_line_item(item, _body())
        db.session.commit()
        return _json(ags.line_item_document(item, context), media_type=LINEITEM)
    except services.LtiError as error:
        return _error(error)


@bp.post("/ags/<context_id>/lineitems/<int:item_id>/scores")
@csrf.exempt
def scores(context_id: str, item_id: int):
    try:
        tool = _tool({services.SCOPE_SCORE})
        item = ags.get_line_item(tool, context_id, item_id)
        ags.post_score(item, _body(), _now())
    except services.LtiError as error:
        return _error(error)
    db.session.commit()
    return Response(status=204)


@bp.get("/ags/<context_id>/lineitems/<int:item_id>/results")
@csrf.exempt
def line_item_results(context_id: str, item_id: int):
    try:
        tool = _tool({services.SCOPE_RESULT})
        item = ags.get_line_item(tool, context_id, item_id)
    except services.LtiError as error:
        return _error(error)
    return _json(
        ags.results(item, _context()),
        media_type="application/vnd.ims.lis.v2.resultcontainer+json",
    )


@bp.get("/nrps/<context_id>/memberships")
@csrf.exempt
def memberships(context_id: str):
    try:
        _tool({services.SCOPE_NRPS})
        document, next_url = ags.members_page(
            context_id,
            page_number(request.args.get("page")),
            request.args.get("limit", 50, type=int),
            _context(),
        )
    except services.LtiError as error:
        return _error(error)
    headers = {"Link": f'<{next_url}>; rel="next"'} if next_url else {}
    return _json(
        document,
        media_type="application/vnd.ims.lti-nrps.v2.membershipcontainer+json",
        headers=headers,
    )


# --- admin -------------------------------------------------------------------------------------


@bp.route("/tools", methods=["GET", "POST"])
@login_required
def tools():
    require_role(Role.ADMIN)
    form = ToolForm()
    status = 200
    if form.validate_on_submit():
        try:
            key_set = json.loads(form.jwks.data) if (form.jwks.data or "").strip() else None
            if key_set is not None and not isinstance(key_set.get("keys"), list):
                raise ValueError
        except (ValueError, AttributeError):
            flash(_("The JWKS must be JSON with a list of keys."), "error")
            key_set, status = None, 400
        if status == 200 and not key_set and not form.jwks_url.data:
            flash(_("Give the tool's JWKS URL or its keys."), "error")
            status = 400
        if status == 200 and (
            services.get_tool(form.slug.data) or services.tool_by_client_id(form.client_id.data)
        ):
            flash(_("A tool with this short name or client ID exists already."), "error")
            status = 400
        if status == 200:
            db.session.add(
                LtiTool(
                    slug=form.slug.data,
                    name=form.name.data,
                    client_id=form.client_id.data,
                    deployment_id=form.deployment_id.data,
                    oidc_login_url=form.oidc_login_url.data,
                    launch_url=form.launch_url.data,
                    deep_link_url=form.deep_link_url.data or None,
                    redirect_uris=[
                        u.strip() for u in (form.redirect_uris.data or "").splitlines() if u.strip()
                    ],
                    jwks_url=form.jwks_url.data or None,
                    jwks=key_set,
                )
            )
            db.session.commit()
            flash(_("Tool registered."), "success")
            return redirect(url_for("lti.tools"))
    elif request.method == "POST":
        status = 400
    registered = db.session.execute(db.select(LtiTool).order_by(LtiTool.name)).scalars()
    return render_template(
        "lti/tools.html",
        form=form,
        tools=list(registered),
        action_form=ActionForm(),
        platform=_context(),
    ), status


@bp.post("/tools/<int:tool_id>/toggle")
@login_required
def toggle_tool(tool_id: int):
    require_role(Role.ADMIN)
    if not ActionForm().validate_on_submit():
        abort(400)
    tool = db.get_or_404(LtiTool, tool_id)
    tool.is_enabled = not tool.is_enabled
    db.session.commit()
    flash(_("Tool enabled.") if tool.is_enabled else _("Tool disabled."), "success")
    return redirect(url_for("lti.tools"))
