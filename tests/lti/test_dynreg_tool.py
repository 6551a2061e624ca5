"""An independent LTI 1.3 tool that registers itself with LTI Dynamic Registration, built on
pylti1p3next's `DynamicRegistration` (not on our code); a helper of test_dynreg_platform.py.

Its registration page reads the campus's OpenID configuration and posts the registration the
way the library does; it keeps what the campus answered (client ID, deployment ID, endpoints)
in memory and launches with exactly that afterwards.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask import jsonify
from flask import request
from pylti1p3.contrib.flask import FlaskCookieService
from pylti1p3.contrib.flask import FlaskMessageLaunch
from pylti1p3.contrib.flask import FlaskOIDCLogin
from pylti1p3.contrib.flask import FlaskRequest
from pylti1p3.contrib.flask import FlaskSessionService
from pylti1p3.contrib.flask.service_connector import FlaskServiceConnector
from pylti1p3.dynamic_registration import DynamicRegistration
from pylti1p3.exception import LtiException
from pylti1p3.tool_config import ToolConfDict

NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"


class ToolRegistration(DynamicRegistration):
    """What this tool tells a platform about itself (pylti1p3's hooks)."""

    client_name = "Dyn Quiz"
    description = "A quiz tool that registers itself."

    def __init__(self, app: Flask, base: str) -> None:
        self.app = app
        self.base = base

    def get_openid_configuration_endpoint(self) -> str:
        return request.args.get("openid_configuration", "")

    def get_registration_token(self) -> str:
        return request.args.get("registration_token", "")

    def get_initiate_login_uri(self) -> str:
        return f"{self.base}/login"

    def get_jwks_uri(self) -> str:
        return f"{self.base}/jwks"

    def get_redirect_uris(self) -> list[str]:
        return [f"{self.base}/launch", f"{self.base}/deep-link"]

    def get_domain(self) -> str:
        return self.base.split("://", 1)[1]  # host and port, as pylti1p3 documents

    def get_target_link_uri(self) -> str:
        return f"{self.base}/launch"

    def get_scopes(self) -> list[str]:
        return [NRPS_SCOPE, SCORE_SCOPE, "https://example.org/unknown-scope"]

    def get_claims(self) -> list[str]:
        return ["iss", "sub", "name"]

    def get_messages(self) -> list[dict[str, str]]:
        return [
            {"type": "LtiResourceLinkRequest", "target_link_uri": f"{self.base}/launch"},
            {"type": "LtiDeepLinkingRequest", "target_link_uri": f"{self.base}/deep-link"},
        ]

    def get_logo_uri(self) -> str:
        return f"{self.base}/logo.png"

    def complete_registration(
        self, openid_configuration: dict[str, Any], openid_registration: dict[str, Any]
    ) -> dict[str, Any]:
        tool_configuration = openid_registration[
            "https://purl.imsglobal.org/spec/lti-tool-configuration"
        ]
        registration = {
            "issuer": openid_configuration["issuer"],
            "client_id": openid_registration["client_id"],
            "deployment_id": tool_configuration["deployment_id"],
            "auth_login_url": openid_configuration["authorization_endpoint"],
            "auth_token_url": openid_configuration["token_endpoint"],
            "key_set_url": openid_configuration["jwks_uri"],
            "answer": openid_registration,
        }
        self.app.registrations.append(registration)  # type: ignore[attr-defined]
        return registration


def create_dynreg_tool_app(base: str, private_pem: str, public_pem: str) -> Flask:
    app = Flask("lti-dynreg-tool")
    app.config.update(SECRET_KEY="dynreg-tool-secret", SESSION_COOKIE_NAME="dynreg_session")
    app.registrations = []  # type: ignore[attr-defined]

    def tool_conf() -> ToolConfDict:
        registrations = app.registrations  # type: ignore[attr-defined]
        settings: dict[str, list[dict[str, Any]]] = {}
        for found in registrations:
            settings.setdefault(found["issuer"], []).append(
                {
                    "default": True,
                    "client_id": found["client_id"],
                    "auth_login_url": found["auth_login_url"],
                    "auth_token_url": found["auth_token_url"],
                    "auth_audience": None,
                    "key_set_url": found["key_set_url"],
                    "key_set": None,
                    "deployment_ids": [found["deployment_id"]],
                }
            )
        conf = ToolConfDict(settings)
        for found in registrations:
            conf.set_private_key(found["issuer"], private_pem, client_id=found["client_id"])
            conf.set_public_key(found["issuer"], public_pem, client_id=found["client_id"])
        return conf

    @app.get("/register")
    def register() -> Any:
        dynamic = ToolRegistration(app, base)
        try:
            dynamic.register()
        except LtiException as error:
            return jsonify({"registered": False, "error": str(error)}), 502
        return dynamic.complete_html()

    @app.get("/jwks")
    def jwks() -> Any:
        if not app.registrations:  # type: ignore[attr-defined]
            return jsonify({"keys": []})
        return jsonify(tool_conf().get_jwks())

    @app.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        flask_request = FlaskRequest()
        target = flask_request.get_param("target_link_uri")
        return FlaskOIDCLogin(flask_request, tool_conf()).redirect(target)

    @app.post("/launch")
    def launch() -> Any:
        message = FlaskMessageLaunch(FlaskRequest(), tool_conf())
        try:
            data = message.get_launch_data()
        except LtiException as error:
            return jsonify({"accepted": False, "error": str(error)}), 400
        return jsonify(
            {
                "accepted": True,
                "launch_id": message.get_launch_id(),
                "sub": data.get("sub"),
                "name": data.get("name"),
                "email": data.get("email"),
                "deployment_id": data.get(
                    "https://purl.imsglobal.org/spec/lti/claim/deployment_id"
                ),
                "has_nrps": message.has_nrps(),
            }
        )

    @app.post("/members")
    def members() -> Any:
        flask_request = FlaskRequest()
        message = FlaskMessageLaunch.from_cache(
            request.get_json()["launch_id"],
            flask_request,
            tool_conf(),
            session_service=FlaskSessionService(flask_request),
            cookie_service=FlaskCookieService(flask_request),
            service_connector_cls=FlaskServiceConnector,
        )
        return jsonify({"members": message.get_nrps().get_members()})

    return app
