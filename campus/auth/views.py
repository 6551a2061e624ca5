"""Log in, log out, register, account settings and language choice."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from urllib.parse import urlsplit

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

from campus.auth import login as login_service
from campus.auth import pages
from campus.auth import registration
from campus.auth import services
from campus.auth import verification
from campus.auth.forms import ChangePasswordForm
from campus.auth.forms import LanguageForm
from campus.auth.forms import LoginForm
from campus.auth.forms import RegisterForm
from campus.auth.models import Organisation
from campus.config import LANGUAGES
from campus.extensions import db
from campus.i18n import current_language

bp = Blueprint("auth", __name__, url_prefix="/auth")


def safe_next(target: str | None) -> str:
    """Only same-site relative paths are followed after login (no open redirect)."""
    if target:
        parts = urlsplit(target)
        if (
            not parts.scheme
            and not parts.netloc
            and target.startswith("/")
            and not target.startswith("//")
        ):
            return target
    return url_for("paths.dashboard")


def _now() -> datetime:
    return datetime.now(UTC)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("paths.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = pages.check_password(form.email.data, form.password.data, _now())
        except login_service.LoginThrottled as throttled:
            pages.flash_throttled(throttled.retry_after)
            return pages.too_many(
                render_template("auth/login.html", form=form), throttled.retry_after
            )
        if user is None:
            flash(_("The e-mail address or password is not correct."), "error")
            return render_template("auth/login.html", form=form), 401
        login_service.sign_in(user)
        db.session.commit()  # the new login and the cleared failures
        return pages.remember_browser(redirect(safe_next(request.args.get("next"))), user.email)
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout():
    """Ends the campus login, and the provider's too where the person came through SSO."""
    from campus.auth.sso.logout import provider_logout_url  # sso.views imports this module
    from campus.auth.sso.views import logout_response

    return logout_response(provider_logout_url())


@bp.route("/register", methods=["GET", "POST"])
def register():
    if not current_app.config["ALLOW_REGISTRATION"]:
        abort(404)
    if current_user.is_authenticated:
        return redirect(url_for("paths.dashboard"))
    form = RegisterForm()
    if request.method == "GET" and request.args.get("email"):
        form.email.data = request.args["email"][:254]  # from a mail about a badge waiting there
    organisations = services.list_organisations()
    form.organisation.choices = [(org.id, org.name) for org in organisations]
    if not organisations:
        flash(_("No organisations exist yet. Ask an administrator to create yours."), "error")
    if form.validate_on_submit():
        organisation = db.get_or_404(Organisation, form.organisation.data)
        now = _now()
        try:
            created = registration.register(
                form.email.data,
                form.name.data,
                form.password.data,
                organisation,
                current_language(),
                pages.request_address(),
                now,
            )
        except registration.RegistrationThrottled as throttled:
            flash(
                _(
                    "Too many registrations from your network. Please wait %(wait)s and try again.",
                    wait=pages.wait_text(throttled.retry_after),
                ),
                "error",
            )
            return pages.too_many(
                render_template("auth/register.html", form=form), throttled.retry_after
            )
        except services.AccountError as error:
            flash(str(error), "error")
            return render_template("auth/register.html", form=form), 400
        # A confirmation link for a new account, a note for an existing one: the same work.
        verification.mail_after_registration(form.email.data, created, now)
        db.session.commit()
        # The same answer whether the address was free or taken: the page must not tell.
        flash(
            _(
                "If the address was free, your account is ready: log in with it. "
                "If you already had an account, log in with your existing password."
            ),
            "info",
        )
        flash(
            _(
                "Check your inbox: we sent a message to the address you gave. Open the link "
                "in it to confirm the address. Badges are issued to confirmed addresses only."
            ),
            "info",
        )
        if not current_app.config.get("MAIL_HOST"):
            flash(
                _(
                    "This campus has no mail server configured: messages are written to the "
                    "instance/mail folder on the server."
                ),
                "info",
            )
        return redirect(url_for("auth.login"))
    status = 400 if form.errors else 200
    return render_template("auth/register.html", form=form), status


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    user = current_user._get_current_object()
    password_form = ChangePasswordForm(prefix="password")
    language_form = LanguageForm(language=user.locale or current_language())
    forms = {
        "password_form": password_form,
        "language_form": language_form,
        "pending_email": verification.pending_change(user),
        "email_managed": verification.address_managed_elsewhere(user),
        "lms_made": verification.is_lms_made(user),
    }
    if password_form.submit.data and password_form.validate_on_submit():
        try:
            checked = pages.check_password(user.email, password_form.current_password.data, _now())
        except login_service.LoginThrottled as throttled:
            pages.flash_throttled(throttled.retry_after)
            return pages.too_many(
                render_template("auth/account.html", **forms), throttled.retry_after
            )
        if checked is None:
            flash(_("The current password is not correct."), "error")
            return render_template("auth/account.html", **forms), 400
        try:
            services.change_password(user, password_form.new_password.data)
        except services.AccountError as error:
            flash(str(error), "error")
            return render_template("auth/account.html", **forms), 400
        login_service.sign_in(user)  # this browser stays logged in, with a new login
        db.session.commit()
        flash(_("Your password has been changed. Other sessions were logged out."), "success")
        return redirect(url_for("auth.account"))
    status = 400 if password_form.errors else 200
    return render_template("auth/account.html", **forms), status


@bp.post("/language")
def set_language():
    """Change the UI language: saved on the account, or in the session for visitors."""
    form = LanguageForm()
    language = form.language.data
    if not form.validate_on_submit() or language not in LANGUAGES:
        abort(400)
    if current_user.is_authenticated:
        services.set_locale(current_user, language)
        db.session.commit()
    else:
        session["locale"] = language
    return redirect(safe_next(request.form.get("next")))
