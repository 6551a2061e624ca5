"""Pages around an LMS identity: continue a launch in a new window, link it to a campus account,
list and remove linked identities, confirm the badge address of an LMS-made account.

A blueprint nested in the tool's (`lti_tool.identity.*`, under /lti/tool); the rules live in
`campus.lti.tool.identity`.
"""

from __future__ import annotations

from typing import NoReturn

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required

from campus import mail
from campus.auth import login
from campus.auth import pages
from campus.badges.issuers import IssuingContext
from campus.clock import utcnow
from campus.config import LANGUAGES
from campus.extensions import csrf
from campus.extensions import db
from campus.lti.errors import LtiError
from campus.lti.forms import ActionForm
from campus.lti.tool import identity
from campus.lti.tool.provisioning import is_synthetic
from campus.routing import external_url

bp = Blueprint("identity", __name__)


def _refuse(error: LtiError) -> NoReturn:
    abort(error.status, description=str(error))


# --- continuing a launch in a new window -------------------------------------------------------


def _not_from_the_landing_page() -> NoReturn:
    abort(
        403,
        description=_(
            "This page opens only from your course's campus page. "
            "Launch the campus again from your course."
        ),
    )


@bp.get("/continue")
@bp.get("/continue/<token>")
def continue_link_refused(token: str = ""):
    """A continuation is a form post from the landing page; a link (mail, chat) opens nothing."""
    _not_from_the_landing_page()


@bp.post("/continue")
@csrf.exempt  # the LMS iframe may hold no session cookie; the Origin check protects this post
def continue_in_window():
    """Fallback when the LMS iframe cannot keep cookies: the landing page posts its one-time
    token into a new window, which gets its own session."""
    if not identity.is_own_origin(
        request.headers.get("Origin"),
        request.headers.get("Sec-Fetch-Site"),
        current_app.config["BASE_URL"],
    ):
        _not_from_the_landing_page()
    try:
        user, target = identity.use_login_token(request.form.get("token", ""), utcnow())
    except LtiError as error:
        _refuse(error)
    login.sign_in(user)
    session["lti_embed"] = False
    if request.form.get("locale") in LANGUAGES:  # the LMS's language, as the landing page had it
        session["locale"] = request.form["locale"]
    db.session.commit()
    return redirect(target)


# --- linking an LMS-made account to a campus account -------------------------------------------


def _link_page(form: ActionForm, status: int = 200):  # type: ignore[no-untyped-def]
    return render_template(
        "lti/link.html",
        form=form,
        lms_name=current_user.name,
        identities=identity.identities_of(current_user),
    ), status


@bp.route("/link", methods=["GET", "POST"])
@login_required
def link_account():
    """Join this launch's LMS identity to an existing campus account: its owner sees which
    identity it is, confirms, and gives that account's password."""
    if not is_synthetic(current_user):
        flash(_("Your account is already a campus account."), "info")
        return redirect(url_for("paths.dashboard"))
    form = ActionForm()
    if request.method == "GET":
        return _link_page(form)
    if not form.validate_on_submit():
        abort(400)
    if request.form.get("confirm") != "yes":
        flash(_("Confirm that this LMS identity is yours before linking it."), "error")
        return _link_page(form, 400)
    try:
        account = pages.check_password(
            request.form.get("email", ""), request.form.get("password", ""), utcnow()
        )
    except login.LoginThrottled as throttled:
        pages.flash_throttled(throttled.retry_after)
        page, _status = _link_page(form, 429)
        return pages.too_many(page, throttled.retry_after)
    if account is None:
        flash(_("The e-mail address or password is not correct."), "error")
        return _link_page(form, 401)
    try:
        moved = identity.link_identity(current_user._get_current_object(), account, utcnow())
    except LtiError as error:
        _refuse(error)
    login.sign_in(account)
    db.session.commit()
    flash(_("Linked. %(count)d completion(s) were carried over.", count=moved), "success")
    return pages.remember_browser(redirect(url_for("paths.dashboard")), account.email)


@bp.get("/identities")
@login_required
def identities():
    """The LMS identities that open this account: a link made by mistake can be undone here."""
    return render_template(
        "lti/identities.html",
        identities=identity.identities_of(current_user),
        removable=not is_synthetic(current_user),
        form=ActionForm(),
    )


@bp.post("/identities/<int:identity_id>/remove")
@login_required
def remove_identity(identity_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        identity.remove_identity(current_user, identity_id)
    except LtiError as error:
        _refuse(error)
    db.session.commit()
    flash(_("The LMS identity was removed from your account."), "success")
    return redirect(url_for(".identities"))


# --- the badge address of an LMS-made account --------------------------------------------------


def _require_claimant() -> None:
    if not identity.may_claim(current_user):
        abort(
            403,
            description=_(
                "Only an account made by a course whose LMS sent no e-mail address can choose "
                "where its badges go."
            ),
        )


@bp.route("/claim", methods=["GET", "POST"])
@login_required
def claim_badges():
    """The learner names an address; a link sent there confirms it (nothing changes before)."""
    _require_claimant()
    form = ActionForm()
    if request.method == "GET":
        return render_template("lti/claim.html", form=form)
    if not form.validate_on_submit():
        abort(400)
    try:
        address = identity.claim_address(request.form.get("email", ""))
    except LtiError as error:
        flash(str(error), "error")
        return render_template("lti/claim.html", form=form), error.status
    if not identity.claim_mail_allowed(current_user, utcnow()):
        flash(
            _("You asked for several links within the hour. Please wait an hour and try again."),
            "error",
        )
        return pages.too_many(render_template("lti/claim.html", form=form), 3600)
    token = identity.claim_token(current_app.config["SECRET_KEY"], current_user, address)
    link = external_url("lti_tool.identity.confirm_claim", token=token)
    subject, body = identity.claim_message(address, link)
    try:
        saved = mail.send(mail.MailSettings.from_config(current_app.config), address, subject, body)
    except mail.MailError:
        current_app.logger.exception("the badge-address confirmation could not be sent")
        flash(_("The message could not be sent. Please try again later."), "error")
        return render_template("lti/claim.html", form=form), 503
    db.session.commit()  # the mail was counted
    return render_template("lti/claim_sent.html", address=address, saved=saved is not None)


def _claim_from_link(token: str) -> str:
    if not current_user.is_authenticated:
        abort(
            401,
            description=_(
                "Open this link in the browser where you use the campus from your course. "
                "If it still asks you to log in, launch the campus from your course, choose "
                "“Open in a new window” and open the link again."
            ),
        )
    try:
        return identity.read_claim(current_app.config["SECRET_KEY"], token, current_user)
    except LtiError as error:
        _refuse(error)


@bp.get("/claim/confirm/<token>")
def confirm_claim(token: str):
    """The link from the message: shows the address and asks for one click (a GET changes
    nothing, so mail scanners that open links do no harm)."""
    address = _claim_from_link(token)
    return render_template(
        "lti/claim_confirm.html", address=address, token=token, form=ActionForm()
    )


@bp.post("/claim/confirm")
def apply_claim():
    if not ActionForm().validate_on_submit():
        abort(400)
    address = _claim_from_link(request.form.get("token", ""))
    reissued = identity.apply_claim(
        current_user._get_current_object(),
        address,
        IssuingContext.from_config(current_app.config),
        utcnow(),
    )
    db.session.commit()
    flash(
        _("Your badges now go to %(email)s (%(count)d re-issued).", email=address, count=reissued),
        "success",
    )
    return redirect(url_for("badges.backpack"))
