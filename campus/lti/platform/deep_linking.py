"""Deep Linking 2.0, platform side: the tool's answer makes its link the module's resource link.

What a deep link can change, decided here (the request in `launch._set_claims` advertises it):
- One module opens one resource link (`LtiResourceLink.module_id` is unique, and modules come
  from the content files, which a deep link does not write). So the request advertises
  `accept_multiple: false` and a response with several `ltiResourceLink` items is refused (400)
  rather than half-applied.
- The module's `presentation` (window or iframe, from module.toml) is where its tool opens: that
  one target is advertised; `embed` is never (the campus cannot show embedded HTML).
- Custom parameters merge: the module's own (module.toml `custom`) stay, the item's override the
  keys it names.
- The item's `url` must be on a host registered for the tool (its launch, deep-linking or
  redirect URLs): a link elsewhere is refused (400), not launched silently.
- A `lineItem {scoreMaximum, label, resourceId, tag}` creates a line item bound to the link (as
  Moodle and Canvas do), or updates the one with the same resourceId and tag, so that launches
  name it in the AGS claim.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import jwt
from itsdangerous import BadSignature
from itsdangerous import SignatureExpired

from campus.auth.models import Role
from campus.auth.models import User
from campus.extensions import db
from campus.lti import payload
from campus.lti.common import consume_once
from campus.lti.constants import Claim
from campus.lti.constants import MessageType
from campus.lti.errors import LtiError
from campus.lti.keys import PlatformContext
from campus.lti.models import LtiLineItem
from campus.lti.models import LtiResourceLink
from campus.lti.models import LtiTool
from campus.lti.platform import ags
from campus.lti.platform.launch import hint_serializer
from campus.lti.platform.tools import decode_tool_jwt
from campus.lti.platform.tools import resource_link
from campus.lti.platform.tools import tool_by_client_id
from campus.paths.models import Module
from campus.routing import DEFAULT_PORTS

REQUEST_MAX_AGE = 3600  # seconds between our deep-linking request and the tool's answer
RESOURCE_LINK = "ltiResourceLink"


@dataclass(frozen=True)
class LineItemRequest:
    label: str | None
    score_maximum: float
    resource_id: str | None
    tag: str | None


def _origin(url: str) -> tuple[str, int | None]:
    """(host, port) of a web address, the port made explicit; ("", None) if it has no host."""
    try:
        parts = urlsplit(url)
        port = parts.port or DEFAULT_PORTS.get(parts.scheme.lower())
    except ValueError:
        return "", None
    return (parts.hostname or "").lower(), port


def _checked_url(item: dict[str, Any], tool: LtiTool) -> str:
    """The item's launch URL: absent means the tool's launch URL; otherwise a web address on a
    host registered for this tool."""
    url = payload.text(item, "url", max_length=2000) or tool.launch_url
    if not url.startswith(("https://", "http://")):
        raise LtiError("the link must be a web address")
    allowed = {_origin(u) for u in tool.allowed_redirect_uris}
    origin = _origin(url)
    if not origin[0] or origin not in allowed:
        raise LtiError("the link must be on a host registered for this tool")
    return url


def _checked_custom(item: dict[str, Any]) -> dict[str, str]:
    custom = item.get("custom")
    if custom is None:
        return {}
    if not isinstance(custom, dict):
        raise LtiError("custom must be an object")
    return {str(key): str(value) for key, value in custom.items()}


def _checked_line_item(item: dict[str, Any]) -> LineItemRequest | None:
    line_item = item.get("lineItem")
    if line_item is None:
        return None
    if not isinstance(line_item, dict):
        raise LtiError("lineItem must be an object")
    maximum = payload.number(line_item, "scoreMaximum", required=True, positive=True)
    assert maximum is not None
    label = payload.text(line_item, "label", max_length=500)
    return LineItemRequest(
        label=label.strip() if label and label.strip() else None,
        score_maximum=maximum,
        resource_id=payload.text(line_item, "resourceId") or None,
        tag=payload.text(line_item, "tag") or None,
    )


def _bind_line_item(
    tool: LtiTool, link: LtiResourceLink, module: Module, request: LineItemRequest
) -> LtiLineItem:
    """The link's line item with this resourceId and tag, updated; or a new one (choosing the
    same content again does not add a second gradebook column)."""
    from campus.i18n import pick

    label = (request.label or link.title or pick(module.title) or module.slug)[:500]
    context_id = module.path.slug
    query = db.select(LtiLineItem).where(
        LtiLineItem.tool_id == tool.id,
        LtiLineItem.context_id == context_id,
        LtiLineItem.resource_link_id == link.resource_link_id,
    )
    for column, value in (
        (LtiLineItem.resource_id, request.resource_id),
        (LtiLineItem.tag, request.tag),
    ):
        query = query.where(column == value if value else db.or_(column.is_(None), column == ""))
    existing = db.session.execute(query.order_by(LtiLineItem.id).limit(1)).scalar_one_or_none()
    if existing is not None:
        existing.label, existing.score_maximum = label, request.score_maximum
        db.session.flush()
        return existing
    body: dict[str, Any] = {
        "label": label,
        "scoreMaximum": request.score_maximum,
        "resourceLinkId": link.resource_link_id,
    }
    if request.resource_id:
        body["resourceId"] = request.resource_id
    if request.tag:
        body["tag"] = request.tag
    return ags.create_line_item(tool, context_id, body)


def accept_deep_link(token: str, context: PlatformContext, now: datetime) -> LtiResourceLink:
    """Validate the tool's deep-linking response and make its link the module's resource link.

    The response arrives as a cross-site POST, which carries no SameSite=Lax session cookie;
    the user is the one our signed `data` names (bound to them when the request was made).
    Everything is checked before anything is written; the view rolls back on a refusal.
    """
    try:
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as error:
        raise LtiError("malformed deep-linking response") from error
    tool = tool_by_client_id(str(unverified.get("iss", "")))
    if tool is None or not tool.is_enabled:
        raise LtiError("unknown tool", 401)
    claims = decode_tool_jwt(tool, token, audience=context.issuer, policy=context.outbound)
    if claims.get(Claim.MESSAGE_TYPE) != MessageType.DEEP_LINKING_RESPONSE:
        raise LtiError("not a deep-linking response")
    if claims.get(Claim.DEPLOYMENT_ID) != tool.deployment_id:
        raise LtiError("unknown deployment", 401)
    nonce = payload.text(claims, "nonce", required=True)
    consume_once(f"dl-nonce:{tool.client_id}:{nonce}", now + timedelta(hours=1), now)
    data = payload.text(claims, Claim.DL_DATA, max_length=4096)
    try:
        hint = hint_serializer(context).loads(data or "", max_age=REQUEST_MAX_AGE)
    except (BadSignature, SignatureExpired) as error:
        raise LtiError("the response does not answer a request of ours", 401) from error
    user = db.session.get(User, hint.get("user"))
    if user is None or not hint.get("deep_link") or not user.has_role(Role.ADMIN):
        raise LtiError("only an administrator can choose a module's content", 403)
    content_items = claims.get(Claim.DL_CONTENT_ITEMS, [])
    if not isinstance(content_items, list) or not all(isinstance(i, dict) for i in content_items):
        raise LtiError("content_items must be a list of objects")
    items = [i for i in content_items if i.get("type") == RESOURCE_LINK]
    if len(items) != 1:
        # accept_multiple is false: a module opens one link (see the module docstring).
        raise LtiError("a module opens one link: pick exactly one")
    item = items[0]
    url = _checked_url(item, tool)
    custom = _checked_custom(item)
    line_item = _checked_line_item(item)
    module = db.session.get(Module, hint.get("module"))
    if module is None:
        raise LtiError("the module no longer exists", 404)
    link = resource_link(module)
    if link is None or link.tool_id != tool.id:
        raise LtiError("the module does not use this tool", 403)
    link.url = url
    link.title = str(item.get("title") or "")[:500] or None
    own = module.settings.get("custom") or {}
    link.custom = {**{str(k): str(v) for k, v in own.items()}, **custom}
    db.session.flush()
    if line_item is not None:
        _bind_line_item(tool, link, module, line_item)
    return link
