"""Organisation dashboards (org admins) and administration (admins)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from datetime import datetime

from flask import Blueprint
from flask import Response
from flask import abort
from flask import flash
from flask import make_response
from flask import redirect
from flask import render_template
from flask import request
from flask import stream_with_context
from flask import url_for
from flask_babel import format_date
from flask_babel import get_timezone
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required

from campus.auth import services as account_services
from campus.auth.models import Organisation
from campus.auth.models import OrganisationKind
from campus.auth.models import Role
from campus.auth.models import User
from campus.clock import aware
from campus.clock import utcnow
from campus.extensions import db
from campus.i18n import current_language
from campus.labels import ROLE_LABELS
from campus.labels import STATUS_LABELS
from campus.manage import services
from campus.manage.forms import OrganisationForm
from campus.manage.forms import UserRolesForm
from campus.manage.progress import DEFAULT_DESCENDING
from campus.manage.progress import ProgressQuery
from campus.manage.progress import iter_progress
from campus.manage.progress import offered_paths
from campus.manage.progress import progress_table
from campus.manage.progress_overview import overview
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


def _progress_query() -> ProgressQuery:
    args = request.args
    return ProgressQuery.parse(
        args.get("q", ""), args.get("sort", ""), args.get("dir", ""), page_number(args.get("page"))
    )


def _progress_url_maker(organisation: Organisation, theme: Theme | None, query: ProgressQuery):
    """url(**changes): this view's address with the same filters, defaults left out."""

    def url(**changes: object) -> str:
        values: dict[str, object] = {
            "theme": theme.slug if theme else None,
            "q": query.search or None,
            "sort": query.sort,
            "dir": "desc" if query.descending else "asc",
            "page": query.page,
        }
        values.update(changes)
        if values["sort"] == "name" and values["dir"] == "asc":
            values["sort"] = values["dir"] = None
        if values["page"] == 1:
            values["page"] = None
        return url_for("manage.progress", organisation_id=organisation.id, **values)

    return url


class _LocalDates:
    """`|localdate` once per day shown: a page's 500 cells repeat the same few days."""

    def __init__(self) -> None:
        self._zone = get_timezone()
        self._days: dict[date, str] = {}

    def __call__(self, moment: datetime | None) -> str:
        if moment is None:
            return ""
        day = aware(moment).astimezone(self._zone).date()
        text = self._days.get(day)
        if text is None:
            text = self._days[day] = format_date(day, "medium")
        return text


@bp.get("/organisations/<int:organisation_id>/progress")
@login_required
def progress(organisation_id: int):
    organisation = _organisation_for_manager(organisation_id)
    theme = _theme_filter()
    query = _progress_query()
    paths = offered_paths(theme)
    table = progress_table(organisation, theme, query, paths=paths)
    if query.page > table.pages:
        abort(404)
    summary = overview(organisation, paths, utcnow().date())
    themes = db.session.execute(
        db.select(Theme).where(Theme.is_retired.is_(False)).order_by(Theme.position)
    ).scalars()
    progress_url = _progress_url_maker(organisation, theme, query)
    response = make_response(
        render_template(
            "manage/progress.html",
            table=table,
            theme=theme,
            themes=list(themes),
            query=query,
            summary=summary,
            progress_url=progress_url,
            default_descending=DEFAULT_DESCENDING,
            local_date=_LocalDates(),
        )
    )
    links = []
    if table.has_prev:
        links.append(f'<{progress_url(page=table.page - 1)}>; rel="prev"')
    if table.has_next:
        links.append(f'<{progress_url(page=table.page + 1)}>; rel="next"')
    if links:
        response.headers["Link"] = ", ".join(links)
    return response


def _with_bom(lines: Iterator[str]) -> Iterator[str]:
    """The UTF-8 byte order mark that tells Excel the encoding, then the CSV.

    The mark comes before the streamed part starts: a WSGI server (or the test client) that
    reads the first piece to begin the response does not yet enter the request context that
    the rest runs in. Closing this generator closes the stream too.
    """
    yield "\ufeff"
    yield from lines


@bp.get("/organisations/<int:organisation_id>/progress.csv")
@login_required
def progress_csv(organisation_id: int):
    """Streamed: members are read a chunk at a time while the rows go out (issue 16)."""
    organisation = _organisation_for_manager(organisation_id)
    theme = _theme_filter()
    paths = offered_paths(theme)
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
        _("Last activity"),
    ]
    lines = services.progress_csv_lines(
        paths,
        iter_progress(organisation, paths, _progress_query()),
        current_language(),
        headers,
        STATUS_LABELS,
        get_timezone(),
    )
    filename = f"progress-{organisation.slug}{'-' + theme.slug if theme else ''}.csv"
    return Response(
        _with_bom(stream_with_context(lines)),
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
    if request.method == "POST" and user.deleted_at is not None:
        abort(409, description=_("This account has been deleted."))
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
