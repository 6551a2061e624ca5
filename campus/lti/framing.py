"""Which learning platforms may show the campus in a frame (CSP `frame-ancestors`).

Registering an LMS is enough: every enabled `LtiPlatform` adds its issuer's origin and its
`frame_origins` (Canvas courses live on the school's own address, not on its issuer). The list
is read once per `TTL_SECONDS` in each process; the services that register or change a
platform call `forget()`, so this process sees the change at once (others within the TTL).

An origin goes into a response header, so it is checked strictly before it is stored and again
when it is read: `https://host[:port]` (http only for localhost and 127.0.0.1), nothing else.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable
from urllib.parse import urlsplit

from flask import current_app
from flask import g
from flask import has_request_context
from sqlalchemy.exc import SQLAlchemyError

from campus.extensions import db
from campus.lti.models import LtiPlatform

log = logging.getLogger(__name__)

TTL_SECONDS = 30.0
MAX_ORIGIN_LENGTH = 300
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1"})
_CACHE = "campus.lti.frame_origins"
_WARNED = "campus.lti.frame_origins_warned"
_ORIGIN = re.compile(r"(https?)://([a-z0-9.-]+)(?::([0-9]{1,5}))?/?")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


def valid_origin(value: str) -> str | None:
    """`value` as an origin (lower case, no trailing slash), or None if it is anything else.

    Accepted: `https://host` or `https://host:port`; `http://` only for localhost and
    127.0.0.1. Refused: paths, queries, fragments, user names, wildcards, spaces, quotes,
    semicolons, other schemes: nothing that could add a word to a header.
    """
    text = value.strip().lower()
    match = _ORIGIN.fullmatch(text) if len(text) <= MAX_ORIGIN_LENGTH else None
    if match is None:
        return None
    scheme, host, port = match.groups()
    labels = host.split(".")
    if not all(_LABEL.fullmatch(label) for label in labels):
        return None
    if len(labels) < 2 and host not in LOCAL_HOSTS:
        return None
    if scheme == "http" and host not in LOCAL_HOSTS:
        return None
    if port is not None and not 1 <= int(port) <= 65535:
        return None
    return f"{scheme}://{host}" + (f":{int(port)}" if port else "")


def origin_of(url: str) -> str | None:
    """The valid origin of a full address (an issuer, a configuration URL), or None."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if not parts.scheme or not parts.netloc:
        return None
    return valid_origin(f"{parts.scheme}://{parts.netloc}")


def platform_origins(platform: LtiPlatform) -> list[str]:
    """The origins one platform lets frame the campus: its issuer's, then its frame origins."""
    return _unique([origin_of(platform.issuer), *_stored(platform.frame_origins)])


def registered_frame_origins() -> tuple[str, ...]:
    """The origins of every enabled platform (cached per process for TTL_SECONDS)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    now = time.monotonic()
    if g.get("frame_origins_changed"):
        # This request changed a platform: read past the cache, and drop what another thread
        # may have cached between forget() and the commit (the view has committed by the time
        # the response headers are built).
        app.extensions.pop(_CACHE, None)
        try:
            return _load()
        except SQLAlchemyError:
            return ()
    cached = app.extensions.get(_CACHE)
    if cached is not None and cached[0] > now:
        return cached[1]
    try:
        origins = _load()
    except SQLAlchemyError as error:
        # Never fail a response for this: keep what was known (a failed transaction, or a
        # database without the table yet); the next response tries again.
        if not app.extensions.get(_WARNED):
            app.extensions[_WARNED] = True
            log.warning("Could not read the LMS origins allowed to frame the campus: %s", error)
        return cached[1] if cached is not None else ()
    app.extensions[_CACHE] = (now + TTL_SECONDS, origins)
    return origins


def forget() -> None:
    """Read the platforms again on the next response (a platform was registered or changed)."""
    current_app.extensions.pop(_CACHE, None)
    if has_request_context():
        g.frame_origins_changed = True


def _load() -> tuple[str, ...]:
    query = (
        db.select(LtiPlatform.issuer, LtiPlatform.frame_origins)
        .where(LtiPlatform.is_enabled.is_(True))
        .order_by(LtiPlatform.id)
    )
    with db.session.no_autoflush:  # a view's unsaved objects are not ours to write
        rows = db.session.execute(query).all()
    origins: list[str | None] = []
    for issuer, frame_origins in rows:
        origins.append(origin_of(issuer))
        origins.extend(_stored(frame_origins))
    return tuple(_unique(origins))


def _stored(frame_origins: object) -> list[str | None]:
    """A platform's stored frame origins, checked again (the column is plain JSON)."""
    if not isinstance(frame_origins, list):
        return []
    return [valid_origin(o) if isinstance(o, str) else None for o in frame_origins]


def _unique(origins: Iterable[str | None]) -> list[str]:
    return list(dict.fromkeys(o for o in origins if o))
