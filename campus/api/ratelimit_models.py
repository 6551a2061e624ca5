"""Request counters of the API rate limit: one row per caller and fixed window."""

from __future__ import annotations

from sqlalchemy import BigInteger
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from campus.extensions import db


class ApiRateCounter(db.Model):
    """Requests of `key` (a token, client or address) in the window starting at
    `window_start` (Unix seconds). In the database, so every host counts against one limit."""

    __tablename__ = "api_rate_counter"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column(default=0)
