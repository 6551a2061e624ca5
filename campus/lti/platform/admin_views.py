"""Admin pages for the tools the campus launches (blueprint "lti")."""

from __future__ import annotations

from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import login_required

from campus.auth.models import Role
from campus.extensions import db
from campus.lti.errors import LtiError
from campus.lti.forms import ActionForm
from campus.lti.forms import ToolForm
from campus.lti.forms import ToolPrivacyForm
from campus.lti.models import LtiTool
from campus.lti.pages import registered_or_refused
from campus.lti.platform import tools as tool_services
from campus.lti.platform.views import bp
from campus.lti.platform.views import platform_context
from campus.routing import external_url
from campus.security import require_role


def platform_endpoints() -> dict[str, str]:
    """What an admin pastes into a tool's registration."""
    return {
        "issuer": platform_context().issuer,
        "authorize": external_url("lti.authorize"),
        "token": external_url("lti.token"),
        "jwks": external_url("lti.jwks"),
        "deep_link_return": external_url("lti.deep_link_return"),
        "openid_configuration": external_url("lti.openid_configuration"),
    }


@bp.route("/tools", methods=["GET", "POST"])
@login_required
def tools():  # type: ignore[no-untyped-def]
    require_role(Role.ADMIN)
    form = ToolForm()
    status = 200
    if form.validate_on_submit():
        fields = tool_services.ToolFields(
            slug=form.slug.data,
            name=form.name.data,
            client_id=form.client_id.data,
            deployment_id=form.deployment_id.data,
            oidc_login_url=form.oidc_login_url.data,
            launch_url=form.launch_url.data,
            deep_link_url=form.deep_link_url.data,
            redirect_uris=form.redirect_uris.data,
            jwks_url=form.jwks_url.data,
            jwks=form.jwks.data,
            privacy=form.privacy.data,
            pairwise_sub=bool(form.pairwise_sub.data),
        )
        try:
            tool = tool_services.register_tool(fields)
        except LtiError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(_("Tool registered. Give the tool its client ID and deployment ID."), "success")
            return redirect(url_for("lti.edit_tool", tool_id=tool.id))
        status = 400
    elif request.method == "POST":
        status = 400
    return render_template(
        "lti/tools.html",
        form=form,
        tools=tool_services.list_tools(),
        action_form=ActionForm(),
        endpoints=platform_endpoints(),
    ), status


@bp.route("/tools/<int:tool_id>", methods=["GET", "POST"])
@login_required
def edit_tool(tool_id: int):  # type: ignore[no-untyped-def]
    """A registered tool: what it learns about people (privacy level, pairwise user id)."""
    require_role(Role.ADMIN)
    tool = db.get_or_404(LtiTool, tool_id)
    form = ToolPrivacyForm(obj=tool)
    status = 200
    if form.validate_on_submit():
        done = registered_or_refused(
            lambda: tool_services.set_privacy(
                tool, form.privacy.data, bool(form.pairwise_sub.data)
            ),
            _("Tool settings saved."),
            url_for("lti.edit_tool", tool_id=tool.id),
        )
        if done is not None:
            return done
        status = 400
    elif request.method == "POST":
        status = 400
    return render_template(
        "lti/tool.html", tool=tool, form=form, endpoints=platform_endpoints()
    ), status


@bp.post("/tools/<int:tool_id>/toggle")
@login_required
def toggle_tool(tool_id: int):  # type: ignore[no-untyped-def]
    require_role(Role.ADMIN)
    if not ActionForm().validate_on_submit():
        abort(400)
    tool = db.get_or_404(LtiTool, tool_id)
    tool.is_enabled = not tool.is_enabled
    db.session.commit()
    flash(_("Tool enabled.") if tool.is_enabled else _("Tool disabled."), "success")
    return redirect(url_for("lti.tools"))
