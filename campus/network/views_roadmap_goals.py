"""Goal pages of the roadmap blueprint: add a goal, a goal's page (edit form, status with note,
mirroring to a regional goal, order, deletion) and its history."""

from __future__ import annotations

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
from campus.network import access
from campus.network import roadmap_mirror as mirroring
from campus.network import roadmaps as services
from campus.network.forms_roadmaps import ConfirmForm
from campus.network.forms_roadmaps import GoalForm
from campus.network.forms_roadmaps import MoveForm
from campus.network.forms_roadmaps import NewGoalForm
from campus.network.forms_roadmaps import StatusForm
from campus.network.models import Goal
from campus.network.models import Roadmap
from campus.network.roadmap_measures import measures_for
from campus.network.views_roadmaps import bp
from campus.network.views_roadmaps import editable
from campus.network.views_roadmaps import fill_goal_form
from campus.network.views_roadmaps import goal_input
from campus.network.views_roadmaps import readable
from campus.network.views_roadmaps import serves_form


def _goal_data(goal: Goal) -> dict[str, object]:
    measure = (
        f"{goal.instrument_slug}/{goal.assessment_area_key}"
        if goal.instrument_slug and goal.assessment_area_key
        else ""
    )
    return {
        "area": goal.area.value,
        "focus": goal.focus.value,
        "title": goal.title,
        "starting_point": goal.starting_point,
        "target_state": goal.target_state,
        "indicators": goal.indicators,
        "measure": measure,
        "group": str(goal.group_id or ""),
        "paths": ", ".join(goal.path_slugs),
        "badges": ", ".join(goal.badge_slugs),
    }


def _goal_page(goal: Goal, status: int = 200, **forms: object):
    """The goal's page; `forms` replaces the blank forms (to show a refused form's errors)."""
    scope = readable(goal.roadmap)
    can_edit = access.can_edit_scope(current_user, scope)
    context: dict[str, object] = {
        "goal": goal,
        "roadmap": goal.roadmap,
        "scope": scope,
        "can_edit": can_edit,
        "measured": measures_for([goal], scope, utcnow().date()),
        "links": services.goal_links([goal]),
        "goal_form_action": url_for(".goal", goal_id=goal.id),
    }
    if can_edit:
        form = forms.get("form")
        if form is None:
            form = GoalForm(formdata=None, data=_goal_data(goal))
            fill_goal_form(form, scope)
        choices = [] if scope.is_region else mirroring.serve_choices(goal.roadmap)
        context |= {
            "form": form,
            "status_form": forms.get("status_form")
            or StatusForm(formdata=None, data={"status": goal.status.value}),
            "serves_form": forms.get("serves_form")
            or (serves_form(goal, choices) if choices else None),
            "move_form": MoveForm(formdata=None),
            "delete_form": ConfirmForm(formdata=None),
        }
    return render_template("network/roadmaps/goal.html", **context), status


def _goal_or_404(goal_id: int) -> Goal:
    return db.get_or_404(Goal, goal_id)


def _back(goal: Goal) -> str:
    if request.form.get("back") == "roadmap":
        return url_for(".roadmap", roadmap_id=goal.roadmap_id, _anchor=f"goal-{goal.id}")
    return url_for(".goal", goal_id=goal.id)


@bp.route("/roadmaps/<int:roadmap_id>/goals/new", methods=["GET", "POST"])
@login_required
def new_goal(roadmap_id: int):
    roadmap = db.get_or_404(Roadmap, roadmap_id)
    scope = editable(roadmap)
    form = NewGoalForm()
    fill_goal_form(form, scope)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                goal = services.add_goal(
                    roadmap, goal_input(form), current_user, utcnow(), form.status.data or ""
                )
            except services.RoadmapError as error:
                flash(str(error), "error")
            else:
                db.session.commit()
                flash(_("The goal was added."), "success")
                return redirect(
                    url_for(".roadmap", roadmap_id=roadmap.id, _anchor=f"goal-{goal.id}")
                )
        status = 400
    return render_template(
        "network/roadmaps/goal_new.html", roadmap=roadmap, scope=scope, form=form
    ), status


@bp.route("/goals/<int:goal_id>", methods=["GET", "POST"])
@login_required
def goal(goal_id: int):
    goal = _goal_or_404(goal_id)
    if request.method == "GET":
        return _goal_page(goal)
    scope = editable(goal.roadmap)
    form = GoalForm()
    fill_goal_form(form, scope)
    if form.validate_on_submit():
        try:
            services.edit_goal(goal, goal_input(form))
        except services.RoadmapError as error:
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(_("The goal was saved."), "success")
            return redirect(url_for(".goal", goal_id=goal.id))
    return _goal_page(goal, 400, form=form)


@bp.post("/goals/<int:goal_id>/status")
@login_required
def goal_status(goal_id: int):
    goal = _goal_or_404(goal_id)
    editable(goal.roadmap)
    prefix = f"status-{goal.id}" if f"status-{goal.id}-status" in request.form else ""
    form = StatusForm(prefix=prefix)
    if form.validate_on_submit():
        try:
            services.set_status(
                goal, form.status.data or "", form.note.data or "", current_user, utcnow()
            )
        except services.RoadmapError as error:
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(_("The status was changed."), "success")
            return redirect(_back(goal))
    return _goal_page(goal, 400, status_form=form)


@bp.post("/goals/<int:goal_id>/serves")
@login_required
def goal_serves(goal_id: int):
    goal = _goal_or_404(goal_id)
    scope = editable(goal.roadmap)
    if scope.is_region:
        abort(400, _("Only an organisation's goal can serve a regional goal."))
    prefix = f"serves-{goal.id}" if f"serves-{goal.id}-regional_goal" in request.form else ""
    form = serves_form(goal, mirroring.serve_choices(goal.roadmap), prefix)
    if form.validate_on_submit():
        chosen = form.regional_goal.data
        try:
            mirroring.set_serves(goal, db.session.get(Goal, int(chosen)) if chosen else None)
        except services.RoadmapError as error:
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(_("The link to the regional goal was saved."), "success")
            return redirect(_back(goal))
    return _goal_page(goal, 400, serves_form=form)


@bp.post("/goals/<int:goal_id>/move")
@login_required
def move_goal(goal_id: int):
    goal = _goal_or_404(goal_id)
    editable(goal.roadmap)
    form = MoveForm()
    if not form.validate_on_submit():
        abort(400, _("Move a goal up or down."))
    services.move_goal(goal, form.direction.data or "")
    db.session.commit()
    return redirect(_back(goal))


@bp.post("/goals/<int:goal_id>/delete")
@login_required
def delete_goal(goal_id: int):
    goal = _goal_or_404(goal_id)
    editable(goal.roadmap)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    roadmap_id = goal.roadmap_id
    services.delete_goal(goal)
    db.session.commit()
    flash(_("The goal was deleted."), "success")
    return redirect(url_for(".roadmap", roadmap_id=roadmap_id))
