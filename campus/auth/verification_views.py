"""Confirming e-mail addresses (blueprint "auth"): the mailed link, sending it again, and
changing the login address. The rules are in `campus.auth.verification`.

Opening a link changes nothing (mail scanners open links); the page's button confirms.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from flask_login import login_required

from campus.auth import login as login_service
from campus.auth import pages
from campus.auth import verification
from campus.auth.forms import ActionForm
from campus.auth.forms import EmailChangeForm
from campus.auth.models import User
from campus.auth.views import bp
from campus.clock import utcnow
from campus.extensions import db


def _acting_user_id() -> int | None:
    return current_user.id if current_user.is_authenticated else None


def _to_files() -> bool:
    """No mail server: messages land in instance/mail, and the pages say so."""
    return not current_app.config.get("MAIL_HOST")


def _refused(error: verification.LinkRefused):  # type: ignore[no-untyped-def]
    can_resend = (
        current_user.is_authenticated
        and not current_user.email_verified
        and not verification.is_lms_made(current_user)
    )
    return render_template(
        "auth/verify_refused.html", message=str(error), form=ActionForm(), can_resend=can_resend
    ), error.status


def _issue_waiting_badges(user: User, now: datetime) -> int:
    """Badges earned before the address was confirmed are issued now, in this transaction."""
    from campus.badges.claims import issue_waiting_badges
    from campus.badges.issuers import IssuingContext

    issued = issue_waiting_badges(user, IssuingContext.from_config(current_app.config), now)
    return len(issued)


@bp.get("/verify/<token>")
def verify_email(token: str):  # type: ignore[no-untyped-def]
    """The link from the message: which address it confirms, and one button."""
    try:
        user, address = verification.read_link(token, utcnow(), _acting_user_id())
    except verification.LinkRefused as error:
        return _refused(error)
    return render_template(
        "auth/verify.html",
        address=address,
        change=address != user.email,
        token=token,
        form=ActionForm(),
    )


@bp.post("/verify/<token>")
def confirm_email(token: str):  # type: ignore[no-untyped-def]
    if not ActionForm().validate_on_submit():
        abort(400)
    now = utcnow()
    try:
        confirmed = verification.confirm(token, now, _acting_user_id())
    except verification.LinkRefused as error:
        db.session.rollback()
        return _refused(error)
    issued = _issue_waiting_badges(confirmed.user, now)
    db.session.commit()
    if confirmed.previous is not None:
        flash(
            _("Your login address is now %(address)s.", address=confirmed.address),
            "success",
        )
    else:
        flash(_("Thank you: %(address)s is confirmed.", address=confirmed.address), "success")
    if issued:
        flash(
            ngettext(
                "%(num)d badge that was waiting for the confirmation has been issued.",
                "%(num)d badges that were waiting for the confirmation have been issued.",
                issued,
            ),
            "success",
        )
    if current_user.is_authenticated:
        return redirect(url_for("badges.backpack" if issued else "auth.account"))
    return redirect(url_for("auth.login"))


def _sent_page(address: str, sent: bool) -> str:
    return render_template(
        "auth/verify_sent.html", address=address, sent=sent, to_files=_to_files()
    )


@bp.post("/verify/resend")
@login_required
def resend_verification():  # type: ignore[no-untyped-def]
    if not ActionForm().validate_on_submit():
        abort(400)
    user = current_user._get_current_object()
    try:
        verification.send_verification(user, utcnow())
    except verification.VerificationThrottled as throttled:
        db.session.rollback()
        _flash_mail_wait(throttled.retry_after)
        return pages.too_many(_sent_page(user.email, sent=False), throttled.retry_after)
    except verification.LinkRefused as error:
        db.session.rollback()
        flash(str(error), "info" if user.email_verified else "error")
        return redirect(url_for("auth.account"))
    db.session.commit()
    return _sent_page(user.email, sent=True)


def _flash_mail_wait(retry_after: int) -> None:
    flash(
        _(
            "Several messages were sent within the hour. Please wait %(wait)s and try again.",
            wait=pages.wait_text(retry_after),
        ),
        "error",
    )


@bp.route("/account/email", methods=["GET", "POST"])
@login_required
def change_email():  # type: ignore[no-untyped-def]
    """A new login address: asked with the current password, confirmed from the new inbox."""
    user = current_user._get_current_object()
    form = EmailChangeForm()
    page: dict[str, Any] = {
        "form": form,
        "pending": verification.pending_change(user),
        "managed": verification.address_managed_elsewhere(user),
    }
    if page["managed"]:
        return render_template(
            "auth/email_change.html", **page
        ), 403 if form.is_submitted() else 200
    if not form.validate_on_submit():
        return render_template("auth/email_change.html", **page), 400 if form.errors else 200
    now = utcnow()
    try:
        checked = pages.check_password(user.email, form.password.data, now)
    except login_service.LoginThrottled as throttled:
        pages.flash_throttled(throttled.retry_after)
        return pages.too_many(
            render_template("auth/email_change.html", **page), throttled.retry_after
        )
    if checked is None or checked.id != user.id:
        flash(_("The current password is not correct."), "error")
        return render_template("auth/email_change.html", **page), 400
    try:
        pending = verification.start_email_change(user, form.email.data, now)
    except verification.VerificationThrottled as throttled:
        db.session.rollback()
        _flash_mail_wait(throttled.retry_after)
        return pages.too_many(
            render_template("auth/email_change.html", **page), throttled.retry_after
        )
    except verification.LinkRefused as error:
        db.session.commit()  # the try counts against the hourly bound (no probing for accounts)
        flash(str(error), "error")
        return render_template("auth/email_change.html", **page), error.status
    db.session.commit()
    return render_template(
        "auth/email_change_sent.html",
        address=pending.new_email,
        current=user.email,
        to_files=_to_files(),
    )


# Pages that show the same controls themselves: the banner would only repeat them.
_BANNER_NOT_ON = frozenset(
    {
        "auth.account",
        "auth.change_email",
        "auth.verify_email",
        "auth.confirm_email",
        "auth.resend_verification",
        "lti_tool.identity.claim_badges",
    }
)


@bp.app_template_global()
def email_confirmation_needed() -> str | None:
    """What the unverified banner offers: "resend" a link, "claim" a badge address (an account
    made by an LMS that sent no e-mail), or None (nothing is waiting for an address)."""
    from campus.badges.awarding import recipient_verified  # the one rule badges follow

    if not current_user.is_authenticated or recipient_verified(current_user):
        return None
    if request.endpoint in _BANNER_NOT_ON:
        return None
    return "claim" if verification.is_lms_made(current_user) else "resend"
