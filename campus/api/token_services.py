"""Making, finding and revoking API credentials; who may hold which scope.

The rules mirror the pages: everyone reads their own progress and their network; org admins
read their organisation; only campus admins read and award badges (the badge pages are theirs).
A client never acts as a person (no `profile:read`), and only a campus-wide client may read or
award badges, so an organisation's client cannot see or touch other organisations' people.

Services flush and never commit; the view or command commits.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime
from datetime import timedelta
from typing import Any

from campus.api.token_models import ACCESS_TOKEN_PREFIX
from campus.api.token_models import BADGES_READ
from campus.api.token_models import BADGES_WRITE
from campus.api.token_models import CLIENT_ID_PREFIX
from campus.api.token_models import CLIENT_SECRET_PREFIX
from campus.api.token_models import NETWORK_READ
from campus.api.token_models import ORGANISATION_READ
from campus.api.token_models import PAT_PREFIX
from campus.api.token_models import PROFILE_READ
from campus.api.token_models import SCOPES
from campus.api.token_models import ApiAccessToken
from campus.api.token_models import ApiClient
from campus.api.token_models import PersonalAccessToken
from campus.api.token_models import secret_hash
from campus.auth.data_export import exports
from campus.auth.data_export import time_text
from campus.auth.deletion import Erasure
from campus.auth.deletion import erases
from campus.auth.models import Role
from campus.auth.models import User
from campus.clock import aware
from campus.clock import aware_or_none
from campus.extensions import db

ACCESS_TOKEN_LIFETIME = timedelta(hours=1)
# last_used_at is written at most this often: not one write per API request.
LAST_USED_PRECISION = timedelta(minutes=1)
EXPIRY_DAYS = (30, 90, 365)  # the choices offered; None (never) too
MAX_NAME_LENGTH = 100


class TokenError(ValueError):
    """A request for a credential that cannot be granted; `code` says why (the pages translate):
    "name", "expiry", "no_scopes", "scopes" (not allowed for this person or client)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def new_secret(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def normalise_scopes(scopes: Iterable[str]) -> list[str]:
    """Known scopes only, in the canonical order, each once."""
    wanted = set(scopes)
    return [scope for scope in SCOPES if scope in wanted]


def user_allowed_scopes(user: User) -> frozenset[str]:
    """The scopes `user`'s roles allow (a token never gives more than its person may do)."""
    if user.deleted_at is not None or not user.is_active_account:
        return frozenset()
    allowed = {PROFILE_READ, NETWORK_READ}
    if user.has_role(Role.ORG_ADMIN):
        allowed.add(ORGANISATION_READ)
    if Role.ADMIN in user.roles:
        allowed |= {BADGES_READ, BADGES_WRITE}
    return frozenset(allowed)


def client_allowed_scopes(organisation_id: int | None) -> frozenset[str]:
    """Organisation clients read their organisation and network; badges need a campus client."""
    allowed = {ORGANISATION_READ, NETWORK_READ}
    if organisation_id is None:
        allowed |= {BADGES_READ, BADGES_WRITE}
    return frozenset(allowed)


def is_expired(expires_at: datetime | None, now: datetime) -> bool:
    moment = aware_or_none(expires_at)
    return moment is not None and moment <= now


def _expiry(days: int | None, now: datetime) -> datetime | None:
    if days is None:
        return None
    if days not in EXPIRY_DAYS:
        raise TokenError("expiry")
    return now + timedelta(days=days)


def _checked_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise TokenError("name")
    return name


def _checked_scopes(scopes: Iterable[str], allowed: frozenset[str]) -> list[str]:
    chosen = list(scopes)
    if not chosen:
        raise TokenError("no_scopes")
    if not set(chosen) <= allowed:
        raise TokenError("scopes")
    return normalise_scopes(chosen)


# --- personal access tokens -------------------------------------------------------------------


def create_pat(
    user: User, name: str, scopes: Iterable[str], expires_in_days: int | None, now: datetime
) -> tuple[PersonalAccessToken, str]:
    """A new token for `user` and its secret (shown once: only the hash is kept)."""
    secret = new_secret(PAT_PREFIX)
    token = PersonalAccessToken(
        user_id=user.id,
        name=_checked_name(name),
        token_hash=secret_hash(secret),
        scopes=_checked_scopes(scopes, user_allowed_scopes(user)),
        created_at=now,
        expires_at=_expiry(expires_in_days, now),
    )
    db.session.add(token)
    db.session.flush()
    return token, secret


def list_pats(user: User) -> list[PersonalAccessToken]:
    """The person's tokens that are not revoked, newest first (expired ones too, marked)."""
    return list(
        db.session.execute(
            db.select(PersonalAccessToken)
            .where(PersonalAccessToken.user_id == user.id, PersonalAccessToken.revoked_at.is_(None))
            .order_by(PersonalAccessToken.created_at.desc(), PersonalAccessToken.id.desc())
        ).scalars()
    )


def own_pat(user: User, token_id: int) -> PersonalAccessToken | None:
    """`user`'s token with this id (None for anyone else's: the caller answers 404)."""
    return db.session.execute(
        db.select(PersonalAccessToken).where(
            PersonalAccessToken.id == token_id,
            PersonalAccessToken.user_id == user.id,
            PersonalAccessToken.revoked_at.is_(None),
        )
    ).scalar_one_or_none()


def revoke_pat(token: PersonalAccessToken, now: datetime) -> None:
    token.revoked_at = now


def revoke_all_pats(user: User, now: datetime) -> int:
    """Revoke every working token of `user`; how many."""
    tokens = list_pats(user)
    for token in tokens:
        token.revoked_at = now
    return len(tokens)


def find_pat(secret: str) -> PersonalAccessToken | None:
    return db.session.execute(
        db.select(PersonalAccessToken).where(PersonalAccessToken.token_hash == secret_hash(secret))
    ).scalar_one_or_none()


def pat_usable(token: PersonalAccessToken, now: datetime) -> bool:
    user = token.user
    return (
        token.revoked_at is None
        and not is_expired(token.expires_at, now)
        and user.deleted_at is None
        and user.is_active_account
    )


def pat_scopes(token: PersonalAccessToken) -> frozenset[str]:
    """The token's scopes that its person's roles still allow (roles may have changed)."""
    return frozenset(token.scopes or ()) & user_allowed_scopes(token.user)


# --- clients and access tokens ----------------------------------------------------------------


def create_client(
    name: str,
    organisation_id: int | None,
    scopes: Iterable[str],
    created_by: User | None,
    expires_in_days: int | None,
    now: datetime,
) -> tuple[ApiClient, str]:
    """A new client and its secret (shown once)."""
    secret = new_secret(CLIENT_SECRET_PREFIX)
    client = ApiClient(
        client_id=CLIENT_ID_PREFIX + secrets.token_urlsafe(12),
        name=_checked_name(name),
        secret_hash=secret_hash(secret),
        organisation_id=organisation_id,
        scopes=_checked_scopes(scopes, client_allowed_scopes(organisation_id)),
        created_by=created_by.id if created_by else None,
        created_at=now,
        expires_at=_expiry(expires_in_days, now),
    )
    db.session.add(client)
    db.session.flush()
    return client, secret


def list_clients() -> list[ApiClient]:
    return list(
        db.session.execute(
            db.select(ApiClient).order_by(ApiClient.revoked_at.is_not(None), ApiClient.name)
        ).scalars()
    )


def find_client(client_id: str) -> ApiClient | None:
    if not client_id or len(client_id) > 64:
        return None
    return db.session.execute(
        db.select(ApiClient).where(ApiClient.client_id == client_id)
    ).scalar_one_or_none()


def revoke_client(client: ApiClient, now: datetime) -> None:
    """The client's secret and every access token it holds stop working at once."""
    client.revoked_at = now
    db.session.execute(db.delete(ApiAccessToken).where(ApiAccessToken.client_pk == client.id))


def client_usable(client: ApiClient, now: datetime) -> bool:
    return client.revoked_at is None and not is_expired(client.expires_at, now)


def client_secret_matches(client: ApiClient, secret: str) -> bool:
    return secrets.compare_digest(client.secret_hash, secret_hash(secret))


def client_scopes(client: ApiClient) -> frozenset[str]:
    return frozenset(client.scopes or ()) & client_allowed_scopes(client.organisation_id)


def issue_access_token(
    client: ApiClient, requested: list[str] | None, now: datetime
) -> tuple[ApiAccessToken, str]:
    """An access token for `client` with `requested` scopes (None: all of the client's).

    Raises TokenError when a requested scope is not the client's (`invalid_scope`).
    Expired tokens of the client go, so the table holds about one hour of tokens.
    """
    held = client_scopes(client)
    scopes = held if requested is None else frozenset(requested)
    if not scopes or not scopes <= held:
        raise TokenError("scopes")
    db.session.execute(
        db.delete(ApiAccessToken).where(
            ApiAccessToken.client_pk == client.id, ApiAccessToken.expires_at < now
        )
    )
    secret = new_secret(ACCESS_TOKEN_PREFIX)
    token = ApiAccessToken(
        client_pk=client.id,
        token_hash=secret_hash(secret),
        scopes=normalise_scopes(scopes),
        created_at=now,
        expires_at=now + ACCESS_TOKEN_LIFETIME,
    )
    db.session.add(token)
    touch(client, now)
    db.session.flush()
    return token, secret


def find_access_token(secret: str) -> ApiAccessToken | None:
    return db.session.execute(
        db.select(ApiAccessToken).where(ApiAccessToken.token_hash == secret_hash(secret))
    ).scalar_one_or_none()


def access_token_usable(token: ApiAccessToken, now: datetime) -> bool:
    return aware(token.expires_at) > now and client_usable(token.client, now)


def touch(row: PersonalAccessToken | ApiClient, now: datetime) -> bool:
    """Record a use, at most once a minute; whether anything changed (then commit)."""
    last = aware_or_none(row.last_used_at)
    if last is not None and now - last < LAST_USED_PRECISION:
        return False
    row.last_used_at = now
    return True


# --- data rights ------------------------------------------------------------------------------


@erases("api tokens")
def _erase_tokens(erasure: Erasure) -> None:
    """A deleted account's tokens go (the cascade would only act if the row itself went)."""
    db.session.execute(
        db.delete(PersonalAccessToken)
        .where(PersonalAccessToken.user_id == erasure.user.id)
        .execution_options(synchronize_session=False)
    )


@exports("api_tokens")
def _export_tokens(user: User) -> list[dict[str, Any]]:
    """The person's tokens: names, scopes and dates (never a secret or its hash)."""
    rows = db.session.execute(
        db.select(PersonalAccessToken)
        .where(PersonalAccessToken.user_id == user.id)
        .order_by(PersonalAccessToken.id)
    ).scalars()
    return [
        {
            "name": row.name,
            "scopes": list(row.scopes or ()),
            "created": time_text(row.created_at),
            "last_used": time_text(row.last_used_at),
            "expires": time_text(row.expires_at),
            "revoked": time_text(row.revoked_at),
        }
        for row in rows
    ]
