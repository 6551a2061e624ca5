"""LTI 1.3 platform launches (Core, and the request half of Deep Linking).

Every check the library leaves out is here: registered redirect URIs, signed and user-bound
login hints, single-use nonces. Services flush, never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version
from typing import Any
from urllib.parse import urlsplit

from itsdangerous import BadSignature
from itsdangerous import SignatureExpired
from itsdangerous import URLSafeTimedSerializer

from campus.auth.models import Role
from campus.auth.models import User
from campus.extensions import db
from campus.lti.common import consume_once
from campus.lti.common import enrol_for_launch
from campus.lti.constants import AGS_SCOPES
from campus.lti.constants import COURSE_SECTION
from campus.lti.constants import Claim
from campus.lti.constants import LisRole
from campus.lti.constants import Presentation
from campus.lti.errors import LtiError
from campus.lti.keys import PlatformContext
from campus.lti.keys import active_key
from campus.lti.keys import private_key
from campus.lti.models import LtiLineItem
from campus.lti.models import LtiResourceLink
from campus.lti.models import LtiTool
from campus.lti.platform.adapter import Launch
from campus.lti.platform.adapter import LoginInitiation
from campus.lti.platform.adapter import PlainRequest
from campus.lti.platform.adapter import PlatformConf
from campus.lti.platform.privacy import person_claims
from campus.lti.platform.privacy import subject_for
from campus.lti.platform.tools import resource_link
from campus.lti.platform.tools import tool_by_client_id
from campus.lti.platform.tools import tool_key_set
from campus.paths.models import Module
from campus.routing import external_url

HINT_SECONDS = 600
# Optional LTI 1.3 core claims (section 5.4): the platform instance, and the LIS identifiers.
TOOL_PLATFORM_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/tool_platform"
LIS_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/lis"


def lis_roles(user: User) -> list[str]:
    roles = [LisRole.LEARNER.value]
    if user.has_role(Role.ADMIN):
        roles += [LisRole.ADMINISTRATOR.value, LisRole.INSTRUCTOR.value]
    elif user.has_role(Role.ORG_ADMIN, Role.REVIEWER, Role.TUTOR_TEACHER):
        roles.append(LisRole.MENTOR.value)
    return roles


def hint_serializer(context: PlatformContext) -> URLSafeTimedSerializer:
    """Signs the login and message hints (and the deep-linking `data` that comes back)."""
    return URLSafeTimedSerializer(context.secret_key, salt="campus-lti-hints")


def platform_conf(
    tool: LtiTool, context: PlatformContext, now: datetime, with_tool_keys: bool = False
) -> PlatformConf:
    key = active_key(context, now)
    return PlatformConf(
        tool=tool,
        issuer=context.issuer,
        public_pem=key.public_pem,
        kid=key.kid,
        private_key=private_key(context, key),
        tool_jwks=tool_key_set(tool, context.outbound) if with_tool_keys else None,
    )


def login_initiation_url(
    user: User, module: Module, context: PlatformContext, now: datetime, deep_link: bool = False
) -> str:
    """Where to send the browser first: the tool's OIDC login, with hints bound to this user."""
    link = resource_link(module)
    if link is None or not link.tool.is_enabled:
        raise LtiError("the tool of this module is not available", 409)
    tool = link.tool
    serializer = hint_serializer(context)
    message_hint = serializer.dumps({"user": user.id, "module": module.id, "deep_link": deep_link})
    login = LoginInitiation(PlainRequest("GET", {}, {}), platform_conf(tool, context, now))
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
    params: dict[str, str],
    user: User,
    context: PlatformContext,
    now: datetime,
    language: str | None = None,
) -> LaunchForm:
    """The OIDC authentication response: validate the tool's request, then sign the id_token.

    `language` is the person's interface language, sent as `launch_presentation.locale`
    (default: the language of the current request)."""
    from campus.i18n import current_language

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
    serializer = hint_serializer(context)
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
    launch = Launch(PlainRequest("POST", {}, dict(params)), platform_conf(tool, context, now))
    _set_claims(
        launch,
        user,
        module,
        link,
        context,
        deep_link=bool(message_hint.get("deep_link")),
        message_hint=params["lti_message_hint"],
        language=language or current_language(),
    )
    data = launch.lti_launch()
    return LaunchForm(redirect_uri, data["id_token"], data["state"])


def tool_platform_claim(context: PlatformContext) -> dict[str, str]:
    """Which platform instance sent the message (`guid`: stable, the host of BASE_URL)."""
    try:
        campus_version = version("campus")
    except PackageNotFoundError:
        campus_version = "unknown"
    return {
        "guid": urlsplit(context.base_url).netloc or context.base_url,
        "name": "Campus",
        "product_family_code": "campus",
        "version": campus_version,
        "url": context.base_url,
    }


def coupled_line_item(tool: LtiTool, link: LtiResourceLink, context_id: str) -> LtiLineItem | None:
    """The line item of a resource link when it has exactly one (AGS 2.0: the launch must then
    name it in `endpoint.lineitem`); None when it has none or several."""
    items = list(
        db.session.execute(
            db.select(LtiLineItem)
            .where(
                LtiLineItem.tool_id == tool.id,
                LtiLineItem.context_id == context_id,
                LtiLineItem.resource_link_id == link.resource_link_id,
            )
            .limit(2)
        ).scalars()
    )
    return items[0] if len(items) == 1 else None


def _set_claims(
    launch: Launch,
    user: User,
    module: Module,
    link: LtiResourceLink,
    context: PlatformContext,
    deep_link: bool,
    message_hint: str,
    language: str,
) -> None:
    from campus.i18n import pick

    path = module.path
    tool = link.tool
    # Names and e-mail only as far as the tool's privacy level allows (campus.lti.platform.privacy).
    launch.set_user_data(subject_for(tool, user), lis_roles(user))
    launch.set_launch_context_claim(path.slug, [COURSE_SECTION], pick(path.title), path.slug)
    presentation = module.settings.get("presentation", Presentation.WINDOW)
    launch.set_extra_claims(
        {
            **person_claims(tool, user),
            Claim.LAUNCH_PRESENTATION.value: {
                "document_target": str(presentation),
                "return_url": external_url(
                    "paths.module", path_slug=path.slug, module_slug=module.slug
                ),
                "locale": language,
            },
            TOOL_PLATFORM_CLAIM: tool_platform_claim(context),
            # No person_sourcedid: the campus knows no student-information-system id.
            LIS_CLAIM: {"course_section_sourcedid": path.slug},
        }
    )
    if deep_link:
        launch.set_dl(
            external_url("lti.deep_link_return"),
            title=pick(module.title),
            accept_types={"ltiResourceLink"},
            extra_data=message_hint,
        )
        # Advertise only what is honoured: a module opens one link, in its own target.
        launch.set_dl_settings(
            accept_multiple=False, accept_presentation_document_targets=[str(presentation)]
        )
        return
    launch.set_resource_link_claim(link.resource_link_id, title=link.title or pick(module.title))
    if link.url:
        launch.set_launch_url(link.url)
    if link.custom:
        launch.set_custom_parameters_claim(dict(link.custom))
    ags: dict[str, Any] = {
        "scope": [scope.value for scope in AGS_SCOPES],
        "lineitems": context.lineitems_url(path.slug),
    }
    item = coupled_line_item(tool, link, path.slug)
    if item is not None:
        ags["lineitem"] = context.lineitem_url(path.slug, item.id)
    launch.set_extra_claims(
        {
            Claim.AGS_ENDPOINT.value: ags,
            Claim.NRPS.value: {
                "context_memberships_url": context.memberships_url(path.slug),
                "service_versions": ["2.0"],
            },
        }
    )
