"""The logins (browsers) of one account: list them, end all but this one (issue 12, part).

A login is a `LoginSession` row (see campus.auth.login). The table keeps only the token's hash,
the account and when the login started, so that is all a person sees of each one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta

from flask import current_app

from campus.auth.models import LoginSession
from campus.auth.models import User
from campus.clock import aware
from campus.clock import utcnow
from campus.extensions import db


@dataclass(frozen=True)
class ActiveLogin:
    """One browser logged in to the account (no token or hash: nothing to steal on a page)."""

    created_at: datetime
    current: bool


def _oldest_valid(now: datetime) -> datetime:
    """Logins that started before this no longer work (the user loader refuses them)."""
    return now - current_app.config.get("LOGIN_MAX_AGE", timedelta(days=90))


def active_logins(
    user: User, current_token_hash: str | None, now: datetime | None = None
) -> list[ActiveLogin]:
    """The account's working logins: this browser's first, then the newest first."""
    moment = now or utcnow()
    rows = db.session.execute(
        db.select(LoginSession.token_hash, LoginSession.created_at)
        .where(
            LoginSession.user_id == user.id,
            LoginSession.created_at >= _oldest_valid(moment),
        )
        .order_by(LoginSession.created_at.desc(), LoginSession.token_hash)
    ).all()
    logins = [
        ActiveLogin(created_at=aware(created_at), current=token_hash == current_token_hash)
        for token_hash, created_at in rows
    ]
    return sorted(logins, key=lambda login: not login.current)  # stable: newest first after


def end_other_logins(user: User, keep_token_hash: str) -> int:
    """End every login of `user` except the one with `keep_token_hash`; how many ended.

    The caller commits. The other browsers' next request finds no login and goes to log in.
    """
    result = db.session.execute(
        db.delete(LoginSession).where(
            LoginSession.user_id == user.id, LoginSession.token_hash != keep_token_hash
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
