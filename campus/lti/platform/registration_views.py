"""LTI Dynamic Registration offered to tools (blueprint "lti"): the admin's offer page, the
campus's OpenID configuration, and the registration endpoint tools POST to (CSRF-exempt: the
one-time registration token authenticates it)."""

from __future__ import annotations

from flask import flash
from flask import render_template
from flask import request
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required

from campus.auth.models import Role
from campus.clock import utcnow
from campus.extensions import csrf
from campus.extensions import db
from campus.lti.errors import LtiError
from campus.lti.forms import RegistrationOfferForm
from campus.lti.platform import registration
from campus.lti.platform.admin_views import platform_endpoints
from campus.lti.platform.launch import tool_platform_claim
from campus.lti.platform.tokens import NO_STORE
from campus.lti.platform.views import bp
from campus.lti.platform.views import error_response
from campus.lti.platform.views import json_response
from campus.lti.platform.views import platform_context
from campus.routing import external_url
from campus.security import require_role

LIFETIME_MINUTES = int(registration.OFFER_LIFETIME.total_seconds() // 60)


@bp.route("/tools/offer", methods=["GET", "POST"])
@login_required
def offer_registration():  # type: ignore[no-untyped-def]
    """The admin pastes a tool's registration URL; the campus opens it with a one-time token."""
    require_role(Role.ADMIN)
    form = RegistrationOfferForm()
    status = 200
    if form.validate_on_submit():
        try:
            offer = registration.create_offer(
                form.tool_url.data,
                external_url("lti.openid_configuration"),
                current_user.id,
                utcnow(),
            )
        except LtiError as error:
            db.session.rollback()
            form.tool_url.errors = [*form.tool_url.errors, str(error)]
        else:
            db.session.commit()
            return render_template(
                "lti/offer_open.html",
                offer=offer,
                framed=offer.url.startswith("https://"),  # CSP: frame-src 'self' https:
                lifetime_minutes=LIFETIME_MINUTES,
            )
        status = 400
    elif request.method == "POST":
        status = 400
    if status == 400:
        flash(_("Check the registration URL."), "error")
    return render_template(
        "lti/offer_new.html",
        form=form,
        lifetime_minutes=LIFETIME_MINUTES,
        config_url=external_url("lti.openid_configuration"),
    ), status


@bp.get("/.well-known/openid-configuration")
def openid_configuration():  # type: ignore[no-untyped-def]
    """What a registering tool reads first (public; the address is sent with each offer)."""
    document = registration.openid_configuration(
        platform_endpoints(),
        external_url("lti.dynamic_registration"),
        tool_platform_claim(platform_context())["version"],
    )
    return json_response(document)


@bp.post("/register")
@csrf.exempt
def dynamic_registration():  # type: ignore[no-untyped-def]
    """A tool registers itself: RFC 7591 JSON, `Authorization: Bearer <registration token>`."""
    if (request.content_length or 0) > registration.MAX_BODY:
        return _refused(LtiError("the registration is too large", 413))
    body = request.stream.read(registration.MAX_BODY + 1)
    if len(body) > registration.MAX_BODY:
        return _refused(LtiError("the registration is too large", 413))
    try:
        _tool, answer = registration.register(
            body, request.mimetype, request.headers.get("Authorization"), utcnow()
        )
    except LtiError as error:
        return _refused(error)
    db.session.commit()
    return json_response(answer, headers=NO_STORE)


def _refused(error: LtiError):  # type: ignore[no-untyped-def]
    """RFC 7591 §3.2.2 error body (rolled back); a refused token also says so (RFC 6750 §3)."""
    headers = dict(NO_STORE)
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    if error.status == 413:
        error.code = registration.INVALID_METADATA
    return error_response(error, headers=headers)
