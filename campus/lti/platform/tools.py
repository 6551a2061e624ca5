"""The tools the campus launches: registration by an admin, their keys, and module links."""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
import unicodedata
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from jwcrypto.common import JWException
from jwcrypto.jwk import JWK

from campus import outbound
from campus.extensions import db
from campus.lti.errors import LtiError
from campus.lti.models import LtiResourceLink
from campus.lti.models import LtiTool
from campus.lti.platform.privacy import ToolPrivacy
from campus.outbound import OutboundPolicy
from campus.paths.models import Module

log = logging.getLogger(__name__)

JWKS_CACHE_SECONDS = 300
_JWKS_CACHE: dict[str, tuple[float, dict[str, Any]]] = {}


def get_tool(slug: str) -> LtiTool | None:
    return db.session.execute(db.select(LtiTool).where(LtiTool.slug == slug)).scalar_one_or_none()


def tool_by_client_id(client_id: str) -> LtiTool | None:
    if "\x00" in client_id:  # from an unverified JWT; PostgreSQL cannot even compare it
        return None
    return db.session.execute(
        db.select(LtiTool).where(LtiTool.client_id == client_id)
    ).scalar_one_or_none()


def list_tools() -> list[LtiTool]:
    return list(db.session.execute(db.select(LtiTool).order_by(LtiTool.name)).scalars())


def new_client_id() -> str:
    """A client ID for a tool whose admin left it empty: random, URL-safe (22 characters)."""
    return secrets.token_urlsafe(16)


def new_deployment_id() -> str:
    """A deployment ID for a tool whose admin left it empty (one deployment per tool)."""
    return secrets.token_hex(6)


def free_slug(name: str) -> str:
    """A short name made from a tool's name that no tool has yet ("quiz-tool", "quiz-tool-2")."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:70].strip("-") or "tool"
    slug, number = base, 1
    while get_tool(slug) is not None:
        number += 1
        slug = f"{base}-{number}"
    return slug


@dataclass(frozen=True)
class ToolFields:
    """What an admin typed to register a tool (the ToolForm's data). An empty client or
    deployment ID is generated (`new_client_id`, `new_deployment_id`)."""

    slug: str
    name: str
    client_id: str | None
    deployment_id: str | None
    oidc_login_url: str
    launch_url: str
    deep_link_url: str | None
    redirect_uris: str | None
    jwks_url: str | None
    jwks: str | None
    privacy: str = ToolPrivacy.NAME_EMAIL.value
    pairwise_sub: bool = False


def _privacy_level(privacy: str) -> ToolPrivacy:
    from flask_babel import gettext as _

    try:
        return ToolPrivacy(privacy)
    except ValueError as error:
        raise LtiError(_("Choose what the tool learns about people.")) from error


def unsafe_url(value: str) -> bool:
    """Whether an address carries what a browser and Python read differently, or a header
    refuses: spaces and control characters (`urlsplit` drops tabs and newlines silently, and a
    newline in a Location header fails every launch) and backslashes (browsers read `\\` as `/`)."""
    return any(ord(c) <= 0x20 or c in "\x7f\\" for c in value)


def register_tool(fields: ToolFields) -> LtiTool:
    """Store a new tool, or LtiError with a message for the admin (nothing stored)."""
    from flask_babel import gettext as _

    redirect_uris = [u.strip() for u in (fields.redirect_uris or "").splitlines() if u.strip()]
    addresses = [fields.oidc_login_url, fields.launch_url, fields.deep_link_url, fields.jwks_url]
    if any(unsafe_url(u) for u in [*addresses, *redirect_uris] if u):
        raise LtiError(_("Web addresses cannot contain spaces, line breaks or backslashes."))
    try:
        key_set = json.loads(fields.jwks) if (fields.jwks or "").strip() else None
        if key_set is not None and not isinstance(key_set.get("keys"), list):
            raise ValueError
    except (ValueError, AttributeError) as error:
        raise LtiError(_("The JWKS must be JSON with a list of keys.")) from error
    if not key_set and not fields.jwks_url:
        raise LtiError(_("Give the tool's JWKS URL or its keys."))
    privacy = _privacy_level(fields.privacy)
    client_id = (fields.client_id or "").strip() or new_client_id()
    deployment_id = (fields.deployment_id or "").strip() or new_deployment_id()
    if get_tool(fields.slug) or tool_by_client_id(client_id):
        raise LtiError(_("A tool with this short name or client ID exists already."))
    tool = LtiTool(
        slug=fields.slug,
        name=fields.name,
        client_id=client_id,
        deployment_id=deployment_id,
        oidc_login_url=fields.oidc_login_url,
        launch_url=fields.launch_url,
        deep_link_url=fields.deep_link_url or None,
        redirect_uris=redirect_uris,
        jwks_url=fields.jwks_url or None,
        jwks=key_set,
        privacy=privacy.value,
        pairwise_sub=fields.pairwise_sub,
    )
    db.session.add(tool)
    db.session.flush()
    return tool


def set_privacy(tool: LtiTool, privacy: str, pairwise_sub: bool) -> None:
    """What the tool learns about people from now on (launches and member lists); LtiError for
    an unknown level (nothing changed). Pairwise ids already given out are kept for a later
    switch back."""
    tool.privacy = _privacy_level(privacy).value
    tool.pairwise_sub = pairwise_sub
    db.session.flush()


def tool_key_set(tool: LtiTool, policy: OutboundPolicy, refresh: bool = False) -> dict[str, Any]:
    """The tool's public keys: stored inline, or fetched from its registered URL (cached 5 min;
    `refresh` skips the cache, for a key id the cached set does not know: the tool rotated).
    The URL was typed by an admin: it is fetched under the outbound policy (campus.outbound)."""
    if tool.jwks:
        return tool.jwks
    if not tool.jwks_url:
        raise LtiError("the tool has no keys registered", 400)
    cached = _JWKS_CACHE.get(tool.jwks_url)
    if cached and cached[0] > time.monotonic() and not refresh:
        return cached[1]
    try:
        key_set = outbound.fetch_json("GET", tool.jwks_url, policy)
    except outbound.OutboundError as error:
        log.warning("key set of tool %s not read: %s", tool.slug, error)
        raise LtiError("the tool's key set could not be read", 502) from error
    if not isinstance(key_set, dict) or not isinstance(key_set.get("keys"), list):
        raise LtiError("the tool's key set is not a JWKS", 502)
    _JWKS_CACHE[tool.jwks_url] = (time.monotonic() + JWKS_CACHE_SECONDS, key_set)
    return key_set


def decode_tool_jwt(
    tool: LtiTool, token: str, audience: str, policy: OutboundPolicy
) -> dict[str, Any]:
    """Verify a JWT the tool signed: RS256, a key of the tool's, our audience, not expired."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise LtiError("malformed JWT") from error

    def matching(key_set: dict[str, Any]) -> list[dict[str, Any]]:
        keys = key_set.get("keys")
        kid = header.get("kid")
        return [k for k in keys if isinstance(k, dict) and k.get("kid") == kid] if kid else []

    candidates = matching(tool_key_set(tool, policy)) or matching(
        tool_key_set(tool, policy, refresh=True)
    )
    if not candidates:
        raise LtiError("the JWT was not signed with a key of this tool", 401)
    try:
        public_pem = JWK(**candidates[0]).export_to_pem()
    except (JWException, TypeError, ValueError) as error:
        raise LtiError("the tool's key cannot be used", 401) from error
    try:
        return jwt.decode(
            token,
            public_pem,
            algorithms=["RS256"],
            audience=audience,
            options={"require": ["exp", "iat", "iss", "aud"]},
            leeway=5,
        )
    except jwt.InvalidAudienceError as error:
        raise LtiError("wrong audience", 401) from error
    except jwt.PyJWTError as error:
        raise LtiError(f"invalid JWT: {error}", 401) from error


def resource_link(module: Module) -> LtiResourceLink | None:
    """The module's link, created from its content settings on first use."""
    link = db.session.execute(
        db.select(LtiResourceLink).where(LtiResourceLink.module_id == module.id)
    ).scalar_one_or_none()
    if link is not None:
        return link
    tool = get_tool(module.settings.get("tool", ""))
    if tool is None:
        return None
    link = LtiResourceLink(
        module_id=module.id,
        tool_id=tool.id,
        resource_link_id=str(uuid.uuid4()),
        url=module.settings.get("url"),
        title=None,
        custom=dict(module.settings.get("custom", {})),
    )
    db.session.add(link)
    db.session.flush()
    return link
