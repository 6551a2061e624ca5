"""Type checks for what tools send us (AGS JSON, token forms, deep-linking claims).

A field of the wrong type is the sender's error: a 400 with a message naming the field, raised
before anything is written. One set of helpers, used by every endpoint.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from campus.clock import aware
from campus.lti.errors import LtiError


def json_object(data: bytes, media_type: str) -> dict[str, Any]:
    """The request body as a JSON object (`application/json` or any `+json` type)."""
    if media_type != "application/json" and not (
        media_type.startswith("application/") and media_type.endswith("+json")
    ):
        raise LtiError("the body must be JSON (Content-Type application/json or …+json)", 415)
    try:
        body = json.loads(data or b"{}")
    except (ValueError, RecursionError) as error:
        raise LtiError("the body must be valid JSON") from error
    if not isinstance(body, dict):
        raise LtiError("the body must be a JSON object")
    return body


def _given(body: Mapping[str, Any], key: str, required: bool) -> Any:
    """The value, or None when absent or null (refused when `required`)."""
    value = body.get(key)
    if value is None and required:
        raise LtiError(f"{key} is required")
    return value


def number(
    body: Mapping[str, Any], key: str, *, required: bool = False, positive: bool = False
) -> float | None:
    """A finite JSON number (not a string, not a boolean), ≥ 0, or > 0 when `positive`."""
    value = _given(body, key, required)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise LtiError(f"{key} must be a number")
    try:
        result = float(value)
    except OverflowError as error:
        raise LtiError(f"{key} is out of range") from error
    if not math.isfinite(result) or result < 0 or (positive and result == 0):
        raise LtiError(f"{key} must be a finite number {'above' if positive else 'of at least'} 0")
    return result


def finite(value: float | None) -> float | None:
    """A stored number fit for a JSON document we send: None unless finite (JSON has no NaN,
    Infinity or -Infinity, and a row written before the checks above might hold one)."""
    if value is None or isinstance(value, bool):
        return None
    return float(value) if math.isfinite(value) else None


def text(
    body: Mapping[str, Any],
    key: str,
    *,
    required: bool = False,
    max_length: int = 255,
    choices: frozenset[str] | None = None,
) -> str | None:
    """A JSON string of at most `max_length` characters (one of `choices`, if given)."""
    value = _given(body, key, required)
    if value is None:
        return None
    if not isinstance(value, str):
        raise LtiError(f"{key} must be a string")
    if len(value) > max_length:
        raise LtiError(f"{key} is longer than {max_length} characters")
    if "\x00" in value:
        raise LtiError(f"{key} must not contain NUL characters")
    if required and not value.strip():
        raise LtiError(f"{key} must not be empty")
    if choices is not None and value not in choices:
        raise LtiError(f"{key} must be one of {', '.join(sorted(choices))}")
    return value


def timestamp(body: Mapping[str, Any], key: str) -> datetime:
    """A required ISO 8601 date and time; one without a time zone is taken as UTC."""
    value = text(body, key, required=True, max_length=64)
    assert value is not None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as error:
        raise LtiError(f"{key} must be an ISO 8601 date and time") from error
    return aware(moment)


def form_field(form: Mapping[str, list[str]], key: str) -> str:
    """A form parameter sent exactly once (RFC 6749 §3.2: never repeated); empty when absent."""
    values = form.get(key, [])
    if len(values) > 1:
        raise LtiError(f"`{key}` is repeated")
    return values[0] if values else ""
