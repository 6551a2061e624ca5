"""An independent LMS for the tests, built on lti1p3platform (not on our adapter).

It launches the campus as a tool (resource link and deep linking), issues AGS tokens, receives
scores and deep-link responses, and offers LTI Dynamic Registration.
"""

from __future__ import annotations

import html
import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

from flask import Flask
from flask import Response
from flask import jsonify
from flask import redirect
from flask import request
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration
from lti1p3platform.request import RequestBase

CLIENT_ID = "lms-client-1"
DEPLOYMENT = "lms-deployment-1"
SCOPES = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
]


class _Request(RequestBase):
    def __init__(self, query: dict[str, Any], form: dict[str, Any]) -> None:
        self.request = {
            "method": request.method,
            "form_data": form,
            "get_data": query,
            "headers": {},
            "content_type": None,
            "path": request.path,
            "json": None,
        }


def create_platform_app(issuer: str, campus: str, private_pem: str, public_pem: str) -> Flask:
    app = Flask("lms-test-platform")
    app.config.update(SECRET_KEY="lms", SESSION_COOKIE_NAME="lms_session")
    app.scores: list[dict[str, Any]] = []  # type: ignore[attr-defined]
    app.content_items: list[dict[str, Any]] = []  # type: ignore[attr-defined]
    app.settings = {
        "down": False,
        "email": "teacher@school.fi",
        "expiry": 300,  # type: ignore[attr-defined]
        "deployment": DEPLOYMENT,
    }

    class Conf(LTI1P3PlatformConfAbstract):
        def init_platform_config(self, **kwargs: Any) -> None:
            self._registration = (
                Registration()
                .set_iss(issuer)
                .set_client_id(CLIENT_ID)
                .set_deployment_id(app.settings["deployment"])
                .set_oidc_login_url(f"{campus}/lti/tool/login")
                .set_launch_url(f"{campus}/lti/tool/launch")
                .set_deeplink_launch_url(f"{campus}/lti/tool/launch")
                .set_platform_public_key(public_pem)
                .set_platform_private_key(private_pem)
                .set_tool_key_set_url(f"{campus}/lti/jwks")
            )

        def get_registration_by_params(self, **kwargs: Any) -> Registration:
            return self._registration

    class Login(OIDCLoginAbstract):
        def set_lti_message_hint(self, **kwargs: Any) -> None:
            self._lti_message_hint = kwargs["hint"]

        def get_redirect(self, url: str) -> Any:
            return redirect(url)

    class Launch(LTIAdvantageMessageLaunchAbstract):
        def render_launch_form(self, launch_data: dict[str, Any], **kwargs: Any) -> Any:
            fields = "".join(
                f'<input type="hidden" name="{k}" value="{html.escape(v)}">'
                for k, v in launch_data.items()
                if k != "launch_url"
            )
            return (
                f'<form method="post" action="{launch_data["launch_url"]}">{fields}</form>'
                "<script>document.forms[0].submit()</script>"
            )

    @app.get("/jwks")
    def jwks() -> Any:
        return jsonify(Conf().get_jwks())

    @app.get("/start")
    def start() -> Any:
        """The LMS page a learner or teacher clicks: starts the OIDC login at the campus."""
        hint = json.dumps(
            {
                "kind": request.args.get("kind", "launch"),
                "target": request.args.get("target", ""),
                "user": request.args.get("user", "lms-user-1"),
                "storage": request.args.get("storage", ""),
            }
        )
        login = Login(_Request(dict(request.args), {}), Conf())
        login.set_lti_message_hint(hint=hint)
        response = login.initiate_login(request.args.get("user", "lms-user-1"))
        if request.args.get("storage"):
            # Like Canvas: the LMS offers its storage frame to the tool (LTI platform storage).
            response.location += "&" + urlencode({"lti_storage_target": request.args["storage"]})
        return response

    @app.get("/course")
    def course() -> Any:
        """An LMS course page: the campus in a frame, and the LMS's platform-storage responder
        (1EdTech LTI postMessage Storage) in the page itself (lti_storage_target "_parent")."""
        start_url = f"/start?{urlencode({**request.args, 'storage': '_parent'})}"
        responder = (
            ""
            if request.args.get("responder") == "none"
            else "<script src='/platform-storage.js'></script>"
        )
        return (
            f"<!doctype html><html lang='en'><head><title>Course</title>{responder}"
            "</head><body><main><h1>Course</h1>"
            f"<iframe name='campus' title='Campus' src='{html.escape(start_url)}'"
            " width='900' height='600'></iframe></main></body></html>"
        )

    @app.get("/admin/add-tool")
    def add_tool() -> Any:
        """The LMS admin's "add a tool by registration URL" dialog (like Moodle's): the tool's
        registration page in a frame, and every message it sends up recorded."""
        config = f"{issuer}/.well-known/openid-configuration"
        src = f"{campus}/lti/tool/register?" + urlencode(
            {"openid_configuration": config, "registration_token": "reg-token-1"}
        )
        return (
            "<!doctype html><html lang='en'><head><title>Add a tool</title>"
            "<script src='/message-recorder.js'></script></head><body><main><h1>Add a tool</h1>"
            f"<iframe name='registration' title='Registration' src='{html.escape(src)}'"
            " width='900' height='600'></iframe></main></body></html>"
        )

    @app.get("/message-recorder.js")
    def message_recorder_js() -> Any:
        return Response(
            "window.lmsMessages = [];"
            "window.addEventListener('message', function (event) {"
            f" if (event.origin === {json.dumps(campus)}) {{ window.lmsMessages.push(event.data); }}"
            "});",
            mimetype="text/javascript",
        )

    @app.get("/platform-storage.js")
    def platform_storage_js() -> Any:
        return Response(PLATFORM_STORAGE_JS, mimetype="text/javascript")

    @app.route("/authorize", methods=["GET", "POST"])
    def authorize() -> Any:
        params = dict(request.args if request.method == "GET" else request.form)
        if params.get("redirect_uri") != f"{campus}/lti/tool/launch":
            return Response("unregistered redirect_uri", 400)
        hint = json.loads(params["lti_message_hint"])
        conf = Conf()
        launch = Launch(_Request(params, {}), conf)
        launch.set_user_data(
            hint["user"],
            ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
            full_name="Tiina Teacher",
            email_address=app.settings["email"] or None,
        )
        launch.set_launch_context_claim("course-7", context_title="Digitalisation 101")
        launch.set_id_token_expiration(app.settings["expiry"])
        if hint["kind"] == "deeplink":
            launch.set_dl(
                f"{request.host_url}dl-return",
                title="Pick",
                accept_types={"ltiResourceLink"},
                extra_data="opaque-data-7",
            )
        else:
            launch.set_resource_link_claim("rl-1", title="Campus module")
            launch.set_custom_parameters_claim({"campus_target": hint["target"]})
            launch.set_ags(
                f"{request.host_url}lineitems",
                f"{request.host_url}lineitems/1",
                allow_creating_lineitems=True,
            )
        page = launch.lti_launch()
        if hint.get("storage") and not app.settings.get("omit_storage_in_launch"):
            # Canvas repeats lti_storage_target in the authentication response.
            field = f'<input type="hidden" name="lti_storage_target" value="{hint["storage"]}">'
            page = page.replace("</form>", field + "</form>")
        return page

    @app.post("/token")
    def token() -> Any:
        try:
            return jsonify(Conf().get_access_token(request.form.to_dict()))
        except Exception as error:  # noqa: BLE001 - the test peer answers like an LMS would
            return jsonify({"error": str(error)}), 400

    def _authorised() -> bool:
        header = request.headers.get("Authorization", "")
        try:
            return Conf().validate_token(
                header.removeprefix("Bearer ").strip(), allowed_scopes=SCOPES
            )
        except Exception:  # noqa: BLE001
            return False

    @app.route("/lineitems", methods=["GET", "POST"])
    def lineitems() -> Any:
        if not _authorised():
            return Response(status=401)
        return jsonify(
            [{"id": f"{request.host_url}lineitems/1", "label": "Campus", "scoreMaximum": 1}]
        )

    @app.route("/lineitems/1", methods=["GET"])
    def lineitem() -> Any:
        return jsonify(
            {"id": f"{request.host_url}lineitems/1", "label": "Campus", "scoreMaximum": 1}
        )

    @app.post("/lineitems/1/scores")
    def scores() -> Any:
        if app.settings["down"]:
            return Response("maintenance", 503)
        if not _authorised():
            return Response(status=401)
        app.scores.append(request.get_json(force=True))  # type: ignore[attr-defined]
        return Response(status=200)

    @app.post("/dl-return")
    def dl_return() -> Any:
        try:
            items = Conf().validate_deeplinking_resp(request.form.to_dict())
        except Exception as error:  # noqa: BLE001
            return jsonify({"error": str(error)}), 400
        app.content_items.extend(items)  # type: ignore[attr-defined]
        return jsonify({"accepted": len(items)})

    # Dynamic Registration
    @app.get("/.well-known/openid-configuration")
    def openid_configuration() -> Any:
        return jsonify(
            {
                "issuer": issuer,
                "authorization_endpoint": f"{issuer}/authorize",
                "token_endpoint": f"{issuer}/token",
                "jwks_uri": f"{issuer}/jwks",
                "registration_endpoint": f"{issuer}/register",
                "https://purl.imsglobal.org/spec/lti-platform-configuration": {
                    "product_family_code": "test"
                },
            }
        )

    @app.post("/register")
    def register() -> Any:
        if request.headers.get("Authorization") != "Bearer reg-token-1":
            return Response(status=401)
        body = request.get_json(force=True)
        app.registration = body  # type: ignore[attr-defined]
        return jsonify(
            {
                **body,
                "client_id": f"dyn-{uuid.uuid4().hex[:8]}",
                "https://purl.imsglobal.org/spec/lti-tool-configuration": {
                    **body["https://purl.imsglobal.org/spec/lti-tool-configuration"],
                    "deployment_id": "dyn-deployment",
                },
            }
        )

    return app


# The platform side of LTI postMessage Storage, as a test LMS page runs it: values are kept per
# sending origin, answers go only to that origin, unknown subjects get an error answer.
PLATFORM_STORAGE_JS = """
(function () {
  var store = {};
  window.lmsStorage = store;
  window.addEventListener("message", function (event) {
    var message = event.data;
    if (!message || typeof message !== "object" || !message.subject) { return; }
    var answer = { subject: message.subject + ".response", message_id: message.message_id };
    var slot = event.origin + " " + message.key;
    if (message.subject === "lti.capabilities") {
      answer.supported_messages = [{ subject: "lti.put_data" }, { subject: "lti.get_data" }];
    } else if (message.subject === "lti.put_data") {
      store[slot] = message.value;
      answer.key = message.key;
      answer.value = message.value;
    } else if (message.subject === "lti.get_data") {
      answer.key = message.key;
      if (slot in store) { answer.value = store[slot]; }
      else { answer.error = { code: "bad_request", message: "no such key" }; }
    } else {
      answer.error = { code: "unsupported_subject", message: "unsupported" };
    }
    event.source.postMessage(answer, event.origin);
  });
})();
"""


def query(**params: str) -> str:
    return urlencode(params)


def now_ts() -> int:
    return int(time.time())
