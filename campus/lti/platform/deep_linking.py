"""Deep Linking 2.0, platform side: the tool's answer makes its link the module's resource link."""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta

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
from campus.lti.models import LtiResourceLink
from campus.lti.platform.launch import hint_serializer
from campus.lti.platform.tools import decode_tool_jwt
from campus.lti.platform.tools import resource_link
from campus.lti.platform.tools import tool_by_client_id
from campus.paths.models import Module

REQUEST_MAX_AGE = 3600  # seconds between our deep-linking request and the tool's answer


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
