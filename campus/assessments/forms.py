"""Forms of the learner's assessment pages. The answers themselves are read from the posted
radio groups (one per item, named `item-<id>`) and checked against each item in the service."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField
from wtforms import HiddenField
from wtforms import RadioField
from wtforms.validators import DataRequired
from wtforms.validators import Optional

from campus.assessments.models import StaffGroup

STAFF_GROUP_LABELS = {
    StaffGroup.LEADER.value: _l("Leader or manager"),
    StaffGroup.TEACHER.value: _l("Teacher or trainer"),
    StaffGroup.SUPPORT.value: _l("Support staff (guidance, ICT, administration …)"),
    StaffGroup.OTHER.value: _l("Other"),
}


class StartForm(FlaskForm):
    staff_group = RadioField(
        _l("Which group do you belong to?"),
        choices=list(STAFF_GROUP_LABELS.items()),
        validators=[DataRequired(message=_l("Choose your group."))],
    )


class PlanAddForm(FlaskForm):
    """Add a path to the plan; the reason is worked out again on the server from the response."""

    path = HiddenField(validators=[DataRequired()])
    response = HiddenField()


class TargetDateForm(FlaskForm):
    target_date = DateField(_l("Target date (optional)"), validators=[Optional()])
