"""One notion of "now" and of stored times.

SQLite gives back naive datetimes for timezone-aware columns and PostgreSQL aware ones; every
comparison goes through `aware` so that the two databases behave alike.
"""

from __future__ import annotations

from datetime import UTC
from datetime import datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """A stored time as UTC-aware (naive values are UTC: that is how the campus writes them)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def aware_or_none(moment: datetime | None) -> datetime | None:
    return None if moment is None else aware(moment)
