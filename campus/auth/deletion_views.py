"""Delete my account (blueprint "auth"): `GET /auth/account/delete` explains what happens,
`POST` deletes after the current password (or, without one, the typed address).

The rules are in `campus.auth.deletion`; the password goes through the login throttle
(`pages.check_password`), so this form cannot be used to guess it.
"""

from __future__ import annotations

from pathlib import Path

from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_login import login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import EmailField
from wtforms import PasswordField
from wtforms import RadioField
from wtforms import SubmitField
from wtforms.validators import DataRequired
from wtforms.validators import InputRequired
from wtforms.validators import Length

from campus.auth import deletion
from campus.auth import login as login_service
from campus.auth import pages
from campus.auth.models import User
from campus.auth.services import normalise_email
from campus.auth.views import bp
from campus.clock import utcnow
from campus.extensions import db

KEEP = "keep"
REVOKE = "revoke"


class DeleteAccountForm(FlaskForm):
    badges = RadioField(
        _l("What happens to your badges"),
        choices=[(KEEP, _l("Keep my badges verifiable")), (REVOKE, _l("Revoke my badges"))],
        validators=[InputRequired(message=_l("Choose what happens to your badges."))],
    )
    confirm = BooleanField(
        _l("I understand that my account and my data are deleted for good."),
        validators=[DataRequired(message=_l("Tick the box to confirm the deletion."))],
    )
    submit = SubmitField(_l("Delete my account"))


class PasswordDeletionForm(DeleteAccountForm):
    password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )


class AddressDeletionForm(DeleteAccountForm):
    """Accounts without a campus password (SSO, LMS) confirm by typing their address."""

    email = EmailField(_l("Your e-mail address"), validators=[DataRequired(), Length(max=254)])


def _page(user: User, form: DeleteAccountForm, status: int = 200):  # type: ignore[no-untyped-def]
    return render_template(
        "auth/delete_account.html",
        form=form,
        with_password=isinstance(form, PasswordDeletionForm),
        valid_badges=deletion.valid_badge_count(user),
        last_admin=deletion.last_admin_message() if deletion.is_last_admin(user) else None,
    ), status


@bp.route("/account/delete", methods=["GET", "POST"])
@login_required
def delete_account():  # type: ignore[no-untyped-def]
    user = current_user._get_current_object()
    form = PasswordDeletionForm() if deletion.has_password(user) else AddressDeletionForm()
    if request.method == "GET":
        return _page(user, form)
    if deletion.is_last_admin(user):
        return _page(user, form, 409)  # the page says why
    if not form.validate_on_submit():
        return _page(user, form, 400)
    if isinstance(form, PasswordDeletionForm):
        try:
            checked = pages.check_password(user.email, form.password.data, utcnow())
        except login_service.LoginThrottled as throttled:
            pages.flash_throttled(throttled.retry_after)
            page, _status = _page(user, form, 429)
            return pages.too_many(page, throttled.retry_after)
        if checked is None or checked.id != user.id:
            flash(_("The current password is not correct."), "error")
            return _page(user, form, 400)
    elif normalise_email(form.email.data) != user.email:
        flash(_("The address you typed is not the address of this account."), "error")
        return _page(user, form, 400)
    try:
        result = deletion.delete_account(user, form.badges.data == KEEP, utcnow())
    except deletion.DeletionRefused as refused:
        flash(str(refused), "error")
        return _page(user, form, 409)
    login_service.sign_out()
    db.session.commit()
    deletion.discard_files(Path(current_app.config["UPLOAD_DIR"]), result.files)
    flash(_("Your account and your data have been deleted."), "success")
    return redirect(url_for("paths.catalogue"))
