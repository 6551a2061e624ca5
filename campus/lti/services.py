"""LTI 1.3 platform: keys, launches (Core, Deep Linking); tokens are in `tokens`, AGS and NRPS
in `ags`.

Services flush, never commit. Every check the library leaves out is here or there: registered
redirect URIs, signed and user-bound login hints, single-use nonces and token ids, the token
assertion's iss/sub/aud/exp/jti, scopes per endpoint.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
from itsdangerous import BadSignature
from itsdangerous import SignatureExpired
from itsdangerous import URLSafeTimedSerializer
from jwcrypto.common import JWException
from jwcrypto.jwk import JWK
from sqlalchemy.exc import IntegrityError

from campus import keystore
from campus import outbound
from campus.auth.models import Role
from campus.auth.models import User
from campus.extensions import db
from campus.lti import payload
from campus.lti.adapter import Launch
from campus.lti.adapter import LoginInitiation
from campus.lti.adapter import PlainRequest
from campus.lti.adapter import PlatformConf
from campus.lti.adapter import jwk
from campus.lti.errors import LtiError
from campus.lti.models import LtiKey
from campus.lti.models import LtiReplay
from campus.lti.models import LtiResourceLink
from campus.lti.models import LtiTool
from campus.outbound import OutboundPolicy
from campus.paths import services as path_services
from campus.paths.models import LearningPath
from campus.paths.models import Module

LIS = "http://purl.imsglobal.org/vocab/lis/v2"
SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_LINEITEM_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_RESULT = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
SUPPORTED_SCOPES = {SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, SCOPE_RESULT, SCOPE_SCORE, SCOPE_NRPS}
HINT_SECONDS = 600
KEY_GRACE = timedelta(days=30)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlatformContext:
    base_url: str
    keys_dir: Path
    passphrase: str | None
    secret_key: str
    outbound: OutboundPolicy = OutboundPolicy()

    @classmethod
    def from_config(cls, config: Any) -> PlatformContext:
        return cls(
            str(config["BASE_URL"]).rstrip("/"),
            Path(config["KEYS_DIR"]),
            config.get("KEY_PASSPHRASE"),
            str(config["SECRET_KEY"]),
            OutboundPolicy.from_config(config),
        )

    @property
    def issuer(self) -> str:
        return self.base_url

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    @property
    def token_url(self) -> str:
        return self.url("/lti/token")

    def lineitems_url(self, context_id: str) -> str:
        return self.url(f"/lti/ags/{context_id}/lineitems")

    def lineitem_url(self, context_id: str, item_id: int) -> str:
        return f"{self.lineitems_url(context_id)}/{item_id}"

    def memberships_url(self, context_id: str) -> str:
        return self.url(f"/lti/nrps/{context_id}/memberships")


# --- keys ----------------------------------------------------------------------------------


def active_key(context: PlatformContext, now: datetime) -> LtiKey:
    """The platform's current key, created on first use."""
    key = db.session.execute(
        db.select(LtiKey).where(LtiKey.retired_at.is_(None)).order_by(LtiKey.id.desc()).limit(1)
    ).scalar_one_or_none()
    return key or _new_key(context, now)


def _new_key(context: PlatformContext, now: datetime) -> LtiKey:
    file_name = f"lti-{uuid.uuid4()}"
    public_pem = keystore.generate(context.keys_dir, file_name, context.passphrase)
    key = LtiKey(
        kid=jwk(public_pem)["kid"], file_name=file_name, public_pem=public_pem, created_at=now
    )
    db.session.add(key)
    db.session.flush()
    return key


def rotate_key(context: PlatformContext, now: datetime) -> LtiKey:
    current = db.session.execute(db.select(LtiKey).where(LtiKey.retired_at.is_(None))).scalars()
    for key in current:
        key.retired_at = now
    db.session.flush()
    return _new_key(context, now)


def jwks(now: datetime) -> dict[str, Any]:
    """Active keys and keys retired within the grace period (tools may hold their tokens)."""
    keys = db.session.execute(db.select(LtiKey).order_by(LtiKey.id)).scalars()
    return {
        "keys": [
            jwk(k.public_pem)
            for k in keys
            if k.retired_at is None or _aware(k.retired_at) > now - KEY_GRACE
        ]
    }


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _conf(
    tool: LtiTool, context: PlatformContext, now: datetime, with_tool_keys: bool = False
) -> PlatformConf:
    key = active_key(context, now)
    return PlatformConf(
        tool=tool,
        issuer=context.issuer,
        public_pem=key.public_pem,
        kid=key.kid,
        private_key=keystore.load(context.keys_dir, key.file_name, context.passphrase),
        tool_jwks=tool_key_set(tool, context.outbound) if with_tool_keys else None,
    )


_JWKS_CACHE: dict[str, tuple[float, dict[str, Any]]] = {}


def tool_key_set(tool: LtiTool, policy: OutboundPolicy, refresh: bool = False) -> dict[str, Any]:
    """The tool's public keys: stored inline, or fetched from its registered URL (cached 5 min;
    `refresh` skips the cache, for a key id the cached set does not know: the tool rotated).
    The URL was typed by an admin: it is fetched under the outbound policy (campus.outbound)."""
    if tool.jwks:
        return tool.jwks
    if not tool.jwks_url:
        raise LtiError("the tool has no keys registered", 400)
    cached = _JWKS_CACHE.get(tool.jwks_url)
    if cached and cached[0] > time.monotonic() and not refresh:
        return cached[1]
    try:
        key_set = outbound.fetch_json("GET", tool.jwks_url, policy)
    except outbound.OutboundError as error:
        log.warning("key set of tool %s not read: %s", tool.slug, error)
        raise LtiError("the tool's key set could not be read", 502) from error
    if not isinstance(key_set, dict) or not isinstance(key_set.get("keys"), list):
        raise LtiError("the tool's key set is not a JWKS", 502)
    _JWKS_CACHE[tool.jwks_url] = (time.monotonic() + 300, key_set)
    return key_set


def decode_tool_jwt(
    tool: LtiTool, token: str, audience: str, policy: OutboundPolicy
) -> dict[str, Any]:
    """Verify a JWT the tool signed: RS256, a key of the tool's, our audience, not expired."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise LtiError("malformed JWT") from error

    def matching(key_set: dict[str, Any]) -> list[dict[str, Any]]:
        keys = key_set.get("keys")
        kid = header.get("kid")
        return [k for k in keys if isinstance(k, dict) and k.get("kid") == kid] if kid else []

    candidates = matching(tool_key_set(tool, policy)) or matching(
        tool_key_set(tool, policy, refresh=True)
    )
    if not candidates:
        raise LtiError("the JWT was not signed with a key of this tool", 401)
    try:
        public_pem = JWK(**candidates[0]).export_to_pem()
    except (JWException, TypeError, ValueError) as error:
        raise LtiError("the tool's key cannot be used", 401) from error
    try:
        return jwt.decode(
            token,
            public_pem,
            algorithms=["RS256"],
            audience=audience,
            options={"require": ["exp", "iat", "iss", "aud"]},
            leeway=5,
        )
    except jwt.InvalidAudienceError as error:
        raise LtiError("wrong audience", 401) from error
    except jwt.PyJWTError as error:
        raise LtiError(f"invalid JWT: {error}", 401) from error


# --- single-use values -----------------------------------------------------------------------


def consume_once(key: str, expires_at: datetime, now: datetime) -> None:
    """Remember `key` until it expires; a second use is refused (replay)."""
    db.session.execute(db.delete(LtiReplay).where(LtiReplay.expires_at < now))
    try:
        with db.session.begin_nested():
            db.session.add(LtiReplay(key=key[:300], expires_at=expires_at))
    except IntegrityError as error:
        raise LtiError("this value was already used (replay)", 401) from error


# --- tools and links -------------------------------------------------------------------------


def get_tool(slug: str) -> LtiTool | None:
    return db.session.execute(db.select(LtiTool).where(LtiTool.slug == slug)).scalar_one_or_none()


def tool_by_client_id(client_id: str) -> LtiTool | None:
    if "\x00" in client_id:  # from an unverified JWT; PostgreSQL cannot even compare it
        return None
    return db.session.execute(
        db.select(LtiTool).where(LtiTool.client_id == client_id)
    ).scalar_one_or_none()


def resource_link(module: Module) -> LtiResourceLink | None:
    """The module's link, created from its content settings on first use."""
    link = db.session.execute(
        db.select(LtiResourceLink).where(LtiResourceLink.module_id == module.id)
    ).scalar_one_or_none()
    if link is not None:
        return link
    tool = get_tool(module.settings.get("tool", ""))
    if tool is None:
        return None
    link = LtiResourceLink(
        module_id=module.id,
        tool_id=tool.id,
        resource_link_id=str(uuid.uuid4()),
        url=module.settings.get("url"),
        title=None,
        custom=dict(module.settings.get("custom", {})),
    )
    db.session.add(link)
    db.session.flush()
    return link


def lis_roles(user: User) -> list[str]:
    roles = [f"{LIS}/membership#Learner"]
    if user.has_role(Role.ADMIN):
        roles += [f"{LIS}/institution/person#Administrator", f"{LIS}/membership#Instructor"]
    elif user.has_role(Role.ORG_ADMIN, Role.REVIEWER, Role.TUTOR_TEACHER):
        roles.append(f"{LIS}/membership#Mentor")
    return roles


def enrol_for_launch(user: User, path: LearningPath, now: datetime) -> None:
    """Enrol on launch (either direction); missing prerequisites refuse the launch with a 403."""
    try:
        path_services.enroll(user, path, now)
    except path_services.ActivityError as error:
        raise LtiError(str(error), 403) from error


# --- launch ------------------------------------------------------------------------------------


def _serializer(context: PlatformContext) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(context.secret_key, salt="campus-lti-hints")


def login_initiation_url(
    user: User, module: Module, context: PlatformContext, now: datetime, deep_link: bool = False
) -> str:
    """Where to send the browser first: the tool's OIDC login, with hints bound to this user."""
    link = resource_link(module)
    if link is None or not link.tool.is_enabled:
        raise LtiError("the tool of this module is not available", 409)
    tool = link.tool
    serializer = _serializer(context)
    message_hint = serializer.dumps({"user": user.id, "module": module.id, "deep_link": deep_link})
    login = LoginInitiation(PlainRequest("GET", {}, {}), _conf(tool, context, now))
    target = tool.deep_link_url if deep_link else (link.url or tool.launch_url)
    if not target:
        raise LtiError("the tool has no deep-linking URL", 409)
    login.set_launch_url(target)
    login.set_lti_message_hint(hint=message_hint)
    return login.initiate_login(serializer.dumps({"user": user.id}))


@dataclass(frozen=True)
class LaunchForm:
    action: str
    id_token: str
    state: str


def authorize(
    params: dict[str, str], user: User, context: PlatformContext, now: datetime
) -> LaunchForm:
    """The OIDC authentication response: validate the tool's request, then sign the id_token."""
    for name, expected in (
        ("scope", "openid"),
        ("response_type", "id_token"),
        ("response_mode", "form_post"),
    ):
        if params.get(name) != expected:
            raise LtiError(f"`{name}` must be `{expected}`")
    if params.get("prompt") not in (None, "", "none"):
        raise LtiError("`prompt` must be `none`")
    tool = tool_by_client_id(params.get("client_id", ""))
    if tool is None or not tool.is_enabled:
        raise LtiError("unknown or disabled client_id", 401)
    redirect_uri = params.get("redirect_uri", "")
    if redirect_uri not in tool.allowed_redirect_uris:
        raise LtiError("redirect_uri is not registered for this tool")
    serializer = _serializer(context)
    try:
        login_hint = serializer.loads(params.get("login_hint", ""), max_age=HINT_SECONDS)
        message_hint = serializer.loads(params.get("lti_message_hint", ""), max_age=HINT_SECONDS)
    except SignatureExpired as error:
        raise LtiError("the launch has expired; start it again", 401) from error
    except BadSignature as error:
        raise LtiError("login_hint or lti_message_hint is not ours", 401) from error
    if login_hint.get("user") != user.id or message_hint.get("user") != user.id:
        raise LtiError("the launch belongs to another user", 403)
    if not params.get("nonce") or not params.get("state"):
        raise LtiError("nonce and state are required")
    consume_once(f"nonce:{tool.client_id}:{params['nonce']}", now + timedelta(hours=1), now)
    module = db.session.get(Module, message_hint.get("module"))
    link = resource_link(module) if module is not None else None
    if module is None or link is None or link.tool_id != tool.id:
        raise LtiError("the launch does not match this tool", 403)
    if not message_hint.get("deep_link"):
        # Launching a module enrols the learner, so that the tool's results have a member to land on.
        enrol_for_launch(user, module.path, now)
    launch = Launch(PlainRequest("POST", {}, dict(params)), _conf(tool, context, now))
    _set_claims(
        launch,
        user,
        module,
        link,
        context,
        deep_link=bool(message_hint.get("deep_link")),
        message_hint=params["lti_message_hint"],
    )
    data = launch.lti_launch()
    return LaunchForm(redirect_uri, data["id_token"], data["state"])


def _set_claims(
    launch: Launch,
    user: User,
    module: Module,
    link: LtiResourceLink,
    context: PlatformContext,
    deep_link: bool,
    message_hint: str,
) -> None:
    from campus.i18n import pick

    path = module.path
    launch.set_user_data(
        f"campus-user-{user.id}", lis_roles(user), full_name=user.name, email_address=user.email
    )
    launch.set_launch_context_claim(
        path.slug, [f"{LIS}/course#CourseSection"], pick(path.title), path.slug
    )
    presentation = module.settings.get("presentation", "window")
    launch.set_launch_presentation_claim(
        presentation, context.url(f"/paths/{path.slug}/{module.slug}")
    )
    if deep_link:
        launch.set_dl(
            context.url("/lti/deep-link/return"),
            title=pick(module.title),
            accept_types={"ltiResourceLink"},
            extra_data=message_hint,
        )
        return
    launch.set_resource_link_claim(link.resource_link_id, title=link.title or pick(module.title))
    if link.url:
        launch.set_launch_url(link.url)
    if link.custom:
        launch.set_custom_parameters_claim(dict(link.custom))
    launch.set_extra_claims(
        {
            "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": {
                "scope": [SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, SCOPE_RESULT, SCOPE_SCORE],
                "lineitems": context.lineitems_url(path.slug),
            },
            "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": {
                "context_memberships_url": context.memberships_url(path.slug),
                "service_versions": ["2.0"],
            },
        }
    )


# --- deep linking ------------------------------------------------------------------------------


def accept_deep_link(token: str, context: PlatformContext, now: datetime) -> LtiResourceLink:
    """Validate the tool's deep-linking response and make its link the module's resource link.

    The response arrives as a cross-site POST, which carries no SameSite=Lax session cookie;
    the user is the one our signed `data` names (bound to them when the request was made).
    """
    try:
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as error:
        raise LtiError("malformed deep-linking response") from error
    tool = tool_by_client_id(str(unverified.get("iss", "")))
    if tool is None or not tool.is_enabled:
        raise LtiError("unknown tool", 401)
    claims = decode_tool_jwt(tool, token, audience=context.issuer, policy=context.outbound)
    lti = "https://purl.imsglobal.org/spec/lti/claim/"
    if claims.get(f"{lti}message_type") != "LtiDeepLinkingResponse":
        raise LtiError("not a deep-linking response")
    if claims.get(f"{lti}deployment_id") != tool.deployment_id:
        raise LtiError("unknown deployment", 401)
    nonce = payload.text(claims, "nonce", required=True)
    consume_once(f"dl-nonce:{tool.client_id}:{nonce}", now + timedelta(hours=1), now)
    data = payload.text(
        claims, "https://purl.imsglobal.org/spec/lti-dl/claim/data", max_length=4096
    )
    try:
        hint = _serializer(context).loads(data or "", max_age=3600)
    except (BadSignature, SignatureExpired) as error:
        raise LtiError("the response does not answer a request of ours", 401) from error
    user = db.session.get(User, hint.get("user"))
    if user is None or not hint.get("deep_link") or not user.has_role(Role.ADMIN):
        raise LtiError("only an administrator can choose a module's content", 403)
    content_items = claims.get("https://purl.imsglobal.org/spec/lti-dl/claim/content_items", [])
    if not isinstance(content_items, list) or not all(isinstance(i, dict) for i in content_items):
        raise LtiError("content_items must be a list of objects")
    items = [i for i in content_items if i.get("type") == "ltiResourceLink"]
    if len(items) != 1:
        raise LtiError("pick exactly one link")
    item = items[0]
    url = payload.text(item, "url", max_length=2000) or tool.launch_url
    if url and not url.startswith(("https://", "http://")):
        raise LtiError("the link must be a web address")
    module = db.session.get(Module, hint.get("module"))
    if module is None:
        raise LtiError("the module no longer exists", 404)
    link = resource_link(module)
    if link is None or link.tool_id != tool.id:
        raise LtiError("the module does not use this tool", 403)
    link.url = url
    link.title = str(item.get("title", ""))[:500] or None
    custom = item.get("custom") or {}
    link.custom = {str(k): str(v) for k, v in custom.items()} if isinstance(custom, dict) else {}
    db.session.flush()
    return link


def dumps(document: Any) -> str:
    return json.dumps(document, ensure_ascii=False)
