"""Status columns hold StrEnum members: a typo fails where it is written."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy.exc import StatementError

from campus.auth.models import Organisation
from campus.auth.models import OrganisationKind
from campus.extensions import db


def test_status_columns_read_back_as_members_and_refuse_typos(app: Flask, app_ctx: None) -> None:
    organisation = Organisation(name="Omnia", slug="omnia", kind="municipality")
    db.session.add(organisation)
    db.session.commit()
    db.session.expire_all()
    stored = db.session.execute(db.select(Organisation)).scalar_one()
    assert stored.kind is OrganisationKind.MUNICIPALITY
    stored.kind = "municipalty"  # type: ignore[assignment]
    with pytest.raises(StatementError, match="not a valid OrganisationKind"):
        db.session.flush()
    db.session.rollback()
    raw = db.session.execute(db.text("SELECT kind FROM organisation")).scalar_one()
    assert raw == "municipality"  # stored as plain text: no database enum type to migrate
