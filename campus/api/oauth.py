"""OAuth 2.0 client credentials (RFC 6749 §4.4): the token endpoint.

Clients authenticate with HTTP Basic (`client_secret_basic`) or in the form
(`client_secret_post`); errors are RFC 6749 §5.2 JSON. Failed authentications are throttled
per address (checked first: one address cannot try many clients) and per client id (then a
wrong secret answers 429; the right one still works, so a stranger who knows a client id cannot
lock the institution's system out: with 256-bit secrets the bound is against floods, not luck).
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from datetime import timedelta
from typing import Any
from urllib.parse import unquote_plus

from flask import Response
from flask import json
from flask import request
from flask_smorest import Blueprint

from campus.api import token_services
from campus.api.problems import ProblemDetailsSchema
from campus.api.problems import problem
from campus.api.token_models import SCOPES
from campus.api.token_models import ApiClient
from campus.api.token_models import ClientAuthFailure
from campus.auth.login import retry_after
from campus.auth.login import window_excess
from campus.clock import utcnow
from campus.extensions import db

blp = Blueprint(
    "api_oauth",
    __name__,
    url_prefix="/api/v1/oauth",
    description="OAuth 2.0 client credentials for institutional systems.",
)

THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_CLIENT = 10
MAX_FAILURES_PER_ADDRESS = 30
FORM_TYPE = "application/x-www-form-urlencoded"


class OAuthError(Exception):
    """An RFC 6749 §5.2 error: `error` code, description, HTTP status."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


class Throttled(Exception):
    def __init__(self, seconds: int) -> None:
        super().__init__(f"retry after {seconds} s")
        self.seconds = seconds


# --- the throttle (plain arguments: usable from tests and commands) ---------------------------


def address_wait(address: str, now: datetime) -> int:
    """Seconds until `address` may try to authenticate a client again (0: now)."""
    return retry_after(
        window_excess(
            ClientAuthFailure.failed_at,
            ClientAuthFailure.remote_addr == address[:64],
            MAX_FAILURES_PER_ADDRESS,
            THROTTLE_WINDOW,
            now,
        )
    )


def client_wait(client_id: str, now: datetime) -> int:
    """Seconds until a wrong secret for `client_id` is answered 401 again instead of 429."""
    return retry_after(
        window_excess(
            ClientAuthFailure.failed_at,
            ClientAuthFailure.client_id == client_id[:64],
            MAX_FAILURES_PER_CLIENT,
            THROTTLE_WINDOW,
            now,
        )
    )


def record_failure(client_id: str, address: str, now: datetime) -> None:
    db.session.execute(
        db.delete(ClientAuthFailure).where(ClientAuthFailure.failed_at < now - THROTTLE_WINDOW)
    )
    db.session.add(
        ClientAuthFailure(client_id=client_id[:64], remote_addr=address[:64], failed_at=now)
    )


def authenticate_client(client_id: str, secret: str, address: str, now: datetime) -> ApiClient:
    """The working client with this id and secret. Raises Throttled, or OAuthError
    `invalid_client` (the failure is recorded: the caller commits in both cases)."""
    wait = address_wait(address, now)
    if wait:
        raise Throttled(wait)
    client = token_services.find_client(client_id)
    if (
        client is not None
        and token_services.client_usable(client, now)
        and token_services.client_secret_matches(client, secret)
    ):
        return client
    wait = client_wait(client_id, now)
    if wait:
        raise Throttled(wait)
    record_failure(client_id, address, now)
    raise OAuthError("invalid_client", "Client authentication failed.", 401)


# --- the request ------------------------------------------------------------------------------


def _basic_credentials(header: str) -> tuple[str, str] | None:
    """(client_id, secret) from `Authorization: Basic …` (RFC 6749 §2.3.1: form-encoded)."""
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise OAuthError("invalid_client", "Malformed Basic credentials.", 401) from None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise OAuthError("invalid_client", "Malformed Basic credentials.", 401)
    return unquote_plus(client_id), unquote_plus(secret)


def _credentials(form: Any) -> tuple[str, str]:
    basic = _basic_credentials(request.headers.get("Authorization", ""))
    posted = form.get("client_id"), form.get("client_secret")
    if basic is not None:
        if posted[1] is not None:
            raise OAuthError("invalid_request", "Use one client authentication method only.")
        return basic
    if not posted[0] or not posted[1]:
        raise OAuthError("invalid_client", "Client authentication is required.", 401)
    return posted[0], posted[1]


def _requested_scopes(form: Any) -> list[str] | None:
    raw = form.get("scope")
    if raw is None:
        return None
    scopes = raw.split()
    if not scopes or any(scope not in SCOPES for scope in scopes):
        raise OAuthError("invalid_scope", "Unknown scope.")
    return scopes


def _json(body: dict[str, Any], status: int, **headers: str) -> Response:
    response = Response(json.dumps(body), status=status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    response.headers.update(headers)
    return response


def _error(error: OAuthError) -> Response:
    headers = {"WWW-Authenticate": 'Basic realm="campus"'} if error.status == 401 else {}
    body = {"error": error.error, "error_description": error.description}
    return _json(body, error.status, **headers)


def _throttled(seconds: int) -> Response:
    return problem(
        429,
        detail="Too many failed client authentications. Try again later.",
        headers={"Retry-After": str(seconds), "Cache-Control": "no-store"},
    )


def _grant(now: datetime) -> dict[str, Any]:
    if request.mimetype != FORM_TYPE:
        raise OAuthError("invalid_request", f"Send the parameters as {FORM_TYPE}.")
    form = request.form
    if any(len(values) > 1 for values in form.listvalues()):
        raise OAuthError("invalid_request", "Each parameter may appear once.")
    grant_type = form.get("grant_type")
    if not grant_type:
        raise OAuthError("invalid_request", "grant_type is required.")
    if grant_type != "client_credentials":
        raise OAuthError("unsupported_grant_type", "Only client_credentials is supported.")
    scopes = _requested_scopes(form)
    client_id, secret = _credentials(form)
    client = authenticate_client(client_id, secret, request.remote_addr or "", now)
    try:
        token, access_token = token_services.issue_access_token(client, scopes, now)
    except token_services.TokenError:
        raise OAuthError("invalid_scope", "The client may not have that scope.") from None
    return {
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": int(token_services.ACCESS_TOKEN_LIFETIME.total_seconds()),
        "scope": " ".join(token.scopes),
    }


def _error_doc(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ERROR_SCHEMA}}}


ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "string",
            "enum": [
                "invalid_request",
                "invalid_client",
                "invalid_grant",
                "unauthorized_client",
                "unsupported_grant_type",
                "invalid_scope",
            ],
        },
        "error_description": {"type": "string"},
    },
}
TOKEN_REQUEST_SCHEMA = {
    "type": "object",
    "required": ["grant_type"],
    "properties": {
        "grant_type": {"type": "string", "enum": ["client_credentials"]},
        "scope": {
            "type": "string",
            "description": "Space-separated subset of the client's scopes (default: all).",
            "example": "organisation:read network:read",
        },
        "client_id": {"type": "string", "description": "client_secret_post only"},
        "client_secret": {"type": "string", "description": "client_secret_post only"},
    },
}
TOKEN_RESPONSE_SCHEMA = {
    "type": "object",
    "required": ["access_token", "token_type", "expires_in", "scope"],
    "properties": {
        "access_token": {"type": "string", "example": "cmp_at_…"},
        "token_type": {"type": "string", "enum": ["Bearer"]},
        "expires_in": {"type": "integer", "example": 3600},
        "scope": {"type": "string"},
    },
}


@blp.route("/token", methods=["POST"])
@blp.doc(
    summary="Get an access token (client credentials)",
    description=(
        "RFC 6749 §4.4. Authenticate the client with HTTP Basic (client_secret_basic) or with "
        "client_id and client_secret in the form (client_secret_post), not both. The access "
        "token is valid for one hour; send it as `Authorization: Bearer <token>`."
    ),
    security=[],  # the client authenticates itself (Basic or the form), described above
    requestBody={"required": True, "content": {FORM_TYPE: {"schema": TOKEN_REQUEST_SCHEMA}}},
    responses={
        "200": {
            "description": "An access token.",
            "content": {"application/json": {"schema": TOKEN_RESPONSE_SCHEMA}},
        },
        "400": {
            "description": "A malformed request, another grant type, or a scope not allowed "
            "(RFC 6749 §5.2; a request the campus refuses before reading it: problem details).",
            "content": {
                "application/json": {"schema": ERROR_SCHEMA},
                "application/problem+json": {"schema": ProblemDetailsSchema},
            },
        },
        "401": _error_doc("Client authentication failed (invalid_client)."),
        "429": {
            "description": "Too many failed client authentications; see Retry-After.",
            "headers": {"Retry-After": {"schema": {"type": "integer"}}},
            "content": {"application/problem+json": {"schema": ProblemDetailsSchema}},
        },
    },
)
def token() -> Response:
    """Exchange client credentials for an access token."""
    now = utcnow()
    try:
        body = _grant(now)
    except Throttled as throttled:
        db.session.rollback()
        return _throttled(throttled.seconds)
    except OAuthError as error:
        db.session.commit()  # keeps the failure record of invalid_client
        return _error(error)
    db.session.commit()
    return _json(body, 200)
