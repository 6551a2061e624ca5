"""Roadmap pages: a scope's roadmaps, a roadmap with its goals and mirroring, a goal's page with
its forms and history, and the public read-only page of a roadmap shared by link."""

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

from campus.clock import utcnow
from campus.extensions import db
from campus.i18n import pick
from campus.network import access
from campus.network import roadmap_mirror as mirroring
from campus.network import roadmaps as services
from campus.network import structure
from campus.network.forms_roadmaps import ConfirmForm
from campus.network.forms_roadmaps import GoalForm
from campus.network.forms_roadmaps import MoveForm
from campus.network.forms_roadmaps import RoadmapForm
from campus.network.forms_roadmaps import ServesForm
from campus.network.forms_roadmaps import SharingForm
from campus.network.forms_roadmaps import StatusForm
from campus.network.models import Goal
from campus.network.models import Roadmap
from campus.network.roadmap_measures import area_choices
from campus.network.roadmap_measures import measures_for

bp = Blueprint("network_roadmaps", __name__, url_prefix="/network")


# ------------------------------------------------------------------------------- helpers


def readable(roadmap: Roadmap) -> access.Scope:
    """The roadmap's scope, when the current user may read it (403 otherwise)."""
    scope = access.scope_of(roadmap)
    access.ensure(access.can_read_scope(current_user, scope))
    return scope


def editable(roadmap: Roadmap) -> access.Scope:
    """The roadmap's scope, when the current user may edit it (403 otherwise)."""
    scope = access.scope_of(roadmap)
    access.ensure(access.can_edit_scope(current_user, scope))
    return scope


def fill_goal_form(form: GoalForm, scope: access.Scope) -> None:
    form.measure.choices = [("", _("None"))] + [
        (f"{instrument.slug}/{area.key}", f"{pick(instrument.title)}: {pick(area.title)}")
        for instrument, area in area_choices()
    ]
    form.group.choices = [("", _("None"))] + [
        (str(group.id), group.name) for group in structure.groups_of(scope, with_region=True)
    ]


def goal_input(form: GoalForm) -> services.GoalInput:
    instrument, _sep, area = (form.measure.data or "").partition("/")
    return services.GoalInput(
        area=form.area.data or "",
        focus=form.focus.data or "",
        title=form.title.data or "",
        starting_point=form.starting_point.data or "",
        target_state=form.target_state.data or "",
        indicators=form.indicators.data or "",
        group_id=int(form.group.data) if form.group.data else None,
        instrument_slug=instrument or None,
        assessment_area_key=area or None,
        paths=form.paths.data or "",
        badges=form.badges.data or "",
    )


def serves_form(goal: Goal, choices: list[Goal], prefix: str = "") -> ServesForm:
    form = ServesForm(prefix=prefix, data={"regional_goal": str(goal.serves_goal_id or "")})
    form.regional_goal.choices = [("", _("No regional goal"))] + [
        (str(regional.id), f"{regional.roadmap.title}: {regional.title}") for regional in choices
    ]
    return form


def _roadmap_context(roadmap: Roadmap, scope: access.Scope) -> dict:
    goals = sorted(roadmap.goals, key=lambda g: (g.position, g.id))
    can_edit = access.can_edit_scope(current_user, scope)
    is_org = not scope.is_region
    choices = mirroring.serve_choices(roadmap) if is_org else []
    context = {
        "roadmap": roadmap,
        "scope": scope,
        "can_edit": can_edit,
        "by_area": services.goals_by_area(goals),
        "measured": measures_for(goals, scope, utcnow().date()),
        "links": services.goal_links(goals),
        "mirror": mirroring.mirror_view(roadmap) if is_org else None,
    }
    if can_edit:
        context["status_forms"] = {
            g.id: StatusForm(prefix=f"status-{g.id}", data={"status": g.status.value})
            for g in goals
        }
        context["serves_forms"] = (
            {g.id: serves_form(g, choices, f"serves-{g.id}") for g in goals} if choices else {}
        )
        context["sharing_form"] = SharingForm()
        context["move_form"] = MoveForm()
    return context


# ------------------------------------------------------------------------------ roadmaps


@bp.route("/<any(region,organisation):kind>/<int:scope_id>/roadmaps", methods=["GET", "POST"])
@login_required
def scope_roadmaps(kind: str, scope_id: int):
    scope = access.resolve_scope(kind, scope_id)
    access.ensure(access.can_read_scope(current_user, scope))
    can_edit = access.can_edit_scope(current_user, scope)
    form = RoadmapForm()
    status = 200
    if request.method == "POST":
        access.ensure(can_edit)
        if form.validate_on_submit():
            try:
                roadmap = services.create_roadmap(
                    scope, form.title.data or "", form.first_year.data, form.last_year.data
                )
            except services.RoadmapError as error:
                flash(str(error), "error")
            else:
                db.session.commit()
                flash(_("The roadmap was created."), "success")
                return redirect(url_for(".roadmap", roadmap_id=roadmap.id))
        status = 400
    elif not form.first_year.data:
        year = utcnow().year
        form.first_year.data, form.last_year.data = year, year + 3
    return render_template(
        "network/roadmaps/scope_roadmaps.html",
        scope=scope,
        roadmaps=services.roadmaps_of(scope),
        can_edit=can_edit,
        form=form,
    ), status


@bp.get("/roadmaps/<int:roadmap_id>")
@login_required
def roadmap(roadmap_id: int):
    roadmap = db.get_or_404(Roadmap, roadmap_id)
    scope = readable(roadmap)
    return render_template("network/roadmaps/roadmap.html", **_roadmap_context(roadmap, scope))


@bp.route("/roadmaps/<int:roadmap_id>/edit", methods=["GET", "POST"])
@login_required
def edit_roadmap(roadmap_id: int):
    roadmap = db.get_or_404(Roadmap, roadmap_id)
    scope = editable(roadmap)
    form = RoadmapForm(obj=roadmap)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                services.edit_roadmap(
                    roadmap, form.title.data or "", form.first_year.data, form.last_year.data
                )
            except services.RoadmapError as error:
                flash(str(error), "error")
            else:
                db.session.commit()
                flash(_("The roadmap was saved."), "success")
                return redirect(url_for(".roadmap", roadmap_id=roadmap.id))
        status = 400
    return render_template(
        "network/roadmaps/edit_roadmap.html",
        roadmap=roadmap,
        scope=scope,
        form=form,
        delete_form=ConfirmForm(),
    ), status


@bp.post("/roadmaps/<int:roadmap_id>/delete")
@login_required
def delete_roadmap(roadmap_id: int):
    roadmap = db.get_or_404(Roadmap, roadmap_id)
    scope = editable(roadmap)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.delete_roadmap(roadmap)
    db.session.commit()
    flash(_("The roadmap was deleted."), "success")
    return redirect(url_for(".scope_roadmaps", kind=scope.kind, scope_id=scope.id))


@bp.post("/roadmaps/<int:roadmap_id>/sharing")
@login_required
def sharing(roadmap_id: int):
    roadmap = db.get_or_404(Roadmap, roadmap_id)
    editable(roadmap)
    form = SharingForm()
    if not form.validate_on_submit():
        abort(400, _("Choose whether sharing is on or off."))
    if form.action.data == "off":
        services.disable_sharing(roadmap)
        flash(_("Sharing by link is off; the old link no longer works."), "success")
    else:
        services.enable_sharing(roadmap, renew=form.action.data == "renew")
        flash(_("Anyone with the link can now read this roadmap."), "success")
    db.session.commit()
    return redirect(url_for(".roadmap", roadmap_id=roadmap.id, _anchor="sharing"))


@bp.get("/shared/roadmaps/<token>")
def shared(token: str):
    """The public, read-only roadmap (no login; no member names, no forms, and no measured
    assessment figures: a link anyone may pass on does not publish survey aggregates)."""
    roadmap = services.shared_roadmap(token)
    if roadmap is None:
        abort(404)
    scope = access.scope_of(roadmap)
    goals = sorted(roadmap.goals, key=lambda g: (g.position, g.id))
    body = render_template(
        "network/roadmaps/shared.html",
        roadmap=roadmap,
        scope=scope,
        by_area=services.goals_by_area(goals),
        measured={},
        links=services.goal_links(goals),
    )
    headers = {
        "X-Robots-Tag": "noindex, nofollow",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "private, no-store",
    }
    return body, 200, headers


from campus.network import views_roadmap_goals  # noqa: E402, F401  (goal pages, same bp)
