"""Admin pages for single sign-on (blueprint "sso_admin", /manage/sso): providers, and which
organisations log in through them only. Admins only."""

from __future__ import annotations

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required

from campus.auth.forms import ActionForm
from campus.auth.models import Organisation
from campus.auth.models import Role
from campus.auth.services import list_organisations
from campus.auth.sso import client
from campus.auth.sso import providers as provider_services
from campus.auth.sso.errors import SsoError
from campus.auth.sso.forms import ProviderForm
from campus.auth.sso.models import OidcProvider
from campus.extensions import db
from campus.routing import external_url
from campus.security import require_role

bp = Blueprint("sso_admin", __name__, url_prefix="/manage/sso")


@bp.before_request
@login_required
def admins_only() -> None:
    require_role(Role.ADMIN)


def _form(provider: OidcProvider | None = None) -> ProviderForm:
    form = ProviderForm(obj=provider) if provider else ProviderForm()
    form.organisation.choices = [(org.id, org.name) for org in list_organisations()]
    if provider is not None and request.method == "GET":
        form.organisation.data = provider.organisation_id
        form.organisation_map.data = provider_services.format_pairs(provider.organisation_map)
        form.role_map.data = provider_services.format_pairs(provider.role_map)
        form.allowed_domains.data = "\n".join(provider.allowed_domains or [])
    return form


def _fields(form: ProviderForm) -> provider_services.ProviderFields:
    return provider_services.ProviderFields(
        name=form.name.data or "",
        slug=form.slug.data or "",
        issuer=form.issuer.data or "",
        discovery_url=form.discovery_url.data,
        client_id=form.client_id.data or "",
        client_secret=form.client_secret.data or None,
        scopes=form.scopes.data or "",
        organisation_id=form.organisation.data or 0,
        name_claim=form.name_claim.data or "name",
        email_claim=form.email_claim.data or "email",
        organisation_claim=form.organisation_claim.data,
        organisation_map=form.organisation_map.data or "",
        roles_claim=form.roles_claim.data,
        role_map=form.role_map.data or "",
        allowed_domains=form.allowed_domains.data or "",
        trust_email_verified=bool(form.trust_email_verified.data),
    )


def _check_discovery(provider: OidcProvider) -> None:
    """Tell the admin at once when the provider's discovery document cannot be used."""
    try:
        client.metadata(provider, client.Settings.from_config(current_app.config), fresh=True)
    except SsoError as error:
        current_app.logger.warning("SSO discovery for %s: %s", provider.slug, error.detail)
        flash(
            _(
                "Saved, but the provider's discovery document could not be used yet: check the "
                "issuer URL. Logins fail until it can."
            ),
            "error",
        )


def _allow_http() -> bool:
    return bool(current_app.config.get("TESTING"))


@bp.route("/providers", methods=["GET", "POST"])
def providers():  # type: ignore[no-untyped-def]
    form = _form()
    status = 200
    if form.validate_on_submit():
        try:
            provider = provider_services.create_provider(_fields(form), _allow_http())
        except SsoError as error:
            db.session.rollback()
            flash(error.message, "error")
            status = 400
        else:
            db.session.commit()
            flash(_("Provider %(name)s added.", name=provider.name), "success")
            _check_discovery(provider)
            return redirect(url_for("sso_admin.edit_provider", provider_id=provider.id))
    elif request.method == "POST":
        status = 400
    return _providers_page(form, status)


def _providers_page(form: ProviderForm, status: int = 200):  # type: ignore[no-untyped-def]
    return render_template(
        "auth/sso/admin_providers.html",
        form=form,
        providers=provider_services.list_providers(),
        organisations=list_organisations(),
        action_form=ActionForm(),
    ), status


@bp.route("/providers/<int:provider_id>", methods=["GET", "POST"])
def edit_provider(provider_id: int):  # type: ignore[no-untyped-def]
    provider = db.get_or_404(OidcProvider, provider_id)
    form = _form(provider)
    status = 200
    if form.validate_on_submit():
        try:
            provider_services.update_provider(provider, _fields(form), _allow_http())
        except SsoError as error:
            db.session.rollback()
            flash(error.message, "error")
            status = 400
        else:
            db.session.commit()
            flash(_("Provider settings saved."), "success")
            _check_discovery(provider)
            return redirect(url_for("sso_admin.edit_provider", provider_id=provider.id))
    elif request.method == "POST":
        status = 400
    return render_template(
        "auth/sso/admin_provider.html",
        form=form,
        provider=provider,
        redirect_uri=external_url("sso.callback", slug=provider.slug),
        logout_uri=external_url("sso.logged_out"),
    ), status


@bp.post("/providers/<int:provider_id>/toggle")
def toggle_provider(provider_id: int):  # type: ignore[no-untyped-def]
    if not ActionForm().validate_on_submit():
        abort(400)
    provider = db.get_or_404(OidcProvider, provider_id)
    provider.is_enabled = not provider.is_enabled
    db.session.commit()
    flash(_("Provider enabled.") if provider.is_enabled else _("Provider disabled."), "success")
    return redirect(url_for("sso_admin.providers"))


@bp.post("/organisations/<int:organisation_id>/sso-only")
def toggle_sso_only(organisation_id: int):  # type: ignore[no-untyped-def]
    if not ActionForm().validate_on_submit():
        abort(400)
    organisation = db.get_or_404(Organisation, organisation_id)
    try:
        provider_services.set_sso_only(
            organisation, not organisation.sso_only, current_user._get_current_object()
        )
    except SsoError as error:
        db.session.rollback()
        flash(error.message, "error")
        return _providers_page(_form(), 400)
    db.session.commit()
    flash(
        _("%(name)s now logs in with single sign-on only.", name=organisation.name)
        if organisation.sso_only
        else _("Members of %(name)s may log in with a password again.", name=organisation.name),
        "success",
    )
    return redirect(url_for("sso_admin.providers"))
