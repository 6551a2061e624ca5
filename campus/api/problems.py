"""RFC 9457 problem details: every error under /api/v1 is `application/problem+json`.

Clients of the API are programs: they get a machine-readable body with the same shape for every
error (a 404 of an unknown path, a 422 of a bad query, a 500), never the HTML error page.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any
from typing import NoReturn

import marshmallow as ma
from flask import Response
from flask import abort
from flask import json
from flask import request
from werkzeug.exceptions import HTTPException

PROBLEM_JSON = "application/problem+json"
API_PREFIX = "/api/v1"


class ProblemDetailsSchema(ma.Schema):
    """RFC 9457 §3.1 members (documentation only: `problem()` builds the body)."""

    type = ma.fields.String(
        required=True, metadata={"description": "A URI reference that names the problem type"}
    )
    title = ma.fields.String(required=True, metadata={"description": "Short summary"})
    status = ma.fields.Integer(required=True, metadata={"description": "The HTTP status code"})
    detail = ma.fields.String(metadata={"description": "What went wrong in this occurrence"})
    instance = ma.fields.String(metadata={"description": "The request path"})
    errors = ma.fields.Dict(
        metadata={"description": "Validation errors by location and field (422 only)"}
    )


def is_api_request() -> bool:
    """True for requests the API answers (its paths, whether or not a route matched)."""
    path = request.path
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")


def problem(
    status: int,
    title: str | None = None,
    detail: str | None = None,
    type_: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> Response:
    """A problem details response. `title` defaults to the status phrase; `type_` to about:blank
    (RFC 9457 §4.2.1: the title is then the phrase of the status)."""
    phrase = _phrase(status)
    body: dict[str, Any] = {
        "type": type_ or "about:blank",
        "title": title or phrase,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    body["instance"] = request.path
    body.update(extensions)
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def abort_problem(
    status: int,
    title: str | None = None,
    detail: str | None = None,
    type_: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> NoReturn:
    """Stop the request with a problem details response (werkzeug passes it through as is)."""
    abort(problem(status, title, detail, type_, headers, **extensions))


def from_exception(error: HTTPException) -> Response:
    """The problem details of an HTTPException: webargs/flask-smorest's validation messages
    become `errors`; the exception's own headers (Allow, WWW-Authenticate) are kept."""
    if error.response is not None and error.code is None:
        return error.response  # type: ignore[return-value]
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    extensions: dict[str, Any] = {}
    messages = data.get("errors") or data.get("messages")
    if messages:
        extensions["errors"] = messages
    detail = data.get("message") or _own_description(error)
    headers = {
        name: value
        for name, value in error.get_headers()
        if name.lower() not in ("content-type", "content-length")
    }
    headers.update(data.get("headers") or {})
    if status == 422 and not detail:
        detail = "The request's parameters or body did not validate; see errors."
    return problem(status, detail=detail, headers=headers, **extensions)


def internal_error() -> Response:
    return problem(500, detail="Something went wrong on our side. Nothing was saved.")


def _own_description(error: HTTPException) -> str | None:
    """A description passed to abort() (ours); werkzeug's generic texts add nothing."""
    description = error.description
    return description if description and description != type(error).description else None


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
