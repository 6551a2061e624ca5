"""Pages where people create, list and revoke their API tokens, and admins manage clients.

A new secret is shown once, on the page that answers the form (never through a redirect: the
flash messages live in the session cookie); afterwards only its name and dates are shown.
"""

from __future__ import annotations

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required

from campus.api import token_services
from campus.api.token_forms import ClientForm
from campus.api.token_forms import TokenForm
from campus.api.token_forms import expiry_days
from campus.api.token_forms import scope_choices
from campus.api.token_models import ApiClient
from campus.auth.forms import ActionForm
from campus.auth.models import Role
from campus.auth.models import User
from campus.auth.services import list_organisations
from campus.clock import utcnow
from campus.extensions import db
from campus.security import require_role

bp = Blueprint("api_tokens", __name__, url_prefix="/account/api")


def _refusal(error: token_services.TokenError, client: bool = False) -> str:
    if error.code == "name":
        return _("Give it a name of at most 100 characters.")
    if error.code == "expiry":
        return _("Choose one of the offered expiry times.")
    if error.code == "no_scopes":
        return _("Choose at least one thing it may do.")
    if client:
        return _("Reading and awarding badges is for clients of the whole campus only.")
    return _("A token cannot do more than your roles allow.")


def _user() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def _token_form() -> TokenForm:
    form = TokenForm()
    form.scopes.choices = scope_choices(token_services.user_allowed_scopes(_user()))
    return form


def _tokens_page(form: TokenForm, status: int = 200):  # type: ignore[no-untyped-def]
    return render_template(
        "api_tokens/tokens.html",
        form=form,
        tokens=token_services.list_pats(_user()),
        action_form=ActionForm(),
        now=utcnow(),
        is_expired=token_services.is_expired,
    ), status


@bp.route("", methods=["GET", "POST"])
@login_required
def tokens():  # type: ignore[no-untyped-def]
    """The person's tokens and the form for a new one."""
    form = _token_form()
    if not form.validate_on_submit():
        return _tokens_page(form, 400 if request.method == "POST" else 200)
    try:
        token, secret = token_services.create_pat(
            _user(),
            form.name.data or "",
            form.scopes.data or [],
            expiry_days(form.expiry.data),
            utcnow(),
        )
    except token_services.TokenError as error:
        db.session.rollback()
        flash(_refusal(error), "error")
        return _tokens_page(form, 400)
    db.session.commit()
    return render_template("api_tokens/created.html", token=token, secret=secret)


@bp.post("/<int:token_id>/revoke")
@login_required
def revoke(token_id: int):  # type: ignore[no-untyped-def]
    if not ActionForm().validate_on_submit():
        abort(400)
    token = token_services.own_pat(_user(), token_id)
    if token is None:  # someone else's, or revoked already: nothing of theirs to reveal
        abort(404)
    token_services.revoke_pat(token, utcnow())
    db.session.commit()
    flash(_("The token %(name)s was revoked.", name=token.name), "success")
    return redirect(url_for("api_tokens.tokens"))


# --- API clients (campus admins) --------------------------------------------------------------


def _client_form() -> ClientForm:
    form = ClientForm()
    form.organisation.choices = [(0, _("The whole campus"))] + [
        (org.id, org.name) for org in list_organisations()
    ]
    form.scopes.choices = scope_choices(token_services.client_allowed_scopes(None))
    return form


def _clients_page(form: ClientForm, status: int = 200):  # type: ignore[no-untyped-def]
    return render_template(
        "api_tokens/clients.html",
        form=form,
        clients=token_services.list_clients(),
        action_form=ActionForm(),
        now=utcnow(),
        is_expired=token_services.is_expired,
    ), status


@bp.route("/clients", methods=["GET", "POST"])
@login_required
def clients():  # type: ignore[no-untyped-def]
    """API clients of institutional systems, and the form for a new one."""
    require_role(Role.ADMIN)
    form = _client_form()
    if not form.validate_on_submit():
        return _clients_page(form, 400 if request.method == "POST" else 200)
    try:
        client, secret = token_services.create_client(
            form.name.data or "",
            form.organisation.data or None,
            form.scopes.data or [],
            _user(),
            expiry_days(form.expiry.data),
            utcnow(),
        )
    except token_services.TokenError as error:
        db.session.rollback()
        flash(_refusal(error, client=True), "error")
        return _clients_page(form, 400)
    db.session.commit()
    return render_template("api_tokens/client_created.html", client=client, secret=secret)


@bp.post("/clients/<int:client_pk>/revoke")
@login_required
def revoke_client(client_pk: int):  # type: ignore[no-untyped-def]
    require_role(Role.ADMIN)
    if not ActionForm().validate_on_submit():
        abort(400)
    client = db.get_or_404(ApiClient, client_pk)
    if client.revoked_at is None:
        token_services.revoke_client(client, utcnow())
        db.session.commit()
    flash(_("The client %(name)s was revoked.", name=client.name), "success")
    return redirect(url_for("api_tokens.clients"))
