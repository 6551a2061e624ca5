"""Readable API documentation at /api/v1/docs, rendered on the server from the OpenAPI document.

No Swagger UI or ReDoc: they load scripts from CDNs, which the campus's Content-Security-Policy
refuses, and a plain page works without JavaScript and with a screen reader.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from typing import Any

from flask import Blueprint
from flask import current_app
from flask import render_template

from campus.api.token_forms import SCOPE_LABELS

bp = Blueprint("api_docs", __name__)

METHODS = ("get", "post", "put", "patch", "delete")


@dataclass
class Parameter:
    name: str
    location: str
    required: bool
    type: str
    description: str


@dataclass
class Reply:
    status: str
    description: str
    content_types: list[str]
    headers: list[str] = field(default_factory=list)


@dataclass
class Operation:
    method: str
    path: str
    summary: str
    description: str
    anchor: str
    parameters: list[Parameter] = field(default_factory=list)
    body_types: list[str] = field(default_factory=list)
    scopes: list[str] | None = None  # None: no token needed
    responses: list[Reply] = field(default_factory=list)


@dataclass
class Section:
    name: str
    description: str
    operations: list[Operation]


@bp.get("/api/v1/docs")
def docs():  # type: ignore[no-untyped-def]
    spec = current_app.extensions["campus.api"].documented().to_dict()
    base_url = str(current_app.config.get("BASE_URL", "")).rstrip("/")
    schemes = spec.get("components", {}).get("securitySchemes", {})
    described = (
        schemes.get("oauth2", {}).get("flows", {}).get("clientCredentials", {}).get("scopes", {})
    )
    # The page speaks the reader's language: the token form's labels, the document's otherwise.
    scopes = {name: SCOPE_LABELS.get(name, text) for name, text in described.items()}
    return render_template(
        "api/docs.html",
        info=spec.get("info", {}),
        sections=sections(spec),
        scopes=scopes,
        base_url=base_url,
    )


def sections(spec: dict[str, Any]) -> list[Section]:
    """The operations of `spec` by tag, in the order of the document's tags."""
    tags = {tag["name"]: tag.get("description") or "" for tag in spec.get("tags", [])}
    grouped: dict[str, list[Operation]] = {name: [] for name in tags}
    for path, item in spec.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method in METHODS:
            if method not in item:
                continue
            raw = item[method]
            operation = _operation(spec, method, path, raw, shared)
            for tag in raw.get("tags") or ["other"]:
                grouped.setdefault(tag, []).append(operation)
    return [
        Section(name, tags.get(name, ""), operations)
        for name, operations in grouped.items()
        if operations
    ]


def _operation(
    spec: dict[str, Any], method: str, path: str, raw: dict[str, Any], shared: list[Any]
) -> Operation:
    parameters = [_parameter(_resolve(spec, p)) for p in [*shared, *raw.get("parameters", [])]]
    body = _resolve(spec, raw.get("requestBody", {}))
    security = raw.get("security")
    scopes = None
    if security:
        scopes = sorted(
            {scope for requirement in security for s in requirement.values() for scope in s}
        )
    responses = []
    for status, response in raw.get("responses", {}).items():
        response = _resolve(spec, response)
        responses.append(
            Reply(
                str(status),
                response.get("description", ""),
                list(response.get("content", {})),
                list(response.get("headers", {})),
            )
        )
    return Operation(
        method=method.upper(),
        path=path,
        summary=raw.get("summary", ""),
        description=raw.get("description", ""),
        anchor=raw.get("operationId") or f"{method}-{path}".replace("/", "-").strip("-"),
        parameters=parameters,
        body_types=list(body.get("content", {})),
        scopes=scopes,
        responses=sorted(responses, key=lambda reply: (reply.status == "default", reply.status)),
    )


def _parameter(raw: dict[str, Any]) -> Parameter:
    schema = raw.get("schema", {})
    kind = schema.get("type", "")
    if "enum" in schema:
        kind = " | ".join(str(value) for value in schema["enum"])
    elif "minimum" in schema or "maximum" in schema:
        kind = f"{kind} {schema.get('minimum', '')}…{schema.get('maximum', '')}"
    return Parameter(
        name=raw.get("name", ""),
        location=raw.get("in", ""),
        required=bool(raw.get("required")),
        type=str(kind if not isinstance(kind, list) else " | ".join(kind)),
        description=raw.get("description", "") or schema.get("description", ""),
    )


def _resolve(spec: dict[str, Any], item: Any) -> dict[str, Any]:
    """Follow a local `$ref` (#/components/...) once or more."""
    seen = 0
    while isinstance(item, dict) and "$ref" in item and seen < 10:
        target: Any = spec
        for part in item["$ref"].removeprefix("#/").split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        item, seen = target, seen + 1
    return item if isinstance(item, dict) else {}
