"""What a tool learns about a person: one rule for launches and for the member list (NRPS).

Per tool (`LtiTool.privacy`): anonymous (no name, no e-mail), name only, or name and e-mail
(the default, as before). With `LtiTool.pairwise_sub` the tool gets a `sub` of its own for each
person (random, stored in LtiToolSubject), so that two tools cannot match their records;
otherwise the campus-wide `campus-user-<id>`.
"""

from __future__ import annotations

import secrets
from enum import StrEnum

from campus.auth.models import User
from campus.extensions import db
from campus.insert_once import insert_once
from campus.lti.constants import subject
from campus.lti.constants import user_id_of
from campus.lti.models import LtiTool
from campus.lti.models import LtiToolSubject


class ToolPrivacy(StrEnum):
    ANONYMOUS = "anonymous"
    NAME = "name"
    NAME_EMAIL = "name_email"


def privacy_of(tool: LtiTool) -> ToolPrivacy:
    try:
        return ToolPrivacy(tool.privacy)
    except ValueError:
        return ToolPrivacy.ANONYMOUS  # an unknown stored value shares the least


def subject_for(tool: LtiTool, user: User) -> str:
    """The `sub` this tool knows `user` by (created on first use for a pairwise tool)."""
    if not tool.pairwise_sub:
        return subject(user.id)
    found = db.session.get(LtiToolSubject, (tool.id, user.id))
    if found is None:
        insert_once(LtiToolSubject, tool_id=tool.id, user_id=user.id, sub=secrets.token_hex(16))
        found = db.session.get(LtiToolSubject, (tool.id, user.id))
    assert found is not None
    return found.sub


def user_id_for(tool: LtiTool, sub: str) -> int | None:
    """The campus user a `sub` sent back by this tool stands for, or None."""
    if not tool.pairwise_sub:
        return user_id_of(sub)
    return db.session.execute(
        db.select(LtiToolSubject.user_id).where(
            LtiToolSubject.tool_id == tool.id, LtiToolSubject.sub == sub
        )
    ).scalar_one_or_none()


def person_claims(tool: LtiTool, user: User) -> dict[str, str]:
    """The identity claims the tool may have besides `sub` (OIDC names: name, given_name,
    family_name, email), by the tool's privacy level."""
    level = privacy_of(tool)
    if level == ToolPrivacy.ANONYMOUS:
        return {}
    given, _, family = user.name.strip().partition(" ")
    claims = {"name": user.name, "given_name": given}
    if family:
        claims["family_name"] = family
    if level == ToolPrivacy.NAME_EMAIL:
        claims["email"] = user.email
    return claims
