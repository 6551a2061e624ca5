"""The campus as an LTI 1.3 tool: LMS login and launch, deep-linking picker, and the admin pages
for platforms and grade delivery (continuation, linking and badge address: identity_views)."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_babel import gettext as _
from flask_login import login_required
from pylti1p3.contrib.flask import FlaskCookieService
from pylti1p3.contrib.flask import FlaskMessageLaunch
from pylti1p3.contrib.flask import FlaskOIDCLogin
from pylti1p3.contrib.flask import FlaskRequest
from pylti1p3.contrib.flask import FlaskSessionService
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.exception import LtiException

from campus.auth import services as account_services
from campus.auth.login import sign_in
from campus.auth.models import Organisation
from campus.auth.models import Role
from campus.extensions import csrf
from campus.extensions import db
from campus.i18n import current_language
from campus.i18n import pick
from campus.lti import identity
from campus.lti import identity_views
from campus.lti import registration
from campus.lti import tool
from campus.lti.forms import ActionForm
from campus.lti.models import LtiGradeOutbox
from campus.lti.models import LtiPlatform
from campus.lti.pages import auto_post
from campus.lti.services import LtiError
from campus.lti.services import PlatformContext
from campus.lti.services import consume_once
from campus.lti.services import enrol_for_launch
from campus.outbound import GuardedSession
from campus.outbound import OutboundPolicy
from campus.routing import parse_id
from campus.security import require_role
from campus.signals import module_completed
from campus.signals import path_completed

bp = Blueprint("lti_tool", __name__, url_prefix="/lti/tool")
bp.register_blueprint(identity_views.bp)


def _now() -> datetime:
    return datetime.now(UTC)


def _context() -> PlatformContext:
    return PlatformContext.from_config(current_app.config)


def _launch_objects() -> tuple[FlaskRequest, tool.DatabaseToolConf, tool.DatabaseLaunchStorage]:
    return FlaskRequest(), tool.DatabaseToolConf(_context(), _now()), tool.DatabaseLaunchStorage()


def _refused(message: str, status: int):  # type: ignore[no-untyped-def]
    db.session.rollback()
    return render_template("lti/refused.html", message=message), status


@bp.route("/login", methods=["GET", "POST"])
@csrf.exempt
def login():
    """OIDC third-party login initiated by the LMS."""
    flask_request, conf, storage = _launch_objects()
    target = flask_request.get_param("target_link_uri")
    if not target or urlsplit(target).netloc != urlsplit(current_app.config["BASE_URL"]).netloc:
        return _refused(_("The launch does not point at this campus."), 400)
    try:
        response = FlaskOIDCLogin(flask_request, conf, launch_data_storage=storage).redirect(target)
    except LtiException as error:
        return _refused(str(error), 400)
    db.session.commit()
    return response


def _message_launch(flask_request, conf, storage) -> FlaskMessageLaunch:  # type: ignore[no-untyped-def]
    return FlaskMessageLaunch(
        flask_request,
        conf,
        launch_data_storage=storage,
        session_service=FlaskSessionService(flask_request),
        cookie_service=FlaskCookieService(flask_request),
        # pylti1p3 fetches the LMS's key set URL with this session: the outbound policy applies.
        requests_session=GuardedSession(OutboundPolicy.from_config(current_app.config)),
    )


@bp.post("/launch")
@csrf.exempt
def launch():
    """Validate the LMS's id_token (pylti1p3), then provision the user and open the content."""
    flask_request, conf, storage = _launch_objects()
    message = _message_launch(flask_request, conf, storage)
    try:
        data = message.get_launch_data()
    except LtiException as error:
        return _refused(str(error), 400)
    platform = tool.find_platform(data["iss"], data.get("aud"))
    if platform is None or not platform.is_enabled:
        return _refused(_("This platform is not registered."), 400)
    now = _now()
    try:
        # pylti1p3 accepts the same id_token again in the same session; a launch is single-use.
        consume_once(f"tool-nonce:{platform.id}:{data.get('nonce')}", now + timedelta(hours=1), now)
    except LtiError as error:
        return _refused(str(error), 400)
    if message.is_deep_link_launch():
        db.session.commit()
        return render_template(
            "lti/picker.html",
            launch_id=message.get_launch_id(),
            items=tool.picker_items("", current_language()),
            search="",
            form=ActionForm(),
        )
    try:
        path, module = tool.resolve_target(data)
        user = tool.user_for_launch(platform, data, now)
        enrol_for_launch(user, path, now)
    except tool.ToolError as error:
        return _refused(str(error), error.status)
    tool.remember_grade_target(platform, user, tool.target_key(path, module), data, now)
    sign_in(user)
    session["lti_embed"] = True
    target_url = (
        url_for("paths.module", path_slug=path.slug, module_slug=module.slug)
        if module
        else url_for("paths.path_detail", slug=path.slug)
    )
    token = identity.create_login_token(user, target_url, now)
    db.session.commit()
    presentation = data.get("https://purl.imsglobal.org/spec/lti/claim/launch_presentation") or {}
    return render_template(
        "lti/landing.html",
        target_url=target_url,
        token=token,
        user=user,
        in_frame=presentation.get("document_target") == "iframe",
        title=pick(module.title) if module else pick(path.title),
    )


@bp.post("/deep-link")
@csrf.exempt
def deep_link():
    """The teacher's pick goes back to the LMS as a signed deep-linking response."""
    if not ActionForm().validate_on_submit():
        abort(400)
    flask_request, conf, storage = _launch_objects()
    try:
        message = FlaskMessageLaunch.from_cache(
            request.form.get("launch_id", ""),
            flask_request,
            conf,
            launch_data_storage=storage,
            session_service=FlaskSessionService(flask_request),
            cookie_service=FlaskCookieService(flask_request),
        )
    except LtiException as error:
        return _refused(str(error), 400)
    if not message.is_deep_link_launch():
        return _refused(_("This is not a deep-linking launch."), 400)
    choice = request.form.get("target", "")
    item = next((i for i in tool.picker_items("", current_language()) if i.target == choice), None)
    if item is None:
        return render_template(
            "lti/picker.html",
            launch_id=request.form.get("launch_id"),
            items=tool.picker_items(request.form.get("search", ""), current_language()),
            search=request.form.get("search", ""),
            form=ActionForm(),
        ), 400
    resource = (
        DeepLinkResource()
        .set_url(current_app.config["BASE_URL"] + url_for(".launch"))
        .set_title(item.title)
        .set_custom_params({"campus_target": item.target})
    )
    deep_link_object = message.get_deep_link()
    jwt_value = deep_link_object.get_response_jwt([resource])
    return_url = message.get_launch_data()[
        "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
    ]["deep_link_return_url"]
    db.session.commit()
    return auto_post(return_url, {"JWT": jwt_value}, _("Returning to your course…"), _("Continue"))


# --- grade passback: queued with the completion, sent after the request commits ----------------


def _queue_module(sender: Any, user: Any, **_extra: Any) -> None:
    keys = [f"module:{sender.path.slug}/{sender.slug}"]
    g.setdefault("lti_outbox", []).extend(tool.queue_results(user, keys, _now()))


def _queue_path(sender: Any, user: Any, **_extra: Any) -> None:
    g.setdefault("lti_outbox", []).extend(tool.queue_results(user, [f"path:{sender.slug}"], _now()))


def connect_signals() -> None:
    module_completed.connect(_queue_module)
    path_completed.connect(_queue_path)


@bp.after_app_request
def send_queued_results(response):  # type: ignore[no-untyped-def]
    """Deliver the results this request produced; a failure stays in the outbox for retries."""
    ids = g.pop("lti_outbox", None)
    if ids and response.status_code < 400:
        try:
            tool.deliver_pending(_context(), _now(), ids)
            db.session.commit()
        except Exception:  # noqa: BLE001 - never turn a delivered page into an error
            db.session.rollback()
            current_app.logger.exception("grade delivery failed; the results stay queued")
    return response


# --- admin ---------------------------------------------------------------------------------------


@bp.route("/platforms", methods=["GET", "POST"])
@login_required
def platforms():
    require_role(Role.ADMIN)
    form = ActionForm()
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        fields = {
            k: request.form.get(k, "").strip()
            for k in (
                "name",
                "issuer",
                "client_id",
                "auth_login_url",
                "auth_token_url",
                "jwks_url",
                "deployment_ids",
                "organisation_id",
            )
        }
        organisation = db.session.get(Organisation, parse_id(fields["organisation_id"]) or 0)
        urls_ok = all(
            fields[k].startswith(("https://", "http://"))
            for k in ("issuer", "auth_login_url", "auth_token_url", "jwks_url")
        )
        if not all(fields.values()) or organisation is None or not urls_ok:
            flash(_("Fill in every field with full web addresses."), "error")
            status = 400
        elif tool.find_platform(fields["issuer"], fields["client_id"]) is not None:
            flash(_("This platform is registered already."), "error")
            status = 400
        else:
            db.session.add(
                LtiPlatform(
                    name=fields["name"],
                    issuer=fields["issuer"],
                    client_id=fields["client_id"],
                    auth_login_url=fields["auth_login_url"],
                    auth_token_url=fields["auth_token_url"],
                    jwks_url=fields["jwks_url"],
                    deployment_ids=[
                        d.strip() for d in fields["deployment_ids"].split(",") if d.strip()
                    ],
                    organisation_id=organisation.id,
                )
            )
            db.session.commit()
            flash(_("Platform registered."), "success")
            return redirect(url_for(".platforms"))
    base = current_app.config["BASE_URL"]
    outbox = list(
        db.session.execute(
            db.select(LtiGradeOutbox)
            .where(LtiGradeOutbox.status != "sent")
            .order_by(LtiGradeOutbox.id.desc())
            .limit(200)
        ).scalars()
    )
    return render_template(
        "lti/platforms.html",
        form=form,
        status_code=status,
        registered=list(
            db.session.execute(db.select(LtiPlatform).order_by(LtiPlatform.name)).scalars()
        ),
        organisations=account_services.list_organisations(),
        outbox=outbox,
        tool_config={
            "login": f"{base}/lti/tool/login",
            "launch": f"{base}/lti/tool/launch",
            "deep_link": f"{base}/lti/tool/launch",
            "jwks": f"{base}/lti/jwks",
            "redirect_uris": f"{base}/lti/tool/launch",
        },
    ), status


@bp.post("/outbox/retry")
@login_required
def retry_outbox():
    require_role(Role.ADMIN)
    if not ActionForm().validate_on_submit():
        abort(400)
    sent, waiting = tool.deliver_pending(_context(), _now(), include_failed=True)
    db.session.commit()
    flash(
        _("%(sent)d result(s) sent, %(waiting)d still waiting.", sent=sent, waiting=waiting), "info"
    )
    return redirect(url_for(".platforms"))


def _register_page(form: ActionForm, config_url: str, token: str) -> str:
    return render_template(
        "lti/register.html",
        form=form,
        config_url=config_url,
        token=token,
        organisations=account_services.list_organisations(),
    )


@bp.route("/register", methods=["GET", "POST"])
@login_required
def dynamic_register():
    """LTI Dynamic Registration: the LMS opens this page with its configuration address."""
    require_role(Role.ADMIN)
    form = ActionForm()
    config_url = request.values.get("openid_configuration", "")
    if request.method == "GET":
        return _register_page(form, config_url, request.args.get("registration_token", ""))
    if not form.validate_on_submit():
        abort(400)
    organisation = db.session.get(Organisation, parse_id(request.form.get("organisation_id")) or 0)
    if organisation is None:
        abort(400)
    try:
        platform = registration.dynamic_registration(
            config_url,
            request.form.get("registration_token") or None,
            current_app.config["BASE_URL"],
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
        return _register_page(form, config_url, request.form.get("registration_token", "")), 502
    db.session.commit()
    return render_template("lti/registered.html", platform=platform)
