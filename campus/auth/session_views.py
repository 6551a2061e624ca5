"""The account page's list of logins and "log out other devices" (blueprint "auth")."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort
from flask import flash
from flask import redirect
from flask import url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from flask_login import login_required

from campus.auth import sessions
from campus.auth.forms import ActionForm
from campus.auth.models import login_token_hash
from campus.auth.views import bp
from campus.extensions import db


@dataclass(frozen=True)
class LoginRow:
    """One row of the account page's table of logins."""

    started: str  # when the login started, in the reader's language
    started_iso: str  # for <time datetime="…">
    current: bool


def _current_token_hash() -> str | None:
    token = getattr(current_user, "login_token", None)
    return login_token_hash(token) if token else None


@bp.app_template_global()
def account_logins() -> list[LoginRow]:
    """The signed-in person's logins for templates/auth/_sessions.html ([] for visitors)."""
    if not current_user.is_authenticated:
        return []
    user = current_user._get_current_object()
    return [
        LoginRow(
            started=format_datetime(login.created_at, "medium"),
            started_iso=login.created_at.isoformat(timespec="seconds"),
            current=login.current,
        )
        for login in sessions.active_logins(user, _current_token_hash())
    ]


@bp.post("/account/logout-others")
@login_required
def logout_others():  # type: ignore[no-untyped-def]
    """End every other login of this account; this browser stays logged in."""
    if not ActionForm().validate_on_submit():
        abort(400)
    keep = _current_token_hash()
    if keep is None:  # not a login started by sign_in: nothing to keep, refuse to guess
        abort(400)
    ended = sessions.end_other_logins(current_user._get_current_object(), keep)
    db.session.commit()
    if ended:
        flash(
            ngettext(
                "%(num)d other device was logged out.",
                "%(num)d other devices were logged out.",
                ended,
            ),
            "success",
        )
    else:
        flash(_("No other devices were logged in."), "info")
    return redirect(url_for("auth.account"))
