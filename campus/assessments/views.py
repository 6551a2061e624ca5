"""The learner's pages: where to start, answering area by area, results, and the plan.

Every response page looks the response up through its owner (`responses.get_own_response`):
someone else's response id is a 404, for administrators too.
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

from campus.assessments import plan
from campus.assessments import responses
from campus.assessments import results
from campus.assessments.forms import STAFF_GROUP_LABELS
from campus.assessments.forms import PlanAddForm
from campus.assessments.forms import StartForm
from campus.assessments.forms import TargetDateForm
from campus.assessments.models import AssessmentResponse
from campus.assessments.models import Instrument
from campus.assessments.models import Scale
from campus.clock import utcnow
from campus.extensions import db
from campus.i18n import pick
from campus.paths import services as paths
from campus.paths.forms import ActionForm

bp = Blueprint("assessments", __name__, url_prefix="/assessments")


@bp.before_request
@login_required
def _logged_in() -> None:
    """Every page here is about the person's own answers."""


def _instrument_or_404(slug: str) -> Instrument:
    instrument = responses.get_instrument(slug)
    if instrument is None:
        abort(404)
    return instrument


def _response_or_404(response_id: int) -> AssessmentResponse:
    try:
        return responses.get_own_response(current_user, response_id)
    except responses.ResponseNotFound:
        abort(404)


def _check_csrf() -> None:
    if not ActionForm().validate_on_submit():
        abort(400)


@bp.app_template_global("development_plan")
def development_plan(limit: int = 3) -> list[plan.PlanEntry]:
    """The dashboard's short list of the signed-in person's plan."""
    if not current_user.is_authenticated:
        return []
    return plan.entries(current_user, limit=limit)


@bp.get("/")
def index():
    instruments = responses.instruments_for(current_user)
    mine: dict[int, list[AssessmentResponse]] = {}
    for response in responses.responses_of(current_user):
        mine.setdefault(response.instrument_id, []).append(response)
    progress = {r.id: responses.progress(r) for rs in mine.values() for r in rs}
    return render_template(
        "assessments/index.html", instruments=instruments, mine=mine, progress=progress
    )


@bp.get("/instruments/<slug>")
def instrument(slug: str):
    instrument = _instrument_or_404(slug)
    unfinished = responses.unfinished_response(current_user, instrument)
    areas = responses.active_areas(instrument)
    return render_template(
        "assessments/instrument.html",
        instrument=instrument,
        unfinished=unfinished,
        resume_at=responses.first_unanswered_area(unfinished) if unfinished else 1,
        areas=areas,
        items=sum(len(items) for _area, items in areas),
        form=StartForm(),
    )


@bp.post("/instruments/<slug>/start")
def start(slug: str):
    instrument = _instrument_or_404(slug)
    form = StartForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        areas = responses.active_areas(instrument)
        page = render_template(
            "assessments/instrument.html",
            instrument=instrument,
            unfinished=None,
            resume_at=1,
            areas=areas,
            items=sum(len(items) for _area, items in areas),
            form=form,
        )
        return page, 400
    response = responses.start_response(current_user, instrument, form.staff_group.data, utcnow())
    db.session.commit()
    number = responses.first_unanswered_area(response)
    return redirect(url_for(".take", response_id=response.id, number=number))


def _area_or_404(response: AssessmentResponse, number: int):  # type: ignore[no-untyped-def]
    areas = responses.active_areas(response.instrument)
    if not 1 <= number <= len(areas):
        abort(404)
    return areas, areas[number - 1]


@bp.route("/responses/<int:response_id>/areas/<int:number>", methods=["GET", "POST"])
def take(response_id: int, number: int):
    response = _response_or_404(response_id)
    if response.submitted_at is not None:
        return redirect(url_for(".results_page", response_id=response.id))
    areas, (area, items) = _area_or_404(response, number)
    saved = responses.answers_by_item(response)
    values = {
        item_id: responses.NOT_RELEVANT if v is None else str(v) for item_id, v in saved.items()
    }
    errors: dict[int, str] = {}
    if request.method == "POST":
        _check_csrf()
        posted = {item.id: request.form.get(f"item-{item.id}", "") for item in items}
        errors = responses.save_area(current_user, response, items, posted, utcnow())
        if not errors:
            db.session.commit()
            action = request.form.get("action", "next")
            if action == "later":
                flash(_("Your answers are saved. Continue whenever you like."), "success")
                return redirect(url_for(".index"))
            if action == "previous" and number > 1:
                return redirect(url_for(".take", response_id=response.id, number=number - 1))
            if number < len(areas):
                return redirect(url_for(".take", response_id=response.id, number=number + 1))
            return redirect(url_for(".review", response_id=response.id))
        values.update({item_id: raw for item_id, raw in posted.items() if raw})
    page = render_template(
        "assessments/take.html",
        response=response,
        areas=areas,
        area=area,
        items=items,
        number=number,
        values=values,
        errors=errors,
        progress=responses.progress(response),
        level_codes=results.LEVEL_CODES,
        agreement_words=results.AGREEMENT_WORDS,
        Scale=Scale,
        form=ActionForm(),
    )
    return page, 400 if errors else 200


def _render_review(response: AssessmentResponse, error: str | None = None):  # type: ignore[no-untyped-def]
    answered = responses.answers_by_item(response)
    page = render_template(
        "assessments/review.html",
        response=response,
        areas=responses.active_areas(response.instrument),
        answered=answered,
        progress=responses.progress(response),
        error=error,
        form=ActionForm(),
    )
    return page, 400 if error else 200


@bp.get("/responses/<int:response_id>/review")
def review(response_id: int):
    response = _response_or_404(response_id)
    if response.submitted_at is not None:
        return redirect(url_for(".results_page", response_id=response.id))
    return _render_review(response)


@bp.post("/responses/<int:response_id>/submit")
def submit(response_id: int):
    response = _response_or_404(response_id)
    _check_csrf()
    try:
        responses.submit(current_user, response, utcnow())
    except responses.ResponseError as error:
        return _render_review(response, str(error))
    db.session.commit()
    flash(_("Thank you! Your answers are submitted."), "success")
    return redirect(url_for(".results_page", response_id=response.id))


@bp.get("/responses/<int:response_id>/results")
def results_page(response_id: int):
    response = _response_or_404(response_id)
    if response.submitted_at is None:
        return redirect(url_for(".review", response_id=response.id))
    outcome = results.results_for(current_user, response)
    history = results.growth(current_user, response)
    return render_template(
        "assessments/results.html",
        response=response,
        outcome=outcome,
        history=history,
        in_plan=plan.plan_path_ids(current_user),
        form=ActionForm(),
        staff_groups=STAFF_GROUP_LABELS,
        short_label=results.short_label,
        chart_ticks=results.chart_ticks,
    )


@bp.route("/responses/<int:response_id>/delete", methods=["GET", "POST"])
def delete(response_id: int):
    response = _response_or_404(response_id)
    if request.method == "GET":
        return render_template("assessments/delete.html", response=response, form=ActionForm())
    _check_csrf()
    responses.delete_answers(current_user, response, utcnow())
    db.session.commit()
    flash(_("Your answers have been deleted."), "success")
    return redirect(url_for(".index"))


def _render_plan(refused: TargetDateForm | None = None, refused_id: int | None = None):  # type: ignore[no-untyped-def]
    entries = plan.entries(current_user)
    forms = {}
    for entry in entries:
        if entry.item.id == refused_id and refused is not None:
            forms[entry.item.id] = refused
        else:
            forms[entry.item.id] = TargetDateForm(
                formdata=None, prefix=f"plan-{entry.item.id}", target_date=entry.item.target_date
            )
    page = render_template("assessments/plan.html", entries=entries, forms=forms, form=ActionForm())
    return page, 400 if refused is not None else 200


@bp.get("/plan")
def my_plan():
    return _render_plan()


@bp.post("/plan/add")
def plan_add():
    form = PlanAddForm()
    if not form.validate_on_submit():
        abort(400)
    path = paths.get_path(form.path.data)
    if path is None:
        abort(404)
    reason = None
    if form.response.data and form.response.data.isdigit():
        response = _response_or_404(int(form.response.data))
        if response.submitted_at is not None:
            found = results.results_for(current_user, response)
            reason = next(
                (r.explanation for r in found.recommendations if r.path.id == path.id), None
            )
    plan.add_path(current_user, path, reason, utcnow())
    db.session.commit()
    flash(_("“%(path)s” is in your development plan.", path=pick(path.title)), "success")
    if form.response.data and form.response.data.isdigit():
        return redirect(url_for(".results_page", response_id=int(form.response.data)))
    return redirect(url_for(".my_plan"))


@bp.post("/plan/<int:item_id>/remove")
def plan_remove(item_id: int):
    _check_csrf()
    if not plan.remove(current_user, item_id):
        abort(404)
    db.session.commit()
    flash(_("The path was removed from your plan."), "success")
    return redirect(url_for(".my_plan"))


@bp.post("/plan/<int:item_id>/date")
def plan_date(item_id: int):
    if plan.get_own_item(current_user, item_id) is None:
        abort(404)
    form = TargetDateForm(prefix=f"plan-{item_id}")
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        return _render_plan(form, item_id)
    plan.set_target_date(current_user, item_id, form.target_date.data)
    db.session.commit()
    flash(_("The target date is saved."), "success")
    return redirect(url_for(".my_plan"))
