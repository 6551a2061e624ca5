"""Conditional GET for the public Open Badges documents.

Verifiers and backpacks fetch the same documents again and again (the revocation list with every
signed badge they check): a strong ETag lets them revalidate with `If-None-Match` and get an empty
304 back. `Cache-Control` stays what each view set: the revocation list is still `no-cache`, i.e.
"ask every time", and now the asking is cheap.
"""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta

from flask import Response
from flask import request

from campus.clock import aware
from campus.clock import utcnow

# HTTP dates have whole seconds: a time less than this old may yet be followed by a change in the
# same second, which `If-Modified-Since` could not see (RFC 9110 8.8.2.2, "implicitly weak").
SETTLED = timedelta(seconds=1)


def conditional(
    response: Response, last_modified: datetime | None = None, now: datetime | None = None
) -> Response:
    """Give `response` a strong ETag (a hash of its body) and, when `last_modified` is a settled
    time, a Last-Modified; a 2xx answer becomes an empty 304 when the request's validators match.

    Other statuses (a revoked assertion's 410) carry the validators but are never turned into 304:
    conditional headers only apply to what would be a 2xx (RFC 9110 13.2.1).
    """
    response.add_etag()
    if last_modified is not None:
        moment = aware(last_modified)
        if (now or utcnow()) - moment >= SETTLED:
            response.last_modified = moment
    if 200 <= response.status_code < 300 and _asks_conditionally(request.environ):
        response.make_conditional(request)  # werkzeug sends a 304 without its body
    return response


# The request headers that can turn an answer into a 304 or a 412 (RFC 9110 13.1), as WSGI names.
CONDITIONAL_HEADERS = (
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_IF_MATCH",
    "HTTP_IF_UNMODIFIED_SINCE",
    "HTTP_IF_RANGE",
    "HTTP_RANGE",
)


def _asks_conditionally(environ: dict) -> bool:
    """Most fetches carry no validator: then there is nothing for werkzeug to compare."""
    return any(name in environ for name in CONDITIONAL_HEADERS)
