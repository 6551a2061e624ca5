"""The campus as an LTI 1.3 tool (blueprint "lti_tool"): LMS login and launch, and the
deep-linking picker. Admin pages are in `admin_views`; continuation, linking and the badge
address in `identity_views` (nested blueprint "lti_tool.identity")."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs
from urllib.parse import urlsplit

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import make_response
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_babel import gettext as _
from flask_babel import refresh
from pylti1p3.contrib.flask import FlaskCookieService
from pylti1p3.contrib.flask import FlaskMessageLaunch
from pylti1p3.contrib.flask import FlaskOIDCLogin
from pylti1p3.contrib.flask import FlaskRequest
from pylti1p3.contrib.flask import FlaskSessionService
from pylti1p3.exception import LtiException
from pylti1p3.exception import OIDCException

from campus.auth.login import sign_in
from campus.clock import utcnow
from campus.extensions import csrf
from campus.extensions import db
from campus.i18n import current_language
from campus.i18n import pick
from campus.lti.common import consume_once
from campus.lti.common import enrol_for_launch
from campus.lti.constants import Claim
from campus.lti.constants import Presentation
from campus.lti.errors import LtiError
from campus.lti.forms import ActionForm
from campus.lti.keys import PlatformContext
from campus.lti.pages import auto_post
from campus.lti.tool import deep_linking
from campus.lti.tool import identity
from campus.lti.tool import identity_views
from campus.lti.tool import provisioning
from campus.lti.tool import storage as platform_storage
from campus.lti.tool.config import DatabaseLaunchStorage
from campus.lti.tool.config import DatabaseToolConf
from campus.outbound import GuardedSession
from campus.outbound import OutboundPolicy
from campus.routing import browser_origin

bp = Blueprint("lti_tool", __name__, url_prefix="/lti/tool")
bp.register_blueprint(identity_views.bp)


def _launch_objects(
    cookieless: bool = False,
) -> tuple[FlaskRequest, DatabaseToolConf, DatabaseLaunchStorage]:
    context = PlatformContext.from_config(current_app.config)
    return (
        FlaskRequest(),
        DatabaseToolConf(context, utcnow()),
        DatabaseLaunchStorage(cookieless=cookieless),
    )


def _refused(message: str, status: int, detail: str | None = None):  # type: ignore[no-untyped-def]
    db.session.rollback()
    return render_template("lti/refused.html", message=message, detail=detail), status


def _not_verified(error: Exception):  # type: ignore[no-untyped-def]
    """pylti1p3's reasons are English and technical: the person reads what to do, and the
    reason stays beside it for whoever supports them."""
    return _refused(
        _(
            "The launch from your course could not be verified. Open the activity again in your "
            "course; if this keeps happening, tell your course's support."
        ),
        400,
        detail=str(error),
    )


def _page_expired(error: Exception):  # type: ignore[no-untyped-def]
    return _refused(
        _("This page has expired. Open the activity again in your course."),
        400,
        detail=str(error),
    )


def _login_problem(flask_request: FlaskRequest, conf: DatabaseToolConf) -> str | None:
    """Why a login initiation cannot go on (a translated sentence), or None. Checked before
    pylti1p3 runs: it raises OIDCException (not an LtiException) for these, and it substitutes
    its own registered client id for an unknown one when the issuer has a single registration."""
    iss = flask_request.get_param("iss")
    if not iss:
        return _("The learning platform did not say which platform it is (no issuer).")
    if not conf.knows(iss):
        return _("This learning platform is not registered with the campus.")
    client_id = flask_request.get_param("client_id")
    if client_id and not conf.knows(iss, client_id):
        return _("This client ID is not registered for this learning platform.")
    if not flask_request.get_param("login_hint"):
        return _("The learning platform did not say who is signing in (no login hint).")
    target = flask_request.get_param("target_link_uri")
    if not target:
        return _("The launch does not say what to open (no target link).")
    if urlsplit(target).netloc != urlsplit(current_app.config["BASE_URL"]).netloc:
        return _("The launch does not point at this campus.")
    return None


@bp.route("/login", methods=["GET", "POST"])
@csrf.exempt
def login():  # type: ignore[no-untyped-def]
    """OIDC third-party login initiated by the LMS."""
    flask_request, conf, storage = _launch_objects()
    problem = _login_problem(flask_request, conf)
    if problem is not None:
        return _refused(problem, 400)
    target = flask_request.get_param("target_link_uri")
    frame = platform_storage.storage_target(flask_request.get_param("lti_storage_target"))
    if frame is not None:
        return _login_with_platform_storage(flask_request, conf, target, frame)
    try:
        response = FlaskOIDCLogin(flask_request, conf, launch_data_storage=storage).redirect(target)
    except (LtiException, OIDCException):
        return _refused(_("The sign-in from the learning platform was refused."), 400)
    db.session.commit()
    return response


LOGIN_PARAMS = ("iss", "login_hint", "target_link_uri", "lti_message_hint", "client_id")


def _login_with_platform_storage(flask_request, conf, target: str, frame: str):  # type: ignore[no-untyped-def]
    """The login when the LMS offers its storage (`lti_storage_target`): a page of ours puts
    state and nonce there, then goes on to the LMS. The state cookie is set too, for browsers
    that still keep it."""
    cookies = FlaskCookieService(flask_request)
    login = FlaskOIDCLogin(
        flask_request,
        conf,
        cookie_service=cookies,
        launch_data_storage=DatabaseLaunchStorage(cookieless=True),
    )
    try:
        redirect_object = login.get_redirect_object(target)
    except (LtiException, OIDCException):
        return _refused(_("The sign-in from the learning platform was refused."), 400)
    auth_url = redirect_object.get_redirect_url()
    query = parse_qs(urlsplit(auth_url).query)
    stored = platform_storage.StoredState(
        state=query["state"][0],
        target=frame,
        # The LMS's storage frame answers from its authorisation URL's origin (Canvas serves
        # the forwarding frame from that host); the page compares it with `event.origin`.
        origin=browser_origin(auth_url),
        nonce=query["nonce"][0],
    )
    platform_storage.remember_state(stored, utcnow())
    db.session.commit()
    response = make_response(
        render_template(
            "lti/storage_login.html",
            stored=stored,
            auth_url=auth_url,
            # Without the LMS's storage the same login can still work in a window of its own.
            login_fields={
                name: value
                for name in LOGIN_PARAMS + ("lti_deployment_id",)
                if (value := flask_request.get_param(name))
            },
        )
    )
    response.headers["Cache-Control"] = "no-store"
    cookies.update_response(response)
    return response


class PlatformStorageLaunch(FlaskMessageLaunch):
    """A launch whose state sits in the LMS's storage: the server checks that the state is one
    it issued for that flow (`storage.stored_state`); the browser's copy is compared afterwards
    (`launch_confirmed`), since no cookie carries it here."""

    def validate_state(self):  # type: ignore[no-untyped-def]
        if not self._get_request_param("state"):
            raise LtiException("Missing state param")
        return self


def _message_launch(
    flask_request, conf, storage, with_platform_storage=False
) -> FlaskMessageLaunch:  # type: ignore[no-untyped-def]
    launch_class = PlatformStorageLaunch if with_platform_storage else FlaskMessageLaunch
    return launch_class(
        flask_request,
        conf,
        launch_data_storage=storage,
        session_service=FlaskSessionService(flask_request),
        cookie_service=FlaskCookieService(flask_request),
        # pylti1p3 fetches the LMS's key set URL with this session: the outbound policy applies.
        requests_session=GuardedSession(OutboundPolicy.from_config(current_app.config)),
    )


def _picker(launch_id: str, search: str = "", status: int = 200, cookieless: bool = False):  # type: ignore[no-untyped-def]
    # Without cookies there is no session for a CSRF token: the unguessable launch id (pylti1p3
    # keeps the launch under it) is then what only this page knows.
    form = ActionForm(meta={"csrf": False}) if cookieless else ActionForm()
    return render_template(
        "lti/picker.html",
        launch_id=launch_id,
        items=deep_linking.picker_items(search, current_language()),
        search=search,
        form=form,
        cookieless=cookieless,
    ), status


@bp.post("/launch")
@csrf.exempt
def launch():  # type: ignore[no-untyped-def]
    """Validate the LMS's id_token (pylti1p3), then provision the user and open the content."""
    now = utcnow()
    stored = platform_storage.stored_state(request.form.get("state"), now)
    flask_request, conf, storage = _launch_objects(cookieless=stored is not None)
    message = _message_launch(flask_request, conf, storage, stored is not None)
    try:
        data = message.get_launch_data()
    except LtiException as error:
        return _not_verified(error)
    platform = provisioning.find_platform(data["iss"], data.get("aud"))
    if platform is None or not platform.is_enabled:
        return _refused(_("This platform is not registered."), 400)
    if stored is not None and data.get("nonce") != stored.nonce:
        return _refused(_("The sign-in from the learning platform was refused."), 400)
    try:
        # pylti1p3 accepts the same id_token again in the same session; a launch is single-use.
        consume_once(f"tool-nonce:{platform.id}:{data.get('nonce')}", now + timedelta(hours=1), now)
    except LtiError as error:
        return _refused(
            _("This launch was already used. Open the activity again in your course."),
            400,
            detail=str(error),
        )
    cookies_work = FlaskCookieService(flask_request).get_cookie(str(request.form.get("state"))) == (
        request.form.get("state")
    )
    if stored is not None and not cookies_work:
        # No state cookie came back: the page asks the LMS's storage for the state instead.
        token = platform_storage.open_pending(message.get_launch_id(), stored, now)
        db.session.commit()
        response = make_response(
            render_template("lti/storage_confirm.html", stored=stored, token=token)
        )
        response.headers["Cache-Control"] = "no-store"
        return response
    return _open_launch(message, data, platform, now, stored is not None, cookies_work)


LAUNCH_ID = re.compile(r"lti1p3-launch-[0-9a-f-]{36}")  # pylti1p3's names for kept launches


def _restored_launch(launch_id: str, cookieless: bool) -> FlaskMessageLaunch:
    """The launch pylti1p3 kept under `launch_id`, or LtiException: an id that names another
    kept value (a nonce, a state) is no launch."""
    missing = LtiException("Could not find LTI launch data in the session service.")
    if not LAUNCH_ID.fullmatch(launch_id or ""):
        raise missing
    flask_request, conf, storage = _launch_objects(cookieless=cookieless)
    try:
        message = FlaskMessageLaunch.from_cache(
            launch_id,
            flask_request,
            conf,
            launch_data_storage=storage,
            session_service=FlaskSessionService(flask_request),
            cookie_service=FlaskCookieService(flask_request),
        )
    except (AttributeError, TypeError, KeyError) as error:
        raise missing from error
    if not isinstance(message.get_launch_data(), dict):
        raise missing
    return message


@bp.post("/launch/confirm")
@csrf.exempt
def launch_confirmed():  # type: ignore[no-untyped-def]
    """The browser returns the state it read from the LMS's storage, with the one-time token of
    a launch that was already validated; then the launch opens as usual."""
    now = utcnow()
    try:
        launch_id = platform_storage.take_pending(
            request.form.get("token", ""), request.form.get("state", ""), now
        )
    except LtiError as error:
        db.session.commit()  # the token is spent, right or wrong
        return render_template("lti/refused.html", message=str(error)), error.status
    db.session.commit()  # spent before anything else can fail and roll back
    try:
        message = _restored_launch(launch_id, cookieless=True)
    except LtiException as error:
        return _page_expired(error)
    data = message.get_launch_data()
    platform = provisioning.find_platform(data["iss"], data.get("aud"))
    if platform is None or not platform.is_enabled:
        return _refused(_("This platform is not registered."), 400)
    return _open_launch(message, data, platform, now, storage_flow=True, cookies_work=False)


def _open_launch(message, data, platform, now, storage_flow: bool, cookies_work: bool):  # type: ignore[no-untyped-def]
    """A validated launch: the deep-linking picker, or the person's account and the content.
    `storage_flow`: the launch data sits under the launch id alone (no session cookie);
    `cookies_work`: the state cookie came back, so the frame can keep a session."""
    if message.is_deep_link_launch():
        db.session.commit()
        return _picker(message.get_launch_id(), cookieless=storage_flow)
    try:
        path, module = provisioning.resolve_target(data)
        user = provisioning.user_for_launch(platform, data, now)
        enrol_for_launch(user, path, now)
    except LtiError as error:
        return _refused(str(error), error.status)
    provisioning.remember_grade_target(
        platform, user, provisioning.grade_target_key(path, module), data, now
    )
    sign_in(user)
    session["lti_embed"] = True
    language = provisioning.launch_language(data)
    if language is not None:
        # The LMS's language for this session only (campus.i18n.select_locale): a language the
        # person chose on the campus (User.locale) still wins, and nothing is saved on the account.
        session["locale"] = language
        refresh()
    target_url = (
        url_for("paths.module", path_slug=path.slug, module_slug=module.slug)
        if module
        else url_for("paths.path_detail", slug=path.slug)
    )
    token = identity.create_login_token(user, target_url, now)
    db.session.commit()
    presentation = data.get(Claim.LAUNCH_PRESENTATION) or {}
    return render_template(
        "lti/landing.html",
        target_url=target_url,
        token=token,
        user=user,
        in_frame=presentation.get("document_target") == Presentation.IFRAME,
        cookieless=not cookies_work,
        title=pick(module.title) if module else pick(path.title),
    )


@bp.post("/deep-link")
@csrf.exempt
def deep_link():  # type: ignore[no-untyped-def]
    """The teacher's pick goes back to the LMS as a signed deep-linking response."""
    cookieless = request.form.get("cookieless") == "1"
    form = ActionForm(meta={"csrf": False}) if cookieless else ActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        message = _restored_launch(request.form.get("launch_id", ""), cookieless)
    except LtiException as error:
        return _page_expired(error)
    if not message.is_deep_link_launch():
        return _refused(_("This is not a deep-linking launch."), 400)
    item = deep_linking.find_item(request.form.get("target", ""), current_language())
    if item is None:
        return _picker(
            request.form.get("launch_id", ""), request.form.get("search", ""), 400, cookieless
        )
    return_url, jwt_value = deep_linking.response(message, item)
    db.session.commit()
    return auto_post(return_url, {"JWT": jwt_value}, _("Returning to your course…"), _("Continue"))
