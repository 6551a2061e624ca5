"""Who and what an LMS launch stands for: the registered platform, the account for (issuer, sub),
the campus path or module the link names, and where that learner's result goes back to."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from werkzeug.security import generate_password_hash

from campus.auth.models import User
from campus.config import LANGUAGES
from campus.extensions import db
from campus.lti import framing
from campus.lti.constants import Claim
from campus.lti.constants import TargetKind
from campus.lti.constants import parse_target
from campus.lti.constants import target_key
from campus.lti.errors import LtiError
from campus.lti.models import LtiGradeTarget
from campus.lti.models import LtiIdentity
from campus.lti.models import LtiPlatform
from campus.paths import services as path_services
from campus.paths.models import LearningPath
from campus.paths.models import Module

SYNTHETIC_DOMAIN = "lti.invalid"
MAX_FRAME_ORIGINS = 20


def find_platform(iss: str, client_id: str | list[str] | None) -> LtiPlatform | None:
    client = client_id[0] if isinstance(client_id, list) and client_id else client_id
    query = db.select(LtiPlatform).where(LtiPlatform.issuer == iss)
    if client:
        query = query.where(LtiPlatform.client_id == client)
    return db.session.execute(query.limit(1)).scalar_one_or_none()


def list_platforms() -> list[LtiPlatform]:
    return list(db.session.execute(db.select(LtiPlatform).order_by(LtiPlatform.name)).scalars())


@dataclass(frozen=True)
class PlatformFields:
    """What an admin typed (or passed to `flask lti platforms add`) to register an LMS."""

    name: str
    issuer: str
    client_id: str
    auth_login_url: str
    auth_token_url: str
    jwks_url: str
    deployment_ids: str  # comma-separated
    organisation_id: int
    # Other LMS addresses whose pages show the campus in a frame (Canvas: the school's own).
    frame_origins: tuple[str, ...] = ()


# Column sizes: a longer value is refused with a message, never a database error.
FIELD_LIMITS = {
    "name": 200,
    "issuer": 500,
    "client_id": 255,
    "auth_login_url": 2000,
    "auth_token_url": 2000,
    "jwks_url": 2000,
    "deployment_ids": 2000,
}


def register_platform(fields: PlatformFields) -> LtiPlatform:
    """Store a new LMS, or LtiError with a message for the admin (nothing stored)."""
    from flask_babel import gettext as _

    urls = (fields.issuer, fields.auth_login_url, fields.auth_token_url, fields.jwks_url)
    typed = [getattr(fields, name) for name in FIELD_LIMITS]
    if (
        not all(typed)
        or not fields.organisation_id
        or not all(u.startswith(("https://", "http://")) for u in urls)
    ):
        raise LtiError(_("Fill in every field with full web addresses."))
    if any(len(getattr(fields, name)) > limit for name, limit in FIELD_LIMITS.items()):
        raise LtiError(_("A field is too long."))
    if framing.origin_of(fields.issuer) is None:
        raise LtiError(
            _(
                "The issuer must be a web address such as https://lms.example "
                "(http only for localhost)."
            )
        )
    frame_origins = parse_frame_origins(fields.frame_origins)
    deployment_ids = [d.strip() for d in fields.deployment_ids.split(",") if d.strip()]
    if not deployment_ids:
        raise LtiError(_("Fill in every field with full web addresses."))
    if find_platform(fields.issuer, fields.client_id) is not None:
        raise LtiError(_("This platform is registered already."))
    platform = LtiPlatform(
        name=fields.name,
        issuer=fields.issuer,
        client_id=fields.client_id,
        auth_login_url=fields.auth_login_url,
        auth_token_url=fields.auth_token_url,
        jwks_url=fields.jwks_url,
        deployment_ids=deployment_ids,
        frame_origins=frame_origins,
        organisation_id=fields.organisation_id,
    )
    db.session.add(platform)
    db.session.flush()
    framing.forget()
    return platform


def parse_frame_origins(values: Iterable[str]) -> list[str]:
    """Origins as they will be stored (blank entries skipped, repeats once), or LtiError naming
    the first one that is not exactly `https://host[:port]` (nothing is stored then)."""
    from flask_babel import gettext as _

    origins: list[str] = []
    for value in values:
        if not value.strip():
            continue
        origin = framing.valid_origin(value)
        if origin is None:
            raise LtiError(
                _(
                    "“%(value)s” is not an LMS address. Write one address per line, such as "
                    "https://school.instructure.com: https (http only for localhost), the host "
                    "and an optional port, with no path, spaces or other characters.",
                    value=value.strip()[:100],
                )
            )
        if origin not in origins:
            origins.append(origin)
    if len(origins) > MAX_FRAME_ORIGINS:
        raise LtiError(_("At most %(count)d addresses.", count=MAX_FRAME_ORIGINS))
    return origins


def set_platform_enabled(platform: LtiPlatform, enabled: bool) -> None:
    """Let an LMS launch (and frame) the campus, or stop it."""
    platform.is_enabled = enabled
    db.session.flush()
    framing.forget()


def is_synthetic(user: User) -> bool:
    """An account made by a launch (no password login, not matched to anyone by e-mail)."""
    return user.email.endswith("@" + SYNTHETIC_DOMAIN)


def user_for_launch(platform: LtiPlatform, launch: dict[str, Any], now: datetime) -> User:
    """The account for (platform, sub): created on first launch, never matched by e-mail.

    Course roles in the launch grant nothing on the campus: an LMS instructor is an instructor
    of that course only, and any registered LMS can claim any role.
    """
    sub = str(launch.get("sub") or "")
    if not sub:
        raise LtiError("the launch has no user (sub)")
    identity = db.session.execute(
        db.select(LtiIdentity).where(LtiIdentity.platform_id == platform.id, LtiIdentity.sub == sub)
    ).scalar_one_or_none()
    email = (launch.get("email") or "").strip().lower() or None
    if identity is not None:
        user = db.session.get(User, identity.user_id)
        assert user is not None
        if email:
            identity.email = email
            if is_synthetic(user):
                user.badge_email = email
                user.email_verified_at = user.email_verified_at or now  # the LMS vouches
        return user
    user = User(
        email=f"lti-{uuid.uuid4().hex}@{SYNTHETIC_DOMAIN}",
        name=str(launch.get("name") or launch.get("given_name") or "LTI user")[:200],
        password_hash=generate_password_hash(secrets.token_urlsafe(32)),  # no password login
        organisation_id=platform.organisation_id,
        badge_email=email,
        # The registered LMS vouches for the address it sent (badges go to it); without one
        # the learner confirms an address by a link (campus.lti.tool.identity).
        email_verified_at=now if email else None,
    )
    db.session.add(user)
    db.session.flush()
    db.session.add(
        LtiIdentity(platform_id=platform.id, sub=sub, user_id=user.id, email=email, created_at=now)
    )
    db.session.flush()
    return user


def resolve_target(launch: dict[str, Any]) -> tuple[LearningPath, Module | None]:
    """The path (and module) the link's custom `campus_target` names."""
    custom = launch.get(Claim.CUSTOM) or {}
    target = parse_target(str(custom.get("campus_target", "")))
    path = path_services.get_path(target.path_slug) if target is not None else None
    if target is None or path is None:
        raise LtiError(
            _(
                "This course link does not say which campus path or module to open. The teacher "
                "can add it again with “Select content” in the course."
            ),
            404,
        )
    if target.kind == TargetKind.PATH or target.module_slug is None:
        return path, None
    module = path_services.get_module(path, target.module_slug)
    if module is None:
        raise LtiError(
            _(
                "The campus module of this course link no longer exists. The teacher can choose "
                "another one with “Select content” in the course."
            ),
            404,
        )
    return path, module


def launch_language(launch: Mapping[str, Any]) -> str | None:
    """The campus language of the launch's `launch_presentation.locale`, or None.

    LMSs write the locale as a BCP 47 tag ("fi-FI", "en-GB", "en") or a POSIX one ("sv_FI"):
    its language part counts. A missing locale, or one in a language the campus does not speak
    ("de-DE"), gives None: the campus then chooses as it would without a launch.
    """
    presentation = launch.get(Claim.LAUNCH_PRESENTATION)
    locale = presentation.get("locale") if isinstance(presentation, Mapping) else None
    if not isinstance(locale, str):
        return None
    language = locale.strip().replace("_", "-").split("-", 1)[0].lower()
    return language if language in LANGUAGES else None


def grade_target_key(path: LearningPath, module: Module | None) -> str:
    return target_key(path.slug, module.slug if module else None)


def remember_grade_target(
    platform: LtiPlatform, user: User, key: str, launch: dict[str, Any], now: datetime
) -> None:
    """Where this learner's result for `key` goes: the launch's AGS endpoint (latest wins).

    The launch's campus language, if it has one, is kept in the same JSON as "locale" (no AGS
    claim member has that name), so that passback can label a line item in the LMS's language.
    """
    ags = launch.get(Claim.AGS_ENDPOINT)
    if not ags or not isinstance(ags, Mapping):
        return
    target = db.session.execute(
        db.select(LtiGradeTarget).where(
            LtiGradeTarget.platform_id == platform.id,
            LtiGradeTarget.user_id == user.id,
            LtiGradeTarget.target == key,
        )
    ).scalar_one_or_none()
    if target is None:
        target = LtiGradeTarget(platform_id=platform.id, user_id=user.id, target=key)
        db.session.add(target)
    target.sub = str(launch["sub"])
    language = launch_language(launch)
    target.ags = {**ags, "locale": language} if language else dict(ags)
    target.updated_at = now
    db.session.flush()
