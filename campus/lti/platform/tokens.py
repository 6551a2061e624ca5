"""OAuth 2 client-credentials tokens for tools (1EdTech Security Framework) and their check
on every service call (AGS, NRPS): scopes per endpoint, single-use assertion ids."""

from __future__ import annotations

import secrets
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any

import jwt

from campus.extensions import db
from campus.lti import payload
from campus.lti.common import consume_once
from campus.lti.constants import SUPPORTED_SCOPES
from campus.lti.errors import LtiError
from campus.lti.keys import PlatformContext
from campus.lti.keys import active_key
from campus.lti.keys import private_key
from campus.lti.models import LtiKey
from campus.lti.models import LtiTool
from campus.lti.platform.tools import decode_tool_jwt
from campus.lti.platform.tools import tool_by_client_id

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TOKEN_SECONDS = 3600
ASSERTION_MAX_LIFETIME = timedelta(days=1)


def issue_token(
    media_type: str, form: dict[str, list[str]], context: PlatformContext, now: datetime
) -> dict[str, Any]:
    """client_credentials grant with a JWT bearer assertion (1EdTech Security Framework).

    `form` holds every value of every parameter: a repeated one is refused (RFC 6749 §3.2).
    Errors carry the RFC 6749 §5.2 codes where they are specific; the view answers the others
    as `invalid_request` (400) or `invalid_client` (401: a bad assertion, RFC 7523 §3.2).
    """
    if media_type != "application/x-www-form-urlencoded":
        raise LtiError("the body must be application/x-www-form-urlencoded")
    fields = {
        name: payload.form_field(form, name)
        for name in ("grant_type", "client_assertion_type", "client_assertion", "scope")
    }
    if not fields["grant_type"] or not fields["client_assertion"] or not fields["scope"]:
        raise LtiError("grant_type, client_assertion and scope are required")
    if fields["grant_type"] != "client_credentials":
        raise LtiError("unsupported grant_type", code="unsupported_grant_type")
    if fields["client_assertion_type"] != ASSERTION_TYPE:
        raise LtiError("unsupported client_assertion_type")
    assertion = fields["client_assertion"]
    try:
        unverified = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError as error:
        raise LtiError("malformed client_assertion", 401) from error
    tool = tool_by_client_id(str(unverified.get("sub", "")))
    if tool is None or not tool.is_enabled:
        raise LtiError("unknown client", 401)
    claims = decode_tool_jwt(tool, assertion, audience=context.token_url, policy=context.outbound)
    if claims.get("iss") != tool.client_id or claims.get("sub") != tool.client_id:
        raise LtiError("iss and sub must be the client_id", 401)
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > 255:
        raise LtiError("jti is required (a string)", 401)
    expires = datetime.fromtimestamp(int(claims["exp"]), UTC) if _sane(claims["exp"], now) else None
    if expires is None:
        raise LtiError("the assertion's exp is too far in the future", 401)
    consume_once(f"jti:{tool.client_id}:{jti}", expires + timedelta(minutes=5), now)
    requested = set(fields["scope"].split())
    granted = sorted(requested & SUPPORTED_SCOPES)
    if not granted:
        raise LtiError("no supported scope requested", code="invalid_scope")
    key = active_key(context, now)
    token = jwt.encode(
        {
            "iss": context.issuer,
            "sub": tool.client_id,
            "aud": context.token_url,
            "scope": " ".join(granted),
            "iat": int(now.timestamp()),
            "exp": int(now.timestamp()) + TOKEN_SECONDS,
            "jti": secrets.token_urlsafe(16),
        },
        private_key(context, key),
        algorithm="RS256",
        headers={"kid": key.kid},
    )
    return {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": TOKEN_SECONDS,
        "scope": " ".join(granted),
    }


def _sane(exp: Any, now: datetime) -> bool:
    """An `exp` PyJWT accepted (a number in the future) that is not absurdly far ahead: the
    replay record lives until then, and a date past year 9999 cannot even be stored."""
    try:
        return float(exp) <= (now + ASSERTION_MAX_LIFETIME).timestamp()
    except (TypeError, ValueError, OverflowError):
        return False


def authenticate(
    header: str | None, needed: set[str], context: PlatformContext, now: datetime
) -> LtiTool:
    """The tool behind a Bearer token holding one of `needed` scopes (scopes per endpoint)."""
    if not header or not header.startswith("Bearer "):
        raise LtiError("a Bearer token is required", 401)
    token = header.removeprefix("Bearer ").strip()
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.PyJWTError as error:
        raise LtiError("malformed token", 401) from error
    if not isinstance(kid, str):
        raise LtiError("unknown token key", 401)
    key = db.session.execute(db.select(LtiKey).where(LtiKey.kid == kid)).scalar_one_or_none()
    if key is None:
        raise LtiError("unknown token key", 401)
    try:
        claims = jwt.decode(
            token,
            key.public_pem,
            algorithms=["RS256"],
            audience=context.token_url,
            issuer=context.issuer,
        )
    except jwt.PyJWTError as error:
        raise LtiError(f"invalid token: {error}", 401) from error
    if not set(claims.get("scope", "").split()) & needed:
        raise LtiError("the token lacks the scope for this endpoint", 403)
    tool = tool_by_client_id(str(claims.get("sub", "")))
    if tool is None or not tool.is_enabled:
        raise LtiError("unknown client", 401)
    return tool
