"""Linking a provider identity to the existing account with its address (blueprint "sso"):
the account's password, or a link mailed to it and opened in this browser."""

from __future__ import annotations

from flask import abort
from flask import current_app
from flask import flash
from flask import render_template
from flask import request
from flask import session
from flask_babel import gettext as _

from campus.auth import login as login_service
from campus.auth import pages
from campus.auth import verification
from campus.auth.forms import ActionForm
from campus.auth.sso import linking
from campus.auth.sso.errors import SsoError
from campus.auth.sso.forms import LinkPasswordForm
from campus.auth.sso.models import OidcPendingLink
from campus.auth.sso.views import LINK_KEY
from campus.auth.sso.views import bp
from campus.auth.sso.views import refused
from campus.auth.sso.views import signed_in
from campus.clock import utcnow
from campus.extensions import db


def _takes_password(pending: OidcPendingLink) -> bool:
    """Accounts of SSO-only organisations and accounts made by a provider have no password."""
    account = pending.user
    return not account.password_hash.startswith("!") and not account.organisation.sso_only


def _page(pending: OidcPendingLink, form: LinkPasswordForm, status: int = 200):  # type: ignore[no-untyped-def]
    return render_template(
        "auth/sso/link.html",
        pending=pending,
        form=form,
        mail_form=ActionForm(prefix="mail"),
        takes_password=_takes_password(pending),
        identity_name=str(pending.claims.get(pending.provider.name_claim or "name", ""))[:200],
    ), status


def _finish_link(pending: OidcPendingLink, account, now):  # type: ignore[no-untyped-def]
    provider, id_token, next_url = pending.provider, pending.id_token, pending.next_url
    outcome = linking.link(pending, account, now)
    session.pop(LINK_KEY, None)
    flash(
        _("Your campus account is now linked to %(name)s.", name=provider.name),
        "success",
    )
    return signed_in(account, provider, id_token, outcome.newly_verified, next_url, now)


@bp.route("/link", methods=["GET", "POST"])
def link():  # type: ignore[no-untyped-def]
    now = utcnow()
    try:
        pending = linking.pending_for_browser(session.get(LINK_KEY), now)
    except SsoError as error:
        return refused(error)
    form = LinkPasswordForm()
    if request.method == "GET":
        return _page(pending, form)
    if not _takes_password(pending):
        abort(400)
    if not form.validate_on_submit():
        return _page(pending, form, 400)
    account_email = pending.user.email
    try:
        account = pages.check_password(account_email, form.password.data, now)
    except login_service.LoginThrottled as throttled:
        pages.flash_throttled(throttled.retry_after)
        page, _status = _page(pending, form, 429)
        return pages.too_many(page, throttled.retry_after)
    if account is None:
        flash(_("The password is not correct."), "error")
        return _page(pending, form, 401)
    try:
        response = _finish_link(pending, account, now)
    except SsoError as error:
        return refused(error)
    return pages.remember_browser(response, account.email)


@bp.post("/link/mail")
def mail_link():  # type: ignore[no-untyped-def]
    now = utcnow()
    if not ActionForm(prefix="mail").validate_on_submit():
        abort(400)
    try:
        pending = linking.pending_for_browser(session.get(LINK_KEY), now)
    except SsoError as error:
        return refused(error)
    try:
        address = linking.mail_link(pending, now)
    except verification.VerificationThrottled as throttled:
        flash(
            _(
                "Several messages were sent to this account within the hour. "
                "Please wait %(wait)s and try again.",
                wait=pages.wait_text(throttled.retry_after),
            ),
            "error",
        )
        page, _status = _page(pending, LinkPasswordForm(formdata=None), 429)
        return pages.too_many(page, throttled.retry_after)
    db.session.commit()
    return render_template(
        "auth/sso/link_sent.html",
        address=address,
        provider=pending.provider,
        to_files=not current_app.config.get("MAIL_HOST"),
    )


@bp.get("/link/confirm/<token>")
def confirm_link(token: str):  # type: ignore[no-untyped-def]
    """The mailed link: shows what will be linked and asks for one click (a GET changes
    nothing, so mail scanners that open links do no harm)."""
    try:
        pending = linking.pending_for_mail(token, session.get(LINK_KEY), utcnow())
    except SsoError as error:
        return refused(error)
    return render_template(
        "auth/sso/link_confirm.html", pending=pending, token=token, form=ActionForm()
    )


@bp.post("/link/confirm")
def apply_link():  # type: ignore[no-untyped-def]
    now = utcnow()
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        pending = linking.pending_for_mail(
            request.form.get("token", "")[:200], session.get(LINK_KEY), now
        )
        return _finish_link(pending, pending.user, now)
    except SsoError as error:
        return refused(error)
