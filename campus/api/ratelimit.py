"""API rate limits: fixed one-minute windows counted in the database (one UPSERT a request).

The counter lives in the database so that every host of the campus counts against the same
limit. Each hit is its own short transaction (not the request's): a GET never commits, and a
refused or failed request must still count.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import DBAPIError

from campus.api.ratelimit_models import ApiRateCounter
from campus.extensions import db

log = logging.getLogger(__name__)

DEFAULTS = {
    "API_RATE_LIMIT_AUTHENTICATED": 600,  # requests a window per token or OAuth client
    "API_RATE_LIMIT_ANONYMOUS": 120,  # requests a window per address without a token
    "API_RATE_LIMIT_WINDOW": 60,  # seconds
}


@dataclass(frozen=True)
class RateState:
    limit: int
    count: int
    window: int  # seconds
    reset: int  # seconds until the window ends

    @property
    def allowed(self) -> bool:
        return self.count <= self.limit

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)

    def headers(self) -> dict[str, str]:
        """IETF draft RateLimit fields (draft-ietf-httpapi-ratelimit-headers)."""
        headers = {
            "RateLimit-Policy": f'"api";q={self.limit};w={self.window}',
            "RateLimit": f'"api";r={self.remaining};t={self.reset}',
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.reset)
        return headers


def hit(key: str, limit: int, window: int, now: datetime) -> RateState | None:
    """Count one request of `key` in the window that holds `now`.

    None when the count could not be stored (a lock timeout on SQLite, a deadlock): the
    request goes through uncounted rather than failing over a counter.
    """
    window = max(1, window)
    moment = now.timestamp()
    start = int(moment) // window * window
    try:
        with db.engine.begin() as connection:
            insert = _insert_for(connection.dialect.name)
            statement = (
                insert(ApiRateCounter)
                .values(key=key[:160], window_start=start, count=1)
                .on_conflict_do_update(
                    index_elements=["key", "window_start"],
                    set_={"count": ApiRateCounter.count + 1},
                )
                .returning(ApiRateCounter.count)
            )
            count = connection.execute(statement).scalar_one()
            if count == 1:  # a new window: purge the windows before the previous one (hosts
                # whose clocks differ a little may still be counting in the previous one)
                stale = ApiRateCounter.window_start < start - window
                connection.execute(delete(ApiRateCounter).where(stale))
    except DBAPIError:
        log.warning("API rate counter not stored for %s", key, exc_info=True)
        return None
    reset = max(1, math.ceil(start + window - moment))
    return RateState(limit=limit, count=count, window=window, reset=reset)


def _insert_for(dialect: str):  # type: ignore[no-untyped-def]
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(dialect)
    if insert is None:
        raise NotImplementedError(f"the API rate limit does not support {dialect}")
    return insert
