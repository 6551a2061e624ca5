"""The ICT annual clock pages: the clock of a region or organisation (circle, months, years), an
action's page (details, RACI, done per year), a group's clock, and the iCalendar feeds.

Reading: everyone who can read the scope. Editing: the scope's editors add and delete actions;
they and the chair of the responsible group edit an action, its RACI and its done marks.
Feeds: the scope's editors (for a group: its editors) create a secret address; the old one stops
working. Only the hash is stored, so the address is shown once, right after it is created.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlparse

from flask import Blueprint
from flask import Response
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

from campus.clock import utcnow
from campus.extensions import db
from campus.network import access
from campus.network import annual
from campus.network import ical
from campus.network.access import Scope
from campus.network.clock_models import ClockAction
from campus.network.clock_svg import clock_svg
from campus.network.clock_svg import month_names
from campus.network.clock_svg import status_label
from campus.network.forms_clock import ActionForm
from campus.network.forms_clock import DeleteForm
from campus.network.forms_clock import DoneForm
from campus.network.forms_clock import FeedForm
from campus.network.forms_clock import NotDoneForm
from campus.network.forms_clock import action_data
from campus.network.forms_clock import action_form
from campus.network.forms_clock import raci_entries
from campus.network.forms_clock import raci_form
from campus.network.models import Group
from campus.network.years import EARLIEST_YEAR
from campus.network.years import LATEST_YEAR
from campus.network.years import parse_year
from campus.paths.models import LearningPath
from campus.routing import external_url

bp = Blueprint("network_clock", __name__, url_prefix="/network")

VIEWS = ("circle", "months", "years")
SCOPE_URL = "/<any(region,organisation):kind>/<int:scope_id>/clock"


def _today() -> date:
    return utcnow().date()


def _year() -> int:
    value = request.args.get("year", "")
    if not value:
        return _today().year
    year = parse_year(value)
    if year is None:
        abort(400)
    return year


def _action_url(action: ClockAction) -> str:
    return url_for("network_clock.action", action_id=action.id)


def _status_of(today: date):  # type: ignore[no-untyped-def]
    return lambda run: annual.status(run.action, run.year, today)


def _year_view(runs, year: int, today: date, name: str, *, with_circle: bool) -> dict:  # type: ignore[no-untyped-def]
    """What a clock page shows of a year (a scope's or a group's): runs by month, the circle."""
    status_of = _status_of(today)
    title = _("Annual clock %(year)s: %(name)s", year=year, name=name)
    svg = (
        clock_svg(runs, year, today, title=title, action_url=_action_url, status_of=status_of)
        if with_circle
        else None
    )
    return {
        "year": year,
        "runs": runs,
        "months": annual.month_list(runs, year),
        "month_names": month_names(),
        "svg": svg,
        "status_of": status_of,
        "status_label": status_label,
        "year_range": (EARLIEST_YEAR, LATEST_YEAR),
    }


def _render_clock(scope: Scope, form: ActionForm | None, status_code: int = 200):  # type: ignore[no-untyped-def]
    year, today = _year(), _today()
    view = request.args.get("view", "circle")
    if view not in VIEWS:
        abort(400)
    runs = annual.runs_in_view(annual.visible_actions(scope), year)
    years = list(range(year - 3, year + 2))
    return render_template(
        "network/clock/clock.html",
        **_year_view(runs, year, today, scope.name, with_circle=view == "circle"),
        scope=scope,
        view=view,
        years=years,
        year_rows=annual.year_on_year(scope, years, today) if view == "years" else [],
        can_edit=access.can_edit_scope(current_user, scope),
        form=form,
        feed_form=FeedForm(),
    ), status_code


@bp.route(SCOPE_URL, methods=["GET", "POST"])
@login_required
def clock(kind: str, scope_id: int):  # type: ignore[no-untyped-def]
    scope = access.resolve_scope(kind, scope_id)
    access.ensure(access.can_read_scope(current_user, scope))
    can_edit = access.can_edit_scope(current_user, scope)
    if request.method == "POST":
        access.ensure(can_edit)
    form = (
        action_form(scope, None, prefill=request.method == "GET", this_year=_today().year)
        if can_edit
        else None
    )
    if form is not None and form.validate_on_submit():
        try:
            action = annual.create_action(scope, action_data(form))
        except annual.ClockError as error:
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(_("The action is on the clock."), "success")
            return redirect(url_for(".action", action_id=action.id))
    return _render_clock(scope, form, 400 if request.method == "POST" else 200)


def _owner(action: ClockAction) -> tuple[ClockAction, Scope]:
    scope = access.scope_of(action)
    readable = access.can_read_scope(current_user, scope)
    access.ensure(readable or access.can_edit_action(current_user, action))
    return action, scope


def _render_action(action: ClockAction, scope: Scope, status_code: int = 200, **forms):  # type: ignore[no-untyped-def]
    today = _today()
    can_edit = access.can_edit_action(current_user, action)
    last = min(action.last_year or today.year + 1, max(today.year + 1, action.first_year))
    years = list(range(max(action.first_year, last - 5), last + 1))
    context = {
        "action": action,
        "scope": scope,
        "runs": [
            (year, annual.occurrence(action, year), annual.status(action, year, today))
            for year in years
        ],
        "done_rows": {row.year: row for row in action.done},
        "status_label": status_label,
        "month_names": month_names(),
        "wraps": annual.wraps(action),
        "can_edit": can_edit,
        "can_delete": access.can_edit_scope(current_user, scope),
        "paths": _paths(action.path_slugs),
    }
    if can_edit:
        form, raci = forms.get("form"), forms.get("raci")
        context["form"] = (
            form
            if form is not None
            else action_form(scope, action, prefill=True, this_year=today.year)
        )
        context["raci"] = raci if raci is not None else raci_form(scope, action)
        context["done_form"] = DoneForm(formdata=None, year=today.year)
        context["not_done_form"] = NotDoneForm(formdata=None, year=today.year)
        context["delete_form"] = DeleteForm()
    return render_template("network/clock/action.html", **context), status_code


def _paths(slugs: list[str]) -> list[LearningPath]:
    if not slugs:
        return []
    query = db.select(LearningPath).where(LearningPath.slug.in_(slugs)).order_by(LearningPath.slug)
    return list(db.session.execute(query).scalars())


@bp.route("/clock/actions/<int:action_id>", methods=["GET", "POST"])
@login_required
def action(action_id: int):  # type: ignore[no-untyped-def]
    action, scope = _owner(db.get_or_404(ClockAction, action_id))
    if request.method == "GET":
        return _render_action(action, scope)
    access.ensure(access.can_edit_action(current_user, action))
    form = action_form(scope, action, prefill=False, this_year=_today().year)
    if form.validate_on_submit():
        try:
            annual.update_action(action, action_data(form))
        except annual.ClockError as error:
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(_("The action is saved."), "success")
            return redirect(url_for(".action", action_id=action.id))
    return _render_action(action, scope, 400, form=form)


@bp.post("/clock/actions/<int:action_id>/raci")
@login_required
def raci(action_id: int):  # type: ignore[no-untyped-def]
    action, scope = _owner(db.get_or_404(ClockAction, action_id))
    access.ensure(access.can_edit_action(current_user, action))
    form = raci_form(scope, None)
    if form.validate_on_submit():
        try:
            annual.set_raci(action, raci_entries(form))
        except annual.RaciError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(_("The responsibility matrix is saved."), "success")
            return redirect(url_for(".action", action_id=action.id))
    return _render_action(action, scope, 400, raci=form)


def _flash_refused(form: DoneForm | NotDoneForm) -> None:
    """Why a done/not-done form was refused: its fields' own messages (the year, the note), or
    for anything else (a missing or expired CSRF token) a neutral one, not "check the year"."""
    messages = [
        str(message)
        for name, errors in form.errors.items()
        if name != "csrf_token"
        for message in errors
    ]
    neutral = _("The form could not be accepted; reload the page and try again.")
    flash(" ".join(messages) or neutral, "error")


@bp.post("/clock/actions/<int:action_id>/done")
@login_required
def done(action_id: int):  # type: ignore[no-untyped-def]
    action, scope = _owner(db.get_or_404(ClockAction, action_id))
    access.ensure(access.can_edit_action(current_user, action))
    form = DoneForm()
    if form.validate_on_submit():
        try:
            annual.mark_done(action, form.year.data, current_user, form.note.data or "", utcnow())
        except annual.ClockError as error:
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(_("Marked done for %(year)s.", year=form.year.data), "success")
            return redirect(url_for(".action", action_id=action.id))
    else:
        _flash_refused(form)
    return _render_action(action, scope, 400)


@bp.post("/clock/actions/<int:action_id>/not-done")
@login_required
def not_done(action_id: int):  # type: ignore[no-untyped-def]
    action, scope = _owner(db.get_or_404(ClockAction, action_id))
    access.ensure(access.can_edit_action(current_user, action))
    form = NotDoneForm()
    if not form.validate_on_submit():
        _flash_refused(form)
        return _render_action(action, scope, 400)
    annual.mark_not_done(action, form.year.data)
    db.session.commit()
    flash(_("Marked not done for %(year)s.", year=form.year.data), "success")
    return redirect(url_for(".action", action_id=action.id))


@bp.post("/clock/actions/<int:action_id>/delete")
@login_required
def delete(action_id: int):  # type: ignore[no-untyped-def]
    action, scope = _owner(db.get_or_404(ClockAction, action_id))
    access.ensure(access.can_edit_scope(current_user, scope))
    if not DeleteForm().validate_on_submit():
        abort(400)
    annual.delete_action(action)
    db.session.commit()
    flash(_("The action is deleted."), "success")
    return redirect(url_for(".clock", kind=scope.kind, scope_id=scope.id))


@bp.get("/groups/<int:group_id>/clock")
@login_required
def group_clock(group_id: int):  # type: ignore[no-untyped-def]
    group = db.get_or_404(Group, group_id)
    access.ensure(access.can_read_group(current_user, group))
    year, today = _year(), _today()
    runs = annual.runs_in_view([(a, False) for a in annual.group_actions(group)], year)
    return render_template(
        "network/clock/group_clock.html",
        **_year_view(runs, year, today, group.name, with_circle=True),
        group=group,
        scope=access.scope_of(group),
        can_edit=access.can_edit_group(current_user, group),
        feed_form=FeedForm(),
    )


def _new_feed(owner: ical.FeedOwner, back: str):  # type: ignore[no-untyped-def]
    if not FeedForm().validate_on_submit():
        abort(400)
    token = ical.create_feed(owner, current_user, utcnow())
    db.session.commit()
    address = external_url("network_clock.feed", token=token)
    flash(
        _(
            "Copy this calendar address now and add it to your calendar app; it is not shown "
            "again (a new address replaces it): %(url)s",
            url=address,
        ),
        "success",
    )
    return redirect(back)


@bp.post(SCOPE_URL + "/feed")
@login_required
def scope_feed(kind: str, scope_id: int):  # type: ignore[no-untyped-def]
    scope = access.resolve_scope(kind, scope_id)
    access.ensure(access.can_edit_scope(current_user, scope))
    owner = ical.scope_owner(scope)
    return _new_feed(owner, url_for(".clock", kind=kind, scope_id=scope_id) + "#subscribe")


@bp.post("/groups/<int:group_id>/clock/feed")
@login_required
def group_feed(group_id: int):  # type: ignore[no-untyped-def]
    group = db.get_or_404(Group, group_id)
    access.ensure(access.can_edit_group(current_user, group))
    return _new_feed(group, url_for(".group_clock", group_id=group.id) + "#subscribe")


@bp.get("/calendar/<token>.ics")
def feed(token: str) -> Response:
    found = ical.feed_for_token(token)
    if found is None:
        abort(404)
    owner = ical.feed_owner(found)
    host = urlparse(str(current_app.config["BASE_URL"])).hostname or "campus"
    body = ical.calendar_for(
        _("Annual clock: %(name)s", name=owner.name),
        ical.owner_actions(owner),
        host,
        lambda action: external_url("network_clock.action", action_id=action.id),
        utcnow(),
    )
    response = Response(body, content_type="text/calendar; charset=utf-8")
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["Content-Disposition"] = 'inline; filename="clock.ics"'
    return response
