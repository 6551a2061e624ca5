"""An independent LTI 1.3 tool for the tests, built on pylti1p3next (not on our code).

It accepts resource-link and deep-linking launches from the campus, posts scores through AGS
and reads members through NRPS, the way a real external tool would.
"""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from flask import jsonify
from flask import request
from pylti1p3.contrib.flask import FlaskCookieService
from pylti1p3.contrib.flask import FlaskMessageLaunch
from pylti1p3.contrib.flask import FlaskOIDCLogin
from pylti1p3.contrib.flask import FlaskRequest
from pylti1p3.contrib.flask import FlaskSessionService
from pylti1p3.contrib.flask.service_connector import FlaskServiceConnector
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.exception import LtiException
from pylti1p3.grade import Grade
from pylti1p3.lineitem import LineItem
from pylti1p3.tool_config import ToolConfDict


def make_key() -> tuple[str, str]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem


def create_tool_app(
    platform: str, client_id: str, deployment_id: str, private_pem: str, public_pem: str
) -> Flask:
    app = Flask("lti-test-tool")
    app.config.update(SECRET_KEY="tool-secret", SESSION_COOKIE_NAME="tool_session")
    settings = {
        platform: [
            {
                "default": True,
                "client_id": client_id,
                "auth_login_url": f"{platform}/lti/authorize",
                "auth_token_url": f"{platform}/lti/token",
                "auth_audience": None,
                "key_set_url": f"{platform}/lti/jwks",
                "key_set": None,
                "deployment_ids": [deployment_id],
            }
        ]
    }

    def tool_conf() -> ToolConfDict:
        conf = ToolConfDict(settings)
        conf.set_private_key(platform, private_pem, client_id=client_id)
        conf.set_public_key(platform, public_pem, client_id=client_id)
        return conf

    def launch_from_cache(launch_id: str) -> FlaskMessageLaunch:
        flask_request = FlaskRequest()
        return FlaskMessageLaunch.from_cache(
            launch_id,
            flask_request,
            tool_conf(),
            session_service=FlaskSessionService(flask_request),
            cookie_service=FlaskCookieService(flask_request),
            service_connector_cls=FlaskServiceConnector,  # the pylti1p3next from_cache bug (notes/lti.md)
        )

    @app.get("/jwks")
    def jwks() -> Any:
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
                "roles": data.get("https://purl.imsglobal.org/spec/lti/claim/roles"),
                "context": data.get("https://purl.imsglobal.org/spec/lti/claim/context"),
                "resource_link": data.get(
                    "https://purl.imsglobal.org/spec/lti/claim/resource_link"
                ),
                "custom": data.get("https://purl.imsglobal.org/spec/lti/claim/custom"),
                "presentation": data.get(
                    "https://purl.imsglobal.org/spec/lti/claim/launch_presentation"
                ),
                "has_ags": message.has_ags(),
                "has_nrps": message.has_nrps(),
            }
        )

    @app.post("/deep-link")
    def deep_link() -> Any:
        message = FlaskMessageLaunch(FlaskRequest(), tool_conf())
        try:
            message.get_launch_data()
        except LtiException as error:
            return jsonify({"accepted": False, "error": str(error)}), 400
        if not message.is_deep_link_launch():
            return jsonify({"accepted": False, "error": "not a deep-linking launch"}), 400
        resource = (
            DeepLinkResource()
            .set_url(f"{request.host_url}launch?activity=quiz-42")
            .set_title("Quiz 42")
            .set_custom_params({"activity": "quiz-42"})
        )
        return message.get_deep_link().output_response_form([resource])

    @app.post("/grade")
    def grade() -> Any:
        body = request.get_json()
        message = launch_from_cache(body["launch_id"])
        ags = message.get_ags()
        line_item = (
            LineItem()
            .set_tag("quiz")
            .set_score_maximum(body.get("maximum", 10))
            .set_label("Quiz score")
            .set_resource_link_id(
                message.get_launch_data()[
                    "https://purl.imsglobal.org/spec/lti/claim/resource_link"
                ]["id"]
            )
        )
        score = (
            Grade()
            .set_score_given(body["score"])
            .set_score_maximum(body.get("maximum", 10))
            .set_timestamp(body["timestamp"])
            .set_activity_progress(body.get("activity", "Completed"))
            .set_grading_progress(body.get("grading", "FullyGraded"))
            .set_user_id(message.get_launch_data()["sub"])
        )
        result = ags.put_grade(score, line_item)
        return jsonify({"status": result.get("status_code")})

    @app.post("/members")
    def members() -> Any:
        message = launch_from_cache(request.get_json()["launch_id"])
        return jsonify({"members": message.get_nrps().get_members()})

    return app
