"""Deleting an account (campus.auth.deletion) removes what single sign-on knows of the person:
their identities (a later login with the provider makes a new account), pending links and the
ID tokens kept for logout. The data download lists the identities."""

from __future__ import annotations

from campus.auth.data_export import exports
from campus.auth.data_export import time_text
from campus.auth.deletion import Erasure
from campus.auth.deletion import erases
from campus.auth.models import User
from campus.auth.sso.models import OidcIdentity
from campus.auth.sso.models import OidcLoginSession
from campus.auth.sso.models import OidcPendingLink
from campus.extensions import db


@erases("sso")
def erase_identities(erasure: Erasure) -> None:
    user_id = erasure.user.id
    for model in (OidcIdentity, OidcPendingLink, OidcLoginSession):
        db.session.execute(db.delete(model).where(model.user_id == user_id))


@exports("sso_identities")
def export_identities(user: User) -> list[dict[str, str | None]]:
    rows = db.session.execute(
        db.select(OidcIdentity).where(OidcIdentity.user_id == user.id).order_by(OidcIdentity.id)
    ).scalars()
    return [
        {
            "issuer": row.issuer,
            "subject": row.subject,
            "linked": time_text(row.created_at),
            "last_login": time_text(row.last_login_at),
        }
        for row in rows
    ]
