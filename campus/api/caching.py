"""Conditional GET: a strong ETag over the exact JSON bytes, 304 on a matching If-None-Match.

The tag is a hash of the body, so every host of the campus computes the same one and a client
that polls the catalogue downloads it again only when it changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask import Response
from flask import json
from flask import request

from campus.clock import aware

# For `@blp.alt_response(304, ...)` and `@blp.response(200, ..., headers=...)` documentation.
ETAG_HEADERS = {
    "ETag": {"description": "Strong entity tag of the body", "schema": {"type": "string"}},
}
NOT_MODIFIED = "Not modified: the If-None-Match tag still matches"


def conditional_json(
    payload: Any,
    last_modified: datetime | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    public: bool = True,
) -> Response:
    """`payload` as JSON with ETag (and Last-Modified when given); 304 when the request's
    If-None-Match names the tag (or, without one, If-Modified-Since is not older).

    `public=False` for a caller's own data: shared caches must not keep it.
    """
    body = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    etag = hashlib.sha256(body.encode()).hexdigest()[:32]
    response = Response(body, mimetype="application/json")
    response.set_etag(etag)
    if last_modified is not None:
        response.last_modified = aware(last_modified).replace(microsecond=0)
    response.headers["Cache-Control"] = "public, no-cache" if public else "private, no-cache"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if _not_modified(etag, response.last_modified):
        response.status_code = 304
        response.set_data(b"")
        del response.headers["Content-Type"]
    return response


def _not_modified(etag: str, last_modified: datetime | None) -> bool:
    if request.method not in ("GET", "HEAD"):
        return False
    if request.if_none_match:  # RFC 9110 §13.2.2: If-None-Match wins over If-Modified-Since
        return request.if_none_match.contains_weak(etag)
    since = request.if_modified_since
    return last_modified is not None and since is not None and last_modified <= aware(since)
