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
from werkzeug.routing import BuildError

from campus.auth.models import Organisation
from campus.auth.models import Region
from campus.badges.models import BadgeClass
from campus.clock import utcnow
from campus.extensions import db
from campus.i18n import pick
from campus.network import access
from campus.network import roadmaps as services
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
from campus.paths.models import LearningPath

bp = Blueprint("network_roadmaps", __name__, url_prefix="/network")


# ------------------------------------------------------------------------------- helpers


def _readable(roadmap: Roadmap) -> access.Scope:
    scope = access.scope_of(roadmap)
    access.ensure(access.can_read_scope(current_user, scope))
    return scope


def _editable(roadmap: Roadmap) -> access.Scope:
    scope = access.scope_of(roadmap)
    access.ensure(access.can_edit_scope(current_user, scope))
    return scope


def _owner(scope: access.Scope) -> Organisation | Region:
    model = Region if scope.is_region else Organisation
    return db.session.get(model, scope.id)  # type: ignore[return-value]


def group_url(group_id: int | None) -> str | None:
    """The group's page, when the groups blueprint is there."""
    if group_id is None:
        return None
    try:
        return url_for("network_groups.group", group_id=group_id)
    except BuildError:
        return None


def _links(goals: list[Goal]) -> dict[str, dict[str, str]]:
    """Titles of the paths and badges the goals name, by slug."""
    paths = {slug for goal in goals for slug in goal.path_slugs}
    badges = {slug for goal in goals for slug in goal.badge_slugs}
    found_paths = db.session.execute(
        db.select(LearningPath).where(LearningPath.slug.in_(paths))
    ).scalars()
    found_badges = db.session.execute(
        db.select(BadgeClass).where(BadgeClass.slug.in_(badges))
    ).scalars()
    return {
        "paths": {p.slug: pick(p.title) for p in found_paths},
        "badges": {b.slug: pick(b.name) for b in found_badges},
    }


def _measures(goals: list[Goal], scope: access.Scope) -> dict[int, services.MeasuredStart]:
    owner = _owner(scope)
    today = utcnow().date()
    measured = {}
    seen: dict[tuple[str | None, str | None], services.MeasuredStart | None] = {}
    for goal in goals:
        key = (goal.instrument_slug, goal.assessment_area_key)
        if key not in seen:  # goals measured by the same area read it once
            seen[key] = services.measured_starting_point(goal, owner, today)
        if seen[key] is not None:
            measured[goal.id] = seen[key]
    return measured


def _fill_goal_form(form: GoalForm, scope: access.Scope) -> None:
    form.measure.choices = [("", _("None"))] + [
        (f"{instrument.slug}/{area.key}", f"{pick(instrument.title)}: {pick(area.title)}")
        for instrument, area in area_choices()
    ]
    form.group.choices = [("", _("None"))] + [
        (str(group.id), group.name) for group in services.groups_for(scope)
    ]


def _goal_input(form: GoalForm) -> services.GoalInput:
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


def _serves_form(goal: Goal, choices: list[Goal], prefix: str = "") -> ServesForm:
    form = ServesForm(prefix=prefix, data={"regional_goal": str(goal.serves_goal_id or "")})
    form.regional_goal.choices = [("", _("No regional goal"))] + [
        (str(regional.id), f"{regional.roadmap.title}: {regional.title}") for regional in choices
    ]
    return form


def _roadmap_context(roadmap: Roadmap, scope: access.Scope) -> dict:
    goals = sorted(roadmap.goals, key=lambda g: (g.position, g.id))
    can_edit = access.can_edit_scope(current_user, scope)
    is_org = not scope.is_region
    choices = services.serve_choices(roadmap) if is_org else []
    context = {
        "roadmap": roadmap,
        "scope": scope,
        "can_edit": can_edit,
        "by_area": services.goals_by_area(goals),
        "measured": _measures(goals, scope),
        "links": _links(goals),
        "mirror": services.mirror_view(roadmap) if is_org else None,
        "group_url": group_url,
    }
    if can_edit:
        context["status_forms"] = {
            g.id: StatusForm(prefix=f"status-{g.id}", data={"status": g.status.value})
            for g in goals
        }
        context["serves_forms"] = (
            {g.id: _serves_form(g, choices, f"serves-{g.id}") for g in goals} if choices else {}
        )
        context["sharing_form"] = SharingForm()
        context["move_form"] = MoveForm()
    return context


def _labels() -> dict:
    return {
        "area_labels": services.AREA_LABELS,
        "focus_labels": services.FOCUS_LABELS,
        "status_labels": services.STATUS_LABELS,
    }


@bp.context_processor
def _inject_labels() -> dict:
    return _labels()


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
    scope = _readable(roadmap)
    return render_template(
        "network/roadmaps/roadmap.html", **_roadmap_context(roadmap, scope), **_labels()
    )


@bp.route("/roadmaps/<int:roadmap_id>/edit", methods=["GET", "POST"])
@login_required
def edit_roadmap(roadmap_id: int):
    roadmap = db.get_or_404(Roadmap, roadmap_id)
    scope = _editable(roadmap)
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
    scope = _editable(roadmap)
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
    _editable(roadmap)
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
    """The public, read-only roadmap (no login; no member names, no forms)."""
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
        measured=_measures(goals, scope),
        links=_links(goals),
        **_labels(),
    )
    headers = {
        "X-Robots-Tag": "noindex, nofollow",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "private, no-store",
    }
    return body, 200, headers


from campus.network import views_roadmap_goals  # noqa: E402, F401  (goal pages, same bp)
