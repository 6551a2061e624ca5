"""API wiring: the flask-smorest Api, problem details, rate limits and the security schemes.

Every operation documents its errors as problem details (the `default` response and the
status-specific ones flask-smorest adds), so a fuzzer finds each response in the document.
"""

from __future__ import annotations

import threading
from http import HTTPStatus
from typing import Any

from flask import Flask
from flask import Response
from flask import current_app
from flask import g
from flask import request
from flask_smorest import Api
from flask_smorest import Blueprint
from flask_smorest.utils import prepare_response
from werkzeug.exceptions import HTTPException

from campus.api import problems
from campus.api import ratelimit
from campus.api.problems import PROBLEM_JSON
from campus.api.problems import ProblemDetailsSchema
from campus.clock import utcnow

# What each scope of campus.api.token_models.SCOPES gives (the document lists them).
SCOPE_DESCRIPTIONS = {
    "profile:read": "Your own progress and badges (personal access tokens only)",
    "organisation:read": "An organisation's progress and assessment aggregates",
    "badges:read": "Badge classes and assertions",
    "badges:write": "Issue and revoke badges",
    "network:read": "Network groups, roadmaps and annual clocks",
}
BEARER = "bearerAuth"
OAUTH = "oauth2"

DESCRIPTION = """\
The Campus JSON API: the public catalogue, your own progress and badges, organisations'
progress, badges and network data.

* Authenticate with `Authorization: Bearer <token>`: a personal access token (Account → API
  tokens) or an access token from `POST /api/v1/oauth/token` (OAuth 2.0 client credentials).
  The public catalogue needs no token.
* Errors are RFC 9457 problem details (`application/problem+json`).
* Lists take `page` and `per_page` (at most 100) and answer with `Link` and `X-Total-Count`.
* Catalogue resources carry a strong `ETag`; send `If-None-Match` to get `304 Not Modified`.
* Rate limits: answers carry `RateLimit` and `RateLimit-Policy`; over the limit you get `429`
  with `Retry-After` (seconds).
"""


_DOCUMENTING = threading.Lock()


class CampusApi(Api):
    """flask-smorest's Api with problem details for errors, in the code and in the document."""

    ERROR_SCHEMA = ProblemDetailsSchema

    def _register_responses(self) -> None:
        for status in HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            content_type = self.DEFAULT_RESPONSE_CONTENT_TYPE
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
                content_type = PROBLEM_JSON
            prepare_response(response, self.spec, content_type)
            self.spec.components.response(status.name, response, lazy=True)
        default = {"description": "Problem details (RFC 9457)", "schema": self.ERROR_SCHEMA}
        prepare_response(default, self.spec, PROBLEM_JSON)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, default, lazy=True)

    def handle_http_exception(self, error: HTTPException) -> Response:  # type: ignore[override]
        return problems.from_exception(error)

    def register_blueprint(self, blp, *, parameters=None, **options):  # type: ignore[no-untyped-def]
        """The routes now, their documentation when the document is first asked for: documenting
        every operation cost 87 ms in each app, and the test suite builds an app per test."""
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)
        self.__dict__.setdefault("_undocumented", []).append((blp, name, parameters))

    def documented(self):  # type: ignore[no-untyped-def]
        """The OpenAPI document with every registered blueprint in it."""
        with _DOCUMENTING:
            waiting = self.__dict__.get("_undocumented", [])
            while waiting:
                blp, name, parameters = waiting.pop(0)
                blp.register_views_in_doc(
                    self, self._app, self.spec, name=name, parameters=parameters
                )
                self.spec.tag({"name": name, "description": blp.description})
        return self.spec

    def _openapi_json(self) -> Response:
        self.documented()
        return super()._openapi_json()


def security(*scopes: str) -> list[dict[str, list[str]]]:
    """An operation's security requirement for `@blp.doc(security=security("badges:read"))`:
    a personal access token or an OAuth client token with these scopes."""
    if "profile:read" in scopes:  # a person's own data: never an OAuth client's
        return [{BEARER: list(scopes)}]
    return [{BEARER: list(scopes)}, {OAUTH: list(scopes)}]


def init_app(app: Flask, blueprints: list[Blueprint]) -> None:
    from campus.api import docs
    from campus.api import ratelimit_models  # noqa: F401  (the counter table)
    from campus.extensions import csrf

    for key, value in ratelimit.DEFAULTS.items():
        app.config.setdefault(key, value)
    app.config.setdefault("API_TITLE", "Campus API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api/v1")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("API_SPEC_OPTIONS", {"info": {"description": DESCRIPTION}})
    api = CampusApi(app)
    app.extensions["campus.api"] = api
    _security_schemes(api, app.config.get("BASE_URL", ""))
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
        csrf.exempt(blueprint)
    app.register_blueprint(docs.bp)
    app.before_request(_limit_rate)
    app.after_request(_rate_headers)


def _security_schemes(api: Api, base_url: str) -> None:
    api.spec.components.security_scheme(
        BEARER,
        {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal access token (cmp_pat_…) or an OAuth access token",
        },
    )
    from campus.api.token_models import SCOPES

    scopes = {scope: SCOPE_DESCRIPTIONS.get(scope, scope) for scope in SCOPES}
    token_url = f"{base_url.rstrip('/')}/api/v1/oauth/token" if base_url else "/api/v1/oauth/token"
    api.spec.components.security_scheme(
        OAUTH,
        {
            "type": "oauth2",
            "description": "Client credentials for institutional systems (RFC 6749 §4.4)",
            "flows": {"clientCredentials": {"tokenUrl": token_url, "scopes": scopes}},
        },
    )


def _limit_rate() -> Response | None:
    """Count the request against its caller's window; 429 past the limit."""
    if not problems.is_api_request():
        return None
    config = current_app.config
    key, limit = _caller_key(config)
    state = ratelimit.hit(key, limit, int(config["API_RATE_LIMIT_WINDOW"]), utcnow())
    if state is None:
        return None
    g.api_rate_state = state
    if state.allowed:
        return None
    return problems.problem(
        429,
        detail=f"Too many requests: at most {state.limit} in {state.window} seconds. "
        f"Try again in {state.reset} seconds.",
        headers=state.headers(),
    )


def _caller_key(config: Any) -> tuple[str, int]:
    """The caller's counter: its OAuth client or token when it has a valid one, else its
    address (behind TRUSTED_PROXIES, ProxyFix has set remote_addr)."""
    principal = _principal()
    if principal is not None:
        limit = int(config["API_RATE_LIMIT_AUTHENTICATED"])
        client_id = getattr(principal, "client_id", None)
        if client_id:
            return f"client:{client_id}", limit
        return f"token:{principal.token_id}", limit
    return f"addr:{request.remote_addr or '-'}", int(config["API_RATE_LIMIT_ANONYMOUS"])


def _principal() -> Any:
    try:
        from campus.api.auth import current_principal
    except ImportError:  # the token layer is optional for the limiter
        return None
    return current_principal()


def _rate_headers(response: Response) -> Response:
    state = g.get("api_rate_state")
    if state is not None and problems.is_api_request():
        for name, value in state.headers().items():
            response.headers.setdefault(name, value)
    return response
