"""Accounts: registration, authentication, passwords, roles, organisations."""

from __future__ import annotations

import re
import secrets
import unicodedata
from datetime import datetime

from flask import current_app
from werkzeug.security import check_password_hash
from werkzeug.security import generate_password_hash

from campus.auth.models import LoginSession
from campus.auth.models import Organisation
from campus.auth.models import OrganisationKind
from campus.auth.models import Role
from campus.auth.models import User
from campus.auth.models import UserRole
from campus.clock import utcnow
from campus.config import LANGUAGES
from campus.extensions import db

MIN_PASSWORD_LENGTH = 10
DEMO_EMAIL = "demo@campus.example"
DEMO_ORGANISATION_SLUG = "demo-college"


class AccountError(Exception):
    """A problem the user can fix; the message is shown to them."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def hash_password(password: str) -> str:
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    return generate_password_hash(password, method=method)


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:80] or "organisation"


def find_user_by_email(email: str) -> User | None:
    return db.session.execute(
        db.select(User).where(User.email == normalise_email(email))
    ).scalar_one_or_none()


def register_user(
    email: str, name: str, password: str, organisation: Organisation, locale: str | None = None
) -> User:
    """Create a verified account; AccountError if the e-mail is taken or the password weak.

    For the shell and `flask auth create-admin`: the operator who types the address vouches for
    it. Self-registration goes through campus.auth.registration, which does not tell whether an
    address is taken and leaves the account unverified until its link is followed.
    """
    from flask_babel import gettext as _

    if find_user_by_email(email) is not None:
        raise AccountError(_("An account with this e-mail address already exists."))
    check_password_strength(password)
    return new_user(
        email, name, hash_password(password), organisation, locale, verified_at=utcnow()
    )


def new_user(
    email: str,
    name: str,
    password_hash: str,
    organisation: Organisation,
    locale: str | None,
    verified_at: datetime | None = None,
) -> User:
    """Add a learner account (the caller has checked that the e-mail is free); unverified
    unless someone vouches for the address (`verified_at`)."""
    user = User(
        email=normalise_email(email),
        name=name.strip(),
        password_hash=password_hash,
        organisation=organisation,
        locale=locale if locale in LANGUAGES else None,
        email_verified_at=verified_at,
    )
    db.session.add(user)
    db.session.flush()
    return user


def check_password_strength(password: str) -> None:
    from flask_babel import gettext as _

    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            _("The password must be at least %(count)d characters long.", count=MIN_PASSWORD_LENGTH)
        )


def authenticate(email: str, password: str) -> User | None:
    """Return the active user whose password matches, else None (same answer for both failures)."""
    user = find_user_by_email(email)
    if user is None:
        # Spend the same time as a real check so that e-mails cannot be probed by timing.
        check_password_hash(_dummy_hash(), password)
        return None
    if user.organisation.sso_only:
        # Members of an SSO-only organisation log in through its provider (campus.auth.sso);
        # the same time is spent, so the answer tells nothing about the account.
        check_password_hash(_dummy_hash(), password)
        return None
    if not user.is_active_account or not check_password_hash(user.password_hash, password):
        return None
    return user


_DUMMY_HASH: dict[str, str] = {}


def _dummy_hash() -> str:
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    if method not in _DUMMY_HASH:
        _DUMMY_HASH[method] = generate_password_hash(secrets.token_hex(8), method=method)
    return _DUMMY_HASH[method]


def change_password(user: User, new_password: str) -> None:
    """Set a new password and end every login of `user` (the caller signs this browser in again).

    The caller has checked the current password with campus.auth.login.check_password.
    """
    check_password_strength(new_password)
    user.password_hash = hash_password(new_password)
    db.session.execute(db.delete(LoginSession).where(LoginSession.user_id == user.id))


def set_locale(user: User, locale: str) -> None:
    if locale not in LANGUAGES:
        raise AccountError("unsupported language")
    user.locale = locale


def set_roles(user: User, roles: set[Role]) -> None:
    """Replace the user's extra roles (learner is implicit)."""
    wanted = {role.value for role in roles if role is not Role.LEARNER}
    user.role_rows[:] = [row for row in user.role_rows if row.role in wanted]
    held = {row.role for row in user.role_rows}
    for role in sorted(wanted - held):
        user.role_rows.append(UserRole(role=role))


def create_organisation(name: str, kind: OrganisationKind, slug: str | None = None) -> Organisation:
    from flask_babel import gettext as _

    name = name.strip()
    if not name:
        raise AccountError(_("The organisation needs a name."))
    slug = slugify(slug or name)
    exists = db.session.execute(
        db.select(Organisation).where(Organisation.slug == slug)
    ).scalar_one_or_none()
    if exists is not None:
        raise AccountError(_("An organisation with this short name already exists."))
    organisation = Organisation(name=name, kind=kind.value, slug=slug)
    db.session.add(organisation)
    db.session.flush()
    return organisation


def list_organisations() -> list[Organisation]:
    return list(db.session.execute(db.select(Organisation).order_by(Organisation.name)).scalars())


def ensure_demo_account(password: str | None = None) -> tuple[User, str | None]:
    """Create the demo organisation and account once; return the password only when created."""
    organisation = db.session.execute(
        db.select(Organisation).where(Organisation.slug == DEMO_ORGANISATION_SLUG)
    ).scalar_one_or_none()
    if organisation is None:
        organisation = Organisation(
            slug=DEMO_ORGANISATION_SLUG,
            name="Demo College (Demo-oppilaitos)",
            kind=OrganisationKind.EDUCATION_PROVIDER.value,
        )
        db.session.add(organisation)
    user = find_user_by_email(DEMO_EMAIL)
    if user is not None:
        return user, None
    password = password or secrets.token_urlsafe(9)
    user = User(
        email=DEMO_EMAIL,
        name="Demo Opettaja",
        password_hash=hash_password(password),
        organisation=organisation,
        email_verified_at=utcnow(),
    )
    db.session.add(user)
    set_roles(user, {Role.ORG_ADMIN, Role.ADMIN})
    db.session.flush()
    return user, password
