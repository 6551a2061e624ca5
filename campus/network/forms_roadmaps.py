"""Forms of the roadmap pages (choices that depend on the scope are filled in by the view)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms import SelectField
from wtforms import StringField
from wtforms import SubmitField
from wtforms import TextAreaField
from wtforms.validators import DataRequired
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import NumberRange

from campus.network.labels import AREA_LABELS
from campus.network.labels import FOCUS_LABELS
from campus.network.labels import GOAL_STATUS_LABELS
from campus.network.roadmaps import TITLE_MAX
from campus.network.years import EARLIEST_YEAR
from campus.network.years import LATEST_YEAR

YEARS = NumberRange(
    min=EARLIEST_YEAR,
    max=LATEST_YEAR,
    message=_l(
        "Give a year between %(first)s and %(last)s.", first=EARLIEST_YEAR, last=LATEST_YEAR
    ),
)


class RoadmapForm(FlaskForm):
    title = StringField(
        _l("Title"),
        validators=[DataRequired(message=_l("The roadmap needs a title.")), Length(max=TITLE_MAX)],
    )
    first_year = IntegerField(
        _l("First year"), validators=[InputRequired(message=_l("Give the first year.")), YEARS]
    )
    last_year = IntegerField(
        _l("Last year"), validators=[InputRequired(message=_l("Give the last year.")), YEARS]
    )
    submit = SubmitField(_l("Save the roadmap"))


class GoalForm(FlaskForm):
    area = SelectField(_l("Development area"), choices=list(AREA_LABELS.items()))
    focus = SelectField(_l("Focus"), choices=list(FOCUS_LABELS.items()))
    title = StringField(
        _l("Goal"),
        validators=[DataRequired(message=_l("The goal needs a title.")), Length(max=TITLE_MAX)],
    )
    starting_point = TextAreaField(_l("Starting point"))
    target_state = TextAreaField(_l("Target state"))
    indicators = TextAreaField(_l("Indicators"))
    measure = SelectField(_l("Measured starting point (assessment area)"), choices=[], default="")
    group = SelectField(_l("Responsible group"), choices=[], default="")
    paths = TextAreaField(_l("Paths that serve the goal (slugs, comma- or line-separated)"))
    badges = TextAreaField(_l("Badges that serve the goal (slugs, comma- or line-separated)"))
    submit = SubmitField(_l("Save the goal"))


class NewGoalForm(GoalForm):
    status = SelectField(_l("Status"), choices=list(GOAL_STATUS_LABELS.items()), default="planned")
    submit = SubmitField(_l("Add the goal"))


class StatusForm(FlaskForm):
    status = SelectField(_l("New status"), choices=list(GOAL_STATUS_LABELS.items()))
    note = TextAreaField(_l("Note (why, what happened)"), validators=[Length(max=2000)])
    submit = SubmitField(_l("Change the status"))


class ServesForm(FlaskForm):
    regional_goal = SelectField(_l("Regional goal this goal serves"), choices=[], default="")
    submit = SubmitField(_l("Save the link"))


class MoveForm(FlaskForm):
    direction = SelectField(choices=[("up", _l("Up")), ("down", _l("Down"))])


class SharingForm(FlaskForm):
    action = SelectField(
        choices=[("on", _l("On")), ("off", _l("Off")), ("renew", _l("New link"))],
    )


class ConfirmForm(FlaskForm):
    """A button that posts (deletions): only the CSRF token."""
