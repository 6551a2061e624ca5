"""Flask glue around lti1p3platform (it ships only Django and FastAPI adapters).

The library builds and signs the launch messages and formats keys; the checks it lacks
(redirect_uri registration, signed hints, replay, audience, scopes) live in this package.
"""

from __future__ import annotations

import time
from typing import Any

import jwt
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration
from lti1p3platform.request import RequestBase


class PlainRequest(RequestBase):
    """The library's request interface over plain dicts (built from flask.request by views)."""

    def __init__(self, method: str, query: dict[str, Any], form: dict[str, Any]) -> None:
        self.request = {
            "method": method,
            "form_data": form,
            "get_data": query,
            "headers": {},
            "content_type": None,
            "path": "",
            "json": None,
        }


class SigningRegistration(Registration):
    """A Registration that signs with a loaded key object and a known kid.

    The library takes the private key as PEM text and parses it for every signature and kid
    (an RSA key check each time, ~30 ms); we hand it the already-loaded key instead.
    """

    def set_signing_key(self, private_key: Any, kid: str) -> SigningRegistration:
        self._signing_key = private_key
        self._kid = kid
        return self

    def get_kid(self) -> str | None:
        return self._kid

    def platform_encode_and_sign(
        self, payload: dict[str, Any], expiration: int | None = None
    ) -> str:
        if expiration:
            issued = int(time.time())
            payload.update({"iat": issued, "exp": issued + expiration})
        return jwt.encode(payload, self._signing_key, algorithm="RS256", headers={"kid": self._kid})


class PlatformConf(LTI1P3PlatformConfAbstract):
    """One registration: this campus as platform and one tool. Built per request (not thread-safe)."""

    def init_platform_config(self, **kwargs: Any) -> None:
        tool = kwargs["tool"]
        registration = (
            SigningRegistration()
            .set_iss(kwargs["issuer"])
            .set_client_id(tool.client_id)
            .set_deployment_id(tool.deployment_id)
            .set_oidc_login_url(tool.oidc_login_url)
            .set_launch_url(tool.launch_url)
            .set_platform_public_key(kwargs["public_pem"])
            .set_signing_key(kwargs["private_key"], kwargs["kid"])
        )
        if tool.deep_link_url:
            registration.set_deeplink_launch_url(tool.deep_link_url)
        if kwargs.get("tool_jwks"):
            registration.set_tool_key_set(kwargs["tool_jwks"])
        self._registration = registration

    def get_registration_by_params(self, **kwargs: Any) -> Registration:
        assert self._registration is not None
        return self._registration


class LoginInitiation(OIDCLoginAbstract):
    """Third-party initiated login: we only need the URL, the view redirects."""

    def set_lti_message_hint(self, **kwargs: Any) -> None:
        self._lti_message_hint = kwargs["hint"]

    def get_redirect(self, url: str) -> str:
        return url


DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"


class Launch(LTIAdvantageMessageLaunchAbstract):
    """Returns the signed id_token and where to post it; the view renders the auto-post form."""

    def set_dl_settings(self, **settings: Any) -> None:
        """Override fields of the deep-linking settings claim `set_dl` built (the library always
        advertises several items and the iframe, window and embed targets)."""
        assert self._deep_linking_launch_data is not None, "call set_dl first"
        self._deep_linking_launch_data[DL_SETTINGS].update(settings)

    def render_launch_form(self, launch_data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return launch_data
