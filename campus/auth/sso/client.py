"""The relying-party side of OpenID Connect: discovery, the authorization request (code flow with
PKCE S256, state, nonce), the token exchange and the ID token checks (Authlib and joserfc).

Everything the campus fetches from a provider goes through `campus.outbound.GuardedSession`
(no private addresses unless SSO_ALLOW_PRIVATE_ADDRESSES, timeouts, size cap, no redirects).
Provider addresses must be https; plain http only on loopback or in tests.
Discovery documents and key sets are cached per process; an unknown `kid` refetches the keys
(a provider rotated them), at most once per JWKS_MIN_REFRESH.
"""

from __future__ import annotations

import ipaddress
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc6749.parameters import prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from flask_babel import gettext as _
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from campus.auth.sso.errors import SsoError
from campus.auth.sso.models import OidcProvider
from campus.outbound import GuardedSession
from campus.outbound import OutboundError
from campus.outbound import OutboundPolicy
from campus.outbound import fetch_json
from campus.outbound import loggable

METADATA_TTL = 3600.0
JWKS_TTL = 3600.0
JWKS_MIN_REFRESH = 10.0
# Asymmetric algorithms only: "none" and HMAC (keyed with the client secret) are never accepted.
SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")
DEFAULT_LEEWAY = 60

_metadata_cache: dict[str, tuple[float, dict[str, Any]]] = {}
_jwks_cache: dict[str, tuple[float, dict[str, Any]]] = {}


@dataclass(frozen=True)
class Settings:
    """What the client needs from the app config (so that this module needs no app)."""

    policy: OutboundPolicy
    allow_http: bool
    leeway: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        allow_private = bool(config.get("SSO_ALLOW_PRIVATE_ADDRESSES", False))
        return cls(
            policy=OutboundPolicy(allow_private=allow_private),
            allow_http=bool(config.get("TESTING", False)),
            leeway=int(config.get("SSO_CLOCK_LEEWAY", DEFAULT_LEEWAY)),
        )


def _unavailable(detail: str) -> SsoError:
    return SsoError(
        502, _("The login service cannot be reached now. Please try again later."), detail
    )


def _refused(detail: str) -> SsoError:
    return SsoError(
        401, _("The login service's answer could not be accepted. Please try again."), detail
    )


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def address_problem(url: str, allow_http: bool) -> str | None:
    """Why `url` cannot be a provider address (None: it can)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError:
        return _("This is not a usable address.")
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.query or parts.fragment:
        return _("Give an https address without query or fragment.")
    if parts.scheme == "http" and not (allow_http or is_loopback(parts.hostname)):
        return _("The address must start with https:// (plain http only on this machine).")
    return None


def discovery_url(provider: OidcProvider) -> str:
    return provider.discovery_url or (
        provider.issuer.rstrip("/") + "/.well-known/openid-configuration"
    )


def metadata(provider: OidcProvider, settings: Settings, fresh: bool = False) -> dict[str, Any]:
    """The provider's discovery document, checked: its issuer is exactly the configured one and
    its endpoints are usable addresses."""
    url = discovery_url(provider)
    key = f"{provider.issuer}\n{url}"
    cached = _metadata_cache.get(key)
    if cached and not fresh and time.monotonic() - cached[0] < METADATA_TTL:
        return cached[1]
    try:
        document = fetch_json("GET", url, settings.policy)
    except OutboundError as error:
        raise _unavailable(f"discovery {loggable(url)}: {error}") from error
    if not isinstance(document, dict) or document.get("issuer") != provider.issuer:
        raise _unavailable(f"discovery {loggable(url)} names another issuer")
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        value = document.get(name)
        if not isinstance(value, str) or address_problem(value, settings.allow_http):
            raise _unavailable(f"discovery {loggable(url)}: unusable {name}")
    for name in ("userinfo_endpoint", "end_session_endpoint"):
        value = document.get(name)
        if value is not None and (
            not isinstance(value, str) or address_problem(value, settings.allow_http)
        ):
            document.pop(name)
    _metadata_cache[key] = (time.monotonic(), document)
    return document


def authorization_url(
    provider: OidcProvider,
    document: Mapping[str, Any],
    redirect_uri: str,
    state: str,
    nonce: str,
    code_verifier: str,
    locale: str | None = None,
) -> str:
    extra: dict[str, str] = {
        "nonce": nonce,
        "code_challenge": create_s256_code_challenge(code_verifier),
        "code_challenge_method": "S256",
    }
    if locale:
        extra["ui_locales"] = locale
    return prepare_grant_uri(
        document["authorization_endpoint"],
        client_id=provider.client_id,
        response_type="code",
        redirect_uri=redirect_uri,
        scope=provider.scopes,
        state=state,
        **extra,
    )


def _auth_method(document: Mapping[str, Any]) -> str:
    supported = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    if "client_secret_basic" in supported:
        return "client_secret_basic"
    return "client_secret_post"


def exchange_code(
    provider: OidcProvider,
    document: Mapping[str, Any],
    code: str,
    redirect_uri: str,
    code_verifier: str,
    settings: Settings,
) -> dict[str, Any]:
    """The token response for `code` (with the PKCE verifier); SsoError if refused."""
    url = document["token_endpoint"]
    body = prepare_token_request(
        "authorization_code", code=code, redirect_uri=redirect_uri, code_verifier=code_verifier
    )
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "application/json",
    }
    auth = ClientAuth(provider.client_id, provider.client_secret, _auth_method(document))
    url, headers, body = auth.prepare("POST", url, headers, body)
    try:
        with GuardedSession(settings.policy) as session:
            response = session.request("POST", url, data=body, headers=headers)
    except (OutboundError, requests.RequestException) as error:
        raise _unavailable(f"token {loggable(url)}: {type(error).__name__}: {error}") from error
    try:
        answer = json.loads(response.content)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise _unavailable(f"token {loggable(url)}: HTTP {response.status_code}, not JSON")
    if response.status_code != 200 or "error" in answer:
        error_code = str(answer.get("error", ""))[:60]
        raise SsoError(
            400,
            _("The login service did not accept this login. Please start again."),
            f"token {loggable(url)}: HTTP {response.status_code} {error_code}",
        )
    if not isinstance(answer.get("id_token"), str):
        raise _refused(f"token {loggable(url)}: no id_token")
    return answer


def _jwks(url: str, settings: Settings, fresh: bool) -> dict[str, Any]:
    cached = _jwks_cache.get(url)
    if cached:
        age = time.monotonic() - cached[0]
        if (not fresh and age < JWKS_TTL) or (fresh and age < JWKS_MIN_REFRESH):
            return cached[1]
    try:
        document = fetch_json("GET", url, settings.policy)
    except OutboundError as error:
        raise _unavailable(f"jwks {loggable(url)}: {error}") from error
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise _unavailable(f"jwks {loggable(url)}: not a key set")
    _jwks_cache[url] = (time.monotonic(), document)
    return document


def _key_set(document: Mapping[str, Any]) -> KeySet:
    """The signing keys of a JWKS (encryption keys and unreadable entries are left out)."""
    keys = [
        key
        for key in document.get("keys", [])
        if isinstance(key, dict) and key.get("use", "sig") == "sig" and key.get("kty") != "oct"
    ]
    if not keys:
        return KeySet([])
    try:
        return KeySet.import_key_set({"keys": keys})
    except (JoseError, ValueError, TypeError) as error:
        raise _unavailable(f"jwks: {error}") from error


def validate_id_token(
    provider: OidcProvider,
    document: Mapping[str, Any],
    id_token: str,
    nonce: str,
    access_token: str | None,
    now: int,
    settings: Settings,
) -> dict[str, Any]:
    """The ID token's claims after the checks of OpenID Connect Core 3.1.3.7: signature by the
    provider's JWKS (asymmetric only), iss, aud, azp, exp, iat, nonce, at_hash."""
    offered = document.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = [alg for alg in offered if alg in SIGNING_ALGORITHMS] or ["RS256"]
    registry = JWSRegistry(algorithms=algorithms, strict_check_header=False)
    jwks_uri = document["jwks_uri"]
    try:
        try:
            keys = _key_set(_jwks(jwks_uri, settings, False))
            token = jwt.decode(id_token, keys, registry=registry)
        except (InvalidKeyIdError, ValueError):  # a key we have not seen: rotated keys
            keys = _key_set(_jwks(jwks_uri, settings, True))
            token = jwt.decode(id_token, keys, registry=registry)
    except (JoseError, ValueError) as error:
        raise _refused(f"id_token signature: {type(error).__name__}") from error
    options = {
        "iss": {"essential": True, "value": provider.issuer},
        "aud": {"essential": True, "value": provider.client_id},
        "sub": {"essential": True},
        "nonce": {"essential": True},
    }
    params = {"nonce": nonce, "client_id": provider.client_id}
    if access_token:
        params["access_token"] = access_token
    claims = CodeIDToken(token.claims, token.header, options, params)  # type: ignore[arg-type]
    try:
        claims.validate(now=now, leeway=settings.leeway)
    except JoseError as error:
        raise _refused(f"id_token claims: {type(error).__name__} {error}") from error
    return dict(claims)


def userinfo(
    document: Mapping[str, Any], access_token: str, subject: str, settings: Settings
) -> dict[str, Any]:
    """The UserInfo claims (empty when the provider has no endpoint); its `sub` must be the
    ID token's (OpenID Connect Core 5.3.4)."""
    url = document.get("userinfo_endpoint")
    if not url:
        return {}
    try:
        answer = fetch_json(
            "GET", url, settings.policy, headers={"Authorization": f"Bearer {access_token}"}
        )
    except OutboundError as error:
        raise _unavailable(f"userinfo {loggable(url)}: {error}") from error
    if not isinstance(answer, dict) or answer.get("sub") != subject:
        raise _refused(f"userinfo {loggable(url)}: another subject")
    return answer


def logout_url(
    document: Mapping[str, Any],
    provider: OidcProvider,
    id_token: str | None,
    post_logout_redirect_uri: str,
    state: str,
) -> str | None:
    """RP-initiated logout at the provider, or None if it offers none."""
    endpoint = document.get("end_session_endpoint")
    if not endpoint:
        return None
    params = [
        ("client_id", provider.client_id),
        ("post_logout_redirect_uri", post_logout_redirect_uri),
        ("state", state),
    ]
    if id_token:
        params.insert(0, ("id_token_hint", id_token))
    return add_params_to_uri(endpoint, params)


def forget_cached() -> None:
    """Drop cached discovery documents and key sets (tests; a provider changed its set-up)."""
    _metadata_cache.clear()
    _jwks_cache.clear()
