"""Organisation dashboards (org admins) and administration (admins)."""

from __future__ import annotations

from flask import Blueprint
from flask import Response
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required

from campus.auth import services as account_services
from campus.auth.models import Organisation
from campus.auth.models import OrganisationKind
from campus.auth.models import Role
from campus.auth.models import User
from campus.extensions import db
from campus.i18n import current_language
from campus.labels import ROLE_LABELS
from campus.manage import services
from campus.manage.forms import OrganisationForm
from campus.manage.forms import UserRolesForm
from campus.paths.models import Theme
from campus.routing import page_number
from campus.routing import parse_id
from campus.security import require_role

bp = Blueprint("manage", __name__, url_prefix="/manage")


def _organisation_for_manager(organisation_id: int) -> Organisation:
    organisation = db.get_or_404(Organisation, organisation_id)
    if not current_user.can_manage_organisation(organisation.id):
        abort(403)
    return organisation


def _theme_filter() -> Theme | None:
    slug = request.args.get("theme")
    if not slug:
        return None
    theme = db.session.execute(db.select(Theme).where(Theme.slug == slug)).scalar_one_or_none()
    if theme is None:
        abort(404)
    return theme


@bp.get("/")
@login_required
def index():
    require_role(Role.ORG_ADMIN)
    if current_user.has_role(Role.ADMIN):
        organisations = account_services.list_organisations()
        return render_template("manage/index.html", organisations=organisations)
    return redirect(url_for("manage.progress", organisation_id=current_user.organisation_id))


@bp.get("/organisations/<int:organisation_id>/progress")
@login_required
def progress(organisation_id: int):
    organisation = _organisation_for_manager(organisation_id)
    theme = _theme_filter()
    table = services.organisation_progress(organisation, theme)
    themes = db.session.execute(
        db.select(Theme).where(Theme.is_retired.is_(False)).order_by(Theme.position)
    ).scalars()
    return render_template("manage/progress.html", table=table, theme=theme, themes=list(themes))


@bp.get("/organisations/<int:organisation_id>/progress.csv")
@login_required
def progress_csv(organisation_id: int):
    organisation = _organisation_for_manager(organisation_id)
    theme = _theme_filter()
    table = services.organisation_progress(organisation, theme)
    headers = [
        _("Name"),
        _("E-mail"),
        _("Theme"),
        _("Path id"),
        _("Path"),
        _("Status"),
        _("Required modules done"),
        _("Required modules"),
        _("Percent"),
        _("Completed at"),
    ]
    body = "\ufeff" + services.progress_csv(table, current_language(), headers)
    filename = f"progress-{organisation.slug}{'-' + theme.slug if theme else ''}.csv"
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.route("/organisations", methods=["GET", "POST"])
@login_required
def organisations():
    require_role(Role.ADMIN)
    form = OrganisationForm()
    if form.validate_on_submit():
        try:
            organisation = account_services.create_organisation(
                form.name.data, OrganisationKind(form.kind.data)
            )
        except account_services.AccountError as error:
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(_("Organisation %(name)s created.", name=organisation.name), "success")
            return redirect(url_for("manage.organisations"))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "manage/organisations.html",
        form=form,
        organisations=account_services.list_organisations(),
    ), status


@bp.get("/users")
@login_required
def users():
    require_role(Role.ADMIN)
    organisation = None
    if chosen := request.args.get("organisation"):
        organisation = db.get_or_404(Organisation, parse_id(chosen) or 0)
    search = request.args.get("q", "")[:100]
    page = services.search_users(organisation, search, page_number(request.args.get("page")))
    return render_template(
        "manage/users.html",
        page=page,
        search=search,
        organisation=organisation,
        organisations=account_services.list_organisations(),
    )


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@login_required
def edit_user(user_id: int):
    require_role(Role.ADMIN)
    user = db.get_or_404(User, user_id)
    form = UserRolesForm(
        organisation=user.organisation_id,
        roles=[role.value for role in user.roles if role is not Role.LEARNER],
    )
    form.organisation.choices = [
        (org.id, org.name) for org in account_services.list_organisations()
    ]
    form.roles.choices = [
        (role.value, ROLE_LABELS[role.value]) for role in Role if role is not Role.LEARNER
    ]
    if form.validate_on_submit():
        roles = {Role(value) for value in form.roles.data}
        if user.id == current_user.id and Role.ADMIN not in roles:
            flash(_("You cannot remove your own administrator role."), "error")
            return render_template("manage/user.html", form=form, user=user), 400
        user.organisation = db.get_or_404(Organisation, form.organisation.data)
        account_services.set_roles(user, roles)
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("manage.edit_user", user_id=user.id))
    status = 400 if request.method == "POST" else 200
    return render_template("manage/user.html", form=form, user=user), status
