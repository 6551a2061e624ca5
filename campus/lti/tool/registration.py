"""LTI Dynamic Registration (the LMS offers it, an admin of ours confirms it).

The addresses come from the admin's browser and from the LMS's own document, so both fetches
go through `campus.outbound` (no private targets unless allowed, no redirects, small bounded
answers). Every failure is one `RegistrationFailed`: the page shows one neutral sentence, so
that it cannot be used to tell closed ports from open ones; the detail goes to the log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from campus import outbound
from campus.extensions import db
from campus.lti import framing
from campus.lti.constants import TOOL_CONFIGURATION
from campus.lti.constants import MessageType
from campus.lti.constants import Scope
from campus.lti.models import LtiPlatform
from campus.lti.tool.provisioning import find_platform
from campus.routing import external_url

log = logging.getLogger(__name__)

SCOPES = (Scope.LINEITEM, Scope.SCORE, Scope.RESULT)
ENDPOINTS = ("authorization_endpoint", "token_endpoint", "jwks_uri", "registration_endpoint")


@dataclass(frozen=True)
class ToolEndpoints:
    """The campus's addresses as an LMS's tool (shown to admins, sent by Dynamic Registration)."""

    login: str
    launch: str
    jwks: str
    registration: str = ""  # LTI Dynamic Registration (the LMS opens it)
    canvas_config: str = ""  # Canvas: a developer key's "Enter URL"

    @property
    def deep_link(self) -> str:
        return self.launch  # one launch URL takes both message types

    @property
    def redirect_uris(self) -> list[str]:
        return [self.launch]

    @classmethod
    def current(cls) -> ToolEndpoints:
        """From BASE_URL and our routes (inside a request)."""
        return cls(
            login=external_url("lti_tool.login"),
            launch=external_url("lti_tool.launch"),
            jwks=external_url("lti.jwks"),
            registration=external_url("lti_tool.dynamic_register"),
            canvas_config=external_url("lti_tool.canvas_config"),
        )


class RegistrationFailed(Exception):
    """The registration did not happen; the text is detail for the log only."""


def dynamic_registration(
    openid_configuration_url: str,
    registration_token: str | None,
    endpoints: ToolEndpoints,
    organisation_id: int,
    name: str,
    policy: outbound.OutboundPolicy,
) -> LtiPlatform:
    """Read the LMS's OpenID configuration, register the campus there, store the platform."""
    try:
        return _register(
            openid_configuration_url,
            registration_token,
            endpoints,
            organisation_id,
            name,
            policy,
        )
    except (outbound.OutboundError, RegistrationFailed) as error:
        log.warning(
            "LTI dynamic registration with %s failed: %s",
            outbound.loggable(openid_configuration_url),
            error,
        )
        raise RegistrationFailed(str(error)) from error


def _register(
    config_url: str,
    registration_token: str | None,
    endpoints: ToolEndpoints,
    organisation_id: int,
    name: str,
    policy: outbound.OutboundPolicy,
) -> LtiPlatform:
    config = outbound.fetch_json("GET", config_url, policy)
    if not isinstance(config, dict):
        raise RegistrationFailed("the configuration is not a JSON object")
    issuer = config.get("issuer")
    if not isinstance(issuer, str) or not issuer or _netloc(config_url) != _netloc(issuer):
        raise RegistrationFailed("the configuration's issuer does not match its address")
    if len(issuer) > 500 or not all(
        isinstance(config.get(k), str)
        and config[k].startswith(("https://", "http://"))
        and len(config[k]) <= 2000
        for k in ENDPOINTS
    ):
        raise RegistrationFailed("the configuration is incomplete")
    headers = {"Authorization": f"Bearer {registration_token}"} if registration_token else {}
    registered = outbound.fetch_json(
        "POST",
        config["registration_endpoint"],
        policy,
        json_body=_tool_configuration(endpoints),
        headers=headers,
    )
    if not isinstance(registered, dict):
        raise RegistrationFailed("the registration answer is not a JSON object")
    client_id = registered.get("client_id")
    tool_configuration = registered.get(TOOL_CONFIGURATION)
    deployment = (
        tool_configuration.get("deployment_id") if isinstance(tool_configuration, dict) else None
    )
    client_id = str(client_id).strip() if isinstance(client_id, str | int) else ""
    deployment = str(deployment).strip() if isinstance(deployment, str | int) else ""
    if not client_id or len(client_id) > 255 or len(deployment) > 255:
        raise RegistrationFailed("the platform returned no usable client_id")
    platform = find_platform(issuer, client_id)
    if platform is None:
        platform = LtiPlatform(
            issuer=issuer, client_id=client_id, organisation_id=organisation_id, deployment_ids=[]
        )
        db.session.add(platform)
    platform.name = name[:200]
    platform.auth_login_url = config["authorization_endpoint"]
    platform.auth_token_url = config["token_endpoint"]
    platform.jwks_url = config["jwks_uri"]
    if deployment and deployment not in platform.deployment_ids:
        platform.deployment_ids = [*platform.deployment_ids, deployment]
    # The admin opened this registration from the LMS: its pages may frame the campus.
    opened_from = framing.origin_of(config_url)
    if opened_from and opened_from not in (platform.frame_origins or []):
        platform.frame_origins = [*(platform.frame_origins or []), opened_from]
    db.session.flush()
    framing.forget()
    return platform


def _tool_configuration(endpoints: ToolEndpoints) -> dict[str, Any]:
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": endpoints.login,
        "redirect_uris": endpoints.redirect_uris,
        "client_name": "Campus",
        "jwks_uri": endpoints.jwks,
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(SCOPES),
        TOOL_CONFIGURATION: {
            "domain": _netloc(endpoints.launch),
            "target_link_uri": endpoints.launch,
            "claims": ["iss", "sub", "name", "email"],
            "messages": [
                {"type": MessageType.RESOURCE_LINK.value},
                {"type": MessageType.DEEP_LINKING.value, "target_link_uri": endpoints.deep_link},
            ],
        },
    }


def _netloc(url: str) -> str:
    try:
        return urlsplit(url).netloc
    except ValueError:
        return ""
