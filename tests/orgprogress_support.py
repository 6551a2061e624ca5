"""Shared by the organisation progress tests: an organisation admin's college, and its names."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask

from campus.auth.models import Role
from campus.auth.models import User
from campus.extensions import db
from tests.conftest import FAST_HASH


def make_home(make_org: Callable[..., int], make_user: Callable[..., int], auth) -> int:  # type: ignore[no-untyped-def]
    """Home College (boss Aino, learner Liisa) beside Other College; the boss is logged in."""
    home = make_org("Home College")
    other = make_org("Other College")
    make_user("boss@home.fi", {Role.ORG_ADMIN}, organisation_id=home, name="Aino Boss")
    make_user("liisa@home.fi", organisation_id=home, name="Liisa Learner")
    make_user("outi@other.fi", organisation_id=other, name="Outi Other")
    auth.login("boss@home.fi")
    return home


def member_names(html: str) -> list[str]:
    return re.findall(r'<th scope="row" class="op-name">([^<]+)<span', html)


def add_members(app: Flask, organisation_id: int, count: int, prefix: str = "member") -> None:
    """Many members at once (one commit; the password is never used)."""
    with app.app_context():
        for index in range(count):
            db.session.add(
                User(
                    email=f"{prefix}{index:03d}@home.fi",
                    name=f"{prefix.title()} {index:03d}",
                    password_hash=FAST_HASH,
                    organisation_id=organisation_id,
                )
            )
        db.session.commit()
