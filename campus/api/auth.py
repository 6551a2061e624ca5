"""Who is calling the API: the bearer token, the Principal it stands for, and `require(scope)`.

Only `Authorization: Bearer <token>` counts; the session cookie is never read here, so a page
on another site cannot make a logged-in browser call the API (and the API needs no CSRF token).
A personal access token acts as its person with the scopes both the token and the person's
roles allow; a client's access token acts for its organisation (or the whole campus).
"""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from typing import Any
from typing import NoReturn
from typing import TypeVar

from flask import g
from flask import request
from flask_smorest.utils import deepupdate

from campus.api import token_services
from campus.api.core import security
from campus.api.problems import ProblemDetailsSchema
from campus.api.problems import abort_problem
from campus.api.token_models import ACCESS_TOKEN_PREFIX
from campus.api.token_models import BADGES_WRITE
from campus.api.token_models import ORGANISATION_READ
from campus.api.token_models import PAT_PREFIX
from campus.auth.models import Role
from campus.auth.models import User
from campus.clock import utcnow
from campus.extensions import db

REALM = "campus"
_CACHE_KEY = "_api_principal"
MAX_TOKEN_LENGTH = 200

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Principal:
    """The caller: a person (PAT) or an organisation's system (client, `user` None)."""

    user: User | None
    organisation_id: int | None  # None: a campus-wide client
    scopes: frozenset[str]
    client_id: str | None
    token_id: str  # "pat:<id>" or "at:<id>": names the credential (logs), never its secret

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    @property
    def is_campus_wide(self) -> bool:
        """A campus admin, or a client bound to no organisation."""
        if self.user is not None:
            return Role.ADMIN in self.user.roles
        return self.organisation_id is None

    def can_manage_organisation(self, organisation_id: int) -> bool:
        """As the pages: admins any organisation, org admins their own; clients their own."""
        if self.user is not None:
            return self.user.can_manage_organisation(organisation_id)
        return self.organisation_id is None or self.organisation_id == organisation_id

    def can_read_organisation(self, organisation_id: int) -> bool:
        """Organisation progress and aggregates of `organisation_id`."""
        return self.has_scope(ORGANISATION_READ) and self.can_manage_organisation(organisation_id)

    def can_award(self) -> bool:
        """Issue and revoke badges: campus admins (as the pages) and campus-wide clients."""
        return self.has_scope(BADGES_WRITE) and self.is_campus_wide


def bearer_token() -> str | None:
    """The token of `Authorization: Bearer …`, or None when the request has no bearer token."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip()


def principal_for(token: str, now: datetime) -> Principal | None:
    """The Principal of a raw token, or None when it is unknown, revoked or expired."""
    if not token or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        return None
    if token.startswith(PAT_PREFIX):
        pat = token_services.find_pat(token)
        if pat is None or not token_services.pat_usable(pat, now):
            return None
        if token_services.touch(pat, now):
            _save_last_used()
        return Principal(
            user=pat.user,
            organisation_id=pat.user.organisation_id,
            scopes=token_services.pat_scopes(pat),
            client_id=None,
            token_id=f"pat:{pat.id}",
        )
    if token.startswith(ACCESS_TOKEN_PREFIX):
        access = token_services.find_access_token(token)
        if access is None or not token_services.access_token_usable(access, now):
            return None
        client = access.client
        if token_services.touch(client, now):
            _save_last_used()
        return Principal(
            user=None,
            organisation_id=client.organisation_id,
            scopes=frozenset(access.scopes or ()) & token_services.client_scopes(client),
            client_id=client.client_id,
            token_id=f"at:{access.id}",
        )
    return None


def _save_last_used() -> None:
    """`last_used_at` (at most once a minute) is saved at once, before the view runs: a GET
    view does not commit, and nothing else is pending in the session yet."""
    db.session.commit()


def current_principal() -> Principal | None:
    """This request's caller (looked up once per request), or None without a working token."""
    if _CACHE_KEY not in g:
        token = bearer_token()
        setattr(g, _CACHE_KEY, principal_for(token, utcnow()) if token is not None else None)
    return getattr(g, _CACHE_KEY)


def _refuse(status: int, detail: str, challenge: str) -> NoReturn:
    """A problem details response (RFC 9457) with the bearer challenge (RFC 6750 §3)."""
    abort_problem(
        status, detail=detail, headers={"WWW-Authenticate": challenge, "Cache-Control": "no-store"}
    )


def refuse_unauthenticated() -> NoReturn:
    """401: no token (a plain challenge) or one that does not work (`invalid_token`)."""
    if bearer_token() is None:
        _refuse(
            401,
            "This needs an access token: Authorization: Bearer <token>.",
            f'Bearer realm="{REALM}"',
        )
    _refuse(
        401,
        "The access token is unknown, revoked or expired.",
        f'Bearer realm="{REALM}", error="invalid_token", '
        'error_description="The access token is unknown, revoked or expired"',
    )


def refuse_scope(scope: str, detail: str | None = None) -> NoReturn:
    """403 `insufficient_scope`: the token lacks `scope`, or its holder's role does not allow it."""
    _refuse(
        403,
        detail or f"This needs a token with the scope {scope} and a role that allows it.",
        f'Bearer realm="{REALM}", error="insufficient_scope", scope="{scope}"',
    )


def _problem_doc(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": ProblemDetailsSchema}},
    }


def require(scope: str) -> Callable[[F], F]:
    """Let the view run only for a working bearer token with `scope` (401 / 403 otherwise).

    Also documents the operation's security requirement and its 401/403 in the OpenAPI.
    """

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = current_principal()
            if principal is None:
                refuse_unauthenticated()
            elif not principal.has_scope(scope):
                refuse_scope(scope)
            return view(*args, **kwargs)

        apidoc = deepcopy(getattr(wrapper, "_apidoc", {}))
        apidoc["manual_doc"] = deepupdate(
            deepcopy(apidoc.get("manual_doc", {})),
            {
                "security": security(scope),
                "responses": {
                    "401": _problem_doc("No access token, or one that does not work."),
                    "403": _problem_doc(f"The token lacks {scope}, or its holder may not."),
                },
            },
        )
        wrapper._apidoc = apidoc  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator
