"""LTI Dynamic Registration offered to tools (1EdTech LTI-DR 1.0, the platform's role).

An admin offers registration to a tool: the campus makes a one-time registration token (stored
hashed in LtiStoreEntry, valid for an hour) and the admin's browser opens the tool's
registration URL with `openid_configuration` and `registration_token`. The tool reads our
OpenID configuration and POSTs its registration (RFC 7591 client metadata plus the LTI tool
configuration); the campus checks it, creates the LtiTool through the same service as the
admin's form (client and deployment IDs generated) and answers with the registration.

A refused registration stores nothing and leaves the token usable (the tool may correct its
metadata and try again); a token is consumed by the registration it admits.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl
from urllib.parse import urlencode
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

from campus.clock import aware
from campus.extensions import db
from campus.lti import payload
from campus.lti.constants import TOOL_CONFIGURATION
from campus.lti.constants import MessageType
from campus.lti.constants import Scope
from campus.lti.errors import LtiError
from campus.lti.models import LtiStoreEntry
from campus.lti.models import LtiTool
from campus.lti.platform import tools as tool_services
from campus.lti.platform.privacy import ToolPrivacy
from campus.routing import DEFAULT_PORTS
from campus.routing import browser_origin

OFFER_PREFIX = "dynreg:"
OFFER_LIFETIME = timedelta(hours=1)
MAX_BODY = 64 * 1024
MAX_URL = 2000
MAX_REDIRECT_URIS = 20
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
INVALID_METADATA = "invalid_client_metadata"
DOMAIN = re.compile(r"^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?(:[0-9]{1,5})?$")
# Identity claims a tool may ask for, and the privacy level that gives them (privacy.py).
NAME_CLAIMS = frozenset({"name", "given_name", "family_name"})
CLAIMS_SUPPORTED = ("iss", "aud", "sub", "iat", "exp", "nonce", *sorted(NAME_CLAIMS), "email")
# Addresses the campus never uses (pictures and pages about the tool): checked, not bound.
INFO_URLS = ("logo_uri", "client_uri", "tos_uri", "policy_uri")


def _token_key(token: str) -> str:
    return OFFER_PREFIX + hashlib.sha256(token.encode()).hexdigest()


# --- the offer: a one-time token and the address the admin's browser opens ----------------------


@dataclass(frozen=True)
class Offer:
    url: str  # the tool's registration URL with openid_configuration and registration_token
    tool_origin: str  # where the tool's "close" message comes from (scheme://host[:port])
    expires_at: datetime


def create_offer(tool_url: str, config_url: str, created_by: int, now: datetime) -> Offer:
    """A registration token for the tool at `tool_url` (LtiError for an unusable address)."""
    from flask_babel import gettext as _

    tool_url = tool_url.strip()
    try:
        parts = urlsplit(tool_url)
        parts.port  # noqa: B018  (raises ValueError for a bad port)
    except ValueError as error:
        raise LtiError(_("Give the tool's registration URL (http or https).")) from error
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        raise LtiError(_("Give the tool's registration URL (http or https)."))
    token = secrets.token_urlsafe(32)
    expires_at = now + OFFER_LIFETIME
    db.session.add(
        LtiStoreEntry(
            key=_token_key(token),
            value={"tool_url": tool_url, "created_by": created_by},
            expires_at=expires_at,
        )
    )
    db.session.flush()
    own = {"openid_configuration", "registration_token"}  # tools read the first of each
    query = [
        *(pair for pair in parse_qsl(parts.query, keep_blank_values=True) if pair[0] not in own),
        ("openid_configuration", config_url),
        ("registration_token", token),
    ]
    url = urlunsplit(parts._replace(query=urlencode(query)))
    return Offer(url=url, tool_origin=browser_origin(tool_url), expires_at=expires_at)


def consume_token(authorization: str | None, now: datetime) -> str:
    """Admit the request's `Authorization: Bearer <registration token>` once (401 otherwise);
    returns the registration URL the token was offered to."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 200:
        raise LtiError("a registration token (Bearer) is required", 401, "invalid_token")
    key = _token_key(token)
    entry = db.session.get(LtiStoreEntry, key)
    if entry is None or aware(entry.expires_at) <= now:
        raise LtiError("the registration token is unknown, expired or used", 401, "invalid_token")
    # The row count decides between two registrations racing with one token.
    deleted = db.session.execute(db.delete(LtiStoreEntry).where(LtiStoreEntry.key == key))
    if deleted.rowcount != 1:
        raise LtiError("the registration token is unknown, expired or used", 401, "invalid_token")
    return str((entry.value or {}).get("tool_url", ""))


# --- what a tool sends: RFC 7591 client metadata and the LTI tool configuration ----------------


@dataclass(frozen=True)
class ToolRegistration:
    name: str
    login_url: str
    launch_url: str
    deep_link_url: str | None
    redirect_uris: list[str]
    jwks_url: str
    privacy: ToolPrivacy
    scopes: list[str]  # the requested scopes the campus grants
    answer: dict[str, Any]  # the registration as accepted, echoed to the tool


def _refuse(message: str) -> LtiError:
    return LtiError(message, 400, INVALID_METADATA)


def _strings(document: dict[str, Any], key: str, required: bool = True) -> list[str]:
    value = document.get(key)
    if value is None and not required:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _refuse(f"{key} must be a list of strings")
    return value


def _domain(value: object, key: str) -> str:
    if not isinstance(value, str) or not DOMAIN.match(value.strip().lower()):
        raise _refuse(f"{key} must be a host name, with a port if needed (tool.example:8443)")
    return value.strip().lower()


def _url(value: object, key: str, domains: list[str] | None) -> str:
    """A plain http(s) address; on one of `domains` (or a subdomain) unless None."""
    if not isinstance(value, str) or not value or len(value) > MAX_URL:
        raise _refuse(f"{key} must be a web address of at most {MAX_URL} characters")
    if tool_services.unsafe_url(value):
        raise _refuse(f"{key} must not contain spaces, control characters or backslashes")
    try:
        parts = urlsplit(value)
        port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError as error:
        raise _refuse(f"{key} is not a valid web address") from error
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _refuse(f"{key} must be an http or https address")
    if "@" in parts.netloc or parts.fragment:
        raise _refuse(f"{key} must have no user name and no fragment")
    if domains is None:
        return value
    host = parts.hostname.lower()
    for domain in domains:
        domain_host, _, domain_port = domain.partition(":")
        on_host = host == domain_host or host.endswith(f".{domain_host}")
        if on_host and (not domain_port or int(domain_port) == port):
            return value
    raise _refuse(f"{key} must be on the tool's domain ({domains[0]})")


def _name(document: dict[str, Any], domain: str) -> str:
    """client_name, else a localized one (client_name#en, …), else the tool's domain."""
    names = [document.get("client_name")]
    names += [v for k, v in sorted(document.items()) if k.startswith("client_name#")]
    for name in names:
        if isinstance(name, str) and name.strip():
            if len(name.strip()) > 200:
                raise _refuse("client_name is longer than 200 characters")
            return name.strip()
    return domain


def _privacy(claims: list[str]) -> ToolPrivacy:
    if "email" in claims:
        return ToolPrivacy.NAME_EMAIL
    if NAME_CLAIMS & set(claims):
        return ToolPrivacy.NAME
    return ToolPrivacy.ANONYMOUS


def _messages(configuration: dict[str, Any], domains: list[str]) -> list[dict[str, Any]]:
    """The messages of a type the campus sends, checked; other types are left out."""
    messages = configuration.get("messages")
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        raise _refuse("messages must be a list of objects")
    known = {MessageType.RESOURCE_LINK.value, MessageType.DEEP_LINKING.value}
    accepted = []
    for message in messages:
        kind = message.get("type")
        if not isinstance(kind, str):
            raise _refuse("every message needs a type")
        if kind not in known:
            continue
        entry: dict[str, Any] = {"type": kind}
        if message.get("target_link_uri") is not None:
            entry["target_link_uri"] = _url(
                message["target_link_uri"], "messages.target_link_uri", domains
            )
        if message.get("icon_uri") is not None:
            entry["icon_uri"] = _url(message["icon_uri"], "messages.icon_uri", None)
        label = payload.text(message, "label", max_length=200)
        if label:
            entry["label"] = label
        accepted.append(entry)
    return accepted


def validate_registration(document: dict[str, Any]) -> ToolRegistration:
    """Check a registration request; LtiError 400 `invalid_client_metadata` names the field."""
    try:
        return _validate(document)
    except LtiError as error:
        raise _refuse(str(error)) from error


def _check_text(document: Any) -> None:
    """Every string of the document can be stored: UTF-8 (no lone surrogates) and no NUL,
    which PostgreSQL refuses. Checked once, before anything is built from it."""
    pending = [document]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, str):
            if "\x00" in value:
                raise _refuse("text must not contain NUL characters")
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as error:
                raise _refuse("text must be valid Unicode (UTF-8)") from error


def _validate(document: dict[str, Any]) -> ToolRegistration:
    _check_text(document)
    if document.get("application_type", "web") != "web":
        raise _refuse("application_type must be web")
    if "id_token" not in _strings(document, "response_types"):
        raise _refuse("response_types must contain id_token")
    grant_types = _strings(document, "grant_types")
    if not {"implicit", "client_credentials"} <= set(grant_types):
        raise _refuse("grant_types must contain implicit and client_credentials")
    if document.get("token_endpoint_auth_method") != "private_key_jwt":
        raise _refuse("token_endpoint_auth_method must be private_key_jwt")
    configuration = document.get(TOOL_CONFIGURATION)
    if not isinstance(configuration, dict):
        raise _refuse(f"{TOOL_CONFIGURATION} must be an object")
    domains = [_domain(configuration.get("domain"), "domain")]
    secondary = _strings(configuration, "secondary_domains", required=False)
    domains += [_domain(d, "secondary_domains") for d in secondary[:10]]
    login_url = _url(document.get("initiate_login_uri"), "initiate_login_uri", domains)
    redirect_uris = _strings(document, "redirect_uris")
    if not redirect_uris or len(redirect_uris) > MAX_REDIRECT_URIS:
        raise _refuse(f"redirect_uris must list 1 to {MAX_REDIRECT_URIS} addresses")
    redirect_uris = [_url(u, "redirect_uris", domains) for u in redirect_uris]
    jwks_url = _url(document.get("jwks_uri"), "jwks_uri", domains)
    target = _url(configuration.get("target_link_uri"), "target_link_uri", domains)
    messages = _messages(configuration, domains)
    claims = _strings(configuration, "claims", required=False)
    requested = (payload.text(document, "scope", max_length=2000) or "").split()
    scopes = [s.value for s in Scope if s.value in requested]
    targets = {m["type"]: m.get("target_link_uri", target) for m in messages}
    launch_url = targets.get(MessageType.RESOURCE_LINK.value, target)
    name = _name(document, domains[0])
    answer: dict[str, Any] = {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": login_url,
        "redirect_uris": redirect_uris,
        "client_name": name,
        "jwks_uri": jwks_url,
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(scopes),
    }
    for key in INFO_URLS:
        if document.get(key) is not None:
            answer[key] = _url(document[key], key, None)
    answer[TOOL_CONFIGURATION] = {
        "domain": domains[0],
        **({"secondary_domains": domains[1:]} if len(domains) > 1 else {}),
        "target_link_uri": target,
        "claims": [c for c in claims if c in CLAIMS_SUPPORTED],
        "messages": messages,
    }
    description = payload.text(configuration, "description", max_length=2000)
    if description:
        answer[TOOL_CONFIGURATION]["description"] = description
    return ToolRegistration(
        name=name,
        login_url=login_url,
        launch_url=launch_url,
        deep_link_url=targets.get(MessageType.DEEP_LINKING.value),
        redirect_uris=redirect_uris,
        jwks_url=jwks_url,
        privacy=_privacy(claims),
        scopes=scopes,
        answer=answer,
    )


def register(
    body: bytes, media_type: str, authorization: str | None, now: datetime
) -> tuple[LtiTool, dict[str, Any]]:
    """A tool's registration request: the token first (401), then its metadata (400), then the
    new tool and the answer for the tool. The caller commits (or rolls back on LtiError)."""
    offered_to = consume_token(authorization, now)
    try:
        document = payload.json_object(body, media_type)
    except LtiError as error:
        raise LtiError(str(error), error.status, INVALID_METADATA) from error
    accepted = validate_registration(document)
    # The token was offered to one tool: its registration names addresses on that tool's host.
    domains = [accepted.answer[TOOL_CONFIGURATION]["domain"]]
    domains += accepted.answer[TOOL_CONFIGURATION].get("secondary_domains", [])
    try:
        _url(offered_to, "offered", domains)
    except LtiError as error:
        offered_host = urlsplit(offered_to).hostname or offered_to
        raise _refuse(
            f"this registration token was offered to {offered_host}: domain must name that host"
        ) from error
    tool = tool_services.register_tool(
        tool_services.ToolFields(
            slug=tool_services.free_slug(accepted.name),
            name=accepted.name,
            client_id=None,
            deployment_id=None,
            oidc_login_url=accepted.login_url,
            launch_url=accepted.launch_url,
            deep_link_url=accepted.deep_link_url,
            redirect_uris="\n".join(accepted.redirect_uris),
            jwks_url=accepted.jwks_url,
            jwks=None,
            privacy=accepted.privacy.value,
        )
    )
    answer = dict(accepted.answer)
    answer["client_id"] = tool.client_id
    answer[TOOL_CONFIGURATION] = {
        **accepted.answer[TOOL_CONFIGURATION],
        "deployment_id": tool.deployment_id,
    }
    return tool, answer


# --- what the campus publishes for tools to read ------------------------------------------------


def openid_configuration(
    endpoints: dict[str, str], registration_endpoint: str, version: str
) -> dict[str, Any]:
    """The platform's OpenID configuration (LTI-DR §3.3; `endpoints`: platform_endpoints())."""
    return {
        "issuer": endpoints["issuer"],
        "authorization_endpoint": endpoints["authorize"],
        "token_endpoint": endpoints["token"],
        "jwks_uri": endpoints["jwks"],
        "registration_endpoint": registration_endpoint,
        "scopes_supported": ["openid", *(scope.value for scope in Scope)],
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public", "pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "claims_supported": list(CLAIMS_SUPPORTED),
        PLATFORM_CONFIGURATION: {
            "product_family_code": "campus",
            "version": version,
            "messages_supported": [
                {"type": MessageType.RESOURCE_LINK.value},
                {"type": MessageType.DEEP_LINKING.value},
            ],
        },
    }
