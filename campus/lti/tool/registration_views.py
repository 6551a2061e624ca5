"""LTI Dynamic Registration as a tool (blueprint "lti_tool"): the LMS opens `/lti/tool/register`
with its configuration address, usually in a dialog frame (Moodle, Canvas).

Before the LMS is registered it is not among the sites that may frame the campus, so these
pages alone may also be framed by the origin of the `openid_configuration` address. Nothing is
registered without a campus admin's confirmation. In the frame the admin is usually not signed
in (the browser keeps the frame's cookies apart), so the page offers the same address in a
window of its own; when that window finishes, the page in the frame passes the LMS the
"registration done" message (static/js/registration-relay.js).
"""

from __future__ import annotations

from flask import abort
from flask import current_app
from flask import flash
from flask import make_response
from flask import render_template
from flask import request
from flask_babel import gettext as _
from flask_login import current_user

from campus.auth import services as account_services
from campus.auth.models import Role
from campus.extensions import db
from campus.lti import framing
from campus.lti.forms import ActionForm
from campus.lti.tool import registration
from campus.lti.tool.admin_views import _organisation
from campus.lti.tool.registration import ToolEndpoints
from campus.lti.tool.views import bp
from campus.outbound import OutboundPolicy
from campus.security import policy_for_request
from campus.security import require_role


def _framed_by_the_lms(body: str, status: int, config_url: str):  # type: ignore[no-untyped-def]
    """The page, which the LMS named in `config_url` may show in its registration dialog."""
    response = make_response(body, status)
    origin = framing.origin_of(config_url) if config_url else None
    response.headers["Content-Security-Policy"] = policy_for_request(
        extra_ancestors=[origin] if origin else []
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _register_page(form: ActionForm, config_url: str, token: str) -> str:
    return render_template(
        "lti/register.html",
        form=form,
        config_url=config_url,
        token=token,
        organisations=account_services.list_organisations(),
    )


@bp.route("/register", methods=["GET", "POST"])
def dynamic_register():  # type: ignore[no-untyped-def]
    """LTI Dynamic Registration: the LMS opens this page with its configuration address."""
    config_url = request.values.get("openid_configuration", "")
    token = request.values.get("registration_token", "")
    if not current_user.is_authenticated:
        if request.method == "POST" or request.headers.get("Sec-Fetch-Dest") != "iframe":
            return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
        # Not signed in inside the LMS's frame: continue in a window of its own.
        page = render_template(
            "lti/register_start.html", config_url=config_url, new_window_url=request.url
        )
        return _framed_by_the_lms(page, 200, config_url)
    require_role(Role.ADMIN)
    form = ActionForm()
    if request.method == "GET":
        return _framed_by_the_lms(_register_page(form, config_url, token), 200, config_url)
    if not form.validate_on_submit():
        abort(400)
    organisation = _organisation(request.form.get("organisation_id"))
    if organisation is None:
        abort(400)
    try:
        platform = registration.dynamic_registration(
            config_url,
            token or None,
            ToolEndpoints.current(),
            organisation.id,
            request.form.get("name") or "LMS",
            OutboundPolicy.from_config(current_app.config),
        )
    except registration.RegistrationFailed:
        # One sentence for every failure: the page must not tell closed ports from open ones.
        db.session.rollback()
        flash(
            _(
                "The registration could not be completed with this platform. "
                "Check the address and try again."
            ),
            "error",
        )
        return _framed_by_the_lms(_register_page(form, config_url, token), 502, config_url)
    db.session.commit()
    page = render_template(
        "lti/registered.html",
        platform=platform,
        frame_origins=framing.platform_origins(platform),
    )
    return _framed_by_the_lms(page, 200, config_url)
