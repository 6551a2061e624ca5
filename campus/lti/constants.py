"""The LTI vocabulary, typed once: LIS roles, claim names, AGS and NRPS scopes and media types,
and the campus's own formats (the user id it sends to tools, the keys of LMS grade targets)."""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple

LIS = "http://purl.imsglobal.org/vocab/lis/v2"
COURSE_SECTION = f"{LIS}/course#CourseSection"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
MAX_ID = 2**63 - 1  # larger ids cannot name a row (and would overflow the database driver)


class LisRole(StrEnum):
    LEARNER = f"{LIS}/membership#Learner"
    INSTRUCTOR = f"{LIS}/membership#Instructor"
    MENTOR = f"{LIS}/membership#Mentor"
    ADMINISTRATOR = f"{LIS}/institution/person#Administrator"


class Claim(StrEnum):
    MESSAGE_TYPE = "https://purl.imsglobal.org/spec/lti/claim/message_type"
    DEPLOYMENT_ID = "https://purl.imsglobal.org/spec/lti/claim/deployment_id"
    CUSTOM = "https://purl.imsglobal.org/spec/lti/claim/custom"
    LAUNCH_PRESENTATION = "https://purl.imsglobal.org/spec/lti/claim/launch_presentation"
    AGS_ENDPOINT = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
    NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
    DL_DATA = "https://purl.imsglobal.org/spec/lti-dl/claim/data"
    DL_CONTENT_ITEMS = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"
    DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"


class MessageType(StrEnum):
    RESOURCE_LINK = "LtiResourceLinkRequest"
    DEEP_LINKING = "LtiDeepLinkingRequest"
    DEEP_LINKING_RESPONSE = "LtiDeepLinkingResponse"


class Scope(StrEnum):
    LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
    LINEITEM_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
    RESULT = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
    SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
    NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"


AGS_SCOPES = (Scope.LINEITEM, Scope.LINEITEM_READONLY, Scope.RESULT, Scope.SCORE)
SUPPORTED_SCOPES = frozenset(scope.value for scope in Scope)


class MediaType(StrEnum):
    LINEITEM = "application/vnd.ims.lis.v2.lineitem+json"
    LINEITEM_CONTAINER = "application/vnd.ims.lis.v2.lineitemcontainer+json"
    RESULT_CONTAINER = "application/vnd.ims.lis.v2.resultcontainer+json"
    MEMBERSHIP_CONTAINER = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"


class ActivityProgress(StrEnum):
    INITIALIZED = "Initialized"
    STARTED = "Started"
    IN_PROGRESS = "InProgress"
    SUBMITTED = "Submitted"
    COMPLETED = "Completed"


class GradingProgress(StrEnum):
    FULLY_GRADED = "FullyGraded"
    PENDING = "Pending"
    PENDING_MANUAL = "PendingManual"
    FAILED = "Failed"
    NOT_READY = "NotReady"


class Presentation(StrEnum):
    """Where a module opens its tool (`presentation` in module.toml) or an LMS shows the campus."""

    WINDOW = "window"
    IFRAME = "iframe"


# --- the campus's user id in messages to tools (sub, NRPS user_id, AGS userId) ----------------

SUBJECT_PREFIX = "campus-user-"


def subject(user_id: int) -> str:
    return f"{SUBJECT_PREFIX}{user_id}"


def user_id_of(sub: str) -> int | None:
    """The campus user id a tool sent back, or None when it is not one of ours."""
    number = sub.removeprefix(SUBJECT_PREFIX)
    if not sub.startswith(SUBJECT_PREFIX) or not number.isascii() or not number.isdigit():
        return None
    return int(number) if 0 < int(number) <= MAX_ID else None


# --- what an LMS link opens, and where its result goes: "module:<path>/<module>", "path:<path>" --


class TargetKind(StrEnum):
    PATH = "path"
    MODULE = "module"


class Target(NamedTuple):
    kind: TargetKind
    path_slug: str
    module_slug: str | None


def target_key(path_slug: str, module_slug: str | None = None) -> str:
    """`module:<path>/<module>` for a module, `path:<path>` for a whole path."""
    if module_slug:
        return f"{TargetKind.MODULE}:{path_slug}/{module_slug}"
    return f"{TargetKind.PATH}:{path_slug}"


def parse_target(key: str) -> Target | None:
    """The parts of a target key (custom `campus_target` of an LMS link), or None."""
    kind, _, rest = key.partition(":")
    path_slug, _, module_slug = rest.partition("/")
    if kind == TargetKind.PATH and path_slug and not module_slug:
        return Target(TargetKind.PATH, path_slug, None)
    if kind == TargetKind.MODULE and path_slug and module_slug:
        return Target(TargetKind.MODULE, path_slug, module_slug)
    return None
