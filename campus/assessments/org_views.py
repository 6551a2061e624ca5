"""Rounds and aggregates for organisations (org admins, who are its leaders) and regions.

No page here shows a person's answers: every figure comes from campus.assessments.aggregates,
which reads the tallies and withholds what fewer than five people gave.
"""

from __future__ import annotations

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
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_login import login_required
from flask_wtf import FlaskForm
from wtforms import DateField
from wtforms import SelectField
from wtforms import StringField
from wtforms import SubmitField
from wtforms.validators import DataRequired
from wtforms.validators import Length

from campus.assessments import aggregates
from campus.assessments import rounds as round_services
from campus.assessments.export import Scopes
from campus.assessments.export import report_csv
from campus.assessments.forms import STAFF_GROUP_LABELS
from campus.assessments.models import MIN_RESPONDENTS
from campus.assessments.models import AssessmentRound
from campus.assessments.models import Instrument
from campus.assessments.models import StaffGroup
from campus.auth import services as account_services
from campus.auth.models import Organisation
from campus.auth.models import Region
from campus.auth.models import Role
from campus.clock import utcnow
from campus.extensions import db
from campus.i18n import current_language
from campus.i18n import pick
from campus.labels import ROLE_LABELS
from campus.security import require_role

bp = Blueprint("assessments_org", __name__, url_prefix="/assessments/organisation")
region_bp = Blueprint("assessments_region", __name__, url_prefix="/assessments/region")

TARGET_ROLES = (Role.TUTOR_TEACHER, Role.REGIONAL_DEVELOPER, Role.REVIEWER, Role.ORG_ADMIN)


class RoundForm(FlaskForm):
    instrument = SelectField(_l("Assessment"), coerce=int)
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    opens_on = DateField(_l("Opens on"), validators=[DataRequired()])
    closes_on = DateField(_l("Closes on"), validators=[DataRequired()])
    target = SelectField(_l("Who is asked"))
    submit = SubmitField(_l("Open the round"))


def _instruments() -> list[Instrument]:
    query = (
        db.select(Instrument)
        .where(Instrument.is_retired.is_(False))
        .order_by(Instrument.position, Instrument.slug)
    )
    return list(db.session.execute(query).scalars())


def _organisation(organisation_id: int) -> Organisation:
    """The organisation, for its own org admins (its leaders) and admins only."""
    require_role(Role.ORG_ADMIN)
    organisation = db.get_or_404(Organisation, organisation_id)
    if not current_user.can_manage_organisation(organisation.id):
        abort(403)
    return organisation


def _round(organisation: Organisation, round_id: int) -> AssessmentRound:
    round_ = db.get_or_404(AssessmentRound, round_id)
    if round_.organisation_id != organisation.id:
        abort(404)
    return round_


@bp.get("/")
@login_required
def index():
    require_role(Role.ORG_ADMIN)
    if current_user.has_role(Role.ADMIN):
        organisations = account_services.list_organisations()
        return render_template("assessments/organisations.html", organisations=organisations)
    return redirect(url_for(".rounds", organisation_id=current_user.organisation_id))


@bp.route("/<int:organisation_id>/rounds", methods=["GET", "POST"])
@login_required
def rounds(organisation_id: int):
    organisation = _organisation(organisation_id)
    instruments = _instruments()
    form = RoundForm()
    form.instrument.choices = [(i.id, pick(i.title)) for i in instruments]
    form.target.choices = [("", _("Everyone in the organisation"))] + [
        (role.value, str(ROLE_LABELS[role.value])) for role in TARGET_ROLES
    ]
    if form.validate_on_submit():
        instrument = db.get_or_404(Instrument, form.instrument.data)
        try:
            round_services.open_round(
                organisation.id,
                instrument,
                form.title.data or "",
                form.opens_on.data,
                form.closes_on.data,
                Role(form.target.data) if form.target.data else None,
                current_user,
            )
        except round_services.RoundError as error:
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(_("The round is open."), "success")
            return redirect(url_for(".rounds", organisation_id=organisation.id))
    listed = [
        (round_, round_services.response_rate(round_))
        for round_ in round_services.rounds_of(organisation.id)
    ]
    status = 400 if request.method == "POST" else 200
    return render_template(
        "assessments/rounds.html",
        organisation=organisation,
        form=form,
        rounds=listed,
        has_instruments=bool(instruments),
    ), status


@bp.get("/<int:organisation_id>/rounds/<int:round_id>")
@login_required
def round_detail(organisation_id: int, round_id: int):
    organisation = _organisation(organisation_id)
    round_ = _round(organisation, round_id)
    return render_template(
        "assessments/rounds_detail.html",
        organisation=organisation,
        round=round_,
        rate=round_services.response_rate(round_),
        non_respondents=round_services.non_respondents(round_),
    )


def _group_filter() -> StaffGroup | None:
    chosen = request.args.get("group") or None
    if chosen is None:
        return None
    try:
        return StaffGroup(chosen)
    except ValueError:
        abort(404)


def round_views(organisation: Organisation, round_: AssessmentRound):  # type: ignore[no-untyped-def]
    """The round's report with what it is compared with (all threshold-checked)."""
    instrument = round_.instrument
    today = utcnow().date()
    report = aggregates.organisation_report(instrument, organisation.id, round_.id)
    previous_round = round_services.previous_round(round_)
    previous = (
        aggregates.organisation_report(instrument, organisation.id, previous_round.id)
        if previous_round is not None
        else None
    )
    region = None
    if organisation.region_id is not None:
        members = db.session.execute(
            db.select(Organisation.id).where(Organisation.region_id == organisation.region_id)
        ).scalars()
        region = aggregates.comparison(
            instrument, aggregates.latest_round_keys(instrument.id, today, list(members))
        )
    campus = aggregates.campus_comparison(
        instrument,
        aggregates.latest_round_keys(instrument.id, today),
        float(current_app.config["ASSESSMENT_CAMPUS_CACHE_SECONDS"]),
    )
    return report, previous_round, Scopes(previous, region, campus)


@bp.get("/<int:organisation_id>/rounds/<int:round_id>/results")
@login_required
def results(organisation_id: int, round_id: int):
    organisation = _organisation(organisation_id)
    round_ = _round(organisation, round_id)
    group = _group_filter()
    report, previous_round, scopes = round_views(organisation, round_)
    series = [_("This round") if group is None else str(STAFF_GROUP_LABELS[group.value])]
    if scopes.previous is not None:
        series.append(_("Previous round"))
    if scopes.region is not None:
        series.append(_("Region"))
    series.append(_("Campus"))
    labelled = []
    for area in report.areas:
        figures = [area.figures.pick(group)]
        if scopes.previous is not None:
            figures.append(previous_area(scopes.previous, area.area.id))
        if scopes.region is not None:
            figures.append(scopes.region.area(area.area.id))
        figures.append(scopes.campus.area(area.area.id))
        labelled.append((pick(area.area.title), figures))
    return render_template(
        "assessments/organisation.html",
        chart_rows=chart_rows(labelled, report.top),
        series=series,
        ticks=ticks(report.top),
        mean_text=mean_text,
        min_respondents=MIN_RESPONDENTS,
        previous_items={
            row.item.id: row.figures.total
            for area in (scopes.previous.areas if scopes.previous else [])
            for row in area.items
        },
        hidden=aggregates.Figure.hidden(),
        organisation=organisation,
        round=round_,
        report=report,
        group=group,
        groups=list(StaffGroup),
        group_labels=STAFF_GROUP_LABELS,
        previous_round=previous_round,
        scopes=scopes,
    )


def previous_area(previous: aggregates.Report, area_id: int) -> aggregates.Figure:
    for area in previous.areas:
        if area.area.id == area_id:
            return area.figures.total
    return aggregates.Figure.hidden()


@bp.get("/<int:organisation_id>/rounds/<int:round_id>/results.csv")
@login_required
def results_csv(organisation_id: int, round_id: int):
    organisation = _organisation(organisation_id)
    round_ = _round(organisation, round_id)
    report, _previous_round, scopes = round_views(organisation, round_)
    body = "\ufeff" + report_csv(report, scopes, current_language())
    filename = f"assessment-{organisation.slug}-{round_.id}.csv"
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@region_bp.get("/<slug>")
@login_required
def region(slug: str):
    """A region's organisations side by side (regional developers of the region and admins)."""
    require_role(Role.REGIONAL_DEVELOPER)
    region_ = db.one_or_404(db.select(Region).where(Region.slug == slug))
    if not current_user.has_role(Role.ADMIN) and current_user.organisation.region_id != region_.id:
        abort(403)
    instruments = _instruments()
    chosen = request.args.get("instrument")
    instrument = next((i for i in instruments if i.slug == chosen), None)
    if chosen and instrument is None:
        abort(404)
    instrument = instrument or (instruments[0] if instruments else None)
    members = list(
        db.session.execute(
            db.select(Organisation)
            .where(Organisation.region_id == region_.id)
            .order_by(Organisation.name)
        ).scalars()
    )
    table = None
    extra: dict = {}
    if instrument is not None and members:
        table = region_table(instrument, members)
        extra = {
            "chart_rows": chart_rows(
                [
                    (
                        pick(area.title),
                        [table["current"].area(area.id), table["previous"].area(area.id)],
                    )
                    for area in table["areas"]
                ],
                table["top"],
            ),
            "series": [_("Latest rounds"), _("Previous rounds")],
            "ticks": ticks(table["top"]),
        }
    return render_template(
        "assessments/region.html",
        **extra,
        mean_text=mean_text,
        min_respondents=MIN_RESPONDENTS,
        hidden=aggregates.Figure.hidden(),
        region=region_,
        instruments=instruments,
        instrument=instrument,
        members=members,
        table=table,
    )


def region_table(instrument: Instrument, members: list[Organisation]):  # type: ignore[no-untyped-def]
    """Rows per organisation: its latest and previous rounds' area figures, and the region's."""
    today = utcnow().date()
    recent = aggregates.recent_rounds(instrument.id, today, [m.id for m in members])
    keys = [round_.id for rounds in recent.values() for round_ in rounds]
    figures = aggregates.area_figures_by_round(instrument, keys)
    rows = []
    for member in members:
        member_rounds = recent.get(member.id, [])
        current = member_rounds[0] if member_rounds else None
        previous = member_rounds[1] if len(member_rounds) > 1 else None
        rows.append(
            (
                member,
                current,
                previous,
                figures.get(current.id, {}) if current else {},
                figures.get(previous.id, {}) if previous else {},
            )
        )
    current_keys = [rounds[0].id for rounds in recent.values()]
    previous_keys = [rounds[1].id for rounds in recent.values() if len(rounds) > 1]
    return {
        "areas": [area for area in instrument.areas if not area.is_retired],
        "rows": rows,
        "current": aggregates.comparison(instrument, current_keys),
        "previous": aggregates.comparison(instrument, previous_keys),
        "top": max((item.top for area in instrument.areas for item in area.items), default=6),
    }


def mean_text(figure: aggregates.Figure) -> str:
    from flask_babel import format_decimal

    mean = figure.mean
    return _("too few answers") if mean is None else format_decimal(mean, "0.0")


def chart_rows(labelled: list[tuple[str, list[aggregates.Figure]]], top: int) -> list[dict]:
    """Rows for the _charts.html bar_chart: each figure's mean as a share of the scale's top."""
    return [
        {
            "label": label,
            "values": [None if f.mean is None else f.mean / top for f in figures],
            "texts": [mean_text(f) for f in figures],
        }
        for label, figures in labelled
    ]


def ticks(top: int) -> list[tuple[float, str]]:
    return [(value / top, str(value)) for value in range(0, top + 1)]
