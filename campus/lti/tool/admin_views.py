"""Admin pages for the LMSs that launch the campus (blueprint "lti_tool"): registration by hand
and LTI Dynamic Registration. Results waiting for an LMS are on the follow-ups page (outbox)."""

from __future__ import annotations

from flask import abort
from flask import current_app
from flask import flash
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import login_required

from campus.auth import services as account_services
from campus.auth.models import Organisation
from campus.auth.models import Role
from campus.extensions import db
from campus.lti import framing
from campus.lti.forms import ActionForm
from campus.lti.models import LtiPlatform
from campus.lti.pages import registered_or_refused
from campus.lti.tool import provisioning
from campus.lti.tool.canvas_config import canvas_configuration
from campus.lti.tool.registration import ToolEndpoints
from campus.lti.tool.views import bp
from campus.routing import parse_id
from campus.security import require_role

PLATFORM_FIELDS = (
    "name",
    "issuer",
    "client_id",
    "auth_login_url",
    "auth_token_url",
    "jwks_url",
    "deployment_ids",
)


def _organisation(value: str | None) -> Organisation | None:
    return db.session.get(Organisation, parse_id(value) or 0)


@bp.route("/platforms", methods=["GET", "POST"])
@login_required
def platforms():  # type: ignore[no-untyped-def]
    require_role(Role.ADMIN)
    form = ActionForm()
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        organisation = _organisation(request.form.get("organisation_id"))
        fields = {k: request.form.get(k, "").strip() for k in PLATFORM_FIELDS}
        platform = provisioning.PlatformFields(
            **fields,
            organisation_id=organisation.id if organisation else 0,
            frame_origins=tuple(request.form.get("frame_origins", "").splitlines()),
        )
        done = registered_or_refused(
            lambda: provisioning.register_platform(platform),
            _("Platform registered."),
            url_for(".platforms"),
        )
        if done is not None:
            return done
        status = 400
    return render_template(
        "lti/platforms.html",
        form=form,
        status_code=status,
        registered=provisioning.list_platforms(),
        organisations=account_services.list_organisations(),
        tool_config=ToolEndpoints.current(),
        platform_origins=framing.platform_origins,
        typed=request.form if status != 200 else {},
    ), status


@bp.post("/platforms/<int:platform_id>/toggle")
@login_required
def toggle_platform(platform_id: int):  # type: ignore[no-untyped-def]
    """Stop an LMS launching (and framing) the campus, or let it again."""
    require_role(Role.ADMIN)
    platform = db.get_or_404(LtiPlatform, platform_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    provisioning.set_platform_enabled(platform, not platform.is_enabled)
    db.session.commit()
    if platform.is_enabled:
        flash(_("%(name)s may launch the campus again.", name=platform.name), "success")
    else:
        flash(_("%(name)s can no longer launch the campus.", name=platform.name), "success")
    return redirect(url_for(".platforms"))


@bp.get("/canvas.json")
def canvas_config():  # type: ignore[no-untyped-def]
    """Public: the developer-key configuration a Canvas admin loads with "Enter URL"."""
    body = canvas_configuration(
        ToolEndpoints.current(),
        title=str(current_app.config.get("ISSUER_NAME") or "Campus"),
        description=_(
            "Learning paths and modules of the campus. A teacher picks one to add to the "
            "course; the learner's result goes back to the gradebook."
        ),
    )
    return jsonify(body)
