"""LTI 1.3 platform: launches (Core, Deep Linking), tokens, AGS 2.0 and NRPS 2.0.

Services flush, never commit. Every check the library leaves out is here: registered
redirect URIs, signed and user-bound login hints, single-use nonces and token ids, the token
assertion's iss/sub/aud/exp/jti, scopes per endpoint.
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
import requests
from itsdangerous import BadSignature
from itsdangerous import SignatureExpired
from itsdangerous import URLSafeTimedSerializer
from jwcrypto.jwk import JWK
from sqlalchemy.exc import IntegrityError

from campus import keystore
from campus.auth.models import Role
from campus.auth.models import User
from campus.extensions import db
from campus.lti.adapter import Launch
from campus.lti.adapter import LoginInitiation
from campus.lti.adapter import PlainRequest
from campus.lti.adapter import PlatformConf
from campus.lti.adapter import jwk
from campus.lti.models import LtiKey
from campus.lti.models import LtiLineItem
from campus.lti.models import LtiReplay
from campus.lti.models import LtiResourceLink
from campus.lti.models import LtiScore
from campus.lti.models import LtiTool
from campus.paths import services as path_services
from campus.paths.models import CompletionSource
from campus.paths.models import Enrollment
from campus.paths.models import LearningPath
from campus.paths.models import Module

LIS = "http://purl.imsglobal.org/vocab/lis/v2"
SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_LINEITEM_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_RESULT = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
SUPPORTED_SCOPES = {SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, SCOPE_RESULT, SCOPE_SCORE, SCOPE_NRPS}
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
HINT_SECONDS = 600
TOKEN_SECONDS = 3600
KEY_GRACE = timedelta(days=30)


class LtiError(Exception):
    """A refused LTI request; `status` is the HTTP code to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class PlatformContext:
    base_url: str
    keys_dir: Path
    passphrase: str | None
    secret_key: str

    @classmethod
    def from_config(cls, config: Any) -> PlatformContext:
        return cls(
            str(config["BASE_URL"]).rstrip("/"),
            Path(config["KEYS_DIR"]),
            config.get("KEY_PASSPHRASE"),
            str(config["SECRET_KEY"]),
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
        tool_jwks=tool_key_set(tool) if with_tool_keys else None,
    )


_JWKS_CACHE: dict[str, tuple[float, dict[str, Any]]] = {}


def tool_key_set(tool: LtiTool, refresh: bool = False) -> dict[str, Any]:
    """The tool's public keys: stored inline, or fetched from its registered URL (cached 5 min;
    `refresh` skips the cache, for a key id the cached set does not know: the tool rotated)."""
    if tool.jwks:
        return tool.jwks
    if not tool.jwks_url:
        raise LtiError("the tool has no keys registered", 400)
    cached = _JWKS_CACHE.get(tool.jwks_url)
    if cached and cached[0] > time.monotonic() and not refresh:
        return cached[1]
    try:
        response = requests.get(tool.jwks_url, timeout=5)
        response.raise_for_status()
        key_set = response.json()
    except (requests.RequestException, ValueError) as error:
        raise LtiError("the tool's key set could not be read", 502) from error
    _JWKS_CACHE[tool.jwks_url] = (time.monotonic() + 300, key_set)
    return key_set


def decode_tool_jwt(tool: LtiTool, token: str, audience: str) -> dict[str, Any]:
    """Verify a JWT the tool signed: RS256, a key of the tool's, our audience, not expired."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise LtiError("malformed JWT") from error

    def matching(key_set: dict[str, Any]) -> list[dict[str, Any]]:
        return [k for k in key_set.get("keys", []) if k.get("kid") == header.get("kid")]

    candidates = matching(tool_key_set(tool)) or matching(tool_key_set(tool, refresh=True))
    if not candidates:
        raise LtiError("the JWT was not signed with a key of this tool", 401)
    public_pem = JWK(**candidates[0]).export_to_pem()
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
    claims = decode_tool_jwt(tool, token, audience=context.issuer)
    lti = "https://purl.imsglobal.org/spec/lti/claim/"
    if claims.get(f"{lti}message_type") != "LtiDeepLinkingResponse":
        raise LtiError("not a deep-linking response")
    if claims.get(f"{lti}deployment_id") != tool.deployment_id:
        raise LtiError("unknown deployment", 401)
    if not claims.get("nonce"):
        raise LtiError("nonce is required")
    consume_once(f"dl-nonce:{tool.client_id}:{claims['nonce']}", now + timedelta(hours=1), now)
    try:
        hint = _serializer(context).loads(
            claims.get("https://purl.imsglobal.org/spec/lti-dl/claim/data", ""), max_age=3600
        )
    except (BadSignature, SignatureExpired) as error:
        raise LtiError("the response does not answer a request of ours", 401) from error
    user = db.session.get(User, hint.get("user"))
    if user is None or not hint.get("deep_link") or not user.has_role(Role.ADMIN):
        raise LtiError("only an administrator can choose a module's content", 403)
    items = [
        i
        for i in claims.get("https://purl.imsglobal.org/spec/lti-dl/claim/content_items", [])
        if i.get("type") == "ltiResourceLink"
    ]
    if len(items) != 1:
        raise LtiError("pick exactly one link")
    item = items[0]
    url = item.get("url") or tool.launch_url
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


# --- tokens ------------------------------------------------------------------------------------


def issue_token(form: dict[str, str], context: PlatformContext, now: datetime) -> dict[str, Any]:
    """client_credentials grant with a JWT bearer assertion (1EdTech Security Framework)."""
    if form.get("grant_type") != "client_credentials":
        raise LtiError("unsupported grant_type")
    if form.get("client_assertion_type") != ASSERTION_TYPE:
        raise LtiError("unsupported client_assertion_type")
    assertion = form.get("client_assertion", "")
    try:
        unverified = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError as error:
        raise LtiError("malformed client_assertion", 401) from error
    tool = tool_by_client_id(str(unverified.get("sub", "")))
    if tool is None or not tool.is_enabled:
        raise LtiError("unknown client", 401)
    claims = decode_tool_jwt(tool, assertion, audience=context.token_url)
    if claims.get("iss") != tool.client_id or claims.get("sub") != tool.client_id:
        raise LtiError("iss and sub must be the client_id", 401)
    if not claims.get("jti"):
        raise LtiError("jti is required", 401)
    consume_once(
        f"jti:{tool.client_id}:{claims['jti']}",
        datetime.fromtimestamp(claims["exp"], UTC) + timedelta(minutes=5),
        now,
    )
    requested = set(form.get("scope", "").split())
    granted = sorted(requested & SUPPORTED_SCOPES)
    if not granted:
        raise LtiError("no supported scope requested")
    key = active_key(context, now)
    token = jwt.encode(
        {
            "iss": context.issuer,
            "sub": tool.client_id,
            "aud": context.token_url,
            "scope": " ".join(granted),
            "iat": int(now.timestamp()),
            "exp": int(now.timestamp()) + TOKEN_SECONDS,
            "jti": secrets.token_urlsafe(16),
        },
        keystore.load(context.keys_dir, key.file_name, context.passphrase),
        algorithm="RS256",
        headers={"kid": key.kid},
    )
    return {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": TOKEN_SECONDS,
        "scope": " ".join(granted),
    }


def authenticate(
    header: str | None, needed: set[str], context: PlatformContext, now: datetime
) -> LtiTool:
    """The tool behind a Bearer token holding one of `needed` scopes (scopes per endpoint)."""
    if not header or not header.startswith("Bearer "):
        raise LtiError("a Bearer token is required", 401)
    token = header.removeprefix("Bearer ").strip()
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.PyJWTError as error:
        raise LtiError("malformed token", 401) from error
    key = db.session.execute(db.select(LtiKey).where(LtiKey.kid == kid)).scalar_one_or_none()
    if key is None:
        raise LtiError("unknown token key", 401)
    try:
        claims = jwt.decode(
            token,
            key.public_pem,
            algorithms=["RS256"],
            audience=context.token_url,
            issuer=context.issuer,
        )
    except jwt.PyJWTError as error:
        raise LtiError(f"invalid token: {error}", 401) from error
    if not set(claims.get("scope", "").split()) & needed:
        raise LtiError("the token lacks the scope for this endpoint", 403)
    tool = tool_by_client_id(str(claims.get("sub", "")))
    if tool is None or not tool.is_enabled:
        raise LtiError("unknown client", 401)
    return tool


# --- AGS ---------------------------------------------------------------------------------------


def context_path(context_id: str) -> LearningPath:
    path = path_services.get_path(context_id)
    if path is None:
        raise LtiError("unknown context", 404)
    return path


def _module_for_link(resource_link_id: str | None, tool: LtiTool, context_id: str) -> Module | None:
    """The module behind a resource link of this tool, in this context (path) only."""
    if not resource_link_id:
        return None
    link = db.session.execute(
        db.select(LtiResourceLink).where(LtiResourceLink.resource_link_id == resource_link_id)
    ).scalar_one_or_none()
    module = db.session.get(Module, link.module_id) if link is not None else None
    if link is None or link.tool_id != tool.id or module is None or module.path.slug != context_id:
        raise LtiError("unknown resourceLinkId in this context", 400)
    return module


def line_item_document(item: LtiLineItem, context: PlatformContext) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": context.lineitem_url(item.context_id, item.id),
        "label": item.label,
        "scoreMaximum": item.score_maximum,
    }
    if item.resource_link_id:
        document["resourceLinkId"] = item.resource_link_id
    if item.resource_id:
        document["resourceId"] = item.resource_id
    if item.tag:
        document["tag"] = item.tag
    return document


def list_line_items(tool: LtiTool, context_id: str, filters: dict[str, str]) -> list[LtiLineItem]:
    context_path(context_id)
    query = db.select(LtiLineItem).where(
        LtiLineItem.tool_id == tool.id, LtiLineItem.context_id == context_id
    )
    for field in ("resource_link_id", "resource_id", "tag"):
        if filters.get(field):
            query = query.where(getattr(LtiLineItem, field) == filters[field])
    return list(db.session.execute(query.order_by(LtiLineItem.id)).scalars())


def create_line_item(tool: LtiTool, context_id: str, body: dict[str, Any]) -> LtiLineItem:
    context_path(context_id)
    try:
        maximum = float(body["scoreMaximum"])
        label = str(body["label"]).strip()
    except (KeyError, TypeError, ValueError) as error:
        raise LtiError("label and scoreMaximum are required") from error
    if maximum <= 0 or not label:
        raise LtiError("scoreMaximum must be positive and label non-empty")
    resource_link_id = body.get("resourceLinkId")
    _module_for_link(resource_link_id, tool, context_id)
    item = LtiLineItem(
        tool_id=tool.id,
        context_id=context_id,
        resource_link_id=resource_link_id,
        label=label[:500],
        score_maximum=maximum,
        resource_id=str(body.get("resourceId", ""))[:255],
        tag=str(body.get("tag", ""))[:255],
    )
    try:
        with db.session.begin_nested():
            db.session.add(item)
    except IntegrityError as error:
        raise LtiError("a line item with this resourceId and tag exists", 409) from error
    return item


def get_line_item(tool: LtiTool, context_id: str, item_id: int) -> LtiLineItem:
    item = db.session.get(LtiLineItem, item_id)
    if item is None or item.tool_id != tool.id or item.context_id != context_id:
        raise LtiError("unknown line item", 404)
    return item


def user_from_sub(sub: str) -> User | None:
    if not sub.startswith("campus-user-"):
        return None
    try:
        return db.session.get(User, int(sub.removeprefix("campus-user-")))
    except ValueError:
        return None


def post_score(
    item: LtiLineItem, body: dict[str, Any], now: datetime
) -> path_services.CompletionResult | None:
    """Store the score; a completed, graded score at the module's pass mark completes the module."""
    user = user_from_sub(str(body.get("userId", "")))
    path = context_path(item.context_id)
    enrolled = (
        user is not None
        and db.session.execute(
            db.select(Enrollment.id).where(
                Enrollment.user_id == user.id, Enrollment.path_id == path.id
            )
        ).first()
    )
    if user is None or not enrolled:
        raise LtiError("userId is not a member of this context")
    activity = body.get("activityProgress")
    grading = body.get("gradingProgress")
    valid_activity = {"Initialized", "Started", "InProgress", "Submitted", "Completed"}
    valid_grading = {"FullyGraded", "Pending", "PendingManual", "Failed", "NotReady"}
    if activity not in valid_activity or grading not in valid_grading:
        raise LtiError("activityProgress and gradingProgress are required")
    try:
        given = float(body["scoreGiven"]) if body.get("scoreGiven") is not None else None
        maximum = float(body["scoreMaximum"]) if body.get("scoreMaximum") is not None else None
        timestamp = datetime.fromisoformat(str(body["timestamp"]).replace("Z", "+00:00"))
    except (KeyError, TypeError, ValueError) as error:
        raise LtiError("timestamp is required; scores must be numbers") from error
    if given is not None and (maximum is None or maximum <= 0 or given < 0):
        raise LtiError("scoreGiven needs a positive scoreMaximum")
    db.session.add(
        LtiScore(
            line_item_id=item.id,
            user_id=user.id,
            score_given=given,
            score_maximum=maximum,
            activity_progress=activity,
            grading_progress=grading,
            comment=str(body.get("comment", ""))[:5000] or None,
            timestamp=timestamp,
        )
    )
    db.session.flush()
    module = _module_for_link(
        item.resource_link_id, db.session.get(LtiTool, item.tool_id), item.context_id
    )
    if module is None or module.is_retired:
        return None
    if activity != "Completed" and grading != "FullyGraded":
        return None
    pass_mark = float(module.settings.get("pass_mark", 0))
    percent = 100.0 * given / maximum if given is not None and maximum else None
    if pass_mark and (percent is None or percent < pass_mark):
        return None
    return path_services.complete_module(user, module, CompletionSource.LTI, now, score=percent)


def results(item: LtiLineItem, context: PlatformContext) -> list[dict[str, Any]]:
    latest: dict[int, LtiScore] = {}
    for score in db.session.execute(
        db.select(LtiScore)
        .where(LtiScore.line_item_id == item.id)
        .order_by(LtiScore.timestamp, LtiScore.id)
    ).scalars():
        latest[score.user_id] = score
    return [
        {
            "id": f"{context.lineitem_url(item.context_id, item.id)}/results/{score.user_id}",
            "scoreOf": context.lineitem_url(item.context_id, item.id),
            "userId": f"campus-user-{score.user_id}",
            "resultScore": score.score_given,
            "resultMaximum": score.score_maximum,
            "comment": score.comment,
        }
        for score in latest.values()
    ]


# --- NRPS --------------------------------------------------------------------------------------


def members_page(
    context_id: str, page: int, limit: int, context: PlatformContext
) -> tuple[dict[str, Any], str | None]:
    """A page of the path's members (everyone enrolled); the next page's URL, if any."""
    from campus.i18n import pick

    path = context_path(context_id)
    page, limit = max(page, 1), min(max(limit, 1), 100)
    query = (
        db.select(User)
        .join(Enrollment, Enrollment.user_id == User.id)
        .where(Enrollment.path_id == path.id)
        .order_by(User.id)
    )
    users = list(db.session.execute(query.offset((page - 1) * limit).limit(limit + 1)).scalars())
    has_next = len(users) > limit
    members = [
        {
            "status": "Active",
            "user_id": f"campus-user-{u.id}",
            "name": u.name,
            "email": u.email,
            "roles": lis_roles(u),
        }
        for u in users[:limit]
    ]
    document = {
        "id": context.memberships_url(context_id),
        "context": {"id": path.slug, "label": path.slug, "title": pick(path.title)},
        "members": members,
    }
    next_url = (
        f"{context.memberships_url(context_id)}?page={page + 1}&limit={limit}" if has_next else None
    )
    return document, next_url


def dumps(document: Any) -> str:
    return json.dumps(document, ensure_ascii=False)
