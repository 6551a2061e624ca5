"""Logging in with an OpenID Provider (blueprint "sso", /auth/sso): start, callback, linking an
existing account, logout.

Every refusal answers 4xx with a page that says what to do; the reason goes to the log only.
A used-up authorization request stays used up: the view commits that before it answers, since
the error handler would roll it back.
"""

from __future__ import annotations

import hmac
from datetime import datetime

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user

from campus.auth import login as login_service
from campus.auth.forms import ActionForm
from campus.auth.models import User
from campus.auth.sso import client
from campus.auth.sso import services
from campus.auth.sso.errors import SsoError
from campus.auth.sso.logout import LOGOUT_STATE_KEY
from campus.auth.sso.logout import provider_logout_url
from campus.auth.sso.logout import remember_login
from campus.auth.sso.models import OidcProvider
from campus.auth.views import safe_next
from campus.clock import utcnow
from campus.errors import render_error
from campus.extensions import db
from campus.i18n import current_language
from campus.routing import external_url

bp = Blueprint("sso", __name__, url_prefix="/auth/sso")

STATE_KEY = "sso_state"
LINK_KEY = "sso_link"


def _provider(slug: str) -> OidcProvider:
    """An enabled provider, else 404 (an unknown and a switched-off provider look the same)."""
    provider = db.session.execute(
        db.select(OidcProvider).where(OidcProvider.slug == slug[:80])
    ).scalar_one_or_none()
    if provider is None or not provider.is_enabled:
        abort(404, description=_("There is no such login service on this campus."))
    return provider


def _settings() -> client.Settings:
    return client.Settings.from_config(current_app.config)


def refused(error: SsoError, provider: OidcProvider | None = None):  # type: ignore[no-untyped-def]
    """The error page, after keeping what this request used up (attempts, pending links)."""
    db.session.commit()
    where = provider.slug if provider else "-"
    current_app.logger.warning("SSO refused (%s, %s): %s", where, error.status, error.detail)
    return render_error(error.status, error.message)


@bp.get("/<slug>/login")
def login(slug: str):  # type: ignore[no-untyped-def]
    provider = _provider(slug)
    next_url = safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url)
    try:
        document = client.metadata(provider, _settings())
    except SsoError as error:
        return refused(error, provider)
    attempt = services.start_attempt(provider, next_url, utcnow())
    session[STATE_KEY] = attempt.state
    db.session.commit()
    return redirect(
        client.authorization_url(
            provider,
            document,
            external_url("sso.callback", slug=provider.slug),
            attempt.state,
            attempt.nonce,
            attempt.code_verifier,
            current_language(),
        )
    )


@bp.get("/<slug>/callback")
def callback(slug: str):  # type: ignore[no-untyped-def]
    provider = _provider(slug)
    now = utcnow()
    try:
        outcome, id_token, next_url = _finish(provider, now)
    except SsoError as error:
        return refused(error, provider)
    if outcome.pending is not None:
        session[LINK_KEY] = outcome.browser_token
        db.session.commit()
        return redirect(url_for("sso.link"))
    assert outcome.user is not None
    return signed_in(outcome.user, provider, id_token, outcome.newly_verified, next_url, now)


def _finish(provider: OidcProvider, now: datetime) -> tuple[services.LoginOutcome, str, str | None]:
    """The checks of the provider's answer, in order: this browser's state, the recorded
    request (used once), the issuer, the code exchange with PKCE, the ID token, UserInfo."""
    state = request.args.get("state", "")[:200]
    expected = session.pop(STATE_KEY, None)
    if not state or not isinstance(expected, str) or not hmac.compare_digest(state, expected):
        raise SsoError(
            400,
            _("This login was not started in this browser, or it took too long. Start again."),
            "state does not match this browser's",
        )
    attempt = services.take_attempt(provider, state, now)
    db.session.commit()  # used up, whatever happens next
    if "iss" in request.args and request.args["iss"] != provider.issuer:
        raise SsoError(400, _("The answer came from another login service."), "iss mismatch")
    if request.args.get("error"):
        code = request.args["error"][:60]
        status = 403 if code == "access_denied" else 400
        raise SsoError(
            status,
            _("The login at %(name)s did not finish. You can try again.", name=provider.name),
            f"provider error {code}",
        )
    code = request.args.get("code", "")
    if not code or len(code) > 2000:
        raise SsoError(400, _("The login service sent no login."), "no code")
    settings = _settings()
    document = client.metadata(provider, settings)
    redirect_uri = external_url("sso.callback", slug=provider.slug)
    tokens = client.exchange_code(
        provider, document, code, redirect_uri, attempt.code_verifier, settings
    )
    id_token = tokens["id_token"]
    access_token = (
        tokens.get("access_token") if isinstance(tokens.get("access_token"), str) else None
    )
    checked_at = int(utcnow().timestamp())  # after the exchange: its answer may be slow
    claims = client.validate_id_token(
        provider, document, id_token, attempt.nonce, access_token, checked_at, settings
    )
    if access_token:
        extra = client.userinfo(document, access_token, claims["sub"], settings)
        claims = {**extra, **claims}
    outcome = services.complete_login(provider, claims, id_token, attempt.next_url, now)
    return outcome, id_token, attempt.next_url


def signed_in(
    user: User,
    provider: OidcProvider,
    id_token: str,
    newly_verified: bool,
    next_url: str | None,
    now: datetime,
):  # type: ignore[no-untyped-def]
    """Start the campus session (remembering the provider for logout), issue the badges that
    waited for a now verified address, commit, and go on."""
    login_service.sign_in(user)
    remember_login(user, provider, id_token)
    if newly_verified:
        from campus.badges.claims import issue_waiting_badges
        from campus.badges.issuers import IssuingContext

        issue_waiting_badges(user, IssuingContext.from_config(current_app.config), now)
    db.session.commit()
    return redirect(safe_next(next_url))


@bp.post("/logout")
def logout():  # type: ignore[no-untyped-def]
    """End the campus session, then the provider's where it offers RP-initiated logout."""
    if not ActionForm().validate_on_submit():
        abort(400)
    return logout_response(provider_logout_url())


def logout_response(provider_logout: str | None):  # type: ignore[no-untyped-def]
    """After `provider_logout_url()`: end the campus login, then send the browser on to the
    provider's logout. A page does that, not a redirect: the logout form's `form-action 'self'`
    policy would block a redirect from its POST to another site."""
    login_service.sign_out()
    db.session.commit()
    if provider_logout:
        return render_template("auth/sso/logout.html", target=provider_logout)
    flash(_("You have logged out."), "info")
    return redirect(url_for("paths.catalogue"))


@bp.get("/logged-out")
def logged_out():  # type: ignore[no-untyped-def]
    """Where providers send the browser back after their logout."""
    session.pop(LOGOUT_STATE_KEY, None)
    flash(_("You have logged out."), "info")
    return redirect(url_for("paths.catalogue"))
