"""Who a provider's login is on the campus: the rules between validated claims and accounts.

- An identity is (issuer, sub). The first login makes an account for it; later logins find
  that account again, whatever the e-mail says then.
- An address that already has an account is never joined to it by matching: the identity waits
  (OidcPendingLink) until that account's password is given or a link mailed to the address is
  opened in the same browser (campus.auth.sso.linking).
- The provider's mapping decides the name, e-mail, organisation and roles; only listed claim
  values move anyone to an organisation or give a role, and never the admin role.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from typing import Any

from flask_babel import gettext as _

from campus.auth.models import Organisation
from campus.auth.models import Role
from campus.auth.models import User
from campus.auth.services import find_user_by_email
from campus.auth.services import new_user
from campus.auth.services import normalise_email
from campus.auth.services import set_roles
from campus.auth.sso.errors import SsoError
from campus.auth.sso.models import OidcIdentity
from campus.auth.sso.models import OidcLoginAttempt
from campus.auth.sso.models import OidcPendingLink
from campus.auth.sso.models import OidcProvider
from campus.clock import aware
from campus.extensions import db

# Not a werkzeug hash: no password ever matches it (campus.auth.deletion.has_password).
SSO_PASSWORD_HASH = "!sso"
NO_EMAIL_DOMAIN = "sso.invalid"
ATTEMPT_MAX_AGE = timedelta(minutes=10)
LINK_MAX_AGE = timedelta(minutes=30)
# Roles a provider may give; admin is given on the campus only.
MAPPABLE_ROLES = tuple(role for role in Role if role not in (Role.ADMIN, Role.LEARNER))


def token_hash(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _values(claim: Any) -> list[str]:
    """A claim as a list of strings (one value or a list of them; anything else: none)."""
    if isinstance(claim, str):
        return [claim]
    if isinstance(claim, list):
        return [value for value in claim if isinstance(value, str)]
    return []


@dataclass(frozen=True)
class Profile:
    """What the claims say about the person, read through the provider's mapping."""

    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    name: str
    organisation_values: tuple[str, ...]
    role_values: tuple[str, ...]

    @property
    def domain(self) -> str | None:
        return self.email.rsplit("@", 1)[1] if self.email and "@" in self.email else None


def profile_from_claims(provider: OidcProvider, claims: dict[str, Any]) -> Profile:
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > 255:
        raise SsoError(401, _("The login service did not say who you are."), "no usable sub")
    raw_email = claims.get(provider.email_claim or "email")
    email = normalise_email(raw_email) if isinstance(raw_email, str) else ""
    if not email or len(email) > 254 or email.count("@") != 1 or email.startswith("@"):
        email = ""
    verified_claim = claims.get("email_verified")
    verified = bool(email) and (
        provider.trust_email_verified or verified_claim is True or verified_claim == "true"
    )
    name = claims.get(provider.name_claim or "name")
    if not isinstance(name, str) or not name.strip():
        parts = [claims.get("given_name"), claims.get("family_name")]
        name = " ".join(part for part in parts if isinstance(part, str) and part.strip())
    name = (name or (email.split("@")[0] if email else "")).strip()[:200] or _("SSO user")
    return Profile(
        issuer=provider.issuer,
        subject=subject,
        email=email or None,
        email_verified=verified,
        name=name,
        organisation_values=tuple(
            _values(claims.get(provider.organisation_claim)) if provider.organisation_claim else ()
        ),
        role_values=tuple(
            _values(claims.get(provider.roles_claim)) if provider.roles_claim else ()
        ),
    )


def check_domain(provider: OidcProvider, profile: Profile) -> None:
    """403 unless the address is in one of the provider's allowed domains (when it lists any)."""
    allowed = {domain.lower() for domain in provider.allowed_domains or []}
    if allowed and (profile.domain is None or profile.domain not in allowed):
        raise SsoError(
            403,
            _("Your e-mail address is not one that may log in with %(name)s.", name=provider.name),
            f"domain {profile.domain!r} not allowed for provider {provider.slug}",
        )


# --- authorization requests under way ---------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    state: str
    nonce: str
    code_verifier: str


def start_attempt(provider: OidcProvider, next_url: str | None, now: datetime) -> Attempt:
    """Record a new authorization request (and forget ones older than ATTEMPT_MAX_AGE)."""
    db.session.execute(
        db.delete(OidcLoginAttempt).where(OidcLoginAttempt.created_at < now - ATTEMPT_MAX_AGE)
    )
    attempt = Attempt(
        secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(64)
    )
    db.session.add(
        OidcLoginAttempt(
            state_hash=token_hash(attempt.state),
            provider_id=provider.id,
            nonce=attempt.nonce,
            code_verifier=attempt.code_verifier,
            next_url=next_url,
            created_at=now,
        )
    )
    return attempt


def take_attempt(provider: OidcProvider, state: str, now: datetime) -> OidcLoginAttempt:
    """The request this answer belongs to, used up; SsoError 400 if there is none (any more)."""
    row = db.session.get(OidcLoginAttempt, token_hash(state)) if state else None
    if row is not None:
        db.session.delete(row)
        db.session.flush()
    if (
        row is None
        or row.provider_id != provider.id
        or aware(row.created_at) < now - ATTEMPT_MAX_AGE
    ):
        raise SsoError(
            400,
            _("This login was not started here, or it took too long. Please start again."),
            "unknown, used or expired state",
        )
    return row


# --- from claims to an account -----------------------------------------------------------------


@dataclass(frozen=True)
class LoginOutcome:
    """Either `user` (logged in) or `pending` (an existing account to link first)."""

    user: User | None = None
    pending: OidcPendingLink | None = None
    browser_token: str | None = None  # for `pending`: kept in this browser's session
    newly_verified: bool = False  # the address became verified: issue the badges waiting for it


def find_identity(issuer: str, subject: str) -> OidcIdentity | None:
    return db.session.execute(
        db.select(OidcIdentity).where(
            OidcIdentity.issuer == issuer, OidcIdentity.subject == subject
        )
    ).scalar_one_or_none()


def complete_login(
    provider: OidcProvider,
    claims: dict[str, Any],
    id_token: str,
    next_url: str | None,
    now: datetime,
) -> LoginOutcome:
    """The account for validated `claims`: found by (issuer, sub), made for a new identity, or
    (for an address that has an account) a pending link. SsoError when refused."""
    profile = profile_from_claims(provider, claims)
    check_domain(provider, profile)
    identity = find_identity(profile.issuer, profile.subject)
    if identity is not None:
        user = identity.user
        _require_active(user)
        identity.provider_id = provider.id
        identity.last_login_at = now
        return LoginOutcome(user=user, newly_verified=apply_profile(user, provider, profile, now))
    existing = find_user_by_email(profile.email) if profile.email else None
    if existing is not None:
        browser_token = secrets.token_urlsafe(32)
        db.session.execute(
            db.delete(OidcPendingLink).where(OidcPendingLink.created_at < now - LINK_MAX_AGE)
        )
        pending = OidcPendingLink(
            browser_token_hash=token_hash(browser_token),
            provider_id=provider.id,
            issuer=profile.issuer,
            subject=profile.subject,
            user_id=existing.id,
            claims=claims,
            id_token=id_token,
            next_url=next_url,
            created_at=now,
        )
        db.session.add(pending)
        db.session.flush()
        return LoginOutcome(pending=pending, browser_token=browser_token)
    organisation = resolve_organisation(provider, profile) or provider.organisation
    email = (
        profile.email
        or f"sso-{token_hash(profile.issuer + ' ' + profile.subject)[:24]}@{NO_EMAIL_DOMAIN}"
    )
    user = new_user(
        email,
        profile.name,
        SSO_PASSWORD_HASH,
        organisation,
        None,
        verified_at=now if profile.email_verified else None,
    )
    sync_roles(user, provider, profile)
    add_identity(provider, profile, user, now)
    return LoginOutcome(user=user, newly_verified=profile.email_verified)


def _require_active(user: User) -> None:
    if not user.is_active_account or user.deleted_at is not None:
        raise SsoError(403, _("This campus account is closed."), f"inactive user {user.id}")


def add_identity(provider: OidcProvider, profile: Profile, user: User, now: datetime) -> None:
    db.session.add(
        OidcIdentity(
            provider_id=provider.id,
            issuer=profile.issuer,
            subject=profile.subject,
            user=user,
            created_at=now,
            last_login_at=now,
        )
    )
    db.session.flush()


def resolve_organisation(provider: OidcProvider, profile: Profile) -> Organisation | None:
    """The organisation the first mapped claim value names (None: no value is mapped)."""
    mapping = provider.organisation_map or {}
    for value in profile.organisation_values:
        slug = mapping.get(value)
        if slug:
            found = db.session.execute(
                db.select(Organisation).where(Organisation.slug == slug)
            ).scalar_one_or_none()
            if found is not None:
                return found
    return None


def _mapped(mapping: dict[str, str], value: str) -> str | None:
    """A map entry for a claim value: the whole value, or its last ";" field (MPASSid's
    urn:mpass.id:role values read "provider OID;school code;class;Opettaja")."""
    return mapping.get(value) or mapping.get(value.rsplit(";", 1)[-1].strip())


def sync_roles(user: User, provider: OidcProvider, profile: Profile) -> None:
    """Roles named in the provider's role map follow the claim; other roles stay as they are."""
    if not provider.roles_claim:
        return
    mapping = dict(provider.role_map or {})
    allowed = {role.value for role in MAPPABLE_ROLES}
    managed = {Role(role) for role in mapping.values() if role in allowed}
    named = {_mapped(mapping, value) for value in profile.role_values}
    given = {Role(role) for role in named if role in allowed}
    kept = {role for role in user.roles if role not in managed and role is not Role.LEARNER}
    set_roles(user, kept | given)


def apply_profile(user: User, provider: OidcProvider, profile: Profile, now: datetime) -> bool:
    """Refresh the account from a later login; True when its address became verified."""
    was_verified = user.email_verified
    user.name = profile.name
    if profile.email and profile.email != user.email:
        taken = find_user_by_email(profile.email)
        if taken is None:
            user.email = profile.email
            user.email_verified_at = now if profile.email_verified else None
    elif profile.email and profile.email_verified and not user.email_verified:
        user.email_verified_at = now
    moved_to = resolve_organisation(provider, profile)
    if moved_to is not None:
        user.organisation = moved_to
    sync_roles(user, provider, profile)
    db.session.flush()
    return user.email_verified and not was_verified
