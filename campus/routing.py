"""Numbers from URLs, forms and query strings: ids the database can hold, pages that exist;
and addresses: our own (`external_url`) and other sites' origins (`browser_origin`).

Ids are INTEGER columns (32 bits on PostgreSQL, and SQLite's driver cannot even bind a number
of 2^63 or more), so a larger number can name no row: it answers 404 or 400, never a 500.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask
from werkzeug.routing import IntegerConverter
from werkzeug.routing import Map

DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_ID = 2**31 - 1
MAX_PAGE = 100_000


class IdConverter(IntegerConverter):
    """`<int:…>` in every route, bounded to MAX_ID unless the rule gives its own `max`."""

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = MAX_ID,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits, min, max, signed)


def parse_id(value: object) -> int | None:
    """An id from a form or a query string; None when it is missing, not a number or too large."""
    text = str(value).strip() if value is not None else ""
    if not text.isascii() or not text.isdigit() or len(text) > len(str(MAX_ID)):
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None


def page_number(value: object) -> int:
    """A page from a query string; anything odd is the first page."""
    text = str(value).strip() if value is not None else ""
    if not text.isascii() or not text.isdigit() or len(text) > len(str(MAX_PAGE)):
        return 1
    number = int(text)
    return number if 1 <= number <= MAX_PAGE else 1


def init_app(app: Flask) -> None:
    """Before any blueprint: rules bind their converters when they are added."""
    app.url_map.converters["int"] = IdConverter


def external_url(endpoint: str, **values: object) -> str:
    """An absolute address of one of our routes, on the configured BASE_URL.

    BASE_URL, not the request's Host header: addresses that leave the campus (badges, LTI
    messages, mails) must not follow whatever host a client or proxy sent.
    """
    from flask import current_app
    from flask import url_for

    return str(current_app.config["BASE_URL"]).rstrip("/") + url_for(endpoint, **values)


def browser_origin(url: str) -> str:
    """`scheme://host[:port]` as a browser names the origin of `url` (what `event.origin` and
    the Origin header say): lower case, default ports left out, IPv6 hosts in brackets.
    The caller has checked that `url` is an http(s) address with a host."""
    parts = urlsplit(url)
    scheme, host, port = parts.scheme.lower(), (parts.hostname or "").lower(), parts.port
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}" + (f":{port}" if port and port != DEFAULT_PORTS.get(scheme) else "")
