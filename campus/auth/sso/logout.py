"""Logins that came through a provider, and ending them there too (RP-initiated logout).

The campus session always ends first (campus.auth.login.sign_out); the provider's logout page
is only where the browser goes next, so a provider that is down cannot keep anyone logged in.
"""

from __future__ import annotations

import secrets

from flask import current_app
from flask import session
from flask_login import current_user

from campus.auth.models import LoginSession
from campus.auth.models import User
from campus.auth.models import login_token_hash
from campus.auth.sso import client
from campus.auth.sso.errors import SsoError
from campus.auth.sso.models import OidcLoginSession
from campus.auth.sso.models import OidcProvider
from campus.extensions import db
from campus.routing import external_url

LOGOUT_STATE_KEY = "sso_logout_state"


def remember_login(user: User, provider: OidcProvider, id_token: str) -> None:
    """After sign_in: this login came through `provider` (its ID token is the logout hint).

    Rows of this person's ended logins go at the same time (SQLite keeps no cascades).
    """
    if not user.login_token:
        return
    ended = db.select(LoginSession.token_hash)
    db.session.execute(
        db.delete(OidcLoginSession).where(
            OidcLoginSession.user_id == user.id, OidcLoginSession.token_hash.not_in(ended)
        )
    )
    db.session.add(
        OidcLoginSession(
            token_hash=login_token_hash(user.login_token),
            user_id=user.id,
            provider_id=provider.id,
            id_token=id_token,
        )
    )


def provider_logout_url() -> str | None:
    """Call before sign_out: the provider's logout address for this browser's login (None when
    it did not come through a provider, or the provider offers no logout). Forgets the login."""
    if not current_user.is_authenticated or not current_user.login_token:
        return None
    record = db.session.get(OidcLoginSession, login_token_hash(current_user.login_token))
    if record is None:
        return None
    provider = db.session.get(OidcProvider, record.provider_id)
    id_token = record.id_token
    db.session.delete(record)
    if provider is None or not provider.is_enabled:
        return None
    settings = client.Settings.from_config(current_app.config)
    try:
        document = client.metadata(provider, settings)
    except SsoError as error:
        current_app.logger.warning("SSO logout at %s skipped: %s", provider.slug, error.detail)
        return None
    state = secrets.token_urlsafe(16)
    url = client.logout_url(document, provider, id_token, external_url("sso.logged_out"), state)
    if url:
        session[LOGOUT_STATE_KEY] = state
    return url
