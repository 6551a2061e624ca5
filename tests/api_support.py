"""Helpers for the API tests: bearer tokens made through the token services."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask

from campus.api import token_services
from campus.auth.models import User
from campus.clock import utcnow
from campus.extensions import db


def pat_for(app: Flask, email: str, scopes: Iterable[str]) -> str:
    """A personal access token of the user with `email` (the scopes their roles allow)."""
    with app.app_context():
        user = db.session.execute(db.select(User).where(User.email == email)).scalar_one()
        _token, secret = token_services.create_pat(user, "tests", list(scopes), None, utcnow())
        db.session.commit()
        return secret


def client_token(app: Flask, organisation_id: int | None, scopes: Iterable[str]) -> str:
    """An OAuth client's access token (bound to `organisation_id`, or campus-wide)."""
    with app.app_context():
        client, _secret = token_services.create_client(
            "tests", organisation_id, list(scopes), None, None, utcnow()
        )
        _access, secret = token_services.issue_access_token(client, None, utcnow())
        db.session.commit()
        return secret


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
