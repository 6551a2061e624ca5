"""AGS and NRPS endpoints (blueprint "lti"): every call carries a Bearer token from `/lti/token`
whose scopes must cover the endpoint; bodies are type-checked before anything is written."""

from __future__ import annotations

import json
from typing import Any

from flask import Response
from flask import request

from campus.clock import utcnow
from campus.extensions import csrf
from campus.extensions import db
from campus.lti import payload
from campus.lti.constants import MediaType
from campus.lti.constants import Scope
from campus.lti.errors import LtiError
from campus.lti.models import LtiTool
from campus.lti.platform import ags
from campus.lti.platform import nrps
from campus.lti.platform import tokens
from campus.lti.platform.views import bp
from campus.lti.platform.views import error_response
from campus.lti.platform.views import json_response
from campus.lti.platform.views import platform_context
from campus.routing import page_number


def _tool(scopes: set[str]) -> LtiTool:
    return tokens.authenticate(
        request.headers.get("Authorization"), scopes, platform_context(), utcnow()
    )


def _body() -> dict[str, Any]:
    return payload.json_object(request.get_data(), request.mimetype)


def _strict_json(document: Any, media_type: str, status: int = 200) -> Response:
    """Like `json_response`, but strict JSON only: `allow_nan=False` (the documents were built
    with `payload.finite`, so a NaN or Infinity here is a bug, not the tool's input)."""
    return Response(
        json.dumps(document, ensure_ascii=False, allow_nan=False),
        status=status,
        mimetype=media_type,
    )


@bp.route("/ags/<context_id>/lineitems", methods=["GET", "POST"])
@csrf.exempt
def lineitems(context_id: str):  # type: ignore[no-untyped-def]
    context = platform_context()
    try:
        if request.method == "POST":
            tool = _tool({Scope.LINEITEM})
            item = ags.create_line_item(tool, context_id, _body())
            db.session.commit()
            return _strict_json(ags.line_item_document(item, context), MediaType.LINEITEM, 201)
        tool = _tool({Scope.LINEITEM, Scope.LINEITEM_READONLY})
        filters = {
            "resource_link_id": request.args.get("resource_link_id", ""),
            "resource_id": request.args.get("resource_id", ""),
            "tag": request.args.get("tag", ""),
        }
        items = ags.list_line_items(tool, context_id, filters)
        return _strict_json(
            [ags.line_item_document(i, context) for i in items], MediaType.LINEITEM_CONTAINER
        )
    except LtiError as error:
        return error_response(error)


@bp.route("/ags/<context_id>/lineitems/<int:item_id>", methods=["GET", "PUT", "DELETE"])
@csrf.exempt
def lineitem(context_id: str, item_id: int):  # type: ignore[no-untyped-def]
    context = platform_context()
    try:
        if request.method == "GET":
            tool = _tool({Scope.LINEITEM, Scope.LINEITEM_READONLY})
            return _strict_json(
                ags.line_item_document(ags.get_line_item(tool, context_id, item_id), context),
                MediaType.LINEITEM,
            )
        tool = _tool({Scope.LINEITEM})
        item = ags.get_line_item(tool, context_id, item_id)
        if request.method == "DELETE":
            db.session.delete(item)
            db.session.commit()
            return Response(status=204)
        ags.update_line_item(item, _body())
        db.session.commit()
        return _strict_json(ags.line_item_document(item, context), MediaType.LINEITEM)
    except LtiError as error:
        return error_response(error)


@bp.post("/ags/<context_id>/lineitems/<int:item_id>/scores")
@csrf.exempt
def scores(context_id: str, item_id: int):  # type: ignore[no-untyped-def]
    try:
        tool = _tool({Scope.SCORE})
        item = ags.get_line_item(tool, context_id, item_id)
        ags.post_score(tool, item, _body(), utcnow())
    except LtiError as error:
        return error_response(error)
    db.session.commit()
    return Response(status=204)


@bp.get("/ags/<context_id>/lineitems/<int:item_id>/results")
@csrf.exempt
def line_item_results(context_id: str, item_id: int):  # type: ignore[no-untyped-def]
    try:
        tool = _tool({Scope.RESULT})
        item = ags.get_line_item(tool, context_id, item_id)
        user_sub = request.args.get("user_id")  # AGS 2.0 §3.5: one person's result only
        documents = ags.results(tool, item, platform_context(), user_sub)
    except LtiError as error:
        return error_response(error)
    db.session.commit()  # a pairwise `sub` made for an earlier score's owner is kept
    return _strict_json(documents, MediaType.RESULT_CONTAINER)


@bp.get("/nrps/<context_id>/memberships")
@csrf.exempt
def memberships(context_id: str):  # type: ignore[no-untyped-def]
    try:
        tool = _tool({Scope.NRPS})
        document, next_url = nrps.members_page(
            tool,
            context_id,
            page_number(request.args.get("page")),
            request.args.get("limit", 50, type=int),
            platform_context(),
        )
    except LtiError as error:
        return error_response(error)
    db.session.commit()  # pairwise subjects made for this list
    headers = {"Link": f'<{next_url}>; rel="next"'} if next_url else {}
    return json_response(document, media_type=MediaType.MEMBERSHIP_CONTAINER, headers=headers)
