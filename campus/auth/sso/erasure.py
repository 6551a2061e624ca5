"""Deleting an account (campus.auth.deletion) removes what single sign-on knows of the person:
their identities (a later login with the provider makes a new account), pending links and the
ID tokens kept for logout."""

from __future__ import annotations

from campus.auth.deletion import Erasure
from campus.auth.deletion import erases
from campus.auth.sso.models import OidcIdentity
from campus.auth.sso.models import OidcLoginSession
from campus.auth.sso.models import OidcPendingLink
from campus.extensions import db


@erases("sso")
def erase_identities(erasure: Erasure) -> None:
    user_id = erasure.user.id
    for model in (OidcIdentity, OidcPendingLink, OidcLoginSession):
        db.session.execute(db.delete(model).where(model.user_id == user_id))
