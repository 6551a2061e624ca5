"""Forms of the annual-clock pages (choices that depend on the scope are filled in by the view)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field
from wtforms import IntegerField
from wtforms import SelectField
from wtforms import SelectMultipleField
from wtforms import StringField
from wtforms import SubmitField
from wtforms import TextAreaField
from wtforms.validators import DataRequired
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import NumberRange
from wtforms.validators import Optional

from campus.extensions import db
from campus.i18n import pick
from campus.network import annual
from campus.network.access import Scope
from campus.network.clock_models import ClockAction
from campus.network.clock_svg import month_names
from campus.network.labels import group_role_label
from campus.network.labels import raci_choices
from campus.network.models import GroupRole
from campus.network.models import roles_for
from campus.network.structure import groups_of
from campus.network.years import EARLIEST_YEAR
from campus.network.years import LATEST_YEAR
from campus.paths.models import LearningPath

YEARS = NumberRange(
    min=EARLIEST_YEAR,
    max=LATEST_YEAR,
    message=_l(
        "Give a year between %(first)s and %(last)s.", first=EARLIEST_YEAR, last=LATEST_YEAR
    ),
)
DAYS = NumberRange(min=1, max=31, message=_l("A day is 1–31."))
NO_CHOICE = 0  # "no group" / "no goal" in a select with coerce=int


class ActionForm(FlaskForm):
    title = StringField(
        _l("Title"),
        validators=[DataRequired(message=_l("The action needs a title.")), Length(max=200)],
    )
    description = TextAreaField(_l("Description"), validators=[Length(max=5000)])
    start_month = SelectField(_l("Start month"), coerce=int, choices=[])
    start_day = IntegerField(
        _l("Start day (leave empty for the whole month)"), validators=[Optional(), DAYS]
    )
    end_month = SelectField(_l("End month"), coerce=int, choices=[])
    end_day = IntegerField(
        _l("End day (leave empty for the whole month)"), validators=[Optional(), DAYS]
    )
    first_year = IntegerField(
        _l("First year"), validators=[InputRequired(message=_l("Give the first year.")), YEARS]
    )
    last_year = IntegerField(
        _l("Last year (leave empty if it goes on)"), validators=[Optional(), YEARS]
    )
    group = SelectField(_l("Responsible group"), coerce=int, choices=[], default=NO_CHOICE)
    goal = SelectField(_l("Goal it serves"), coerce=int, choices=[], default=NO_CHOICE)
    paths = SelectMultipleField(_l("Linked paths"), choices=[], validators=[Optional()])
    submit = SubmitField(_l("Save the action"))


class DoneForm(FlaskForm):
    year = IntegerField(
        _l("Year of the run"),
        validators=[InputRequired(message=_l("Give the year.")), YEARS],
        id="done-year",
    )
    note = StringField(_l("Note (optional)"), validators=[Length(max=1000)], id="done-note")
    submit = SubmitField(_l("Mark done"))


class NotDoneForm(FlaskForm):
    year = IntegerField(
        _l("Year of the run"),
        validators=[InputRequired(message=_l("Give the year.")), YEARS],
        id="not-done-year",
    )
    submit = SubmitField(_l("Mark not done"))


class DeleteForm(FlaskForm):
    submit = SubmitField(_l("Delete the action"))


class FeedForm(FlaskForm):
    submit = SubmitField(_l("Create a new calendar address"))


def action_form(
    scope: Scope, action: ClockAction | None, *, prefill: bool, this_year: int
) -> ActionForm:
    """The add/edit form with the scope's groups, goals and the campus's paths as choices.

    `prefill`: show the action's values (or a new action's defaults), not the posted data."""
    if not prefill:
        form = ActionForm()  # the posted data
    elif action is None:
        form = ActionForm(formdata=None, data={"first_year": this_year})
    else:
        form = ActionForm(formdata=None, data=_values(action))
    months = list(enumerate(month_names(), start=1))
    form.start_month.choices = months
    form.end_month.choices = months
    form.group.choices = [(NO_CHOICE, _("No group"))] + [
        (group.id, group.name) for group in groups_of(scope, with_region=True)
    ]
    form.goal.choices = [(NO_CHOICE, _("No goal"))] + [
        (goal.id, f"{goal.roadmap.title}: {goal.title}") for goal in annual.allowed_goals(scope)
    ]
    paths = db.session.execute(
        db.select(LearningPath)
        .where(LearningPath.is_retired.is_(False))
        .order_by(LearningPath.slug)
    ).scalars()
    form.paths.choices = [(path.slug, pick(path.title)) for path in paths]
    return form


def _values(action: ClockAction) -> dict[str, object]:
    return {
        "title": action.title,
        "description": action.description,
        "start_month": action.start_month,
        "start_day": action.start_day,
        "end_month": action.end_month,
        "end_day": action.end_day,
        "first_year": action.first_year,
        "last_year": action.last_year,
        "group": action.group_id or NO_CHOICE,
        "goal": action.goal_id or NO_CHOICE,
        "paths": list(action.path_slugs),
    }


def action_data(form: ActionForm) -> annual.ActionData:
    return annual.ActionData(
        title=form.title.data or "",
        description=form.description.data or "",
        start_month=form.start_month.data,
        start_day=form.start_day.data,
        end_month=form.end_month.data,
        end_day=form.end_day.data,
        first_year=form.first_year.data,
        last_year=form.last_year.data,
        group_id=form.group.data or None,
        goal_id=form.goal.data or None,
        path_slugs=list(form.paths.data or []),
    )


def party_key(group_id: int, role: GroupRole | None) -> str:
    return f"party_{group_id}_{role.value if role else 'all'}"


def raci_parties(scope: Scope) -> list[tuple[int, GroupRole | None, str]]:
    """(group id, role or None for the whole group, label) for each group the action can name."""
    parties: list[tuple[int, GroupRole | None, str]] = []
    for group in groups_of(scope, with_region=True):
        parties.append((group.id, None, _("%(group)s (whole group)", group=group.name)))
        for role in roles_for(group.kind):
            label = _("%(group)s: %(role)s", group=group.name, role=group_role_label(role))
            parties.append((group.id, role, label))
    return parties


class RaciForm(FlaskForm):
    """One select per party (a group, or one role in it); fields are added by `raci_form`."""

    submit = SubmitField(_l("Save the matrix"))


def raci_form(scope: Scope, action: ClockAction | None) -> RaciForm:
    """A select per party of the scope: the posted letters, or with `action` its current ones."""

    class Form(RaciForm):
        pass

    parties = raci_parties(scope)
    letters = raci_choices()
    for group_id, role, label in parties:
        field: Field = SelectField(label, choices=letters, default="")
        setattr(Form, party_key(group_id, role), field)
    form = Form() if action is None else Form(formdata=None)
    form.parties = parties
    if action is not None:
        for entry in action.raci:
            key = party_key(entry.group_id, entry.member_role)
            if key in form:
                form[key].data = entry.letter.value
    return form


def raci_entries(form: RaciForm) -> list[tuple[int, GroupRole | None, str]]:
    """The (group id, role, letter) of every party given a letter."""
    return [
        (group_id, role, form[party_key(group_id, role)].data)
        for group_id, role, _label in form.parties
        if form[party_key(group_id, role)].data
    ]
