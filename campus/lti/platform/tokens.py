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
# Every answer of the token endpoint, tokens and errors alike (RFC 6749 §5.1).
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
INVALID_CLIENT = "invalid_client"


def issue_token(
    media_type: str, form: dict[str, list[str]], context: PlatformContext, now: datetime
) -> dict[str, Any]:
    """client_credentials grant with a JWT bearer assertion (1EdTech Security Framework).

    `form` holds every value of every parameter: a repeated one is refused (RFC 6749 §3.2).
    Every refusal carries its RFC 6749 §5.2 code: `invalid_request` (400) for a malformed
    request, `unsupported_grant_type` (400), `invalid_client` (401) when the client is not
    authenticated (no, a bad or a replayed assertion, an unknown or disabled client: RFC 7521
    §4.2.1), `invalid_scope` (400) when no scope we offer is asked for (RFC 6749 §3.3: we
    grant the known ones of a request and say which in `scope`). The client authenticates in
    the body, not with an Authorization header: no WWW-Authenticate challenge applies.
    """
    if media_type != "application/x-www-form-urlencoded":
        raise LtiError("the body must be application/x-www-form-urlencoded", code="invalid_request")
    fields = {
        name: _field(form, name)
        for name in ("grant_type", "client_assertion_type", "client_assertion", "scope")
    }
    if not fields["grant_type"]:
        raise LtiError("grant_type is required", code="invalid_request")
    if fields["grant_type"] != "client_credentials":
        raise LtiError("unsupported grant_type", code="unsupported_grant_type")
    tool = _authenticated_client(
        fields["client_assertion_type"], fields["client_assertion"], context, now
    )
    granted = sorted(set(fields["scope"].split()) & SUPPORTED_SCOPES)
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


def _field(form: dict[str, list[str]], name: str) -> str:
    try:
        return payload.form_field(form, name)
    except LtiError as error:
        raise LtiError(str(error), code="invalid_request") from error


def _authenticated_client(
    assertion_type: str, assertion: str, context: PlatformContext, now: datetime
) -> LtiTool:
    """The tool whose signed assertion (RFC 7523 §3) this is; its `jti` is used up."""
    if not assertion:
        raise LtiError("client authentication is required (client_assertion)", 401, INVALID_CLIENT)
    if assertion_type != ASSERTION_TYPE:
        raise LtiError("unsupported client_assertion_type", 401, INVALID_CLIENT)
    try:
        unverified = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError as error:
        raise LtiError("malformed client_assertion", 401, INVALID_CLIENT) from error
    tool = tool_by_client_id(str(unverified.get("sub", "")))
    if tool is None or not tool.is_enabled:
        raise LtiError("unknown client", 401, INVALID_CLIENT)
    try:
        claims = decode_tool_jwt(
            tool, assertion, audience=context.token_url, policy=context.outbound
        )
    except LtiError as error:
        if error.status >= 500:  # the tool's key set could not be read: not the client's fault
            raise
        raise LtiError(str(error), 401, INVALID_CLIENT) from error
    if claims.get("iss") != tool.client_id or claims.get("sub") != tool.client_id:
        raise LtiError("iss and sub must be the client_id", 401, INVALID_CLIENT)
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > 255:
        raise LtiError("jti is required (a string)", 401, INVALID_CLIENT)
    expires = datetime.fromtimestamp(int(claims["exp"]), UTC) if _sane(claims["exp"], now) else None
    if expires is None:
        raise LtiError("the assertion's exp is too far in the future", 401, INVALID_CLIENT)
    try:
        consume_once(f"jti:{tool.client_id}:{jti}", expires + timedelta(minutes=5), now)
    except LtiError as error:
        raise LtiError(str(error), 401, INVALID_CLIENT) from error
    return tool


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
