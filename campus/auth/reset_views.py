"""Forgotten passwords (blueprint "auth"): ask for a link, then set a new password with it.

The rules (signed single-use link, bounds, the same answer for every address) are in
`campus.auth.reset`; the page never says whether an address has an account.
"""

from __future__ import annotations

from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for
from flask_babel import gettext as _
from flask_login import login_required

from campus.auth import login as login_service
from campus.auth import pages
from campus.auth import reset
from campus.auth.forms import ActionForm
from campus.auth.forms import ForgotPasswordForm
from campus.auth.forms import ResetPasswordForm
from campus.auth.models import Role
from campus.auth.models import User
from campus.auth.services import AccountError
from campus.auth.views import bp
from campus.clock import utcnow
from campus.extensions import db
from campus.i18n import current_language
from campus.mailing import queue_mail
from campus.routing import external_url
from campus.security import require_role


def _mail_reset_link(user: User) -> None:
    """Queue a fresh reset link for `user`, in their language; it goes right after the commit
    (or, while the mail server is down, with `flask outbox run`)."""
    token = reset.reset_token(current_app.config["SECRET_KEY"], user)
    locale = user.locale or current_language()
    link = external_url("auth.reset_password", token=token)
    subject, text, html = reset.reset_message(link, locale)
    queue_mail(user.email, subject, text, html, now=utcnow(), user_id=user.id, locale=locale)


@bp.route("/forgot", methods=["GET", "POST"])
def forgot_password():  # type: ignore[no-untyped-def]
    form = ForgotPasswordForm()
    if not form.validate_on_submit():
        return render_template("auth/forgot.html", form=form), 400 if form.errors else 200
    try:
        user = reset.request_reset(form.email.data, pages.request_address(), utcnow())
    except reset.ResetThrottled as throttled:
        db.session.rollback()
        pages.flash_throttled(throttled.retry_after)
        return pages.too_many(render_template("auth/forgot.html", form=form), throttled.retry_after)
    if user is not None:
        _mail_reset_link(user)  # the page stays the same for every address
    db.session.commit()  # the request is counted either way
    return render_template(
        "auth/forgot_sent.html",
        address=form.email.data,
        to_files=not current_app.config.get("MAIL_HOST"),
    )


@bp.post("/users/<int:user_id>/send-reset")
@login_required
def send_reset_link(user_id: int):  # type: ignore[no-untyped-def]
    """An admin sends someone the same link they could ask for themselves (the admin never
    sees it); bounded like the person's own requests."""
    require_role(Role.ADMIN)
    if not ActionForm().validate_on_submit():
        abort(400)
    user = db.get_or_404(User, user_id)
    back = redirect(url_for("manage.edit_user", user_id=user.id))
    try:
        target = reset.request_reset(user.email, pages.request_address(), utcnow())
    except reset.ResetThrottled as throttled:
        db.session.rollback()
        pages.flash_throttled(throttled.retry_after)
        return back
    if target is None:
        db.session.commit()
        flash(
            _(
                "No link was sent: this account has no password login, or got three links within the hour."
            ),
            "error",
        )
        return back
    _mail_reset_link(target)
    db.session.commit()
    flash(
        _("A link to set a new password is on its way to %(address)s.", address=target.email),
        "success",
    )
    return back


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):  # type: ignore[no-untyped-def]
    try:
        user = reset.user_for_token(current_app.config["SECRET_KEY"], token)
    except AccountError as error:
        flash(str(error), "error")
        return render_template("auth/forgot.html", form=ForgotPasswordForm()), 400
    form = ResetPasswordForm()
    if not form.validate_on_submit():
        return render_template("auth/reset.html", form=form), 400 if form.errors else 200
    try:
        reset.set_new_password(user, form.new_password.data)
    except AccountError as error:
        flash(str(error), "error")
        return render_template("auth/reset.html", form=form), 400
    login_service.sign_in(user)  # this browser is logged in; every other login has ended
    db.session.commit()
    flash(_("Your new password is set. Other sessions were logged out."), "success")
    return redirect(url_for("paths.dashboard"))
