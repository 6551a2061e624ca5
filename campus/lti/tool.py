"""LTI 1.3 tool side: institutions launch the campus from their LMS (pylti1p3next does the
message validation; this module provides its configuration and storage from our database,
provisions users by (issuer, sub), and passes grades back through an outbox).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any

import requests
from cryptography.hazmat.primitives import serialization
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.deployment import Deployment
from pylti1p3.exception import LtiException
from pylti1p3.grade import Grade
from pylti1p3.launch_data_storage.cache import CacheDataStorage
from pylti1p3.lineitem import LineItem
from pylti1p3.registration import Registration
from pylti1p3.service_connector import ServiceConnector
from pylti1p3.tool_config.abstract import ToolConfAbstract
from werkzeug.security import generate_password_hash

from campus import keystore
from campus.auth.models import User
from campus.extensions import db
from campus.lti.models import LtiGradeOutbox
from campus.lti.models import LtiGradeTarget
from campus.lti.models import LtiIdentity
from campus.lti.models import LtiPlatform
from campus.lti.models import LtiStoreEntry
from campus.lti.services import LtiError
from campus.lti.services import PlatformContext
from campus.lti.services import active_key
from campus.outbound import GuardedSession
from campus.paths import services as path_services
from campus.paths.models import LearningPath
from campus.paths.models import Module

SYNTHETIC_DOMAIN = "lti.invalid"
MAX_ATTEMPTS = 8


# One refusal type for both LTI directions (message + HTTP status).
ToolError = LtiError


# --- pylti1p3 configuration and storage from the database -------------------------------------


class DatabaseToolConf(ToolConfAbstract):
    """Registrations come from LtiPlatform rows; the tool key is the campus LTI key."""

    def __init__(self, context: PlatformContext, now: datetime) -> None:
        super().__init__()
        key = active_key(context, now)
        private = keystore.load(context.keys_dir, key.file_name, context.passphrase)
        self._private_pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        self._public_pem = key.public_pem

    def _platforms(self, iss: str, client_id: str | None = None) -> list[LtiPlatform]:
        query = db.select(LtiPlatform).where(
            LtiPlatform.issuer == iss, LtiPlatform.is_enabled.is_(True)
        )
        if client_id:
            query = query.where(LtiPlatform.client_id == client_id)
        return list(db.session.execute(query.order_by(LtiPlatform.id)).scalars())

    def _registration(self, platform: LtiPlatform | None) -> Registration | None:
        if platform is None:
            return None
        registration = (
            Registration()
            .set_issuer(platform.issuer)
            .set_client_id(platform.client_id)
            .set_auth_login_url(platform.auth_login_url)
            .set_auth_token_url(platform.auth_token_url)
            .set_tool_private_key(self._private_pem)
            .set_tool_public_key(self._public_pem)
        )
        if platform.jwks:
            registration.set_key_set(platform.jwks)
        else:
            registration.set_key_set_url(platform.jwks_url)
        return registration

    def check_iss_has_one_client(self, iss: str) -> bool:
        return len(self._platforms(iss)) == 1

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return len(self._platforms(iss)) > 1

    def find_registration_by_issuer(
        self, iss: str, *args: Any, **kwargs: Any
    ) -> Registration | None:
        platforms = self._platforms(iss)
        return self._registration(platforms[0] if platforms else None)

    def find_registration_by_params(
        self, iss: str, client_id: str, *args: Any, **kwargs: Any
    ) -> Registration | None:
        platforms = self._platforms(iss, client_id)
        return self._registration(platforms[0] if platforms else None)

    def find_deployment(self, iss: str, deployment_id: str) -> Deployment | None:
        for platform in self._platforms(iss):
            if deployment_id in platform.deployment_ids:
                return Deployment().set_deployment_id(deployment_id)
        return None

    def find_deployment_by_params(
        self, iss: str, deployment_id: str, client_id: str, *args: Any, **kwargs: Any
    ) -> Deployment | None:
        for platform in self._platforms(iss, client_id):
            if deployment_id in platform.deployment_ids:
                return Deployment().set_deployment_id(deployment_id)
        return None


class DatabaseCache:
    """The get/set interface pylti1p3's cache storage expects, kept in LtiStoreEntry."""

    def get(self, key: str) -> Any:
        entry = db.session.get(LtiStoreEntry, key[:300])
        if entry is None:
            return None
        expires = (
            entry.expires_at if entry.expires_at.tzinfo else entry.expires_at.replace(tzinfo=UTC)
        )
        if expires < datetime.now(UTC):
            return None
        return entry.value

    def set(self, key: str, value: Any, exp: int | None = None) -> None:
        entry = db.session.get(LtiStoreEntry, key[:300]) or LtiStoreEntry(key=key[:300])
        entry.value = value
        entry.expires_at = datetime.now(UTC) + timedelta(seconds=exp or 7200)
        db.session.add(entry)
        db.session.flush()


class DatabaseLaunchStorage(CacheDataStorage):
    """Nonces and launch data live on the server: the cookie session cannot cross the LMS iframe."""

    def __init__(self) -> None:
        super().__init__()
        self._cache = DatabaseCache()


# --- provisioning --------------------------------------------------------------------------------


def find_platform(iss: str, client_id: str | list[str] | None) -> LtiPlatform | None:
    client = client_id[0] if isinstance(client_id, list) and client_id else client_id
    query = db.select(LtiPlatform).where(LtiPlatform.issuer == iss)
    if client:
        query = query.where(LtiPlatform.client_id == client)
    return db.session.execute(query.limit(1)).scalar_one_or_none()


def is_synthetic(user: User) -> bool:
    return user.email.endswith("@" + SYNTHETIC_DOMAIN)


def user_for_launch(platform: LtiPlatform, launch: dict[str, Any], now: datetime) -> User:
    """The account for (platform, sub): created on first launch, never matched by e-mail.

    Course roles in the launch grant nothing on the campus: an LMS instructor is an instructor
    of that course only, and any registered LMS can claim any role.
    """
    sub = str(launch.get("sub") or "")
    if not sub:
        raise ToolError("the launch has no user (sub)")
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
        return user
    user = User(
        email=f"lti-{uuid.uuid4().hex}@{SYNTHETIC_DOMAIN}",
        name=str(launch.get("name") or launch.get("given_name") or "LTI user")[:200],
        password_hash=generate_password_hash(secrets.token_urlsafe(32)),  # no password login
        organisation_id=platform.organisation_id,
        badge_email=email,
    )
    db.session.add(user)
    db.session.flush()
    db.session.add(
        LtiIdentity(platform_id=platform.id, sub=sub, user_id=user.id, email=email, created_at=now)
    )
    db.session.flush()
    return user


def resolve_target(launch: dict[str, Any]) -> tuple[LearningPath, Module | None]:
    custom = launch.get("https://purl.imsglobal.org/spec/lti/claim/custom") or {}
    target = str(custom.get("campus_target", ""))
    kind, _, rest = target.partition(":")
    path_slug, _, module_slug = rest.partition("/")
    path = path_services.get_path(path_slug) if kind in ("path", "module") else None
    if path is None:
        raise ToolError(
            "the link does not name a campus path or module (custom campus_target)", 404
        )
    if kind == "path":
        return path, None
    module = path_services.get_module(path, module_slug)
    if module is None:
        raise ToolError("the module of this link no longer exists", 404)
    return path, module


def target_key(path: LearningPath, module: Module | None) -> str:
    return f"module:{path.slug}/{module.slug}" if module else f"path:{path.slug}"


def remember_grade_target(
    platform: LtiPlatform, user: User, key: str, launch: dict[str, Any], now: datetime
) -> None:
    ags = launch.get("https://purl.imsglobal.org/spec/lti-ags/claim/endpoint")
    if not ags:
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
    target.ags = ags
    target.updated_at = now
    db.session.flush()


# --- grade passback ------------------------------------------------------------------------------


def queue_results(user: User, keys: list[str], now: datetime) -> list[int]:
    """Outbox rows for every LMS line item waiting for one of `keys` (a module or a path)."""
    ids = []
    for target in db.session.execute(
        db.select(LtiGradeTarget).where(
            LtiGradeTarget.user_id == user.id, LtiGradeTarget.target.in_(keys)
        )
    ).scalars():
        row = LtiGradeOutbox(
            grade_target_id=target.id,
            payload={
                "scoreGiven": 1,
                "scoreMaximum": 1,
                "activityProgress": "Completed",
                "gradingProgress": "FullyGraded",
                "timestamp": now.isoformat(),
                "target": target.target,
            },
        )
        db.session.add(row)
        db.session.flush()
        ids.append(row.id)
    return ids


class OneShotConnector(ServiceConnector):
    """Keeps the LMS access token for one delivery only.

    The base class has no token cache at all (NotImplementedError) and the Flask one keeps tokens
    in a class-level dict across requests and platforms, which outlives an LMS key rotation.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._tokens: dict[str, str] = {}

    def _get_cached_access_token(self, scope_key: str) -> str | None:
        return self._tokens.get(scope_key)

    def _cache_access_token(self, scope_key: str, access_token: str, expires_in: float) -> None:
        self._tokens[scope_key] = access_token


def deliver(
    row: LtiGradeOutbox,
    context: PlatformContext,
    now: datetime,
    session: requests.Session | None = None,
) -> bool:
    """Send one result to the LMS; on failure keep it for a retry and say why."""
    target = row.grade_target
    platform = db.session.get(LtiPlatform, target.platform_id)
    assert platform is not None
    row.attempts += 1
    try:
        conf = DatabaseToolConf(context, now)
        registration = conf.find_registration_by_params(platform.issuer, platform.client_id)
        if registration is None:
            raise ToolError("the platform is disabled")
        # The LMS's token and AGS URLs: fetched under the outbound policy (campus.outbound).
        http = session or GuardedSession(context.outbound)
        connector = OneShotConnector(registration, requests_session=http)
        ags = AssignmentsGradesService(connector, target.ags)
        grade = (
            Grade()
            .set_score_given(row.payload["scoreGiven"])
            .set_score_maximum(row.payload["scoreMaximum"])
            .set_activity_progress(row.payload["activityProgress"])
            .set_grading_progress(row.payload["gradingProgress"])
            .set_timestamp(row.payload["timestamp"])
            .set_user_id(target.sub)
        )
        line_item = None
        if not target.ags.get("lineitem"):
            line_item = (
                LineItem()
                .set_label(target.target)
                .set_score_maximum(1)
                .set_tag(target.target)
                .set_resource_id(target.target)
            )
        ags.put_grade(grade, line_item)
    except (LtiException, requests.RequestException, ToolError, KeyError, ValueError) as error:
        row.last_error = str(error)[:2000]
        row.status = "failed" if row.attempts >= MAX_ATTEMPTS else "pending"
        return False
    row.status, row.sent_at, row.last_error = "sent", now, None
    return True


def deliver_pending(
    context: PlatformContext,
    now: datetime,
    ids: list[int] | None = None,
    include_failed: bool = False,
) -> tuple[int, int]:
    """Try every waiting result (or the given ones); returns (sent, still waiting)."""
    statuses = ["pending", "failed"] if include_failed else ["pending"]
    query = db.select(LtiGradeOutbox).where(LtiGradeOutbox.status.in_(statuses))
    if ids is not None:
        query = query.where(LtiGradeOutbox.id.in_(ids))
    sent = waiting = 0
    for row in db.session.execute(query.order_by(LtiGradeOutbox.id)).scalars():
        if deliver(row, context, now):
            sent += 1
        else:
            waiting += 1
    return sent, waiting


@dataclass(frozen=True)
class PickerItem:
    target: str
    title: str
    kind: str
    path_title: str


def picker_items(search: str, language: str) -> list[PickerItem]:
    from campus.i18n import pick

    search = search.strip().lower()
    items = []
    for theme in path_services.list_themes():
        for path in path_services.active_paths(theme):
            entries = [
                PickerItem(
                    f"path:{path.slug}",
                    pick(path.title, language),
                    "path",
                    pick(path.title, language),
                )
            ]
            entries += [
                PickerItem(
                    f"module:{path.slug}/{m.slug}",
                    pick(m.title, language),
                    m.kind,
                    pick(path.title, language),
                )
                for m in path.active_modules
            ]
            items += [
                e
                for e in entries
                if not search or search in e.title.lower() or search in e.path_title.lower()
            ]
    return items
