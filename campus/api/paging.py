"""Page-numbered lists: `?page=&per_page=`, RFC 8288 `Link` (first/prev/next/last) and
`X-Total-Count`, so clients follow links instead of building URLs."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

import marshmallow as ma
from flask import request
from sqlalchemy import Select
from sqlalchemy import func

from campus.extensions import db
from campus.routing import MAX_PAGE
from campus.routing import external_url

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20


class PageArgs(ma.Schema):
    """Query parameters of every list; subclass it to add filters."""

    page = ma.fields.Integer(
        load_default=1,
        validate=ma.validate.Range(min=1, max=MAX_PAGE),
        metadata={"description": "Page number, from 1"},
    )
    per_page = ma.fields.Integer(
        load_default=DEFAULT_PER_PAGE,
        validate=ma.validate.Range(min=1, max=MAX_PER_PAGE),
        metadata={"description": f"Items per page (at most {MAX_PER_PAGE})"},
    )


# For `@blp.response(200, Schema(many=True), headers=PAGING_HEADERS)`: the list's headers.
PAGING_HEADERS = {
    "Link": {
        "description": "RFC 8288 links to the first, prev, next and last pages",
        "schema": {"type": "string"},
    },
    "X-Total-Count": {
        "description": "Number of items in the whole list",
        "schema": {"type": "integer"},
    },
}


def paginate(
    source: Select[Any] | Sequence[Any], page: int, per_page: int
) -> tuple[list[Any], dict[str, str]]:
    """One page of `source` (a select of entities, or a list) and its headers.

    A select costs two queries (count, page) whatever its size; its ORM options (eager
    loads) apply to the page only. A page past the end is empty, with links back.
    """
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    page = max(1, page)
    offset = (page - 1) * per_page
    if isinstance(source, Select):
        total = db.session.execute(
            db.select(func.count()).select_from(source.order_by(None).subquery())
        ).scalar_one()
        items = list(db.session.execute(source.limit(per_page).offset(offset)).scalars())
    else:
        total = len(source)
        items = list(source[offset : offset + per_page])
    return items, page_headers(page, per_page, total)


def page_headers(page: int, per_page: int, total: int) -> dict[str, str]:
    last = max(1, math.ceil(total / per_page))
    links = [("first", 1)]
    if page > 1:
        links.append(("prev", min(page - 1, last)))
    if page < last:
        links.append(("next", page + 1))
    links.append(("last", last))
    link = ", ".join(f'<{_page_url(number, per_page)}>; rel="{rel}"' for rel, number in links)
    return {"Link": link, "X-Total-Count": str(total)}


def _page_url(page: int, per_page: int) -> str:
    """This request's URL on BASE_URL with another page (the other query parameters kept)."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k not in ("page", "per_page")]
    args += [("page", str(page)), ("per_page", str(per_page))]
    here = external_url(request.endpoint or "", **(request.view_args or {}))
    return f"{here}?{urlencode(args)}"
